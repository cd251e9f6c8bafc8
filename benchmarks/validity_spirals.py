"""Validity of ``icnet.retaliation_spirals`` on its own independently built organisations.

Run: ``python benchmarks/validity_spirals.py [--people 600] [--seeds 20] [--scenarios ...]
[--stability 0]``; ``--suite`` runs the shared validity suite's generators
(:mod:`icnet.validity`, e.g. ``--suite --scenarios lock_in common_cause --stability 5``)
instead of the ones below, with the scoreboard's call (``seed``, ``n_perm=199``).

The generator here is independent of :mod:`icnet.synth` (and of the shared validity suite):
people in units of about 20, each with a few service partners (both directions), Poisson
requests over a year, satisfaction on 1–5 and delays (hours) from a latent quality with
provider and client effects. Per scenario, six disjoint reciprocal pairs (or units) get a
planted mechanism:

spiral mechanisms (truth: ``spiral``, the initiator and the onset)
  ``lockin``   A's service to B drops by 1.5 SD at the onset, B's to A 4–12 days later; both
               stay bad to the end of the year.
  ``episodic`` the same, and both recover 25–40 days after the onset.
  ``slow``     A's service declines linearly to −1.5 SD over 60 days, B follows 10–20 days
               later.
  ``delay``    ``lockin`` with no satisfaction recorded (delays only).
  ``units``    ``lockin`` between two people of different units.
look-alikes and nulls (no ``spiral`` allowed)
  ``one_sided`` only A's service to B drops (truth: ``one_sided``).
  ``common``   both directions share a latent AR(1) quality (a joint project; SD 1, lag-1
               correlation 0.97 per day), no order.
  ``joint``    both directions drop by 1.5 SD on the same day for 30 days (truth:
               ``joint_shift``).
  ``unitmonth`` six units have a bad month: their service and the ratings they give drop.
  ``chronic``  both directions bad (−1.2 SD) all year (truth: ``chronic_conflict``).
  ``null``     nothing planted.

Printed per scenario: recall (planted pairs called ``spiral``), precision, initiator right
and median onset error (days) of the found, share of organisations with any false
``spiral``, the kinds the planted pairs got, and with ``--stability k`` the share of tested
pairs whose ``kind`` is identical over k permutation seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd

import icnet

SPIRALS = ("lockin", "episodic", "slow", "delay", "units")
OTHERS = ("one_sided", "common", "joint", "unitmonth", "chronic", "null")
START = pd.Timestamp("2025-01-01")


def organisation(scenario: str, n_people: int = 600, seed: int = 0, days: int = 365,
                 partners: int = 4, rate_per_week: float = 1.5, k: int = 6):
    """(events, people, truth) of one generated organisation (see module doc)."""
    rng = np.random.default_rng([seed, sum(map(ord, scenario))])
    unit_size = 20
    n_units = max(2, n_people // unit_size)
    unit = np.arange(n_people) % n_units
    rng.shuffle(unit)
    pid = np.array([f"E{i:04d}" for i in range(n_people)], dtype=object)
    # partners: mostly within the unit (70 %), else anywhere; pairs are undirected
    pairs = set()
    for i in range(n_people):
        same = np.flatnonzero((unit == unit[i]) & (np.arange(n_people) != i))
        for _ in range(partners // 2):
            j = rng.choice(same) if rng.random() < 0.7 else rng.integers(n_people)
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    pairs = np.array(sorted(pairs))
    # per directed edge: Poisson requests over the year
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    lam = rate_per_week * rng.uniform(0.5, 1.5, len(src)) * days / 7
    cnt = rng.poisson(lam)
    p = np.repeat(src, cnt)
    c = np.repeat(dst, cnt)
    t = rng.uniform(0, days, len(p))
    prov_eff = rng.normal(0, 0.5, n_people)
    cli_eff = rng.normal(0, 0.3, n_people)
    speed = rng.normal(0, 0.3, n_people)
    shift = np.zeros(len(p))          # planted change of quality (SD units)
    rating = np.zeros(len(p))         # planted change of the ratings only
    truth = []
    # planted pairs: disjoint people, both directions with enough events
    pcount = pd.Series(1, index=pd.MultiIndex.from_arrays([p, c])).groupby(level=[0, 1]).sum()
    used = set()
    order = rng.permutation(len(pairs))
    chosen = []
    for r in order:
        a, b = pairs[r]
        if a in used or b in used:
            continue
        if pcount.get((a, b), 0) < 30 or pcount.get((b, a), 0) < 30:
            continue
        if scenario == "units" and unit[a] == unit[b]:
            continue
        if scenario in SPIRALS and scenario != "units" and unit[a] != unit[b]:
            continue
        chosen.append((a, b))
        used |= {a, b}
        if len(chosen) == k:
            break
    for a, b in chosen:
        if rng.random() < 0.5:
            a, b = b, a                          # a is the initiator
        ab = (p == a) & (c == b)
        ba = (p == b) & (c == a)
        onset = rng.uniform(90, 240)
        if scenario in ("lockin", "delay", "units", "episodic"):
            lag = rng.uniform(4, 12)
            stop = onset + rng.uniform(25, 40) if scenario == "episodic" else np.inf
            shift[ab & (t >= onset) & (t < stop)] -= 1.5
            shift[ba & (t >= onset + lag) & (t < stop)] -= 1.5
        elif scenario == "slow":
            lag = rng.uniform(10, 20)
            shift[ab] -= 1.5 * np.clip((t[ab] - onset) / 60, 0, 1)
            shift[ba] -= 1.5 * np.clip((t[ba] - onset - lag) / 60, 0, 1)
        elif scenario == "one_sided":
            shift[ab & (t >= onset)] -= 1.5
        elif scenario == "joint":
            m = (ab | ba) & (t >= onset) & (t < onset + 30)
            shift[m] -= 1.5
        elif scenario == "common":
            grid = np.arange(days + 1)
            e = rng.normal(0, np.sqrt(1 - 0.97 ** 2), len(grid))
            lat = np.zeros(len(grid))
            lat[0] = rng.normal()
            for i in range(1, len(grid)):
                lat[i] = 0.97 * lat[i - 1] + e[i]
            m = ab | ba
            shift[m] += lat[np.floor(t[m]).astype(int)]
        elif scenario == "chronic":
            shift[ab | ba] -= 1.2
        truth.append(dict(a=pid[a], b=pid[b], initiator=pid[a],
                          onset=START + pd.Timedelta(days=float(onset))))
    if scenario == "unitmonth":
        truth = []
        for u in rng.choice(n_units, size=min(k, n_units), replace=False):
            m0 = rng.uniform(60, 300)
            in_m = (t >= m0) & (t < m0 + 30)
            shift[in_m & (unit[p] == u)] -= 1.0
            rating[in_m & (unit[c] == u)] -= 0.7
    y = prov_eff[p] + cli_eff[c] + shift + rng.normal(0, 1, len(p))
    sat = np.clip(np.round(3.4 + 0.8 * (y + rating)), 1, 5)
    delay = np.exp(2.5 + speed[p] - 0.35 * (prov_eff[p] + shift) + rng.normal(0, 0.5, len(p)))
    ev = pd.DataFrame({"provider": pid[p], "client": pid[c],
                       "requested_at": (START + pd.to_timedelta(t, unit="D")).round("min"),
                       "delay_hours": delay.round(2)})
    if scenario != "delay":
        ev["satisfaction"] = sat
    people = pd.DataFrame({"person": pid, "unit": [f"U{u:02d}" for u in unit]})
    return ev, people, truth


def _suite_organisation(scenario, n_people, seed):
    """(network, truth, level) of the validity suite's generator (:mod:`icnet.validity`)."""
    from icnet.validity import scenarios
    d = scenarios.generate(scenario, n_people=n_people, seed=seed)
    sp = d.truth.get("spirals")
    level = "unit" if sp is not None and len(sp) and "level" in sp and \
        (sp["level"] == "unit").any() else None
    truth = [] if sp is None or "spirals" in d.null_for else \
        [dict(a=r.a, b=r.b, initiator=r.initiator, onset=r.onset) for r in sp.itertuples()]
    return d.network(), truth, level


