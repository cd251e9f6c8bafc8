"""Coverage of service_quality's 95 % intervals per relation class (issue #21).

On the validity suite's quality scenarios (not icnet.synth), person and unit level:
all relations; typical / atypical (true value at least 0.5 from the mean of its provider's
relations); 1-5 ratings; one rater giving >= 80 % of the ratings (unit level); ceiling
(true value >= 4.5); the false 'bad' rate among truly good relations (true > 3); and the
mean interval width. ``--interval`` picks the interval of icnet._shrink (default: the
library's default).

    python benchmarks/quality_classes.py --seeds 20 --people 150
    python benchmarks/quality_classes.py --seeds 20 --people 150 --interval parametric
    python benchmarks/quality_classes.py --seeds 20 --people 150 --variance bounded
    python benchmarks/quality_classes.py --seeds 60 --people 150 --seed-offset 150500 \
        --interval-variance bounded
    python benchmarks/quality_classes.py --seeds 60 --people 150 --levels unit
    python benchmarks/quality_classes.py --seeds 60 --people 150 --levels unit \
        --seed-offset 7000000
    python benchmarks/quality_classes.py --seeds 60 --people 150 --levels unit \
        --seed-offset 150500 --clustered
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

import icnet
from icnet import _shrink
from icnet.validity import scenarios

SCEN = ("baseline", "heavy_raters", "lenient_harsh", "sparse_ceiling")


def one(name, seed, n_people, levels=("person", "unit")):
    d = scenarios.generate(name, n_people=n_people, seed=seed)
    net = d.network()
    unit_of = d.people.set_index("person")["unit"]
    ev = d.events[d.events["satisfaction"].notna()]
    ev = ev.assign(pu=unit_of.reindex(ev["provider"]).to_numpy(),
                   cu=unit_of.reindex(ev["client"]).to_numpy())
    k = ev.groupby(["pu", "cu", "client"]).size()
    top = (k.groupby(level=[0, 1]).max() / k.groupby(level=[0, 1]).sum()).rename("top")
    top.index.names = ["provider", "client"]
    out = []
    for level in levels:
        q = icnet.service_quality(net, level=None if level == "person" else "unit",
                                  min_group_size=1)
        t = d.truth["quality"]
        t = t[t["level"] == level]
        m = t.merge(q.edges.astype({"provider": str, "client": str}),
                    on=["provider", "client"], how="inner")
        m = m[m["satisfaction_n"] > 0].copy()
        tv = m["true_satisfaction"]
        m["covered"] = (m["satisfaction_low"] <= tv) & (tv <= m["satisfaction_high"])
        dev = tv - tv.groupby(m["provider"]).transform("mean")
        m["atypical"] = dev.abs() >= 0.5
        m["few"] = m["satisfaction_n"] <= 5
        m["ceiling"] = tv >= 4.5
        m["heavy80"] = (m.set_index(["provider", "client"]).index.map(top.to_dict())
                        .to_numpy(float) >= 0.8) if level == "unit" else False
        m["good"] = tv > 3.0
        m["false_bad"] = m["good"] & (m["sign"] == "bad")
        m["width"] = m["satisfaction_high"] - m["satisfaction_low"]
        m["level"], m["scenario"], m["seed"] = level, name, seed
        out.append(m[["scenario", "seed", "level", "provider", "client", "covered",
                      "atypical", "few", "ceiling", "heavy80", "good", "false_bad", "width"]])
    return pd.concat(out, ignore_index=True)


def table(r):
    rows = []
    for (lv, sc), g in list(r.groupby(["level", "scenario"])) + \
            [((lv, "all four"), g) for lv, g in r.groupby("level")]:
        row = {"level": lv, "scenario": sc}
        for cls, mask in (("all", np.ones(len(g), bool)), ("typical", ~g["atypical"]),
                          ("atypical", g["atypical"]), ("1-5 ratings", g["few"]),
                          ("one rater 80 %", g["heavy80"]), ("ceiling", g["ceiling"])):
            n = int(mask.sum())
            row[cls] = f"{g.loc[mask, 'covered'].mean():.3f} ({n})" if n else "–"
        fb, gd = int(g["false_bad"].sum()), int(g["good"].sum())
        row["false bad"] = f"{fb / gd:.4f} ({fb}/{gd})" if gd else "–"
        row["width"] = f"{g['width'].mean():.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def clustered(r):
    """Coverage per level and class, pooled over the scenarios, with its standard error
    clustered by seed: the scenarios of one seed share the base organisation (the same
    relations, events and rating noise), so their relations are not independent (qual18).
    ``distinct``: relations counted once per seed."""
    rows = []
    for lv, g in r.groupby("level"):
        for cls, mask in (("all", np.ones(len(g), bool)), ("atypical", g["atypical"]),
                          ("1-5 ratings", g["few"]), ("one rater 80 %", g["heavy80"]),
                          ("ceiling", g["ceiling"])):
            h = g[np.asarray(mask, bool)]
            if not len(h):
                continue
            cov = h["covered"].astype(float)
            p = cov.mean()
            dev = (cov - p).groupby(h["seed"]).sum()
            G = len(dev)
            se = np.sqrt((dev ** 2).sum() * G / max(G - 1, 1)) / len(h)
            rows.append({"level": lv, "class": cls, "coverage": f"{p:.3f}",
                         "relations": len(h),
                         "distinct": len(h.groupby(["seed", "provider", "client"])),
                         "seeds": G, "binomial SE": f"{np.sqrt(p * (1 - p) / len(h)):.3f}",
                         "SE clustered by seed": f"{se:.3f}"})
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--people", type=int, default=150)
    ap.add_argument("--seed-offset", type=int, default=0,
                    help="first seed (develop on seeds apart from the scoreboard's "
                         "1000 * people + s, e.g. 7000000)")
    ap.add_argument("--only", default=",".join(SCEN))
    ap.add_argument("--interval", choices=("relation", "robust", "parametric"),
                    default=_shrink.INTERVAL)
    ap.add_argument("--variance", choices=("constant", "bounded"), default=_shrink.VARIANCE,
                    help="rating-variance model (bounded: the beta-binomial-like variance "
                         "function of an ordinal 1-5 scale)")
    ap.add_argument("--interval-variance", choices=("constant", "bounded"),
                    default=_shrink.INTERVAL_VARIANCE,
                    help="error variance of the intervals only (bounded: a mean-variance "
                         "function at each relation's shrunk value, qual16)")
    ap.add_argument("--levels", default="person,unit",
                    help="comma-separated levels (unit alone is faster: more seeds)")
    ap.add_argument("--clustered", action="store_true",
                    help="also print each class pooled over the scenarios with its "
                         "standard error clustered by seed (qual18)")
    a = ap.parse_args(argv)
    _shrink.INTERVAL, _shrink.VARIANCE = a.interval, a.variance
    _shrink.INTERVAL_VARIANCE = a.interval_variance
    warnings.simplefilter("ignore")
    levels = tuple(a.levels.split(","))
    r = pd.concat([one(n, s, a.people, levels) for n in a.only.split(",")
                   for s in range(a.seed_offset, a.seed_offset + a.seeds)], ignore_index=True)
    t = table(r)
    print("| " + " | ".join(t.columns) + " |")
    print("|" + "---|" * len(t.columns))
    for row in t.itertuples(index=False):
        print("| " + " | ".join(map(str, row)) + " |")
    if a.clustered:
        c = clustered(r)
        print()
        print("| " + " | ".join(c.columns) + " |")
        print("|" + "---|" * len(c.columns))
        for row in c.itertuples(index=False):
            print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
