"""Benchmark ``icnet.retaliation_spirals`` on a large generated organisation.

Run: ``python benchmarks/bench_spirals.py [--people 20000] [--repeats 3] [--n-perm 499]``.

The organisation comes from ``icnet.synth.organisation`` with ``events_per_person=250``
(20,000 people give about 5 M events). The network is built once; then
``retaliation_spirals`` is timed ``--repeats`` times (median printed) and run once more
under ``tracemalloc`` for the peak of memory it allocates itself (numpy and pandas report
their buffers to tracemalloc). The process peak RSS (``ru_maxrss``) is printed too.
Machines here are shared: read the figures as orders of magnitude.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
import warnings

import numpy as np

import icnet
from icnet import synth


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--events-per-person", type=int, default=250)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-perm", type=int, default=499)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-turn-taking", dest="turn_taking", action="store_false",
                    help="time the sensitive screen without the turn test "
                         "(turn_taking=False; the turn test is the default since 0.2)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"cores: {os.cpu_count()}, numpy {np.__version__}, icnet {icnet.__version__}",
          flush=True)
    t = time.perf_counter()
    org = synth.organisation(n_people=args.people, seed=args.seed,
                             events_per_person=args.events_per_person)
    net = org.network()
    print(f"organisation: {args.people:,} people, {len(net.events):,} events, "
          f"{len(net.edges):,} relations (generated and built in "
          f"{time.perf_counter() - t:.1f} s)", flush=True)
    times, cpu = [], []
    for i in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        res = icnet.retaliation_spirals(net, n_perm=args.n_perm, seed=i,
                                        turn_taking=args.turn_taking)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        print(f"  run {i + 1}: {times[-1]:.1f} s (CPU {cpu[-1]:.1f} s)", flush=True)
    tracemalloc.start()
    icnet.retaliation_spirals(net, n_perm=args.n_perm, seed=0, turn_taking=args.turn_taking)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kinds = res["kind"].value_counts().to_dict()
    print(f"retaliation_spirals(n_perm={args.n_perm}, turn_taking={args.turn_taking}): "
          f"median {np.median(times):.1f} s over "
          f"{args.repeats} runs (min {min(times):.1f}, max {max(times):.1f}); CPU median "
          f"{np.median(cpu):.1f} s (on a shared machine the CPU time is the comparable one)")
    print(f"peak memory allocated by the call (tracemalloc): {peak / 2**30:.2f} GiB; "
          f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    print(f"pairs: {len(res):,} reciprocal, {res.attrs['n_tested']:,} tested "
          f"({2 * res.attrs['n_tested']:,} directions x {args.n_perm} shifts); kinds {kinds}")
    truth = {(s["a"], s["b"]) for s in org.truth.spirals}
    found = set(zip(res.loc[res.kind == "spiral", "a"], res.loc[res.kind == "spiral", "b"]))
    print(f"planted spirals found: {len(truth & found)} of {len(truth)}; "
          f"other pairs called spiral: {len(found - truth)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
