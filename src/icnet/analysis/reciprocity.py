"""Organisation-level test of negative reciprocity: is bad service answered with bad service?

A pooled relational-event regression over every reciprocal pair (the effect size) and a
turn-taking statistic pooled over pairs whose p is calibrated under causes shared by both
sides (direction labels permuted within weeks) and under one-sided episodes (circular
shifts); issue #18 point 4. See docs/methods/spirals-record.md §5 for the
method, references and measured calibration and power.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ParameterError
from .spirals import _controlled, event_quality

__all__ = ["reciprocity_test"]

_TERMS = ["reciprocity", "concurrent", "inertia", "received_from_others", "partner_to_others",
          "turns"]
_COLUMNS = ["term", "estimate", "se", "t", "p", "ci_low", "ci_high", "p_perm", "n_events",
            "n_pairs"]


#: Draws of either null at least as large as the observed in all statistics after which
#: the turn test's draws stop (Besag & Clifford 1991): p is then above 10 / n_perm, far
#: from any decision at 0.05 with n_perm >= 99.
_STOP_EXCEEDANCES = 10


def reciprocity_test(net, *, level: str | None = None, half_life_days: float = 10.0,
                     min_events: int = 5, n_perm: int = 199, lag_days: float = 7.0,
                     turn_days: float = 3.0, block_days: float = 7.0, prior: float = 1.0,
                     concurrent_days: float = 5.0, period: str = "W",
                     control_period_days: float = 28.0, seed=0) -> pd.DataFrame:
    """Is recent bad service from B to A followed by worse service from A to B, organisation-wide?

    Two answers over every reciprocal pair (a pair enters when both directions have at
    least ``min_events`` events with a quality value):

    1. **The effect size**: a relational-event regression of each event's residual quality
       :math:`y_e` (*A serves B*; SD, low = worse) on the recent quality B gave A (the
       **reciprocity** term: the exponentially decayed mean of B → A quality up to
       ``concurrent_days`` before the event), with four controls: B → A quality
       *concurrent* with the event (± ``concurrent_days``), the recent quality A gave B
       (inertia), the recent quality A received from everybody but B, and the recent
       quality B gave everybody but A. Every pair-direction has its own intercept, so a
       chronic conflict carries no weight; the standard error is cluster-robust by pair.
       Its ``p`` is model-based and **not calibrated** under a cause shared by both
       sides of a pair (a joint project going badly): see Notes.
    2. **The calibrated test** (``p_perm``; the row ``turns``): did the two sides take
       *turns* — is a service more like the partner's service a week earlier or later
       than like the partner's service at the same time? The pooled statistic is the mean
       over events of the event's quality times (the partner's mean quality ``lag_days``
       ± ``turn_days`` before and after it − the partner's mean within ± ``turn_days``).
       Under each null three statistics are computed on the same draws — that one and
       the same sum in which a pair's concurrent term counts only when positive (a shared
       cause's sign), which a lock-in's or an episode's few pairs need — and a third for a
       sparse alternative, one busy pair among hundreds that the sums dilute: the largest
       over pairs of that pair's term over the root of its sum of squared turn terms (a
       self-normalised sum, at most the root of the pair's number of events, so pairs with
       few events cannot dominate) — and the three combined by Tippett's minimum p
       (nonparametric combination, Pesarin & Salmaso 2010).
       Two nulls, and ``p_perm`` is the larger of their p's (it rejects only when both
       do): the direction labels of every pair's events permuted within calendar blocks
       of ``block_days`` (given the times and values, under a common cause which
       direction an event belongs to carries no information: every shared time
       structure is kept, only replies are destroyed), and each pair's two directions
       shifted circularly against each other (each direction's own time structure kept,
       e.g. one side's overload, which the label permutation would mix into both).
       Each p is ``(1 + #{draws whose smaller p <= the observed's}) / (1 + n_perm)``;
       the draws stop early (Besag & Clifford 1991) once either null has had 10 draws at
       least as large as the observed in all three statistics (then ``p_perm`` > 10 /
       ``n_perm``: a large p costs a few draws; no decision at a level below
       10 / ``n_perm`` changes).

    Parameters
    ----------
    net : ServiceNetwork
        Built from events with ``requested_at``; ``satisfaction`` and/or
        ``delay_hours`` give the quality (delay alone works).
    level : str, optional
        Aggregate to this level first (e.g. ``"unit"``).
    half_life_days : float, default 10
        Half-life of the exponential memory of the regression's recent-quality terms.
    min_events : int, default 5
        A pair enters when both directions have at least this many events with a
        quality value.
    n_perm : int, default 199
        Label permutations and circular shifts for ``p_perm`` (0: none, ``p_perm`` NaN;
        0.03–0.05 s per permutation and shift per 30,000 pair events, measured under load).
    lag_days : float, default 7
        Lag of the turn statistic's partner windows (a turn lasting about a week).
    turn_days : float, default 3
        Half-width of the turn statistic's windows; ``lag_days`` must be at least twice it.
    block_days : float, default 7
        Calendar blocks (from the log's first event) within which the labels are permuted.
    prior : float, default 1
        Pseudo-events at 0 in each decayed mean (no recent event: 0, no information).
    concurrent_days : float, default 5
        Half-width of the regression's concurrent window; the reciprocity term ends
        where it starts (0: no concurrent control, the reciprocity term ends at the event).
    period : str, default "W"
        Period of the organisation-wide effects in :func:`event_quality`.
    control_period_days : float, default 28
        Period of the leave-the-pair-out person effects (a person's or unit's bad month).
    seed : int or numpy Generator, default 0
        Seed of the label permutations.

    Returns
    -------
    DataFrame
        One row per term, ``reciprocity`` first (the answer): ``term``; ``estimate``
        (reciprocity and controls: SD of A → B quality per SD of the term; > 0: quality
        is returned in kind; ``turns``: the pooled lagged-minus-concurrent covariance,
        SD², > 0: the sides take turns); ``se`` (regression: cluster-robust by pair, CR1;
        ``turns``: dyad-robust, pairs sharing a person are dependent); ``t``; ``p``
        (reciprocity: one-sided model p, Student t with pairs − 1 degrees of freedom;
        controls: two-sided; ``turns``: its permutation p); ``ci_low``, ``ci_high``
        (95 %); ``p_perm`` (on ``reciprocity`` and ``turns``: the one-sided p of the
        turn statistic, the larger of its label-permutation and circular-shift p's,
        **the calibrated organisation-level p**; NaN when ``n_perm = 0`` and for the
        controls); ``n_events``, ``n_pairs``. ``attrs["params"]`` holds the parameters,
        ``attrs["p_turns_label"]`` and ``attrs["p_turns_shift"]`` the two nulls' p's,
        ``attrs["n_perm_used"]`` the draws made (fewer than ``n_perm`` when stopped
        early).

    Raises
    ------
    ParameterError
        A parameter out of range, or a network without timestamps.

    See Also
    --------
    retaliation_spirals : the pair-by-pair detector (which pairs, who started, when).

    Notes
    -----
    Quality: :func:`event_quality` (satisfaction and log delay residualised for
    provider — for the delay provider × service —, client and week), minus the
    provider's and the client's time-local leave-the-pair-out means (± 14 days around
    each event, shrunk towards their unit's; the control of
    :func:`retaliation_spirals`): a unit's bad month or a provider's overload episode,
    wherever it falls in the calendar.
    The decayed mean of a series at time *t* is
    :math:`\\sum_{t'<t} y_{t'} e^{-\\lambda (t-t')} / (\\text{prior} + \\sum_{t'<t}
    e^{-\\lambda (t-t')})`, :math:`\\lambda = \\ln 2 / \\text{half-life}` (the
    decayed reciprocity statistic of relational event models, Brandes, Lerner &
    Snijders 2009, with the event's quality as its weight).

    The regression's reciprocity term also picks up a slowly varying quality shared by
    both directions of a pair (its past predicts the present through the shared cause):
    on the validity suite its model ``p`` is <= 0.05 in most common-cause organisations.
    The turn test is built on the permutation null of the pair-level turn test of
    :func:`retaliation_spirals` (surrogate data, Theiler et al. 1992; pseudo-interaction
    surrogates for dyadic synchrony, Moulder et al. 2018; a stratified permutation, Good
    2005), pooled over all pairs with one statistic and the same permutation of every pair
    (so a few pairs with a spiral among hundreds count together, and the third statistic,
    :math:`\\max_g (L_g - \\max(C_g, 0)) / \\sqrt{\\sum_{e \\in g} (l_e - c_e)^2}`,
    finds a single busy pair; cf. the max-type and higher-criticism tests against sparse
    alternatives, Donoho & Jin 2004, and the adaptive sums of powered scores of Pan et al.
    2014, of which the sum and the maximum are the two ends); the second statistic,
    :math:`\\sum_{pairs} (L_g - \\max(C_g, 0)) / M` with :math:`L_g, C_g` a pair's sums of
    lagged and concurrent products, keeps the penalty for a shared cause (a positive
    concurrent covariance) but drops the noise of the many pairs whose concurrent
    covariance is negative by chance. A cause shared by both
    sides with an autocovariance that falls with the lag makes the statistic negative;
    turns of about ``lag_days`` make it positive. The label permutation is exact when the
    two directions are exchangeable within blocks (a shared cause) and anti-conservative
    when one direction has its own episodes (they look shared once the labels mix); the
    circular shift (surrogates that keep each series and break their alignment; Schreiber &
    Schmitz 2000) is exact for separate series and conservative under a shared cause
    (which makes the statistic negative): the larger p is valid under either (an
    intersection–union test, Berger 1982). Each direction is centred on its own mean
    first (under permutation, on its permuted label's mean).

    References
    ----------
    Butts, C. T. (2008). A relational event framework for social action.
    *Sociological Methodology* 38, 155–200.
    Brandes, U., Lerner, J. & Snijders, T. A. B. (2009). Networks evolving step
    by step: statistical analysis of dyadic event data. *ASONAM*, 200–205.
    Stadtfeld, C., Hollway, J. & Block, P. (2017). Dynamic network actor models:
    investigating coordination ties through time. *Sociological Methodology* 47, 1–40.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to
    cluster-robust inference. *Journal of Human Resources* 50, 317–372.
    Aronow, P. M., Samii, C. & Assenova, V. A. (2015). Cluster-robust variance
    estimation for dyadic data. *Political Analysis* 23, 564–577.
    Theiler, J., Eubank, S., Longtin, A., Galdrikian, B. & Farmer, J. D. (1992).
    Testing for nonlinearity in time series: the method of surrogate data.
    *Physica D* 58, 77–94.
    Moulder, R. G., Boker, S. M., Ramseyer, F. & Tschacher, W. (2018). Determining
    synchrony between behavioral time series: an application of surrogate data
    generation for establishing falsifiable null-hypotheses. *Psychological Methods*
    23, 757–773.
    Schreiber, T. & Schmitz, A. (2000). Surrogate time series. *Physica D* 142, 346–382.
    Good, P. (2005). *Permutation, Parametric, and Bootstrap Tests of Hypotheses*
    (3rd ed.). Springer.
    Pesarin, F. & Salmaso, L. (2010). *Permutation Tests for Complex Data: Theory,
    Applications and Software*. Wiley.
    Tippett, L. H. C. (1931). *The Methods of Statistics*. Williams & Norgate.
    de la Peña, V. H., Lai, T. L. & Shao, Q.-M. (2009). *Self-Normalized Processes:
    Limit Theory and Statistical Applications*. Springer.
    Donoho, D. & Jin, J. (2004). Higher criticism for detecting sparse heterogeneous
    mixtures. *Annals of Statistics* 32, 962–994.
    Pan, W., Kim, J., Zhang, Y., Shen, X. & Wei, P. (2014). A powerful and adaptive
    association test for rare variants. *Genetics* 197, 1081–1095.
    Besag, J. & Clifford, P. (1991). Sequential Monte Carlo p-values. *Biometrika* 78,
    301–304.
    Berger, R. L. (1982). Multiparameter hypothesis testing and acceptance sampling.
    *Technometrics* 24, 295–300.
    Nickell, S. (1981). Biases in dynamic models with fixed effects.
    *Econometrica* 49, 1417–1426.

    Examples
    --------
    >>> import icnet
    >>> r = icnet.reciprocity_test(icnet.datasets.load("planta"), n_perm=19)
    >>> r.loc[0, "term"], r.loc[5, "term"]
    ('reciprocity', 'turns')
    >>> bool(0 < r.loc[0, "p_perm"] <= 1 and r.loc[0, "n_pairs"] > 0)
    True
    """
    net = _validate.network(net, need_events=True)
    net = _validate.level(net, level)
    net._need_time("reciprocity_test")
    _validate.in_range("half_life_days", half_life_days, low=0, low_inclusive=False)
    _validate.in_range("min_events", min_events, low=2, integer=True)
    _validate.in_range("n_perm", n_perm, low=0, integer=True)
    _validate.in_range("block_days", block_days, low=0, low_inclusive=False)
    _validate.in_range("turn_days", turn_days, low=0, low_inclusive=False)
    _validate.in_range("lag_days", lag_days, low=0, low_inclusive=False)
    if lag_days < 2 * turn_days:
        raise ParameterError(
            f"The 'lag_days' parameter ({lag_days}) must be at least twice 'turn_days' "
            f"({turn_days}) so that the lagged windows do not overlap the concurrent one. "
            f"Pass a larger lag_days or a smaller turn_days.")
    _validate.in_range("prior", prior, low=0, low_inclusive=False)
    _validate.in_range("concurrent_days", concurrent_days, low=0)
    _validate.in_range("control_period_days", control_period_days, low=0,
                       low_inclusive=False)
    rng = _validate.rng(seed)
    params = dict(level=net.level, half_life_days=half_life_days, min_events=min_events,
                  n_perm=n_perm, lag_days=lag_days, turn_days=turn_days,
                  block_days=block_days, prior=prior,
                  concurrent_days=concurrent_days, period=period,
                  control_period_days=control_period_days,
                  seed=seed if not isinstance(seed, np.random.Generator) else "Generator")
    ev = net.events
    z = event_quality(net, period=period)["z"].to_numpy(float)
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    c = ev["client"].cat.codes.to_numpy().astype(np.int64)
    t = ((ev["requested_at"] - ev["requested_at"].min()) / pd.Timedelta(days=1)).to_numpy(float)
    lam = np.log(2) / half_life_days
    span = float(np.nanmax(t)) if len(t) else 0.0
    if lam * span > 600:
        raise ParameterError(
            f"The 'half_life_days' parameter is too short for this log: {span:.0f} days "
            f"of events at a half-life of {half_life_days} days overflow the decayed sums. "
            f"Pass half_life_days >= {span * np.log(2) / 600:.2f} or analyse shorter spans.")
    # the pair detector's time-local control (a provider's overload episode or a unit's bad
    # month removed wherever it falls in the calendar, not only on a 28-day grid)
    y = _controlled(net, p, c, t, z, control_period_days)
    ok = np.isfinite(y) & np.isfinite(t)
    p, c, t, y = p[ok], c[ok], t[ok], y[ok]
    n = len(net.node_ids)
    design = _design(p, c, t, y, n, lam=lam, prior=prior, min_events=min_events,
                     concurrent_days=concurrent_days, block_days=block_days,
                     lag_days=lag_days, turn_days=turn_days)
    out = _fit(design, n_perm=n_perm, rng=rng)
    out.attrs.setdefault("p_turns_label", np.nan)
    out.attrs.setdefault("p_turns_shift", np.nan)
    out.attrs["params"] = params
    return out


def _decayed(src_key, src_t, src_v, tgt_key, tgt_t, lam):
    """Σ over source rows of the same key strictly before each target of
    (v·e^{-λΔt}, e^{-λΔt}): two arrays aligned with the targets."""
    ns, nt = len(src_t), len(tgt_t)
    if nt == 0:
        return np.zeros(0), np.zeros(0)
    key = np.r_[src_key, tgt_key]
    tt = np.r_[src_t, tgt_t]
    is_src = np.r_[np.ones(ns, np.int8), np.zeros(nt, np.int8)]
    # targets before sources at equal times: a same-time source is not "before"
    o = np.lexsort((is_src, tt, key))
    k, ts, s = key[o], tt[o], is_src[o].astype(bool)
    new = np.r_[True, k[1:] != k[:-1]]
    gid = np.cumsum(new)
    t0 = ts[new][gid - 1]
    e = np.exp(lam * (ts - t0))
    vv = np.r_[src_v, np.zeros(nt)][o]
    num = pd.Series(np.where(s, vv * e, 0.0)).groupby(gid).cumsum().to_numpy()
    den = pd.Series(np.where(s, e, 0.0)).groupby(gid).cumsum().to_numpy()
    back = np.exp(-lam * (ts - t0))
    res_num = np.empty(nt)
    res_den = np.empty(nt)
    tgt_pos = o[~s] - ns
    res_num[tgt_pos] = (num * back)[~s]
    res_den[tgt_pos] = (den * back)[~s]
    return res_num, res_den


def _window(src_key, src_t, src_v, tgt_key, tgt_t, half):
    """Σ v and count of source rows of the same key with |t' − t| < ``half`` (both sides)."""
    if len(tgt_t) == 0 or half <= 0:
        return np.zeros(len(tgt_t)), np.zeros(len(tgt_t))
    keys, inv = np.unique(np.r_[src_key, tgt_key], return_inverse=True)
    inv = inv.ravel()
    lo_t = min(float(np.min(src_t)) if len(src_t) else 0.0, float(np.min(tgt_t)))
    width = max(float(np.max(src_t)) if len(src_t) else 0.0, float(np.max(tgt_t))) - lo_t
    width += 4 * half + 1.0
    ns = len(src_t)
    sv = inv[:ns] * width + (src_t - lo_t + 2 * half)
    o = np.argsort(sv, kind="stable")
    sv = sv[o]
    cs = np.r_[0.0, np.cumsum(np.asarray(src_v, float)[o])]
    tv = inv[ns:] * width + (tgt_t - lo_t + 2 * half)
    a = np.searchsorted(sv, tv - half, side="right")
    b = np.searchsorted(sv, tv + half, side="left")
    return cs[b] - cs[a], (b - a).astype(float)


def _design(p, c, t, y, n, *, lam, prior, min_events, concurrent_days, block_days, lag_days,
            turn_days):
    """The events of reciprocal pairs with enough events both ways, sorted by pair then
    time, with everything a labelling of their directions needs (:func:`_columns`,
    :func:`_turn_sums`): positions in the pair-sorted rows are fixed, only labels move."""
    fwd = p * n + c
    rev = c * n + p
    cnt = pd.Series(fwd).value_counts()
    n_rev = cnt.reindex(rev).fillna(0).to_numpy()
    n_fwd = cnt.reindex(fwd).to_numpy()
    use = (n_fwd >= min_events) & (n_rev >= min_events) & (p != c)
    idx = np.flatnonzero(use)
    lo, hi = np.minimum(p[idx], c[idx]), np.maximum(p[idx], c[idx])
    lab = (p[idx] > c[idx]).astype(np.int8)            # 1: hi → lo, 0: lo → hi
    pair = lo * n + hi
    # a total order that does not depend on the row order of the log
    o = np.lexsort((y[idx], lab, t[idx], pair))
    idx, lo, hi, lab, pair = idx[o], lo[o], hi[o], lab[o], pair[o]
    ft, fy = t[idx], y[idx]
    pid, gi = np.unique(pair, return_inverse=True)
    gi = gi.ravel()
    G = len(pid)
    # each direction centred on its own mean
    k2 = gi * 2 + lab
    m2 = np.bincount(k2, weights=fy, minlength=2 * G) / np.maximum(
        np.bincount(k2, minlength=2 * G), 1)
    v = fy - m2[k2]
    # others' dealings: for both orientations of each
    # event, what its provider received from everybody but the partner and what its
    # client gave everybody but the provider (the pair's own events taken out)
    d_lh = _decayed(fwd[idx], ft, fy, lo * n + hi, ft, lam)      # lo → hi before t
    d_hl = _decayed(fwd[idx], ft, fy, hi * n + lo, ft, lam)      # hi → lo before t

    def others(key_all, src_t, src_v, who, part):
        num, den = _decayed(key_all, src_t, src_v, who, ft, lam)
        return (num - part[0]) / (den - part[1] + prior)

    recv = np.column_stack([others(c, t, y, lo, d_hl), others(c, t, y, hi, d_lh)])
    gave = np.column_stack([others(p, t, y, lo, d_lh), others(p, t, y, hi, d_hl)])
    # fixed positions in the pair-sorted rows: strict past of t − δ (reciprocity) and
    # of t (inertia), and the open concurrent window (t − δ, t + δ)
    t0 = ft[np.r_[0, np.flatnonzero(gi[1:] != gi[:-1]) + 1]] if len(ft) else np.zeros(0)
    reach = max(concurrent_days, lag_days + turn_days)
    width = float(ft.max() - ft.min()) + 4 * reach + 2.0 if len(ft) else 1.0
    key = gi * width + (ft - t0[gi])
    rel = ft - t0[gi]
    start = np.searchsorted(key, gi * width - 2 * reach - 1.0)
    pos_r = np.searchsorted(key, key - concurrent_days, side="left")
    pos_i = np.searchsorted(key, key, side="left")
    w_a = np.searchsorted(key, key - concurrent_days, side="right")
    w_b = np.searchsorted(key, key + concurrent_days, side="left") if concurrent_days > 0 \
        else w_a
    w_b = np.maximum(w_b, w_a)
    # turn windows: concurrent (t − h, t + h); a lag before and after, [t ∓ lag − h,
    # t ∓ lag + h]
    tw = [(np.searchsorted(key, key - turn_days, side="right"),
           np.searchsorted(key, key + turn_days, side="left"))]
    for sgn in (-1.0, 1.0):
        tw.append((np.searchsorted(key, key + sgn * lag_days - turn_days, side="left"),
                   np.searchsorted(key, key + sgn * lag_days + turn_days, side="right")))
    # calendar blocks of the label permutation, on the log's own grid (days from its first
    # event: a week-level cause of the data keeps its weeks)
    nb = int(float(ft.max()) // block_days) + 2 if len(ft) else 1
    block = (gi.astype(np.int64) * nb + np.floor(ft / block_days).astype(np.int64)).astype(float)
    return dict(v=v, lab=lab, gi=gi, G=G, recv=recv, gave=gave, start=start, pos_r=pos_r,
                pos_i=pos_i, w_a=w_a, w_b=w_b, E=np.exp(lam * rel),
                back_r=np.exp(-lam * (rel - concurrent_days)), back_i=np.exp(-lam * rel),
                block=block, prior=prior, concurrent_days=concurrent_days, N=len(v), tw=tw,
                pid=pid, n=n, y=fy, t=ft, lag=lag_days, h=turn_days)


def _turn_sums(d, lab):
    """Per pair, under the direction labels ``lab``: Σ over events of the event's value
    (centred on its label's mean) × (the partner label's mean ``lag_days`` before and after
    − the partner label's concurrent mean), the number of events with both means defined
    (a partner event in each), and Σ of the squared terms."""
    el, ec, ok = _turn_parts(d, lab)
    e = el - ec
    gi, G = d["gi"], d["G"]
    return (np.bincount(gi, weights=e, minlength=G), np.bincount(gi, weights=ok, minlength=G),
            np.bincount(gi, weights=e * e, minlength=G))


def _turn_parts(d, lab):
    """Per event (pair-sorted rows) under the direction labels ``lab``: the lagged and the
    concurrent products of :func:`_lagged_minus_concurrent` and whether both are defined."""
    gi, G = d["gi"], d["G"]
    one = lab.astype(bool)
    k2 = gi * 2 + lab
    v = d["y"] - (np.bincount(k2, weights=d["y"], minlength=2 * G) /
                  np.maximum(np.bincount(k2, minlength=2 * G), 1))[k2]
    return _lagged_and_concurrent(v, one, d["tw"][:1], d["tw"][1:])


def _lagged_minus_concurrent(v, one, concurrent, lagged):
    """Per event (rows sorted by pair and time; ``one``: its direction label): ``v`` ×
    (the partner direction's mean of ``v`` over the ``lagged`` row ranges − its mean over
    the ``concurrent`` ones), 0 where a mean is undefined, and whether both are defined.
    Ranges are lists of (start, end) arrays of row indices; sums are differences of
    cumulative sums."""
    el, ec, ok = _lagged_and_concurrent(v, one, concurrent, lagged)
    return el - ec, ok


def _lagged_and_concurrent(v, one, concurrent, lagged):
    """The two products of :func:`_lagged_minus_concurrent` apart: ``v`` × the partner's
    lagged mean, ``v`` × its concurrent mean (0 where either mean is undefined), and
    whether both are defined."""
    c1 = np.r_[0.0, np.cumsum(v * one)]
    ca = np.r_[0.0, np.cumsum(v)]
    k1 = np.r_[0.0, np.cumsum(one.astype(float))]

    def partner(ranges):
        s = k = 0.0
        for a, b in ranges:
            b = np.maximum(a, b)
            s1, sa = c1[b] - c1[a], ca[b] - ca[a]
            m1, mm = k1[b] - k1[a], (b - a).astype(float)
            s = s + np.where(one, sa - s1, s1)
            k = k + np.where(one, mm - m1, m1)
        return s, k

    s0, n0 = partner(concurrent)
    sl, nl = partner(lagged)
    ok = (n0 > 0) & (nl > 0)
    return (np.where(ok, v * sl / np.maximum(nl, 1), 0.0),
            np.where(ok, v * s0 / np.maximum(n0, 1), 0.0), ok)


def _columns(d, lab):
    """The outcome's groups and the five regressors of the events under the direction
    labels ``lab`` (1: hi → lo), all from cumulative sums along the pair-sorted rows."""
    v, gi, E, prior = d["v"], d["gi"], d["E"], d["prior"]
    one = lab.astype(bool)

    def csum(x):
        return pd.Series(x).groupby(gi).cumsum().to_numpy()

    ve, e1 = v * E, E * one
    vn1 = csum(ve * one)
    vn = csum(ve)
    en1 = csum(e1)
    en = csum(E)

    def before(cs, pos):
        # sum over the pair's rows [start, pos): the inclusive cumsum at pos − 1
        return np.where(pos > d["start"], cs[np.maximum(pos - 1, 0)], 0.0)

    def partner_decayed(pos, back):
        n1, nn = before(vn1, pos), before(vn, pos)
        k1, kk = before(en1, pos), before(en, pos)
        num = np.where(one, nn - n1, n1) * back
        den = np.where(one, kk - k1, k1) * back
        return num, den

    rn, rd = partner_decayed(d["pos_r"], d["back_r"])
    # inertia: the event's own label
    n1, nn = before(vn1, d["pos_i"]), before(vn, d["pos_i"])
    k1, kk = before(en1, d["pos_i"]), before(en, d["pos_i"])
    inn = np.where(one, n1, nn - n1) * d["back_i"]
    ind = np.where(one, k1, kk - k1) * d["back_i"]
    # concurrent window: plain cumulative sums (no decay)
    c1 = np.r_[0.0, np.cumsum(v * one)]
    ca = np.r_[0.0, np.cumsum(v)]
    k1c = np.r_[0.0, np.cumsum(one.astype(float))]
    a, b = d["w_a"], d["w_b"]
    s1, sa = c1[b] - c1[a], ca[b] - ca[a]
    m1 = k1c[b] - k1c[a]
    mall = (b - a).astype(float)
    cn = np.where(one, sa - s1, s1)
    cd = np.where(one, mall - m1, m1)
    X = np.column_stack([rn / (rd + prior), cn / (cd + prior), inn / (ind + prior),
                         np.where(one, d["recv"][:, 1], d["recv"][:, 0]),
                         np.where(one, d["gave"][:, 0], d["gave"][:, 1])])
    return gi * 2 + lab, X


def _within(v, g):
    """``v`` (n or n × k) minus its group means."""
    inv = np.unique(g, return_inverse=True)[1].ravel()
    cnt = np.bincount(inv).astype(float)
    if v.ndim == 1:
        return v - (np.bincount(inv, weights=v) / cnt)[inv]
    return np.column_stack([v[:, j] - (np.bincount(inv, weights=v[:, j]) / cnt)[inv]
                            for j in range(v.shape[1])])


def _ols(yw, Xw):
    """Least squares on within-transformed data; (beta, (X'X)^-1) or None if singular."""
    XtX = Xw.T @ Xw
    if (Xw[:, 0] ** 2).sum() <= 1e-12 * len(yw) or np.linalg.cond(XtX) > 1e12:
        return None
    inv = np.linalg.inv(XtX)
    return inv @ (Xw.T @ yw), inv


def _fit(d, *, n_perm, rng):
    N, G = d["N"], d["G"]
    K = len(_TERMS) - 1
    nan = np.full(K, np.nan)
    none = (np.nan,) * 5
    if G < 2 or N <= K + 2 * G:
        return _table(nan, nan, none, N, G, G)
    grp, X = _columns(d, d["lab"])
    yw = _within(d["v"], grp)
    Xall = _within(X, grp)
    # a control with no within-pair variation (nobody has other partners) is left out
    keep = np.r_[True, (Xall[:, 1:] ** 2).sum(axis=0) > 1e-12 * N]
    Xw = Xall[:, keep]
    fitted = _ols(yw, Xw)
    if fitted is None:
        return _table(nan, nan, none, N, G, G)
    b, inv = fitted
    u = yw - Xw @ b
    # CR1 sandwich, clusters = pairs; the pair-direction intercepts count in the dof
    S = np.column_stack([np.bincount(d["gi"], weights=Xw[:, j] * u, minlength=G)
                         for j in range(Xw.shape[1])])
    n_fe = len(np.unique(grp))
    corr = G / (G - 1) * (N - 1) / max(N - Xw.shape[1] - n_fe, 1)
    V = corr * inv @ (S.T @ S) @ inv
    beta = np.full(K, np.nan)
    se = np.full(K, np.nan)
    beta[keep] = b
    se[keep] = np.sqrt(np.maximum(np.diag(V), 0))
    turn = _turn_test(d, n_perm=n_perm, rng=rng)
    out = _table(beta, se, turn, N, G, G)
    out.attrs["p_turns_label"], out.attrs["p_turns_shift"] = turn[3], turn[4]
    out.attrs["n_perm_used"] = turn[5]
    return out


def _turn_terms(gi, lab, t, v, *, lag, h):
    """Per event (rows re-sorted by pair and time; ``gi``: 0..G−1): ``v`` × the partner
    direction's mean of ``v`` ``lag`` ± ``h`` days before and after, ``v`` × its mean
    within ± ``h``, and whether both means are defined; with the re-sorted ``gi``. Any
    row order; one sort."""
    o = np.lexsort((t, gi))
    gi, lab, t, v = gi[o], lab[o], t[o], v[o]
    one = lab.astype(bool)
    width = float(t.max() - t.min()) + 4 * (lag + h) + 2.0
    key = gi * width + (t - t.min())
    concurrent = [(np.searchsorted(key, key - h, side="right"),
                   np.searchsorted(key, key + h, side="left"))]
    lagged = [(np.searchsorted(key, key + sg * lag - h, side="left"),
               np.searchsorted(key, key + sg * lag + h, side="right")) for sg in (-1.0, 1.0)]
    return (gi,) + _lagged_and_concurrent(v, one, concurrent, lagged)


def _two_stats(sl, sc, m):
    """The turn test's two statistics from per-pair sums of the lagged and concurrent
    products: (Σ lagged − Σ concurrent) / M, the pooled turn statistic, and
    Σ_pairs (lagged − max(concurrent, 0)) / M, in which a pair's concurrent covariance
    counts only when positive (a shared cause's signature): one side bad while the other
    is not — noise in most pairs, turns in few — adds no variance."""
    M = max(m.sum(), 1.0)
    return (sl.sum() - sc.sum()) / M, (sl - np.maximum(sc, 0.0)).sum() / M


def _three_stats(gi, G, el, ec, ok):
    """The turn test's statistics from per-event lagged and concurrent products (``gi``:
    each event's pair): the two of :func:`_two_stats` (dense alternatives: turns spread
    over many pairs) and the largest pair's self-normalised statistic (a sparse one: one
    or few pairs taking turns among hundreds, which the pooled sums dilute),
    :math:`\\max_g (L_g - \\max(C_g, 0)) / \\sqrt{\\sum_e (l_e - c_e)^2}` with
    :math:`l_e, c_e` an event's lagged and concurrent products and :math:`L_g, C_g` their
    pair sums (the pair's summand of the second statistic over the root of its sum of
    squared turn terms). The numerator is at most :math:`\\sum_e (l_e - c_e)` when
    positive, so by Cauchy–Schwarz a pair's value is at most :math:`\\sqrt{m_g}` (its
    number of terms): a pair with few events cannot reach the maximum by a few large
    values (self-normalised sums, de la Peña, Lai & Shao 2009)."""
    sl = np.bincount(gi, weights=el, minlength=G)
    sc = np.bincount(gi, weights=ec, minlength=G)
    m = np.bincount(gi, weights=ok, minlength=G)
    q = np.bincount(gi, weights=(el - ec) ** 2, minlength=G)
    num = sl - np.maximum(sc, 0.0)
    z = np.where(q > 0, num / np.sqrt(np.where(q > 0, q, 1.0)), 0.0)
    return np.r_[_two_stats(sl, sc, m), z.max() if G else 0.0]


def _npc_p(obs, draws):
    """Tippett's nonparametric combination (Pesarin & Salmaso 2010) of the statistics in
    the columns of ``draws`` (one row per draw; ``obs`` the observed row): each
    statistic's p among all rows (the observed counted), their minimum per row, and the
    p of the observed minimum among them, ``(1 + #{draws with min p <= observed's}) /
    (1 + draws)``."""
    allv = np.vstack([obs, draws])
    n = len(allv)
    P = np.empty_like(allv)
    for j in range(allv.shape[1]):
        srt = np.sort(allv[:, j])
        P[:, j] = (n - np.searchsorted(srt, allv[:, j] - 1e-12, side="left")) / n
    mn = P.min(axis=1)
    return (1 + (mn[1:] <= mn[0] + 1e-12).sum()) / n


def _turn_test(d, *, n_perm, rng):
    """The turn statistic (:func:`_turn_sums` pooled over pairs: Σ terms / Σ events), its
    dyad-robust standard error, and its one-sided p: the larger of the p under permutations
    of the direction labels within each pair's calendar blocks (exact under a cause shared
    by both directions) and the p under circular shifts of each pair's hi → lo series
    against its lo → hi series (exact when each direction has its own time structure, e.g.
    one side's overload); ``(est, se, p, p_label, p_shift, used)``, p NaN when ``n_perm =
    0``. Under each null the p combines three statistics computed on the same draws
    (:func:`_three_stats`, :func:`_npc_p`). Draws stop early once either null has
    :data:`_STOP_EXCEEDANCES` draws at least as large as the observed in all three
    (Besag & Clifford's 1991 sequential stopping): ``used`` draws were made."""
    gi, G = d["gi"], d["G"]
    el, ec, ok = _turn_parts(d, d["lab"])
    sl = np.bincount(gi, weights=el, minlength=G)
    sc = np.bincount(gi, weights=ec, minlength=G)
    m = np.bincount(gi, weights=ok, minlength=G)
    S = sl - sc
    M = m.sum()
    if M <= 0:
        return np.nan, np.nan, np.nan, np.nan, np.nan, 0
    est = S.sum() / M
    obs = _three_stats(gi, G, el, ec, ok)
    # pairs that share a person are not independent (Aronow, Samii & Assenova 2015):
    # Σ over pairs of pairs sharing a member of their score products
    r = S - est * m
    lo, hi = d["pid"] // d["n"], d["pid"] % d["n"]
    R = np.bincount(lo, weights=r, minlength=d["n"]) + np.bincount(hi, weights=r,
                                                                   minlength=d["n"])
    V = max((R ** 2).sum() - (r ** 2).sum(), (r ** 2).sum()) * G / max(G - 1, 1)
    se = np.sqrt(V) / M
    if n_perm == 0:
        return est, se, np.nan, np.nan, np.nan, 0
    lab, block, t = d["lab"], d["block"], d["t"]
    k2 = gi * 2 + lab
    v = d["y"] - (np.bincount(k2, weights=d["y"], minlength=2 * G) /
                  np.maximum(np.bincount(k2, minlength=2 * G), 1))[k2]
    t0 = pd.Series(t).groupby(gi).min().to_numpy()
    L = pd.Series(t).groupby(gi).max().to_numpy() - t0 + 1.0
    lo_shift = np.minimum(30.0, L / 4)
    D_label = np.empty((n_perm, len(obs)))
    D_shift = np.empty((n_perm, len(obs)))
    dom_label = dom_shift = 0
    used = 0
    while used < n_perm:
        # rows are sorted by block: one argsort of block + U(0, 1) shuffles within blocks
        el_, ec_, ok_ = _turn_parts(d, lab[np.argsort(block + rng.random(len(lab)),
                                                      kind="stable")])
        D_label[used] = _three_stats(gi, G, el_, ec_, ok_)
        # hi → lo moved by u, uniform in [30 d, span − 30 d] (a quarter of short spans)
        u = lo_shift + rng.random(G) * np.maximum(L - 2 * lo_shift, 0)
        ts = np.where(lab == 1, t0[gi] + np.mod(t - t0[gi] + u[gi], L[gi]), t)
        gs, el_, ec_, ok_ = _turn_terms(gi, lab, ts, v, lag=d["lag"], h=d["h"])
        D_shift[used] = _three_stats(gs, G, el_, ec_, ok_)
        dom_label += bool(np.all(D_label[used] >= obs - 1e-12))
        dom_shift += bool(np.all(D_shift[used] >= obs - 1e-12))
        used += 1
        if max(dom_label, dom_shift) >= _STOP_EXCEEDANCES and used < n_perm:
            break
    # a draw at least as large in every statistic has a combined p at most the observed's:
    # stopped after ``used`` draws, a null's combined p is >= 11 / (1 + used) > 10 / n_perm,
    # and a p <= 10 / (1 + n_perm) with all draws never stops (Besag & Clifford 1991): no
    # decision at a level below that changes
    p_label = _npc_p(obs, D_label[:used])
    p_shift = _npc_p(obs, D_shift[:used])
    return est, se, max(p_label, p_shift), p_label, p_shift, used


def _table(beta, se, turn, N, G, df):
    from scipy import stats

    beta = np.r_[beta, turn[0]]
    se = np.r_[se, turn[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        tv = beta / se
    dfree = max(df - 1, 1)
    p = 2 * stats.t.sf(np.abs(tv), dfree)
    p[0] = stats.t.sf(tv[0], dfree)
    p[-1] = turn[2]
    h = stats.t.ppf(0.975, dfree) * se
    p_perm = np.full(len(_TERMS), np.nan)
    p_perm[0] = p_perm[-1] = turn[2]
    out = pd.DataFrame({"term": _TERMS, "estimate": beta, "se": se, "t": tv, "p": p,
                        "ci_low": beta - h, "ci_high": beta + h, "p_perm": p_perm,
                        "n_events": N, "n_pairs": G})
    return out[_COLUMNS]
