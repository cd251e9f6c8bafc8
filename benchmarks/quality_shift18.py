"""Where the shift of atypical unit relations comes from (qual18, issue #21).

Diagnostic only: it reads the scenario generator's internals (expected rating ``m`` of
every event, which events were rated, the raters' biases) to split the error of the
unshrunk post-stratified unit relation mean ``ybar_e`` (``icnet.analysis._ratings.design``,
as ``service_quality`` computes it) against the suite's truth ``theta_e``
(``_quality_truth``: the mean over all the relation's events of the expected rating with
rater bias integrated out as ``N(0, sd(biases))``) into parts, each standardised by the
modelled ``sqrt(V_e)``:

    theta          the suite's truth (checked equal to ``data.truth``)
    theta_post     (a-ii) the same expectation, client people weighted as the design weights
                   them: sum_j a_j * mean over ALL events of rated person j
    theta_rated    (a-i) the same expectation over the RATED events only, post-stratified
                   (sum_j a_j * mean over the rated events of j)
    theta_prov     (a-iii) each provider person's events averaged, provider people equal
    theta_bias     (b) rated events, expectation with each rater's REALISED bias outside the
                   clip: sum_j a_j * mean over rated events of E[clip(round(m + b_j + e))]
                   (ybar - theta_bias is rating noise only)

so that ``ybar - theta = noise + (theta_bias - theta_rated) [rater style]
+ (theta_rated - theta_post) [which events were rated] + (theta_post - theta)
[which people rated]``. Also (c): the rated share by the event's expected rating and for
atypical relations, (d): the unstandardised error and its V_e, and, with ``--redraw K``,
(e): the same organisations with the rating noise and the raters' biases drawn again K
times (events, expected ratings and rated events kept), i.e. the expectation of each
relation's error given its truth. Standard errors of class means are also given clustered
by seed: the four scenarios of one seed share the base organisation (relations, events,
rating noise), so their relations are not independent.

Classes as in ``quality_zscores.py``: deviation of the true value from the mean of its
provider's rated relations' true values (atypical: at least 0.5 below / above).

    python benchmarks/quality_shift18.py --seeds 60 --people 150 --seed-offset 150500 --redraw 20
    python benchmarks/quality_shift18.py --seeds 200 --people 150 --seed-offset 150560
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from icnet import _shrink
from icnet.analysis import _ratings
from icnet.validity import scenarios

SCEN = ("baseline", "heavy_raters", "lenient_harsh", "sparse_ceiling")
_ORG = {}
_truth = scenarios._quality_truth


def _capture(org, mechanism):
    _ORG["org"] = org
    return _truth(org, mechanism)


def _library(d):
    """ybar_e, V_e, sum a_j^2 of the unit relations, as quality_zscores.py computes them."""
    u = d.network().by("unit")
    e = u._edges
    n = e["satisfaction_n"].to_numpy(float)
    J = e["satisfaction_raters"].to_numpy(float)
    wsd = e["within_sd"].to_numpy(float)
    ssw = np.where(np.isfinite(wsd), wsd ** 2 * (n - J), np.where(J == n, 0.0, np.nan))
    prov, cli = e["provider"].to_numpy(dtype=object), e["client"].to_numpy(dtype=object)
    des = _ratings.design(u, prov, cli)
    ybar = np.where(np.isfinite(des["mean"]), des["mean"],
                    e["satisfaction_mean"].to_numpy(float))
    comp = _shrink.components(n, ybar, e["satisfaction_sd"].to_numpy(float),
                              u.node_ids.get_indexer(prov), u.scale, J,
                              e["rater_n2"].to_numpy(float), ssw, design=des)
    return pd.DataFrame({"pu": prov.astype(str), "cu": cli.astype(str), "n": n, "ybar": ybar,
                         "V": comp["V"], "a2": des["a2"], "a3": des["a3"]})


def _by_relation(org):
    """Per unit relation: the truth and its variants from the generator's events."""
    m = org.mean_rating() + org.rating_shift
    rated = org.rated & ~org.no_satisfaction
    sb = float(np.std(org.rater_bias)) if np.any(org.rater_bias) else 0.0
    b = org.rater_bias[org.c]
    ts = scenarios.true_satisfaction(m, np.hypot(scenarios.RATING_SD, sb))
    tb = scenarios.true_satisfaction(m + b)
    x = m + b + org.e_noise
    y = np.clip(np.round(x), 1, 5)
    un = org.unit_names
    ev = pd.DataFrame({"pu": un[org.unit_of[org.p]], "cu": un[org.unit_of[org.c]],
                       "j": org.c, "p": org.p, "ts": ts, "tb": tb, "r": rated.astype(float),
                       "y": np.where(rated, y, 0.0), "m": m})
    ev["ts_r"] = ev["ts"] * ev["r"]
    ev["tb_r"] = ev["tb"] * ev["r"]
    # per (relation, client person)
    g = ev.groupby(["pu", "cu", "j"], sort=True).agg(
        E=("ts", "size"), n=("r", "sum"), ts=("ts", "mean"), ts_r=("ts_r", "sum"),
        tb_r=("tb_r", "sum"), ysum=("y", "sum"), tball=("tb", "mean")).reset_index()
    E = g.groupby(["pu", "cu"])["E"].transform("sum")
    W = g["E"] / E
    ok = g["n"] > 0
    WR = (W * ok).groupby([g["pu"], g["cu"]]).transform("sum")
    a = np.where(ok, W / WR.where(WR > 0, 1.0), 0.0)
    nn = g["n"].where(ok, 1.0)
    g = g.assign(
        W=W, a=a,
        ybar=a * g["ysum"] / nn,
        post=a * g["ts"],
        rat=a * g["ts_r"] / nn,
        bias=a * g["tb_r"] / nn,
        bias_all=a * g["tball"],
        WM=np.where(ok, 0.0, W))
    r = g.groupby(["pu", "cu"], sort=True).agg(
        ybar_gen=("ybar", "sum"), theta_post=("post", "sum"), theta_rated=("rat", "sum"),
        theta_bias=("bias", "sum"), theta_bias_all=("bias_all", "sum"), WM=("WM", "sum"),
        people=("j", "size"), raters=("n", lambda s: int((s > 0).sum())))
    r["theta"] = ev.groupby(["pu", "cu"], sort=True)["ts"].mean()
    r["rated_share"] = ev.groupby(["pu", "cu"], sort=True)["r"].mean()
    r["m_mean"] = ev.groupby(["pu", "cu"], sort=True)["m"].mean()
    # (a-iii) provider people weighted equally
    pp = ev.groupby(["pu", "cu", "p"], sort=True)["ts"].mean()
    r["theta_prov"] = pp.groupby(level=[0, 1]).mean()
    r["theta_rated_plain"] = ev.groupby(["pu", "cu"])["ts_r"].sum() / \
        ev.groupby(["pu", "cu"])["r"].sum()
    r["providers"] = pp.groupby(level=[0, 1]).size()
    return r.reset_index(), ev