def evaluate(scenario, n_people, seeds, stability, n_perm, suite=False, changed=None):
    rows = []
    for seed in seeds:
        level = None
        if suite:
            net, truth, level = _suite_organisation(scenario, n_people, seed)
        else:
            ev, people, truth = organisation(scenario, n_people, seed)
            net = icnet.from_events(ev, people=people)
        t = time.perf_counter()
        s = icnet.retaliation_spirals(net, seed=seed, n_perm=n_perm, level=level)
        dt = time.perf_counter() - t
        key = {tuple(sorted((x["a"], x["b"]))): x for x in truth}
        spiral_sc = scenario in SPIRALS or (suite and bool(truth))
        sp = s[s.kind == "spiral"]
        # under a look-alike or null scenario every spiral is false, planted pair or not
        found = [(a, b) for a, b in zip(sp.a, sp.b) if (a, b) in key and spiral_sc]
        kinds = [s.loc[(s.a == a) & (s.b == b), "kind"].item() if ((s.a == a) & (s.b == b)).any()
                 else "absent" for a, b in key]
        init, err = [], []
        for r in sp.itertuples():
            if (r.a, r.b) in key and spiral_sc:
                tr = key[(r.a, r.b)]
                init.append(r.initiator == tr["initiator"])
                err.append(abs((r.start - tr["onset"]).total_seconds()) / 86400)
        stable, stable_hit = np.nan, (0, 0)
        if stability > 1:
            ks = [s.set_index(["a", "b"])["kind"]]
            for j in range(1, stability):
                ks.append(icnet.retaliation_spirals(net, seed=1000 * j + seed, n_perm=n_perm,
                                                    level=level).set_index(["a", "b"])["kind"])
            kk = pd.concat(ks, axis=1)
            kk = kk[kk.iloc[:, 0] != "insufficient"]
            stable = float((kk.nunique(axis=1) == 1).mean())
            if changed is not None:               # the pairs whose kind changed
                for (a, b), r in kk[kk.nunique(axis=1) > 1].iterrows():
                    changed.append(f"{scenario} n={n_people} seed={seed} {a}-{b}: "
                                   + " / ".join(r.astype(str)))
            # the pairs that got a finding under at least one seed (the rest are 'none' or
            # 'chronic_conflict' under every seed and dominate the share above)
            hit = kk.isin(["spiral", "joint_shift", "one_sided"]).any(axis=1)
            stable_hit = (int((kk[hit].nunique(axis=1) == 1).sum()), int(hit.sum()))
        rows.append(dict(seed=seed, n_planted=len(key) if spiral_sc else 0, spiral_sc=spiral_sc,
                         tp=len(found), fp=len(sp) - len(found), init=init, err=err,
                         kinds=kinds, tested=s.attrs["n_tested"], pairs=len(s), secs=dt,
                         stable=stable, stable_hit=stable_hit, recip=s.attrs["reciprocity"]["z"]))
    return rows


