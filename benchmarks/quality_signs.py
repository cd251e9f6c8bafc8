"""How many signs of service_quality change with a rating-variance variant (qual16).

Per level, on the validity suite's quality scenarios: ``service_quality(net,
min_group_size=1)`` with the library's defaults against the same call with
``_shrink.INTERVAL_VARIANCE = "bounded"`` (variance function for the intervals only) and
with ``_shrink.VARIANCE = "bounded"`` (the whole model); counts of relations whose
``sign`` changed (from -> to), and the largest change of ``satisfaction_shrunk`` and
``lfsr``.

    python benchmarks/quality_signs.py --seeds 60 --people 150 --seed-offset 150500 --levels unit
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

import numpy as np

import icnet
from icnet import _shrink
from icnet.validity import scenarios

SCEN = ("baseline", "heavy_raters", "lenient_harsh", "sparse_ceiling")
VARIANTS = {"interval_variance=bounded": ("INTERVAL_VARIANCE", "bounded"),
            "variance=bounded": ("VARIANCE", "bounded")}


def _edges(net, level):
    return icnet.service_quality(net, level=None if level == "person" else "unit",
                                 min_group_size=1).edges


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--people", type=int, default=150)
    ap.add_argument("--seed-offset", type=int, default=0)
    ap.add_argument("--levels", default="unit")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    res = {(lv, v): [Counter(), 0.0, 0.0, 0] for lv in a.levels.split(",") for v in VARIANTS}
    for name in SCEN:
        for s in range(a.seed_offset, a.seed_offset + a.seeds):
            net = scenarios.generate(name, n_people=a.people, seed=s).network()
            for lv in a.levels.split(","):
                base = _edges(net, lv)
                for v, (attr, val) in VARIANTS.items():
                    old = getattr(_shrink, attr)
                    setattr(_shrink, attr, val)
                    try:
                        alt = _edges(net, lv)
                    finally:
                        setattr(_shrink, attr, old)
                    r = res[(lv, v)]
                    ch = base["sign"].to_numpy() != alt["sign"].to_numpy()
                    r[0].update(zip(base["sign"].to_numpy()[ch], alt["sign"].to_numpy()[ch]))
                    for k, col in ((1, "satisfaction_shrunk"), (2, "lfsr")):
                        dif = np.abs(base[col].to_numpy(float) - alt[col].to_numpy(float))
                        r[k] = max(r[k], float(np.nanmax(dif)) if np.isfinite(dif).any() else 0.0)
                    r[3] += len(base)
    print("| level | variant | relations | signs changed | from -> to | max |Δ shrunk| | max |Δ lfsr| |")
    print("|---|---|---:|---:|---|---:|---:|")
    for (lv, v), (cnt, ds, dl, tot) in res.items():
        moves = ", ".join(f"{f} -> {t}: {k}" for (f, t), k in sorted(cnt.items()))
        print(f"| {lv} | {v} | {tot} | {sum(cnt.values())} | {moves or '–'} | {ds:.3g} | {dl:.3g} |")


if __name__ == "__main__":
    main()
