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

__all__ = ["Ratings", "by_period", "rater_column", "summary"]


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
    rated request; and the distinct (client, rater) pairs."""
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
    return rel, prov, pairs


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
    rel, prov, pairs = net._per_provider(_summary_part, ["satisfaction", rater])
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
