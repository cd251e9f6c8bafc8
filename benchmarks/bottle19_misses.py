"""bottle19 (#19): what the planted provider looked like where the flag missed it — single
point of failure at 150 people and deep chain at 600 (the two rows below 0.90), 40
development organisations each (seeds n*1000+500+i), ``icnet.bottlenecks(net)`` as the
scoreboard calls it; the truth is read after the detector ran.

    PYTHONPATH=src python benchmarks/bottle19_misses.py > benchmarks/bottle19_misses.txt
"""
import warnings

import pandas as pd

import icnet
from icnet.validity import generate


def main():
    warnings.simplefilter("ignore")
    rows = []
    for scen, n in (("single_point_of_failure", 150), ("deep_chain", 600)):
        for i in range(40):
            seed = n * 1000 + 500 + i
            d = generate(scen, n_people=n, seed=seed)
            b = icnet.bottlenecks(d.network())
            planted = set(d.truth["bottlenecks"]["node"].astype(str))
            for x in b[b["node"].astype(str).isin(planted)].itertuples():
                rows.append(dict(scenario=scen, seed=seed, flagged=x.is_bottleneck,
                                 z=x.delay_excess, p_slow=x.p_slow, p_adjusted=x.p_adjusted,
                                 peer_group=x.peer_group, n_peers=x.n_peers, rank=x.rank,
                                 tested=int(b["p_slow"].notna().sum())))
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df.groupby("scenario").agg(orgs=("seed", "size"), flagged=("flagged", "mean"),
                                     z_median=("z", "median")).to_string())
    print("\nmisses:")
    print(df[~df["flagged"]].round(6).to_string(index=False))
    print("\nflagged: z by scenario")
    print(df[df["flagged"]].groupby("scenario")["z"].describe().round(2).to_string())


if __name__ == "__main__":
    main()
