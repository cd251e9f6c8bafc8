"""Benchmark: building a ServiceNetwork from a 20,000-person, 5 M-event log in memory.

Target (issue 2): ``icnet.from_events`` <= 10 s and <= 3 GiB peak on a 2-core machine.

Run: ``python benchmarks/bench_build.py [--people 20000] [--events 5000000] [--repeat 3]``.
Prints the median build time, the edge aggregation time and the peak memory
(peak RSS of the process minus its RSS once the input frame is in memory, and
the process's peak RSS). Generation happens first; its own peak is lower than
the build's at these sizes, which the printed generation RSS shows.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import numpy as np
import pandas as pd

import icnet


def make_log(n_people: int, n_events: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A heavy-tailed random service log (vectorised; not a planted organisation)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{i:06d}" for i in range(n_people)], dtype=object)
    activity = rng.pareto(1.5, n_people) + 1
    # each person has ~20 habitual clients: sample providers by activity, clients near them
    prov = rng.choice(n_people, n_events, p=activity / activity.sum())
    offs = rng.integers(1, 40, n_events) * rng.choice([-1, 1], n_events)
    cli = (prov + offs) % n_people
    t0 = np.datetime64("2025-01-01T00:00:00", "s")
    req = t0 + rng.integers(0, 365 * 86400, n_events).astype("timedelta64[s]")
    delay = rng.lognormal(2.5, 1.0, n_events)
    deliv = req + (delay * 3600).astype("timedelta64[s]")
    open_ = rng.random(n_events) < 0.02
    sat = rng.integers(1, 6, n_events).astype(float)
    sat[rng.random(n_events) < 0.35] = np.nan
    events = pd.DataFrame({
        "event_id": np.char.add("E", np.arange(n_events).astype(str)).astype(object),
        "provider": ids[prov], "client": ids[cli],
        "requested_at": req.astype("datetime64[ns]"),
        "delivered_at": np.where(open_, np.datetime64("NaT"), deliv).astype("datetime64[ns]"),
        "satisfaction": sat,
        "service": np.array(["it", "maintenance", "information", "document"],
                            dtype=object)[prov % 4],
        "expected_hours": np.where(prov % 4 == 0, 24.0, 48.0),
        "reopened": rng.random(n_events) < 0.05,
    })
    people = pd.DataFrame({"person": ids, "unit": [f"U{i % 60:02d}" for i in range(n_people)],
                           "external_facing": np.arange(n_people) % 60 < 6})
    return events, people


def _rss_now() -> float:
    """Current resident set size in GiB (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    t = time.perf_counter()
    events, people = make_log(args.people, args.events)
    print(f"generated {len(events):,} events / {args.people:,} people in "
          f"{time.perf_counter() - t:.1f} s (RSS {_rss_now():.2f} GiB, peak so far "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB)", flush=True)
    builds, aggs = [], []
    base = _rss_now()
    for _ in range(args.repeat):
        t = time.perf_counter()
        net = icnet.from_events(events, people=people)
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        e = net.edges
        t_agg = time.perf_counter() - t
        builds.append(t_build)
        aggs.append(t_agg)
        del net
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB → GiB on Linux
    build_peak = rss - base
    total = [a + b for a, b in zip(builds, aggs)]
    print(f"edges: {len(e):,}; nodes: {args.people:,}")
    print(f"from_events (read + validate + sort)  median {statistics.median(builds):6.2f} s "
          f"(runs: {', '.join(f'{x:.2f}' for x in builds)})")
    print(f"edge aggregation + shrinkage          median {statistics.median(aggs):6.2f} s")
    print(f"total build                           median {statistics.median(total):6.2f} s "
          f"(target <= 10 s)")
    print(f"peak memory added by the build        {build_peak:6.2f} GiB (peak RSS minus RSS "
          f"with the input loaded; target <= 3 GiB)")
    print(f"process peak RSS incl. the input      {rss:6.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
