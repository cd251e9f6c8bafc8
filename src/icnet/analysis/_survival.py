"""Kaplan–Meier estimates for many groups at once (vectorised), with open
requests right-censored.

Used by :mod:`icnet.analysis.bottlenecks` (median delay per provider) and
:mod:`icnet.analysis.agreements` (probability of breaking an agreed delay, with
a Greenwood/log-log confidence interval).

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
observations. *JASA* 53, 457–481.
Greenwood, M. (1926). The natural duration of cancer. *Reports on Public Health
and Medical Subjects* 33, 1–26.
Kalbfleisch, J. D. & Prentice, R. L. (1980). *The Statistical Analysis of
Failure Time Data*, Wiley (the log(−log) interval, §1.3).
Brookmeyer, R. & Crowley, J. (1982). A confidence interval for the median
survival time. *Biometrics* 38, 29–41.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["km_table", "km_at", "km_median"]


def km_table(group, time, observed, n_groups: int) -> pd.DataFrame:
    """The Kaplan–Meier steps of every group, one row per distinct (group, time).

    Parameters
    ----------
    group : int array
        Group code of each request (0 … ``n_groups`` − 1).
    time : float array
        Hours to delivery (``observed``) or to the censoring time (still open).
        NaN times are ignored.
    observed : bool array
        True when delivered.
    n_groups : int

    Returns
    -------
    DataFrame
        ``g``, ``t``, ``n_risk`` (requests with time ≥ t), ``d`` (deliveries at
        t), ``log_s`` (log Ŝ(t), cumulative within the group) and ``gw``
        (Greenwood sum Σ d/(n(n−d)) up to t), sorted by (g, t).

    Examples
    --------
    >>> km_table([0, 0, 0, 0], [1, 2, 3, 6], [True, False, True, False], 1)[["t", "n_risk", "d"]]
         t  n_risk  d
    0  1.0       4  1
    1  2.0       3  0
    2  3.0       2  1
    3  6.0       1  0
    """
    g = np.asarray(group, np.int64)
    t = np.asarray(time, float)
    o = np.asarray(observed, bool)
    ok = ~np.isnan(t)
    g, t, o = g[ok], t[ok], o[ok]
    df = pd.DataFrame({"g": g, "t": t, "o": o.astype(np.int64)})
    steps = df.groupby(["g", "t"], sort=True)["o"].agg(["sum", "size"]).reset_index()
    steps.columns = ["g", "t", "d", "c"]
    n_g = np.bincount(g, minlength=n_groups)
    before = steps.groupby("g")["c"].cumsum().to_numpy() - steps["c"].to_numpy()
    n_risk = n_g[steps["g"].to_numpy()] - before
    d = steps["d"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.log1p(-d / n_risk)
        gw = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
    out = pd.DataFrame({"g": steps["g"].to_numpy(), "t": steps["t"].to_numpy(),
                        "n_risk": n_risk.astype(np.int64), "d": steps["d"].to_numpy()})
    out["log_s"] = pd.Series(inc).groupby(out["g"].to_numpy()).cumsum().to_numpy()
    out["gw"] = pd.Series(gw).groupby(out["g"].to_numpy()).cumsum().to_numpy()
    return out


def km_at(group, time, observed, limit, n_groups: int, *, confidence: float = 0.95
          ) -> pd.DataFrame:
    """Kaplan–Meier Ŝ(limit) = P(still waiting after ``limit`` hours) per group, with a
    confidence interval.

    Parameters
    ----------
    group, time, observed, n_groups
        As in :func:`km_table`.
    limit : float or float array of length ``n_groups``
    confidence : float, default 0.95

    Returns
    -------
    DataFrame indexed by group code
        ``s`` (NaN when not estimable), ``low``, ``high`` (log(−log)
        interval with Greenwood's variance; exact binomial bound
        (α/2)^(1/n) at Ŝ = 1 or 0), ``n`` (requests), ``n_followed``
        (requests followed up to the limit: delivered or still open at
        ≥ ``limit``), ``note`` ("" or why it is not estimable: no request, or
        no request followed up to the limit).

    Notes
    -----
    Ŝ(limit) is defined only if some request was followed up to ``limit`` (or
    all were delivered before it); otherwise it is NaN with a note, never
    1 (the old behaviour) or 0.

    Examples
    --------
    >>> r = km_at([0, 0, 0, 0, 1, 1], [1, 2, 3, 6, 1, 2],
    ...           [True, False, True, False, False, False], 4, 2)
    >>> float(r.loc[0, "s"]), r.loc[1, "note"]
    (0.375, 'no request followed up to the agreed delay (oldest open: 2 h)')
    """
    g = np.asarray(group, np.int64)
    t = np.asarray(time, float)
    o = np.asarray(observed, bool)
    lim = np.broadcast_to(np.asarray(limit, float), (n_groups,))
    tab = km_table(g, t, o, n_groups)
    tg = tab["g"].to_numpy()
    before = tab["t"].to_numpy() <= lim[tg]
    last = tab[before].groupby("g")[["log_s", "gw"]].last()
    log_s = np.zeros(n_groups)
    gw = np.zeros(n_groups)
    log_s[last.index.to_numpy()] = last["log_s"].to_numpy()
    gw[last.index.to_numpy()] = last["gw"].to_numpy()
    ok = ~np.isnan(t)
    n = np.bincount(g[ok], minlength=n_groups)
    followed = np.bincount(g[ok], weights=(t[ok] >= lim[g[ok]]).astype(float),
                           minlength=n_groups).astype(np.int64)
    tmax = np.full(n_groups, np.nan)
    if ok.any():
        mx = pd.Series(t[ok]).groupby(g[ok]).max()
        tmax[mx.index.to_numpy()] = mx.to_numpy()
    s = np.exp(log_s)
    estimable = (n > 0) & ((followed > 0) | (s == 0))
    z = norm.ppf(0.5 + confidence / 2)
    a2 = (1 - confidence) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(gw) / np.abs(log_s)
        low = s ** np.exp(z * se)
        high = s ** np.exp(-z * se)
        n_eff = np.maximum(np.where(s >= 1, followed, n), 1)
        low = np.where(s >= 1, a2 ** (1 / n_eff), low)
        high = np.where(s >= 1, 1.0, high)
        low = np.where(s <= 0, 0.0, low)
        high = np.where(s <= 0, 1 - a2 ** (1 / n_eff), high)
    note = np.where(n == 0, "no request", "").astype(object)
    lacking = (n > 0) & ~estimable
    for i in np.flatnonzero(lacking):
        note[i] = ("no request followed up to the agreed delay "
                   f"(oldest open: {tmax[i]:.0f} h)")
    nan = np.where(estimable, 1.0, np.nan)
    return pd.DataFrame({"s": s * nan, "low": low * nan, "high": high * nan, "n": n,
                         "n_followed": followed, "note": note})


def km_median(group, time, observed, n_groups: int) -> pd.DataFrame:
    """Kaplan–Meier median per group: the first time Ŝ(t) ≤ 0.5.

    Returns
    -------
    DataFrame indexed by group code
        ``median`` (hours; when more than half the requests are still open the
        median is not reached and this is the longest follow-up, a lower
        bound), ``reached`` (bool), ``n``, ``n_open``.

    Examples
    --------
    >>> km_median([0, 0, 0, 0], [1, 2, 3, 6], [True, False, True, False], 1)
       median  reached  n  n_open
    0     3.0     True  4       2
    """
    g = np.asarray(group, np.int64)
    t = np.asarray(time, float)
    o = np.asarray(observed, bool)
    tab = km_table(g, t, o, n_groups)
    hit = tab[tab["log_s"].to_numpy() <= np.log(0.5) + 1e-12].groupby("g")["t"].first()
    ok = ~np.isnan(t)
    med = np.full(n_groups, np.nan)
    if ok.any():
        mx = pd.Series(t[ok]).groupby(g[ok]).max()
        med[mx.index.to_numpy()] = mx.to_numpy()
    reached = np.zeros(n_groups, bool)
    med[hit.index.to_numpy()] = hit.to_numpy()
    reached[hit.index.to_numpy()] = True
    return pd.DataFrame({"median": med, "reached": reached,
                         "n": np.bincount(g[ok], minlength=n_groups),
                         "n_open": np.bincount(g[ok], weights=(~o[ok]).astype(float),
                                               minlength=n_groups).astype(np.int64)})
