"""spec14 (issue #18): the specificity threshold's development table.

Runs :func:`icnet.retaliation_spirals` once per development organisation (seeds
``1000 * size + 500 + i``, never the scoreboard's ``1000 * size + i``), keeps the per-pair
table it classifies, and classifies it again for each candidate window, share and threshold of
the specificity check (``spirals._SPEC_Z``, ``_SPEC_SHARE`` and the window of
``_specificity``; threshold ``inf`` = off, main's kinds), scoring every
variant with the validity scoreboard's own adapter (``scoreboard._spirals``). One row per
organisation and threshold::

    PYTHONPATH=src python benchmarks/spec14_dev.py --out benchmarks/spec14_dev.csv

Columns: scenario, n_people, seed, window, share, threshold, null, n_truth, n_hit, n_false_spiral,
n_initiator_ok, n_moved (pairs the guard made joint_shift), seconds (the one run).
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
from icnet import privacy  # noqa: E402
from icnet.analysis import spirals  # noqa: E402
from icnet.validity import generate, scoreboard as sb  # noqa: E402

NULLS = ["overload_episodes", "joint_bad_periods"]
MECHS = ["lock_in", "slow_escalation", "episodic", "episodic_two", "delay_only",
         "between_units", "one_sided"]
THRESHOLDS = [np.inf, 3.0, 2.5, 2.0, 1.5]


WINDOWS = {"onset-stop": (14.0, np.inf), "21d": (21.0, 21.0), "28d": (28.0, 28.0)}
SHARES = [0.5, 0.0]


def _variants():
    yield "onset-stop", 0.5, np.inf                  # the check off: main's kinds
    for w in WINDOWS:
        for share in SHARES:
            for thr in THRESHOLDS[1:]:
                yield w, share, thr


def _one(name, size, seed):
    data = generate(name, n_people=size, seed=seed)
    net = data.network()
    got = {}
    finish, specificity = spirals._finish, spirals._specificity

    def capture(*args):
        got["finish"] = args
        return finish(*args)

    def capture_spec(*args, **kw):
        got["spec"] = args
        return specificity(*args, **kw)

    real = icnet.retaliation_spirals
    spirals._finish, spirals._specificity = capture, capture_spec
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sb._spirals(data, net, seed)            # runs the detector once, captured
    finally:
        spirals._finish, spirals._specificity = finish, specificity
    secs = time.perf_counter() - t0
    rows = []
    keep = spirals._SPEC_Z, spirals._SPEC_SHARE
    fnet, _, t0_, alpha, params = got["finish"]
    pair, d, t, z, base, summary, n = got["spec"]
    tables = {w: specificity(pair, d, t, z, base, summary, n, min_window=lo, max_window=hi)
              for w, (lo, hi) in WINDOWS.items()}
    first = None
    try:
        for w, share, thr in _variants():
            spirals._SPEC_Z, spirals._SPEC_SHARE = thr, share
            res = finish(fnet, tables[w].copy(), t0_, alpha, params)
            res = privacy._gate_spirals(fnet, res, individuals=False, min_group_size=5)
            if first is not None and not (first[0]["kind"] == "spiral").any():
                score, moved = first[1], 0               # no spiral: nothing to move
            else:
                icnet.retaliation_spirals = lambda *a, _r=res, **k: _r
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    score = sb._spirals(data, net, seed)
                icnet.retaliation_spirals = real
                moved = int(res["reason"].astype(str).str.contains("not targeted").sum())
            if first is None:
                first = (res, score)
            rows.append(dict(scenario=name, n_people=size, seed=seed, window=w, share=share,
                             threshold=thr, null="spirals" in data.null_for,
                             n_truth=score["n_truth"], n_hit=score["n_hit"],
                             n_false_spiral=score["n_false_spiral"],
                             n_initiator_ok=score["n_initiator_ok"], n_moved=moved,
                             seconds=round(secs, 2)))
    finally:
        spirals._SPEC_Z, spirals._SPEC_SHARE = keep
        icnet.retaliation_spirals = real
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "spec14_dev.csv"))
    ap.add_argument("--sizes", default="600")
    ap.add_argument("--null-seeds", type=int, default=30)
    ap.add_argument("--mech-seeds", type=int, default=20)
    a = ap.parse_args(argv)
    tasks = []
    for size in [int(s) for s in a.sizes.split(",")]:
        for i in range(max(a.null_seeds, a.mech_seeds)):   # seeds outermost
            for name in NULLS if i < a.null_seeds else []:
                tasks.append((name, size, 1000 * size + 500 + i))
            for name in MECHS if i < a.mech_seeds else []:
                tasks.append((name, size, 1000 * size + 500 + i))
    rows = []
    t0 = time.perf_counter()
    for k, t in enumerate(tasks):
        rows.extend(_one(*t))
        pd.DataFrame(rows).to_csv(a.out, index=False)
        print(f"{k + 1}/{len(tasks)} {t} {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
