"""The change test of :func:`icnet.retaliation_spirals`: a drop in a pair's mutual service.

Private helpers, all vectorised across pair-directions (no Python loop over pairs or
events). See docs/methods/spirals.md for the method and its references.

- :func:`local_control` (the default since #18's control7): an event's quality net of
  its provider's service to *others* and its client's service received from *others*
  within ± half a period of it (time-local leave-the-pair-out actor and partner
  effects), each shrunk towards its unit's (both directions of the pair left out):
  a unit's bad month, a person's bad month or overload, and the specificity check "is
  the drop targeted at the partner?". :func:`person_period_control` (fixed periods, no
  units) is the earlier one, kept for :func:`icnet.reciprocity_test`.
- :func:`drawdown`: the largest drop of the centred cumulative sum (CUSUM) of each
  group's series — a drop that lasts to the end (lock-in) or a segment (an episode)
  — with its start and end rows.
- :func:`drop_test`: a sequential permutation p-value of that drop per group (Besag &
  Clifford 1991), its Monte Carlo standard error, with permutations drawn by a
  counter-based hash of (seed, group key, permutation, row) so that a group's p-value
  does not depend on which other groups are tested.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix(x):
    """SplitMix64 finaliser on a uint64 array (Steele, Lea & Flood 2014): a counter-based
    generator, so the uniform of (seed, key, permutation, row) needs no state."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def uniforms(seed: int, key, perm, row):
    """U(0, 1) for each (key, perm, row) — broadcastable uint64-convertible arrays."""
    with np.errstate(over="ignore"):
        h = _splitmix(np.uint64(seed % 2 ** 64) ^ _splitmix(np.asarray(key, np.uint64)))
        h = _splitmix(h ^ np.asarray(perm, np.uint64) * np.uint64(0xD1B54A32D192ED03))
        h = _splitmix(h ^ np.asarray(row, np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def _hashes(seed: int, key, perm, row):
    """The 64-bit hashes behind :func:`uniforms` (uniforms = (hash >> 11) · 2⁻⁵³, the same
    order up to ties of probability 2⁻⁵³): sorting them permutes without converting to
    floats; the (key, perm) part is hashed once per broadcast shape, not per row."""
    with np.errstate(over="ignore"):
        h = _splitmix(np.uint64(seed % 2 ** 64) ^ _splitmix(np.asarray(key, np.uint64)))
        h = _splitmix(h ^ np.asarray(perm, np.uint64) * np.uint64(0xD1B54A32D192ED03))
        x = h ^ np.asarray(row, np.uint64)                # the one full-size array
        x += np.uint64(0x9E3779B97F4A7C15)                # _splitmix, in place
        t = x >> np.uint64(30)
        x ^= t
        x *= np.uint64(0xBF58476D1CE4E5B9)
        np.right_shift(x, np.uint64(27), out=t)
        x ^= t
        x *= np.uint64(0x94D049BB133111EB)
        np.right_shift(x, np.uint64(31), out=t)
        x ^= t
        return x


def person_period_control(p, c, t_days, z, *, period_days: float = 28.0,
                          prior: float = 3.0, gate: float = 0.0):
    """``z`` minus its provider's and its client's leave-the-pair-out period means.

    For event *e* of provider A to client B in period *m*: A's mean quality to
    clients other than B in *m* and B's mean quality received from providers other
    than A in *m*, each shrunk towards 0 by ``prior`` pseudo-events, are subtracted.
    A drop that A shows to everybody (a bad month of A or of A's unit) or that B
    reports of everybody is not a drop *in the pair*.

    With ``gate`` > 0 a period mean whose z-score (mean over its own events' SD over the
    square root of their number) is ``z`` is subtracted times
    :math:`\\max(0, 1 - \\mathrm{gate}^2 / z^2)`: Breiman's (1995) nonnegative garrote
    (the positive-part James–Stein factor of one coordinate), so a mean within ``gate``
    standard errors of 0 is set to 0 and a clear effect is kept almost whole, without the
    jump of a hard threshold at ``gate``. The noise of a mean
    over the others' events is shared by every event of the pair in the period; where
    the pair has many events a period (units), that shared noise made the change test's
    permutation null anti-conservative (docs/methods/spirals-record.md, "The control at an
    aggregated level").

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0, 0, 0, 0]); c = np.array([1, 2, 2, 2])
    >>> z = np.array([-1.0, -1.0, -1.0, -1.0]); t = np.zeros(4)
    >>> # A is as bad to C (3 events, shrunk by 3 pseudo-events: -0.5) as to B
    >>> float(person_period_control(p, c, t, z)[0])
    -0.5
    """
    prov = loo_side(p, c, t_days, z, period_days=period_days, prior=prior, gate=gate)
    cli = loo_side(c, p, t_days, z, period_days=period_days, prior=prior, gate=gate)
    return np.where(np.isfinite(z), z - prov - cli, np.nan)


def loo_side(who, other, t_days, z, *, period_days: float = 28.0, prior: float = 3.0,
             gate: float = 0.0):
    """Per event: the mean ``z`` of ``who``'s events with anybody but ``other`` in the
    same period, shrunk towards 0 by ``prior`` pseudo-events (one side of
    :func:`person_period_control`; the rows must hold all of ``who``'s events); with
    ``gate`` > 0, shrunk by the nonnegative garrote (0 within ``gate`` standard errors
    of 0; :func:`person_period_control`)."""
    who = np.asarray(who, np.int64)
    other = np.asarray(other, np.int64)
    m = np.floor(np.asarray(t_days, float) / period_days).astype(np.int64)
    ok = np.isfinite(z)
    zz = np.where(ok, z, 0.0)
    w = ok.astype(float)
    if len(m) == 0:
        return np.zeros(0)
    # group codes by hashing (pd.factorize, O(n)); the sums per group are the same
    # whatever the codes' order
    inv1 = _codes(who, m)
    inv2 = _codes(who, other, m)
    s1 = np.bincount(inv1, weights=zz)[inv1]
    n1 = np.bincount(inv1, weights=w)[inv1]
    s2 = np.bincount(inv2, weights=zz)[inv2]
    n2 = np.bincount(inv2, weights=w)[inv2]
    mean = (s1 - s2) / (n1 - n2 + prior)
    if gate <= 0:
        return mean
    # the standard error of the leave-the-pair-out mean, from its own events' spread
    q1 = np.bincount(inv1, weights=zz * zz)[inv1]
    q2 = np.bincount(inv2, weights=zz * zz)[inv2]
    n = n1 - n2
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(q1 - q2 - (s1 - s2) ** 2 / np.maximum(n, 1), 0) / \
            np.maximum(n - 1, 1)
        z2 = (s1 - s2) ** 2 / (np.maximum(n, 1) * var)
        keep = np.clip(1.0 - gate * gate / z2, 0.0, 1.0)      # nonnegative garrote
    return np.where((n >= 2) & np.isfinite(keep), mean * keep, 0.0)


def _merge_search(a, v):
    """``np.searchsorted(a, v, "left")`` for sorted ``a`` and sorted ``v``, as one stable
    merge: the stable sort (timsort) of ``v`` followed by ``a`` finds the two sorted runs
    and merges them in linear time, each value of ``v`` before the equal ones of ``a``, so
    the number of ``a``'s before it is its position minus its own rank. Exactly the
    binary search's answer, 2x faster on millions of rows (5 M: 0.45 s -> 0.21 s).

    >>> import numpy as np
    >>> _merge_search(np.array([0.0, 1, 1, 3]), np.array([-1.0, 1, 2, 5])).tolist()
    [0, 1, 3, 4]
    """
    pos = np.flatnonzero(np.argsort(np.concatenate([v, a]), kind="stable") < len(v))
    return pos - np.arange(len(v))


def _window_sums(g, t, vals, h):
    """Sums of each of ``vals`` over the rows of group ``g`` whose time lies in
    [t − h, t + h), for each row: one sort by (group, time) and cumulative sums, the
    window's ends found by binary search of the sorted keys (no loop over rows or
    groups; the loop is over the few value arrays, each gathered and scattered as one
    contiguous 1-D array, 2x faster than a 2-D fancy index). ``g``: non-negative
    integers.

    >>> import numpy as np
    >>> g = np.array([0, 0, 0, 1]); t = np.array([0.0, 5, 20, 5])
    >>> _window_sums(g, t, [np.ones(4)], 7.0)[0].tolist()   # ±7 days, same group
    [2.0, 2.0, 1.0, 1.0]
    """
    t = np.asarray(t, float)
    if len(t) == 0:
        return [np.zeros(0) for _ in vals]
    t0 = float(t.min())
    span = float(t.max()) - t0 + 2.0 * h + 2.0     # windows never reach another group
    key = np.asarray(g, np.int64) * span + (t - t0)
    # ties: same window ends, so any order will do. Stable (timsort): events arrive sorted
    # by provider, client and time, so the keys come in long sorted runs that it merges
    # (the control at 764,125 events: 1.0-1.2 s -> 0.86 s CPU), and the gathers below
    # then read memory nearly in order
    o = np.argsort(key, kind="stable")
    ks = key[o]
    lo = _merge_search(ks, ks - h)
    hi = _merge_search(ks, ks + h)
    cs = np.zeros(len(t) + 1)
    out = []
    for v in vals:
        np.cumsum(np.asarray(v, float)[o], out=cs[1:])
        r = np.empty(len(t))
        r[o] = cs[hi] - cs[lo]
        out.append(r)
    return out


def _pair_window_sums(who, other, t, vals, h):
    """Per row: sums of each of ``vals`` over the same direction's rows (same ``who`` and
    ``other``) and over the reverse direction's rows (``who`` and ``other`` swapped) within
    [t − h, t + h): one sort by (unordered pair, time), a cumulative sum per direction
    (:func:`_window_sums`). Returns (own sums, reverse sums), lists like ``vals``."""
    who = np.asarray(who, np.int64)
    other = np.asarray(other, np.int64)
    lo_, hi_ = np.minimum(who, other), np.maximum(who, other)
    pair = pd.factorize(lo_ * (int(hi_.max()) + 1 if len(hi_) else 1) + hi_)[0]
    first = who < other
    vv = [np.where(first, v, 0.0) for v in vals] + [np.where(first, 0.0, v) for v in vals]
    sums = _window_sums(pair, t, vv, h)
    k = len(vals)
    own = [np.where(first, x, y) for x, y in zip(sums[:k], sums[k:])]
    rev = [np.where(first, y, x) for x, y in zip(sums[:k], sums[k:])]
    return own, rev


def _garrote(s, n, q, gate):
    """The nonnegative garrote factor max(0, 1 − gate² / z²) of a mean ``s / n`` whose
    z-score is its mean over its events' SD / sqrt(n) (``q``: sum of squares); 0 where
    fewer than 2 events (Breiman 1995; :func:`person_period_control`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(q - s ** 2 / np.maximum(n, 1), 0) / np.maximum(n - 1, 1)
        z2 = s ** 2 / (np.maximum(n, 1) * var)
        keep = np.clip(1.0 - gate * gate / z2, 0.0, 1.0)
    return np.where((n >= 2) & np.isfinite(keep), keep, 0.0)


def local_side(who, other, t_days, z, *, who_unit=None, other_unit=None,
               period_days: float = 28.0, prior: float = 3.0, gate: float = 0.0,
               unit_gate: float = 2.0, pair_sums=None):
    """Per event: ``who``'s time-local leave-the-pair-out mean ``z`` (its events with
    anybody but ``other`` within ± ``period_days`` / 2 of the event), shrunk by ``prior``
    pseudo-events towards its unit's time-local leave-the-pair-out mean (``who_unit``:
    the events of who's unit, both directions of the pair left out) — or towards 0
    without units. The unit's mean is shrunk by the nonnegative garrote at ``unit_gate``
    standard errors, the person's (with ``gate`` > 0) as in :func:`loo_side`.

    One side of :func:`local_control`: the rows must hold all events of ``who``'s unit
    (all of ``who``'s events without units). Unit codes < 0 mean "no unit" (mean 0).
    ``pair_sums``: the window sums of the pair's two directions (this one's, the other's)
    when already computed (:func:`local_control` shares them between the two sides).

    Examples
    --------
    >>> import numpy as np
    >>> # A (unit 0) serves only B; A's unit-mate C serves D badly at the same time
    >>> who = np.array([0, 0, 2, 2, 2, 2]); oth = np.array([1, 1, 3, 3, 3, 3])
    >>> u = np.zeros(6, np.int64); t = np.array([0.0, 1, 0, 1, 2, 3])
    >>> z = np.array([-1.0, -1, -1, -1.1, -0.9, -1])
    >>> m = local_side(who, oth, t, z, who_unit=u, other_unit=u + 1)
    >>> round(float(m[0]), 2)        # A's own others: none; its unit's: about -1
    -0.99
    """
    who = np.asarray(who, np.int64)
    other = np.asarray(other, np.int64)
    t = np.asarray(t_days, float)
    if len(who) == 0:
        return np.zeros(0)
    h = period_days / 2.0
    ok = np.isfinite(z)
    zz = np.where(ok, z, 0.0)
    w = ok.astype(float)
    vals = [zz, w, zz * zz]
    need_q = gate > 0 or who_unit is not None      # sums of squares: for the garrotes
    if need_q:
        sp, np_, qp = _window_sums(who, t, vals, h)
    else:
        (sp, np_), qp = _window_sums(who, t, vals[:2], h), 0.0
    if pair_sums is None:
        pair_sums = _pair_window_sums(who, other, t, vals if need_q else vals[:2], h)
    own, rev = pair_sums
    (sd, nd), (sr, nr) = own[:2], rev[:2]
    qd, qr = (own[2], rev[2]) if len(own) > 2 else (0.0, 0.0)
    s, n, q = sp - sd, np_ - nd, qp - qd
    mu = np.zeros(len(t))
    if who_unit is not None:
        wu = np.asarray(who_unit, np.int64)
        ou = np.asarray(other_unit, np.int64)
        has_u = wu >= 0
        # people without a unit: a group of their own that no unit's row looks up
        su, nu, qu = _window_sums(np.where(has_u, wu, int(wu.max()) + 1), t, vals, h)
        # the pair's other direction is the unit's too when both are in it
        same = (ou == wu) & has_u
        su = su - sd - np.where(same, sr, 0.0)
        nu = nu - nd - np.where(same, nr, 0.0)
        qu = qu - qd - np.where(same, qr, 0.0)
        mu = np.where(has_u & (nu > 0), su / np.maximum(nu, 1), 0.0) * \
            _garrote(su, nu, qu, unit_gate)
    # the person's deviation from its unit, shrunk by ``prior`` pseudo-events and (gate
    # > 0) by the garrote: μ_U + keep · (s − n μ_U) / (n + prior); keep = 1 gives
    # (s + prior · μ_U) / (n + prior)
    dev = s - n * mu
    if gate > 0:
        dev = dev * _garrote(dev, n, q - 2 * mu * s + n * mu * mu, gate)
    return mu + dev / (n + prior)


def local_control(p, c, t_days, z, *, unit=None, period_days: float = 28.0,
                  prior: float = 3.0, gate: float = 0.0, unit_gate: float = 2.0):
    """``z`` minus its provider's and its client's time-local leave-the-pair-out means,
    each shrunk towards its unit's (see :func:`local_side`; ``unit``: a unit code per
    node id, < 0 for none, or None). A unit's bad month (its service and its ratings)
    or a provider's overload episode, wherever it falls in the calendar, is not a drop
    *in the pair*, even for a person with few or no other partners.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0, 0, 0, 0]); c = np.array([1, 2, 2, 2])
    >>> z = np.array([-1.0, -1.0, -1.0, -1.0]); t = np.zeros(4)
    >>> float(local_control(p, c, t, z)[0])    # as person_period_control without units
    -0.5
    """
    p = np.asarray(p, np.int64)
    c = np.asarray(c, np.int64)
    up = uc = None
    if unit is not None:
        unit = np.asarray(unit, np.int64)
        up, uc = unit[p], unit[c]
    # the pair's two directions' window sums are the same rows for both sides (p -> c
    # events, and c -> p ones): one sort
    ok = np.isfinite(z)
    zz = np.where(ok, z, 0.0)
    vals = [zz, ok.astype(float)] + ([zz * zz] if gate > 0 or unit is not None else [])
    ps = _pair_window_sums(p, c, np.asarray(t_days, float), vals, period_days / 2.0)
    kw = dict(period_days=period_days, prior=prior, gate=gate, unit_gate=unit_gate,
              pair_sums=ps)
    prov = local_side(p, c, t_days, z, who_unit=up, other_unit=uc, **kw)
    cli = local_side(c, p, t_days, z, who_unit=uc, other_unit=up, **kw)
    return np.where(np.isfinite(z), z - prov - cli, np.nan)


def _codes(*cols):
    """Group codes of the rows of integer columns: one int64 key (mixed radix) hashed by
    pd.factorize; a MultiIndex when the key would overflow."""
    key = np.zeros(len(cols[0]), np.int64)
    span = 1.0
    for col in cols:
        lo = int(col.min()) if len(col) else 0
        r = int(col.max()) - lo + 1 if len(col) else 1
        span *= r
        if span >= 2 ** 62:
            return pd.factorize(pd.MultiIndex.from_arrays(list(cols)))[0]
        key = key * r + (col - lo)
    return pd.factorize(key)[0]


def _seg_runmax_drop(S, gstart, gsize, tot):
    """Max over k of (max_{j<=k} S_j − S_k) per contiguous group, with S_0 = 0 allowed,
    via one maximum.accumulate on group-offset values (``tot`` bounds each group's |S|)."""
    off = np.repeat(np.r_[0.0, np.cumsum(2 * tot + 1.0)][:-1], gsize)
    Sp = S + off
    rm = np.maximum(np.maximum.accumulate(Sp), off)
    dd = rm - Sp
    return dd, rm - off


def _window(gsize):
    """MOSUM bandwidth per group: about a twelfth of its events (a month of a year),
    at least 5 and at most 30 events."""
    return np.clip(np.round(gsize / 12.0), 5, 30).astype(np.int64)


def _stats(x, gstart, gsize, where=False):
    """Per group: T = max(CUSUM drawdown / sqrt(n), lowest MOSUM window sum / sqrt(w)),
    both of the group-centred series; with ``where`` also the onset and end rows."""
    G = len(gstart)
    g = np.repeat(np.arange(G), gsize)
    mean = np.bincount(g, weights=x, minlength=G) / gsize
    xc = x - mean[g]
    S = np.cumsum(xc)
    base = np.r_[0.0, S[gstart[1:] - 1]] if G else np.zeros(0)
    S = S - np.repeat(base, gsize)
    tot = np.bincount(g, weights=np.abs(xc), minlength=G)
    dd, rm = _seg_runmax_drop(S, gstart, gsize, tot)
    dmax = np.maximum.reduceat(dd, gstart) if G else np.zeros(0)
    # MOSUM: sum of w consecutive centred values, w per group (S with S_0 = 0)
    w = np.minimum(_window(gsize), gsize)
    idx = np.arange(len(x))
    rel = idx - np.repeat(gstart, gsize)
    Sprev = S - xc                                   # S_{k-1} (0 at the group's start)
    endw = idx + w[g] - 1
    okw = rel + w[g] <= gsize[g]
    mos = np.where(okw, Sprev - S[np.minimum(endw, len(x) - 1)], -np.inf)
    mmax = np.maximum.reduceat(mos, gstart) if G else np.zeros(0)
    t_cusum = dmax / np.sqrt(gsize)
    t_mosum = mmax / np.sqrt(w)
    if not where:
        return t_cusum, t_mosum
    # the drop is located by the CUSUM (the least-squares change point of the segment);
    # the MOSUM window only where the CUSUM finds no fall at all
    use_m = dmax <= 0
    # CUSUM: end = first row reaching the largest drop; onset = row after the last
    # running-max position before it
    is_max = dd >= np.repeat(dmax, gsize) - 1e-12
    end_c = pd.Series(np.where(is_max, idx, len(x))).groupby(g).min().to_numpy()
    peak = rm[end_c]
    cand = np.where((np.abs(S - peak[g]) <= 1e-9 * (1 + np.abs(peak[g]))) &
                    (idx <= end_c[g]), idx, -1)
    last = pd.Series(cand).groupby(g).max().to_numpy()
    on_c = np.minimum(np.where(last >= gstart, last + 1, gstart), end_c)
    # MOSUM: the first window with the lowest sum
    is_m = okw & (mos >= np.repeat(mmax, gsize) - 1e-12)
    on_m = pd.Series(np.where(is_m, idx, len(x))).groupby(g).min().to_numpy()
    end_m = on_m + w - 1
    return (t_cusum, t_mosum), np.where(use_m, on_m, on_c), np.where(use_m, end_m, end_c)


def drawdown(x, gstart, gsize):
    """Per contiguous group of the (time-sorted) series ``x``: the two drop statistics
    (largest CUSUM drawdown / sqrt(n), lowest MOSUM window sum / sqrt(w)), the first
    row (onset) and the last row (end) of the CUSUM's drop, global indices.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.ones(10), -np.ones(10)]
    >>> (cusum, mosum), on, end = drawdown(x, np.array([0]), np.array([20]))
    >>> round(float(cusum[0]), 3), int(on[0]), int(end[0])
    (2.236, 10, 19)
    """
    return _stats(x, gstart, gsize, where=True)


def drop_test(x, gstart, gsize, keys, *, seed: int, h: int = 5, max_perm: int = 999,
              first: int = 19, budget: float = 1.25e5, levels=(),
              max_refine: int | None = None, z_stable: float = 2.576, offset=None):
    """Sequential permutation p-value of each group's drop (see module doc).

    Both statistics of :func:`drawdown` (CUSUM: a lasting drop; MOSUM: a short episode)
    are compared with the same permutations of the group's values; p is the Bonferroni
    combination min(1, 2·min(p_cusum, p_mosum)), each p = (1 + count) / (1 + L) over
    the L permutations drawn. Permutations are added in batches (``first``, then
    doubling, up to ``max_perm``) for the groups where either count is still below ``h``
    (Besag & Clifford 1991): a group far from significance stops early, one near the
    decision gets up to ``max_perm``. Returns (p, se, L), se the Monte Carlo standard
    error 2·sqrt(p'(1 − p') / L) of the smaller p'.

    Then, for the decision: a group whose p is within ``z_stable`` Monte Carlo standard
    errors of one of ``levels`` (the thresholds its p is compared with) gets its number
    of permutations doubled, up to ``max_refine`` (default 4·max_perm), until the side
    of every level is settled (in the spirit of Gandy & Hahn 2014). Each group's
    permutations are numbered 0, 1, … and hashed by its key, so its p-value does not
    depend on which other groups are tested.

    With ``offset`` (one value per row: ``x = raw − offset``, the control subtracted from
    each event), the *raw* values are permuted and each row's offset is subtracted at its
    own place (``x*_i = raw_π(i) − offset_i``): the permutation null given the control,
    exact when the raw values are exchangeable, which keeps the control's own estimation
    noise — shared by neighbouring rows — in the null (perm17).
    """
    G = len(gstart)
    (oc, om), _, _ = drawdown(x, gstart, gsize)
    gc = np.zeros(G, np.int64)
    gm = np.zeros(G, np.int64)
    used = np.zeros(G, np.int64)
    active = np.ones(G, bool)
    keys = np.asarray(keys, np.uint64)
    # the group-centred series, padded per bucket of similar length (see _perm_stats)
    g_all = np.repeat(np.arange(G), gsize)
    xc, cc = _centred(x, offset, g_all, gsize, G)
    width = _bucket_width(gsize)

    def more(active, nb):
        """nb more permutations for the active groups (numbered from their ``used``)."""
        for wd in np.unique(width[active]):
            for b0 in np.unique(used[active & (width == wd)]):
                act = np.flatnonzero(active & (width == wd) & (used == b0))
                tc, tm = _perm_stats(xc, gstart[act], gsize[act], keys[act], int(wd),
                                     seed, int(b0), nb, budget, cc)
                gc[act] += (tc >= oc[act][None, :] - 1e-9).sum(axis=0)
                gm[act] += (tm >= om[act][None, :] - 1e-9).sum(axis=0)
        used[active] += nb

    def pvalue():
        pc = (1 + gc) / (1 + used)
        pm = (1 + gm) / (1 + used)
        pmin = np.minimum(pc, pm)
        return (np.minimum(2 * pmin, 1.0),
                2 * np.sqrt(pmin * (1 - pmin) / np.maximum(used, 1)))

    done_to = 0
    step = first
    while active.any() and done_to < max_perm:
        nb_total = min(step, max_perm - done_to)
        more(active, nb_total)
        done_to += nb_total
        active = active & ((gc < h) | (gm < h))
        step = step * 2
    # decision-driven refinement: double the permutations of groups whose p is not yet
    # clearly on one side of a level
    cap = 4 * max_perm if max_refine is None else max(int(max_refine), max_perm)
    levels = np.asarray(levels, float)
    while len(levels):
        p, se = pvalue()
        near = (np.abs(p[:, None] - levels[None, :]) < z_stable * se[:, None]).any(axis=1)
        active = near & (gc >= h) & (gm >= h) & (used < cap)
        if not active.any():
            break
        u0 = used.copy()
        for b0 in np.unique(u0[active]):
            more(active & (u0 == b0), int(min(b0, cap - b0)))
    p, se = pvalue()
    # beyond the count's resolution (fewer than h exceedances after max_perm): the
    # asymptotic tail bounds of the two statistics give p there
    far = (gc < h) | (gm < h)
    if far.any():
        tail = tail_bound(x, gstart, gsize, oc, om)
        p = np.where(far, np.minimum(p, tail), p)
        se = np.where(far, np.nan, se)
    return p, se, used


def _centred(x, offset, g_all, gsize, G):
    """The values the permutations draw from, centred per group, and the per-row offset
    kept in place, centred (None without ``offset``): ``x`` itself, or the raw values
    ``x + offset`` (see :func:`drop_test`); the permuted series minus the centred offset is
    centred like ``x``."""
    n = np.maximum(gsize, 1)
    if offset is None:
        return x - (np.bincount(g_all, weights=x, minlength=G) / n)[g_all], None
    raw = x + offset
    rc = raw - (np.bincount(g_all, weights=raw, minlength=G) / n)[g_all]
    cc = offset - (np.bincount(g_all, weights=offset, minlength=G) / n)[g_all]
    return rc, cc


def _bucket_width(gsize):
    """Padded width per group: the next power of two of its size (at least 8), so that
    groups of similar length are permuted together in one 2-D array (≤ 2× padding)."""
    return np.maximum(8, 2 ** np.ceil(np.log2(np.maximum(gsize, 1)))).astype(np.int64)


_COLS_MAX = 64      # widest rows permuted on column-major prefix sums


def _drops_cols(Xf, o, B, ng, wd, w1, src_k, outside, Cf=None):
    """The largest CUSUM drop and the highest MOSUM window (w1 > 0: one window for all
    groups; else ``src_k``) of the permuted rows ``Xf[o]`` (B, ng, wd) minus the rows'
    fixed offsets ``Cf`` (ng, wd), before scaling, on column-major prefix sums (see
    :func:`_perm_stats`)."""
    S0 = np.empty((wd + 1, B, ng))
    S0[0] = 0.0
    np.take(Xf, o.transpose(2, 0, 1), out=S0[1:], mode="clip")
    if Cf is not None:
        S0[1:] -= Cf.T[:, None, :]
    run = np.zeros((B, ng))                           # running maximum (S0[0] = 0)
    dd = np.zeros((B, ng))                            # largest drop so far
    tmp = np.empty((B, ng))
    for k in range(1, wd + 1):
        np.add(S0[k - 1], S0[k], out=S0[k])          # S0[k] = sum of the first k
        np.maximum(run, S0[k], out=run)
        np.subtract(run, S0[k], out=tmp)
        np.maximum(dd, tmp, out=dd)
    if w1:
        d = np.subtract(S0[:wd + 1 - w1], S0[w1:])
        np.copyto(d, -np.inf, where=outside[:wd + 1 - w1])
    else:
        d = np.take_along_axis(S0, np.broadcast_to(src_k, S0.shape), axis=0)
        np.subtract(S0, d, out=d)
        np.copyto(d, -np.inf, where=outside)
    return dd, d.max(axis=0)


def _perm_stats(xc, gstart, gsize, keys, wd, seed, b0, nb, budget, cc=None):
    """Both drop statistics of permutations b0..b0+nb of each group's centred values.

    Groups (all of padded width ``wd``) are laid out as rows of a (groups, wd) array,
    padded with zeros after their values; each permutation sorts the row by the hashed
    uniforms of :func:`uniforms` (padding last), which is the same permutation as a sort
    of the whole series by (group, uniform) but costs n·log(wd) instead of
    n·log(n·B). Returns (nb, groups) arrays of the CUSUM and MOSUM statistics, as
    :func:`_stats` computes them on the permuted series (minus the rows' fixed centred
    offsets ``cc``, when given: see :func:`drop_test`).
    """
    ng = len(gstart)
    gper = max(1, int(budget // wd))
    if ng > gper:
        # groups in chunks too: every pass below then runs over an array of at most
        # ``budget`` elements, which stays in the cache (each group's statistics depend
        # on its own values and hashes only)
        tc, tm = np.empty((nb, ng)), np.empty((nb, ng))
        for g0 in range(0, ng, gper):
            sl = slice(g0, g0 + gper)
            tc[:, sl], tm[:, sl] = _perm_stats(xc, gstart[sl], gsize[sl], keys[sl], wd,
                                               seed, b0, nb, budget, cc)
        return tc, tm
    col = np.arange(wd)
    valid = col[None, :] < gsize[:, None]
    src = np.where(valid, gstart[:, None] + col[None, :], 0)
    Xf = np.where(valid, xc[src], 0.0).ravel()
    Cf = None if cc is None else np.where(valid, cc[src], 0.0)      # (ng, wd), in place
    w = np.minimum(_window(gsize), gsize)
    tc = np.empty((nb, ng))
    tm = np.empty((nb, ng))
    sq_n = np.sqrt(gsize)
    sq_w = np.sqrt(w)
    per = max(1, int(budget // max(ng * wd, 1)))
    kk = keys[None, :, None]
    # The permutation of a row is the order of its hashes. Sorting the hashes themselves
    # (with the column in their lowest log2(wd) bits) is 2-3x faster than an argsort and
    # gives the same order unless two hashes of a row agree in all higher bits (odds
    # about wd² / 2^(65 − log2 wd) per row): those rows, if any, are argsorted on the full
    # hashes as before, so the permutations are exactly the argsort's
    bits = np.uint64(int(wd).bit_length() - 1)
    low = np.uint64(wd - 1)
    high = ~low
    tag = np.where(valid, np.uint64(0), high) | col.astype(np.uint64)   # padding last
    rowoff = (np.arange(ng, dtype=np.int64) * wd)[:, None]
    # Up to 64 columns the prefix sums are laid out column-major, (wd + 1, B, ng): each
    # step of the cumulative sum and of the running maximum is then one vector operation
    # over all rows (numpy's accumulate along short rows costs ~10x an elementwise pass;
    # at 5 M events the permutations of width 16-64 take 30-50 % less time; wider rows
    # keep numpy's accumulate, the loop's calls would cost more there). The same additions
    # and maxima in the same order, so the same values (speed10).
    cols = wd <= _COLS_MAX
    # MOSUM: S0[k] − S0[k + w] for the windows inside the group (k + w <= n), each
    # group's own w, gathered at once (sliced when the chunk has one w)
    k1 = np.arange(wd + 1)
    if cols:
        outside = (k1[:, None] + w[None, :] > gsize[None, :])[:, None, :]  # (wd+1, 1, ng)
        w1 = int(w[0]) if ng and (w == w[0]).all() else 0
        src_k = np.minimum(k1[:, None] + w[None, :], wd)[:, None, :]      # (wd+1, 1, ng)
    else:
        outside = k1[None, :] + w[:, None] > gsize[:, None]              # (ng, wd + 1)
        widx = (np.minimum(k1[None, :] + w[:, None], wd) +
                (np.arange(ng) * (wd + 1))[:, None]).ravel()
    for c0 in range(0, nb, per):
        B = min(per, nb - c0)
        perms = np.arange(b0 + c0, b0 + c0 + B, dtype=np.uint64)[:, None, None]
        u = _hashes(seed, kk, perms, col[None, None, :])
        u &= high
        u |= tag
        u.sort(axis=-1)
        hb = u >> bits                                   # one shifted copy, not two
        tie = hb[..., 1:] == hb[..., :-1]
        del hb
        tie &= valid[None, :, 1:]
        o = (u & low).view(np.int64)
        o += rowoff
        if tie.any():
            bb, gg = np.nonzero(tie.any(axis=-1))
            full = _hashes(seed, kk, perms, col[None, None, :])
            np.copyto(full, _M64, where=~valid[None])
            o[bb, gg] = np.argsort(full[bb, gg], axis=-1) + rowoff[gg]
        if cols:
            tc[c0:c0 + B], tm[c0:c0 + B] = _drops_cols(Xf, o, B, ng, wd, w1, src_k,
                                                       outside, Cf)
            tc[c0:c0 + B] /= sq_n
            tm[c0:c0 + B] /= sq_w
            continue
        S0 = np.empty((B, ng, wd + 1))
        S0[..., 0] = 0.0
        np.take(Xf, o, out=S0[..., 1:], mode="clip")       # (indices valid; unbuffered)
        if Cf is not None:
            S0[..., 1:] -= Cf[None]
        np.cumsum(S0[..., 1:], axis=-1, out=S0[..., 1:])  # S0[k] = sum of the first k
        rm = np.maximum.accumulate(S0, axis=-1)           # S0[0] = 0: a drop from the start
        rm -= S0
        tc[c0:c0 + B] = rm.max(axis=-1) / sq_n
        d = np.take(S0.reshape(B, -1), widx, axis=1, mode="clip").reshape(S0.shape)
        np.subtract(S0, d, out=d)
        np.copyto(d, -np.inf, where=outside[None])
        tm[c0:c0 + B] = d.max(axis=-1) / sq_w
    return tc, tm


def tail_bound(x, gstart, gsize, t_cusum, t_mosum):
    """Asymptotic upper bounds of the two drop statistics' p-values, combined by
    Bonferroni: the CUSUM drawdown is at most the range of a Brownian bridge (Kuiper's
    distribution, P(R > r) = 2 Σ (4k²r² − 1) exp(−2k²r²)); the lowest of n − w + 1 MOSUM
    windows by a Bonferroni bound on normal window sums. Both in units of the group's
    SD.

    Examples
    --------
    >>> import numpy as np
    >>> b = tail_bound(np.r_[np.ones(50), -np.ones(50)], np.array([0]), np.array([100]),
    ...                np.array([5.0]), np.array([0.0]))
    >>> bool(b[0] < 1e-15)
    True
    """
    kuiper, mos = _bounds(x, gstart, gsize, t_cusum, t_mosum)
    return np.minimum(2 * np.minimum(kuiper, mos), 1.0)


def _erfc(v):
    """Vectorised erfc (scipy is not a core dependency)."""
    from math import erfc
    return np.frompyfunc(erfc, 1, 1)(v).astype(float)


def _bounds(x, gstart, gsize, t_cusum, t_mosum):
    from math import sqrt

    G = len(gstart)
    g = np.repeat(np.arange(G), gsize)
    mean = np.bincount(g, weights=x, minlength=G) / gsize
    var = np.bincount(g, weights=(x - mean[g]) ** 2, minlength=G) / gsize
    sd = np.sqrt(np.maximum(var, 1e-300))
    r = t_cusum / sd
    k = np.arange(1, 11)[:, None]
    kuiper = 2 * ((4 * k ** 2 * r[None, :] ** 2 - 1) *
                  np.exp(-2 * k ** 2 * r[None, :] ** 2)).sum(axis=0)
    kuiper = np.where(r < 0.5, 1.0, np.clip(kuiper, 0, 1))
    w = np.minimum(_window(gsize), gsize)
    zm = t_mosum / sd
    phi = 0.5 * _erfc(zm / sqrt(2))
    mos = np.clip((gsize - w + 1) * phi, 0, 1)
    return kuiper, mos


def _decision_interval(n, *, ref: float = 0.5, h: float = 5.0, arl_factor: float = 4.5):
    """Page's decision interval for a window of ``n`` events: ``h`` or more, so that the
    in-control average run length is at least ``arl_factor`` × ``n``.

    Siegmund's (1985) approximation of the one-sided CUSUM's in-control ARL with
    reference value k: ``(exp(2kb) - 2kb - 1) / (2k²)``, ``b = h + 1.166`` (k = 0.5,
    h = 5: about 940 events). A false alarm within the window then has probability at most
    ``1 - exp(-1/arl_factor)`` (18 % for 4.5, what h = 5 gives a 200-event window):
    a dense series (a unit pair with thousands of events) needs a longer run than a
    person pair's. Solved for b by fixed-point iteration.

    >>> [round(float(v), 2) for v in _decision_interval(np.array([100, 200, 2000]))]
    [5.0, 5.0, 7.25]
    """
    n = np.asarray(n, float)
    k2 = 2 * ref
    target = np.maximum(arl_factor * n, 1.0) * 2 * ref ** 2
    b = np.log(target + 1) / k2
    for _ in range(8):                                   # exp(k2 b) = target + k2 b + 1
        b = np.log(target + k2 * b + 1) / k2
    return np.maximum(h, b - 1.166)


def page_onset(x, t, gstart, gsize, on, en, *, ref: float = 0.5, h: float = 5.0,
               lookback: float = 45.0, signal: bool = False, arl_factor: float = 4.5):
    """Refined onset and end of each group's drop: Page's CUSUM segment near the drop.

    The CUSUM drawdown of :func:`drawdown` locates a lasting drop by least squares, which
    puts its onset where the bulk of the change is: a first short bad turn followed by a
    normal week is left out (a late onset), and on a short episode the segment drifts
    into the noise around it (an early onset). Here, within the rows from ``lookback``
    days before the drawdown's onset to its end, the segment with the largest sum of
    ``−x/sd − ref`` (Page 1954: the one-sided CUSUM with reference value ``ref``, half
    the smallest shift, in SD, worth detecting; its change-point estimate is the last
    time the CUSUM was at zero) is taken: events better than ``−ref`` SD end the segment
    unless bad ones follow soon. Returns global row indices (onset, end); a group whose
    window holds no event below ``−ref`` SD keeps the drawdown's. With ``signal``, also
    whether the window's CUSUM reached ``h`` (a drop there by Page's rule). The values are
    standardised by an in-control level (Page's :math:`\\mu_0`: 0, the residuals' own
    level, or the mean before the drop when the drop lasts to the end of the data) and the
    SD of all the group's events, the drop included (a larger scale than Page's in-control
    :math:`\\sigma`; the in-control SD was measured and not kept: docs/methods/spirals-record.md,
    "Slow escalation's onset"). The decision interval is ``h`` or, for a window of many
    events, the larger one of :func:`_decision_interval` (the same in-control average run
    length per event of the window: a dense unit-level series has many more chances of
    a false signal from a few very bad events before its drop).

    Examples
    --------
    >>> import numpy as np
    >>> # a bad turn at rows 10-11, a normal spell, then bad to the end
    >>> x = np.r_[np.zeros(10), -2, -2, 0, 0, -1.5 * np.ones(16)]
    >>> x = x + np.tile([0.1, -0.1], 15)
    >>> t = np.arange(30.0)
    >>> on, en = page_onset(x, t, np.array([0]), np.array([30]), np.array([14]),
    ...                     np.array([29]))
    >>> int(on[0]), int(en[0])
    (10, 29)
    """
    x = np.asarray(x, float)
    t = np.asarray(t, float)
    G = len(gstart)
    if G == 0:
        return on, en
    g = np.repeat(np.arange(G), gsize)
    idx = np.arange(len(x))
    # the in-control level (Page's mu0): 0, the residuals' own level, unless the drop
    # lasts to the end of the data — then the pair's fixed effects absorbed part of it
    # and the level before the drop is the in-control one (if 3 or more events)
    before = (idx < on[g]).astype(float)
    n_b = np.bincount(g, weights=before, minlength=G)
    mu_b = np.bincount(g, weights=before * x, minlength=G) / np.maximum(n_b, 1)
    lasting = (en == gstart + gsize - 1) & (n_b >= 3)
    mean = np.where(lasting, mu_b, 0.0)
    gm = np.bincount(g, weights=x, minlength=G) / gsize
    sd = np.sqrt(np.bincount(g, weights=(x - gm[g]) ** 2, minlength=G) / gsize)
    sd = np.where(sd > 0, sd, 1.0)
    # the window: rows of the group from `lookback` days before the onset to the end
    inwin = (t >= t[on][g] - lookback) & (idx <= en[g]) & (idx >= gstart[g])
    r = np.flatnonzero(inwin)
    gr = g[r]
    v = (x[r] - mean[gr]) / sd[gr] + ref          # S = cumsum(v); a fall of S = bad run
    ws = np.flatnonzero(np.r_[True, gr[1:] != gr[:-1]])
    wsz = np.diff(np.r_[ws, len(r)])
    S = np.cumsum(v)
    base = np.r_[0.0, S[ws[1:] - 1]]
    S = S - np.repeat(base, wsz)
    tot = np.bincount(np.repeat(np.arange(len(ws)), wsz), weights=np.abs(v),
                      minlength=len(ws))
    dd, rm = _seg_runmax_drop(S, ws, wsz, tot)
    sub = np.repeat(np.arange(len(ws)), wsz)
    dmax = np.maximum.reduceat(dd, ws)
    j = np.arange(len(r))
    is_max = dd >= np.repeat(dmax, wsz) - 1e-12
    end = pd.Series(np.where(is_max, j, len(r))).groupby(sub).min().to_numpy()
    # Page's signal: the first row where the CUSUM reaches h (else the largest drop);
    # the onset is the row after its last zero before the signal
    hw = np.repeat(_decision_interval(wsz, ref=ref, h=h, arl_factor=arl_factor), wsz)
    alarm = pd.Series(np.where(dd >= hw, j, len(r))).groupby(sub).min().to_numpy()
    alarm = np.minimum(alarm, end)
    peak = rm[alarm]
    cand = np.where((np.abs(S - peak[sub]) <= 1e-9 * (1 + np.abs(peak[sub]))) &
                    (j <= alarm[sub]), j, -1)
    last = pd.Series(cand).groupby(sub).max().to_numpy()
    start = np.minimum(np.where(last >= ws, last + 1, ws), alarm)
    on2, en2 = on.copy(), en.copy()
    gw = gr[ws]
    ok = dmax > 0
    on2[gw[ok]] = r[start[ok]]
    en2[gw[ok]] = r[end[ok]]
    if signal:                   # also: did the window's CUSUM reach h (Page's signal)?
        sig = np.zeros(G, bool)
        sig[gw] = dmax >= _decision_interval(wsz, ref=ref, h=h, arl_factor=arl_factor)
        return on2, en2, sig
    return on2, en2


def _local_stat(V, valid, lo, hi, n, elo, ehi):
    """The windowed drop statistic of rows of centred values ``V`` (..., wd): the largest
    fall ``S_j − S_k`` of the prefix sums (``S_0 = 0``) over onsets ``j`` in
    ``[lo, hi]`` and ends ``k`` (prefix lengths: the segment's last row + 1) in
    ``[elo + 1, ehi + 1]``, ``k > j``, over sqrt(n). With ``V`` of shape (B, ng, wd) and
    ``lo``, ``hi``, ``n``, ``elo``, ``ehi`` of shape (ng,); padding (``~valid``) holds
    zeros after the values. Also the falls and the prefix sums (to locate the drop)."""
    wd = V.shape[-1]
    S = np.concatenate([np.zeros(V.shape[:-1] + (1,)), np.cumsum(V, axis=-1)], axis=-1)
    j = np.arange(wd + 1)
    okj = (j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None])        # (ng, wd+1)
    M = np.maximum.accumulate(np.where(okj, S, -np.inf), axis=-1)
    okk = (j[None, :] <= n[:, None]) & (j[None, :] >= elo[:, None] + 1) & \
        (j[None, :] <= ehi[:, None] + 1)
    dd = np.where(okk, M - S, -np.inf)
    return dd.max(axis=-1) / np.sqrt(np.maximum(n, 1)), dd, S


def _whole_stats(S, n):
    """The whole-series statistics of :func:`_stats` from prefix sums ``S`` (..., wd + 1)
    of centred values (padding after ``n``): the largest CUSUM fall over sqrt(n) and the
    lowest MOSUM window sum over sqrt(w)."""
    wd = S.shape[-1] - 1
    j = np.arange(wd + 1)
    inside = j[None, :] <= n[:, None]
    Sm = np.where(inside, S, -np.inf)
    dd = np.where(inside, np.maximum.accumulate(Sm, axis=-1) - S, -np.inf)
    w = np.minimum(_window(n), n)
    end = np.minimum(j[None, :] + w[:, None], wd)                              # (ng, wd+1)
    ok = j[None, :] + w[:, None] <= n[:, None]
    Se = np.take_along_axis(S, np.broadcast_to(end, S.shape), axis=-1)
    mos = np.where(ok, S - Se, -np.inf)
    return dd.max(axis=-1) / np.sqrt(np.maximum(n, 1)), mos.max(axis=-1) / np.sqrt(w)


def _exceed(T, obs):
    """Per column of ``T`` (B, ng): for each row, the number of rows at least as large,
    itself included, plus one where ``obs`` (ng,) is at least as large — the rank of a
    permutation among the B + 1 (observed included): its permutation p × (B + 1)."""
    B, ng = T.shape
    srt = np.sort(T, axis=0)
    lo = np.nanmin(np.r_[T.ravel(), obs]) if T.size else 0.0
    hi = np.nanmax(np.r_[T.ravel(), obs]) if T.size else 0.0
    off = (np.arange(ng) * (hi - lo + 1.0))[None, :]
    flat = (srt + off - lo).T.ravel()
    q = (T + off - lo).T.ravel()
    base = np.repeat(np.arange(ng) * B, B)
    below = np.searchsorted(flat, q - 1e-9 * (1 + np.abs(q)), side="left") - base
    return (B - below).reshape(ng, B).T + (obs[None, :] >= T - 1e-9)


def local_drop_test(x, gstart, gsize, lo, hi, keys, *, elo=None, ehi=None, seed: int,
                    h: int = 5, max_perm: int = 999, first: int = 19, budget: float = 2e6,
                    combine: bool = False, offset=None):
    """A drop whose onset lies in a given window: the conditional, local change test.

    Per contiguous group (a direction's time-sorted residual quality), the largest fall
    of the centred CUSUM that *begins* at a row ``j`` in ``[lo, hi]`` (relative rows;
    ``j`` rows before the onset) and ends anywhere after it (or, with ``elo``, ``ehi``,
    at a relative row in ``[elo, ehi]``), over sqrt(n) — the drawdown
    of :func:`drawdown` with its onset restricted to the window instead of searched over
    the whole series. The window must come from other data (side15: the partner
    direction's drop, located on the partner's series alone), so that under the null
    (this group's values exchangeable in time) the permutation p-value is exact given
    it: the group's values are permuted over its rows (hashed by ``keys``, as
    :func:`drop_test`; the same sequential stopping after ``h`` exceedances, Besag &
    Clifford 1991) and the statistic recomputed with the same window. Searching a few
    onsets instead of all of them is what buys power (the selective, local test of a
    hierarchical procedure: Benjamini & Bogomolov 2014).

    With ``combine``, the local statistic is combined with the two whole-series
    statistics of :func:`drop_test` (CUSUM drawdown, MOSUM window) by the minimum-p
    method on the same ``max_perm`` permutations (each statistic's permutation p for
    the observed series and for every permutation; p = the share of permutations whose
    smallest p is at most the observed one: Westfall & Young 1993; the nonparametric
    combination of Pesarin 2001): one test of "this group dropped" that uses the
    window without losing the whole-series search, and whose price for three
    correlated statistics is less than Bonferroni's (no sequential stopping then).

    ``offset``: the permutations draw the raw values ``x + offset`` and subtract each
    row's offset in place, as :func:`drop_test`.

    Returns (p, onset row, end row, permutations used): global row indices of the
    observed drop (the first row of the segment and its last), ``-1`` where the window
    holds no row (p 1, no permutation).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.zeros(20), -np.ones(10), np.zeros(10)]
    >>> p, on, en, _ = local_drop_test(x, np.array([0]), np.array([40]), np.array([18]),
    ...                             np.array([22]), np.array([7]), seed=1)
    >>> bool(p[0] < 0.01), int(on[0]), int(en[0])
    (True, 20, 29)
    """
    G = len(gstart)
    p = np.ones(G)
    on = np.full(G, -1, np.int64)
    en = np.full(G, -1, np.int64)
    lo = np.asarray(lo, np.int64)
    hi = np.asarray(hi, np.int64)
    elo = np.zeros(G, np.int64) if elo is None else np.asarray(elo, np.int64)
    ehi = gsize - 1 if ehi is None else np.asarray(ehi, np.int64)
    okw = (hi >= lo) & (gsize >= 2) & (ehi >= elo) & (ehi >= lo)
    used = np.zeros(G, np.int64)
    if not okw.any():
        return p, on, en, used
    g_all = np.repeat(np.arange(G), gsize)
    rc, cc = _centred(x, offset, g_all, gsize, G)     # what the permutations draw
    xc = rc if cc is None else _centred(x, None, g_all, gsize, G)[0]   # the observed series
    keys = np.asarray(keys, np.uint64)
    width = _bucket_width(gsize)
    count = np.zeros(G, np.int64)
    obs = np.full(G, np.inf)
    for wd in np.unique(width[okw]):
        sel = np.flatnonzero(okw & (width == wd))
        col = np.arange(wd)
        valid = col[None, :] < gsize[sel, None]
        src = np.where(valid, gstart[sel, None] + col[None, :], 0)
        X = np.where(valid, xc[src], 0.0)                                   # (ng, wd)
        t0, dd, S = _local_stat(X[None], valid, lo[sel], hi[sel], gsize[sel], elo[sel],
                                ehi[sel])
        # what the permutations draw (the raw values with an offset) and what stays
        if cc is not None:
            X = np.where(valid, rc[src], 0.0)
            Cx = np.where(valid, cc[src], 0.0)
        obs[sel] = t0[0]
        k = np.argmax(dd[0], axis=-1)                          # the end (prefix length)
        j = np.argmax(np.where(np.arange(wd + 1)[None, :] <= k[:, None],
                               np.where((np.arange(wd + 1)[None, :] >= lo[sel, None]) &
                                        (np.arange(wd + 1)[None, :] <= hi[sel, None]),
                                        S[0], -np.inf), -np.inf), axis=-1)
        on[sel] = gstart[sel] + j
        en[sel] = gstart[sel] + np.maximum(k - 1, j)
        if combine:
            oc, om = _whole_stats(S[0], gsize[sel])
            T = np.empty((max_perm, len(sel), 3))
            per = max(1, int(budget // max(len(sel) * wd, 1)))
            for c0 in range(0, max_perm, per):
                B = min(per, max_perm - c0)
                perms = np.arange(c0, c0 + B, dtype=np.uint64)[:, None, None]
                u = uniforms(seed, keys[sel][None, :, None], perms, col[None, None, :])
                u = np.where(valid[None], u, 2.0)                        # padding last
                o = np.argsort(u, axis=-1)
                V = np.take_along_axis(np.broadcast_to(X[None], u.shape), o, axis=-1)
                if cc is not None:
                    V = V - Cx[None]
                tb, _, Sb = _local_stat(V, valid, lo[sel], hi[sel], gsize[sel], elo[sel],
                                        ehi[sel])
                T[c0:c0 + B, :, 2] = tb
                T[c0:c0 + B, :, 0], T[c0:c0 + B, :, 1] = _whole_stats(Sb, gsize[sel])
            ob = np.c_[oc, om, t0[0]]                                    # (ng, 3)
            po = (1 + (T >= ob[None] - 1e-9).sum(axis=0)) / (1 + max_perm)
            pb = np.stack([_exceed(T[..., k], ob[:, k]) for k in range(3)], -1) / \
                (1 + max_perm)
            mo = po.min(axis=1)
            count[sel] = (pb.min(axis=2) <= mo[None, :] + 1e-12).sum(axis=0)
            used[sel] = max_perm
            continue
        act = np.ones(len(sel), bool)
        done, step = 0, first
        while act.any() and done < max_perm:
            nb = min(step, max_perm - done)
            a = sel[act]
            per = max(1, int(budget // max(len(a) * wd, 1)))
            for c0 in range(0, nb, per):
                B = min(per, nb - c0)
                perms = np.arange(done + c0, done + c0 + B, dtype=np.uint64)[:, None, None]
                u = uniforms(seed, keys[a][None, :, None], perms, col[None, None, :])
                u = np.where(valid[act][None], u, 2.0)                   # padding last
                o = np.argsort(u, axis=-1)
                V = np.take_along_axis(np.broadcast_to(X[act][None], u.shape), o, axis=-1)
                if cc is not None:
                    V = V - Cx[act][None]
                tb, _, _ = _local_stat(V, valid[act], lo[a], hi[a], gsize[a], elo[a],
                                       ehi[a])
                count[a] += (tb >= obs[a][None, :] - 1e-9).sum(axis=0)
            used[a] += nb
            done += nb
            step *= 2
            act = act & (count[sel] < h)
    p = np.where(okw, (1 + count) / (1 + np.maximum(used, 1)), 1.0)
    return p, on, en, used
