"""Who rated what: summaries of the rated events shared by several analyses.

``service_quality``, ``health``, ``actions`` and the figures need, from the
individual events, only per-provider figures: each relation's ratings and
distinct raters, each provider's rating SD, and means per provider and period.
They are computed here by per-provider functions run through
:meth:`icnet.ServiceNetwork._per_provider`, so a network whose events live on a
Dask cluster gives the same figures without bringing its events to the driver.

The raters of a relation are its client's people (``client_person``, at unit
level) or the client itself (person level); every rater belongs to one client,
so the raters of different relations of one provider never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Ratings", "by_period", "design", "rater_column", "summary"]


def rater_column(columns) -> str:
    """The column naming who rated: the client's person, else the client."""
    return "client_person" if "client_person" in columns else "client"


@dataclass(frozen=True)
class Ratings:
    """Per-relation and per-provider summaries of the rated events.

    Attributes
    ----------
    relations : DataFrame
        Index (provider, client) ids, sorted; ``n_raters`` (distinct raters),
        ``count`` and ``sum`` of the satisfaction ratings.
    providers : DataFrame
        Index provider id, sorted; ``n_raters``, ``sd`` (SD of its ratings,
        ddof 1), ``first`` and ``last`` rated request (when events are dated).
    client_raters : Series
        Distinct raters per client id.
    """

    relations: pd.DataFrame
    providers: pd.DataFrame
    client_raters: pd.Series


def _codes(s: pd.Series) -> np.ndarray:
    return s.cat.codes.to_numpy().astype(np.int64)


def _raters(rated: pd.DataFrame, rater: str) -> np.ndarray:
    """Rater keys: category codes (the same in every partition), else the values."""
    col = rated[rater]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return _codes(col)
    return col.to_numpy(dtype=object)


def _summary_part(ev: pd.DataFrame):
    """Per provider (see :meth:`icnet.ServiceNetwork._per_provider`): its relations'
    rating counts, sums and distinct raters; its raters, rating SD and first/last
    rated request; the distinct (client, rater) pairs; and, at aggregated levels, the
    per (relation, client person) events and ratings of :func:`design`."""
    rater = rater_column(ev.columns)
    rated = ev.loc[ev["satisfaction"].notna()]
    p, c = _codes(rated["provider"]), _codes(rated["client"])
    r = _raters(rated, rater)
    y = rated["satisfaction"]
    g = y.groupby([p, c])
    rel = pd.DataFrame({"count": g.count(), "sum": g.sum(),
                        "n_raters": pd.Series(r).groupby([p, c]).nunique().to_numpy()})
    rel = rel.rename_axis(["p", "c"]).reset_index()
    gp = y.groupby(p)
    prov = pd.DataFrame({"n_raters": pd.Series(r).groupby(p).nunique(), "sd": gp.std()})
    if "requested_at" in rated:
        t = rated["requested_at"].groupby(p)
        prov["first"], prov["last"] = t.min(), t.max()
    prov = prov.rename_axis("p").reset_index()
    pairs = pd.DataFrame({"c": c, "r": r}).drop_duplicates()
    cells = _cells_part(ev) if "client_person" in ev.columns else \
        pd.DataFrame({k: pd.Series([], dtype="int64") for k in ("p", "c", "r", "events", "n")})
    return rel, prov, pairs, cells