def one(name, seed, n_people):
    scenarios._quality_truth = _capture
    try:
        d = scenarios.generate(name, n_people=n_people, seed=seed)
    finally:
        scenarios._quality_truth = _truth
    org = _ORG.pop("org")
    rel, ev = _by_relation(org)
    lib = _library(d)
    t = d.truth["quality"]
    t = t[t["level"] == "unit"].rename(columns={"provider": "pu", "client": "cu",
                                                 "true_satisfaction": "tv"})
    out = lib.merge(rel, on=["pu", "cu"], how="inner").merge(t[["pu", "cu", "tv"]],
                                                            on=["pu", "cu"], how="left")
    out = out[(out["n"] > 0) & np.isfinite(out["tv"])].copy()
    out["dev"] = out["tv"] - out.groupby("pu")["tv"].transform("mean")
    out["scenario"], out["seed"] = name, seed
    # (c) rated share by the event's expected rating (all events of the unit relations kept)
    ev = ev.merge(out[["pu", "cu", "dev"]], on=["pu", "cu"], how="inner")
    ev["scenario"] = name
    return out, ev[["scenario", "m", "r", "dev"]]


_BIAS_SD = {"heavy_raters": 0.5, "lenient_harsh": 0.7}


def redraw(name, seed, n_people, draws):
    """(e) The same organisation (events, expected ratings, which events were rated) with
    the rating noise and the raters' biases drawn again ``draws`` times: the conditional
    expectation, given the truth, of each relation's error and z. Returns one row per
    (relation, draw)."""
    scenarios._quality_truth = _capture
    try:
        d = scenarios.generate(name, n_people=n_people, seed=seed)
    finally:
        scenarios._quality_truth = _truth
    org = _ORG.pop("org")
    rng = np.random.default_rng([seed, 18])
    rows = []
    for k in range(draws):
        org.e_noise = rng.normal(0, scenarios.RATING_SD, len(org.e_noise))
        if name in _BIAS_SD:
            org.rater_bias = rng.normal(0, _BIAS_SD[name], org.n)
        t = _truth(org, name)
        dk = scenarios._finish(org, name, seed, {"quality": t}, d.null_for)
        rel, _ = _by_relation(org)
        lib = _library(dk)
        t = t[t["level"] == "unit"].rename(columns={"provider": "pu", "client": "cu",
                                                     "true_satisfaction": "tv"})
        out = lib.merge(rel, on=["pu", "cu"]).merge(t[["pu", "cu", "tv"]], on=["pu", "cu"])
        out = out[(out["n"] > 0) & np.isfinite(out["tv"])].copy()
        out["dev"] = out["tv"] - out.groupby("pu")["tv"].transform("mean")
        out["scenario"], out["seed"], out["draw"] = name, seed, k
        rows.append(out)
    return pd.concat(rows, ignore_index=True)


