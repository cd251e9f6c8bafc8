"""Compare two validity record files organisation by organisation (onesided16): planted
pairs found, initiators, organisations with a false spiral / spiral-or-one_sided.

    python benchmarks/onesided16_compare.py benchmarks/onesided16_dev_main.csv benchmarks/onesided16_dev.csv
"""
import sys, pandas as pd
a = pd.read_csv(sys.argv[1]); b = pd.read_csv(sys.argv[2])
k = ["scenario", "n_people", "seed"]
m = a.merge(b, on=k, suffixes=("_m", "_b"))
def agg(g):
    return pd.Series({
        "orgs": len(g),
        "hit m/b": f"{g.n_hit_m.sum()}/{g.n_hit_b.sum()} of {g.n_truth_m.sum()}",
        "init ok m/b": f"{g.n_initiator_ok_m.sum()}/{g.n_initiator_ok_b.sum()}",
        "false-spiral orgs m/b": f"{(g.n_false_spiral_m > 0).sum()}/{(g.n_false_spiral_b > 0).sum()}",
        "false(sp|one) orgs m/b": f"{(g.n_false_m > 0).sum()}/{(g.n_false_b > 0).sum()}",
        "false pairs m/b": f"{g.n_false_m.sum()}/{g.n_false_b.sum()}",
        "found m/b": f"{g.n_found_m.sum()}/{g.n_found_b.sum()}",
    })
print(m.groupby(["scenario", "n_people"]).apply(agg).to_string())