def summary(net) -> Ratings | None:
    """:class:`Ratings` of ``net``'s events, or None when they carry no ratings.

    Examples
    --------
    >>> import icnet
    >>> from icnet.analysis import _ratings
    >>> s = _ratings.summary(icnet.datasets.toy().by("unit"))
    >>> s.relations.loc[("Calidad", "Produccion"), "n_raters"]
    np.int64(2)
    """
    cols = net.event_columns
    if "satisfaction" not in cols:
        return None
    rater = rater_column(cols)
    rel, prov, pairs, _ = net._per_provider(_summary_part, ["satisfaction", rater])
    ids = net.node_ids.to_numpy(dtype=object)
    rel = rel.sort_values(["p", "c"], kind="mergesort")
    rel.index = pd.MultiIndex.from_arrays([ids[rel.pop("p").to_numpy()],
                                           ids[rel.pop("c").to_numpy()]],
                                          names=["provider", "client"])
    prov = prov.sort_values("p", kind="mergesort")
    prov.index = pd.Index(ids[prov.pop("p").to_numpy()], dtype=object, name="provider")
    cr = pairs.drop_duplicates().groupby("c").size()
    client_raters = pd.Series(cr.to_numpy(), index=pd.Index(ids[cr.index.to_numpy()],
                                                            dtype=object, name="client"))
    return Ratings(rel[["n_raters", "count", "sum"]], prov, client_raters)


def _period_part(ev: pd.DataFrame, start, stop, freq):
    """Per provider and period (index into ``date_range(start, stop, freq)``): the
    mean, sum and count of its ratings and its distinct raters."""
    rater = rater_column(ev.columns)
    rated = ev.loc[ev["satisfaction"].notna() & ev["requested_at"].notna()]
    starts = pd.date_range(start, stop, freq=freq)
    k = np.searchsorted(starts.to_numpy(), rated["requested_at"].to_numpy(), side="right") - 1
    p = _codes(rated["provider"])
    r = _raters(rated, rater)
    y = rated["satisfaction"]
    g = y.groupby([p, k])
    out = pd.DataFrame({"mean": g.mean(), "sum": g.sum(), "count": g.count(),
                        "n_raters": pd.Series(r).groupby([p, k]).nunique().to_numpy()})
    return out.rename_axis(["p", "k"]).reset_index()


def by_period(net, off, ratings: Ratings | None = None):
    """Ratings per provider and period of ``off`` (a pandas offset).

    The periods start at the offset's period holding the first rated request
    (``off.rollback`` of its midnight) and run past the last one. Returns
    ``(table, starts)``: ``table`` has ``provider`` (id), ``k`` (index into
    ``starts``), ``mean``, ``sum``, ``count`` and ``n_raters``, sorted by
    provider then period; ``starts`` the period starts. None when the events
    carry no dated rating.
    """
    s = summary(net) if ratings is None else ratings
    if s is None or "first" not in s.providers or not len(s.providers):
        return None
    first, last = s.providers["first"].min(), s.providers["last"].max()
    start = off.rollback(first.normalize())
    stop = last + off
    starts = pd.date_range(start, stop, freq=off)
    t = net._per_provider(_period_part, ["satisfaction", rater_column(net.event_columns)],
                          start=start, stop=stop, freq=off.freqstr)
    t = t.sort_values(["p", "k"], kind="mergesort").reset_index(drop=True)
    t.insert(0, "provider", net.node_ids.to_numpy(dtype=object)[t.pop("p").to_numpy()])
    return t, starts


def _cells_part(ev: pd.DataFrame):
    """Per (provider, client, client person): events, ratings and the rating sum (every
    event counts, rated or not: the events say whom a relation served)."""
    p, c = _codes(ev["provider"]), _codes(ev["client"])
    r = _raters(ev, "client_person")
    y = ev["satisfaction"].to_numpy(float)
    ok = ~np.isnan(y)
    key = pd.DataFrame({"p": p, "c": c, "r": r})
    g = key.groupby(["p", "c", "r"], sort=True)
    out = pd.DataFrame({"events": g.size(),
                        "n": pd.Series(ok.astype(np.int64)).groupby(
                            [key["p"], key["c"], key["r"]], sort=True).sum(),
                        "sum": pd.Series(np.where(ok, y, 0.0)).groupby(
                            [key["p"], key["c"], key["r"]], sort=True).sum()})
    return out.reset_index()


