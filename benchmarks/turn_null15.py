"""turn_null15 (issue #18): is the turn test calibrated under the spiral nulls?

A `spiral` from the change test needs both directions to drop in one exchange *and* the
turn test (``p_turn``, BH over the pairs that dropped both ways) to say the sides took
turns. Under a null where both directions drop for a reason other than retaliation, the
pairs that dropped both ways form the turn test's family; if ``p_turn`` is uniform there,
the organisations with a false `spiral` are the turn test's family-wise error (about the
level, 0.05, when every pair of the family is null) and no threshold of a valid test gives
"never". If it is not uniform, the null *is* turn-taking by timing, and only another
feature (the specificity check, ...) can separate it.

Runs :func:`icnet.retaliation_spirals` (default parameters, ``n_perm=199`` as the
scoreboard) on development organisations (seeds ``1000 * size + 500 + i``, never the
scoreboard's) and keeps every pair classed `spiral` or `joint_shift` (the pairs that dropped
both ways in one exchange)::

    PYTHONPATH=src python benchmarks/turn_null15.py --scenarios joint_bad_periods,\
overload_episodes,common_cause --people 600 --seeds 30 --out benchmarks/turn_null15.csv
    python benchmarks/turn_null15.py --summary benchmarks/turn_null15.csv

Columns (an organisation without such a pair has one row with an empty kind): scenario,
n_people, seed, a, b, kind, p_turn, gap_days (between the two
directions' onsets), specificity_z, n_family (such pairs in the organisation).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import icnet  # noqa: E402
from icnet.validity import generate  # noqa: E402


def run(scenarios, people, seeds):
    rows = []
    for name in scenarios:
        for i in range(seeds):
            seed = people * 1000 + 500 + i
            d = generate(name, n_people=people, seed=seed)
            net = icnet.from_events(d.events, people=d.people)
            res = icnet.retaliation_spirals(net, seed=seed, n_perm=199, individuals=True)
            fam = res[res["kind"].isin(["spiral", "joint_shift"])]
            if not len(fam):        # the organisation is counted all the same
                fam = res.iloc[:0].reindex([0])
            gap = (fam["onset_ab"] - fam["onset_ba"]).abs() / pd.Timedelta(days=1)
            rows.append(pd.DataFrame({
                "scenario": name, "n_people": people, "seed": seed,
                "a": fam["a"].astype(str), "b": fam["b"].astype(str), "kind": fam["kind"],
                "p_turn": fam["p_turn"], "gap_days": gap.round(2),
                "specificity_z": fam["specificity_z"].round(3),
                "n_family": int(fam["kind"].notna().sum())}))
            print(name, seed, len(fam), int((fam["kind"] == "spiral").sum()),
                  file=sys.stderr, flush=True)
    return pd.concat(rows, ignore_index=True)


def summary(df):
    out = []
    for (name, n), g in df.groupby(["scenario", "n_people"]):
        orgs = g["seed"].nunique()
        g = g[g["kind"].notna()]
        p = g["p_turn"].dropna()
        out.append({
            "scenario": name, "n_people": n, "orgs": orgs,
            "orgs_with_family": g["seed"].nunique(),
            "family_pairs": len(g), "pairs_per_org": round(len(g) / max(orgs, 1), 1),
            "P(p_turn<=0.01)": round((p <= 0.01).mean(), 3),
            "P(p_turn<=0.05)": round((p <= 0.05).mean(), 3),
            "P(p_turn<=0.20)": round((p <= 0.20).mean(), 3),
            "KS p (uniform)": round(stats.kstest(p, "uniform").pvalue, 3) if len(p) else np.nan,
            "orgs_false_spiral": int(g.groupby("seed")["kind"]
                                     .apply(lambda k: (k == "spiral").any()).sum())})
    return pd.DataFrame(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenarios", default="joint_bad_periods,overload_episodes,common_cause")
    ap.add_argument("--people", type=int, default=600)
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--out")
    ap.add_argument("--summary", help="summarise a saved CSV instead of running")
    a = ap.parse_args(argv)
    if a.summary:
        df = pd.read_csv(a.summary)
    else:
        df = run(a.scenarios.split(","), a.people, a.seeds)
        if a.out:
            tmp = a.out + ".tmp"
            df.to_csv(tmp, index=False)
            os.replace(tmp, a.out)
    print(summary(df).to_string(index=False))


if __name__ == "__main__":
    main()
