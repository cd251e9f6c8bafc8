"""Conflict cycles, the mutual-dissatisfaction dyad census, and structural balance.

Three views of the same question — *who serves whom badly, both ways?*

- :func:`conflict_cycles`: directed cycles of credibly bad relations
  (A serves B badly, B serves C badly, …, back to A), bounded enumeration.
- :func:`dyad_census`: are mutual dissatisfactions (length-2 cycles) more
  common than chance, given the service graph and how many bad relations
  each provider gives?
- :func:`balance`: the signed network's frustration index (line index of
  imbalance) and its two camps, exactly with HiGHS or heuristically.

See docs/methods/conflicts.md for the formulas.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from .. import _validate
from .._result import Result
from ..errors import BudgetExceededError, IcnetWarning, ParameterError
from ..privacy import (MIN_GROUP_SIZE, SURVEY_EDGE_COLUMNS, _gate_edges, _small_relations,
                       check_individuals)

__all__ = ["conflict_cycles", "bad_edges", "dyad_census", "signed_pairs", "balance",
           "BalanceResult", "pingpong_conflicts"]

_COLUMNS = ["cycle", "length", "severity", "weakest_shortfall", "n_events", "edges",
            "satisfaction_mean"]
_Z95 = 1.959963984540054
_MAX_ROWS = 1_000_000      # open paths held at once while enumerating (memory guard)


# --------------------------------------------------------------------------- bad edges

def bad_edges(net, *, min_events: int = 5, max_breach: float = 0.5,
              level: str | None = None, individuals: bool = False,
              min_group_size: int = MIN_GROUP_SIZE) -> pd.DataFrame:
    """The credibly bad relations: what conflict cycles are made of.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
        A DiGraph needs a ``satisfaction`` edge attribute (mean) and ideally
        ``n_events``/``satisfaction_n``.
    min_events : int, default 5
        A relation needs at least this many events to be called bad.
    max_breach : float, default 0.5
        A relation is also bad when the Wilson 95 % lower bound of its SLA
        breach rate exceeds this (more than half of its requests late,
        credibly).
    level : str, optional
        Aggregate first (e.g. ``"unit"``).
    individuals : bool, default False
        Unless True, a relation rated by fewer than ``min_group_size`` people
        (every relation at person level) has its survey figures
        (:data:`icnet.privacy.SURVEY_EDGE_COLUMNS`) and a satisfaction
        ``shortfall`` blanked and ``sign == "suppressed"``; that it is listed
        (with ``why``) still says its ratings are credibly bad.
    min_group_size : int, default 5

    Returns
    -------
    DataFrame
        The rows of ``net.edges`` that are credibly bad (same columns, same
        order), plus ``breach_low`` (Wilson 95 % lower bound of the SLA breach
        rate beyond the organisation's normal one, fraction, see Notes; NaN
        without agreed delays), ``shortfall`` (fraction of
        the scale range by which the upper satisfaction bound lies below
        neutral, or by which ``breach_low`` exceeds ``max_breach`` for
        delay-only relations, or the share of the relation's typical delay
        beyond the provider's typical relation at its one-sided 95 % lower
        bound for ``"slower"`` ones; >= 0) and ``why`` (``"satisfaction"``,
        ``"delay"`` or ``"slower"``).

    Raises
    ------
    ParameterError
        ``min_events`` < 1 or ``max_breach`` outside [0, 1]; ``net`` is not a
        network.

    See Also
    --------
    conflict_cycles, icnet.service_quality

    Notes
    -----
    Bad when :math:`n \\ge` ``min_events`` and either ``sign == "bad"`` — the
    95 % empirical-Bayes interval of the shrunk satisfaction lies entirely
    below ``net.threshold`` — or

    .. math:: \\frac{\\hat p + \\frac{z^2}{2n} - z\\sqrt{\\frac{\\hat p(1-\\hat p)}{n}
              + \\frac{z^2}{4n^2}}}{1 + z^2/n} > \\text{max\\_breach},

    the Wilson lower bound of the breach rate :math:`\\hat p` over the
    :math:`n` requests with an agreed delay (``sla_n``), corrected for the
    organisation's normal breach rate :math:`p_0` (the median over relations
    with at least ``min_events`` agreed requests, when there are at least 5;
    else 0) by Abbott's formula :math:`(L - p_0)/(1 - p_0)` — the share of
    requests late beyond what is normal: where every relation breaches an
    agreement (agreed delays shorter than the usual delay) that is a
    property of the agreements, not a conflict.

    Or the relation is credibly slower
    than the same provider's other relations for the same service
    (``"slower"``, #21) and its ratings do not credibly say ``good``. On log
    delay (delivered requests), each relation's mean is compared with the
    precision-weighted mean of the provider's other relations (at least 3
    with ``min_events`` delivered requests), the prediction variance
    including the between-relation variance :math:`\\tau^2` — a funnel plot
    with an additive random effect (Spiegelhalter 2005), :math:`\\tau^2` by
    DerSimonian & Laird (1986) pooled over providers from z-scores
    winsorised at 10 % each side — and one-sided p-values called at a
    Benjamini–Hochberg false discovery rate of 5 % over the relations
    tested. "Bad" is then relative: this client is served worse than the
    provider's other clients. ``why`` takes satisfaction, then delay, then
    slower, when several hold.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. *JASA* 22, 209–212.
    Abbott, W. S. (1925). A method of computing the effectiveness of an
    insecticide. *J. Economic Entomology* 18, 265–267.
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional
    performance. *Statistics in Medicine* 24, 1185–1202.
    DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials.
    *Controlled Clinical Trials* 7, 177–188.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery
    rate. *J. Royal Statistical Society B* 57, 289–300.

    Examples
    --------
    >>> import icnet
    >>> b = bad_edges(icnet.datasets.toy(), level="unit")
    >>> b[["provider", "client", "why"]].values.tolist()
    [['Calidad', 'Produccion', 'satisfaction'], ['Informatica', 'Produccion', 'delay'], ['Produccion', 'Calidad', 'satisfaction']]
    """
    net = _validate.level(_validate.network(net), level)
    _validate.in_range("min_events", min_events, low=1, integer=True)
    _validate.in_range("max_breach", max_breach, low=0, high=1)
    individuals = check_individuals(individuals)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    out = _bad_edges(net, min_events, max_breach)
    if individuals:
        return out
    small = _small_relations(out, net.level, min_group_size)
    out = _gate_edges(out, net.level, min_group_size)
    out["shortfall"] = out["shortfall"].where(~(small & (out["why"] == "satisfaction")))
    return out


def _bad_edges(net, min_events, max_breach):
    e = net._edges
    enough = e["n_events"].to_numpy(float) >= min_events
    sat_bad = (e["sign"] == "bad").to_numpy() & enough
    n = e["sla_n"].to_numpy(float) if "sla_n" in e else np.zeros(len(e))
    p = e["sla_breach_rate"].to_numpy(float) if "sla_breach_rate" in e \
        else np.full(len(e), np.nan)
    low = _excess_breach(_wilson_low(p, n), p, n, min_events)
    late_bad = enough & (n >= min_events) & (np.nan_to_num(low, nan=-1.0) > max_breach)
    slow_low = _slower(net, e, min_events)
    rated_good = (e["sign"] == "good").to_numpy() if "sign" in e else np.zeros(len(e), bool)
    slow_bad = enough & np.isfinite(slow_low) & ~rated_good
    bad = sat_bad | late_bad | slow_bad
    out = e.loc[bad].copy()
    out["breach_low"] = low[bad]
    width = net.scale[1] - net.scale[0]
    sat_short = (net.threshold - out["satisfaction_high"].to_numpy(float)) / width
    late_short = low[bad] - max_breach
    out["shortfall"] = np.where(sat_bad[bad], sat_short,
                                np.where(late_bad[bad], late_short, slow_low[bad]))
    out["why"] = np.where(sat_bad[bad], "satisfaction",
                          np.where(late_bad[bad], "delay", "slower"))
    return out.reset_index(drop=True)


_SLOWER_FDR = 0.05   # Benjamini-Hochberg level of the "slower than its provider's other
#                      clients" rule (#21)
_MIN_CELLS = 2       # relations a provider (and service) needs for the within-provider rule
_WINSOR = 0.10       # z-scores winsorised at 10 % / 90 % for tau² (Spiegelhalter 2005)


def _delay_cells(ev):
    """Per (provider, service, client): delivered requests, mean and variance of log
    delay — per provider, so a Dask-built network computes it on the cluster."""
    d = ev["delay_hours"].to_numpy(float)
    ok = np.isfinite(d) & (d > 0) & (ev["provider"].to_numpy() != ev["client"].to_numpy())
    svc = ev["service"].astype(str).to_numpy()[ok] if "service" in ev \
        else np.full(int(ok.sum()), "", dtype=object)
    t = pd.DataFrame({"provider": ev["provider"].to_numpy(dtype=object)[ok], "service": svc,
                      "client": ev["client"].to_numpy(dtype=object)[ok],
                      "y": np.log(d[ok])})
    return t.groupby(["provider", "service", "client"], sort=True)["y"] \
        .agg(["size", "mean", "var"]).reset_index()


def _slower(net, e, min_events, q=_SLOWER_FDR):
    """Relations credibly slower than the same provider's other relations (#21).

    Funnel-plot comparison with an additive random effect (Spiegelhalter 2005): on
    log delay, a relation's mean against the precision-weighted mean of the provider's
    *other* relations for the same service, with the between-relation variance tau²
    (DerSimonian & Laird 1986, pooled over providers, from z-scores winsorised at 10 %
    each side) in the prediction variance; one-
    sided p-values, Benjamini-Hochberg at ``q`` over the relations tested. Returns,
    aligned with ``e``, ``1 - exp(-d_low)`` for the relations called slower (d_low: the
    one-sided 95 % lower bound of the log-delay excess, i.e. the share of the relation's
    typical delay beyond the provider's typical relation) and NaN elsewhere."""
    res = np.full(len(e), np.nan)
    if len(e) == 0 or not net.has_events or "delay_hours" not in net.event_columns:
        return res
    c = net._per_provider(_delay_cells, ["delay_hours", "service"])
    c = c[c["size"] >= max(min_events, 2)]
    grp = ["provider", "service"]
    c = c[c.groupby(grp, observed=True)["size"].transform("size") >= _MIN_CELLS]
    if c.empty:
        return res
    c = c.sort_values(["provider", "service", "client"], kind="stable")   # partition order
    nn, y = c["size"].to_numpy(float), c["mean"].to_numpy(float)
    ss = (nn - 1) * c["var"].to_numpy(float)
    s2 = c.assign(ss=ss, df=nn - 1).groupby(grp, observed=True)[["ss", "df"]] \
        .transform("sum")
    v = np.maximum((s2["ss"] / s2["df"]).to_numpy(float), 1e-12) / nn   # var of the mean
    gid = c.groupby(grp, observed=True).ngroup().to_numpy()
    w = 1.0 / v
    S1, S2 = np.bincount(gid, w), np.bincount(gid, w * w)
    ybar = np.bincount(gid, w * y) / S1
    # Q from z-scores winsorised at their 10th and 90th percentiles, so that the
    # outliers being looked for do not widen the reference (Spiegelhalter 2005)
    zz = np.sqrt(w) * (y - ybar[gid])
    lo_, hi_ = np.quantile(zz, [_WINSOR, 1 - _WINSOR])
    Q = float((np.clip(zz, lo_, hi_) ** 2).sum())
    K = np.bincount(gid).astype(float)
    denom = float((S1 - S2 / S1).sum())
    tau2 = max(0.0, (Q - float((K - 1).sum())) / denom) if denom > 0 else 0.0
    ws = 1.0 / (tau2 + v)
    Sw, Swy = np.bincount(gid, ws), np.bincount(gid, ws * y)
    rest = Sw[gid] - ws
    diff = y - (Swy[gid] - ws * y) / rest
    se = np.sqrt(tau2 + v + 1.0 / rest)
    from scipy import stats
    p = stats.norm.sf(diff / se)
    m = len(p)
    order = np.argsort(p, kind="stable")
    passed = p[order] <= q * np.arange(1, m + 1) / m
    k = int(np.flatnonzero(passed).max()) + 1 if passed.any() else 0
    called = np.zeros(m, bool)
    called[order[:k]] = True
    if not called.any():
        return res
    low = 1.0 - np.exp(-np.maximum(diff - stats.norm.ppf(0.95) * se, 0.0))
    hit = pd.DataFrame({"provider": c["provider"].to_numpy()[called],
                        "client": c["client"].to_numpy()[called], "low": low[called]}) \
        .groupby(["provider", "client"], sort=False)["low"].max()
    key = pd.MultiIndex.from_arrays([e["provider"].to_numpy(), e["client"].to_numpy()])
    return hit.reindex(key).to_numpy(float)


_MIN_REFERENCE = 5   # relations with >= min_events agreed requests for an org reference


def _excess_breach(low, p, n, min_events):
    """Abbott's (1925) correction of a breach rate for the organisation's normal one.

    ``(low - p0) / (1 - p0)`` with ``p0`` the median breach rate of the relations
    with at least ``min_events`` agreed requests (at least ``_MIN_REFERENCE`` of
    them; else ``p0 = 0``): the share of requests late *beyond* what is normal
    in the organisation. An agreement every relation breaches (agreed delays
    shorter than the usual delay) then makes no relation bad; where late is
    rare (``p0`` near 0) the rule is the plain one."""
    ref = np.isfinite(p) & (n >= min_events)
    p0 = float(np.median(p[ref])) if ref.sum() >= _MIN_REFERENCE else 0.0
    p0 = min(max(p0, 0.0), 1.0 - 1e-9)
    return (low - p0) / (1.0 - p0)


def _wilson_low(p, n, z=_Z95):
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        low = centre - half
    return np.where(n > 0, low, np.nan)


# --------------------------------------------------------------------------- cycles

def conflict_cycles(net, *, max_length: int = 4, level: str | None = None,
                    min_events: int = 5, max_breach: float = 0.5, max_cycles: int = 5000,
                    max_paths: int = 20_000_000, individuals: bool = False,
                    min_group_size: int = MIN_GROUP_SIZE,
                    _person: pd.DataFrame | None = None) -> pd.DataFrame:
    """Directed cycles of service relations that are credibly bad in every step.

    A serves B badly, B serves C badly, C serves A badly: nobody in the loop
    can fix their own input. Length-2 cycles are mutual-dissatisfaction dyads.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
        A DiGraph needs a ``satisfaction`` edge attribute (mean) and ideally
        ``n_events``/``satisfaction_n`` (edges point provider → client).
    max_length : int, default 4
        Longest cycle searched (2 = only mutual-dissatisfaction dyads).
    level : str, optional
        Aggregate first (``"unit"``). From a person-level network the result
        also says which person-level relations and cycles make up each
        unit-level cycle (``person_edges``, ``person_cycles``).
    min_events : int, default 5
        Evidence a relation needs to count as bad (see :func:`bad_edges`).
    max_breach : float, default 0.5
        A relation also counts as bad when the Wilson lower bound of its SLA
        breach rate exceeds this.
    max_cycles : int, default 5000
        Hard bound on the cycles reported. Shorter cycles are enumerated
        first, so when the bound is hit all shorter lengths are complete;
        ``attrs["truncated"]`` says so.
    max_paths : int, default 20,000,000
        Hard bound on the open paths created in total while enumerating (the
        work bound: a dense bad-relation graph stops here instead of running
        for hours); ``attrs["truncated"]`` says when it was hit.
    individuals : bool, default False
        Unless True, a cycle with a step rated by fewer than
        ``min_group_size`` people (every rated step at person level: one
        person's ratings) has ``satisfaction_mean``, ``weakest_shortfall``
        and ``severity`` blanked (NaN; the rows keep their order by the
        hidden severity). Privacy, #20.
    min_group_size : int, default 5

    Returns
    -------
    DataFrame
        One row per cycle, sorted by ``severity`` (descending; ties by the
        cycle's node ids):

        - ``cycle``: tuple of node ids in service order (each serves the
          next, the last serves the first), rotated so the smallest id comes
          first;
        - ``length``: number of relations (2..max_length);
        - ``severity``: ``weakest_shortfall × log(1 + n_events)``
          (dimensionless; ≥ 0);
        - ``weakest_shortfall``: the smallest ``shortfall`` of its relations
          (fraction of the scale range, see :func:`bad_edges`): how credibly
          bad the *least* bad step is;
        - ``n_events``: events on all its relations (count);
        - ``edges``: tuple of ``(provider, client)`` pairs;
        - ``satisfaction_mean``: mean shrunk satisfaction of its relations
          (scale units; NaN when none is rated, and — with ``severity`` and
          ``weakest_shortfall`` — when a step is rated by fewer than
          ``min_group_size`` people, unless ``individuals=True``);
        - at an aggregated level from a person-level network:
          ``person_edges`` (tuple of the person-level bad relations behind
          its steps), ``person_cycles`` (tuple of the person-level
          conflict cycles whose units, consecutive repeats merged, trace
          this cycle) and ``between``: ``"units"`` for a cycle of the unit
          network, ``"people"`` for a row that carries the units of
          person-level cycles no unit cycle covers (``cycle`` = their
          people's units in service order, so a pair inside one unit reads
          ``(u, u)``; the figures are those of the most severe such
          person-level cycle; ``satisfaction_mean`` only with
          ``individuals=True``). A unit is in a conflict when it appears in
          any row, as :func:`icnet.bottlenecks` flags a unit with a flagged
          member.

        ``attrs``: ``params``; ``truncated`` (bool: a bound was hit);
        ``truncated_by`` (``"max_cycles"``, ``"max_paths"`` or None);
        ``n_bad_edges``; ``components`` (strongly connected components of
        the bad-relation graph with a cycle: the parts searched);
        ``n_paths`` (open paths created).

    Raises
    ------
    ParameterError
        A parameter out of range, an unknown ``level``, or ``net`` not a
        network.

    See Also
    --------
    bad_edges, dyad_census, balance, icnet.retaliation_spirals

    Notes
    -----
    A cycle never leaves a strongly connected component (SCC) of the
    bad-relation graph, so only relations inside an SCC with more than one
    node are kept (Tarjan 1972; computed with
    ``scipy.sparse.csgraph.connected_components``) and every path stays in
    its component. Cycles of each length :math:`L` are found as paths
    :math:`u \\to v_2 \\to \\dots \\to v_L` with all :math:`v_k > u`, distinct,
    and a relation :math:`v_L \\to u`: each cycle is found exactly once,
    already rotated to its smallest id (the canonical start of Johnson
    1975). Each extension step is vectorised over all open paths of a block
    of start nodes (blocks split when they would hold more than a million
    paths); lengths are processed in increasing order.

    .. math:: \\text{severity}(C) = \\min_{e \\in C} s_e \\times \\log\\Bigl(1 + \\sum_{e \\in C} n_e\\Bigr)

    with :math:`s_e` the shortfall and :math:`n_e` the events of relation
    :math:`e`: a cycle is as credible as its weakest link, and matters more
    the more service flows around it.

    References
    ----------
    Tarjan, R. (1972). Depth-first search and linear graph algorithms. *SIAM
    J. Computing* 1, 146–160.
    Johnson, D. B. (1975). Finding all the elementary circuits of a directed
    graph. *SIAM J. Computing* 4, 77–84.

    Examples
    --------
    >>> import icnet
    >>> net = icnet.datasets.toy()
    >>> c = icnet.conflict_cycles(net, level="unit")
    >>> c.loc[0, "cycle"], int(c.loc[0, "length"])
    (('Calidad', 'Produccion'), 2)
    >>> ("dario", "ana") in c.loc[0, "person_edges"]
    True
    """
    net = _validate.network(net)
    base = net
    net = _validate.level(net, level)
    _validate.in_range("max_length", max_length, low=2, integer=True)
    _validate.in_range("min_events", min_events, low=1, integer=True)
    _validate.in_range("max_breach", max_breach, low=0, high=1)
    _validate.in_range("max_cycles", max_cycles, low=1, integer=True)
    _validate.in_range("max_paths", max_paths, low=1, integer=True)
    individuals = check_individuals(individuals)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    params = dict(max_length=max_length, level=net.level, min_events=min_events,
                  max_breach=max_breach, max_cycles=max_cycles, max_paths=max_paths,
                  individuals=individuals, min_group_size=min_group_size)
    composed = net is not base and base.level == "person"
    out, info = _cycles(net, max_length, min_events, max_breach, max_cycles, max_paths)
    if composed:
        pc = _person if _person is not None else \
            _cycles(base, max_length, min_events, max_breach, max_cycles, max_paths)[0]
        out["person_edges"], out["person_cycles"] = _composition(
            base, net, out, pc, min_events, max_breach)
        out = _with_people(out, pc, net, individuals)
    if not individuals and len(out):
        # a small relation's figures are a few people's ratings (one at person level, #20);
        # a "people" row of a unit-level result carries a person-level cycle's figures
        e = net._edges
        sm = _small_relations(e, net.level, min_group_size)
        small = set(zip(e.loc[sm, "provider"].astype(object), e.loc[sm, "client"].astype(object)))
        hide = np.array([any(x in small for x in es) for es in out["edges"]], dtype=bool)
        if "between" in out:
            hide |= (out["between"] == "people").to_numpy(bool)
        for col in ("satisfaction_mean", "weakest_shortfall", "severity"):
            out[col] = out[col].where(~hide)
    out.attrs.update(params=params, **info)
    return out


def _cycles(net, max_length, min_events, max_breach, max_cycles, max_paths):
    bad = _bad_edges(net, min_events, max_breach)
    ids = net.node_ids
    n = len(ids)
    p = ids.get_indexer(bad["provider"].to_numpy(dtype=object)).astype(np.int64)
    c = ids.get_indexer(bad["client"].to_numpy(dtype=object)).astype(np.int64)
    found, info = _enumerate(p, c, n, max_length, max_cycles, max_paths)
    info["n_bad_edges"] = len(bad)
    key = p * n + c
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    short = bad["shortfall"].to_numpy(float)
    nev = bad["n_events"].to_numpy(float)
    shr = bad["satisfaction_shrunk"].to_numpy(float)
    names = ids.to_numpy(dtype=object)
    parts = []
    for cyc in found:                         # one array per length (≤ max_length − 1)
        nxt = np.roll(cyc, -1, axis=1)
        pos = order[np.searchsorted(key_sorted, cyc * n + nxt)]
        weakest = short[pos].min(axis=1)
        tot = nev[pos].sum(axis=1)
        rated = np.isfinite(shr[pos])
        with np.errstate(invalid="ignore"):
            smean = np.where(rated.any(axis=1), np.nansum(shr[pos], axis=1) /
                             np.maximum(rated.sum(axis=1), 1), np.nan)
        cn, nn = names[cyc], names[nxt]
        parts.append(pd.DataFrame({
            "cycle": [tuple(r) for r in cn],
            "length": np.full(len(cyc), cyc.shape[1], dtype=np.int64),
            "severity": weakest * np.log1p(tot),
            "weakest_shortfall": weakest,
            "n_events": tot.astype(np.int64),
            "edges": [tuple(zip(a, b)) for a, b in zip(cn, nn)],
            "satisfaction_mean": smean}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {k: pd.Series(dtype=t) for k, t in zip(
            _COLUMNS, [object, "int64", float, float, "int64", object, float])})
    if len(out):
        tie = out["cycle"].map("\x00".join)
        out = out.iloc[np.lexsort((tie.to_numpy(dtype=object).astype(str),
                                   -out["severity"].to_numpy()))].reset_index(drop=True)
    return out[_COLUMNS], info


def _enumerate(p, c, n, max_length, max_cycles, max_paths):
    """Elementary cycles of length 2..max_length, smallest node first, bounded.

    Returns a list of int arrays (one per length, shape (k, L)) and an info dict.
    """
    info = dict(truncated=False, truncated_by=None, components=0, n_paths=0)
    if len(p) == 0:
        return [], info
    A = sparse.csr_matrix((np.ones(len(p)), (p, c)), shape=(n, n))
    n_comp, lab = csgraph.connected_components(A, directed=True, connection="strong")
    size = np.bincount(lab, minlength=n_comp)
    keep = (lab[p] == lab[c]) & (size[lab[p]] > 1) & (p != c)
    if not keep.any():
        return [], info
    pk, ck = p[keep], c[keep]
    info["components"] = int(len(np.unique(lab[pk])))
    A = sparse.csr_matrix((np.ones(len(pk)), (pk, ck)), shape=(n, n))
    A.sum_duplicates()
    A.sort_indices()
    indptr, indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    edge_key = np.unique(pk * n + ck)
    # start nodes one component after the other (paths never leave a component)
    starts = np.unique(pk)
    starts = starts[np.lexsort((starts, lab[starts]))]
    budget = [int(max_paths)]
    found, total = [], 0
    for L in range(2, max_length + 1):
        # one more than the room left: finding it proves the bound was binding
        cyc, ok = _cycles_of_length(L, starts, indptr, indices, n, edge_key, budget,
                                    max_cycles - total + 1)
        info["n_paths"] = int(max_paths - budget[0])
        if total + len(cyc) > max_cycles:
            cyc = cyc[:max_cycles - total]
            info.update(truncated=True, truncated_by="max_cycles")
        if len(cyc):
            found.append(cyc)
            total += len(cyc)
        if not ok and not info["truncated"]:
            info.update(truncated=True, truncated_by="max_paths")
        if info["truncated"]:
            break
    return found, info


def _cycles_of_length(L, starts, indptr, indices, n, edge_key, budget, need):
    """Cycles u → v2 → … → vL → u with every v > u, vectorised per block of starts.

    Stops once ``need`` cycles are found; ``ok`` is False when a block was
    skipped because the path budget (or the per-block memory guard) was hit.
    """
    out, ok, got = [], True, 0
    blocks = [starts[i:i + 4096] for i in range(0, len(starts), 4096)]
    while blocks and got < need:
        block = blocks.pop(0)
        paths = block[:, None]
        split = False
        for _ in range(L - 1):
            last = paths[:, -1]
            deg = indptr[last + 1] - indptr[last]
            tot = int(deg.sum())
            if tot > _MAX_ROWS and len(block) > 1:
                h = len(block) // 2
                blocks[0:0] = [block[:h], block[h:]]
                split = True
                break
            if tot > budget[0] or tot > 20 * _MAX_ROWS:
                ok = False             # this block is beyond the work bound: skip it
                split = True
                break
            budget[0] -= tot
            rep = np.repeat(np.arange(len(paths)), deg)
            offs = np.arange(tot) - np.repeat(np.cumsum(deg) - deg, deg)
            nxt = indices[np.repeat(indptr[last], deg) + offs]
            sel = nxt > paths[rep, 0]
            sel &= ~(paths[rep] == nxt[:, None]).any(axis=1)
            paths = np.hstack([paths[rep[sel]], nxt[sel, None]])
            if len(paths) == 0:
                break
        if split or len(paths) == 0 or paths.shape[1] < L:
            continue
        closes = np.isin(paths[:, -1] * n + paths[:, 0], edge_key)
        if closes.any():
            out.append(paths[closes])
            got += int(closes.sum())
    if not out:
        return np.empty((0, L), dtype=np.int64), ok
    return np.vstack(out), ok


def _with_people(out, pc, net, individuals):
    """Unit-level rows plus the units of the person-level cycles no unit cycle covers.

    A person-level cycle whose people's units do not trace a unit-level cycle
    (a bad pair inside an otherwise good unit relation, or inside one unit)
    still makes its units part of a conflict: it is added with ``cycle`` = the
    units of its people in service order (``between = "people"``), one row per
    distinct unit tuple with the figures of its most severe person-level cycle
    and every such cycle in ``person_cycles``."""
    out = out.assign(between=f"{net.level}s")
    covered = {c for cs in out["person_cycles"] for c in cs}
    rest = pc[~pc["cycle"].isin(covered)] if len(pc) else pc
    if not len(rest):
        return out
    group = net.members.set_index("member")["node"]
    rows = {}
    for r in rest.itertuples():               # sorted by severity: the first is the worst
        units = tuple(group.get(x, x) for x in r.cycle)
        i = min(range(len(units)), key=lambda j: (units[j], j))
        key = units[i:] + units[:i]
        if key not in rows:
            steps = tuple(dict.fromkeys((group.get(a, a), group.get(b, b))
                                        for a, b in r.edges))
            rows[key] = dict(cycle=key, length=r.length, severity=r.severity,
                             weakest_shortfall=r.weakest_shortfall, n_events=r.n_events,
                             edges=tuple(x for x in steps if x[0] != x[1]),
                             satisfaction_mean=r.satisfaction_mean if individuals
                             else np.nan, person_edges=(), person_cycles=(),
                             between="people")
        rows[key]["person_edges"] += tuple(r.edges)
        rows[key]["person_cycles"] += (r.cycle,)
    add = pd.DataFrame(list(rows.values()))
    add["person_cycles"] = [tuple(sorted(x)) for x in add["person_cycles"]]
    add["person_edges"] = [tuple(sorted(set(x))) for x in add["person_edges"]]
    both = pd.concat([out, add.astype({"length": "int64", "n_events": "int64"})],
                     ignore_index=True)
    tie = both["cycle"].map(lambda c: "\x00".join(map(str, c)))
    order = np.lexsort((both["between"].to_numpy(dtype=str),
                        tie.to_numpy(dtype=object).astype(str),
                        -both["severity"].to_numpy(float)))
    return both.iloc[order].reset_index(drop=True)


def _composition(base, net, out, person_cycles, min_events, max_breach):
    """Person-level bad relations and cycles behind each aggregated cycle."""
    if not len(out):
        empty = pd.Series([], dtype=object)
        return empty, empty
    pb = _bad_edges(base, min_events, max_breach)
    group = net.members.set_index("member")["node"]
    pb = pb.assign(pu=group.reindex(pb["provider"]).to_numpy(),
                   cu=group.reindex(pb["client"]).to_numpy())
    by_pair = {k: tuple(zip(g["provider"], g["client"]))
               for k, g in pb.groupby(["pu", "cu"], sort=True)}
    edges = [tuple(x for step in e for x in by_pair.get(step, ())) for e in out["edges"]]
    by_cycle: dict = {}
    for cyc in person_cycles["cycle"]:        # at most max_cycles
        units = [group.get(x) for x in cyc]
        trace = [u for i, u in enumerate(units) if u != units[i - 1]]
        if len(trace) >= 2 and len(set(trace)) == len(trace):
            i = trace.index(min(trace))
            by_cycle.setdefault(tuple(trace[i:] + trace[:i]), []).append(cyc)
    cycles = [tuple(sorted(by_cycle.get(c, ()))) for c in out["cycle"]]
    return edges, cycles


# --------------------------------------------------------------------------- dyads

def dyad_census(net, *, min_events: int = 5, max_breach: float = 0.5, n_null: int = 200,
                seed=0, level: str | None = None, relations: str = "bad",
                null: str | None = None) -> pd.DataFrame:
    """Mutual, asymmetric and null dyads of the bad-relation graph against a null model.

    Is mutual dissatisfaction (A serves B badly *and* B serves A badly) more
    common than chance? Bad relations can only sit on existing service
    relations, many of which are reciprocal, and a bad provider serves many
    clients badly, so the default null keeps the service graph and every
    provider's number of bad relations, and puts them on the provider's own
    relations at random, weighted by how detectable a bad relation is (busy
    relations are called bad more often). With
    ``relations="all"`` the census of every relation against degree-preserving
    swaps: is service reciprocated more than chance (the MAN census of
    Holland & Leinhardt, e.g. of an advice network)?

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    min_events, max_breach
        What counts as a bad relation (see :func:`bad_edges`).
    n_null : int, default 200
        Draws of the ``"detectability"`` and ``"providers"`` nulls;
        randomised graphs of the ``"swaps"`` null (each keeps every node's out- and in-degree; about
        10 swap attempts per relation); draws of the ``"relations"`` null
        when its exact distribution is too large to sum (more than 5 million
        terms within 12 SD of its mean).
    seed : int or numpy Generator, default 0
    level : str, optional
        Aggregate first (e.g. ``"unit"``).
    relations : {"bad", "all"}, default "bad"
        ``"bad"``: credibly bad relations (see :func:`bad_edges`); ``"all"``:
        every relation in ``net.edges`` (``min_events`` and ``max_breach``
        are then not used).
    null : {"detectability", "providers", "relations", "swaps"}, optional
        ``"detectability"`` (default with ``relations="bad"``): each provider
        keeps its number of bad relations, drawn on its own relations with
        odds that follow their number of events as fitted on the network (how
        detectable a bad relation is; an exact conditional-Bernoulli draw, the
        slope in ``attrs["detectability_slope"]``, fitted on one-way
        relations): 4.9 % "more mutual than chance" at the 5 % level over 900
        organisations with random badness (docs/methods/conflicts.md);
        ``"providers"``: each provider keeps its number of bad relations, the
        label permuted uniformly over its own relations with at least
        ``min_events`` events (6.4–6.8 % at the 5 % level under random
        badness: busy relations are more often called bad, and busy
        relations are often reciprocal; more power on chronic conflicts);
        ``"relations"``: the
        bad label permuted over all relations with at least ``min_events``
        events (self-relations excluded; exact); ``"swaps"`` (default, and the only choice, with
        ``relations="all"``): directed double-edge swaps of the counted
        relations over all node pairs — it ignores which pairs can have a
        relation at all, and on a reciprocal service graph calls random
        badness "more mutual than chance" far too often.

    Returns
    -------
    DataFrame
        One row per dyad type, ``dyad`` in (``mutual``, ``asymmetric``,
        ``null``) — unordered node pairs with (bad) relations both ways, one
        way, or none; the three add up to :math:`n(n-1)/2`:
        ``observed`` (pairs), ``expected`` (null mean), ``sd`` (null standard
        deviation), ``z`` ((observed − expected)/sd; NaN when sd = 0),
        ``ratio`` (observed/expected; NaN when expected = 0), ``p_greater``
        and ``p_less`` (one-sided p-values). ``"relations"``: exact mid-p
        values :math:`P(X > x) + \\tfrac12 P(X = x)` (Lancaster 1961);
        ``"detectability"``, ``"providers"``: Monte Carlo mid-p values
        :math:`(\\#\\{X > x\\} + \\tfrac12(\\#\\{X = x\\} + 1))/(n_{null} + 1)`;
        ``"swaps"``: :math:`(1 + \\#\\{\\text{null} \\ge \\text{obs}\\})/(1 + n_{null})`
        and likewise with ≤. ``attrs``: ``params``, ``n_bad_edges``,
        ``n_relations`` and ``n_reciprocal_pairs`` of the service graph
        (relations with at least ``min_events`` events; ``"providers"``,
        ``"detectability"`` and ``"relations"``), ``swap_acceptance``
        (``"swaps"``: fraction of attempted swaps accepted; NaN otherwise),
        ``exact``, ``detectability_slope`` (``"detectability"``: the fitted
        :math:`b`, per unit of :math:`-1/\\sqrt{n}`; NaN otherwise).

    Raises
    ------
    ParameterError
        ``n_null`` < 1, a bad ``seed``, ``null="providers"`` or
        ``"relations"`` with ``relations="all"``, or another bad parameter.

    See Also
    --------
    conflict_cycles, bad_edges

    Notes
    -----
    With :math:`M` mutual and :math:`A` asymmetric pairs among :math:`m`
    bad relations, :math:`2M + A = m`, so the three rows carry one degree of
    freedom: more mutual pairs means fewer asymmetric and more null pairs.

    ``"relations"``: the service graph has :math:`E` relations, :math:`R`
    reciprocal pairs and :math:`S = E - 2R` one-way relations. Choosing the
    :math:`m` bad ones uniformly at random,

    .. math:: P(M = k) = \\sum_j \\binom{R}{k}\\binom{R-k}{j} 2^j
              \\binom{S}{m-2k-j} \\Big/ \\binom{E}{m}

    (:math:`j` pairs with one bad direction) — the conditional-uniform
    (QAP-like) null of a label permutation over fixed relations (Krackhardt
    1988). ``"providers"`` permutes the label within each provider's
    relations (a stratified permutation): under random badness that follows
    provider quality, it rejects at the nominal rate where ``"relations"``
    rejects too often (benchmarks/census_null.py; docs/methods/conflicts.md).

    ``"detectability"``: the credible-sign rule calls relations with many
    events bad more often, and the two directions of a pair have correlated
    event counts, so mutual bad pairs also follow from detectability. Within
    each provider :math:`p` the :math:`k_p` bad relations are drawn from the
    conditional-Bernoulli (maximum-entropy) design
    :math:`P(S) \\propto \\prod_{i \\in S} w_i`, :math:`|S| = k_p`
    (Chen, Dempster & Liu 1994), with :math:`w_i = \\exp(-b/\\sqrt{n_i})`,
    :math:`n_i` the relation's events (the credible-sign margin is linear in
    the standard error, so the chance of being called bad rises with
    :math:`n_i` and levels off) and :math:`b` the conditional
    maximum-likelihood slope of a logistic model of "bad" on
    :math:`-1/\\sqrt{n_i}` with one intercept per provider, fitted on the
    one-way relations only (their labels cannot form mutual pairs, so a
    mutual conflict cannot inflate the slope; fitted on all relations the
    null absorbed planted conflicts on busy pairs) (conditional
    logistic regression, whose likelihood is exactly this design; Breslow &
    Day 1980), its normalising constants :math:`e_{k}(w)` by the recursion
    of Gail, Lubin & Rubinstein (1981). Draws are exact: independent
    Bernoulli draws with
    :math:`\\mathrm{logit}\\,\\pi_i = a_p - b/\\sqrt{n_i}`, :math:`a_p` set so
    that :math:`\\sum \\pi_i = k_p`, are kept for a provider when exactly
    :math:`k_p` come out (rejective sampling, Hájek 1964), all providers
    and draws at once.

    ``"swaps"``: targets of two relations :math:`(a \\to b, c \\to d) \\to
    (a \\to d, c \\to b)` swapped when that creates neither a self-relation
    nor a duplicate; swaps are drawn in rounds of disjoint pairs, vectorised
    over all null graphs at once, and a round only applies swaps that are
    valid together. Double-edge swaps keep both degree sequences exactly but
    cannot reverse a directed triangle (Rao, Jana & Bandyopadhyay 1996); for
    reciprocity the effect is small.

    References
    ----------
    Breslow, N. E. & Day, N. E. (1980). *Statistical Methods in Cancer
    Research I: The Analysis of Case-Control Studies*. IARC, ch. 7.
    Chen, X.-H., Dempster, A. P. & Liu, J. S. (1994). Weighted finite
    population sampling to maximize entropy. *Biometrika* 81, 457–469.
    Gail, M. H., Lubin, J. H. & Rubinstein, L. V. (1981). Likelihood
    calculations for matched case-control studies and survival studies
    with tied death times. *Biometrika* 68, 703–707.
    Hájek, J. (1964). Asymptotic theory of rejective sampling with varying
    probabilities from a finite population. *Ann. Math. Statist.* 35,
    1491–1523.
    Holland, P. W. & Leinhardt, S. (1970). A method for detecting structure in
    sociometric data. *Am. J. Sociology* 76, 492–513.
    Krackhardt, D. (1988). Predicting with networks: nonparametric multiple
    regression analysis of dyadic data. *Social Networks* 10, 359–381.
    Lancaster, H. O. (1961). Significance tests in discrete distributions.
    *JASA* 56, 223–234.
    Milo, R. et al. (2002). Network motifs: simple building blocks of complex
    networks. *Science* 298, 824–827.
    Rao, A. R., Jana, R. & Bandyopadhyay, S. (1996). A Markov chain Monte
    Carlo method for generating random (0, 1)-matrices with given marginals.
    *Sankhyā A* 58, 225–242.

    Examples
    --------
    >>> import icnet
    >>> d = dyad_census(icnet.datasets.toy()).set_index("dyad")
    >>> int(d.loc["mutual", "observed"]), int(d.loc["asymmetric", "observed"])
    (2, 2)
    >>> d.attrs["n_relations"], d.attrs["n_reciprocal_pairs"]
    (26, 5)
    >>> a = dyad_census(icnet.datasets.toy(), relations="all", n_null=50).set_index("dyad")
    >>> a["observed"].tolist()
    [5, 16, 45]
    """
    net = _validate.level(_validate.network(net), level)
    _validate.in_range("min_events", min_events, low=1, integer=True)
    _validate.in_range("max_breach", max_breach, low=0, high=1)
    _validate.in_range("n_null", n_null, low=1, integer=True)
    _validate.one_of("relations", relations, ["bad", "all"])
    if null is None:
        null = "detectability" if relations == "bad" else "swaps"
    _validate.one_of("null", null, ["providers", "detectability", "relations", "swaps"])
    if null in ("providers", "detectability", "relations") and relations == "all":
        raise ParameterError(
            f"dyad_census: null={null!r} permutes the bad label over the existing "
            "relations; with relations='all' every relation is counted, so nothing would "
            "move. Use null='swaps' (degree-preserving) for the census of all relations.")
    rng = _validate.rng(seed)
    ids = net.node_ids
    n = len(ids)
    e = net._edges
    e = e[(e["provider"] != e["client"]).to_numpy()]
    bad = _bad_edges(net, min_events, max_breach) if relations == "bad" else e
    bad = bad[(bad["provider"] != bad["client"]).to_numpy()]
    src = ids.get_indexer(bad["provider"].to_numpy(dtype=object)).astype(np.int64)
    dst = ids.get_indexer(bad["client"].to_numpy(dtype=object)).astype(np.int64)
    m = len(src)
    pairs = n * (n - 1) // 2
    M_obs = int(_mutual(src[None], dst[None], n)[0])
    attrs = dict(n_bad_edges=m, swap_acceptance=np.nan, exact=False,
                 detectability_slope=np.nan)

    def census(mutual):
        mutual = np.asarray(mutual, dtype=float)
        return np.stack([mutual, m - 2 * mutual, pairs - m + mutual], axis=-1)

    obs = census(M_obs)
    sign_ = np.array([1.0, -1.0, 1.0])       # each row's direction in M
    if null in ("providers", "detectability", "relations"):
        # the relations that could be called bad: >= min_events events (#21)
        ok = e["n_events"].to_numpy(float) >= min_events
        es = ids.get_indexer(e["provider"].to_numpy(dtype=object)[ok]).astype(np.int64)
        ed = ids.get_indexer(e["client"].to_numpy(dtype=object)[ok]).astype(np.int64)
        E = len(es)
        R = int(_mutual(es[None], ed[None], n)[0])
        attrs.update(n_relations=E, n_reciprocal_pairs=R)
        if null == "relations":
            mean, var, gt, eq, lt, attrs["exact"] = _relabel_test(es, ed, n, m, M_obs,
                                                                  n_null, rng)
        else:
            if null == "providers":
                draws = _provider_null(es, ed, n, np.bincount(src, minlength=n), n_null, rng)
            else:
                y = np.isin(es * n + ed, src * n + dst)
                draws, attrs["detectability_slope"] = _detectability_null(
                    es, ed, e["n_events"].to_numpy(float)[ok], y, n, n_null, rng)
            mean = float(draws.mean())
            var = float(draws.var(ddof=1)) if n_null > 1 else 0.0
            # Monte Carlo mid-p, the observed network counted as one draw
            gt = float((draws > M_obs).sum()) / (n_null + 1)
            eq = float((draws == M_obs).sum() + 1) / (n_null + 1)
            lt = float((draws < M_obs).sum()) / (n_null + 1)
        exp = census(mean)
        sd = np.full(3, np.sqrt(max(var, 0.0)))
        p_up, p_down = gt + 0.5 * eq, lt + 0.5 * eq       # mid-p for M
        p_greater = np.where(sign_ > 0, p_up, p_down)
        p_less = np.where(sign_ > 0, p_down, p_up)
    else:
        mut, acc = _swap_null(src, dst, n, n_null, rng)
        nullc = census(mut)
        exp = nullc.mean(axis=0)
        sd = nullc.std(axis=0, ddof=1) if n_null > 1 else np.zeros(3)
        p_greater = (1 + (nullc >= obs).sum(axis=0)) / (1 + n_null)
        p_less = (1 + (nullc <= obs).sum(axis=0)) / (1 + n_null)
        attrs["swap_acceptance"] = acc
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 0, (obs - exp) / np.where(sd > 0, sd, 1), np.nan)
        ratio = np.where(exp > 0, obs / np.where(exp > 0, exp, 1), np.nan)
    out = pd.DataFrame({
        "dyad": ["mutual", "asymmetric", "null"],
        "observed": obs.astype(np.int64), "expected": exp, "sd": sd, "z": z,
        "ratio": ratio, "p_greater": p_greater, "p_less": p_less})
    out.attrs.update(params=dict(min_events=min_events, max_breach=max_breach,
                                 n_null=n_null, level=net.level, relations=relations,
                                 null=null,
                                 seed=seed if isinstance(seed, (int, type(None))) else "Generator"),
                     **attrs)
    return out


_MAX_PMF_TERMS = 5_000_000


def _mutual_pmf(E, R, m):
    """P(M = k) for k = 0..len-1: mutual pairs when m of E relations (R reciprocal
    pairs, E - 2R one-way) are chosen at random. Terms more than 12 SD (+10) from the
    means of k and j are left out (below 1e-30); returns (pmf, k0) with pmf over
    k0, k0+1, ...; None when the window still has more than _MAX_PMF_TERMS terms."""
    S = E - 2 * R
    kmax = min(R, m // 2)
    jmax = min(R, m)
    p = m / E if E else 0.0
    mk, sk = R * p * p, np.sqrt(R * p * p * (1 - p * p)) + 1.0
    mj, sj = 2 * R * p * (1 - p), np.sqrt(2 * R * p * (1 - p)) + 1.0
    k0, k1 = max(0, int(mk - 12 * sk - 10)), min(kmax, int(mk + 12 * sk + 10))
    j0, j1 = max(0, int(mj - 12 * sj - 10)), min(jmax, int(mj + 12 * sj + 10))
    if (k1 - k0 + 1) * (j1 - j0 + 1) > _MAX_PMF_TERMS:
        return None
    from scipy.special import gammaln

    def lchoose(a, b):
        a, b = np.asarray(a, float), np.asarray(b, float)
        ok = (b >= 0) & (b <= a)
        with np.errstate(invalid="ignore"):
            v = gammaln(a + 1) - gammaln(b + 1) - gammaln(np.maximum(a - b, 0) + 1)
        return np.where(ok, v, -np.inf)

    k = np.arange(k0, k1 + 1)[:, None]
    j = np.arange(j0, j1 + 1)[None, :]
    lt = lchoose(R, k) + lchoose(R - k, j) + j * np.log(2.0) + lchoose(S, m - 2 * k - j) \
        - lchoose(E, m)
    with np.errstate(under="ignore"):
        pmf = np.exp(lt).sum(axis=1)
    return pmf / pmf.sum(), k0


def _relabel_test(es, ed, n, m, M_obs, n_null, rng):
    """Mean, variance and P(>, =, <) of the mutual count when m of the relations
    (es, ed) are chosen at random; exact when the sum is small enough."""
    E = len(es)
    R = int(_mutual(es[None], ed[None], n)[0]) if E else 0
    got = _mutual_pmf(E, R, m)
    if got is not None:
        pmf, k0 = got
        k = np.arange(k0, k0 + len(pmf), dtype=float)
        mean = float((k * pmf).sum())
        var = float(((k - mean) ** 2 * pmf).sum())
        return (mean, var, float(pmf[k > M_obs].sum()), float(pmf[k == M_obs].sum()),
                float(pmf[k < M_obs].sum()), True)
    draws = _relabel_null(es, ed, n, m, n_null, rng)
    var = float(draws.var(ddof=1)) if n_null > 1 else 0.0
    return (float(draws.mean()), var, float((draws > M_obs).mean()),
            float((draws == M_obs).mean()), float((draws < M_obs).mean()), False)


def _reciprocal(es, ed, n):
    """Index pairs (i, j), i < j, of relations es[i] → ed[i] and es[j] → ed[j] that are
    the two directions of one pair."""
    E = len(es)
    if E == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = es * n + ed
    order = np.argsort(key)
    pos = np.minimum(np.searchsorted(key, ed * n + es, sorter=order), E - 1)
    rev = order[pos]
    has = (key[rev] == ed * n + es) & (np.arange(E) < rev)   # each reciprocal pair once
    return np.flatnonzero(has), rev[has]


_MAX_DRAW_CELLS = 4_000_000     # null draws × relations held at once


def _provider_null(es, ed, n, k_p, n_null, rng):
    """Mutual counts of n_null draws in which every provider p keeps k_p[p] bad
    relations, put at random on its own relations (es, ed): the bad label permuted
    within providers. Each block of draws is one vectorised sort."""
    E = len(es)
    pa, pb = _reciprocal(es, ed, n)
    start = np.searchsorted(np.sort(es), es)        # first sorted position of es[i]'s provider
    keep = k_p[es] + start                          # chosen: sorted position < keep
    out = np.zeros(n_null, np.int64)
    if E == 0 or len(pa) == 0:
        return out
    block = max(1, _MAX_DRAW_CELLS // E)
    for b0 in range(0, n_null, block):              # blocks of draws (memory), not events
        r = min(block, n_null - b0)
        order = np.argsort(es[None, :] + rng.random((r, E)), axis=1)  # random within provider
        pos = np.empty((r, E), np.int64)
        np.put_along_axis(pos, order, np.arange(E)[None, :], axis=1)
        chosen = pos < keep[None, :]
        out[b0:b0 + r] = (chosen[:, pa] & chosen[:, pb]).sum(axis=1)
    return out


_DETECTABILITY_COVARIATE = {"log": np.log, "inv_sqrt": lambda v: -1 / np.sqrt(v)}
_BETA_BOUND = 10.0      # |slope| of the detectability fit (odds per e-fold of events)
_MAX_REJECTION_ROUNDS = 100_000


def _strata(es):
    """Relations sorted by provider: order, provider of each stratum, start, size and the
    position of every sorted relation within its stratum."""
    order = np.argsort(es, kind="stable")
    prov, start, size = np.unique(es[order], return_index=True, return_counts=True)
    pos = np.arange(len(es)) - np.repeat(start, size)
    return order, prov, start, size, pos


def _log_esf(lw, strat, pos, n_strata, width, kmax):
    """log e_j(w) for j = 0..kmax of every stratum: the elementary symmetric functions
    of the weights exp(lw) (the normalising constants of the conditional Bernoulli
    design), by the recursion e_j <- e_j + w e_{j-1} over the units (Gail, Lubin &
    Rubinstein 1981) in log space, all strata at once; the loop runs over the position
    within a stratum (at most the largest number of relations a provider has)."""
    LW = np.full((n_strata, width), -np.inf)
    LW[strat, pos] = lw
    E = np.full((n_strata, kmax + 1), -np.inf)
    E[:, 0] = 0.0
    for t in range(width):
        w = LW[:, t, None]
        with np.errstate(invalid="ignore"):
            E[:, 1:] = np.logaddexp(E[:, 1:], w + E[:, :-1])
    return E


def _detectability_slope(x, y, strat, pos, n_strata, width, k):
    """Conditional maximum-likelihood slope of logit P(bad) on x with one intercept per
    provider, conditioned out (conditional logistic regression, Breslow & Day 1980):
    l(b) = sum_p [b sum_{i in S_p} x_i - log e_{k_p}(exp(b x_p))]. Strata with k_p = 0 or
    all relations bad carry no information. Bounded to |b| <= _BETA_BOUND."""
    from scipy.optimize import minimize_scalar
    size = np.bincount(strat, minlength=n_strata)
    use = (k > 0) & (k < size)
    if not use.any():
        return 0.0
    sx = float((x * y)[use[strat]].sum())
    # strata grouped by size (powers of two): each group's recursion runs over its own
    # largest size and number of bad relations, so a hub provider does not pad the rest
    group = np.where(use, np.ceil(np.log2(np.maximum(size, 1))).astype(int), -1)
    parts = []
    for g in np.unique(group[use]):                 # at most log2(largest size) groups
        sel = group == g
        keep = sel[strat]
        idx = np.cumsum(sel) - 1
        parts.append((x[keep], idx[strat[keep]], pos[keep], int(sel.sum()),
                      int(size[sel].max()), k[sel]))

    def nll(b):
        tot = 0.0
        for xg, sg, pg, ng, wg, kg in parts:
            E = _log_esf(b * xg, sg, pg, ng, wg, int(kg.max()))
            tot += E[np.arange(ng), kg].sum()
        return -(b * sx - tot)

    res = minimize_scalar(nll, bounds=(-_BETA_BOUND, _BETA_BOUND), method="bounded",
                          options=dict(xatol=1e-4))
    return float(res.x)


def _conditional_bernoulli(eta, strat, start, size, k, n_draws, rng):
    """n_draws exact conditional-Bernoulli samples in every stratum: k[s] of the stratum's
    units chosen with P(S) proportional to prod_{i in S} exp(eta_i) (Chen, Dempster & Liu
    1994), by rejection (Hajek 1964): independent Bernoulli(pi_i) draws, pi_i =
    logistic(a_s + eta_i), kept when the stratum's size is k[s]. a_s is calibrated so that
    sum pi = k[s]: the design does not depend on a_s, and a Poisson-binomial whose mean
    is an integer has its mode there (Darroch 1964), so a stratum is accepted with
    probability >= 1/(size + 1). Only the rejected (draw, stratum) cells are drawn again.
    Returns an (n_draws, E) boolean array in the strata's order."""
    from scipy.special import expit
    E, S = len(eta), len(size)
    # calibrate a_s by Newton's method on sum_i logistic(a_s + eta_i) = k_s
    mid = (k > 0) & (k < size)
    kk = np.clip(k, 0.5, size - 0.5)
    a = np.log(kk / (size - kk)) - np.bincount(strat, eta, S) / size
    for _ in range(200):        # steps of at most 5 on the logit scale
        pi = expit(a[strat] + eta)
        f = np.bincount(strat, pi, S) - k
        d = np.bincount(strat, pi * (1 - pi), S)
        step = np.clip(f / np.maximum(d, 1e-12), -5, 5)
        a = a - np.where(mid, step, 0.0)
        if np.all(np.abs(np.where(mid, f, 0.0)) < 1e-9):
            break
    pi = expit(a[strat] + eta)
    pi = np.where(k[strat] == 0, 0.0, np.where(k[strat] == size[strat], 1.0, pi))
    chosen = rng.random((n_draws, E)) < pi[None, :]
    got = np.add.reduceat(chosen.astype(np.int32), start, axis=1)
    pending = np.argwhere(got != k[None, :])            # (draw, stratum) cells to redraw
    for _ in range(_MAX_REJECTION_ROUNDS):
        if len(pending) == 0:
            return chosen
        r, s = pending[:, 0], pending[:, 1]
        n_u = size[s]
        cell = np.repeat(np.arange(len(s)), n_u)
        unit = np.repeat(start[s], n_u) + (np.arange(n_u.sum()) - np.repeat(np.cumsum(n_u)
                                                                            - n_u, n_u))
        new = rng.random(len(unit)) < pi[unit]
        chosen[r[cell], unit] = new
        ok = np.bincount(cell, new.astype(float), len(s)) == k[s]
        pending = pending[~ok]
    raise BudgetExceededError(     # pragma: no cover - acceptance is >= 1/(size + 1)
        "dyad_census: the conditional-Bernoulli draw of null='detectability' did not "
        f"finish in {_MAX_REJECTION_ROUNDS} rounds. Use null='providers'.")


def _detectability_null(es, ed, n_events, y, n, n_null, rng, covariate="inv_sqrt",
                        fit_one_way=True):
    """Mutual counts of n_null draws in which every provider keeps its number of bad
    relations (y), drawn from the conditional-Bernoulli design with weights exp(b x),
    x = -n_events^(-1/2) (covariate "inv_sqrt", the standard-error scale) or
    log n_events ("log", benchmark only), b the conditional-logistic slope of "bad" on x
    within providers; and b. Blocks of draws bound the memory; no loop over relations."""
    order, prov, start, size, pos = _strata(es)
    es, ed, y = es[order], ed[order], y[order]
    S = len(prov)
    strat = np.repeat(np.arange(S), size)
    k = np.bincount(strat, y, S).astype(np.int64)
    x = _DETECTABILITY_COVARIATE[covariate](np.asarray(n_events, float)[order])
    x = x - (np.bincount(strat, x, S) / size)[strat]        # centred within provider
    scale = float(x.std()) if len(x) and x.std() > 0 else 1.0
    x = x / scale               # |b| <= _BETA_BOUND per SD of the covariate
    width = int(size.max()) if S else 0
    pa, pb = _reciprocal(es, ed, n)
    if fit_one_way and S:
        # the slope from one-way relations only: their labels cannot form mutual pairs,
        # so a mutual conflict cannot raise the fitted detectability (census7: fitted on
        # all relations, planted chronic conflicts on busy pairs were absorbed)
        one = np.ones(len(es), bool)
        one[pa] = one[pb] = False
        st1 = strat[one]
        n1 = np.bincount(st1, minlength=S)
        pos1 = np.arange(len(st1)) - np.repeat(np.cumsum(n1) - n1, n1)
        b = _detectability_slope(x[one], y[one], st1, pos1, S, width,
                                 np.bincount(st1, y[one], S).astype(np.int64))
    else:
        b = _detectability_slope(x, y, strat, pos, S, width, k) if S else 0.0
    out = np.zeros(n_null, np.int64)
    E = len(es)
    if E == 0 or len(pa) == 0:
        return out, b / scale
    block = max(1, _MAX_DRAW_CELLS // E)
    for b0 in range(0, n_null, block):              # blocks of draws (memory), not events
        r = min(block, n_null - b0)
        chosen = _conditional_bernoulli(b * x, strat, start, size, k, r, rng)
        out[b0:b0 + r] = (chosen[:, pa] & chosen[:, pb]).sum(axis=1)
    return out, b / scale


def _relabel_null(es, ed, n, m, R, rng):
    """Mutual counts of R random choices of m of the relations (es, ed): O(E) a draw."""
    E = len(es)
    pa, pb = _reciprocal(es, ed, n)
    out = np.empty(R, dtype=np.int64)
    chosen = np.zeros(E, dtype=bool)
    for r in range(R):          # a loop over draws (not events): each draw is vectorised
        chosen[:] = False
        chosen[rng.choice(E, m, replace=False)] = True
        out[r] = int((chosen[pa] & chosen[pb]).sum())
    return out


def _mutual(src, dst, n):
    """Mutual pairs per row of (R, m) arrays of relations."""
    R = src.shape[0]
    off = (np.arange(R, dtype=np.int64) * n * n)[:, None]
    key = (off + src * n + dst).ravel()
    rev = (off + dst * n + src).ravel()
    hit = np.isin(rev, key).reshape(src.shape)
    return hit.sum(axis=1) // 2


def _swap_null(src, dst, n, R, rng, attempts_per_edge: int = 10):
    """Mutual counts of R degree-preserving randomisations, and the swap acceptance."""
    m = len(src)
    if m < 2:
        return np.repeat(_mutual(src[None], dst[None], n), R), 0.0
    S, D, acc = _swap(np.tile(src, (R, 1)), np.tile(dst, (R, 1)), n, rng,
                      int(np.ceil(attempts_per_edge * m / (m // 2))))
    return _mutual(S, D, n), acc


def _swap(S, D, n, rng, rounds):
    """Directed double-edge swaps on R graphs at once (rows of S → D); returns S, D, acceptance."""
    R, m = S.shape
    D = D.copy()
    off = (np.arange(R, dtype=np.int64) * n * n)[:, None]
    h = m // 2
    tried = accepted = 0
    for _ in range(rounds):
        perm = np.argsort(rng.random((R, m)), axis=1)
        i, j = perm[:, :h], perm[:, h:2 * h]
        si, di = np.take_along_axis(S, i, 1), np.take_along_axis(D, i, 1)
        sj, dj = np.take_along_axis(S, j, 1), np.take_along_axis(D, j, 1)
        k1 = off + si * n + dj                  # new relations si → dj and sj → di
        k2 = off + sj * n + di
        cur = np.sort((off + S * n + D).ravel())
        ok = (si != dj) & (sj != di)
        ok &= ~_member(k1, cur) & ~_member(k2, cur)
        # two swaps of one round must not create the same relation
        cand = np.r_[k1[ok], k2[ok]]
        uniq, cnt = np.unique(cand, return_counts=True)
        dup = uniq[cnt > 1]
        if len(dup):
            ok &= ~_member(k1, dup) & ~_member(k2, dup)
        tried += ok.size
        accepted += int(ok.sum())
        r, col = np.nonzero(ok)
        a, b = i[r, col], j[r, col]
        D[r, a], D[r, b] = dj[r, col], di[r, col]
    return S, D, accepted / max(tried, 1)


def _member(x, sorted_keys):
    pos = np.searchsorted(sorted_keys, x)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return sorted_keys[pos] == x if len(sorted_keys) else np.zeros(x.shape, bool)


# --------------------------------------------------------------------------- balance

@dataclass(frozen=True, repr=False)
class BalanceResult(Result):
    """Result of :func:`balance`.

    ``.to_frame()`` returns ``camps`` (``.to_frame("name")`` another table,
    ``.tables`` their names); in Jupyter it displays as HTML tables.

    Attributes
    ----------
    camps : DataFrame
        ``node``, ``camp`` (0 or 1; the camp of the smallest id is 1), sorted
        by node; only nodes with a signed relation.
    frustrated : DataFrame
        The signed relations that violate balance — negative inside a camp or
        positive across: ``a``, ``b`` (a < b), ``sign`` (±1).
    frustration : int
        The line index of imbalance: the number of frustrated relations.
    optimal : bool
        Proven minimal (exact solver finished within the time limit).
    method : str
        ``"exact"`` (HiGHS; may be unproven if the time limit hit) or
        ``"heuristic"``.
    lower_bound : float
        A proven lower bound on the index (equals ``frustration`` when
        optimal; from the solver's dual bound, 0 for the heuristic).
    params : dict
        The parameters used, plus ``n_nodes`` and ``n_relations``.
    normalised : float
        :math:`1 - 2L/m` for :math:`m` signed relations (Aref & Wilson 2018):
        1 for a balanced network; NaN when nothing is signed.
    expected : float
        Mean frustration of the ``n_perm`` networks with the same relations
        and signs randomly permuted over them (heuristic on both sides).
    p_value : float
        One-sided mid-p of "more balanced than random signs on the same
        graph": :math:`(\\#\\{L_0 < L\\} + \\tfrac12(\\#\\{L_0 = L\\} + 1))/(n_{perm} + 1)`;
        NaN without permutations or signed relations.
    """

    _main = "camps"

    camps: pd.DataFrame
    frustrated: pd.DataFrame
    frustration: int | float
    optimal: bool
    method: str
    lower_bound: float = 0.0
    params: dict = field(default_factory=dict)
    normalised: float = float("nan")
    expected: float = float("nan")
    p_value: float = float("nan")


def signed_pairs(net, *, level: str | None = None, individuals: bool = False,
                 min_group_size: int = MIN_GROUP_SIZE) -> pd.DataFrame:
    """Undirected signed relations from the credible sign of each direction.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str, optional
        Aggregate first (e.g. ``"unit"``).
    individuals : bool, default False
        Unless True, the sign of a pair with a signed direction rated by
        fewer than ``min_group_size`` people (every pair at person level) is
        NaN: it is what those few people said (privacy, #20).
    min_group_size : int, default 5

    Returns
    -------
    DataFrame
        ``a``, ``b`` (node ids, a < b), ``sign`` (+1.0 or −1.0; NaN when
        hidden), sorted by (a, b).

    Raises
    ------
    ParameterError
        ``net`` is not a network or ``level`` is unknown.

    See Also
    --------
    balance

    Notes
    -----
    A direction's credible sign is ``net.edges["sign"]`` (its 95 % interval
    entirely below or above the neutral point). A pair is negative when
    either direction is credibly bad — one side served badly is a conflict
    whatever the other side gets — positive when at least one direction is
    credibly good and none is bad; pairs with only uncertain directions are
    left out.

    Examples
    --------
    >>> import icnet
    >>> sp = signed_pairs(icnet.datasets.toy(), level="unit", min_group_size=2)
    >>> sp.set_index(["a", "b"]).loc[("Calidad", "Produccion"), "sign"].item()
    -1.0
    """
    net = _validate.level(_validate.network(net), level)
    individuals = check_individuals(individuals)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    g, small = _signed_pairs(net, min_group_size)
    g = g.astype({"sign": float})
    if not individuals:
        g["sign"] = g["sign"].where(~small)
    return g


def _signed_pairs(net, min_group_size=MIN_GROUP_SIZE):
    """Signed pairs (int signs) and, per pair, whether a signed direction is small."""
    e = net._edges
    s = e[e["sign"].isin(["good", "bad"])]
    pv = s["provider"].to_numpy(dtype=object)
    cv = s["client"].to_numpy(dtype=object)
    lo = pv < cv
    d = pd.DataFrame({"a": np.where(lo, pv, cv), "b": np.where(lo, cv, pv),
                      "sign": np.where((s["sign"] == "bad").to_numpy(), -1, 1),
                      "small": _small_relations(s, net.level, min_group_size)})
    g = d.groupby(["a", "b"], sort=True).agg(sign=("sign", "min"), small=("small", "max"))
    g = g.reset_index()
    return g[["a", "b", "sign"]].astype({"sign": "int64"}), g["small"].to_numpy(dtype=bool)


def balance(net, *, level: str | None = None, time_limit: float = 10.0,
            method: str = "auto", max_exact_edges: int = 5000, seed=0,
            edges: pd.DataFrame | None = None, n_perm: int = 200,
            individuals: bool = False, min_group_size: int = MIN_GROUP_SIZE) -> BalanceResult:
    """Frustration index (line index of imbalance) and the two camps of the signed network.

    A signed network is balanced when its nodes split into two camps with
    only positive relations inside and only negative relations across
    (Harary 1953). The frustration index is the fewest relations that
    violate such a split: 0 for a balanced organisation, larger the more
    the conflicts cut across any two-camp reading.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph or None
        Signs come from :func:`signed_pairs`. None when ``edges`` is given.
    level : str, optional
        Aggregate first (e.g. ``"unit"``).
    time_limit : float, default 10
        Seconds for the exact solver (HiGHS via ``scipy.optimize.milp``),
        and for the heuristic's restarts.
    method : {"auto", "exact", "heuristic"}, default "auto"
        ``"auto"`` solves exactly up to ``max_exact_edges`` signed relations
        and uses the heuristic above.
    max_exact_edges : int, default 5000
    seed : int or numpy Generator, default 0
        For the heuristic's random restarts.
    edges : DataFrame, optional
        A signed edge list ``a``, ``b``, ``sign`` (±1) to use instead of the
        network's credible signs (e.g. a published signed network).
        Duplicate pairs are merged (negative wins), as in
        :func:`signed_pairs`.
    n_perm : int, default 200
        Sign permutations for ``expected`` and ``p_value`` (0: none). Each is
        solved by the heuristic from 5 random starts, as is the observed
        network for the comparison. They stop early when they take more
        than ``time_limit`` seconds (``params["n_perm_done"]`` says how many
        ran; only then can the p-value depend on the machine's speed).
        ``params["frustration_compared"]`` is the observed network's value
        from that same heuristic (on large graphs it can exceed
        ``frustration``; compare it, not ``frustration``, with ``expected``).
    individuals, min_group_size
        As in :func:`signed_pairs`: unless ``individuals=True`` the ``sign``
        of a frustrated pair whose sign comes from fewer than
        ``min_group_size`` raters (every pair at person level) is NaN; the
        pair, the camps and the index are still given. Signs of an ``edges``
        table are the caller's own and are shown.

    Returns
    -------
    BalanceResult
        ``camps`` (node, camp), ``frustrated`` (a, b, sign: ±1.0 or NaN), ``frustration``
        (count of relations), ``optimal``, ``method``, ``lower_bound``,
        ``params``, ``normalised`` (1 − 2L/m), ``expected`` (under sign
        permutation), ``p_value``. With no signed relation (e.g. a log
        without ratings) an :class:`~icnet.errors.IcnetWarning` and NaN
        frustration.

    Raises
    ------
    ParameterError
        Unknown ``method``; ``time_limit`` ≤ 0; neither ``net`` nor
        ``edges``; an ``edges`` table without columns a, b, sign, with signs
        other than ±1, or with a self-relation.

    See Also
    --------
    signed_pairs, conflict_cycles

    Notes
    -----
    Exact: binary camp :math:`x_i` per node and :math:`f_{ij}` per relation;

    .. math:: \\min \\sum_{ij} f_{ij} \\quad \\text{s.t.} \\quad
        \\begin{cases} f_{ij} \\ge x_i - x_j,\\; f_{ij} \\ge x_j - x_i & \\sigma_{ij} = +1 \\\\
        f_{ij} \\ge x_i + x_j - 1,\\; f_{ij} \\ge 1 - x_i - x_j & \\sigma_{ij} = -1
        \\end{cases}

    (Aref, Mason & Wilson 2018). Before solving, nodes with one relation are
    peeled off repeatedly (a leaf can always agree with its neighbour, so it
    never adds frustration) and each connected part of what remains (the
    2-core) is solved on its own with one node fixed to break the two-camp
    symmetry; the leaves are then put back. If the time limit stops HiGHS on
    a part, the better of its best solution and the heuristic's is kept,
    ``optimal`` is False and ``lower_bound`` adds up the solver's dual
    bounds. The plain formulation's LP relaxation is weak: expect proofs
    within seconds up to a few hundred relations in the 2-core, unproven
    (but usually heuristic-equal) results above. Camps are labelled so that
    the smallest node of each connected part is in camp 1.

    Heuristic (``optimal=False``, an upper bound): steepest-descent single
    node moves — move the node whose switch removes most frustrated
    relations, until none helps (a local optimum) — from the signs of the
    leading eigenvector of the signed adjacency matrix (exact for a
    balanced graph) and from random camps, keeping the best: 20 starts,
    fewer only if ``time_limit`` runs out first (then, as when the exact
    solver's time limit binds, the result can depend on the machine's
    speed; otherwise the same input and seed give the same camps).

    Reference: a frustration index means little alone — random signs on a
    sparse graph are often close to balanced. The null keeps the signed
    relations and the number of negative ones and permutes the signs over
    them (``n_perm`` times); the observed network and each permuted one are
    solved by the same heuristic (5 random starts), so a heuristic miss biases
    neither side. ``p_value`` is small when the organisation is more
    balanced (fewer frustrated relations) than random signs on its graph.

    References
    ----------
    Harary, F. (1953). On the notion of balance of a signed graph. *Michigan
    Math. J.* 2, 143–146.
    Aref, S. & Wilson, M. C. (2018). Measuring partial balance in signed
    networks. *J. Complex Networks* 6, 566–595.
    Aref, S., Mason, A. J. & Wilson, M. C. (2018). Computing the line index of
    balance using integer programming optimisation. In *Optimization
    Problems in Graph Theory*, Springer, 65–84.
    Hage, P. & Harary, F. (1983). *Structural Models in Anthropology*.
    Cambridge University Press (Read's Highland tribes: index 7).

    Examples
    --------
    >>> import pandas as pd
    >>> tri = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"], "sign": [-1, -1, -1]})
    >>> r = balance(None, edges=tri)
    >>> r.frustration, r.optimal
    (1, True)
    >>> import icnet
    >>> u = balance(icnet.datasets.toy(), level="unit", min_group_size=2)
    >>> u.frustration, u.frustrated.values.tolist()
    (1, [['Calidad', 'Ventas', 1.0]])
    """
    _validate.one_of("method", method, ["auto", "exact", "heuristic"])
    _validate.in_range("time_limit", time_limit, low=0, low_inclusive=False)
    _validate.in_range("max_exact_edges", max_exact_edges, low=0, integer=True)
    _validate.in_range("n_perm", n_perm, low=0, integer=True)
    rng = _validate.rng(seed)
    individuals = check_individuals(individuals)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    if edges is None:
        if net is None:
            raise ParameterError("balance needs a network (net=...) or a signed edge list "
                                 "(edges=DataFrame with columns a, b, sign).")
        net = _validate.level(_validate.network(net), level)
        edges, small = _signed_pairs(net, min_group_size)
        small = small & (not individuals)
        lvl = net.level
    else:
        edges = _check_signed(edges)
        small = np.zeros(len(edges), dtype=bool)
        lvl = None
    params = dict(level=lvl, time_limit=time_limit, method=method,
                  max_exact_edges=max_exact_edges, n_perm=n_perm,
                  seed=seed if isinstance(seed, (int, type(None))) else "Generator")
    nodes = np.unique(np.r_[edges["a"].to_numpy(dtype=object),
                            edges["b"].to_numpy(dtype=object)])
    idx = pd.Index(nodes)
    a = idx.get_indexer(edges["a"].to_numpy(dtype=object))
    b = idx.get_indexer(edges["b"].to_numpy(dtype=object))
    s = edges["sign"].to_numpy(dtype=np.int64)
    params.update(n_nodes=len(nodes), n_relations=len(s))
    if len(nodes) == 0:
        warnings.warn("balance: no signed relation (no relation is credibly good or bad; "
                      "e.g. a log without satisfaction ratings): the frustration index is "
                      "undefined (NaN).", IcnetWarning, stacklevel=2)
        params["missing"] = "no signed relation"
        return BalanceResult(pd.DataFrame({"node": pd.Series([], dtype=object),
                                           "camp": pd.Series([], dtype="int64")}),
                             edges.iloc[:0].reset_index(drop=True).astype({"sign": float}),
                             float("nan"), False,
                             "none", float("nan"), params)
    use_exact = method == "exact" or (method == "auto" and len(s) <= max_exact_edges)
    x, optimal, used, bound = _solve(len(nodes), a, b, s, use_exact, time_limit, rng)
    frus = _frustrated(x, a, b, s)
    camps = pd.DataFrame({"node": nodes, "camp": x.astype(np.int64)})
    camps.attrs["params"] = params
    fr = edges.loc[frus, ["a", "b", "sign"]].astype({"sign": float})
    fr["sign"] = fr["sign"].where(~small[frus])
    fr = fr.reset_index(drop=True)
    L = int(frus.sum())
    expected = p_value = float("nan")
    if n_perm > 0:
        expected, p_value, done, L_h = _sign_permutation(len(nodes), a, b, s, n_perm, rng,
                                                         time_limit)
        params.update(n_perm_done=done, frustration_compared=L_h)
    return BalanceResult(camps, fr, L, bool(optimal),
                         used, float(L) if optimal else float(bound), params,
                         normalised=1.0 - 2.0 * L / len(s), expected=expected,
                         p_value=p_value)


def _heuristic_L(n, a, b, s, rng, starts=5):
    core, _ = _peel(n, a, b)
    ek = core[a] & core[b]
    if not ek.any():
        return 0
    x = _local_search(n, a[ek], b[ek], s[ek], rng, np.inf, max_starts=starts,
                      spectral=False)
    return int(_frustrated(x, a[ek], b[ek], s[ek]).sum())


def _sign_permutation(n, a, b, s, R, rng, time_limit=np.inf):
    """Mean frustration under R sign permutations (fewer if ``time_limit`` seconds run
    out), the mid-p of the observed one, and the number of permutations done."""
    t0 = time.perf_counter()
    L_obs = _heuristic_L(n, a, b, s, rng)
    null = []
    for _ in range(R):          # a loop over permutations, each solved vectorised
        null.append(_heuristic_L(n, a, b, rng.permutation(s), rng))
        if time.perf_counter() - t0 > time_limit:
            break
    null = np.array(null)
    p = ((null < L_obs).sum() + 0.5 * ((null == L_obs).sum() + 1)) / (len(null) + 1)
    return float(null.mean()), float(p), len(null), L_obs


def _check_signed(edges):
    if not isinstance(edges, pd.DataFrame):
        raise ParameterError("balance: 'edges' must be a DataFrame with columns a, b, sign; "
                             f"got {type(edges).__name__}.")
    miss = [c for c in ("a", "b", "sign") if c not in edges]
    if miss:
        raise ParameterError(f"balance: the edges table needs columns a, b, sign; "
                             f"missing {miss}.")
    sign = pd.to_numeric(edges["sign"], errors="coerce").to_numpy(float)
    wrong = ~np.isin(sign, [-1.0, 1.0])
    if wrong.any():
        rows = np.flatnonzero(wrong)[:5].tolist()
        raise ParameterError(
            f"balance: edges column 'sign' must be +1 or -1; {int(wrong.sum())} rows are not "
            f"(rows {rows}: {edges['sign'].iloc[rows].tolist()}). Drop neutral relations.")
    av = edges["a"].to_numpy(dtype=object)
    bv = edges["b"].to_numpy(dtype=object)
    try:
        lo = av < bv
    except TypeError:              # mixed id types: compare as text
        av, bv = av.astype(str), bv.astype(str)
        lo = av < bv
    loop = av == bv
    if loop.any():
        rows = np.flatnonzero(loop)[:5].tolist()
        raise ParameterError(f"balance: the edges table has {int(loop.sum())} self-relations "
                             f"(rows {rows}); a node cannot be in conflict with itself.")
    d = pd.DataFrame({"a": np.where(lo, av, bv), "b": np.where(lo, bv, av),
                      "sign": sign.astype(np.int64)})
    return d.groupby(["a", "b"], sort=True)["sign"].min().reset_index()


def _solve(n, a, b, s, use_exact, time_limit, rng):
    """Prune leaves, solve each component of the 2-core, put the leaves back."""
    t0 = time.perf_counter()
    core, peeled = _peel(n, a, b)
    ek = core[a] & core[b]
    x = np.zeros(n, dtype=np.int64)
    optimal, used, bound = True, "exact" if use_exact else "heuristic", 0.0
    if ek.any():
        ca, cb, cs = a[ek], b[ek], s[ek]
        G = sparse.csr_matrix((np.ones(len(ca)), (ca, cb)), shape=(n, n))
        _, lab = csgraph.connected_components(G, directed=False)
        xh = None
        if use_exact:
            comps = np.unique(lab[ca])
            sizes = np.bincount(lab[ca], minlength=lab.max() + 1)[comps]
            for comp in comps[np.argsort(-sizes, kind="stable")]:
                left = time_limit - (time.perf_counter() - t0)
                m_e = ek.copy()
                m_e[ek] = lab[ca] == comp
                ids = np.unique(np.r_[a[m_e], b[m_e]])
                loc = pd.Index(ids)
                la, lb = loc.get_indexer(a[m_e]), loc.get_indexer(b[m_e])
                xc, opt, bd = _milp(len(ids), la, lb, s[m_e], max(left, 0.01)) \
                    if left > 0 else (None, False, 0.0)
                if not opt:
                    if xh is None:
                        rest = max(time_limit - (time.perf_counter() - t0), 0.05 * time_limit)
                        xh = _local_search(n, ca, cb, cs, rng, rest)
                    if xc is None or _frustrated(xh[ids], la, lb, s[m_e]).sum() < \
                            _frustrated(xc, la, lb, s[m_e]).sum():
                        xc = xh[ids]
                    optimal = False
                x[ids] = xc
                bound += bd
        else:
            x = _local_search(n, ca, cb, cs, rng, time_limit)
            optimal = False
    for v, u, k in reversed(peeled):           # a leaf can always agree with its neighbour
        x[v] = x[u] if s[k] > 0 else 1 - x[u]
    # label camps so that the smallest node of each connected part is in camp 1
    G = sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, part = csgraph.connected_components(G, directed=False)
    first = np.full(part.max() + 1, n)
    np.minimum.at(first, part, np.arange(n))
    flip = x[first[part]] == 0
    x = np.where(flip, 1 - x, x)
    return x, optimal, used, bound


def _peel(n, a, b):
    """Remove degree-1 nodes until none is left: the 2-core mask and [(leaf, neighbour, edge)]."""
    alive = np.ones(len(a), bool)
    core = np.ones(n, bool)
    peeled = []
    while True:
        deg = np.bincount(a[alive], minlength=n) + np.bincount(b[alive], minlength=n)
        leaves = core & (deg == 1)
        if not leaves.any():
            break
        for k in np.flatnonzero(alive & (leaves[a] | leaves[b])):
            if not alive[k]:
                continue
            v, u = (a[k], b[k]) if leaves[a[k]] else (b[k], a[k])
            peeled.append((v, u, k))
            alive[k] = False
            core[v] = False
            if leaves[u]:              # an isolated pair: keep u as the root
                leaves[u] = False
    core &= (np.bincount(a[alive], minlength=n) + np.bincount(b[alive], minlength=n)) > 0
    return core, peeled


def _frustrated(x, a, b, s):
    same = x[a] == x[b]
    return np.where(s > 0, ~same, same)


def _milp(n, a, b, s, time_limit):
    from scipy.optimize import Bounds, LinearConstraint, milp

    m = len(s)
    k = np.arange(m)
    pos = s > 0
    # two rows per relation: columns (f_k, x_a, x_b)
    #   positive: f - x_a + x_b >= 0 ;  f + x_a - x_b >= 0
    #   negative: f - x_a - x_b >= -1;  f + x_a + x_b >= 1
    va1, va2 = -np.ones(m), np.ones(m)
    vb1 = np.where(pos, 1.0, -1.0)
    vb2 = -vb1
    rows = np.r_[np.repeat(2 * k, 3), np.repeat(2 * k + 1, 3)]
    cols = np.r_[np.c_[n + k, a, b].ravel(), np.c_[n + k, a, b].ravel()]
    vals = np.r_[np.c_[np.ones(m), va1, vb1].ravel(), np.c_[np.ones(m), va2, vb2].ravel()]
    lo = np.empty(2 * m)
    lo[0::2] = np.where(pos, 0.0, -1.0)
    lo[1::2] = np.where(pos, 0.0, 1.0)
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(2 * m, n + m))
    lb, ub = np.zeros(n + m), np.ones(n + m)
    lb[0] = 1                      # symmetry: the first node is in camp 1
    res = milp(np.r_[np.zeros(n), np.ones(m)],
               constraints=LinearConstraint(A, lo, np.inf),
               integrality=np.ones(n + m), bounds=Bounds(lb, ub),
               options={"time_limit": float(time_limit)})
    bound = float(getattr(res, "mip_dual_bound", np.nan) or 0.0)
    if res.x is None:
        return None, False, max(bound, 0.0) if np.isfinite(bound) else 0.0
    bound = np.ceil(bound - 1e-6) if np.isfinite(bound) else 0.0
    return np.round(res.x[:n]).astype(np.int64), res.status == 0, max(bound, 0.0)


def _local_search(n, a, b, s, rng, time_limit, max_starts: int = 20, spectral: bool = True):
    """Steepest single-node moves from a spectral start (unless ``spectral=False``)
    and random starts."""
    W = sparse.csr_matrix((np.r_[s, s].astype(float), (np.r_[a, b], np.r_[b, a])),
                          shape=(n, n))
    indptr, indices, w = W.indptr, W.indices, W.data
    starts = [_spectral(W, n)] if spectral else []
    best, best_f = None, np.inf
    t0 = time.perf_counter()
    while True:
        x = starts.pop() if starts else rng.integers(0, 2, n)
        sg = 1.0 - 2.0 * x                     # spins ±1
        h = sg * (W @ sg)                      # satisfied − frustrated incident relations
        while True:
            v = int(np.argmin(h))
            if h[v] >= 0:
                break
            lo, hi = indptr[v], indptr[v + 1]
            nb = indices[lo:hi]
            h[nb] -= 2.0 * w[lo:hi] * sg[nb] * sg[v]
            sg[v] = -sg[v]
            h[v] = -h[v]
        xs = (sg < 0).astype(np.int64)
        f = int(_frustrated(xs, a, b, s).sum())
        if f < best_f:
            best, best_f = xs, f
        max_starts -= 1
        if best_f == 0 or max_starts <= 0 or time.perf_counter() - t0 > time_limit:
            return best


def _spectral(W, n):
    """Camps from the signs of the leading eigenvector of the signed adjacency."""
    if n <= 2:
        return np.zeros(n, dtype=np.int64)
    try:
        if n <= 400:
            vals, vecs = np.linalg.eigh(W.toarray())
            v = vecs[:, -1]
        else:
            from scipy.sparse.linalg import eigsh
            vals, vecs = eigsh(W, k=1, which="LA", v0=np.ones(n), maxiter=20 * n)
            v = vecs[:, 0]
    except Exception:  # noqa: BLE001 - a failed start just means random starts
        return np.zeros(n, dtype=np.int64)
    return (v < 0).astype(np.int64)


# ------------------------------------------------------------- hand-over conflicts (#22)

def pingpong_conflicts(handovers) -> pd.DataFrame:
    """Ping-pong pairs of a process log as conflict relations (2-cycles).

    A flagged ping-pong pair of :func:`icnet.pingpong` (team B sends what A
    hands it straight back, more often than B's routing implies) is a
    conflict relation without any rating: each side hands work to the other
    and neither keeps it. Both directions of a pair (A⇄B and B⇄A) become
    one 2-cycle, so a log without satisfaction still has named conflicts.

    Parameters
    ----------
    handovers : HandoverSummary or DataFrame
        :func:`icnet.handover_summary` (or the output of :func:`icnet.pingpong`).

    Returns
    -------
    DataFrame
        One row per unordered pair with at least one flagged direction, in the
        columns of :func:`conflict_cycles` — ``cycle`` (the two teams, smallest
        first), ``length`` (2), ``severity`` (``log(1 + bounces)`` × the
        larger return rate minus its base rate: how much more often than the
        routing implies, weighted by volume), ``weakest_shortfall`` (NaN: no
        satisfaction), ``n_events`` (bounces, both directions), ``edges``,
        ``satisfaction_mean`` (NaN) — plus ``kind`` (``"pingpong"``),
        ``bounces``, ``cases``, ``hours_lost`` (hours spent in the receiving
        team during the bounces), ``hours_basis``, ``q_value`` (smallest of
        the directions) and ``evidence`` (one sentence with the numbers).
        Sorted by severity (descending), then the pair.

    See Also
    --------
    icnet.pingpong, icnet.handover_summary, conflict_cycles

    Examples
    --------
    >>> from icnet.analysis.handovers import simulate_tickets, handover_summary
    >>> log = simulate_tickets(n_cases=800, n_teams=8, pingpong=[("T0", "T1")], seed=1)
    >>> pingpong_conflicts(handover_summary(log)).loc[0, "cycle"]
    ('T0', 'T1')
    """
    pp = getattr(handovers, "pingpong", handovers)
    if not isinstance(pp, pd.DataFrame) or "flagged" not in pp:
        raise ParameterError("pingpong_conflicts needs icnet.handover_summary(...) or the "
                             "table of icnet.pingpong(...).")
    cols = _COLUMNS + ["kind", "bounces", "cases", "hours_lost", "hours_basis", "q_value",
                       "evidence"]
    f = pp[pp["flagged"].to_numpy(bool)]
    if not len(f):
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("cycle", "edges", "kind",
                                                                 "hours_basis", "evidence")
                                          else float) for c in cols})
    a = f["team_a"].astype(str).to_numpy()
    b = f["team_b"].astype(str).to_numpy()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    t = f.assign(_lo=lo, _hi=hi, _lift=(f["return_rate"] - f["base_rate"].fillna(0)))
    basis = str(f["hours_basis"].iloc[0]) if "hours_basis" in f else "wall-clock"
    g = t.groupby(["_lo", "_hi"], sort=True).agg(
        bounces=("bounces", "sum"), cases=("cases", "sum"), hours_lost=("hours_lost", "sum"),
        q_value=("q_value", "min"), lift=("_lift", "max"),
        dirs=("pair", lambda s: ", ".join(sorted(s)))).reset_index()
    out = pd.DataFrame({
        "cycle": [(x, y) for x, y in zip(g["_lo"], g["_hi"])], "length": 2,
        "severity": np.log1p(g["bounces"].to_numpy(float)) * g["lift"].clip(lower=0),
        "weakest_shortfall": np.nan, "n_events": g["bounces"].astype("int64"),
        "edges": [((x, y), (y, x)) for x, y in zip(g["_lo"], g["_hi"])],
        "satisfaction_mean": np.nan, "kind": "pingpong",
        "bounces": g["bounces"].astype("int64"), "cases": g["cases"].astype("int64"),
        "hours_lost": g["hours_lost"].astype(float), "hours_basis": basis,
        "q_value": g["q_value"].astype(float)})
    out["evidence"] = [f"{d}: {n} bounces in {c} cases, {h:.0f} {basis} hours in the "
                       f"receiving team (q={q:.2g})" for d, n, c, h, q in
                       zip(g["dirs"], out["bounces"], out["cases"], out["hours_lost"],
                           out["q_value"])]
    out = out.sort_values(["severity", "cycle"], ascending=[False, True], kind="mergesort")
    out = out.reset_index(drop=True)[cols]
    out.attrs.update(params={"source": "pingpong (flagged pairs)"},
                     used=dict(getattr(handovers, "used", pp.attrs.get("used", {}))))
    return out
