"""Development data for the spiral onset (onset12, #18): per planted pair found, the
reported start and the alternation posterior's start (median, 10 % and 90 % quantiles).

Runs the validity scenarios on DEV seeds (n_people·1000 + 500 + i: not the scoreboard's
n_people·1000 + 0..19) the way the scoreboard calls the detector, keeps the per-pair
table of ``_finish`` and writes one row per planted pair (found or not):

    PYTHONPATH=src python benchmarks/onset12_dev.py OUT.csv --seeds 20 --sizes 150,600
    PYTHONPATH=src python benchmarks/onset12_dev.py OUT.csv --summary   # the rules, scored

The summary scores each dating rule as the scoreboard does (per organisation the median
error of the found planted pairs, then the median over organisations): ``old`` (the
exchange model's start, recomputed from fm_t / prov_t / page_*), the posterior median
where the 80 % interval is at most X days (X = 7, 14, 21, 28, any) and the posterior's
10 % quantile; and the share of found pairs dated within 14 days.

Columns: scenario, n_people, seed, a, b, kind (found; NaN if not tested), hit (kind in
the truth's accept), spiral_c (a change-test spiral whose initiator has a probability:
the pairs the posterior can date), truth (the planted onset, days since the first
event), start (reported by the code that ran), ph_start, ph_lo, ph_hi (the start
posterior's median, 10 % and 90 % quantiles), p_phase, fm_t (the exchange model's start), prov_first, prov_t, page_ab,
page_ba (the per-pair table's columns; times in days since the first event).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import icnet  # noqa: E402
from icnet.analysis import spirals as sp  # noqa: E402
from icnet.validity import generate  # noqa: E402

SCEN = ("episodic", "episodic_two", "lock_in", "slow_escalation", "one_sided",
        "delay_only", "between_units")


def summary(path):
    d = pd.read_csv(path)
    d = d[d["hit"].astype(bool)].copy()
    sc = d["spiral_c"].astype(bool)
    old = np.where(sc, np.where(np.isfinite(d.fm_t), d.fm_t, np.where(
        d.prov_first >= 0, d.prov_t, np.fmin(d.page_ab, d.page_ba))), d.start)
    width = d.ph_hi - d.ph_lo
    has = sc & np.isfinite(d.ph_start)
    rules = {"old": old, "lo_any": np.where(has, d.ph_lo, old)}
    for x in (7, 14, 21, 28, np.inf):
        rules[f"med_w{x:g}"] = np.where(has & (width <= x), d.ph_start, old)
    key = [d.scenario, d.n_people]
    med, within = {}, {}
    for name, start in rules.items():
        err = (pd.Series(start, index=d.index) - d.truth).abs()
        med[name] = err.groupby(key + [d.seed]).median().groupby(level=[0, 1]).median()
        within[name] = (err <= 14).groupby(key).mean()
    print("median onset error (days; per organisation, then over organisations)")
    print(pd.DataFrame(med).round(2).to_string())
    print("share of found planted pairs dated within 14 days")
    print(pd.DataFrame(within).round(2).to_string())
    print("found pairs, organisations, change-test spirals")
    print(d.groupby(key).agg(pairs=("seed", "size"), orgs=("seed", "nunique"),
                             spiral_c=("spiral_c", "sum")).to_string())


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sizes", default="150,600")
    ap.add_argument("--only", default=",".join(SCEN))
    ap.add_argument("--offset", type=int, default=500,
                    help="seeds n_people·1000 + offset + i (500: development seeds)")
    ap.add_argument("--summary", action="store_true", help="score the rules on OUT.csv")
    args = ap.parse_args(argv)
    if args.summary:
        return summary(args.out)
    warnings.simplefilter("ignore")
    keep = {}
    orig = sp._finish

    def finish(net, table, t0, alpha, params):
        keep["table"], keep["t0"], keep["n"] = table, t0, len(net.node_ids)
        keep["ids"] = net.node_ids.to_numpy(dtype=object)
        return orig(net, table, t0, alpha, params)

    sp._finish = finish
    rows = []
    t_start = time.perf_counter()
    for n_people in [int(x) for x in args.sizes.split(",")]:
        for name in args.only.split(","):
            for i in range(args.seeds):
                seed = n_people * 1000 + args.offset + i
                data = generate(name, n_people=n_people, seed=seed)
                truth = data.truth.get("spirals")
                level = "unit" if truth is not None and len(truth) and \
                    (truth["level"] == "unit").all() else None
                res = icnet.retaliation_spirals(data.network(), level=level, seed=seed,
                                                n_perm=199)
                tab, t0, n, ids = keep["table"], keep["t0"], keep["n"], keep["ids"]
                code = {v: k for k, v in enumerate(ids)}
                for r in truth.itertuples():
                    lo, hi = sorted((code[r.a], code[r.b]))
                    tr = tab[tab["pair"] == lo * n + hi]
                    m = res[res["a"].isin([r.a, r.b]) & res["b"].isin([r.a, r.b])]
                    row = dict(scenario=name, n_people=n_people, seed=seed, a=r.a, b=r.b,
                               kind=m["kind"].iloc[0] if len(m) else np.nan,
                               truth=(r.onset - t0) / pd.Timedelta(days=1))
                    row["hit"] = len(m) and row["kind"] in r.accept.split("|")
                    row["spiral_c"] = bool(len(m) and row["kind"] == "spiral" and
                                           np.isfinite(m["initiator_p"].iloc[0]))
                    row["start"] = (m["start"].iloc[0] - t0) / pd.Timedelta(days=1) \
                        if len(m) and pd.notna(m["start"].iloc[0]) else np.nan
                    for c in ("ph_start", "ph_lo", "ph_hi", "p_phase", "fm_t", "prov_first",
                              "prov_t", "page_ab", "page_ba"):
                        row[c] = float(tr[c].iloc[0]) if len(tr) else np.nan
                    rows.append(row)
            print(f"{name} {n_people}: {time.perf_counter() - t_start:.0f} s",
                  file=sys.stderr, flush=True)
            pd.DataFrame(rows).to_csv(args.out, index=False)
    pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
