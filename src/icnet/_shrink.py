"""Empirical-Bayes shrinkage of per-edge satisfaction (private; used by the network).

Model (normal–normal, two levels; Efron & Morris 1975, Morris 1983):

    y_ei ~ N(theta_e, sigma^2)          rating i on edge e
    theta_e ~ N(mu_p(e), tau^2)         edges of provider p
    mu_p ~ N(m, omega^2)                providers of the organisation

Variance components are method-of-moments estimates: ``sigma^2`` is the pooled
within-edge variance, ``tau^2`` the excess variance of edge means around their
provider's mean, ``omega^2`` the excess variance of provider means around the
organisation mean. The posterior mean of ``theta_e`` is
``w_e * ybar_e + (1 - w_e) * mu_p`` with ``w_e = tau^2 / (tau^2 + sigma^2/n_e)``;
the interval is the normal posterior interval, inflated by the uncertainty of
the provider mean it is shrunk toward. ``sigma^2`` is made provider-specific
(pooled within the provider's edges, itself shrunk toward the organisation's
value with 10 prior degrees of freedom) so a provider with erratic service is
not judged with the precision of a steady one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special   # ndtri = stats.norm.ppf; scipy.stats takes ~0.7 s to import

_MIN_VAR = 1e-6
_PRIOR_DF = 10.0  # weight of the pooled variance in each provider's within-edge variance


def components(n, mean, sd, group, scale) -> dict:
    """Estimate (sigma2, tau2, omega2, m) from edge summaries grouped by provider."""
    n = np.asarray(n, float)
    mean = np.asarray(mean, float)
    sd = np.asarray(sd, float)
    rated = n > 0
    lo, hi = scale
    prior_var = (hi - lo) ** 2 / 12.0  # variance of a uniform rating: a neutral default
    dfw = np.where(rated & (n > 1), n - 1, 0)
    ss = np.nansum(np.where(dfw > 0, sd ** 2 * dfw, 0.0))
    sigma2 = ss / dfw.sum() if dfw.sum() > 0 else prior_var
    sigma2 = max(sigma2, _MIN_VAR)
    if not rated.any():
        return {"sigma2": sigma2, "tau2": prior_var, "omega2": prior_var,
                "m": (lo + hi) / 2.0}
    tot = np.bincount(group[rated], weights=n[rated] * mean[rated], minlength=group.max() + 1)
    cnt = np.bincount(group[rated], weights=n[rated], minlength=group.max() + 1)
    k = np.bincount(group[rated], minlength=group.max() + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pmean = tot / cnt
    m = float(tot.sum() / cnt.sum())
    # tau^2: edges of providers with >= 2 rated edges
    multi = rated & (k[group] >= 2)
    if multi.any():
        dev = (mean[multi] - pmean[group[multi]]) ** 2
        adj = sigma2 / n[multi] * (1 - n[multi] / cnt[group[multi]])
        tau2 = float(np.mean(dev - adj) * np.mean(k[group[multi]] / (k[group[multi]] - 1)))
    else:
        tau2 = 0.0
    tau2 = max(tau2, _MIN_VAR)
    has = cnt > 0
    if has.sum() >= 2:
        vp = tau2 / np.maximum(k[has], 1) + sigma2 / cnt[has]
        omega2 = float(np.mean((pmean[has] - m) ** 2 - vp) * has.sum() / (has.sum() - 1))
    else:
        omega2 = 0.0
    omega2 = max(omega2, _MIN_VAR)
    return {"sigma2": sigma2, "tau2": tau2, "omega2": omega2, "m": m}


def shrink(n, mean, sd, group, scale, *, level: float = 0.95) -> pd.DataFrame:
    """Shrunk edge means with intervals.

    Parameters
    ----------
    n, mean, sd : array
        Per-edge rating count, mean and standard deviation (NaN when n == 0).
    group : int array
        Provider code of each edge (0..P-1).
    scale : (low, high)
    level : float
        Interval coverage.

    Returns
    -------
    DataFrame with ``shrunk``, ``low``, ``high``, ``weight`` (w_e) and
    ``provider_shrunk`` per edge; ``attrs["components"]`` holds the variances.
    """
    n = np.asarray(n, float)
    mean = np.where(n > 0, np.asarray(mean, float), 0.0)
    group = np.asarray(group, np.int64)
    if len(n) == 0:
        return pd.DataFrame({c: np.array([], float) for c in
                             ("shrunk", "low", "high", "weight", "provider_shrunk")})
    comp = components(n, mean, sd, group, scale)
    s2, t2, o2, m = comp["sigma2"], comp["tau2"], comp["omega2"], comp["m"]
    P = group.max() + 1
    cnt = np.bincount(group, weights=n, minlength=P)
    tot = np.bincount(group, weights=n * mean, minlength=P)
    k = np.bincount(group, weights=(n > 0).astype(float), minlength=P)
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1), m)
        vp = np.where(cnt > 0, t2 / np.maximum(k, 1) + s2 / np.where(cnt > 0, cnt, 1), np.inf)
    bp = o2 / (o2 + vp)                     # 0 when the provider has no ratings
    mu = bp * pbar + (1 - bp) * m
    var_mu = 1.0 / (1.0 / o2 + np.where(np.isfinite(vp), 1.0 / vp, 0.0))
    # provider-specific within-edge variance, shrunk toward the pooled one (prior df 10)
    sd = np.asarray(sd, float)
    dfw = np.where((n > 1) & np.isfinite(sd), n - 1, 0.0)
    ss_p = np.bincount(group, weights=np.where(dfw > 0, sd ** 2 * dfw, 0.0), minlength=P)
    df_p = np.bincount(group, weights=dfw, minlength=P)
    s2_p = (_PRIOR_DF * s2 + ss_p) / (_PRIOR_DF + df_p)
    s2e = s2_p[group]
    w = np.where(n > 0, t2 / (t2 + s2e / np.where(n > 0, n, 1)), 0.0)
    theta = w * mean + (1 - w) * mu[group]
    post = np.where(n > 0, 1.0 / (1.0 / t2 + n / s2e), t2) + (1 - w) ** 2 * var_mu[group]
    z = special.ndtri(0.5 + level / 2)
    half = z * np.sqrt(post)
    lo, hi = scale
    out = pd.DataFrame({
        "shrunk": theta,
        "low": np.clip(theta - half, lo, hi),
        "high": np.clip(theta + half, lo, hi),
        "weight": w,
        "provider_shrunk": mu[group],
    })
    out.attrs["components"] = comp
    return out


def sign(low, high, n, threshold: float) -> np.ndarray:
    """'bad' when the interval lies below ``threshold``, 'good' above, else 'uncertain'."""
    low = np.asarray(low, float)
    high = np.asarray(high, float)
    rated = np.asarray(n, float) > 0
    out = np.full(len(low), "uncertain", dtype=object)
    out[rated & (high < threshold)] = "bad"
    out[rated & (low > threshold)] = "good"
    return out
