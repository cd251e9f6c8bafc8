"""Benchmark (issue 21): are the statistics calibrated on data not made by ``icnet.synth``?

Three measurements, each printed with the numbers it is judged by:

1. **Relation intervals and signs** (``--seeds`` organisations, unit level): 95 %
   interval coverage of each relation's true mean satisfaction, overall and per
   relation class — ``typical``; ``atypical`` (1.5 points away from its
   provider's mean: a bad relation of a good provider or the reverse); ``few``
   (1-5 ratings); ``heavy50`` / ``heavy80`` (one person gives 50 % / 80 % of the
   relation's ratings); ``ceiling`` (latent mean above the scale: nearly all
   5s) — and the sign errors: ``bad`` among truly good relations (truth above
   neutral), ``good`` among truly bad ones, and the share of wrong signs among
   all signed relations.
2. **Dyad census** under random badness: ``bad`` put on random existing service
   relations (``--nulls`` networks); the share with mutual ``p_greater`` <= 0.05
   for the default null (labels permuted over existing relations) and for the
   old degree-preserving swap null (``null="swaps"``).
3. **Balance** under random signs (``--balance`` networks): the share of
   ``p_value`` <= 0.05 and <= 0.10 and a Kolmogorov-Smirnov distance to the uniform.
4. **Speed**: the rater sums and the shrinkage inside the build (bench_build.py's log).

The generator (this file; it does not use icnet.synth): units of 6-10 people;
each unit serves a random 45 % of the others; provider means N(3.4, 0.5^2),
relation deviations N(0, 0.5^2); rater (person) effects N(0, 0.45^2); rating
noise N(0, 0.7^2); ratings are the latent value rounded and clipped to 1..5
(ordinal, ceilings included). The truth of a relation is its expected rating
from a random person of the client unit:
``E[clip(round(X), 1, 5)] = 1 + sum_{k=1..4} P(X > k + 0.5)``,
``X ~ N(theta, 0.45^2 + 0.7^2)``.

Run: ``python benchmarks/bench_stats.py [--seeds 20] [--nulls 200] [--balance 200]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import icnet
from icnet import _shrink

SD_R, SD_W, TAU, OMEGA = 0.45, 0.7, 0.5, 0.5
LINES: list[str] = []


def say(text: str) -> None:
    """Print and keep the line for benchmarks/RESULTS.md."""
    print(text, flush=True)
    LINES.append(text)
CLASSES = ["typical", "atypical", "few", "heavy50", "heavy80", "ceiling"]


def truth(theta):
    """Expected 1..5 rating of a random rater for latent relation mean ``theta``."""
    s = np.hypot(SD_R, SD_W)
    k = np.arange(1, 5) + 0.5
    return 1 + stats.norm.sf((k[None, :] - np.asarray(theta)[:, None]) / s).sum(axis=1)


def make_org(seed: int, n_units: int = 14, continuous: bool = False):
    """Events (person level), people, and the true relation table (unit level).

    ``continuous``: ratings are the latent values themselves (the model's own
    assumptions; truth = theta) instead of 1..5 categories."""
    rng = np.random.default_rng(seed)
    size = rng.integers(6, 11, n_units)
    units = np.array([f"U{u:02d}" for u in range(n_units)], dtype=object)
    unit_of = np.repeat(np.arange(n_units), size)
    people = pd.DataFrame({"person": [f"p{i:03d}" for i in range(len(unit_of))],
                           "unit": units[unit_of]})
    members = [np.flatnonzero(unit_of == u) for u in range(n_units)]
    mu = rng.normal(3.4, OMEGA, n_units)
    P, C = np.nonzero((rng.random((n_units, n_units)) < 0.45) & ~np.eye(n_units, dtype=bool))
    E = len(P)
    cls = rng.choice(CLASSES, E, p=[0.4, 0.12, 0.15, 0.12, 0.12, 0.09])
    dev = rng.normal(0, TAU, E)
    dev = np.where(cls == "atypical", rng.choice([-1.5, 1.5], E), dev)
    theta = mu[P] + dev
    theta = np.where(cls == "ceiling", rng.uniform(5.3, 6.0, E), theta)
    n = np.where(cls == "few", rng.integers(1, 6, E), rng.integers(12, 40, E))
    rows = []
    for e in range(E):                 # the generator may loop; icnet may not
        cm = members[C[e]]
        raters = rng.choice(cm, n[e], replace=True)
        if cls[e] in ("heavy50", "heavy80"):
            share = 0.5 if cls[e] == "heavy50" else 0.8
            k = int(round(share * n[e]))
            raters[:k] = cm[0]
            raters[k:] = rng.choice(cm[1:], n[e] - k, replace=True)
        prov = rng.choice(members[P[e]], n[e])
        rows.append(pd.DataFrame({"provider": prov, "client": raters, "e": e}))
    ev = pd.concat(rows, ignore_index=True)
    r_eff = rng.normal(0, SD_R, (E, len(unit_of)))     # rater effect per relation
    lat = theta[ev["e"]] + r_eff[ev["e"], ev["client"]] + rng.normal(0, SD_W, len(ev))
    ev["satisfaction"] = lat if continuous else np.clip(np.round(lat), 1, 5)
    ev["provider"] = people["person"].to_numpy()[ev["provider"]]
    ev["client"] = people["person"].to_numpy()[ev["client"]]
    true = pd.DataFrame({"provider": units[P], "client": units[C], "cls": cls,
                         "truth": theta if continuous else truth(theta)})
    return ev.drop(columns="e"), people, true


def relation_stats(seeds: int, continuous: bool = False):
    rows = []
    for s in range(seeds):
        ev, people, true = make_org(1000 + s, continuous=continuous)
        u = icnet.from_events(ev, people=people, scale=(-10, 16) if continuous else (1, 5),
                              threshold=3.0).by("unit", individuals=True)
        e = u.edges.merge(true, on=["provider", "client"], validate="1:1")
        e["covered"] = (e["satisfaction_low"] <= e["truth"]) & (e["truth"] <= e["satisfaction_high"])
        e["seed"] = s
        rows.append(e)
    return pd.concat(rows, ignore_index=True), u.threshold


def report_relations(seeds: int, variance: str = "bounded", continuous: bool = False):
    t0 = time.perf_counter()
    _shrink.VARIANCE = variance
    e, thr = relation_stats(seeds, continuous)
    say(f"1. relations: {len(e)} over {seeds} organisations ({time.perf_counter() - t0:.1f} s)"
          f"; rating variance model {variance!r}"
          + ("; continuous ratings" if continuous else "; 1-5 ratings"))
    say(f"   95 % interval coverage overall: {100 * e['covered'].mean():.1f} %")
    for c in CLASSES:
        s = e[e["cls"] == c]
        say(f"   {c:9s} n={len(s):5d}  coverage {100 * s['covered'].mean():5.1f} %  "
              f"mean width {(s['satisfaction_high'] - s['satisfaction_low']).mean():.2f}  "
              f"mean n_eff/n {(s['n_eff'] / s['satisfaction_n']).mean():.2f}")
    good, bad = e["truth"] > thr, e["truth"] < thr
    called = e["sign"].isin(["good", "bad"])
    wrong = ((e["sign"] == "bad") & ~bad) | ((e["sign"] == "good") & ~good)
    say(f"   false 'bad' among truly good: {100 * (e.loc[good, 'sign'] == 'bad').mean():.2f} % "
          f"({int(((e['sign'] == 'bad') & good).sum())}/{int(good.sum())})")
    say(f"   false 'good' among truly bad: {100 * (e.loc[bad, 'sign'] == 'good').mean():.2f} % "
          f"({int(((e['sign'] == 'good') & bad).sum())}/{int(bad.sum())})")
    say(f"   wrong signs among signed: {100 * wrong[called].mean():.2f} % of {int(called.sum())}"
          f" (mean lfsr of the signed: {100 * e.loc[called, 'lfsr'].mean():.2f} %)")
    say(f"   power: truly bad called bad {100 * (e.loc[bad, 'sign'] == 'bad').mean():.1f} %, "
          f"truly good called good {100 * (e.loc[good, 'sign'] == 'good').mean():.1f} %")
    # the same data with raters ignored (every rating its own rater: the previous model)
    nv = e.drop(columns=["satisfaction_raters", "rater_n2", "within_sd"])
    cov = []
    for _, g in nv.groupby("seed"):
        pcode = pd.factorize(g["provider"])[0]
        sh = _shrink.shrink(g["satisfaction_n"], g["satisfaction_mean"], g["satisfaction_sd"],
                            pcode, (-10, 16) if continuous else (1, 5), variance="constant",
                            threshold=3.0)
        cov.append(pd.DataFrame({"cls": g["cls"].to_numpy(), "c": (
            (sh["low"].to_numpy() <= g["truth"].to_numpy())
            & (g["truth"].to_numpy() <= sh["high"].to_numpy()))}))
    cov = pd.concat(cov)
    say("   raters ignored (each rating independent): coverage overall "
          f"{100 * cov['c'].mean():.1f} %; " + ", ".join(
              f"{c} {100 * cov.loc[cov['cls'] == c, 'c'].mean():.1f} %" for c in CLASSES))
    return e


def random_bad_net(rng, n: int = 30, density: float = 0.15, p_bad: float = 0.3,
                   p_both: float = 0.25):
    """A service graph (node pairs related with ``density``, both ways with ``p_both``
    else one way: 40 % of relations reciprocal) with bad put on random relations."""
    A = np.triu(rng.random((n, n)) < density, 1)
    both = A & (rng.random((n, n)) < p_both)
    flip = A & ~both & (rng.random((n, n)) < 0.5)
    A = (A & ~flip) | (both | flip).T
    P, C = np.nonzero(A)
    bad = rng.random(len(P)) < p_bad
    ids = np.array([f"n{i:02d}" for i in range(n)], dtype=object)
    return icnet.ServiceNetwork.from_edges(pd.DataFrame({
        "provider": ids[P], "client": ids[C], "n_events": 60, "satisfaction_n": 60,
        "satisfaction_mean": np.where(bad, 1.5, 4.5), "satisfaction_sd": 0.8}))


def report_census(n_nets: int):
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    p_rel, p_swap, p_prov, rec = [], [], [], []
    for i in range(n_nets):
        net = random_bad_net(rng)
        d = icnet.dyad_census(net, seed=i, null="relations").set_index("dyad")
        p_prov.append(icnet.dyad_census(net, seed=i).loc[0, "p_greater"])
        rec.append(2 * d.attrs["n_reciprocal_pairs"] / d.attrs["n_relations"])
        p_rel.append(d.loc["mutual", "p_greater"])
        if i < min(n_nets, 100):
            d2 = icnet.dyad_census(net, null="swaps", n_null=200, seed=i).set_index("dyad")
            p_swap.append(d2.loc["mutual", "p_greater"])
    p_rel, p_swap, recip = np.array(p_rel), np.array(p_swap), 100 * np.mean(rec)
    say(f"2. dyad census under random badness ({n_nets} networks, "
          f"{time.perf_counter() - t0:.1f} s): 'more mutual than chance' (p_greater <= 0.05)")
    say(f"   service graphs: {recip:.0f} % of relations reciprocal (mean)")
    say(f"   null='relations': {100 * (p_rel <= 0.05).mean():.1f} % "
          f"(<= 0.10: {100 * (p_rel <= 0.10).mean():.1f} %)")
    p_prov = np.array(p_prov)
    say(f"   null='providers' (default): {100 * (p_prov <= 0.05).mean():.1f} % "
          f"(<= 0.10: {100 * (p_prov <= 0.10).mean():.1f} %)")
    say(f"   null='swaps' ({len(p_swap)} networks): {100 * (p_swap <= 0.05).mean():.1f} %")


def report_balance(n_nets: int):
    rng = np.random.default_rng(11)
    t0 = time.perf_counter()
    ps, L, Le = [], [], []
    for i in range(n_nets):
        n = 16
        A = np.triu(rng.random((n, n)) < 0.25, 1)
        a, b = np.nonzero(A)
        sign = np.where(rng.random(len(a)) < 0.4, -1, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = icnet.balance(None, edges=pd.DataFrame({"a": a, "b": b, "sign": sign}), seed=i)
        ps.append(r.p_value)
        L.append(r.frustration)
        Le.append(r.expected)
    ps = np.array(ps)
    ks = stats.kstest(ps, "uniform")
    say(f"3. balance under random signs ({n_nets} networks, {time.perf_counter() - t0:.1f} s):")
    say(f"   p <= 0.05: {100 * (ps <= 0.05).mean():.1f} %, p <= 0.10: {100 * (ps <= 0.10).mean():.1f} %"
          f", p <= 0.5: {100 * (ps <= 0.5).mean():.1f} %; KS distance to uniform "
          f"{ks.statistic:.3f} (p = {ks.pvalue:.2f}); mean L {np.mean(L):.2f} vs expected "
          f"{np.mean(Le):.2f}")


def report_speed(n_events: int = 2_000_000):
    """Cost of the rater model inside the build (bench_build.py's log)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_build
    from icnet import _engine as N
    ev, people = bench_build.make_log(20_000, n_events)
    net = icnet.from_events(ev, people=people)
    say(f"4. build cost of the rater model ({n_events:,} events, median of 3):")
    for lvl, nt in (("person", net), ("unit", net.by("unit"))):
        key, starts, _, _ = N.group_codes(nt.events, nt.node_ids)
        G = len(starts)
        g = np.repeat(np.arange(G), np.diff(np.r_[starts, len(key)]))
        t_agg, t_r, t_new, t_old = [], [], [], []
        for _ in range(3):
            t = time.perf_counter()
            out, pcode = N.edge_stats(nt.events, nt.node_ids, lambda: nt.span[1])
            t_agg.append(time.perf_counter() - t)
            t = time.perf_counter()
            N.rater_stats(nt.events, g, G, out["satisfaction_n"].to_numpy(),
                           out["satisfaction_mean"].to_numpy())
            t_r.append(time.perf_counter() - t)
            t = time.perf_counter()
            N.shrink_edges(out, nt, pcode)
            t_new.append(time.perf_counter() - t)
            t = time.perf_counter()
            _shrink.shrink(out["satisfaction_n"], out["satisfaction_mean"],
                           out["satisfaction_sd"], pcode, nt.scale)    # raters ignored
            t_old.append(time.perf_counter() - t)
        say(f"   {lvl}: {G:,} relations; edge statistics {np.median(t_agg):.2f} s, of which "
              f"rater sums {np.median(t_r):.2f} s; shrinkage with raters "
              f"{np.median(t_new):.2f} s (without {np.median(t_old):.2f} s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--nulls", type=int, default=200)
    ap.add_argument("--balance", type=int, default=200)
    ap.add_argument("--only", choices=["relations", "census", "balance", "speed"], default=None)
    ap.add_argument("--out", default=None, help="also write the section of this RESULTS.md")
    args = ap.parse_args(argv)
    if args.only in (None, "relations"):
        for v in ("constant", "bounded"):
            report_relations(args.seeds, v)
        report_relations(args.seeds, "constant", continuous=True)
    if args.only in (None, "census"):
        report_census(args.nulls)
    if args.only in (None, "balance"):
        report_balance(args.balance)
    if args.only in (None, "speed"):
        report_speed()
    if args.out:
        from pathlib import Path
        import sys
        sys.path.insert(0, str(Path(__file__).parent))
        from _results import write_section
        cmd = "python benchmarks/bench_stats.py" + (f" --only {args.only}" if args.only else "")
        write_section(args.out, "## Statistics (issue 21): coverage, signs, census, balance\n\n"
                      f"Generated by `{cmd} --seeds {args.seeds} --nulls {args.nulls} "
                      f"--balance {args.balance}` (shared machine: timings are noisy).\n\n"
                      "```\n" + "\n".join(LINES) + "\n```\n")


if __name__ == "__main__":
    main()
