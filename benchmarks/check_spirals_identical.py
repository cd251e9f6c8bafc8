"""Check that ``retaliation_spirals`` gives the same table as a saved reference.

Speed work on the spirals detector must not change its output (#18). Run once with the
reference code on ``PYTHONPATH`` to save, then with the changed code to compare:

    PYTHONPATH=/path/to/main/src python benchmarks/check_spirals_identical.py save DIR
    PYTHONPATH=src python benchmarks/check_spirals_identical.py compare DIR

Cases: ``icnet.synth.organisation`` at 2,000 people (seeds 0-2, defaults; seed 0 also with
``turn_taking=False``) and the validity scenarios lock_in, overload_episodes, delay_only and
between_units (unit level) at 150 people on dev seeds 7000000-7000002 (called as the
scoreboard calls the detector: its level, ``n_perm=199``). Every column must be equal
(floats to 1e-12, NaN = NaN) and the ``attrs`` too.
"""

from __future__ import annotations

import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def _cases():
    from icnet import synth
    from icnet.validity import generate
    for s in range(3):
        yield f"synth2000_s{s}", (lambda s=s: synth.organisation(
            n_people=2000, seed=s, events_per_person=250).network()), dict(seed=s)
    yield "synth2000_s0_noturn", (lambda: synth.organisation(
        n_people=2000, seed=0, events_per_person=250).network()), \
        dict(seed=0, turn_taking=False)
    for name in ("lock_in", "overload_episodes", "delay_only", "between_units"):
        for s in range(7_000_000, 7_000_003):
            def mk(name=name, s=s):
                data = generate(name, n_people=150, seed=s)
                level = None
                tr = data.truth.get("spirals")
                if tr is not None and len(tr) and (tr["level"] == "unit").all():
                    level = "unit"
                return data.network(), level
            yield f"{name}_150_s{s}", mk, dict(seed=s, n_perm=199)


def _run():
    import icnet
    out = {}
    for key, mk, kw in _cases():
        t = time.process_time()
        net = mk()
        if isinstance(net, tuple):
            net, level = net
            kw = dict(kw, level=level)
        res = icnet.retaliation_spirals(net, **kw)
        out[key] = res
        print(f"{key}: {len(res)} rows, {time.process_time() - t:.1f} s CPU", flush=True)
    return out


def _same(a, b, col):
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        x, y = np.asarray(a, float), np.asarray(b, float)
        return np.array_equal(np.isnan(x), np.isnan(y)) and np.allclose(
            x[~np.isnan(x)], y[~np.isnan(y)], rtol=0, atol=1e-12)
    return a.astype(object).where(a.notna(), None).tolist() == \
        b.astype(object).where(b.notna(), None).tolist()


def main(argv=None) -> int:
    mode, folder = (argv or sys.argv[1:])[:2]
    warnings.simplefilter("ignore")
    path = Path(folder) / "spirals_reference.pkl"
    got = _run()
    if mode == "save":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(got))
        print(f"saved {len(got)} tables to {path}")
        return 0
    ref = pickle.loads(path.read_bytes())
    bad = 0
    for key, r in ref.items():
        g = got[key]
        if list(g.columns) != list(r.columns) or len(g) != len(r):
            print(f"{key}: columns or rows differ")
            bad += 1
            continue
        diff = [c for c in r.columns if not _same(g[c], r[c], c)]
        if diff or repr(g.attrs) != repr(r.attrs) or not g.index.equals(r.index):
            print(f"{key}: DIFFERENT in {diff or 'attrs/index'}")
            bad += 1
        else:
            print(f"{key}: identical ({len(r)} rows)")
    print("ALL IDENTICAL" if not bad else f"{bad} of {len(ref)} cases differ")
    return int(bool(bad))


if __name__ == "__main__":
    sys.exit(main())
