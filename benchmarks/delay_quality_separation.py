"""How well each variant of the event quality separates planted bad turns (#18, delay9).

For every planted relation of a validity-suite scenario: the mean ``z`` of its usual events
minus the mean ``z`` of its events with a planted loss, in SD of the usual events (the
contrast the change test and the turn test see: both work within a direction), averaged over
the planted relations of an organisation; mean and SD over organisations
(docs/methods/spirals-record.md, "Quality from delay alone").

Usage::

    PYTHONPATH=src python benchmarks/delay_quality_separation.py delay_only 10 150
    PYTHONPATH=src python benchmarks/delay_quality_separation.py episodic 10 150

The planted loss per event is read from the generator's internal arrays (captured at
``scenarios._finish``): ground truth for this measurement only, never for a detector.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy import special

from icnet.analysis.spirals import _backfit
from icnet.validity import scenarios

_CAPTURED = {}
_finish = scenarios._finish


def _capture(org, *args, **kw):
    _CAPTURED["org"] = org
    return _finish(org, *args, **kw)


def _probit_rank(y, g):
    s = pd.Series(y)
    r = s.groupby(g).rank(method="average")
    m = s.groupby(g).transform("count")
    return special.ndtri((r - 0.5) / m).to_numpy()


def _huber_backfit(y, groups, k=1.345, n_iter=20, n_irls=3):
    """Backfitting with Huber weights (IRLS; scale by the MAD of the residuals)."""
    r = _backfit(y, groups, n_iter)
    ok = np.isfinite(y)
    yy, gs = y[ok], [g[ok] for g in groups]
    for _ in range(n_irls):
        sd = 1.4826 * np.nanmedian(np.abs(r))
        w = np.minimum(1.0, k * sd / np.maximum(np.abs(r[ok]), 1e-12))
        mu = np.sum(w * yy) / w.sum()
        eff = [np.zeros(g.max() + 1) for g in gs]
        for _ in range(n_iter):
            for j, g in enumerate(gs):
                part = yy - mu - sum(e[h] for i, (e, h) in enumerate(zip(eff, gs)) if i != j)
                eff[j] = np.bincount(g, weights=w * part, minlength=len(eff[j])) / \
                    np.maximum(np.bincount(g, weights=w, minlength=len(eff[j])), 1e-12)
        r = np.full(len(y), np.nan)
        r[ok] = yy - mu - sum(e[h] for e, h in zip(eff, gs))
    return r


def _z(r):
    return -r / np.nanstd(r)


def variants(ev):
    p = ev["provider"].cat.codes.to_numpy()
    c = ev["client"].cat.codes.to_numpy()
    w = pd.factorize(ev["requested_at"].dt.to_period("W"), sort=True)[0]
    dh = ev["delay_hours"].to_numpy(float)
    g = [p, c, w]
    out = {"delay log1p (main)": _z(_backfit(np.log1p(dh), g, 20)),
           "delay log": _z(_backfit(np.log(dh + 0.01), g, 20)),
           "delay Huber": _z(_huber_backfit(np.log1p(dh), g)),
           "delay rank-probit": _z(_backfit(_probit_rank(np.log1p(dh), p), g, 20))}
    sat = ev["satisfaction"].to_numpy(float) if "satisfaction" in ev else None
    if sat is not None and np.isfinite(sat).any():
        zs = -_z(_backfit(sat, g, 20))
        zd = out["delay log1p (main)"]
        both = np.vstack([zs, zd])
        has = np.isfinite(both)
        out["satisfaction"] = zs
        for a in (0.5, 0.4, 0.3):
            wt = np.where(has, np.array([[a], [1 - a]]), 0.0)
            out[f"readings {a:.1f}/{1 - a:.1f}"] = np.where(
                has.any(axis=0), np.nansum(both * wt, axis=0) / np.maximum(wt.sum(axis=0),
                                                                           1e-12), np.nan)
    return out


def main(scenario="delay_only", n_orgs=10, n_people=150):
    scenarios._finish = _capture
    rows = []
    for seed in range(n_orgs):
        data = scenarios.generate(scenario, n_people=n_people, seed=seed)
        org = _CAPTURED["org"]
        ev = data.network().events
        row = ev["event_id"].astype(str).str[1:].astype(int).to_numpy() - 1
        loss, rel = org.loss[row], org.rel[row]
        planted = np.unique(rel[loss > 0])
        for name, z in variants(ev).items():
            sep = []
            for r in planted:
                m = (rel == r) & np.isfinite(z)
                bad, usual = m & (loss > 0), m & (loss == 0)
                if bad.any() and usual.sum() > 3:
                    sep.append((z[usual].mean() - z[bad].mean()) / z[usual].std())
            rows.append({"seed": seed, "variant": name, "separation": np.mean(sep)})
    scenarios._finish = _finish
    res = pd.DataFrame(rows).groupby("variant", sort=False)["separation"].agg(["mean", "std"])
    print(f"{scenario}, {n_orgs} organisations of {n_people} people")
    print(res.round(3).to_string())


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "delay_only", *(int(a) for a in args[1:3]))
