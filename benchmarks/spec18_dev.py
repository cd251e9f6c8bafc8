"""spec18 (issue #18): the specificity window matched to the episode — development table.

spec16's diagnosis (docs/methods/spirals-record.md, "Untestable specificity (spec16)"): of
the overload organisations' false spirals, most have sides that *do* serve others, but
whose drop to them stays within noise because the specificity window — the drop's CUSUM
segment, onset to stop — is much longer than a 2–3-week overload episode, which it
dilutes. spec18's ``_specificity`` adds two short windows, 22 days from the drop's Page
onset (``2``) and from its segment's onset (``3``). This script runs
:func:`icnet.retaliation_spirals` once per development organisation (seeds
``1000 * size + 500 + i``, never the scoreboard's) as the scoreboard runs it
(``scoreboard._spirals``), keeps the per-pair table it classifies and classifies it again
with only some windows' evidence kept (``spirals._nontargeted`` uses the windows whose
columns are present): ``seg`` (the segment alone: the code before spec18), ``seg|p``,
``seg|o`` and ``seg|p|o`` (spec18 as shipped; the library's own kinds). Each is scored with
the scoreboard's own adapter; the detector never reads the truth.

    PYTHONPATH=src python benchmarks/spec18_dev.py --sizes 600,150 --seeds 30 \
        --out benchmarks/spec18_dev.csv
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import icnet  # noqa: E402
from icnet.analysis import spirals  # noqa: E402
from icnet.privacy import _gate_spirals  # noqa: E402
from icnet.validity import generate, scoreboard as sb  # noqa: E402

NULLS = ["overload_episodes", "common_cause", "joint_bad_periods", "unit_bad_month",
         "shock_season", "baseline", "org_slowdown", "chronic_conflict"]
MECHS = ["episodic", "episodic_two", "lock_in", "slow_escalation", "delay_only",
         "between_units", "one_sided"]
SUFFIX = {"seg": "", "p": "2", "o": "3"}
VARIANTS = ["seg", "seg|p", "seg|o", "seg|p|o"]


def _keep(tab, variant):
    """``tab`` without the specificity columns of the windows ``variant`` leaves out."""
    keep = {SUFFIX[w] for w in variant.split("|")}
    drop = [f"{c}{suf}_{s}" for suf in SUFFIX.values() if suf not in keep
            for c in ("zoth", "doth", "dy") for s in ("ab", "ba")]
    return tab.drop(columns=[c for c in drop if c in tab])


def _one(name, size, seed):
    data = generate(name, n_people=size, seed=seed)
    net = data.network()
    got = {}
    finish = spirals._finish

    def capture(*args):
        got["finish"] = args
        return finish(*args)

    spirals._finish = capture
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib = sb._spirals(data, net, seed)          # the library's own kinds
    finally:
        spirals._finish = finish
    secs = time.perf_counter() - t0
    rows = []
    real = icnet.retaliation_spirals
    base = dict(scenario=name, n_people=size, seed=seed, null="spirals" in data.null_for)
    if "finish" not in got:
        return [dict(base, variant=v, n_truth=0, n_hit=0, n_false_spiral=0, n_false=0,
                     n_initiator_ok=0) for v in VARIANTS]
    fnet, table, t0_, alpha, params = got["finish"]
    try:
        for v in VARIANTS:
            res = finish(fnet, _keep(table, v), t0_, alpha, params)
            res = _gate_spirals(fnet, res, individuals=False, min_group_size=5)
            icnet.retaliation_spirals = lambda *a, _r=res, **k: _r
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = sb._spirals(data, net, seed)
            icnet.retaliation_spirals = real
            rows.append(dict(base, variant=v, n_truth=s["n_truth"], n_hit=s["n_hit"],
                             n_false_spiral=s["n_false_spiral"], n_false=s["n_false"],
                             n_initiator_ok=s["n_initiator_ok"],
                             n_joint=int((res["kind"] == "joint_shift").sum()),
                             lib_n_hit=lib["n_hit"], lib_n_false_spiral=lib["n_false_spiral"],
                             seconds=round(secs, 2)))
    finally:
        icnet.retaliation_spirals = real
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "spec18_dev.csv"))
    ap.add_argument("--sizes", default="600,150")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--first", type=int, default=500)
    ap.add_argument("--scenarios", default=",".join(NULLS + MECHS))
    a = ap.parse_args(argv)
    tasks = [(name, size, 1000 * size + a.first + i)
             for size in [int(s) for s in a.sizes.split(",")]
             for i in range(a.seeds) for name in a.scenarios.split(",")]
    rows = []
    t0 = time.perf_counter()
    for k, t in enumerate(tasks):
        rows.extend(_one(*t))
        pd.DataFrame(rows).to_csv(a.out, index=False)
        print(f"{k + 1}/{len(tasks)} {t} {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
