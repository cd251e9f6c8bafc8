"""Time the figures and the HTML report (median of a few runs, peak RSS growth).

Run: ``python benchmarks/bench_report.py [--people 2000] [--repeats 3]``.
Prints, for the bundled ``planta`` sample (150 people) and a generated organisation:
each ``icnet.plot`` function, ``icnet.health.findings`` (every analysis once) and
``icnet.report`` (findings + scorecard + actions + figures + HTML + CSVs), so the cost of
the report itself is the difference. Peak memory is the process's ``ru_maxrss`` (Linux, KiB).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import icnet  # noqa: E402
from icnet import plot, synth  # noqa: E402
from icnet.analysis.health import findings  # noqa: E402


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(name, fn, repeats):
    times = []
    before = _rss_gib()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        plt.close("all")
    print(f"  {name:<44} median {statistics.median(times):7.2f} s  (n={repeats}, "
          f"peak RSS {_rss_gib():.2f} GiB, +{_rss_gib() - before:.2f})", flush=True)


def bench(label, net, repeats, out):
    print(f"{label}: {len(net.events):,} events, {len(net.node_ids):,} people, "
          f"{net.people['unit'].nunique()} units", flush=True)
    u = net.by("unit")
    b = icnet.bottlenecks(u)
    timed("plot.network_map (unit)", lambda: plot.network_map(u, bottlenecks=b), repeats)
    timed("plot.satisfaction_heatmap (unit)", lambda: plot.satisfaction_heatmap(u), repeats)
    timed("plot.bottleneck_components", lambda: plot.bottleneck_components(b), repeats)
    timed("plot.health_trend", lambda: plot.health_trend(net), repeats)
    sp = icnet.retaliation_spirals(net, n_perm=99)
    sp = sp[sp["kind"] == "spiral"]
    if len(sp):
        a, c = sp.iloc[0]["a"], sp.iloc[0]["b"]
        timed(f"plot.spiral_timeline ({a}, {c})", lambda: plot.spiral_timeline(net, a, c),
              repeats)
    timed("findings (every analysis once)", lambda: findings(net), repeats)
    timed("icnet.report(tables=True)",
          lambda: icnet.report(net, out / label / "report.html", tables=True), repeats)
    size = (out / label / "report.html").stat().st_size
    print(f"  report.html: {size / 1024:.0f} KiB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp())
    bench("planta", icnet.datasets.load("planta"), args.repeats, out)
    org = synth.organisation(n_people=args.people, seed=0)
    bench(f"synth-{args.people}", org.network(), args.repeats, out)


if __name__ == "__main__":
    main()
