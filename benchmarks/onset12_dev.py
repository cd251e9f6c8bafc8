"""Development data for the spiral onset (onset12, #18): per planted pair found, the
reported start and the alternation posterior's start (median, 10 % and 90 % quantiles).

Runs the validity scenarios on DEV seeds (n_people·1000 + 500 + i: not the scoreboard's
n_people·1000 + 0..19) the way the scoreboard calls the detector, keeps the per-pair
table of ``_finish`` and writes one row per planted pair (found or not):

    PYTHONPATH=src python benchmarks/onset12_dev.py OUT.csv --seeds 20 --sizes 150,600

Columns: scenario, n_people, seed, a, b, kind (found; NaN if not tested), hit (kind in
the truth's accept), spiral_c (a change-test spiral whose initiator has a probability:
the pairs the posterior can date), truth (the planted onset, days since the first
event), start (reported), ph_start, ph_lo, ph_hi (the start posterior's median, 10 % and
90 % quantiles), p_phase, fm_t (the exchange model's start), prov_first, prov_t, page_ab,
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


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sizes", default="150,600")
    ap.add_argument("--only", default=",".join(SCEN))
    args = ap.parse_args(argv)
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
                seed = n_people * 1000 + 500 + i
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
