"""Benchmark health() and actions() (issue 8) on a generated organisation.

Run: ``python benchmarks/bench_health.py [--people 20000] [--repeats 3]``.

The organisation comes from ``icnet.synth.organisation(n_people, events_per_person=250)``
(20,000 people give about 5 M events). Printed, for each step: the median wall time of
``--repeats`` runs (steps that re-run every analysis are run once unless ``--repeats-full``)
and the process's peak resident memory (Linux ``ru_maxrss``) after it. ``health`` and
``actions`` as a user calls them re-run every analysis they summarise (quality,
compliance, bottlenecks at two levels, conflict cycles at two levels, retaliation
spirals); the ``(shared findings)`` lines time their own work on findings computed once,
as the report does.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import warnings

import icnet
from icnet import synth
from icnet.analysis.health import findings


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--events-per-person", type=int, default=250)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--repeats-full", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    def report(name, secs, extra=""):
        print(f"{name:<38} {secs:8.2f} s   peak RSS {_peak_gib():5.2f} GiB  {extra}",
              flush=True)

    s, org = _time(lambda: synth.organisation(n_people=args.people, seed=args.seed,
                                              events_per_person=args.events_per_person), 1)
    report("synth.organisation", s, f"({len(org.events):,} events)")
    s, net = _time(org.network, 1)
    report("from_events", s, f"({len(net.edges):,} edges)")
    del org
    s, f = _time(lambda: findings(net), 1)
    report("findings (every analysis once)", s)
    s, h = _time(lambda: icnet.health(net, _found=f), args.repeats)
    report("health (shared findings)", s, f"({len(h)} units, median of {args.repeats})")
    s, a = _time(lambda: icnet.actions(net, _found=f), args.repeats)
    report("actions (shared findings)", s, f"({len(a)} actions, median of {args.repeats})")
    s, hp = _time(lambda: icnet.health(net, level="person", individuals=True, _found=f),
                  args.repeats)
    report("health person level (shared)", s, f"({len(hp):,} people)")
    s, _ = _time(lambda: icnet.health(net), args.repeats_full)
    report("health(net)", s, f"(median of {args.repeats_full})")
    s, _ = _time(lambda: icnet.actions(net), args.repeats_full)
    report("actions(net)", s, f"(median of {args.repeats_full})")
    s, w = _time(lambda: icnet.what_if(net, remove=str(h["unit"].iloc[0])), 1)
    report("what_if(remove=<worst unit>)", s,
           f"({len(w.attrs['lost_only_provider'])} lost only providers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
