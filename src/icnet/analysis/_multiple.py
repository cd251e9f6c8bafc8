"""Multiple-testing adjustment shared by the analyses (private)."""

from __future__ import annotations

import numpy as np
from scipy import stats


def bh(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) by
    :func:`scipy.stats.false_discovery_control`; NaN p-values stay NaN and are not
    counted among the tests.

    >>> bh([0.01, 0.04, np.nan, 0.03]).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    p = np.asarray(p, float)
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return out


def group_bh(p, group, *, lam: float = 0.5) -> np.ndarray:
    """Adaptive group Benjamini–Hochberg q-values (Hu, Zhao & Zhou 2010).

    Each group's share of true nulls ``pi0_g = (1 + #{p > lam}) / (m_g (1 - lam))``
    (capped at 1; Storey, Taylor & Siegmund 2004) weighs its p-values,
    ``p · pi0_g / (1 - pi0_g)``, and BH runs over all weighted p-values at the level
    ``alpha / (1 - pi0)`` (``pi0`` the groups' average): the q-value returned is the
    weighted BH q times ``1 - pi0``. A group that looks all null (``pi0_g = 1``) has
    q = 1. NaN p-values stay NaN.

    >>> group_bh([0.01, 0.02, 0.03, 0.04, 0.9, 0.01], [0, 0, 0, 0, 0, 1]).round(3).tolist()
    [0.04, 0.04, 0.04, 0.04, 0.72, 1.0]
    """
    p = np.asarray(p, float)
    g = np.asarray(group)
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return out
    w = np.full(len(p), np.inf)
    n0 = 0.0
    for k in np.unique(g[ok]):
        m = ok & (g == k)
        pi0 = min(1.0, (1.0 + float((p[m] > lam).sum())) / (m.sum() * (1 - lam)))
        n0 += pi0 * m.sum()
        if pi0 < 1:
            w[m] = pi0 / (1 - pi0)
    pi0_all = n0 / ok.sum()
    pw = np.where(np.isfinite(w), p * np.where(np.isfinite(w), w, 0), np.inf)[ok]
    q = np.ones(ok.sum())
    fin = np.isfinite(pw)
    if fin.any():
        # BH over all ok tests (the all-null groups' infinite p's count in m)
        o = np.argsort(pw, kind="stable")
        ranks = np.arange(1, len(pw) + 1)
        adj = pw[o] * len(pw) / ranks
        adj = np.minimum.accumulate(adj[::-1])[::-1]
        qq = np.empty(len(pw))
        qq[o] = adj
        q = np.minimum(qq * (1 - pi0_all), 1.0)
    out[ok] = np.where(fin, q, 1.0)
    return out
