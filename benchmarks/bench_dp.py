"""Utility cost of the differential-privacy mode (#20) on planta.

Run: ``python benchmarks/bench_dp.py [--repeats 20]``.

For each ε it releases ``icnet.privacy.dp_quality(planta, epsilon=ε, level="unit")``
``--repeats`` times and prints the mean absolute error of the units' DP means against
(a) the same estimand without noise (raters' means, contribution-bounded: the noise cost)
and (b) the published ``service_quality(level="unit")`` unit means (the whole cost), the
share of units left without a mean (noisy count < 1), and the time per release.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import icnet
from icnet import _dp, privacy


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.1, 0.5, 1.0, 2.0, 5.0, 20.0])
    a = ap.parse_args(argv)
    net = icnet.datasets.load("planta")
    pub = icnet.service_quality(net, level="unit", min_group_size=1).units.set_index(
        "unit")["satisfaction_mean"]
    # the noise-free estimand: the same code with the noise switched off
    real = _dp._laplace
    _dp._laplace = lambda v, s, e: np.asarray(v, float)
    try:
        exact = privacy.dp_quality(net, epsilon=1.0).set_index("provider")[
            "satisfaction_mean_dp"]
    finally:
        _dp._laplace = real
    print(f"planta: {len(pub)} units; mean |raters' mean - published mean| without noise "
          f"{(exact - pub).abs().mean():.3f}")
    for eps in a.eps:
        err_n, err_p, miss, ts = [], [], [], []
        for _ in range(a.repeats):
            t = time.perf_counter()
            r = privacy.dp_quality(net, epsilon=eps).set_index("provider")[
                "satisfaction_mean_dp"]
            ts.append(time.perf_counter() - t)
            err_n.append(np.nanmean((r - exact).abs()))
            err_p.append(np.nanmean((r - pub).abs()))
            miss.append(r.isna().mean())
        print(f"eps={eps:5.1f}: MAE vs noise-free {np.mean(err_n):.3f}, vs published "
              f"{np.mean(err_p):.3f} (scale 1-5), units without a mean {np.mean(miss):.0%}, "
              f"{np.median(ts) * 1000:.0f} ms per release")


if __name__ == "__main__":
    main()
