"""The validity scoreboard (issue #17): every detector on every relevant scenario.

Usage::

    python benchmarks/validity.py                         # 20 seeds, 150 and 600 people
    python benchmarks/validity.py --quick                 # 2 seeds, 150 people (CI-sized)
    python benchmarks/validity.py --only lock_in,baseline --seeds 5 --sizes 150
    python benchmarks/validity.py --detectors spirals --first-seed 20 --seeds 40  # unseen seeds
    python benchmarks/validity.py --jobs 2 --records recs.csv --max-seconds 3000
    python benchmarks/validity.py --from-records recs.csv # re-pool saved records
    python benchmarks/validity.py --from-records all.csv,spirals.csv   # later files replace
                                  # the same detector x scenario x size x seed of earlier ones
    python benchmarks/validity.py ... --write-docs        # replace the table in docs/validity.md

Prints the scoreboard as a Markdown table (value [95 % interval], bound, pass)
and, per detector, the seconds spent. Organisations not run because of
``--max-seconds`` are left out and the ``orgs`` column says how many were scored.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from icnet.validity import SCENARIOS, generate, scoreboard as sb  # noqa: E402

BEGIN, END = "<!-- scoreboard:begin -->", "<!-- scoreboard:end -->"


def _one(task):
    name, n_people, seed, detectors = task
    data = generate(name, n_people=n_people, seed=seed)
    return sb.score_organisation(data, detectors=detectors, seed=seed)


def _progress(done, total, t0):
    if done % 50 == 0 or done == total:
        print(f"[{done}/{total} organisations, {time.perf_counter() - t0:.0f} s]",
              file=sys.stderr, flush=True)


KEY = ["detector", "scenario", "n_people", "seed"]


def _pool_records(files):
    """Records of several runs; a later file's rows replace the same organisation's."""
    frames = [pd.read_csv(f).assign(_file=i) for i, f in enumerate(files)]
    recs = pd.concat(frames, ignore_index=True)
    last = recs.groupby(KEY)["_file"].transform("max")
    return recs[recs["_file"] == last].drop(columns="_file").reset_index(drop=True)


def _checkpoint(out, path):
    """Every 50 organisations, the records so far (a long run cut short keeps them)."""
    if path and len(out) % 50 == 0:
        part = pd.concat([r for r in out if len(r)], ignore_index=True)
        tmp = Path(path).with_suffix(".partial.csv")
        part.to_csv(tmp, index=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="organisations per scenario and size")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds n*1000+FIRST .. n*1000+FIRST+SEEDS-1 for n people (default 0: "
                    "the scoreboard's; e.g. --first-seed 20 --seeds 40 adds unseen "
                    "organisations to a pool, --first-seed 500 is the development range)")
    ap.add_argument("--sizes", default="150,600", help="comma-separated numbers of people")
    ap.add_argument("--quick", action="store_true", help="2 seeds at 150 people")
    ap.add_argument("--only", default="", help="comma-separated scenario names")
    ap.add_argument("--detectors", default="", help="comma-separated detectors "
                    f"({', '.join(sb.ADAPTERS)})")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--records", default="", help="write the per-organisation records (CSV; "
                    "with --from-records, the pooled records)")
    ap.add_argument("--from-records", default="",
                    help="pool saved records instead of running (comma-separated files: a "
                    "later file's rows replace the same detector, scenario, size and seed)")
    ap.add_argument("--max-seconds", type=float, default=float("inf"),
                    help="stop submitting organisations after this many seconds")
    ap.add_argument("--write-docs", action="store_true",
                    help="put the table into docs/validity.md between the scoreboard markers")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if a.from_records:
        files = [f for f in a.from_records.split(",") if f]
        if a.records and any(Path(a.records).resolve() == Path(f).resolve() for f in files):
            ap.error(f"--records {a.records} is one of the --from-records inputs; write the "
                     "pooled records to a new file (outputs never overwrite inputs)")
        recs = _pool_records(files)
        if a.records:                   # the pooled records, written atomically
            tmp = Path(a.records).with_suffix(".tmp.csv")
            recs.sort_values(KEY, kind="mergesort").to_csv(tmp, index=False)
            os.replace(tmp, a.records)
    else:
        seeds = 2 if a.quick else a.seeds
        if a.first_seed < 0 or a.first_seed + seeds > 1000:
            ap.error(f"--first-seed {a.first_seed} with --seeds {seeds} leaves 0..999 (a seed "
                     "is n_people*1000 + i, i < 1000)")
        sizes = [150] if a.quick else [int(s) for s in a.sizes.split(",") if s]
        names = [s for s in a.only.split(",") if s] or list(SCENARIOS)
        unknown = sorted(set(names) - set(SCENARIOS))
        if unknown:
            ap.error(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
        dets = [d for d in a.detectors.split(",") if d] or None
        # seeds outermost so a time limit leaves every scenario with some organisations
        tasks = [(n, size, 1000 * size + s, dets)
                 for s in range(a.first_seed, a.first_seed + seeds) for size in sizes
                 for n in names]
        out = []
        if a.jobs > 1:
            with ProcessPoolExecutor(a.jobs) as ex:
                futs = []
                for t in tasks:
                    futs.append(ex.submit(_one, t))
                for f in as_completed(futs):
                    out.append(f.result())
                    _progress(len(out), len(tasks), t0)
                    _checkpoint(out, a.records)
                    if time.perf_counter() - t0 > a.max_seconds:
                        for g in futs:
                            g.cancel()
                        break
        else:
            for t in tasks:
                if time.perf_counter() - t0 > a.max_seconds:
                    break
                out.append(_one(t))
                _progress(len(out), len(tasks), t0)
                _checkpoint(out, a.records)
        recs = pd.concat([r for r in out if len(r)], ignore_index=True)
        recs = recs.sort_values(["detector", "scenario", "n_people", "seed"],
                                kind="mergesort").reset_index(drop=True)
        if a.records:                   # written atomically
            tmp = Path(a.records).with_suffix(".tmp.csv")
            recs.to_csv(tmp, index=False)
            os.replace(tmp, a.records)
            # the run finished: its checkpoint is stale beside the final records
            Path(a.records).with_suffix(".partial.csv").unlink(missing_ok=True)
    board = sb.scoreboard(recs)
    table = sb.to_markdown(board)
    print(table)
    secs = recs.groupby("detector")["seconds"].agg(["count", "mean", "max"])
    print("\nseconds per organisation (detector: runs, mean, max)")
    for det, r in secs.iterrows():
        print(f"  {det}: {int(r['count'])}, {r['mean']:.2f}, {r['max']:.2f}")
    failing = board[board["passed"] == "NO"]
    print(f"\n{len(board)} rows, {int((board['passed'] == 'yes').sum())} bounds met, "
          f"{len(failing)} not met; wall {time.perf_counter() - t0:.0f} s")
    # a detector's exception is recorded, not raised (one broken detector must not stop
    # the run): say so loudly and fail the run, or its organisations silently go missing
    errors = recs[recs["status"].astype(str).str.startswith("n/a")]
    if len(errors):
        print(f"\nDETECTOR ERRORS in {len(errors)} organisation(s) (left out of the rows "
              "above):", file=sys.stderr)
        print(errors[["detector", "scenario", "n_people", "seed", "status"]]
              .to_string(index=False), file=sys.stderr)
    if a.write_docs:
        path = ROOT / "docs" / "validity.md"
        text = path.read_text()
        i, j = text.index(BEGIN), text.index(END)
        path.write_text(text[:i + len(BEGIN)] + "\n\n" + table + "\n\n" + text[j:])
    return 1 if len(errors) else 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    raise SystemExit(main())
