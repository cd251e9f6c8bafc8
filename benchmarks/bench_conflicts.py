"""Conflict cycles, dyad census and balance on a 20,000-person / ~5 M-event organisation.

Run: ``python benchmarks/bench_conflicts.py [--people 20000] [--repeat 3]``.

The organisation comes from ``icnet.synth.organisation(events_per_person=250)``; the
network is built once (``from_events``) and its edge table aggregated once (reported
separately: it is shared by every analysis). Each analysis is then timed ``--repeat``
times (median printed) with the peak of Python allocations during one run
(``tracemalloc``) and the process's peak RSS (``ru_maxrss``). The issue's budget:
``conflict_cycles`` on 20,000 people / 5 M events in at most 30 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
import warnings

import icnet
from icnet import synth
from icnet.analysis.conflicts import balance, dyad_census


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _measure(name, fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{name:<42} median {statistics.median(times):7.3f} s  (min {min(times):.3f}, "
          f"max {max(times):.3f}, n={repeat})  peak alloc {peak:8.1f} MiB  "
          f"peak RSS {_rss_gib():.2f} GiB", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    t = time.perf_counter()
    org = synth.organisation(n_people=args.people, seed=args.seed, events_per_person=250)
    print(f"synth.organisation: {len(org.events):,} events, {args.people:,} people "
          f"in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    net = org.network()
    print(f"from_events: {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    e = net.edges
    t_edges = time.perf_counter() - t
    print(f"edge aggregation (shared by all analyses): {t_edges:.1f} s, {len(e):,} relations; "
          f"peak RSS {_rss_gib():.2f} GiB", flush=True)
    t = time.perf_counter()
    units = net.by("unit")
    units.edges
    print(f"by('unit') + unit edges: {time.perf_counter() - t:.1f} s", flush=True)

    c = _measure("conflict_cycles(net)", lambda: icnet.conflict_cycles(net), args.repeat)
    print(f"    {len(c)} cycles, {c.attrs['n_bad_edges']:,} bad relations, "
          f"{c.attrs['components']} components searched, {c.attrs['n_paths']:,} paths, "
          f"truncated={c.attrs['truncated']}")
    planted = {tuple(x) for x in org.truth.conflict_cycles}
    print(f"    planted cycles found: "
          f"{sum(any(set(p) == set(f) for f in c['cycle']) for p in planted)}/{len(planted)}")
    cu = _measure("conflict_cycles(net, level='unit')",
                  lambda: icnet.conflict_cycles(net, level="unit"), args.repeat)
    print(f"    {len(cu)} unit-level cycles")
    _measure("conflict_cycles(net, max_length=2)",
             lambda: icnet.conflict_cycles(net, max_length=2), args.repeat)
    _measure("dyad_census(net, n_null=200)", lambda: dyad_census(net, n_null=200),
             args.repeat)
    b = _measure("balance(net, level='unit')", lambda: balance(net, level="unit"),
                 args.repeat)
    print(f"    unit level: L = {b.frustration}, optimal={b.optimal}, "
          f"{b.params['n_relations']} signed relations")
    bp = _measure("balance(net) (person level, auto)", lambda: balance(net), 1)
    print(f"    person level: L = {bp.frustration}, method={bp.method}, optimal={bp.optimal}, "
          f"lower bound {bp.lower_bound:g}, {bp.params['n_relations']:,} signed relations")
    t = time.perf_counter()
    icnet.conflict_cycles(org.network())
    print(f"cold: from_events + edges + conflict_cycles: {time.perf_counter() - t:.1f} s "
          f"(budget 30 s for conflict_cycles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
