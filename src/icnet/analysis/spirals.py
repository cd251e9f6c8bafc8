"""Retaliation spirals: "getting even" between internal clients, with a permutation test.

See docs/methods/spirals.md for the model, the null and the references.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .. import _validate
from ..errors import BudgetExceededError, ParameterError

__all__ = ["retaliation_spirals", "spiral_timeline", "event_quality"]

_COLUMNS = ["a", "b", "kind", "initiator", "start", "end", "rounds", "effect", "p", "q",
            "effect_ab", "effect_ba", "p_ab", "p_ba", "q_ab", "q_ba", "n_ab", "n_ba",
            "bad_ab", "bad_ba"]
_DAY = np.timedelta64(1, "D")


def event_quality(net, *, period: str = "W", n_iter: int = 20) -> pd.DataFrame:
    """Per-event quality residuals, net of provider, client and period effects.

    Satisfaction and, separately, log(1 + delay) are fitted by an additive
    model :math:`y = \\mu + a_{provider} + b_{client} + c_{period} + e` (least
    squares by backfitting, Hastie & Tibshirani 1990); residuals are divided
    by their standard deviation. ``z`` is the mean of the satisfaction
    residual and minus the delay residual that are available, so **low z =
    worse service than this provider usually gives, this client usually gets
    and this period usually sees** — a company-wide bad month or a provider
    who is always slow does not make events look bad.

    Returns
    -------
    DataFrame aligned with ``net.events``: ``z_satisfaction``, ``z_delay``
    (positive = slower), ``z``.

    Examples
    --------
    >>> import icnet
    >>> q = event_quality(icnet.datasets.toy())
    >>> bool(abs(q["z_satisfaction"].mean()) < 1e-9)
    True
    """
    net = _validate.network(net, need_events=True)
    net._need_time("retaliation analysis")
    ev = net.events
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    c = ev["client"].cat.codes.to_numpy().astype(np.int64)
    per = ev["requested_at"].dt.to_period(period).astype(str)
    w = pd.factorize(per, sort=True)[0]
    out = pd.DataFrame(index=ev.index)
    cols = []
    for name, y in (("z_satisfaction", ev["satisfaction"].to_numpy(float)
                     if "satisfaction" in ev else None),
                    ("z_delay", np.log1p(ev["delay_hours"].to_numpy(float))
                     if "delay_hours" in ev else None)):
        if y is None:
            out[name] = np.nan
            continue
        r = _backfit(y, [p, c, w], n_iter)
        sd = np.nanstd(r)
        out[name] = r / sd if sd > 0 else r
        cols.append(name)
    zs = out["z_satisfaction"].to_numpy()
    zd = -out["z_delay"].to_numpy()
    with np.errstate(invalid="ignore"):
        both = np.vstack([zs, zd])
        cnt = np.isfinite(both).sum(axis=0)
        out["z"] = np.where(cnt > 0, np.nansum(both, axis=0) / np.maximum(cnt, 1), np.nan)
    return out


def _backfit(y, groups, n_iter):
    ok = np.isfinite(y)
    r = np.where(ok, y - np.nanmean(y) if ok.any() else 0.0, np.nan)
    if not ok.any():
        return r
    eff = [np.zeros(g.max() + 1) for g in groups]
    res = y[ok] - y[ok].mean()
    gs = [g[ok] for g in groups]
    for _ in range(n_iter):
        for k, g in enumerate(gs):
            res = res + eff[k][g]
            cnt = np.bincount(g, minlength=len(eff[k]))
            s = np.bincount(g, weights=res, minlength=len(eff[k]))
            eff[k] = np.where(cnt > 0, s / np.maximum(cnt, 1), 0.0)
            res = res - eff[k][g]
    r[ok] = res
    return r


def _exclusive_decayed(t, flag, group, lam):
    """For rows sorted by (group, t): Σ_{earlier rows of the group} flag·exp(-λ(t − t'))."""
    x = flag * np.exp(lam * t)
    cs = np.cumsum(x)
    start = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    size = np.diff(np.r_[start, len(group)])
    base = np.repeat(np.r_[0.0, cs[start[1:] - 1]], size)
    return (cs - x - base) * np.exp(-lam * t)


def retaliation_spirals(net, *, level: str | None = None, seed=0, n_perm: int = 499,
                        half_life_days: float = 7.0, bad_z: float = 1.5,
                        min_events: int = 10, min_bad: int = 3, alpha: float = 0.05,
                        max_gap_days: float = 21.0, period: str = "W",
                        controls=("own", "others"), chain_z: float = 1.5,
                        max_work: float = 2e9) -> pd.DataFrame:
    """Pairs that "get even": bad service received predicts bad service returned.

    Parameters
    ----------
    net : ServiceNetwork
        With timestamps and satisfaction and/or delays.
    level : str, optional
        Aggregate first (``"unit"``: spirals between areas).
    seed : int or Generator
        For the permutation null.
    n_perm : int, default 499
        Circular shifts per pair (p-value resolution 1/(n_perm+1)).
    half_life_days : float, default 7
        Memory of the exposure to the partner's bad service.
    bad_z : float, default 1.5
        An event is bad when its quality residual ``z`` is below −bad_z.
    min_events, min_bad : int
        Evidence needed per direction (events with a quality, bad events);
        pairs below it are reported as ``insufficient``, not tested.
    alpha : float, default 0.05
        False-discovery rate for the classification.
    max_gap_days : float, default 21
        Bad turns further apart than this do not belong to one chain.
    period : str, default "W"
        Period of the organisation-wide effects in the residuals.
    controls : tuple, default ("own", "others")
        Controls in the coupling regression: ``"own"`` (the responder's own
        recent bad service to the partner) and ``"others"`` (its recent bad
        service to everybody else).
    chain_z : float, default 1.5
        Turns of an escalation chain need events with z below −chain_z, each
        turn no better than the previous one (by 1 SD at most).
    max_work : float, default 2e9
        Budget on events × permutations; above it a BudgetExceededError asks
        to lower ``n_perm`` or analyse a window.

    Returns
    -------
    DataFrame
        One row per reciprocal pair (``a`` < ``b``), sorted by ``q`` then
        ``effect`` (descending): ``kind`` (``spiral``, ``one_sided``,
        ``mutual_degradation``, ``none``, ``insufficient``); ``initiator``
        (who delivered the first bad service of the first escalating chain);
        ``start`` (onset), ``end``; ``rounds`` (alternating bad turns in that
        chain); ``effect`` (the pair's coupling: the smaller of the two
        directions' effects for a spiral, else the larger; SD of quality lost
        per SD of exposure); ``p``, ``q`` (intersection–union for spirals:
        the larger of the two; else the smaller); per direction ``effect_ab``
        (b's response to a's bad service), ``effect_ba``, ``p_ab``, ``p_ba``,
        ``q_ab``, ``q_ba`` (Benjamini–Hochberg over all tested directions),
        ``n_ab``, ``n_ba`` (events a→b, b→a with a quality), ``bad_ab``,
        ``bad_ba``.

    Raises
    ------
    BudgetExceededError
        The permutation test would exceed ``max_work``.

    Notes
    -----
    For the response of *B* to *A*, every event *e* of B→A at time *t* gets
    the exposure :math:`X_e=\\sum_{A\\to B,\\ t'<t} s_{e'}\\,
    e^{-\\lambda(t-t')}` (strict past, :math:`\\lambda=\\ln 2/h`), where the
    severity :math:`s=\\max(0,-z-z_{bad})` is how far an event fell below the
    bad threshold, and the
    controls :math:`C_1` (the same sum over B's own bad service to A) and
    :math:`C_2` (over B's bad service to others). The coupling is the OLS
    coefficient of X in :math:`z_e \\sim 1 + X + C_1 + C_2`, scaled to SD
    units and signed so that positive = retaliation. The null rotates the
    bad flags of A's sequence of events to B by a random offset (a circular
    shift: A's own clustering is kept, its alignment with B is broken), 
    recomputes the coefficient, and gives :math:`p=(1+\\#\\{\\beta^*\\ge
    \\beta\\})/(1+n_{perm})`; when fewer than 10 shifts reach the observed
    value, that count has no resolution for false-discovery control across
    many pairs, and the tail of a normal fitted to the same permutation
    distribution is used instead (if smaller). Spiral = both directions significant after
    Benjamini–Hochberg (intersection–union test), or one significant with a
    chain of at least four alternating bad turns; one-sided = one direction
    significant; mutual degradation = neither, but both directions credibly
    bad (``sign == "bad"`` in ``net.edges``): a chronic conflict, not a spiral.

    References
    ----------
    Andersson, L. M. & Pearson, C. M. (1999). Tit for tat? The spiraling effect
    of incivility in the workplace. *Academy of Management Review* 24, 452–471.
    Butts, C. T. (2008). A relational event framework for social action.
    *Sociological Methodology* 38, 155–200.
    Brandes, U., Lerner, J. & Snijders, T. A. B. (2009). Networks evolving step
    by step: statistical analysis of dyadic event data. *ASONAM*, 200–205.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate.
    *JRSS B* 57, 289–300.

    Examples
    --------
    >>> import icnet
    >>> s = icnet.retaliation_spirals(icnet.datasets.load("planta"), n_perm=99)
    >>> s.loc[0, ["a", "b", "kind"]].tolist()
    ['P0009', 'P0070', 'spiral']
    """
    net = _validate.network(net, need_events=True)
    net = _validate.level(net, level)
    net._need_time("retaliation_spirals")
    _validate.in_range("n_perm", n_perm, low=19, integer=True)
    _validate.in_range("half_life_days", half_life_days, low=0, low_inclusive=False)
    _validate.in_range("bad_z", bad_z, low=0)
    _validate.in_range("min_events", min_events, low=2, integer=True)
    _validate.in_range("min_bad", min_bad, low=1, integer=True)
    _validate.in_range("alpha", alpha, low=0, high=1, low_inclusive=False)
    _validate.in_range("max_gap_days", max_gap_days, low=0, low_inclusive=False)
    rng = _validate.rng(seed)
    params = dict(level=net.level, seed=seed if isinstance(seed, int) else None,
                  n_perm=n_perm, half_life_days=half_life_days, bad_z=bad_z,
                  min_events=min_events, min_bad=min_bad, alpha=alpha,
                  max_gap_days=max_gap_days, period=period)
    ev = net.events
    q = event_quality(net, period=period)
    n = len(net.node_ids)
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    c = ev["client"].cat.codes.to_numpy().astype(np.int64)
    t0 = ev["requested_at"].min()
    t = ((ev["requested_at"] - t0) / pd.Timedelta(days=1)).to_numpy(float)
    z = q["z"].to_numpy(float)
    has = np.isfinite(z)
    bad = has & (z < -bad_z)
    lam = np.log(2) / half_life_days
    # provider-level decayed bad service (for the "service to others" control)
    order_p = np.lexsort((t, p))
    prov_bad = np.empty(len(t))
    sev = np.where(bad, -z - bad_z, 0.0)
    prov_bad[order_p] = _exclusive_decayed(t[order_p], sev[order_p], p[order_p], lam)
    # reciprocal pairs
    lo, hi = np.minimum(p, c), np.maximum(p, c)
    pair = lo * n + hi
    d = (p > c).astype(np.int64)          # 0: a→b (a < b), 1: b→a
    counts = pd.DataFrame({"pair": pair, "d": d, "has": has, "bad": bad}).groupby(
        ["pair", "d"]).agg(n=("has", "sum"), nb=("bad", "sum")).unstack(fill_value=0)
    counts = counts[(counts[("n", 0)] > 0) & (counts[("n", 1)] > 0)]
    if counts.empty:
        out = pd.DataFrame(columns=_COLUMNS)
        out.attrs["params"] = params
        return out
    enough = ((counts[("n", 0)] >= min_events) & (counts[("n", 1)] >= min_events) &
              (counts[("nb", 0)] >= min_bad) & (counts[("nb", 1)] >= min_bad)).to_numpy()
    pairs_all = counts.index.to_numpy()
    tested = pairs_all[enough]
    sel = np.isin(pair, tested)
    idx = np.flatnonzero(sel)
    work = float(sel.sum()) * (n_perm + 1)
    if work > max_work:
        raise BudgetExceededError(
            f"retaliation_spirals would process {work:.3g} event-permutations (budget "
            f"max_work={max_work:.3g}). Lower n_perm, raise min_events, or analyse a "
            "window (net.window(...)).")
    # rows of tested pairs sorted by (pair, t)
    o = idx[np.lexsort((t[idx], pair[idx]))]
    P_, D_, T_, Z_ = pair[o], d[o], t[o], z[o]
    # stimulus intensity: how far below the bad threshold an event's quality fell
    B_ = np.where(bad[o], -z[o] - bad_z, 0.0)
    H_ = np.isfinite(Z_)
    gid = np.searchsorted(tested, P_)
    G = len(tested)
    own = {k: _exclusive_decayed(T_, B_ * (D_ == k), P_, lam) for k in (0, 1)}
    others = prov_bad[o] - np.where(D_ == 0, own[0], own[1])
    # response of the b-side (rows d=1, b→a) to a's bad service (d=0), and vice versa
    res = {}
    for resp, stim in ((1, 0), (0, 1)):   # resp=1: b responds to a ("ab")
        rows = (D_ == resp) & H_
        Xs = own[stim][rows]
        C1 = own[resp][rows] if "own" in controls else np.zeros(rows.sum())
        C2 = others[rows] if "others" in controls else np.zeros(rows.sum())
        y = Z_[rows]
        g = gid[rows]
        beta, sdx = _coef(y, Xs, C1, C2, g, G)
        # null: rotate the stimulus direction's bad flags within each pair
        stim_rows = D_ == stim
        sidx = np.flatnonzero(stim_rows)
        sg = gid[stim_rows]
        start = np.r_[0, np.flatnonzero(np.diff(sg)) + 1]
        size = np.diff(np.r_[start, len(sg)])
        pos = np.arange(len(sg)) - np.repeat(start, size)
        ge = 0
        s1 = np.zeros(G)
        s2 = np.zeros(G)
        Bs = B_[stim_rows]
        for _ in range(n_perm):
            k = rng.integers(1, np.maximum(size, 2))          # offset per pair
            src = np.repeat(start, size) + (pos + np.repeat(k, size)) % np.repeat(size, size)
            Bn = np.zeros_like(B_)
            Bn[sidx] = Bs[src]
            Xn = _exclusive_decayed(T_, Bn, P_, lam)[rows]
            bn, _ = _coef(y, Xn, C1, C2, g, G)
            ge = ge + (bn <= beta)          # retaliation: more exposure, lower z (β < 0)
            s1 += bn
            s2 += bn * bn
        p_perm = (1 + ge) / (1 + n_perm)
        mu = s1 / n_perm
        sd = np.sqrt(np.maximum(s2 / n_perm - mu ** 2, 0) * n_perm / (n_perm - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            p_norm = stats.norm.cdf((beta - mu) / sd)
        # in the far tail the permutation count has no resolution: use the moment-matched
        # normal approximation of the same permutation distribution there
        pval = np.where((ge < 10) & np.isfinite(p_norm), np.minimum(p_perm, p_norm), p_perm)
        res[resp] = (-beta * sdx, pval)
    eff_ab, p_ab = res[1]
    eff_ba, p_ba = res[0]
    pv = np.r_[p_ab, p_ba]
    qv = _bh(pv)
    q_ab, q_ba = qv[:G], qv[G:]
    chains = _chains(D_, T_, Z_, gid, G, max_gap_days, chain_z)
    _first_move(chains, D_, T_, Z_, gid, bad_z=1.0, within=7.0)
    a_ids = net.node_ids.to_numpy(dtype=object)[tested // n]
    b_ids = net.node_ids.to_numpy(dtype=object)[tested % n]
    sig_ab, sig_ba = q_ab <= alpha, q_ba <= alpha
    rounds = chains["rounds"]
    spiral = (sig_ab & sig_ba) | ((sig_ab | sig_ba) & (rounds >= 4))
    one = (sig_ab | sig_ba) & ~spiral
    # chronic: both directions credibly bad (the quality layer's sign), no dynamics
    sign = net.edges.set_index(["provider", "client"])["sign"]
    a_all = net.node_ids.to_numpy(dtype=object)[tested // n]
    b_all = net.node_ids.to_numpy(dtype=object)[tested % n]
    bad_ab_sign = sign.reindex(pd.MultiIndex.from_arrays([a_all, b_all])).to_numpy() == "bad"
    bad_ba_sign = sign.reindex(pd.MultiIndex.from_arrays([b_all, a_all])).to_numpy() == "bad"
    chronic = ~spiral & ~one & bad_ab_sign & bad_ba_sign
    kind = np.where(spiral, "spiral", np.where(one, "one_sided",
                                               np.where(chronic, "mutual_degradation",
                                                        "none")))
    both = sig_ab & sig_ba
    pp = np.where(both, np.maximum(p_ab, p_ba), np.minimum(p_ab, p_ba))
    qq = np.where(both, np.maximum(q_ab, q_ba), np.minimum(q_ab, q_ba))
    effect = np.where(both, np.minimum(eff_ab, eff_ba), np.maximum(eff_ab, eff_ba))
    init = np.where(chains["first_dir"] == 0, a_ids, b_ids)
    init = np.where(chains["rounds"] > 0, init, None)
    t_start = t0 + pd.to_timedelta(chains["start"], unit="D")
    t_end = t0 + pd.to_timedelta(chains["end"], unit="D")
    out = pd.DataFrame({
        "a": a_ids, "b": b_ids, "kind": kind, "initiator": init,
        "start": t_start.round("s"), "end": t_end.round("s"),
        "rounds": rounds.astype("int64"), "effect": effect, "p": pp, "q": qq,
        "effect_ab": eff_ab, "effect_ba": eff_ba, "p_ab": p_ab, "p_ba": p_ba,
        "q_ab": q_ab, "q_ba": q_ba,
        "n_ab": counts.loc[tested, ("n", 0)].to_numpy(), "n_ba": counts.loc[tested, ("n", 1)].to_numpy(),
        "bad_ab": counts.loc[tested, ("nb", 0)].to_numpy(),
        "bad_ba": counts.loc[tested, ("nb", 1)].to_numpy()})
    out.loc[out["rounds"] == 0, ["start", "end"]] = pd.NaT
    rest = pairs_all[~enough]
    if len(rest):
        ins = pd.DataFrame({
            "a": net.node_ids.to_numpy(dtype=object)[rest // n],
            "b": net.node_ids.to_numpy(dtype=object)[rest % n], "kind": "insufficient",
            "n_ab": counts.loc[rest, ("n", 0)].to_numpy(),
            "n_ba": counts.loc[rest, ("n", 1)].to_numpy(),
            "bad_ab": counts.loc[rest, ("nb", 0)].to_numpy(),
            "bad_ba": counts.loc[rest, ("nb", 1)].to_numpy(), "rounds": 0})
        out = pd.concat([out, ins], ignore_index=True) if len(out) else ins
    out = out.reindex(columns=_COLUMNS)
    out["rounds"] = out["rounds"].fillna(0).astype("int64")
    for col in ("n_ab", "n_ba", "bad_ab", "bad_ba"):
        out[col] = out[col].astype("int64")
    out = out.sort_values(["q", "effect", "a", "b"], ascending=[True, False, True, True],
                          na_position="last", kind="mergesort").reset_index(drop=True)
    out.attrs["params"] = params
    out.attrs["n_tested"] = int(G)
    return out


def _coef(y, X, C1, C2, g, G):
    """Per-group OLS coefficient of X in y ~ 1 + X + C1 + C2 (batched normal equations)."""
    V = np.vstack([np.ones_like(X), X, C1, C2])
    k = V.shape[0]
    M = np.zeros((G, k, k))
    for i in range(k):
        for j in range(i, k):
            s = np.bincount(g, weights=V[i] * V[j], minlength=G)
            M[:, i, j] = s
            M[:, j, i] = s
    v = np.stack([np.bincount(g, weights=V[i] * y, minlength=G) for i in range(k)], axis=1)
    ridge = 1e-8 * np.maximum(np.trace(M, axis1=1, axis2=2), 1.0)
    M = M + ridge[:, None, None] * np.eye(k)
    beta = np.linalg.solve(M, v[..., None])[:, 1, 0]
    n = M[:, 0, 0]
    mx = M[:, 0, 1] / np.maximum(n, 1)
    sdx = np.sqrt(np.maximum(M[:, 1, 1] / np.maximum(n, 1) - mx ** 2, 0))
    return beta, sdx


def _bh(p):
    """Benjamini–Hochberg adjusted p-values."""
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def _chains(D_, T_, Z_, gid, G, max_gap, chain_z, tol: float = 1.0):
    """Escalating alternating bad turns per pair: the first chain of ≥ 3 turns, else the longest.

    Very bad events (z < −chain_z) of one direction in a row form a *turn*; a
    chain continues while the next turn comes from the other side within
    ``max_gap`` days and is not clearly better than the previous one (by more
    than ``tol`` SD).
    """
    res = {"rounds": np.zeros(G, np.int64), "start": np.full(G, np.nan),
           "end": np.full(G, np.nan), "first_dir": np.full(G, -1)}
    rows = np.flatnonzero(np.isfinite(Z_) & (Z_ < -chain_z))
    if len(rows) == 0:
        return res
    g, d, t, z = gid[rows], D_[rows], T_[rows], Z_[rows]
    new_pair = np.r_[True, g[1:] != g[:-1]]
    gap = np.r_[np.inf, np.diff(t)]
    new_turn = new_pair | (gap > max_gap) | np.r_[True, d[1:] != d[:-1]]
    tf = np.flatnonzero(new_turn)
    tl = np.r_[tf[1:] - 1, len(t) - 1]
    tz = np.minimum.reduceat(z, tf)
    tg, td, ts, te = g[tf], d[tf], t[tf], t[tl]
    same_pair = np.r_[False, tg[1:] == tg[:-1]]
    close = np.r_[False, (ts[1:] - te[:-1]) <= max_gap]
    alternate = np.r_[False, td[1:] != td[:-1]]
    worse = np.r_[False, tz[1:] <= tz[:-1] + tol]
    cont = same_pair & close & alternate & worse
    first = np.flatnonzero(~cont)
    last = np.r_[first[1:] - 1, len(tf) - 1]
    df = pd.DataFrame({"g": tg[first], "turns": np.diff(np.r_[first, len(tf)]),
                       "start": ts[first], "end": te[last], "dir": td[first],
                       "order": np.arange(len(first))})
    esc = df[df.turns >= 3].groupby("g").first()
    longest = df.sort_values(["g", "turns", "order"], ascending=[True, False, True]) \
        .groupby("g").first()
    pick = longest.copy()
    pick.loc[esc.index] = esc
    gi = pick.index.to_numpy()
    res["rounds"][gi] = pick["turns"].to_numpy()
    res["start"][gi] = pick["start"].to_numpy()
    res["end"][gi] = pick["end"].to_numpy()
    res["first_dir"][gi] = pick["dir"].to_numpy()
    return res


def _first_move(chains, D_, T_, Z_, gid, *, bad_z, within):
    """Move a chain's onset back to the partner's bad service that provoked it, if any.

    The first very bad turn may answer a merely bad service of the other side a
    few days earlier: that earlier service (z < −bad_z, within ``within`` days,
    from the other direction) is the first move, and its author the initiator.
    """
    has = chains["rounds"] > 0
    if not has.any():
        return
    gi = np.flatnonzero(has)
    starts = pd.DataFrame({"g": gi, "t": chains["start"][gi],
                           "d": 1 - chains["first_dir"][gi]}).sort_values("t")
    cand = np.isfinite(Z_) & (Z_ < -bad_z)
    ev = pd.DataFrame({"g": gid[cand], "t": T_[cand], "d": D_[cand], "tt": T_[cand]})
    ev = ev.sort_values("t")
    m = pd.merge_asof(starts, ev, on="t", by=["g", "d"], direction="backward",
                      allow_exact_matches=False, tolerance=within)
    hit = m["tt"].notna().to_numpy()
    g_hit = m["g"].to_numpy()[hit]
    chains["start"][g_hit] = m["tt"].to_numpy()[hit]
    chains["first_dir"][g_hit] = m["d"].to_numpy()[hit]
    chains["rounds"][g_hit] += 1


def spiral_timeline(net, a, b, *, half_life_days: float = 7.0, bad_z: float = 1.5,
                    max_gap_days: float = 21.0, level: str | None = None,
                    period: str = "W") -> pd.DataFrame:
    """The exchanges of one pair, with quality residuals and exposures, for plotting.

    Returns
    -------
    DataFrame
        One row per event between ``a`` and ``b`` in time order:
        ``requested_at``, ``direction`` (``"a→b"`` or ``"b→a"``), ``provider``,
        ``client``, ``satisfaction``, ``delay_hours``, ``z`` (quality
        residual, SD), ``is_bad``, ``exposure`` (decayed sum of the partner's
        recent bad service), ``turn`` (number of the alternating bad turn
        within the pair's chains, 0 when not bad).

    Examples
    --------
    >>> import icnet
    >>> tl = spiral_timeline(icnet.datasets.toy(), "ana", "dario")
    >>> sorted(tl["direction"].unique())
    ['a→b', 'b→a']
    """
    net = _validate.network(net, need_events=True)
    net = _validate.level(net, level)
    for x in (a, b):
        if x not in net.node_ids:
            raise ParameterError(f"{x!r} is not a node of this network.")
    ev = net.events
    q = event_quality(net, period=period)
    pr = ev["provider"].astype(object)
    cl = ev["client"].astype(object)
    m = ((pr == a) & (cl == b)) | ((pr == b) & (cl == a))
    sub = ev.loc[m.to_numpy()].copy()
    sub["z"] = q.loc[m.to_numpy(), "z"].to_numpy()
    sub = sub.sort_values(["requested_at"], kind="mergesort").reset_index(drop=True)
    sub["direction"] = np.where(sub["provider"].astype(object) == a, "a→b", "b→a")
    sub["is_bad"] = sub["z"] < -bad_z
    t = ((sub["requested_at"] - sub["requested_at"].min()) / pd.Timedelta(days=1)).to_numpy()
    lam = np.log(2) / half_life_days
    grp = np.zeros(len(sub), np.int64)
    dirn = (sub["direction"] == "b→a").to_numpy()
    badf = sub["is_bad"].to_numpy(float)
    own0 = _exclusive_decayed(t, badf * ~dirn, grp, lam) if len(t) else np.zeros(0)
    own1 = _exclusive_decayed(t, badf * dirn, grp, lam) if len(t) else np.zeros(0)
    sub["exposure"] = np.where(dirn, own0, own1)
    bad_rows = np.flatnonzero(sub["is_bad"].to_numpy())
    turn = np.zeros(len(sub), np.int64)
    if len(bad_rows):
        tb, db = t[bad_rows], dirn[bad_rows]
        new_chain = np.r_[True, np.diff(tb) > max_gap_days]
        new_turn = new_chain | np.r_[True, db[1:] != db[:-1]]
        chain = np.cumsum(new_chain)
        cum = np.cumsum(new_turn)
        first = pd.Series(cum).groupby(chain).transform("min").to_numpy()
        turn[bad_rows] = cum - first + 1
    sub["turn"] = turn
    cols = ["requested_at", "direction", "provider", "client", "satisfaction",
            "delay_hours", "z", "is_bad", "exposure", "turn"]
    return sub.reindex(columns=cols)
