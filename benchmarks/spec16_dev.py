"""[Record of the spec16 experiment, not adopted: this script needs the code of the tag
`experiment/spec16` (commit 43afe53) — docs/methods/spirals-record.md, "Untestable
specificity (spec16): tried, not kept".]

spec16 (issue #18): untestable specificity — the development table.

Runs :func:`icnet.retaliation_spirals` once per development organisation (seeds
``1000 * size + 500 + i``, never the scoreboard's ``1000 * size + i``) as the validity
scoreboard runs it (``scoreboard._spirals``: ``n_perm=199``, seed = the organisation's),
keeps the per-pair table it classifies (by wrapping ``spirals._finish``) and classifies
it again for each variant of the spec16 rule (``spirals._BLIND_SIDES``,
``spirals._BLIND_POWER``; variant ``off`` = main's kinds), scoring each with the
scoreboard's own adapter. The detector never reads the truth; this script compares
afterwards. Two outputs::

    PYTHONPATH=src python benchmarks/spec16_dev.py --sizes 600,150 --seeds 30 \\
        --out benchmarks/spec16_dev.csv

``--out``: one row per organisation and variant (scenario, n_people, seed, variant,
null, n_truth, n_hit, n_false_spiral, n_initiator_ok, n_moved = pairs the rule made
joint_shift). ``*_pairs.csv`` beside it: every pair that is a ``spiral`` with the rule
off (planted or false), with both sides' specificity evidence (``zoth_*``, ``doth_*``,
``dy_*``, services to others in / outside the window ``nwo_*`` / ``noo_*``), whether it
was a change-test spiral, and its kind under each variant.
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
         "shock_season", "baseline", "org_slowdown"]
MECHS = ["episodic", "episodic_two", "lock_in", "slow_escalation", "delay_only",
         "between_units", "one_sided"]
VARIANTS = {"off": ("", 0.0), "any0": ("any", 0.0), "both0": ("both", 0.0),
            "anym1": ("any", -1.0), "bothm1": ("both", -1.0), "anym2": ("any", -2.0),
            "anyzero": ("any", -np.inf), "bothzero": ("both", -np.inf)}
SIDE_COLS = ["zoth", "doth", "dy", "nwo", "noo", "nwy", "noy"]


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
            sb._spirals(data, net, seed)            # the detector once, captured
    finally:
        spirals._finish = finish
    secs = time.perf_counter() - t0
    rows, kinds = [], {}
    keep = spirals._BLIND_SIDES, spirals._BLIND_POWER
    real = icnet.retaliation_spirals
    if "finish" not in got:                          # nothing tested
        return [dict(scenario=name, n_people=size, seed=seed, variant=v,
                     null="spirals" in data.null_for, n_truth=0, n_hit=0,
                     n_false_spiral=0, n_initiator_ok=0, n_moved=0,
                     seconds=round(secs, 2)) for v in VARIANTS], []
    fnet, table, t0_, alpha, params = got["finish"]
    try:
        for v, (sides, power) in VARIANTS.items():
            spirals._BLIND_SIDES, spirals._BLIND_POWER = sides, power
            res = finish(fnet, table.copy(), t0_, alpha, params)
            res = _gate_spirals(fnet, res, individuals=False, min_group_size=5)
            kinds[v] = res
            icnet.retaliation_spirals = lambda *a, _r=res, **k: _r
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score = sb._spirals(data, net, seed)
            icnet.retaliation_spirals = real
            moved = int(res["reason"].astype(str).str.contains("not checked").sum())
            rows.append(dict(scenario=name, n_people=size, seed=seed, variant=v,
                             null="spirals" in data.null_for, n_truth=score["n_truth"],
                             n_hit=score["n_hit"], n_false_spiral=score["n_false_spiral"],
                             n_initiator_ok=score["n_initiator_ok"], n_moved=moved,
                             seconds=round(secs, 2)))
    finally:
        spirals._BLIND_SIDES, spirals._BLIND_POWER = keep
        icnet.retaliation_spirals = real
    # the pairs that are spirals with the rule off: their specificity evidence
    off = kinds["off"]
    truth = data.truth.get("spirals")
    tset = set() if truth is None or not len(truth) else \
        {tuple(sorted((str(a), str(b)))) for a, b in zip(truth["a"], truth["b"])}
    tinit = {} if not tset else {tuple(sorted((str(a), str(b)))): str(i) for a, b, i in
                                 zip(truth["a"], truth["b"], truth["initiator"])}
    ids = fnet.node_ids.to_numpy(dtype=object)
    n = len(ids)
    tab = table[table["tested"].to_numpy()]
    key = {tuple(sorted((str(ids[p // n]), str(ids[p % n])))): j
           for j, p in enumerate(tab["pair"].to_numpy())}
    pairs = []
    for r in off[off["kind"] == "spiral"].itertuples():
        pr = tuple(sorted((str(r.a), str(r.b))))
        tr = tab.iloc[key[pr]] if pr in key else None
        row = dict(scenario=name, n_people=size, seed=seed, a=r.a, b=r.b,
                   planted=pr in tset, change_test="lagged coupling" not in str(r.reason),
                   p_change_ab=r.p_change_ab, p_change_ba=r.p_change_ba,
                   initiator=r.initiator, true_initiator=tinit.get(pr, ""))
        for c in SIDE_COLS:
            for s in ("ab", "ba"):
                row[f"{c}_{s}"] = np.nan if tr is None or f"{c}_{s}" not in tr \
                    else float(tr[f"{c}_{s}"])
        for v, res in kinds.items():
            m = res[res["a"].astype(str).isin(pr) & res["b"].astype(str).isin(pr)]
            row["kind_" + v] = m["kind"].iloc[0] if len(m) else ""
        row["reason_any0"] = kinds["any0"].loc[
            kinds["any0"]["a"].astype(str).isin(pr) & kinds["any0"]["b"].astype(str).isin(pr),
            "reason"].iloc[0]
        pairs.append(row)
    return rows, pairs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "spec16_dev.csv"))
    ap.add_argument("--sizes", default="600,150")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--scenarios", default=",".join(NULLS + MECHS))
    a = ap.parse_args(argv)
    scen = a.scenarios.split(",")
    tasks = [(name, size, 1000 * size + 500 + i)
             for size in [int(s) for s in a.sizes.split(",")]
             for i in range(a.seeds) for name in scen]
    rows, pairs = [], []
    t0 = time.perf_counter()
    for k, t in enumerate(tasks):
        r, p = _one(*t)
        rows.extend(r)
        pairs.extend(p)
        pd.DataFrame(rows).to_csv(a.out, index=False)
        pd.DataFrame(pairs).to_csv(a.out.replace(".csv", "_pairs.csv"), index=False)
        print(f"{k + 1}/{len(tasks)} {t} {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
