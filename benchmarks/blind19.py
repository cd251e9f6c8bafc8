"""blind19 (#18): how often a `one_sided` pair's reason says that the specificity check could
not have seen its drop shared with the side's other clients ("cannot be checked ... an
overload is not excluded"), on development seeds n*1000+500+i: the overload confounder
(false `one_sided` pairs) and planted spirals and one-sided answers. The truth is read
after the detector ran. A first variant also said it for change-test `spiral` pairs (either
side); its output, with the share of planted spirals that would carry the caveat, is kept in
benchmarks/blind19_spiral_variant.txt (that variant was not committed: the sentence is said
for `one_sided` only).

    PYTHONPATH=src python benchmarks/blind19.py > benchmarks/blind19.txt
"""
import warnings

import pandas as pd

import icnet
from icnet.validity import generate

RUNS = (("overload_episodes", 150, 10), ("overload_episodes", 600, 6),
        ("lock_in", 600, 4), ("episodic", 600, 4), ("delay_only", 600, 4),
        ("one_sided", 600, 4))


def main():
    warnings.simplefilter("ignore")
    rows = []
    for scen, n, k in RUNS:
        for i in range(k):
            seed = n * 1000 + 500 + i
            d = generate(scen, n_people=n, seed=seed)
            s = icnet.retaliation_spirals(d.network(), seed=seed, n_perm=199)
            t = d.truth.get("spirals")
            planted = set() if t is None else {tuple(sorted((str(a), str(b))))
                                                for a, b in zip(t["a"], t["b"])}
            key = [tuple(sorted((str(a), str(b)))) for a, b in zip(s["a"], s["b"])]
            s = s.assign(planted=[x in planted for x in key],
                         blind=s["reason"].astype(str).str.contains("cannot be checked"))
            for kind in ("spiral", "one_sided"):
                m = s["kind"] == kind
                for pl in (True, False):
                    mm = m & (s["planted"] == pl)
                    rows.append(dict(scenario=scen, n_people=n, seed=seed, kind=kind,
                                     planted=pl, pairs=int(mm.sum()),
                                     blind=int((mm & s["blind"]).sum())))
    df = pd.DataFrame(rows)
    g = df.groupby(["scenario", "n_people", "kind", "planted"])[["pairs", "blind"]].sum()
    g = g[g["pairs"] > 0]
    g["share_blind"] = (g["blind"] / g["pairs"]).round(2)
    print(g.to_string())


if __name__ == "__main__":
    main()