def _style(t, a, ybar, rated, keys) -> tuple[float, float]:
    """Pooled rater-style variance sigma_s^2 from people who rated two or more relations,
    and the sampling variance of that estimate.

    A person's leave-one-out deviation on relation *e*, ``d_je = (ybar_je - mean_e) /
    (1 - a_je) = ybar_je - sum_{k != j} b_kje ybar_ke`` (``b_kje = a_ke / (1 - a_je)``),
    carries their own style and, with a minus sign, the styles of the colleagues who
    rated *e*. Across two relations *e*, *e'* of the same client the colleagues who rated
    both enter twice, so ``E[d_je d_je'] = sigma_s^2 (1 + sum_{k != j} b_kje b_kje')``
    (the actor covariance of the social relations model, Kenny & La Voie 1984, with the
    round-robin's shared-partner term). The estimate divides the sum of the products by
    the sum of those factors (method of moments); the factors come from the sparse
    person-by-relation matrix of the weights ``a`` (``A = a' a``).

    The variance of the ratio ``sum N / sum D`` (``N``, ``D`` each person's products and
    factors) is its cluster-robust (sandwich) variance with the client as cluster: the
    people of one client share relations, those of different clients share nothing,
    ``G / (G - 1) * sum_c (N_c - s D_c)^2 / (sum D)^2`` over the ``G`` clients with a
    person who rated two relations (Liang & Zeger 1986; the small-sample factor of
    Cameron & Miller 2015). Returns ``(nan, 0.0)`` when no person rated two relations.
    """
    from scipy import sparse
    c = t["c"].to_numpy()
    use = rated & (a < 1)
    rel = pd.MultiIndex.from_arrays(keys).factorize()[0] if len(t) else np.array([], int)
    mean_e = pd.Series(a * ybar).groupby(keys, sort=False).transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(use, 1.0 / np.where(use, 1 - a, 1), 0.0)
    d = (ybar - mean_e) * u
    # a person is (client, client person): a rater code is unique within the client
    person = pd.MultiIndex.from_arrays([c, t["r"].to_numpy()]).factorize()[0] \
        if len(t) else np.array([], int)
    P, R = (int(person.max()) + 1, int(rel.max()) + 1) if len(t) else (0, 0)
    if P == 0:
        return float("nan"), 0.0

    def mat(v, mask):
        return sparse.csr_matrix((v[mask], (person[mask], rel[mask])), shape=(P, R))

    D, U, Am = mat(d, use), mat(u, use), mat(a, rated)
    k = np.bincount(person[use], minlength=P).astype(float)
    pairs = float((k * (k - 1)).sum())
    if pairs <= 0:
        return float("nan"), 0.0
    s1 = np.asarray(D.sum(axis=1)).ravel()
    num_j = s1 ** 2 - np.asarray(D.multiply(D).sum(axis=1)).ravel()
    num = float(num_j.sum())
    # sum_j sum_{e != e'} u_je u_je' (A_ee' - a_je a_je')
    A = (Am.T @ Am).tocsr()
    Adiag = A.diagonal()
    quad = np.asarray((U @ A).multiply(U).sum(axis=1)).ravel() - \
        np.asarray(U.multiply(U) @ Adiag).ravel()
    ua = U.multiply(Am)
    own = np.asarray(ua.sum(axis=1)).ravel() ** 2 - np.asarray(ua.multiply(ua).sum(axis=1)).ravel()
    den_j = k * (k - 1) + quad - own
    den = float(den_j.sum())
    est = num / den
    # cluster-robust variance of the ratio, clusters = clients (persons' client codes)
    client_of = np.zeros(P, np.int64)
    client_of[person] = c
    score = np.bincount(client_of, weights=num_j - est * den_j)
    G = int((np.bincount(client_of, weights=k * (k - 1)) > 0).sum())
    var = float((score ** 2).sum()) / den ** 2 * (G / (G - 1) if G > 1 else 1.0)
    return est, var


