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
