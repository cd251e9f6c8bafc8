"""Time every public analysis on generated organisations and write benchmarks/RESULTS.md.

Run: ``python benchmarks/run.py [--sizes 500 20000] [--out benchmarks/RESULTS.md]``.
Each size: ``icnet.synth.organisation`` (events_per_person=250, so 20,000 people give about
5 M events), then each step timed once in this process with the growth of the peak RSS
(Linux ``ru_maxrss``) printed beside it; finally the whole ``icnet analyze`` on the same
organisation written as Parquet, in a fresh process (wall time and its peak RSS). Machines
here are shared and noisy: read the numbers as orders of magnitude, and re-run before
comparing. Only this script's section of RESULTS.md ("## Every analysis") is replaced; the
other scripts' sections are kept.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import icnet
from _results import write_section
from icnet import synth


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_size(n_people: int, seed: int = 0) -> list[tuple]:
    rows = []

    def step(name, fn):
        t = time.perf_counter()
        before = _peak_gib()
        out = fn()
        rows.append((n_people, name, time.perf_counter() - t, _peak_gib(), _peak_gib() - before))
        print(f"{n_people:>7} {name:<28} {rows[-1][2]:8.2f} s   peak RSS {rows[-1][3]:5.2f} GiB",
              flush=True)
        return out

    org = step("synth.organisation", lambda: synth.organisation(
        n_people=n_people, seed=seed, events_per_person=250))
    rows[-1] = rows[-1][:1] + (f"synth.organisation ({len(org.events):,} events)",) + rows[-1][2:]
    net = step("from_events", lambda: org.network())
    step("edges (aggregation)", lambda: net.edges)
    step("service_quality", lambda: icnet.service_quality(net))
    step("agreement_compliance", lambda: icnet.agreement_compliance(net))
    step("bottlenecks", lambda: icnet.bottlenecks(net))
    step("bottlenecks (unit)", lambda: icnet.bottlenecks(net, level="unit"))
    step("critical_path", lambda: icnet.critical_path(net))
    step("conflict_cycles", lambda: icnet.conflict_cycles(net))
    step("balance (unit)", lambda: icnet.balance(net, level="unit"))
    step("dyad_census", lambda: icnet.dyad_census(net))
    step("retaliation_spirals", lambda: icnet.retaliation_spirals(net))
    step("health", lambda: icnet.health(net))
    step("actions", lambda: icnet.actions(net))
    out = Path("benchmarks/_out") / str(n_people)
    step("report (whole analysis)", lambda: icnet.report(net, out / "report.html", tables=True))
    rows.append(_cli_analyze(org, n_people))
    return rows


def _cli_analyze(org, n_people):
    """The whole ``icnet analyze`` (read Parquet, validate, aggregate, every analysis, the
    report and its tables) in a fresh process: wall time and that process's peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        synth.write(org, tmp, format="parquet")
        cmd = [sys.executable, "-c",
               # VmHWM: this process's own peak (ru_maxrss would carry the parent's over exec)
               "import sys; from icnet.cli import main; rc = main(sys.argv[1:]); "
               "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
               "print(hwm.split()[1], file=sys.stderr); sys.exit(rc)",
               "analyze", f"{tmp}/events.parquet", "--people", f"{tmp}/people.parquet",
               "--agreements", f"{tmp}/agreements.parquet", "--out", f"{tmp}/out", "--quiet"]
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if r.returncode != 0:
            raise RuntimeError(f"icnet analyze failed ({r.returncode}): {r.stderr[-2000:]}")
        peak = int(r.stderr.strip().splitlines()[-1]) / 2**20
    print(f"{n_people:>7} {'icnet analyze (CLI, Parquet)':<28} {wall:8.2f} s   "
          f"peak RSS {peak:5.2f} GiB (its own process)", flush=True)
    return (n_people, "icnet analyze (CLI, Parquet; own process)", wall, peak, peak)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 20000])
    ap.add_argument("--out", default="benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = []
    for n in args.sizes:
        rows += run_size(n)
    df = pd.DataFrame(rows, columns=["people", "step", "seconds", "peak_rss_gib", "rss_growth_gib"])
    lines = ["## Every analysis", "",
             f"Machine: {os.cpu_count()} cores, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
             f"Python {platform.python_version()}, numpy {np.__version__}, pandas "
             f"{pd.__version__}, icnet {icnet.__version__}. Generated by "
             "`python benchmarks/run.py`; one run per step (shared machine: noisy).", "",
             "| people | step | seconds | peak RSS (GiB) |", "|---:|---|---:|---:|"]
    for r in df.itertuples():
        lines.append(f"| {r.people:,} | {r.step} | {r.seconds:.2f} | {r.peak_rss_gib:.2f} |")
    for n in args.sizes:
        sub = df[df.people == n].set_index("step")
        cli = sub.loc[sub.index.str.startswith("icnet analyze")].iloc[0]
        lines += ["", f"Whole analysis for {n:,} people: `icnet analyze` (Parquet in, report and "
                  f"tables out, every analysis once) **{cli['seconds']:.1f} s, peak RSS "
                  f"{cli['peak_rss_gib']:.2f} GiB** in its own process. In this process, "
                  "read + aggregate + the report: "
                  f"{sub.loc[['from_events', 'edges (aggregation)', 'report (whole analysis)'], 'seconds'].sum():.1f} s. "
                  "`health` and `actions` alone each re-run the analyses they summarise."]
    lines += ["", "200,000 people / 50 M events do not fit this table's in-process run: they go "
              "through Dask (`benchmarks/bench_dask.py`, section below)."]
    write_section(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
