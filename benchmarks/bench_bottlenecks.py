"""Validity and speed of icnet.bottlenecks (issue 19) on small generated organisations.

Run: ``python benchmarks/bench_bottlenecks.py [--seeds 40] [--speed-people 0]``.

Organisations come from :func:`scenario` below (events only: no agreements,
services or ratings; open requests at the end of the log). Null kinds (nothing
planted): ``null``, ``slowdown`` (every delay ×2 in the second half: an
organisation-wide slowdown), ``small_peers_null`` (units of 5). Planted kinds
(one bottleneck, ×``factor`` slower than its own base):

- ``slow``: a provider in the middle of the chain;
- ``backlog``: its delays grow ×(1 + 6 t) over the period (t in 0..1), so its
  open requests pile up at the end;
- ``deep_chain``: a provider with 4 clients in the deepest unit of the chain
  (maintenance → production → customer);
- ``spof``: the only provider of a one-person unit (no alternative provider,
  peers = everybody);
- ``small_peers``: a provider in a unit of 5.

Printed per kind: the share of organisations with any flag (nulls) or with the
planted provider flagged and ranked within the top k = 1 (planted). With
``--speed-people N`` also the time of ``bottlenecks`` on
``synth.organisation(N, events_per_person=250)``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import icnet

NULL_KINDS = ["null", "slowdown", "small_peers_null"]
PLANTED_KINDS = ["slow", "backlog", "deep_chain", "spof", "small_peers"]


def scenario(kind: str = "null", seed: int = 0, *, n_units: int = 6, size: int = 8,
             days: int = 180, rate: float = 40.0, factor: float = 4.0):
    """A small organisation of events only, and the planted provider (or None).

    Units ``U0`` (customer-facing) … ``U{n-1}``: unit i serves unit i − 1 (3–5
    clients per person) and one or two people elsewhere. Delays: unit base
    (lognormal, median 12 h, σ 0.5) × person (σ 0.3) × request (σ 0.6).
    Requests not delivered by the end are open (no delay).
    """
    rng = np.random.default_rng(seed)
    sizes = np.full(n_units, size)
    if kind in ("small_peers", "small_peers_null"):
        sizes[:] = 5
    if kind == "spof":
        sizes[2] = 1
    unit_of = np.repeat(np.arange(n_units), sizes)
    n = len(unit_of)
    members = [np.flatnonzero(unit_of == u) for u in range(n_units)]
    rel = []
    for i in range(n):
        u = unit_of[i]
        if u == 0:
            continue
        down = members[u - 1]
        k = min(len(down), int(rng.integers(3, 6)))
        rel += [(i, int(c)) for c in rng.choice(down, k, replace=False)]
        others = np.flatnonzero((unit_of != u) & (unit_of != u - 1))
        rel += [(i, int(c)) for c in rng.choice(others, int(rng.integers(1, 3)), replace=False)]
    if kind == "spof":          # the one-person unit serves every member of the unit below
        sp = int(members[2][0])
        rel += [(sp, int(c)) for c in members[1]]
    rel = np.unique(np.array(rel), axis=0)
    planted = None
    if kind in ("slow", "backlog", "small_peers"):
        planted = int(rng.choice(members[2]))
    elif kind == "deep_chain":
        planted = int(rng.choice(members[n_units - 1]))
        down = members[n_units - 2]
        rel = rel[rel[:, 0] != planted]
        rel = np.r_[rel, [(planted, int(c)) for c in rng.choice(down, 4, replace=False)]]
    elif kind == "spof":
        planted = int(members[2][0])
    P, C = rel[:, 0], rel[:, 1]
    n_ev = rng.poisson(rate * rng.lognormal(0, 0.5, len(P)))
    r = np.repeat(np.arange(len(P)), n_ev)
    N = len(r)
    t = rng.random(N)
    start = pd.Timestamp("2025-01-01")
    base = 12 * rng.lognormal(0, 0.5, n_units)[unit_of] * rng.lognormal(0, 0.3, n)
    delay = base[P[r]] * rng.lognormal(0, 0.6, N)
    if kind == "slowdown":
        delay *= np.where(t > 0.5, 2.0, 1.0)
    if planted is not None:
        m = P[r] == planted
        delay[m] *= (1 + 6 * t[m]) if kind == "backlog" else factor
    req = start + pd.to_timedelta(t * days * 86400, unit="s")
    end = start + pd.Timedelta(days=days)
    done = req + pd.to_timedelta(delay, unit="h")
    open_ = np.asarray(done > end)
    ids = np.array([f"p{i:03d}" for i in range(n)], dtype=object)
    ev = pd.DataFrame({"provider": ids[P[r]], "client": ids[C[r]], "requested_at": req,
                       "delay_hours": np.where(open_, np.nan, delay)})
    people = pd.DataFrame({"person": ids, "unit": [f"U{u}" for u in unit_of],
                           "external_facing": unit_of == 0})
    net = icnet.from_events(ev, people=people)
    return net, (ids[planted] if planted is not None else None)


def run_validity(seeds: int):
    rows = []
    for kind in NULL_KINDS + PLANTED_KINDS:
        hits = []
        for s in range(seeds):
            net, truth = scenario(kind, seed=1000 + s)
            b = icnet.bottlenecks(net)
            if truth is None:
                hits.append(bool(b["is_bottleneck"].any()))
            else:
                flagged = set(b.loc[b["is_bottleneck"], "node"])
                hits.append(truth in flagged and truth in set(b["node"].head(1)))
        rows.append((kind, "null: orgs with any flag" if kind in NULL_KINDS else
                     "planted: flagged and top-1", float(np.mean(hits)), seeds))
    return pd.DataFrame(rows, columns=["kind", "measure", "rate", "organisations"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--speed-people", type=int, default=0)
    a = ap.parse_args(argv)
    t = time.perf_counter()
    print(run_validity(a.seeds).to_string(index=False))
    print(f"validity: {time.perf_counter() - t:.1f} s")
    if a.speed_people:
        from icnet import synth
        org = synth.organisation(n_people=a.speed_people, events_per_person=250, seed=0)
        net = org.network()
        icnet.bottlenecks(net)          # warm: edges, caches
        t = time.perf_counter()
        b = icnet.bottlenecks(net)
        print(f"bottlenecks, {a.speed_people} people, {net.n_events} events: "
              f"{time.perf_counter() - t:.2f} s; flagged {int(b['is_bottleneck'].sum())}")


if __name__ == "__main__":
    main()
