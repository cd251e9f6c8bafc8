"""Is the change test calibrated when the control is noisy? (onesided16 finding, #18)

Ring organisations of 20 people (each serves its next two and is served back; every
direction ~``rate`` services a year, P00-P01 150), every event's quality i.i.d. normal:
nothing is planted, so every direction's change p should be uniform. Printed: the share
of tested directions with ``p_change`` at most 0.05 and 0.01, per event rate and width of
the control's time-local window (``control_period_days``: 28, the default, and 3650, a
year-wide control that is constant in time).

    python benchmarks/change_null16.py --seeds 40 --rates 25,40,100,200 > benchmarks/change_null16.txt
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
import icnet  # noqa: E402


def ring(seed, rate):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(20):
        for j in (i + 1, i + 2):
            a, b = f"P{i:02d}", f"P{j % 20:02d}"
            for pr, cl in ((a, b), (b, a)):
                n = rng.poisson(150 if (a, b) == ("P00", "P01") else rate)
                rows.append(pd.DataFrame({"provider": pr, "client": cl,
                                          "t": rng.uniform(0, 365, n)}))
    ev = pd.concat(rows, ignore_index=True)
    q = rng.normal(size=len(ev))
    ev["requested_at"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(ev.pop("t"), "D")
    ev["delay_hours"] = np.exp(2 - 0.5 * q + rng.normal(0, 0.3, len(ev)))
    ev["satisfaction"] = np.clip(np.round(3.5 + 0.9 * q), 1, 5)
    return icnet.from_events(ev)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--rates", default="25,40,100,200")
    ap.add_argument("--widths", default="28,3650")
    a = ap.parse_args()
    print(f"# {' '.join(sys.argv)}; icnet {icnet.__version__}")
    print("| services a year per relation | control window (days) | directions | "
          "P(p <= 0.05) | P(p <= 0.01) |")
    print("|---|---|---|---|---|")
    t0 = time.perf_counter()
    for rate in map(int, a.rates.split(",")):
        for w in map(float, a.widths.split(",")):
            ps = []
            for seed in range(a.seeds):
                s = icnet.retaliation_spirals(ring(seed, rate), seed=seed, n_perm=199,
                                              control_period_days=w)
                t = s[s["kind"] != "insufficient"]
                ps.append(np.r_[t["p_change_ab"].to_numpy(), t["p_change_ba"].to_numpy()])
            p = np.concatenate(ps)
            p = p[np.isfinite(p)]
            print(f"| {rate} | {w:g} | {len(p)} | {(p <= 0.05).mean():.3f} | "
                  f"{(p <= 0.01).mean():.3f} |", flush=True)
    print(f"# {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
