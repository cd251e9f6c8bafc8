"""Empirical-Bayes shrinkage of per-relation satisfaction with raters (private).

Model (normal, three nested levels plus providers)::

    y_eji = theta_e + r_ej + eps_eji     rating i of rater j on relation e
    r_ej  ~ N(0, sigma_r^2)              rater j's own level (a client's person)
    eps   ~ N(0, f_p * sigma_w^2)        rating noise, provider-scaled
    theta_e ~ N(mu_p, tau^2)             relations of provider p
    mu_p  ~ N(m, omega^2)                providers of the organisation

The estimand ``theta_e`` is the relation's mean satisfaction over the
client's population of raters (a new rater's expected rating), not the mean
of the ratings that happen to be observed. The relation mean ``ybar_e`` of
``n_e`` ratings from raters with ``n_ej`` ratings each has sampling variance

    V_e = f_p * (sigma_w^2 / n_e + sigma_re^2 * sum_j n_ej^2 / n_e^2),

so one person giving 80 % of the ratings counts for about one rater, not for
80 % of ``n_e`` independent ones; the effective number of independent ratings is
``n_eff = (sigma_w^2 + sigma_re^2) / (sigma_w^2 / n_e + sigma_re^2 sum_j n_ej^2 / n_e^2)``
(``n_e`` when raters do not differ, ``n_e^2 / sum_j n_ej^2`` when ratings are
all rater: the cluster-robust design effect, Kish 1965).
Without rater information (an edge list, or a person-level network where the
client is the only rater) every rating is its own rater (``sum n_ej^2 = n_e``).

Variance components by unbalanced-ANOVA moments (Henderson's method I; Searle,
Casella & McCulloch 1992, ch. 5): ``sigma_w^2`` pools the within-rater sums
of squares, ``sigma_r^2`` the between-rater sums of squares within relations
(``E[SSB_e] = (J_e - 1) sigma_w^2 + (n_e - sum n_ej^2 / n_e) sigma_r^2``),
``tau^2`` the deviations of relation means from their provider's (rating-
weighted) mean with the exact expectation for unequal ``V_e`` and ``n_e``,
``omega^2`` likewise for provider means. ``f_p`` is the provider's pooled
rating variance relative to the organisation's, itself shrunk with 10 prior
degrees of freedom (a provider with erratic service is not judged with the
precision of a steady one). ``sigma_re^2`` is the relation's own between-rater
moment estimate (``J_e - 1`` df) shrunk toward the pooled ``sigma_r^2`` with 10
prior df: a model-based cluster-robust variance (raters who disagree on this
relation make its mean less certain).

Posterior: ``mu_p`` ~ N(b_p pbar_p + (1 - b_p) m, (1/omega^2 + 1/v_p)^-1);
``theta_e`` ~ N(w_e ybar_e + (1 - w_e) mu_p, (1/tau^2 + 1/V_e)^-1 + (1 - w_e)^2
var(mu_p)) with ``w_e = tau^2 / (tau^2 + V_e)``: every shrunk relation lies
between its raw mean and its provider's shrunk value ``mu_p``.

Intervals (``interval``): the posterior interval above holds its level on average
over the relations, not for a relation far from its provider's others (shrinkage
pulls it in; Morris 1983). The default ``"relation"`` interval holds 95 % on
average whatever the shape of the relation effects (the robust EBCI of Armstrong,
Kolesar & Plagborg-Moller 2022, "AKP", ``interval="robust"``) and at least 90 % for
each relation: its shrinkage bias is bounded by its own distance from ``mu_p`` taken at
the upper limit of a 99 % confidence interval, ``B_e = |ybar_e - mu_p| + 2.58
sd(ybar_e - mu_p)``, and the bias-aware interval (Armstrong & Kolesar 2020) given that
bound keeps 91 % (Berger & Boos 1994: 1 % spent on the bound). Until quality10 the bound
was organisation-wide, ``B = tau min(0.05^(-1/2), (kappa_hi / 0.05)^(1/4))`` (Chebyshev's
or Markov's inequality on the relation effects' moments; ``kappa_hi`` the kurtosis'
upper confidence limit, still in ``attrs``): it held for 95 % of the relations but
not for the atypical ones. The interval is centred at the shrinkage that makes it
shortest.

The error variance ``V_e`` of an aggregated relation rests on the estimated rater-style
variance ``sigma_s^2`` (few people rate two relations in a small organisation): its
cluster-robust sampling variance gives each relation Satterthwaite (1946) degrees of
freedom ``nu_e = 2 V_e^2 / Var(V_e)`` and the intervals use ``V_e (t_nu / z)^2`` in
place of ``V_e`` (the small-sample inference of Kenward & Roger 1997), a widening that
vanishes as the number of raters grows.

Signs: the local false sign rate (Stephens 2017) relative to the neutral point
``c``, ``lfsr_e = min(P(theta_e < c), P(theta_e > c))`` under this posterior.
A relation is ``bad``/``good`` when ``lfsr <= LFSR_MAX`` (0.025 — exactly when
its parametric 95 % posterior interval lies below/above ``c``) and the published
interval (wider by default) lies on the same side, else ``uncertain``; ``unrated``
without ratings. The expected share of wrong signs among the relations
called is the mean of their lfsr, at most 2.5 %.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import special   # ndtri/ndtr = stats.norm; scipy.stats takes ~0.7 s to import

_MIN_VAR = 1e-6
_PRIOR_DF = 10.0  # weight of the pooled variance in each provider's rating variance
_RATER_PRIOR_DF = 10.0  # weight of the pooled rater variance in a relation's own (None: pooled)
#: Largest local false sign rate at which a relation is called ``bad`` or ``good``.
LFSR_MAX = 0.025
#: Default rating-variance model of :func:`shrink` (see its ``variance``).
VARIANCE = "constant"
_EDGE = 0.05    # the variance function is evaluated at least 5 % of the range inside the scale
#: Default error variance of the *intervals* of :func:`shrink` (see its
#: ``interval_variance``). ``"bounded"`` was measured (qual16) and not made the default:
#: docs/methods/quality.md, *A mean-variance function for the intervals only*.
INTERVAL_VARIANCE = "constant"

# --- robust EBCI critical values (Armstrong, Kolesar & Plagborg-Moller 2022) -----------------
#: Default interval of :func:`shrink` (see its ``interval``).
INTERVAL = "relation"
#: Non-coverage allowed for each relation (``interval="relation"``), as a multiple of the
#: interval's (0.10 for 95 % intervals).
_RELATION_FACTOR = 2.0
#: Normal quantile of the upper confidence limit of the kurtosis, ``kappa_hi`` (one-sided
#: 95 %; reported; the organisation-wide bias bound of ``interval="relation"`` until quality10).
_KAPPA_Z = 1.645
#: Share of the per-relation non-coverage (``_RELATION_FACTOR * alpha``) of
#: ``interval="relation"`` spent on each relation's own bias bound (Berger & Boos 1994): the
#: bound holds with probability ``1 - _BOUND_GAMMA``, the bias-aware interval given it
#: ``1 - (_RELATION_FACTOR * alpha - _BOUND_GAMMA)``. 0.01 and 0.02 gave the same coverage
#: on 240 development organisations (seeds 7,000,000-7,000,059, 150 people, unit level);
#: 0.01 the narrower intervals (quality10).
_BOUND_GAMMA = 0.01
_M2_GRID = np.exp(np.linspace(np.log(1e-4), np.log(1e4), 97))   # normalized-bias moments
_OMEGA = np.concatenate([[0.0], np.geomspace(0.005, 1.0, 40)])  # (om - w) / (1 - w)
_U = np.concatenate([[0.0], np.linspace(0.05, 0.9, 9)])          # t1 / m2
_V = np.exp(np.linspace(np.log(1.0001), np.log(1e5), 120))       # t2 / m2


def _noncov(t, chi):
    """Non-coverage r(t, chi) = P(|Z - b| > chi), b = sqrt(t) the normalized bias."""
    b = np.sqrt(t)
    return special.ndtr(-chi - b) + special.ndtr(b - chi)


def _rho(m2, kappa, chi):
    """Largest non-coverage of ``theta_hat +- chi * se`` over distributions of the squared
    normalized bias t with E[t] = m2 and E[t^2] <= kappa m2^2 (AKP 2022, eq. 9): the point
    mass at m2 and every two-point distribution {t1 < m2 < t2} on a grid (the least
    favourable distributions have at most two support points; AKP Proposition B.1)."""
    m = m2[:, None, None]
    t1, t2 = m * _U[None, :, None], m * _V[None, None, :]
    p = (t2 - m) / (t2 - t1)                          # mass at t1
    ok = p * t1 ** 2 + (1 - p) * t2 ** 2 <= kappa * m ** 2
    c = chi[:, None, None]
    val = np.where(ok, p * _noncov(t1, c) + (1 - p) * _noncov(t2, c), 0.0)
    return np.maximum(val.max(axis=(1, 2)), _noncov(m2, chi))


@functools.lru_cache(maxsize=64)
def _cva_table(kappa: float, alpha: float) -> np.ndarray:
    """Robust critical values cva(m2, kappa, alpha) on :data:`_M2_GRID` (bisection)."""
    m2 = _M2_GRID
    lo = np.full(len(m2), special.ndtri(1 - alpha / 2))
    hi = np.sqrt((1 + m2) / alpha) + 1.0              # Chebyshev bound (AKP, appendix)
    for _ in range(30):
        mid = (lo + hi) / 2
        over = _rho(m2, kappa, mid) > alpha
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    return hi


def cva(m2, kappa: float, alpha: float = 0.05) -> np.ndarray:
    """Robust EBCI critical value for second moment ``m2`` of the normalized bias and
    kurtosis ``kappa`` (interpolated in log m2; ``sqrt(m2)``-scaled beyond the grid)."""
    m2 = np.asarray(m2, float)
    tab = _cva_table(float(np.round(kappa, 2)), float(alpha))
    x = np.log(np.clip(m2, _M2_GRID[0], _M2_GRID[-1]))
    out = np.exp(np.interp(x, np.log(_M2_GRID), np.log(tab)))
    big = m2 > _M2_GRID[-1]
    out = np.where(big, out * np.sqrt(np.where(big, m2, 1.0) / _M2_GRID[-1]), out)
    return np.where(m2 < _M2_GRID[0], special.ndtri(1 - alpha / 2), out)


_OUT = ("shrunk", "low", "high", "weight", "provider_shrunk", "provider_var", "post_var",
        "n_eff", "lfsr", "p_below")


def _rater_defaults(n, n_raters, rater_n2, ss_within):
    """Rater summaries, each rating its own rater where they are unknown."""
    n = np.asarray(n, float)
    J = np.full(len(n), np.nan) if n_raters is None else np.asarray(n_raters, float)
    n2 = np.full(len(n), np.nan) if rater_n2 is None else np.asarray(rater_n2, float)
    ssw = np.full(len(n), np.nan) if ss_within is None else np.asarray(ss_within, float)
    unknown = ~np.isfinite(J) | ~np.isfinite(n2)
    J = np.where(unknown, n, J)
    n2 = np.where(unknown, n, n2)
    ssw = np.where(unknown | ~np.isfinite(ssw), 0.0, ssw)
    return J, n2, ssw


def components(n, mean, sd, group, scale, n_raters=None, rater_n2=None,
               ss_within=None, g=None, design=None) -> dict:
    """Variance components (sigma2_w, sigma2_r, tau2, omega2, m) and per-edge V_e.

    ``sigma2`` (= sigma2_w + sigma2_r, the variance of one rating around its
    relation's mean) is kept for backward compatibility.
    """
    n = np.asarray(n, float)
    mean = np.where(n > 0, np.asarray(mean, float), 0.0)
    sd = np.asarray(sd, float)
    group = np.asarray(group, np.int64)
    J, n2, ssw = _rater_defaults(n, n_raters, rater_n2, ss_within)
    rated = n > 0
    lo, hi = scale
    prior_var = (hi - lo) ** 2 / 12.0  # variance of a uniform rating: a neutral default
    # g: each relation's variance factor (variance function of a bounded scale; 1 = constant)
    g = np.ones(len(n)) if g is None else np.asarray(g, float)
    sst = np.where((n > 1) & np.isfinite(sd), sd ** 2 * (n - 1), 0.0) / g
    ssw = ssw / g
    dft = np.where(n > 1, n - 1, 0.0)
    df_w = np.where(rated, n - J, 0.0)
    ssb = np.clip(sst - ssw, 0.0, None)
    # sigma_w^2: pooled within-rater variance; else (no rater rated twice) all in sigma_w^2
    if df_w.sum() > 0:
        s2w = ssw.sum() / df_w.sum()
        kr = np.where(rated, n - n2 / np.where(rated, n, 1), 0.0)
        df_b = np.where(rated, J - 1, 0.0)
        s2r = (ssb.sum() - df_b.sum() * s2w) / kr.sum() if kr.sum() > 0 else 0.0
        s2r = max(s2r, 0.0)
    elif dft.sum() > 0:
        s2w, s2r = sst.sum() / dft.sum(), 0.0
    else:
        s2w, s2r = prior_var, 0.0
    s2w = max(s2w, _MIN_VAR)
    P = int(group.max()) + 1 if len(group) else 1
    # provider scale factor f_p of the rating variance: the provider's within-rater (else
    # total) sums of squares against the pooled values, with _PRIOR_DF prior df at 1
    s2 = s2w + s2r
    use_w = df_w > 0
    chi = np.where(use_w, ssw / s2w, sst / s2)
    dfe = np.where(use_w, df_w, dft)
    f_p = (_PRIOR_DF + np.bincount(group, weights=chi, minlength=P)) / \
        (_PRIOR_DF + np.bincount(group, weights=dfe, minlength=P))
    f = f_p[group]
    if df_w.sum() > 0 and s2r > 0:    # sigma_r^2 again, each relation on its own scale
        kr = np.where(rated, n - n2 / np.where(rated, n, 1), 0.0)
        df_b = np.where(rated, J - 1, 0.0)
        s2r = max(float((ssb / f - df_b * s2w).sum() / kr.sum()), 0.0)
        s2 = s2w + s2r
    # each relation's own rater variance: its between-rater moment estimate, J_e - 1 df,
    # shrunk toward the pooled sigma_r^2 with _RATER_PRIOR_DF prior df (when raters differ
    # a lot on this relation, its mean is less certain)
    s2r_e = np.full(len(n), s2r)
    if _RATER_PRIOR_DF is not None and df_w.sum() > 0:
        kr = np.where(rated, n - n2 / np.where(rated, n, 1), 0.0)
        df_b = np.where(rated, J - 1, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            own = np.where(kr > 0, (ssb / f - df_b * s2w) / np.where(kr > 0, kr, 1), 0.0)
        s2r_e = np.maximum((_RATER_PRIOR_DF * s2r + df_b * own) / (_RATER_PRIOR_DF + df_b),
                           0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        V0 = np.where(rated, s2w / np.where(rated, n, 1)
                      + s2r_e * n2 / np.where(rated, n, 1) ** 2, np.inf)
    base = {"sigma2": s2, "sigma2_w": s2w, "sigma2_r": s2r}
    if design is not None:
        # finite-population estimand (aggregated relations): the raters' style is
        # error, the service the client's people got is part of the estimand; people who
        # did not rate are predicted from those who did (sigma_q^2 = sigma_r^2 - style)
        a1, a2, a3 = (np.asarray(design[k], float) for k in ("a1", "a2", "a3"))
        known = rated & np.isfinite(a1) & np.isfinite(a2) & np.isfinite(a3)
        s2s = design.get("style", np.nan)
        s2s = s2r if not np.isfinite(s2s) else float(np.clip(s2s, 0.0, s2r))
        s2q = max(s2r - s2s, 0.0)
        with np.errstate(invalid="ignore"):
            Vd = s2w * a1 + s2s * a2 + s2q * a3
        V0 = np.where(known, Vd, V0)
        # the style variance is estimated from the few people who rated two relations:
        # its sampling variance makes V_e uncertain, Var(V_e) = (dV_e/ds)^2 Var(s_hat),
        # dV_e/ds = a2 - a3 (sigma_q^2 = sigma_r^2 - s); Satterthwaite's degrees of
        # freedom nu_e = 2 V_e^2 / Var(V_e) give the t critical value of the interval
        s2s_var = float(design.get("style_var", 0.0)) if np.isfinite(
            design.get("style", np.nan)) else 0.0
        if s2s_var > 0:
            # the estimate is used clipped at 0: the variance of max(X, 0) for
            # X ~ N(raw estimate, its variance) (at the boundary about a third of it)
            raw, sd_s = float(design["style"]), float(np.sqrt(s2s_var))
            u = raw / sd_s
            p, phi = special.ndtr(u), np.exp(-u * u / 2) / np.sqrt(2 * np.pi)
            mean_c = raw * p + sd_s * phi
            s2s_var = max((raw ** 2 + s2s_var) * p + raw * sd_s * phi - mean_c ** 2, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            vv = (a2 - a3) ** 2 * s2s_var
            df = np.where(known & (vv > 0), 2 * V0 ** 2 / np.where(vv > 0, vv, 1), np.inf)
        base.update(sigma2_style=s2s, sigma2_q=s2q, sigma2_style_se=float(np.sqrt(s2s_var)))
        one = np.where(known, s2w + s2s, s2w + s2r_e)   # error variance of one rating
    else:
        one = s2w + s2r_e
        df = np.full(len(n), np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        V = g * f * V0
        n_eff = np.where(rated, one / V0, 0.0)
    if not rated.any():
        return {**base, "tau2": prior_var, "omega2": prior_var, "m": (lo + hi) / 2.0,
                "V": V, "f_p": f, "n_eff": n_eff, "df": df}
    Vr = np.where(rated, V, 0.0)
    nr = np.where(rated, n, 0.0)
    N = np.bincount(group, weights=nr, minlength=P)
    tot = np.bincount(group, weights=nr * mean, minlength=P)
    k = np.bincount(group, weights=rated.astype(float), minlength=P)
    S2 = np.bincount(group, weights=nr ** 2, minlength=P)          # sum n_i^2
    SV = np.bincount(group, weights=nr ** 2 * Vr, minlength=P)      # sum n_i^2 V_i
    with np.errstate(invalid="ignore", divide="ignore"):
        pmean = tot / N
    m = float(tot.sum() / N.sum())
    # tau^2: E[(ybar_e - pbar_p)^2] = tau^2 (1 - 2 n_e/N + S2/N^2) + V_e (1 - 2 n_e/N) + SV/N^2
    multi = rated & (k[group] >= 2)
    if multi.any():
        g, ne, Np = group[multi], n[multi], N[group[multi]]
        dev = (mean[multi] - pmean[g]) ** 2
        a = 1 - 2 * ne / Np + S2[g] / Np ** 2
        b = V[multi] * (1 - 2 * ne / Np) + SV[g] / Np ** 2
        tau2 = float((dev - b).sum() / a.sum())
        # a moment estimate near zero says tau^2 is too small to measure, not that it is
        # zero: keep it at least at its standard error under tau^2 = 0 (each squared
        # deviation ~ b chi2_1, variance 2 b^2) so that relations are never shrunk
        # completely (boundary-avoiding, as Chung et al. 2013; Li & Lahiri 2010)
        tau2 = max(tau2, float(np.sqrt(2 * (b ** 2).sum()) / a.sum()))
        tau2 = max(tau2, _MIN_VAR)
        # kurtosis of theta_e - mu_p, the same way: d = (theta-part, variance tau^2 a) +
        # (normal noise, variance b), E d^4 = kappa tau^4 a^2 + 6 tau^2 a b + 3 b^2
        # (AKP 2022, sec. 4.2, for unequal a and b); floor: posterior-mean truncation
        mu4 = float((dev ** 2 - 6 * tau2 * a * b - 3 * b ** 2).sum() / (a ** 2).sum())
        floor = 1 + 32 * float((b ** 4).mean()) / (len(b) * float((b ** 2).mean())) / tau2 ** 2
        kappa = float(min(max(mu4 / tau2 ** 2, floor), 1e6))
        # its upper one-sided confidence limit, for the per-relation bias bound: the moment
        # estimate is noisy when the noise variances b are large against tau^2 (sandwich
        # standard error of the ratio of sums)
        x = dev ** 2 - 6 * tau2 * a * b - 3 * b ** 2
        se4 = float(np.sqrt(((x - a ** 2 * mu4) ** 2).sum())) / float((a ** 2).sum())
        kappa_hi = float(min(max((mu4 + _KAPPA_Z * se4) / tau2 ** 2, kappa), 1e6))
    else:
        tau2, kappa, kappa_hi = 0.0, np.inf, np.inf
    tau2 = max(tau2, _MIN_VAR)
    has = N > 0
    if has.sum() >= 2:
        vp = (tau2 * S2[has] + SV[has]) / N[has] ** 2
        omega2 = float(np.mean((pmean[has] - m) ** 2 - vp) * has.sum() / (has.sum() - 1))
        omega2 = max(omega2, float(np.sqrt(2 * (vp ** 2).sum()) / (has.sum() - 1)))
    else:
        omega2 = 0.0
    omega2 = max(omega2, _MIN_VAR)
    return {**base, "tau2": tau2, "omega2": omega2, "m": m, "V": V, "f_p": f,
            "n_eff": n_eff, "df": df, "kappa": kappa, "kappa_hi": kappa_hi}


def shrink(n, mean, sd, group, scale, *, level: float = 0.95, n_raters=None,
           rater_n2=None, ss_within=None, threshold: float | None = None,
           variance: str | None = None, design: dict | None = None,
           interval: str | None = None, interval_variance: str | None = None
           ) -> pd.DataFrame:
    """Shrunk relation means with intervals and local false sign rates.

    Parameters
    ----------
    n, mean, sd : array
        Per-relation rating count, mean and standard deviation (NaN when n == 0).
    group : int array
        Provider code of each relation (0..P-1).
    scale : (low, high)
    level : float
        Interval coverage.
    n_raters, rater_n2, ss_within : array, optional
        Distinct raters, sum of squared ratings-per-rater and within-rater sum
        of squares per relation (NaN or absent: every rating its own rater).
    threshold : float, optional
        Neutral point for ``lfsr`` and ``p_below`` (default: mid-scale).
    design : dict, optional
        Aggregated relations (see :func:`icnet.analysis._ratings.design`): the
        post-stratified ``mean`` and the factors ``a1``, ``a2``, ``a3`` and
        ``style`` of its finite-population error variance; used where finite.
        ``style_var`` (the sampling variance of ``style``) widens the intervals:
        Satterthwaite degrees of freedom ``2 V_e^2 / ((a2 - a3)^2 style_var)`` and the
        t critical value (0 or absent: the normal one).
    variance : {"bounded", "constant"}, optional
        Default :data:`VARIANCE`. ``"bounded"``: rating variances proportional to
        the variance function ``(theta - low)(high - theta)`` of a bounded (beta-binomial-like)
        scale, evaluated at a first constant-variance fit; ``"constant"``:
        the same variances at every level of the scale.
    interval : {"relation", "robust", "parametric"}, optional
        Default :data:`INTERVAL`. ``"relation"``: 95 % on average and at least 90 % for
        each relation whose true value lies within a bound (from the relations' variance
        and kurtosis) of its provider's; ``"robust"``: the robust EBCI of Armstrong, Kolesar &
        Plagborg-Moller (2022), coverage on average over relations whatever their
        distribution; ``"parametric"``: the normal-prior posterior interval (see
        :func:`_robust_interval`). ``shrunk``, ``lfsr`` and ``p_below`` do not depend on it.
    interval_variance : {"constant", "bounded"}, optional
        Default :data:`INTERVAL_VARIANCE`. The error variance ``V_e`` of the *intervals*
        only (``shrunk``, ``weight``, ``lfsr`` and ``p_below`` keep the model's):
        ``"constant"``, the model's; ``"bounded"``, a quasi-likelihood mean-variance
        relation (McCullagh & Nelder 1989, ch. 9): ``V_e`` proportional to the variance
        function ``(theta - low)(high - theta)`` at the relation's shrunk value, the
        dispersion re-estimated from the sums of squares divided by it (Pearson moments;
        the variance components of ``variance="bounded"``). Ignored with
        ``variance="bounded"``, whose model variances already follow that function.

    Returns
    -------
    DataFrame with ``shrunk``, ``low``, ``high``, ``weight`` (w_e),
    ``provider_shrunk`` (mu_p, what the relation is shrunk toward),
    ``provider_var``, ``post_var``, ``n_eff``, ``lfsr``, ``p_below``
    (posterior P(theta < threshold)); all NaN for unrated relations
    (``weight`` 0). ``attrs["components"]`` holds the variances.
    """
    n = np.asarray(n, float)
    mean = np.where(n > 0, np.asarray(mean, float), 0.0)
    group = np.asarray(group, np.int64)
    lo, hi = scale
    c = (lo + hi) / 2.0 if threshold is None else float(threshold)
    if len(n) == 0:
        out = pd.DataFrame({k: np.array([], float) for k in _OUT})
        out.attrs["components"] = {}
        return out
    variance = VARIANCE if variance is None else variance
    if design is not None:
        dm = np.asarray(design["mean"], float)
        mean = np.where((n > 0) & np.isfinite(dm), dm, mean)
    comp = components(n, mean, sd, group, scale, n_raters, rater_n2, ss_within,
                      design=design)
    if variance == "bounded" and (n > 0).any():
        first = _posterior(n, mean, group, comp, level, scale, c)
        width = hi - lo
        th = np.clip(first["_theta"].to_numpy(), lo + _EDGE * width, hi - _EDGE * width)
        vf = (th - lo) * (hi - th)
        gfac = vf / vf[n > 0].mean()
        comp = components(n, mean, sd, group, scale, n_raters, rater_n2, ss_within, g=gfac,
                          design=design)
    elif variance not in ("bounded", "constant"):
        raise ValueError(f"variance must be 'bounded' or 'constant', not {variance!r}")
    interval = INTERVAL if interval is None else interval
    if interval not in ("relation", "robust", "parametric"):
        raise ValueError("interval must be 'relation', 'robust' or 'parametric', "
                         f"not {interval!r}")
    interval_variance = INTERVAL_VARIANCE if interval_variance is None else interval_variance
    if interval_variance not in ("bounded", "constant"):
        raise ValueError("interval_variance must be 'bounded' or 'constant', "
                         f"not {interval_variance!r}")
    comp_i = None
    if interval_variance == "bounded" and variance == "constant" and (n > 0).any():
        # the intervals' variances from a variance function at each relation's shrunk
        # value (the constant-variance fit's): the point estimates are not refitted
        theta = _posterior(n, mean, group, comp, level, scale, c)["_theta"].to_numpy()
        comp_i = components(n, mean, sd, group, scale, n_raters, rater_n2, ss_within,
                            g=_variance_factor(theta, n > 0, scale), design=design)
    out = _posterior(n, mean, group, comp, level, scale, c, interval,
                     interval_comp=comp_i)
    out = out.drop(columns="_theta")
    comp = {k: v for k, v in comp.items() if k not in ("V", "f_p", "n_eff", "df")}
    comp["variance"] = variance
    comp["interval"] = interval
    comp["interval_variance"] = interval_variance
    out.attrs["components"] = comp
    return out


def _robust_interval(ybar, V, mu, var_mu, w, theta, tau2, kappa, alpha, interval,
                     kappa_hi=None):
    """Bias-aware intervals around ``om * ybar + (1 - om) * mu_hat``, ``om`` in [w, 1].

    The error of that estimate is noise, ``om (ybar - theta) + (1 - om)(mu_hat - mu)``
    (sd ``se``), plus the shrinkage bias ``(1 - om)(mu - theta)``. ``"robust"``: the robust
    EBCI of Armstrong, Kolesar & Plagborg-Moller (2022), ``+- cva(m2, kappa) se`` with
    ``m2 = (1 - om)^2 tau^2 / se^2`` the second moment of the normalized bias and
    ``kappa`` the kurtosis of theta - mu: coverage on average over the relations, whatever
    the shape of their distribution. ``"relation"``: that, and at least ``1 - 2 alpha``
    (90 % for 95 % intervals) for each relation: its distance from its provider's value is
    at most ``B_e = |ybar - mu_hat| + z_(1 - gamma/2) sqrt(V + var_mu)`` with probability
    ``1 - gamma`` (``gamma`` = :data:`_BOUND_GAMMA`), the worst bias is ``(1 - om) B_e``,
    and the half-width ``cv(bias / se) se`` at non-coverage ``2 alpha - gamma``, with
    ``cv(b)`` the folded-normal critical value (Armstrong & Kolesar 2020); by the union
    bound (Berger & Boos 1994) at most ``2 alpha`` for each ``om`` (``om`` is chosen from
    the same data, which the bound does not cover: measured, see docs/methods/quality.md).
    The larger half-width of the two is used. ``kappa_hi`` is not used (it was the
    kurtosis in the organisation-wide bound before quality10).
    Both take the ``om`` that gives the shortest
    interval (AKP's length-optimal shrinkage); ``om = 1`` is the unshrunk interval
    ``ybar +- z sqrt(V)``, so neither is ever longer than that. The interval is widened,
    where needed, to contain the EB estimate ``theta``.
    """
    om = w[:, None] + (1 - w[:, None]) * _OMEGA[None, :]
    se = np.sqrt(om ** 2 * V[:, None] + (1 - om) ** 2 * var_mu[:, None])
    if interval == "relation":
        # each relation's own bias bound: |theta - mu| <= |ybar - mu_hat| + z sd(ybar - mu_hat)
        # with probability 1 - gamma (sd taken as if ybar and mu_hat were independent; mu_hat
        # contains ybar, so the true sd is smaller). The organisation-wide bound of quality7,
        # tau min(TAIL^-1/2, (kappa_hi / TAIL)^1/4), held for 95 % of the relations but not
        # for the atypical ones the detectors look for (Berger & Boos 1994: the nuisance
        # parameter, here the relation's distance from its provider, at the edge of its
        # 1 - gamma confidence set, gamma added to the non-coverage)
        gam = min(_BOUND_GAMMA, _RELATION_FACTOR * alpha / 2)
        bound = (np.abs(ybar - mu) + special.ndtri(1 - gam / 2) * np.sqrt(V + var_mu))[:, None]
        # at least 1 - 2 alpha for each relation, and 1 - alpha on average over the
        # relations (the robust EBCI below)
        halves = np.maximum(cva(((1 - om) * bound / se) ** 2, 1.0,
                                min(_RELATION_FACTOR * alpha - gam, 0.5)),
                            cva((1 - om) ** 2 * tau2 / se ** 2, kappa, alpha)) * se
    else:
        halves = cva((1 - om) ** 2 * tau2 / se ** 2, kappa, alpha) * se
    k = np.argmin(halves, axis=1)
    pick = np.arange(len(w))
    half, best = halves[pick, k], om[pick, k]
    centre = best * ybar + (1 - best) * mu
    return np.minimum(centre - half, theta), np.maximum(centre + half, theta)


def _variance_factor(theta, rated, scale):
    """Relative rating variance of each relation at ``theta``: the variance function
    ``(theta - low)(high - theta)`` of a bounded scale (at least :data:`_EDGE` of the range
    inside it) over its mean across the rated relations (1 for unrated ones)."""
    lo, hi = scale
    width = hi - lo
    th = np.clip(np.where(rated, theta, (lo + hi) / 2), lo + _EDGE * width, hi - _EDGE * width)
    vf = (th - lo) * (hi - th)
    return np.where(rated, vf / vf[rated].mean(), 1.0)


def _posterior(n, mean, group, comp, level, scale, c, interval="parametric",
               interval_comp=None) -> pd.DataFrame:
    lo, hi = scale
    comp = dict(comp)
    V = comp.pop("V")
    comp.pop("f_p")
    n_eff = comp.pop("n_eff")
    df = comp.pop("df", None)
    t2, o2, m = comp["tau2"], comp["omega2"], comp["m"]
    rated = n > 0
    P = group.max() + 1
    nr = np.where(rated, n, 0.0)
    N = np.bincount(group, weights=nr, minlength=P)
    tot = np.bincount(group, weights=nr * mean, minlength=P)
    S2 = np.bincount(group, weights=nr ** 2, minlength=P)
    SV = np.bincount(group, weights=nr ** 2 * np.where(rated, V, 0.0), minlength=P)
    with np.errstate(invalid="ignore", divide="ignore"):
        Ns = np.where(N > 0, N, 1)
        pbar = np.where(N > 0, tot / Ns, m)
        vp = np.where(N > 0, (t2 * S2 + SV) / Ns ** 2, np.inf)
    bp = o2 / (o2 + vp)                     # 0 when the provider has no ratings
    mu = bp * pbar + (1 - bp) * m
    # the organisation's mean m is estimated too (Morris 1983): its variance, carried
    # by the share (1 - b_p) of mu_p that comes from it
    has = np.isfinite(vp)
    var_m = 1.0 / max(float((1.0 / (o2 + vp[has])).sum()), 1e-300) if has.any() else 0.0
    var_mu = 1.0 / (1.0 / o2 + np.where(has, 1.0 / vp, 0.0)) + (1 - bp) ** 2 * var_m
    Vs = np.where(rated, V, 1.0)
    w = np.where(rated, t2 / (t2 + Vs), 0.0)
    theta = w * mean + (1 - w) * mu[group]
    post = 1.0 / (1.0 / t2 + 1.0 / Vs) + (1 - w) ** 2 * var_mu[group]
    z = special.ndtri(0.5 + level / 2)
    # intervals: the error variance V_e is itself estimated (Satterthwaite df nu_e): the
    # t critical value in place of the normal one, carried as V_e (t_nu / z)^2
    if interval_comp is not None:    # the intervals' own error variance (interval_variance)
        Vs_i, df = np.where(rated, interval_comp["V"], 1.0), interval_comp["df"]
    else:
        Vs_i = Vs
    Vi = Vs_i if df is None else Vs_i * (special.stdtrit(np.where(
        np.isfinite(df), np.maximum(df, 1.0), np.inf), 0.5 + level / 2) / z) ** 2
    if interval in ("relation", "robust") and rated.any():
        lo_r, hi_r = _robust_interval(mean, Vi, mu[group], var_mu[group], w, theta, t2,
                                      comp.get("kappa", np.inf), 1 - level, interval,
                                      kappa_hi=comp.get("kappa_hi"))
    else:
        post_i = 1.0 / (1.0 / t2 + 1.0 / Vi) + (1 - w) ** 2 * var_mu[group]
        lo_r, hi_r = theta - z * np.sqrt(post_i), theta + z * np.sqrt(post_i)
    p_below = special.ndtr((c - theta) / np.sqrt(post))
    nan = np.where(rated, 1.0, np.nan)
    out = pd.DataFrame({
        "shrunk": theta * nan,
        "low": np.clip(lo_r, lo, hi) * nan,
        "high": np.clip(hi_r, lo, hi) * nan,
        "weight": w,
        "provider_shrunk": mu[group],
        "provider_var": var_mu[group],
        "post_var": post * nan,
        "n_eff": n_eff,
        "lfsr": np.minimum(p_below, 1 - p_below) * nan,
        "p_below": p_below * nan,
    })
    out["_theta"] = theta
    provider_rated = N[group] > 0
    out.loc[~provider_rated, ["provider_shrunk", "provider_var"]] = np.nan
    return out


def sign(low, high, n, threshold: float, *, p_below=None,
         lfsr_max: float = LFSR_MAX) -> np.ndarray:
    """Credible sign of each relation.

    With ``p_below`` (posterior P(theta < threshold)): ``"bad"`` when
    P(theta >= threshold) <= ``lfsr_max``, ``"good"`` when
    P(theta < threshold) <= ``lfsr_max``, and in both cases the published interval
    (``low``, ``high``) on the same side of ``threshold`` (a relation is never called
    ``bad`` while its interval reaches above the neutral point). Without it, from the
    interval alone: ``"bad"`` when it lies below ``threshold``, ``"good"`` above. Else
    ``"uncertain"``; ``"unrated"`` when ``n == 0``.
    """
    low = np.asarray(low, float)
    high = np.asarray(high, float)
    rated = np.asarray(n, float) > 0
    out = np.full(len(low), "uncertain", dtype=object)
    if p_below is None:
        out[rated & (high < threshold)] = "bad"
        out[rated & (low > threshold)] = "good"
    else:
        pb = np.asarray(p_below, float)
        out[rated & (1 - pb <= lfsr_max) & (high <= threshold)] = "bad"
        out[rated & (pb <= lfsr_max) & (low >= threshold)] = "good"
    out[~rated] = "unrated"
    return out
