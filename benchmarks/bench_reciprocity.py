"""Calibration, power and speed of ``icnet.reciprocity_test`` (issue #18 point 4).

Run: ``python benchmarks/bench_reciprocity.py [--people 150] [--seeds 20] [--n-perm 99]
[--scenarios a,b,...] [--speed 20000]``.

For every validity-suite scenario (``icnet.validity``: built apart from the detectors)
and seed, one organisation is generated and tested. Printed per scenario: the share of
organisations with the regression's model-based ``p <= 0.05`` and with the turn test's
label-permutation ``p_perm <= 0.05`` (the calibrated p; each with its 95 % Wilson interval),
and the mean estimate. Under
the null and confounder scenarios the shares are the false-positive rates (should be
about 0.05); under the spiral scenarios they are the power. ``--speed N`` times one
call (``n_perm`` as given) on ``icnet.synth.organisation(n_people=N,
events_per_person=250)`` (20,000 people: about 5 M events) instead.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

import icnet
from icnet.validity import generate
from icnet.validity.scoreboard import wilson

NULLS = ["baseline", "common_cause", "joint_bad_periods", "unit_bad_month", "org_slowdown",
         "shock_season", "overload_episodes", "chronic_conflict"]
SPIRALS = ["episodic", "lock_in", "slow_escalation", "delay_only", "between_units"]


def _speed(n_people, n_perm):
    from icnet import synth

    t = time.perf_counter()
    net = synth.organisation(n_people=n_people, seed=0, events_per_person=250).network()
    print(f"organisation: {n_people:,} people, {len(net.events):,} events (built in "
          f"{time.perf_counter() - t:.1f} s)", flush=True)
    t = time.perf_counter()
    r = icnet.reciprocity_test(net, n_perm=n_perm, seed=0)
    print(f"reciprocity_test(n_perm={n_perm}): {time.perf_counter() - t:.1f} s; "
          f"estimate {r.loc[0, 'estimate']:.4f} (SE {r.loc[0, 'se']:.4f}), "
          f"{r.loc[0, 'n_events']:,} events, {r.loc[0, 'n_pairs']:,} pairs")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=150)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--n-perm", type=int, default=99)
    ap.add_argument("--scenarios", default=",".join(NULLS + SPIRALS))
    ap.add_argument("--speed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.speed:
        _speed(args.speed, args.n_perm)
        return 0
    print(f"{args.people} people, seeds 0..{args.seeds - 1}, n_perm {args.n_perm}")
    print(f"{'scenario':<20}{'kind':<8}{'p<=0.05 [95% CI]':<24}{'p_perm<=0.05 [95% CI]':<24}"
          f"{'mean est':>9}{'mean n_pairs':>13}{'s/org':>7}")
    for name in args.scenarios.split(","):
        hits = hp = 0
        est, npairs, secs = [], [], []
        for s in range(args.seeds):
            net = generate(name, n_people=args.people, seed=s).network()
            t = time.perf_counter()
            r = icnet.reciprocity_test(net, n_perm=args.n_perm, seed=s).iloc[0]
            secs.append(time.perf_counter() - t)
            hits += bool(r.p <= 0.05)
            hp += bool(r.p_perm <= 0.05)
            est.append(r.estimate)
            npairs.append(r.n_pairs)
        n = args.seeds
        lo, hi = wilson(hits, n)
        plo, phi = wilson(hp, n)
        kind = "null" if name in NULLS else "power"
        print(f"{name:<20}{kind:<8}{f'{hits / n:.2f} [{lo:.2f}, {hi:.2f}]':<24}"
              f"{f'{hp / n:.2f} [{plo:.2f}, {phi:.2f}]':<24}{np.nanmean(est):>9.3f}"
              f"{np.mean(npairs):>13.0f}{np.mean(secs):>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
