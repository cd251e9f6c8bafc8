"""turn_null18 (issue #18): is the turn test calibrated on dense relations?

perm17 found the change test anti-conservative on dense relations (100–200 services a year
per relation) because the time-local control's own noise was treated as exchangeable; the
turn test permutes labels of controlled values too, and turn_null15 measured its
calibration only at the suite's density (~25 a year). Here: the ring organisations of
``change_null16.py`` (20 people, each serving its next two and served back; ``rate``
services a year per relation, i.i.d. normal quality), with a **joint bad period** planted
on every pair — both directions 1.5 SD worse in the same 28 days, at a random time — so
many pairs drop both ways in one exchange with no turns taken: the turn test's null. Printed
per rate: the pairs in the turn test's family (``p_turn`` finite), the share with
``p_turn`` ≤ 0.05 / 0.20, and the Kolmogorov–Smirnov distance to the uniform.

    python benchmarks/turn_null18.py --seeds 20 --rates 25,100,200 > benchmarks/turn_null18.txt
"""
import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
import icnet  # noqa: E402

_spec = importlib.util.spec_from_file_location("change_null16", ROOT / "benchmarks" / "change_null16.py")
_ring = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ring)


def joint_ring(seed, rate, shift=1.5, days=28.0):
    """The ring with every pair's two directions worse by ``shift`` SD in one shared window."""
    net = _ring.ring(seed, rate)
    ev = net.events[["provider", "client", "requested_at", "delay_hours", "satisfaction"]].copy()
    rng = np.random.default_rng(10_000 + seed)
    a = np.minimum(ev["provider"].astype(str), ev["client"].astype(str))
    b = np.maximum(ev["provider"].astype(str), ev["client"].astype(str))
    key = pd.Series(a + "|" + b)
    pairs = np.sort(key.unique())
    start = pd.Series(rng.uniform(30, 365 - 30 - days, len(pairs)), index=pairs)
    t = ((ev["requested_at"] - pd.Timestamp("2025-01-01")) / pd.Timedelta(days=1)).to_numpy()
    s0 = start.reindex(key).to_numpy()
    hit = (t >= s0) & (t < s0 + days)
    # the ring's quality q enters satisfaction as 3.5 + 0.9 q and log-delay as -0.5 q
    sat = ev["satisfaction"].to_numpy(float)
    ev["satisfaction"] = np.where(hit, np.clip(np.round(sat - 0.9 * shift), 1, 5), sat)
    ev["delay_hours"] = np.where(hit, ev["delay_hours"] * np.exp(0.5 * shift), ev["delay_hours"])
    return icnet.from_events(ev)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rates", default="25,100,200")
    a = ap.parse_args()
    print(f"# {' '.join(sys.argv)}; icnet {icnet.__version__}")
    print("| services a year per relation | organisations | pairs in the family | "
          "P(p_turn <= 0.05) | P(p_turn <= 0.20) | KS D (p) | orgs with a false spiral |")
    print("|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for rate in map(int, a.rates.split(",")):
        ps, false = [], 0
        for seed in range(a.seeds):
            s = icnet.retaliation_spirals(joint_ring(seed, rate), seed=seed, n_perm=199)
            ps.append(s["p_turn"].to_numpy(float))
            false += int((s["kind"] == "spiral").any())
        p = np.concatenate(ps)
        p = p[np.isfinite(p)]
        ks = stats.kstest(p, "uniform") if len(p) else None
        print(f"| {rate} | {a.seeds} | {len(p)} | {(p <= 0.05).mean():.3f} | "
              f"{(p <= 0.20).mean():.3f} | "
              + (f"{ks.statistic:.3f} ({ks.pvalue:.2g})" if ks else "—")
              + f" | {false} |", flush=True)
    print(f"# {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