def summarise(scenario, rows):
    tp = sum(r["tp"] for r in rows)
    fp = sum(r["fp"] for r in rows)
    planted = sum(r["n_planted"] for r in rows)
    init = [x for r in rows for x in r["init"]]
    err = [x for r in rows for x in r["err"]]
    kinds = pd.Series([k for r in rows for k in r["kinds"]]).value_counts().to_dict()
    any_fp = np.mean([r["fp"] > 0 for r in rows])
    out = (f"{scenario:10s} orgs={len(rows):2d} tested/pairs={np.mean([r['tested'] for r in rows]):.0f}/"
           f"{np.mean([r['pairs'] for r in rows]):.0f} ")
    if rows[0]["spiral_sc"]:
        out += (f"recall={tp / max(planted, 1):.2f} precision={tp / max(tp + fp, 1):.2f} "
                f"initiator={np.mean(init) if init else np.nan:.2f} "
                f"onset_err_median={np.median(err) if err else np.nan:.1f}d ")
    out += f"orgs_with_false_spiral={any_fp:.2f} planted_kinds={kinds} "
    st = [r["stable"] for r in rows if np.isfinite(r["stable"])]
    if st:
        same = sum(r["stable_hit"][0] for r in rows)
        hits = sum(r["stable_hit"][1] for r in rows)
        out += f"kind_stable={np.mean(st):.3f} (of pairs with a finding: {same}/{hits}) "
    out += (f"reciprocity_z_median={np.median([r['recip'] for r in rows]):.2f} "
            f"secs/org={np.mean([r['secs'] for r in rows]):.1f}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=600)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--scenarios", nargs="*", default=list(SPIRALS + OTHERS))
    ap.add_argument("--stability", type=int, default=0)
    ap.add_argument("--n-perm", type=int, default=199)
    ap.add_argument("--suite", action="store_true",
                    help="the validity suite's generators (icnet.validity.scenarios)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"validity_spirals: {args.people} people, seeds {seeds.start}..{seeds.stop - 1}, "
          f"n_perm={args.n_perm}", flush=True)
    changed = []
    for sc in args.scenarios:
        print(summarise(sc, evaluate(sc, args.people, seeds, args.stability, args.n_perm,
                                     suite=args.suite, changed=changed)), flush=True)
    if args.stability > 1:
        print(f"pairs whose kind changed over {args.stability} seeds: {len(changed)}")
        for line in changed:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
