"""Standardised errors of the unshrunk unit relation means, per relation class (qual16).

On the validity suite's quality scenarios (unit level): ``z = (ybar_e - theta_e) /
sqrt(V_e)``, with ``ybar_e`` the post-stratified relation mean, ``V_e`` its modelled error
variance (``icnet._shrink.components``, as ``service_quality`` computes it) and
``theta_e`` the scenario's true satisfaction. If ``V_e`` is right, ``z`` has mean 0 and
SD 1 in every class and ``|z| <= 1.96`` 95 % of the time: the coverage of the unshrunk
interval ``ybar_e +- 1.96 sqrt(V_e)``, a ceiling for any interval built on ``V_e``.
Classes: typical / atypical (true value at least 0.5 from the mean of its provider's
relations), one effective rater (``sum a_j^2 >= 0.9``: one client person's ratings carry
the relation), deviation from the provider's mean, true value.

    python benchmarks/quality_zscores.py --seeds 60 --people 150 --seed-offset 150500
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


def one(name, seed, n_people):
    d = scenarios.generate(name, n_people=n_people, seed=seed)
    u = d.network().by("unit")
    e = u._edges
    n = e["satisfaction_n"].to_numpy(float)
    J = e["satisfaction_raters"].to_numpy(float) if "satisfaction_raters" in e else None
    wsd = e["within_sd"].to_numpy(float) if "within_sd" in e else None
    ssw = None if wsd is None or J is None else \
        np.where(np.isfinite(wsd), wsd ** 2 * (n - J), np.where(J == n, 0.0, np.nan))
    prov, cli = e["provider"].to_numpy(dtype=object), e["client"].to_numpy(dtype=object)
    des = _ratings.design(u, prov, cli)
    ybar = np.where(np.isfinite(des["mean"]), des["mean"], e["satisfaction_mean"].to_numpy(float))
    pcode = u.node_ids.get_indexer(prov)
    comp = _shrink.components(n, ybar, e["satisfaction_sd"].to_numpy(float), pcode, u.scale,
                              J, e["rater_n2"].to_numpy(float) if "rater_n2" in e else None,
                              ssw, design=des)
    t = d.truth["quality"]
    t = t[t["level"] == "unit"].set_index(["provider", "client"])["true_satisfaction"]
    tv = t.reindex(pd.MultiIndex.from_arrays([prov.astype(str), cli.astype(str)])).to_numpy()
    out = pd.DataFrame({"scenario": name, "seed": seed, "provider": prov.astype(str), "n": n,
                        "tv": tv, "z": (ybar - tv) / np.sqrt(comp["V"]), "a2": des["a2"]})
    out = out[(out["n"] > 0) & np.isfinite(out["tv"])].copy()
    out["dev"] = out["tv"] - out.groupby("provider")["tv"].transform("mean")
    return out


def summary(g):
    return pd.Series({"relations": len(g), "mean z": g["z"].mean(), "sd z": g["z"].std(),
                      "|z| <= 1.96": (g["z"].abs() <= 1.96).mean()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--people", type=int, default=150)
    ap.add_argument("--seed-offset", type=int, default=0)
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    r = pd.concat([one(n, s, a.people) for n in SCEN
                   for s in range(a.seed_offset, a.seed_offset + a.seeds)], ignore_index=True)
    r["class"] = np.where(r["dev"].abs() >= 0.5, "atypical", "typical")
    r["one rater"] = np.where(r["a2"] >= 0.9, "one effective rater", "several raters")
    r["deviation"] = pd.cut(r["dev"], [-3, -0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 3])
    r["true value"] = pd.cut(r["tv"], [1, 3, 3.25, 3.5, 3.75, 4, 4.5, 5])
    pd.set_option("display.width", 200)
    for keys in (["class"], ["class", "one rater"], ["scenario", "class"], ["deviation"],
                 ["true value"]):
        print(r.groupby(keys, observed=True)[["z"]].apply(summary).round(3).to_string())
        print()
    print("mean sum a_j^2: atypical %.2f, typical %.2f" % (
        r.loc[r["class"] == "atypical", "a2"].mean(), r.loc[r["class"] == "typical", "a2"].mean()))


if __name__ == "__main__":
    main()
