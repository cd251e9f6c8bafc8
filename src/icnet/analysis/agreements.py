"""Agreement compliance: breach of agreed delays (Kaplan–Meier), satisfaction, reviews, coverage.

See docs/methods/agreements.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _validate
from .._result import Result
from ..errors import ParameterError
from ..privacy import MIN_GROUP_SIZE
from ._survival import km_at
from .quality import _raters

__all__ = ["ComplianceResult", "agreement_compliance", "km_breach"]


@dataclass(frozen=True, repr=False)
class ComplianceResult(Result):
    """The tables of :func:`agreement_compliance`.

    ``.to_frame()`` returns ``agreements`` (``.to_frame("name")`` another table,
    ``.tables`` their names); in Jupyter it displays as HTML tables.

    Attributes
    ----------
    agreements : DataFrame
        One row per agreement: ``provider``, ``client``, ``service``,
        ``n_events``, ``n_open``, ``max_delay_hours``, ``breach_rate_km``
        (Kaplan–Meier S(max_delay_hours), the probability of still waiting
        when the agreed delay is over, open requests censored at ``as_of``;
        NaN when no request was followed up to the agreed delay),
        ``breach_low``, ``breach_high`` (95 % log(−log) interval, Greenwood
        variance), ``breach_note`` (why the rate is NaN, else ""),
        ``breach_flag`` (``breach_low`` > ``max_breach``: the whole interval
        above the bound), ``breach_rate_closed`` (delivered requests only),
        ``min_satisfaction``, ``satisfaction_mean``, ``satisfaction_shrunk``,
        ``satisfaction_high``, ``n_raters`` (distinct people who rated the
        relation), ``suppressed`` (fewer than ``min_group_size``: the three
        satisfaction columns blank), ``satisfaction_breach`` (the whole interval
        below the agreed minimum), ``last_review``, ``review_every``,
        ``next_review``, ``days_overdue`` (≥ 0), ``overdue``.
    coverage : DataFrame
        One row per provider unit: ``provider``, ``n_clients`` (client units
        it serves), ``n_covered`` (with an agreement), ``share_clients``,
        ``share_volume`` (share of its events covered), ``uncovered`` (the
        client units without one, ``"; "``-joined).
    """

    _main = "agreements"

    agreements: pd.DataFrame
    coverage: pd.DataFrame


def km_breach(durations, observed, limit: float, *, interval: bool = False,
              confidence: float = 0.95):
    """Kaplan–Meier probability that a request takes longer than ``limit`` hours.

    Parameters
    ----------
    durations : array
        Hours to delivery (observed) or to the censoring time (open).
    observed : bool array
        True when delivered.
    limit : float
    interval : bool, default False
        Also return the confidence interval and the reason when not estimable.
    confidence : float, default 0.95

    Returns
    -------
    float, or (estimate, low, high, note) with ``interval=True``
        ``S(limit)``, the probability of still waiting after ``limit`` hours
        (deliveries are the "events"). NaN when there is no request, or when
        no request was followed up to ``limit`` (all still open and younger
        than ``limit``: nothing is known yet), with the reason in ``note``.
        The interval is log(−log) with Greenwood's variance (see
        :func:`icnet.analysis._survival.km_at`).

    Examples
    --------
    >>> km_breach([1, 2, 5, 10], [True, True, False, True], 4)
    0.5
    >>> km_breach([1, 2, 5, 10], [True, True, True, True], 4)
    0.5
    >>> km_breach([1, 2], [False, False], 4, interval=True)
    (nan, nan, nan, 'no request followed up to the agreed delay (oldest open: 2 h)')
    """
    d = np.asarray(durations, float)
    o = np.asarray(observed, bool)
    r = km_at(np.zeros(len(d), np.int64), d, o, limit, 1, confidence=confidence).iloc[0]
    s = float(r["s"])
    if interval:
        return s, float(r["low"]), float(r["high"]), str(r["note"])
    return s


MAX_BREACH = 0.30
"""Breach rate above which an agreement is flagged (on the interval's lower bound)."""


def agreement_compliance(net, *, as_of=None, min_group_size: int = MIN_GROUP_SIZE,
                         max_breach: float = MAX_BREACH) -> ComplianceResult:
    """How each service agreement is kept, reviewed, and how much of the service it covers.

    Parameters
    ----------
    net : ServiceNetwork
        Needs an agreements table (between units, or between the network's
        own ids) and, for delays, events.
    as_of : timestamp, optional
        "Today" for open requests and review deadlines; default the end of
        the data (never the wall clock, so results are reproducible).
    min_group_size : int, default 5
        A relation rated by fewer distinct people has its satisfaction columns
        blanked (``suppressed = True``) and no ``satisfaction_breach``.
    max_breach : float, default 0.30
        ``breach_flag`` when the lower 95 % bound of the breach rate exceeds it.

    Returns
    -------
    ComplianceResult

    Raises
    ------
    ParameterError
        No agreements table.

    Notes
    -----
    On a network built with Dask (``engine="dask"``) each agreement's figures
    are computed on the cluster, per partition of providers (after
    ``net.by("unit")`` there); only those figures reach memory and the results
    are the same.

    Requests still open at ``as_of`` are right-censored at their age; the
    breach rate is :math:`\\hat S(d_{max})` (still waiting at the agreed delay) with the
    Kaplan–Meier estimator
    :math:`\\hat S(t)=\\prod_{t_i\\le t}(1-d_i/n_i)` (Kaplan & Meier 1958), so
    open requests are neither dropped nor counted as on time. When no request
    was followed up to the agreed delay the rate is not estimable: NaN, with
    the reason in ``breach_note``. The interval is Kalbfleisch & Prentice's
    log(−log) transform with Greenwood's (1926) variance; at
    :math:`\\hat S\\in\\{0,1\\}` the exact binomial bound :math:`(\\alpha/2)^{1/n}`.
    An agreement is
    overdue when ``last_review + review_every < as_of``.

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
    observations. *JASA* 53, 457–481.

    Examples
    --------
    >>> import icnet
    >>> c = icnet.agreement_compliance(icnet.datasets.toy())
    >>> c.agreements[["provider", "client", "overdue"]].values.tolist()
    [['Informatica', 'Produccion', True], ['Mantenimiento', 'Produccion', False], ['Produccion', 'Ventas', False]]
    """
    if not hasattr(net, "_in_memory"):   # a Dask-built network stays one (see Notes)
        net = _validate.network(net)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    _validate.in_range("max_breach", max_breach, low=0, high=1)
    if net.agreements is None or len(net.agreements) == 0:
        raise ParameterError(
            "agreement_compliance needs an agreements table: pass agreements=... to "
            "icnet.from_events (provider, client, max_delay_hours, review_every, …).")
    ag = net.agreements.copy()
    unit_net = net.by("unit") if (net.level == "person" and net.people is not None) else net
    if as_of is None:
        as_of = net.span[1] if net.has_time else pd.Timestamp("1970-01-01")
    else:
        from .._engine import time_parameter
        as_of = time_parameter(as_of, "as_of")
    edges = unit_net._edges.set_index(["provider", "client"])
    ids = unit_net.node_ids
    agreed = pd.DataFrame({"p": ids.get_indexer(ag["provider"].to_numpy(dtype=object)),
                           "c": ids.get_indexer(ag["client"].to_numpy(dtype=object)),
                           "service": (ag["service"] if "service" in ag else
                                       pd.Series(np.nan, index=ag.index)).to_numpy(object),
                           "lim": (ag["max_delay_hours"] if "max_delay_hours" in ag else
                                   pd.Series(np.nan, index=ag.index)).to_numpy(float)})
    figures = pd.DataFrame(columns=_FIGURES).set_index("i")
    if unit_net.has_events:
        figures = unit_net._per_provider(
            _agreement_part, ["delay_hours", "service"], agreed=agreed,
            as_of=as_of).set_index("i").sort_index()
    r = _raters(unit_net, "relation")
    raters = {} if r is None else r.to_dict()
    rows = []
    for i, a in enumerate(ag.itertuples(index=False)):   # one row per agreement
        rec = a._asdict()
        if i in figures.index:
            rec.update(figures.loc[i].to_dict())
            rec["n_events"], rec["n_open"] = int(rec["n_events"]), int(rec["n_open"])
        else:
            rec.update(n_events=0, n_open=0, breach_rate_km=np.nan, breach_low=np.nan,
                       breach_high=np.nan, breach_rate_closed=np.nan,
                       breach_note="no request" if unit_net.has_events else "no events")
        pair = (a.provider, a.client)
        if pair in edges.index:
            e = edges.loc[pair]
            rec["satisfaction_mean"] = e["satisfaction_mean"]
            rec["satisfaction_shrunk"] = e["satisfaction_shrunk"]
            rec["satisfaction_high"] = e["satisfaction_high"]
        else:
            rec["satisfaction_mean"] = rec["satisfaction_shrunk"] = np.nan
            rec["satisfaction_high"] = np.nan
        rec["n_raters"] = int(raters.get(pair, 0))
        if rec["n_raters"] < min_group_size:       # privacy: too few raters to show
            rec["satisfaction_mean"] = rec["satisfaction_shrunk"] = np.nan
            rec["satisfaction_high"] = np.nan
        rec["suppressed"] = rec["n_raters"] < min_group_size
        ms = getattr(a, "min_satisfaction", np.nan)
        rec["satisfaction_breach"] = bool(np.isfinite(ms) and
                                          rec["satisfaction_high"] < ms)
        rows.append(rec)
    out = pd.DataFrame(rows)
    # flag on the interval, not the point estimate: the whole interval above the bound
    out["breach_flag"] = (out["breach_low"].astype(float) > max_breach).to_numpy(dtype=bool) \
        if len(out) else np.zeros(0, dtype=bool)
    for c in ("service", "max_delay_hours", "min_satisfaction"):
        if c not in out:
            out[c] = np.nan
    if "last_review" in out and "review_every" in out:
        out["next_review"] = out["last_review"] + out["review_every"]
        # in seconds: 1901..2250 spans more than datetime64[ns]'s 292 years (#20)
        late = (pd.Timestamp(as_of).as_unit("s")
                - out["next_review"].astype("datetime64[s]")).dt.days
        out["days_overdue"] = late.clip(lower=0)
        out["overdue"] = (late > 0).fillna(False).astype(bool)
    else:
        for c in ("last_review", "review_every", "next_review", "days_overdue"):
            if c not in out:
                out[c] = np.nan
        out["overdue"] = False
    cols = ["provider", "client", "service", "n_events", "n_open", "max_delay_hours",
            "breach_rate_km", "breach_low", "breach_high", "breach_note", "breach_flag",
            "breach_rate_closed", "min_satisfaction", "satisfaction_mean",
            "satisfaction_shrunk", "satisfaction_high", "n_raters", "suppressed",
            "satisfaction_breach", "last_review",
            "review_every", "next_review", "days_overdue", "overdue"]
    out = out[cols].sort_values(["provider", "client", "service"], kind="mergesort",
                                na_position="first").reset_index(drop=True)
    cov = _coverage(unit_net, ag)
    params = {"as_of": str(as_of), "min_group_size": min_group_size,
              "max_breach": max_breach}
    out.attrs["params"] = params
    cov.attrs["params"] = params
    return ComplianceResult(out, cov)


_FIGURES = ["i", "n_events", "n_open", "breach_rate_km", "breach_low", "breach_high",
            "breach_note", "breach_rate_closed"]


def _agreement_part(ev, agreed, as_of):
    """Per agreement (row ``i`` of ``agreed``: provider and client codes ``p``, ``c``,
    ``service``, limit ``lim``) whose provider's events are in ``ev`` (see
    :meth:`icnet.ServiceNetwork._per_provider`): its events, those still open, and
    the Kaplan–Meier and closed-only breach rates."""
    nn = len(ev["provider"].cat.categories)
    pc = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    # events are canonically sorted by (provider, client): a relation is one slice
    key = pc * nn + ev["client"].cat.codes.to_numpy().astype(np.int64)
    here = agreed.index[(agreed["p"] >= 0) & (agreed["c"] >= 0) &
                        np.isin(agreed["p"].to_numpy(), np.unique(pc))]
    rows = []
    for i in here:               # the agreements of these providers (not the events)
        p, c, service, lim = agreed.loc[i, ["p", "c", "service", "lim"]]
        k = int(p) * nn + int(c)
        sub = ev.iloc[np.searchsorted(key, k, "left"):np.searchsorted(key, k, "right")]
        if isinstance(service, str) and "service" in ev:
            sub = sub[(sub["service"].astype(object) == service).to_numpy()]
        rec = {"i": i, "n_events": len(sub), "n_open": 0, "breach_rate_km": np.nan,
               "breach_low": np.nan, "breach_high": np.nan,
               "breach_note": "no request" if not len(sub) else
               "no delays or no agreed delay", "breach_rate_closed": np.nan}
        if len(sub) and "delay_hours" in sub and np.isfinite(lim):
            d = sub["delay_hours"].to_numpy(float)
            obs = ~np.isnan(d)
            if "requested_at" in sub:
                age = (as_of - sub["requested_at"]).to_numpy() / np.timedelta64(1, "h")
                d = np.where(obs, d, np.maximum(age, 0))
            keep = ~np.isnan(d)
            rec["n_open"] = int((~obs).sum())
            (rec["breach_rate_km"], rec["breach_low"], rec["breach_high"],
             rec["breach_note"]) = km_breach(d[keep], obs[keep], lim, interval=True)
            rec["breach_rate_closed"] = float(np.mean(d[obs] > lim)) if obs.any() else np.nan
        rows.append(rec)
    return pd.DataFrame(rows, columns=_FIGURES).astype({"i": "int64"})


def _coverage(unit_net, ag):
    e = unit_net._edges[["provider", "client", "n_events"]]
    covered = set(zip(ag["provider"], ag["client"]))
    pairs = pd.MultiIndex.from_arrays([e["provider"].to_numpy(dtype=object),
                                       e["client"].to_numpy(dtype=object)])
    e = e.assign(covered=pairs.isin(list(covered)) if len(e) else np.zeros(0, dtype=bool))
    e = e.assign(covered_events=e["n_events"].where(e["covered"], 0))
    g = e.groupby("provider", sort=True)
    sums = g[["covered", "covered_events", "n_events"]].sum()
    out = pd.DataFrame({
        "provider": sums.index.to_numpy(dtype=object),
        "n_clients": g.size().to_numpy().astype("int64"),
        "n_covered": sums["covered"].to_numpy().astype("int64"),
    })
    out["share_clients"] = out["n_covered"] / out["n_clients"]
    out["share_volume"] = (sums["covered_events"] / sums["n_events"]).to_numpy(dtype=float)
    unc = e[~e.covered].groupby("provider")["client"].apply(lambda s: "; ".join(sorted(s)))
    out["uncovered"] = [unc.get(p, "") for p in out["provider"]]
    return out