def design(net, provider, client) -> dict | None:
    """The finite-population design of each aggregated relation (unit level and above).

    The estimand of an aggregated relation *e* is the satisfaction of the service it
    gave: the mean, over its events (rated or not), of the expected rating of the
    client person served, with rating style (leniency) averaged out. Its raters are
    the client's people *j* with ``E_j`` events and ``n_j`` ratings; with event shares
    ``W_j = E_j / E`` and, over the people who rated, ``a_j = W_j / W_R``
    (``W_R = sum_rated W_j``, ``W_M = 1 - W_R``), the estimate is the post-stratified
    mean ``sum_j a_j ybar_j`` and its error variance is

        sigma_w^2 * sum a_j^2 / n_j + sigma_s^2 * sum a_j^2
        + sigma_q^2 * (W_M^2 sum a_j^2 + sum_unrated W_j^2)

    (rating noise; the raters' own style; the service people who did not rate got,
    predicted from those who did). Returns ``mean``, ``a1`` (sum a^2/n), ``a2``
    (sum a^2), ``a3`` (the sigma_q^2 factor), arrays aligned with ``provider`` and
    ``client`` (NaN where the relation has no rating), and ``style``: the pooled
    covariance of a person's leave-one-out deviations across the relations they rated
    (an actor effect, Kenny's social relations model), an estimate of ``sigma_s^2``
    (NaN when no person rated two relations), and ``style_var``: the cluster-robust
    sampling variance of that estimate (0 when it is NaN), with which
    :func:`icnet._shrink.shrink` widens the intervals of relations whose error is
    mostly style (Satterthwaite degrees of freedom). None at person level or without
    ratings or client people.
    """
    cols = net.event_columns
    if "satisfaction" not in cols or "client_person" not in cols:
        return None
    # one pass over the events shared with :func:`summary` (same function and columns)
    t = net._per_provider(_summary_part, ["satisfaction", "client_person"])[3]
    # partitions (Dask) each number their rows: one order, the pandas path's, for sums
    t = t.sort_values(["p", "c", "r"], kind="mergesort").reset_index(drop=True)
    ids = net.node_ids.to_numpy(dtype=object)
    E = t.groupby(["p", "c"], sort=False)["events"].transform("sum").to_numpy(float)
    W = t["events"].to_numpy(float) / E
    n = t["n"].to_numpy(float)
    rated = n > 0
    WR = pd.Series(np.where(rated, W, 0.0)).groupby([t["p"], t["c"]], sort=False) \
        .transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(rated, W / WR, 0.0)
        ybar = np.where(rated, t["sum"].to_numpy(float) / np.where(rated, n, 1), 0.0)
    keys = [t["p"], t["c"]]
    agg = pd.DataFrame({"mean": a * ybar, "a1": np.where(rated, a ** 2 / np.where(
        rated, n, 1), 0.0), "a2": a ** 2, "miss": np.where(rated, 0.0, W ** 2),
        "WR": WR, "nr": rated.astype(float)}).groupby(keys, sort=True).agg(
        {"mean": "sum", "a1": "sum", "a2": "sum", "miss": "sum", "WR": "first", "nr": "sum"})
    agg["a3"] = (1 - agg["WR"]) ** 2 * agg["a2"] + agg["miss"]
    idx = pd.MultiIndex.from_arrays([ids[agg.index.get_level_values(0)],
                                     ids[agg.index.get_level_values(1)]])
    agg.index = idx
    agg.loc[agg["nr"] == 0, ["mean", "a1", "a2", "a3"]] = np.nan
    want = pd.MultiIndex.from_arrays([np.asarray(provider, dtype=object),
                                      np.asarray(client, dtype=object)])
    agg = agg.reindex(want)
    style, style_var = _style(t, a, ybar, rated, keys)
    return {"mean": agg["mean"].to_numpy(float), "a1": agg["a1"].to_numpy(float),
            "a2": agg["a2"].to_numpy(float), "a3": agg["a3"].to_numpy(float),
            "style": style, "style_var": style_var}
