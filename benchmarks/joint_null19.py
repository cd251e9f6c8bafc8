"""joint_null19 (#18): does a pattern-free organisation get a `joint_shift` (the kind a missed
spiral is most often reported as, with an action of its own)? Development seeds
n*1000+500+i (10 organisations at 150 people, 4 at 600) of the four pattern-free
scenarios, the detector as the scoreboard calls it; counts of each kind per scenario.

    PYTHONPATH=src python benchmarks/joint_null19.py > benchmarks/joint_null19.txt
"""
import warnings

import pandas as pd

import icnet
from icnet.validity import generate

SCENARIOS = ("baseline", "org_slowdown", "shock_season", "no_satisfaction")


def main():
    warnings.simplefilter("ignore")
    rows = []
    for scen in SCENARIOS:
        for n, k in ((150, 10), (600, 4)):
            for i in range(k):
                seed = n * 1000 + 500 + i
                d = generate(scen, n_people=n, seed=seed)
                s = icnet.retaliation_spirals(d.network(), seed=seed, n_perm=199)
                vc = s["kind"].value_counts()
                rows.append(dict(scenario=scen, n_people=n, seed=seed,
                                 **{k_: int(vc.get(k_, 0)) for k_ in
                                    ("joint_shift", "spiral", "one_sided", "chronic_conflict")},
                                 tested=int((s["kind"] != "insufficient").sum())))
    df = pd.DataFrame(rows)
    print(df.groupby(["scenario", "n_people"]).agg(
        orgs=("seed", "size"), joint_shift=("joint_shift", "sum"),
        orgs_with_joint_shift=("joint_shift", lambda x: int((x > 0).sum())),
        spiral=("spiral", "sum"), one_sided=("one_sided", "sum"),
        chronic_conflict=("chronic_conflict", "sum"),
        pairs_tested=("tested", "sum")).to_string())


if __name__ == "__main__":
    main()