def summary(g, cols):
    s = {"relations": len(g)}
    for c in cols:
        z = (g["ybar"] - g[c]) / np.sqrt(g["V"])
        s[f"{c}: mean z"] = z.mean()
        s[f"{c}: |z|<=1.96"] = (z.abs() <= 1.96).mean()
    return pd.Series(s)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--people", type=int, default=150)
    ap.add_argument("--seed-offset", type=int, default=0)
    ap.add_argument("--redraw", type=int, default=0,
                    help="(e): draw the rating noise and rater biases again this many times "
                         "for each organisation with an atypical-below relation")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    res = [one(n, s, a.people) for n in SCEN
           for s in range(a.seed_offset, a.seed_offset + a.seeds)]
    r = pd.concat([x[0] for x in res], ignore_index=True)
    ev = pd.concat([x[1] for x in res], ignore_index=True)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    print("check: truth recomputed = data.truth, max |diff| %.2e; ybar recomputed = "
          "library's, max |diff| %.2e" % ((r["theta"] - r["tv"]).abs().max(),
                                            (r["ybar_gen"] - r["ybar"]).abs().max()))
    r["class"] = pd.cut(r["dev"], [-9, -0.5, -0.3, 0.3, 0.5, 9],
                        labels=["<= -0.5 (atypical below)", "-0.5..-0.3", "typical |dev|<0.3",
                                "0.3..0.5", ">= 0.5 (atypical above)"], right=False)
    s = r["V"] ** 0.5
    parts = {
        "ybar - theta": r["ybar"] - r["theta"],
        "noise  ybar - theta_bias": r["ybar"] - r["theta_bias"],
        "style  theta_bias - theta_rated": r["theta_bias"] - r["theta_rated"],
        "events theta_rated - theta_post": r["theta_rated"] - r["theta_post"],
        "people theta_post - theta": r["theta_post"] - r["theta"],
    }
    print("\n(a,b) error of the unshrunk mean split into parts, each / sqrt(V_e): mean "
          "(SD) per class")
    tab = pd.DataFrame({k: (v / s).groupby(r["class"], observed=True).agg(
        lambda x: f"{x.mean():+.3f} ({x.std():.2f})") for k, v in parts.items()})
    tab.insert(0, "relations", r.groupby("class", observed=True).size())
    print(tab.to_string())
    print("\n(a,b) z against each candidate estimand: mean z and |z| <= 1.96 per class")
    cols = ["theta", "theta_post", "theta_rated", "theta_rated_plain", "theta_prov",
            "theta_bias", "theta_bias_all"]
    print(r.groupby("class", observed=True)[list(r.columns)].apply(
        summary, cols=cols).round(3).T.to_string())
    print("\n(a,b) the same, atypical below, per scenario")
    print(r[r["dev"] <= -0.5].groupby("scenario")[list(r.columns)].apply(
        summary, cols=cols).round(3).T.to_string())
    print("\n(d) unstandardised: error ybar - theta, V_e, sum a_j^2, unrated people's share "
          "W_M, people, raters, rated share of events")
    d = r.groupby("class", observed=True).agg(
        err=("ybar", lambda x: (x - r.loc[x.index, "theta"]).mean()),
        err_sd=("ybar", lambda x: (x - r.loc[x.index, "theta"]).std()),
        rmse=("ybar", lambda x: np.sqrt(((x - r.loc[x.index, "theta"]) ** 2).mean())),
        sqrt_mean_V=("V", lambda x: np.sqrt(x.mean())), a2=("a2", "mean"), WM=("WM", "mean"),
        people=("people", "mean"), raters=("raters", "mean"),
        providers=("providers", "mean"), rated_share=("rated_share", "mean"),
        true=("theta", "mean"))
    print(d.round(3).to_string())
    at = r[r["dev"] <= -0.5]
    print("\n(d) atypical below: mean error %.3f (SE %.3f) on the rating scale; mean z %.3f; "
          "corr(error, sqrt V) %.2f" % (
              (at["ybar"] - at["theta"]).mean(),
              (at["ybar"] - at["theta"]).std() / np.sqrt(len(at)),
              ((at["ybar"] - at["theta"]) / np.sqrt(at["V"])).mean(),
              np.corrcoef(at["ybar"] - at["theta"], np.sqrt(at["V"]))[0, 1]))
    # the four scenarios of one seed share the base organisation: the same relations, the
    # same events and rating noise (baseline, lenient_harsh: the same rated events too), and
    # lenient_harsh's rater biases are heavy_raters' times 1.4 (same generator state): the
    # relations of one seed are not independent. Standard error clustered by seed:
    z = (at["ybar"] - at["theta"]) / np.sqrt(at["V"])
    zn = (at["ybar"] - at["theta_bias"]) / np.sqrt(at["V"])
    for lab, v in (("z", z), ("noise z", zn)):
        dev_ = (v - v.mean()).groupby(at["seed"]).sum()
        G = len(dev_)
        se = np.sqrt((dev_ ** 2).sum() * G / (G - 1)) / len(v)
        print(f"    mean {lab} {v.mean():+.3f}: SE {v.std() / np.sqrt(len(v)):.3f} if the "
              f"{len(v)} relations were independent, {se:.3f} clustered by seed ({G} seeds)")
    k = at.groupby(["seed", "pu", "cu"]).size()
    print(f"    distinct (seed, relation): {len(k)} of {len(at)}; in 2+ scenarios: "
          f"{int((k > 1).sum())}")
    print("    one effective rater (sum a^2 >= 0.9) vs several, atypical below:")
    for lab, g in at.groupby(at["a2"] >= 0.9):
        z = (g["ybar"] - g["theta"]) / np.sqrt(g["V"])
        zn = (g["ybar"] - g["theta_bias"]) / np.sqrt(g["V"])
        print(f"      one rater={lab}: {len(g)} relations, mean z {z.mean():+.3f}, "
              f"mean noise z {zn.mean():+.3f}, error {(g['ybar'] - g['theta']).mean():+.3f}")
    print("\n(c) rated share of events by the event's expected rating m (generator: "
          "rated ~ Bernoulli(p[client person]), or k random events per relation)")
    ev["m bin"] = pd.cut(ev["m"], [-9, 2.5, 3, 3.5, 4, 4.5, 9])
    print(ev.pivot_table(index="m bin", columns="scenario", values="r", aggfunc="mean",
                         observed=True).round(3).to_string())
    print("    rated share, events of atypical-below relations vs the rest:")
    print(ev.groupby([ev["scenario"], ev["dev"] <= -0.5])["r"].mean().unstack().round(3)
          .to_string())

    if a.redraw:
        orgs = r.loc[r["dev"] <= -0.5, ["scenario", "seed"]].drop_duplicates()
        rr = pd.concat([redraw(n, int(sd), a.people, a.redraw)
                        for n, sd in orgs.itertuples(index=False)], ignore_index=True)
        rr["class"] = np.where(rr["dev"] <= -0.5, "atypical below", np.where(
            rr["dev"] >= 0.5, "atypical above", "other"))
        rr["z"] = (rr["ybar"] - rr["theta"]) / np.sqrt(rr["V"])
        rr["noise z"] = (rr["ybar"] - rr["theta_bias"]) / np.sqrt(rr["V"])
        rr["err"] = rr["ybar"] - rr["theta"]
        rr["cov"] = rr["z"].abs() <= 1.96
        print(f"\n(e) the {len(orgs)} organisations with an atypical-below relation, rating "
              f"noise and rater biases drawn again {a.redraw} times (events, expected ratings "
              "and rated events kept): mean over relations and draws")
        print(rr.groupby("class")[["z", "noise z", "err", "cov"]].agg(["mean", "std", "size"])
              .round(3).to_string())
        print(rr.groupby(["class", "scenario"])[["z", "err", "cov"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
