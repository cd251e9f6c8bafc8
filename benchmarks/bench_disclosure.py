"""Benchmark the disclosure control of #20: complementary suppression + LP audit.

Run: ``python benchmarks/bench_disclosure.py [--people 2000 20000] [--events 40]``.

For each organisation size (``icnet.synth.organisation(n, events_per_person=E)``) it prints
the wall time of ``service_quality`` at unit and at person level with the disclosure control
(default) and without it (``individuals=True`` skips it at person level; ``protection=0``
makes the audit accept everything at unit level), the time of the protection step alone,
and the audit's size: sensitive cells, cells certified without LP ("twins"), LPs solved,
complementary suppressions and whether every sensitive cell is safe.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import icnet
from icnet import _disclosure, synth


def _t(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _differencing(q):
    """Small groups recovered by the issue's attack: a published unit mean x count minus its
    published relations, where exactly one relation is hidden."""
    e, u = q.edges, q.units.set_index("unit")
    out = {}
    for p, g in e.groupby("provider"):
        hid = g[g["satisfaction_mean"].isna() & (g["satisfaction_n"] > 0)]
        if len(hid) != 1 or p not in u.index or np.isnan(u.loc[p, "satisfaction_mean"]):
            continue
        vis = g.drop(hid.index)
        s = u.loc[p, "satisfaction_n"] * u.loc[p, "satisfaction_mean"] - (
            vis["satisfaction_n"] * vis["satisfaction_mean"]).sum()
        r = hid.iloc[0]
        if r["n_raters"] < 5:
            out[(p, r["client"])] = round(s / r["satisfaction_n"], 6)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--events", type=float, default=40.0, help="events per person and year")
    a = ap.parse_args(argv)
    planta = icnet.datasets.load("planta")
    for prot in (0.0, None):
        q = icnet.service_quality(planta, level="unit", protection=prot)
        print(f"planta, unit level, protection={prot}: small groups recovered by differencing: "
              f"{_differencing(q) or 'none'}")
    for n in a.people:
        t_gen, net = _t(lambda: synth.organisation(n, events_per_person=a.events, seed=0)
                        .network())
        print(f"people={n} events={net.n_events} person relations={len(net.edges)} "
              f"(generated in {t_gen:.1f} s)")
        for level in ("unit", None):
            name = level or "person"
            t_off, _ = _t(lambda: icnet.service_quality(
                net, level=level, **({"protection": 0.0} if level else {"individuals": True})))
            t_on, q = _t(lambda: icnet.service_quality(net, level=level))
            au = q.edges.attrs["audit"]
            u = net.by(level) if level else net
            edges = q.edges
            prim = {k: getattr(q, k).assign(suppressed=lambda d: d["suppressed_by"]
                                            == "small group") for k in ("edges", "providers")}
            un = q.units.rename(columns={"unit": "provider"}).assign(
                suppressed=lambda d: d["suppressed_by"] == "small group")
            t_prot, _ = _t(lambda: _disclosure.protect_quality(
                u, prim["edges"], prim["providers"], un))
            n_comp = int((edges["suppressed_by"] == "complementary").sum()) + int(
                (q.providers["suppressed_by"] == "complementary").sum())
            print(f"  {name:6s}: service_quality {t_on:6.2f} s with control, {t_off:6.2f} s "
                  f"without; protect alone {t_prot:6.2f} s | relations {len(edges)}, sensitive "
                  f"{len(au)}, twin-certified {int((~au['exact']).sum())}, exact (LP or unlinked) "
                  f"{int(au['exact'].sum())}, complementary {n_comp}, all safe "
                  f"{bool(au['safe'].all()) if len(au) else True}, min width "
                  f"{(au['width'].min() if len(au) else np.nan):.2f}")


if __name__ == "__main__":
    main()
