"""The :class:`ServiceNetwork`: who serves whom, how well and how fast.

Build one with :func:`from_events` (service logs), :meth:`ServiceNetwork.from_edges`
(an aggregated edge list, e.g. a survey matrix),
:meth:`ServiceNetwork.from_networkx` or :func:`from_process_log` (a
process-mining / ticketing log).
"""

from __future__ import annotations

import copy
import warnings
from functools import cached_property
from typing import Mapping

import numpy as np
import pandas as pd

from . import _validate, io
from ._engine import (EDGE_COLUMNS, RATER_COLUMNS, UNKNOWN_UNIT, canonical_events,  # noqa: F401
                      complete_edges, edge_stats, empty_dropped, engine_builder,
                      expected_from_agreements, group_tables, id_strings, parse_numbers,
                      parse_timestamps, rating_times, require_columns, time_parameter,
                      warn_unknown)
from .errors import (BudgetExceededError, EmptyNetworkError, IcnetWarning, ParameterError,
                     SchemaError)
from .privacy import MIN_GROUP_SIZE

__all__ = ["ServiceNetwork", "from_events", "from_process_log", "EDGE_COLUMNS",
           "NODE_COLUMNS"]

# EDGE_COLUMNS, RATER_COLUMNS and UNKNOWN_UNIT live in icnet._engine (shared with the Dask
# engine) and are re-exported here.

#: Columns of :attr:`ServiceNetwork.nodes`, in order.
NODE_COLUMNS = ["node", "unit", "external_facing", "in_people", "n_out", "n_in",
                "n_clients", "n_providers"]


_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


class _table_property:
    """Like ``functools.cached_property``, but every read returns a new DataFrame.

    The table is computed once and cached in the instance's ``__dict__`` under
    the same name (so code that fills the cache directly keeps working); a
    reader gets a copy — a cheap lazy copy with pandas' copy-on-write (pandas
    ≥ 3), a deep copy before — so adding or changing a column in a notebook
    never changes the network or later results.
    """

    def __init__(self, func):
        self.func = func
        self.__doc__ = func.__doc__
        self.__name__ = self.name = func.__name__
        self.__module__ = func.__module__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        cache = obj.__dict__
        if self.name not in cache:
            cache[self.name] = self.func(obj)
        return cache[self.name].copy(deep=not _COPY_ON_WRITE)

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value


class ServiceNetwork:
    """A directed network of ``provider → client`` service relations.

    Do not call the constructor directly: use :func:`icnet.from_events`,
    :meth:`from_edges`, :meth:`from_networkx` or :func:`icnet.from_process_log`.

    Attributes
    ----------
    events : pandas.DataFrame or None
        Canonical events (see :func:`icnet.io.read_events`), sorted by
        provider, client and time; ``provider``/``client`` are categoricals
        whose categories are :attr:`node_ids` (use ``.cat.codes`` for integer
        codes). At an aggregated level, ``provider_person``/``client_person``
        keep the original ids. ``None`` for networks built from edges.
    people, ratings, agreements : pandas.DataFrame or None
        The validated tables (see :mod:`icnet.io`).
    dropped : pandas.DataFrame
        Every input row rejected on read, with ``table``, ``row``, ``reason``,
        ``detail`` and its values.
    internal : pandas.DataFrame or None
        After :meth:`by`, the events served within one group (e.g. within a
        unit), which are not edges of the aggregated network.
    process_log : pandas.DataFrame or None
        For a network built by :func:`icnet.from_process_log`: the log's
        valid rows (``case``, ``activity``, ``resource``, ``timestamp`` in
        UTC) and, in ``work_calendar``, the calendar it was given. The
        hand-over analyses read it (:func:`icnet.handover_summary`); it is
        kept by :meth:`by`, not by :meth:`window`. ``None`` otherwise.
    level : str
        ``"person"`` or the people column the network was aggregated by.
    scale : (float, float)
        The satisfaction scale.
    members : pandas.DataFrame
        ``node`` → ``member`` (person) for aggregated networks; at person
        level each person is its own member.

    Examples
    --------
    >>> import icnet
    >>> net = icnet.datasets.toy()
    >>> net
    <ServiceNetwork level='person': 12 nodes, 26 edges, 864 events>
    >>> units = net.by("unit")
    >>> int(units.edges["n_events"].sum() + len(units.internal)) == len(net.events)
    True
    """

    process_log = None       # set by from_process_log (hand-over analyses, issue #22)
    work_calendar = None

    def __init__(self, *, events, people=None, ratings=None, agreements=None,
                 scale=(1, 5), level="person", dropped=None, internal=None,
                 edges=None, node_ids=None, members=None, threshold=None):
        self.scale = tuple(float(x) for x in scale)
        self.level = level
        self.people = people
        self.ratings = ratings
        self.agreements = agreements
        self.dropped = empty_dropped() if dropped is None else dropped
        self.internal = internal
        self.threshold = float(np.mean(self.scale)) if threshold is None else float(threshold)
        self._given_edges = edges
        self.node_ids = pd.Index(node_ids, dtype=object, name="node")
        self.events = events
        self._members = members

    # ------------------------------------------------------------------ basics
    def __repr__(self) -> str:
        ev = "edge list" if self.events is None else f"{len(self.events)} events"
        return (f"<ServiceNetwork level={self.level!r}: {len(self.node_ids)} nodes, "
                f"{len(self._edges)} edges, {ev}>")

    @property
    def has_events(self) -> bool:
        """Whether individual events (and so time) are available."""
        return self.events is not None

    @property
    def has_time(self) -> bool:
        """Whether events carry request timestamps."""
        return self.has_events and "requested_at" in self.events

    @cached_property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``(first, last)`` timestamp seen in the events (request or delivery)."""
        self._need_time("span")
        req = self.events["requested_at"]
        last = req.max()
        if "delivered_at" in self.events:
            d = self.events["delivered_at"].max()
            if pd.notna(d) and d > last:
                last = d
        return req.min(), last

    @property
    def n_events(self) -> int:
        """Number of events (of an edge list: the sum of its ``n_events``).

        Known without computing the events of a network built on a Dask cluster.

        Examples
        --------
        >>> import icnet
        >>> net = icnet.datasets.toy()
        >>> net.n_events == len(net.events), "satisfaction" in net.event_columns
        (True, True)
        """
        return len(self.events) if self.has_events else int(self._edges["n_events"].sum())

    @property
    def event_columns(self) -> tuple:
        """The columns of ``events`` (empty for a network built from an edge list),
        known without computing events that live on a Dask cluster (see
        :attr:`n_events` for an example)."""
        return tuple(self.events.columns) if self.has_events else ()

    def _request_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last request time (``span`` also counts deliveries)."""
        req = self.events["requested_at"]
        return req.min(), req.max()

    def _per_provider(self, fn, columns, **kw):
        """``fn(events, **kw)`` where ``events`` hold every event of the providers they
        contain, in canonical order.

        Here one call on all the events; a network built on a Dask cluster calls ``fn``
        once per partition of providers (events shuffled by provider, see
        :func:`icnet._dask.per_provider`) and concatenates what it returns (a
        DataFrame or Series, or a tuple of them). So ``fn`` must compute figures
        *per provider* (or per finer key that includes the provider); anything that
        spans providers is combined from its output by the caller. ``columns`` names
        the event columns ``fn`` reads (missing ones are skipped). Results are kept
        (keyed by ``fn``, ``columns`` and ``kw``): analyses asking for the same
        summary share one pass over the events.
        """
        simple = (str, int, float, bool, type(None), pd.Timestamp)
        if not all(isinstance(v, simple) for v in kw.values()):
            return self._run_per_provider(fn, columns, kw)      # tables: not kept
        memo = self.__dict__.setdefault("_memo", {})
        key = (fn.__module__, fn.__qualname__, tuple(columns), tuple(sorted(kw.items())))
        if key not in memo:
            memo[key] = self._run_per_provider(fn, columns, kw)
        return memo[key]

    def _run_per_provider(self, fn, columns, kw):
        return fn(self.events, **kw)

    def _need_time(self, what):
        if not self.has_time:
            raise ParameterError(
                f"{what} needs event timestamps; this network has none. Give events a "
                "'requested_at' column (map yours with columns={'your_col': "
                "'requested_at'}).")

    @cached_property
    def members(self) -> pd.DataFrame:
        """``node`` → ``member``: the people that make up each node."""
        if self._members is not None:
            return self._members
        return pd.DataFrame({"node": self.node_ids.to_numpy(),
                             "member": self.node_ids.to_numpy()})

    @property
    def unknown(self) -> list[str]:
        """Node ids seen in events but absent from the people table."""
        if self.people is None or self.level != "person":
            return []
        return sorted(set(self.node_ids) - set(self.people["person"]))

    # ------------------------------------------------------------------ edges
    _individuals = False     # by(column, individuals=True): unit-level edges not gated

    @property
    def edges(self) -> pd.DataFrame:
        """One row per ``provider → client`` relation (a copy: changing it changes nothing).

        At an aggregated level (after :meth:`by`) the survey figures of a
        relation rated by fewer than ``MIN_GROUP_SIZE`` (5) distinct people —
        the columns :data:`icnet.privacy.SURVEY_EDGE_COLUMNS` — are NaN and its
        ``sign`` is ``"suppressed"`` (``suppressed`` is True), unless the
        network was asked for with ``by(column, individuals=True)``: a 1-rater
        unit relation's mean is one person's answers. Analyses read the full
        table. At person level every relation is its client's own answers (as
        ``events`` are): the table is the analyst's working data, not gated;
        share :func:`icnet.privacy.suppress_edges` instead.

        Columns: ``provider``, ``client``; ``n_events``; ``satisfaction_n``
        (rated events), ``satisfaction_mean``, ``satisfaction_sd``;
        ``satisfaction_shrunk`` with ``satisfaction_low``/``_high`` (95 %
        interval of the relation's mean over its client's raters, at least 90 %
        for each relation within a bound of its provider, see
        docs/methods/quality.md; NaN without ratings) and
        ``sign`` (``"bad"`` when the local false sign rate ``lfsr`` <= 0.025 and
        the interval lies below :attr:`threshold`, ``"good"`` above,
        ``"unrated"`` without ratings, else ``"uncertain"``); ``delay_n`` (delivered
        events), ``delay_mean``, ``delay_median``, ``delay_p90`` (hours);
        ``n_open`` (not delivered); ``sla_n`` (events with an expected delay
        and a known outcome), ``sla_breach_rate`` (share delivered later than
        ``expected_hours``: the Kaplan–Meier estimate of S(1) on delay /
        expected delay, open requests censored at their age; NaN when no
        request was followed up to its expected delay), ``sla_breach_low``,
        ``sla_breach_high`` (its 95 % log(−log) interval, Greenwood variance;
        NaN on networks built from edges);
        ``rework_rate`` (share ``reopened``); ``first_at``, ``last_at``
        (first and last request). Undefined numbers are NaN. Then the rater
        columns :data:`RATER_COLUMNS`: ``satisfaction_raters`` (distinct
        raters: the client's people, or the client itself at person level;
        NaN when unknown, e.g. an edge list), ``rater_n2`` (sum over raters of
        their rating count squared), ``within_sd`` (pooled SD of a rater's
        own ratings), ``n_eff`` (effective number of independent ratings)
        and ``lfsr``. Without any rating, ``attrs["missing"]`` says so.

        Examples
        --------
        >>> import icnet
        >>> units = icnet.datasets.toy().by("unit")
        >>> units.edges["sign"].unique().tolist()       # 1-rater unit relations: hidden
        ['suppressed']
        >>> bool(icnet.datasets.toy().by("unit", individuals=True).edges["sign"]
        ...      .isin(["good", "bad", "uncertain"]).any())
        True
        """
        e = self._edges
        if self.level == "person" or self._individuals:
            return e
        from .privacy import MIN_GROUP_SIZE as _min, _gate_edges
        return _gate_edges(e, self.level, _min, flag=True)

    @_table_property
    def _edges(self) -> pd.DataFrame:
        """The full relations table every analysis reads (private: at an aggregated level
        it holds the survey figures of small relations that :attr:`edges` hides)."""
        if self._given_edges is not None:
            return self._given_edges
        return _aggregate(self)

    @_table_property
    def nodes(self) -> pd.DataFrame:
        """One row per node (a copy: changing it changes nothing).

        Columns: ``node``; ``unit`` (NaN when unknown); ``external_facing``
        (serves the external customer); ``in_people`` (listed in the people
        table); ``n_out`` (events provided), ``n_in`` (events received),
        ``n_clients``, ``n_providers`` (distinct partners).
        """
        e = self._edges
        idx = self.node_ids
        out = pd.DataFrame({"node": idx.to_numpy()})
        unit, ext, known = _node_attributes(self)
        out["unit"] = unit
        out["external_facing"] = ext
        out["in_people"] = known
        pc = pd.Categorical(e["provider"], categories=idx)
        cc = pd.Categorical(e["client"], categories=idx)
        n = len(idx)
        w = e["n_events"].to_numpy(float)
        out["n_out"] = np.bincount(pc.codes, weights=w, minlength=n).astype("int64")
        out["n_in"] = np.bincount(cc.codes, weights=w, minlength=n).astype("int64")
        out["n_clients"] = np.bincount(pc.codes, minlength=n).astype("int64")
        out["n_providers"] = np.bincount(cc.codes, minlength=n).astype("int64")
        return out

    # ------------------------------------------------------------------ exports
    def to_networkx(self, *, individuals: bool = False, min_group_size: int = MIN_GROUP_SIZE):
        """The network as an ``nx.DiGraph`` with node and edge attributes.

        A graph is made to be exported and shared, so the survey figures of a
        relation rated by fewer than ``min_group_size`` people (every relation
        at person level: its one rater's answers) are NaN and its ``sign`` is
        ``"suppressed"`` (see :func:`icnet.privacy.suppress_edges`), unless
        ``individuals=True`` (validated: only ``True``/``False``).

        Every column of :attr:`nodes` and :attr:`edges` becomes an attribute,
        in types GraphML and GEXF accept (``nx.write_graphml``,
        ``nx.write_gexf``): timestamps (``first_at``, ``last_at``) as ISO 8601
        strings, tuples as ``"; "``-joined strings, numbers as Python
        ``int``/``float`` (an undefined number stays ``nan``), and a missing
        text value (e.g. an unknown ``unit``) is left out rather than stored as
        ``None``. Two attributes follow networkx's conventions:

        - ``weight`` = ``n_events``: the strength of the relation (the volume of
          service), what ``nx.pagerank``, ``G.degree(weight="weight")`` and
          community algorithms read by default;
        - ``distance`` = ``delay_median`` (hours): a cost, for shortest paths
          and betweenness (``nx.shortest_path(g, a, b, weight="distance")``,
          ``nx.betweenness_centrality(g, weight="distance")``). Relations
          without a delivered request have no ``distance`` attribute (networkx
          then counts 1 hour; pass ``weight=lambda u, v, d: d.get("distance")``
          to skip them instead).

        Graph attributes: ``level``, ``scale_low``, ``scale_high`` (read back by
        :meth:`from_networkx`).

        Examples
        --------
        >>> import io, networkx as nx, icnet
        >>> g = icnet.datasets.toy().to_networkx()
        >>> g.number_of_edges(), "satisfaction_shrunk" in next(iter(g.edges(data=True)))[2]
        (26, True)
        >>> d = g.edges["hugo", "ana"]
        >>> d["weight"] == d["n_events"], d["distance"] == d["delay_median"]
        (True, True)
        >>> nx.write_graphml(g, io.BytesIO()); nx.write_gexf(g, io.BytesIO())
        >>> import math
        >>> math.isnan(d["satisfaction_mean"]), d["sign"]      # one rater: hidden
        (True, 'suppressed')
        """
        import networkx as nx

        from .privacy import _gate_edges, check_individuals

        individuals = check_individuals(individuals)
        _validate.in_range("min_group_size", min_group_size, low=1, integer=True)

        g = nx.DiGraph(level=str(self.level), scale_low=self.scale[0],
                       scale_high=self.scale[1])
        nodes = self.nodes
        ids = nodes.pop("node").tolist()
        g.add_nodes_from(zip(ids, _export_records(nodes)))
        e = self._edges
        if not individuals:
            e = _gate_edges(e, self.level, min_group_size)
        e["weight"] = e["n_events"]
        if "delay_median" in e:
            d = e["delay_median"].astype(object)
            e["distance"] = d.where(e["delay_median"].notna(), None)   # None: left out
        attrs = _export_records(e.drop(columns=["provider", "client"]))
        g.add_edges_from(zip(e["provider"].tolist(), e["client"].tolist(), attrs))
        return g

    # ------------------------------------------------------------------ levels
    def by(self, column: str = "unit", *, individuals: bool = False) -> "ServiceNetwork":
        """The same network aggregated to the groups of a people column.

        Events between people of one group (e.g. within a unit) are not
        edges of the aggregated network; they are kept in ``.internal``.
        Event counts are preserved: ``edges.n_events.sum() + len(internal)``
        equals the person-level event count. Means are recomputed from the
        events, never averaged from averages. People missing from the people
        table go to the group ``"(no unit)"`` with an :class:`IcnetWarning`.
        A network built from an edge list (no events) is aggregated from its
        edges: counts add up, means are weighted by their counts, SDs pooled,
        medians and quantiles are NaN, and ``internal`` holds the relations
        inside a group (with their ``n_events``).

        Parameters
        ----------
        column : str, default "unit"
            A column of the people table.
        individuals : bool, default False
            Whether the aggregated network's :attr:`edges` show the survey
            figures of relations rated by fewer than ``MIN_GROUP_SIZE`` (5)
            distinct people (one person's answers, for a 1-rater relation).
            Off: they are NaN with ``sign = "suppressed"``. Analyses read the
            full table either way. Only ``True``/``False`` are accepted.

        Returns
        -------
        ServiceNetwork
            ``level == column``; events keep ``provider_person`` and
            ``client_person``; ratings keep ``rater_person`` and
            ``provider_person``.

        Raises
        ------
        ParameterError
            The network is not at person level, has no people table, or the
            column does not exist.

        Examples
        --------
        >>> import icnet
        >>> icnet.datasets.toy().by("unit").node_ids.tolist()
        ['Calidad', 'Informatica', 'Mantenimiento', 'Produccion', 'Ventas']
        """
        from .privacy import check_individuals
        individuals = check_individuals(individuals)
        if self.level == column:
            return self._with_individuals(individuals)
        if self.level != "person":
            raise ParameterError(
                f"by() aggregates person-level networks; this one is already at level "
                f"{self.level!r}. Aggregate the person-level network instead.")
        if self.people is None:
            raise ParameterError(
                f"by({column!r}) needs a people table mapping persons to groups. Pass "
                "people=... to icnet.from_events.")
        if column == "person" or column not in self.people:
            opts = [c for c in self.people.columns if c != "person"]
            raise ParameterError(
                f"by() needs a people column; {column!r} is not one. Use one of {opts}.")
        cache = self.__dict__.setdefault("_by_cache", {})
        if column not in cache:   # networks are immutable: aggregate once per column
            cache[column] = self._aggregated(column)
            if self.process_log is not None:   # the log's teams are then people[column]
                pl = self.process_log
                grp = pl["resource"].map(self.people.drop_duplicates("person")
                                         .set_index("person")[column])
                cache[column].process_log = pl.assign(**{column: grp.to_numpy()})
                cache[column].process_log.attrs = dict(pl.attrs)
                cache[column].work_calendar = self.work_calendar
        return cache[column]._with_individuals(individuals)

    def _with_individuals(self, individuals: bool) -> "ServiceNetwork":
        """This network, or a shallow copy sharing its data and caches whose public
        :attr:`edges` are (not) gated."""
        if bool(self._individuals) == individuals:
            return self
        out = copy.copy(self)
        out._individuals = individuals
        return out

    def _aggregated(self, column: str) -> "ServiceNetwork":
        """``by(column)`` after its checks (the Dask network aggregates on its cluster)."""
        return _aggregate_to(self, column) if self.has_events else \
            _aggregate_edges_to(self, column)

    def window(self, start=None, end=None) -> "ServiceNetwork":
        """The network of the events requested in ``[start, end)``.

        Ratings are kept when ``answered_at`` (or the start of ``period``)
        falls in the window. Nodes are kept even when they have no event in
        the window, so windows are comparable.

        Examples
        --------
        >>> import icnet
        >>> net = icnet.datasets.toy()
        >>> len(net.window("2025-01-01", "2025-02-01").events)
        152
        """
        self._need_time("window()")
        start = None if start is None else time_parameter(start, "start")
        end = None if end is None else time_parameter(end, "end")
        t = self.events["requested_at"]
        keep = np.ones(len(t), dtype=bool)
        if start is not None:
            keep &= (t >= start).to_numpy()
        if end is not None:
            keep &= (t < end).to_numpy()
        ev = self.events.loc[keep].reset_index(drop=True)
        internal = self.internal
        if internal is not None and "requested_at" in internal:
            ti = internal["requested_at"]
            k2 = np.ones(len(ti), dtype=bool)
            if start is not None:
                k2 &= (ti >= start).to_numpy()
            if end is not None:
                k2 &= (ti < end).to_numpy()
            internal = internal.loc[k2].reset_index(drop=True)
        ratings = self.ratings
        if ratings is not None:
            rt = rating_times(ratings)
            if rt is not None:
                k3 = np.ones(len(ratings), dtype=bool)
                if start is not None:
                    k3 &= (rt >= start).to_numpy()
                if end is not None:
                    k3 &= (rt < end).to_numpy()
                ratings = ratings.loc[k3].reset_index(drop=True)
        return self._replace(events=ev, internal=internal, ratings=ratings)

    def periods(self, freq: str = "QS", *, max_periods: int = 1000) -> dict:
        """Split the network into consecutive time windows.

        Parameters
        ----------
        freq : str, default "QS"
            A pandas offset alias: ``"MS"`` months, ``"QS"`` quarters, ``"YS"``
            years, ``"W"`` weeks …
        max_periods : int, default 1000
            Budget: refuse (:class:`~icnet.errors.BudgetExceededError`) a
            split into more windows (``periods("1min")`` over a year would
            build half a million networks).

        Returns
        -------
        dict
            ``{period_start: ServiceNetwork}`` in time order, covering the
            whole span (empty periods included, so trends have no gaps).
            Empty (``{}``) when the network has no timed event (e.g. an
            empty window).

        Examples
        --------
        >>> import icnet
        >>> [str(k.date()) for k in icnet.datasets.toy().periods("QS")]
        ['2025-01-01', '2025-04-01']
        """
        self._need_time("periods()")
        off = _validate.offset(freq)
        if off is None or off.n <= 0:
            raise ParameterError(
                f"The 'freq' parameter must be a positive pandas offset alias such as 'MS' "
                f"or 'QS'; got {freq!r}.")
        _validate.in_range("max_periods", max_periods, low=1, integer=True)
        req = self.events["requested_at"]
        first, last = req.min(), req.max()
        if pd.isna(first):
            return {}
        try:
            try:                       # fixed steps ("1min", "h"): counted, not listed
                n = int((last - first.normalize()) / pd.Timedelta(off)) + 1
            except (ValueError, TypeError):
                n = len(pd.date_range(first.normalize(), last, freq=off))
        except (ValueError, OverflowError, MemoryError):
            n = max_periods + 1
        if n > max_periods:
            raise BudgetExceededError(
                f"periods({freq!r}) would split {first.date()}..{last.date()} into about "
                f"{n} windows, more than max_periods={max_periods}. Use a coarser freq "
                "(e.g. 'MS', 'QS') or raise max_periods.")
        start = off.rollback(first.normalize()) if not off.is_on_offset(first.normalize()) \
            else first.normalize()
        edges = pd.date_range(start, last + off, freq=off)
        if len(edges) < 2 or edges[-1] <= last:
            edges = edges.append(pd.DatetimeIndex([edges[-1] + off]))
        return {edges[i]: self.window(edges[i], edges[i + 1]) for i in range(len(edges) - 1)
                if edges[i] <= last}

    def _replace(self, **kw) -> "ServiceNetwork":
        args = dict(events=self.events, people=self.people, ratings=self.ratings,
                    agreements=self.agreements, scale=self.scale, level=self.level,
                    dropped=self.dropped, internal=self.internal,
                    edges=self._given_edges, node_ids=self.node_ids,
                    members=self._members, threshold=self.threshold)
        args.update(kw)
        out = ServiceNetwork(**args)
        out._individuals = self._individuals
        return out

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_edges(cls, edges, *, people=None, columns=None, scale=(1, 5),
                   level="person", threshold=None) -> "ServiceNetwork":
        """Build a network from an aggregated edge list (no individual events).

        Parameters
        ----------
        edges : DataFrame, dict of columns or path
            ``provider``, ``client`` and any of ``n_events``,
            ``satisfaction_mean``, ``satisfaction_n``, ``satisfaction_sd``,
            ``delay_mean``, ``delay_median``, ``delay_p90``, ``sla_n``,
            ``sla_breach_rate``, ``rework_rate``. Missing counts default to
            ``n_events = 1`` and ``satisfaction_n = n_events`` when a mean is
            given.
        people : table-like, optional
        columns : dict, optional
            ``{"their_name": "icnet_name"}``.
        scale : (low, high), default (1, 5)
        level : str, default "person"
        threshold : float, optional
            Neutral point for the credible sign (default: middle of scale).

        Returns
        -------
        ServiceNetwork
            Without events: analyses that need time raise a clear error.

        Examples
        --------
        >>> import icnet
        >>> net = icnet.ServiceNetwork.from_edges(
        ...     {"provider": ["IT", "Ventas"], "client": ["Ventas", "IT"],
        ...      "satisfaction_mean": [2.1, 4.0], "satisfaction_n": [30, 12]},
        ...     level="unit")
        >>> net.edges[["provider", "client", "n_events"]].values.tolist()
        [['IT', 'Ventas', 30], ['Ventas', 'IT', 12]]
        """
        scale = _validate.scale(scale)
        numeric = ["n_events", "satisfaction_n", "satisfaction_mean", "satisfaction_sd",
                   "delay_mean", "delay_median", "delay_p90", "sla_n", "sla_breach_rate",
                   "rework_rate"]
        cols = dict(columns or {})
        canonical = {c for s in io.SCHEMAS.values() for c in s["required"] + s["optional"]}
        raw = io.read_table(edges, "events", columns={k: v for k, v in cols.items()
                                                      if v in canonical})
        raw = raw.rename(columns={k: v for k, v in cols.items() if v not in canonical})
        require_columns(raw, "events", io.SCHEMAS["events"]["required"])
        prov, cli = id_strings(raw["provider"]), id_strings(raw["client"])
        bad = prov.isna() | cli.isna() | (prov == cli)
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())[:5].tolist()
            raise SchemaError(
                f"edges has {int(bad.sum())} rows with an empty id or provider == client "
                f"(rows {rows}). Remove them.")
        e = pd.DataFrame({"provider": prov, "client": cli})
        for c in numeric:
            if c in raw:
                num, _, badn = parse_numbers(raw[c])
                if badn.any():
                    rows = np.flatnonzero(badn)[:5].tolist()
                    raise SchemaError(
                        f"edges column {c!r} has {int(badn.sum())} values that are not "
                        f"numbers (rows {rows}). Use plain numbers.")
                e[c] = num
        _check_edge_numbers(e)
        if e.duplicated(["provider", "client"]).any():
            rows = np.flatnonzero(e.duplicated(["provider", "client"]).to_numpy())[:5]
            raise SchemaError(
                f"edges has repeated provider→client pairs (rows {rows.tolist()}). "
                "Aggregate them first: one row per pair.")
        if "n_events" not in e:
            e["n_events"] = e["satisfaction_n"] if "satisfaction_n" in e else 1.0
        if "satisfaction_mean" in e:
            lo, hi = scale
            m = e["satisfaction_mean"].to_numpy()
            out = (m < lo) | (m > hi)
            if out.any():
                rows = np.flatnonzero(out)[:5].tolist()
                raise SchemaError(
                    f"edges column 'satisfaction_mean' has {int(out.sum())} values outside "
                    f"the scale {lo:g}..{hi:g} (rows {rows}). Pass scale=(low, high).")
            if "satisfaction_n" not in e:
                e["satisfaction_n"] = np.where(np.isnan(m), 0, e["n_events"])
        e["n_events"] = e["n_events"].fillna(0).round().astype("int64")
        if "sla_n" in e:
            e["sla_n"] = e["sla_n"].fillna(0).round().astype("int64")
        ppl = None if people is None else io.read_people(people, columns=columns).data
        ids = sorted(set(e["provider"]) | set(e["client"]) |
                     (set(ppl["person"]) if ppl is not None and level == "person" else set()))
        e = e.sort_values(["provider", "client"], kind="mergesort").reset_index(drop=True)
        net = cls(events=None, people=ppl, scale=scale, level=level, node_ids=ids,
                  threshold=threshold)
        net._given_edges = complete_edges(e, net)
        return net

    @classmethod
    def from_networkx(cls, graph, *, satisfaction: str = "satisfaction",
                      scale=(1, 5), threshold=None) -> "ServiceNetwork":
        """Build a network from an ``nx.DiGraph`` (edges point provider → client).

        Edge attributes named like :attr:`edges` columns are used;
        ``satisfaction`` names the attribute holding mean satisfaction
        (``satisfaction_mean`` also works). Node attribute ``unit`` and
        ``external_facing`` are read when present.

        Examples
        --------
        >>> import networkx as nx, icnet
        >>> g = nx.DiGraph([("IT", "Ventas", {"satisfaction": 2.0, "n_events": 40})])
        >>> icnet.ServiceNetwork.from_networkx(g).edges.loc[0, "satisfaction_mean"].item()
        2.0
        """
        import networkx as nx

        if not isinstance(graph, nx.DiGraph):
            raise ParameterError(
                f"from_networkx needs a networkx.DiGraph; got {type(graph).__name__}.")
        if graph.number_of_edges() == 0:
            raise EmptyNetworkError("The graph has no edges: nothing to analyse.")
        rows = []
        for u, v, d in graph.edges(data=True):
            r = {"provider": u, "client": v}
            for k, val in d.items():
                if k == satisfaction:
                    r["satisfaction_mean"] = val
                elif k in EDGE_COLUMNS:
                    r[k] = val
            rows.append(r)
        e = pd.DataFrame(rows)
        e = e[[c for c in e.columns if c in ("provider", "client", "n_events",
                                             "satisfaction_n", "satisfaction_mean",
                                             "satisfaction_sd", "delay_mean",
                                             "delay_median", "delay_p90", "sla_n",
                                             "sla_breach_rate", "rework_rate")]]
        people = None
        nd = dict(graph.nodes(data=True))
        units = [a.get("unit") for a in nd.values()]
        if any(isinstance(u, str) and u for u in units):
            people = pd.DataFrame({
                "person": [str(n) for n in nd],
                "unit": [u if isinstance(u, str) and u else UNKNOWN_UNIT for u in units],
                "external_facing": [bool(a.get("external_facing", False))
                                    for a in nd.values()]})
        level = graph.graph.get("level", "person")
        scale = graph.graph.get("scale", scale)
        if "scale_low" in graph.graph and "scale_high" in graph.graph:
            scale = (graph.graph["scale_low"], graph.graph["scale_high"])
        return cls.from_edges(e, people=people, scale=scale, level=level,
                              threshold=threshold)


def _export_records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts of GraphML/GEXF-safe values (see ServiceNetwork.to_networkx)."""
    cols = {}
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col):
            vals = [None if pd.isna(v) else v.isoformat() for v in col]
        elif pd.api.types.is_bool_dtype(col):
            vals = [None if pd.isna(v) else bool(v) for v in col.astype(object)]
        elif pd.api.types.is_integer_dtype(col):
            vals = [None if pd.isna(v) else int(v) for v in col.astype(object)]
        elif pd.api.types.is_float_dtype(col):
            vals = col.astype(float).tolist()                  # nan stays nan
        else:
            vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                    or v is pd.NaT
                    else "; ".join(map(str, v)) if isinstance(v, (tuple, list))
                    else v.isoformat() if isinstance(v, pd.Timestamp)
                    else v.item() if isinstance(v, np.generic) else v
                    for v in col.astype(object)]
        cols[c] = vals
    names = list(cols)
    return [{k: v for k, v in zip(names, row) if v is not None}
            for row in zip(*cols.values())] if names else [{} for _ in range(len(df))]


# ---------------------------------------------------------------------- builders

def from_events(events, people=None, ratings=None, agreements=None, *,
                scale=(1, 5), level="person", columns: Mapping[str, str] | None = None,
                errors: str = "raise", tz: str = "UTC", threshold: float | None = None,
                engine: str = "pandas", **read_options) -> ServiceNetwork:
    """Build a :class:`ServiceNetwork` from service events (and optional tables).

    Parameters
    ----------
    events : DataFrame, dict of columns, str or path
        One row per service interaction: ``provider``, ``client`` and any of
        ``requested_at``, ``delivered_at``, ``delay_hours``, ``satisfaction``,
        ``service``, ``expected_hours``, ``reopened``, ``event_id``.
    people : table-like, optional
        ``person``, ``unit`` and optionally ``manager``, ``role``,
        ``external_facing``. Ids in events but not here are kept (unit NaN)
        and listed in :attr:`ServiceNetwork.unknown` with a warning.
    ratings : table-like, optional
        Survey answers: ``rater``, ``provider``, ``perception`` and optionally
        ``expectation``, ``dimension``, ``period``/``answered_at``,
        ``recommend`` (0–10).
    agreements : table-like, optional
        ``provider``, ``client`` and optionally ``service``,
        ``max_delay_hours``, ``min_satisfaction``, ``review_every``,
        ``last_review``. When events lack ``expected_hours``, it is filled
        from the agreement between the provider's and client's units (or the
        two ids) for the event's service.
    scale : (low, high), default (1, 5)
        Satisfaction scale of events and ratings.
    level : str, default "person"
        What the ids in events are. ``"person"`` networks can be aggregated
        with :meth:`~ServiceNetwork.by`; pass ``"unit"`` when the events are
        already between units.
    columns : dict, optional
        ``{"their_name": "icnet_name"}``, applied to every table.
    errors : {"raise", "drop"}, default "raise"
        ``"drop"`` keeps going and stores each rejected row, with its
        reason, in :attr:`ServiceNetwork.dropped`.
    tz : str, default "UTC"
        Time zone of naive timestamps (aware ones are converted to UTC;
        everything is stored as naive UTC).
    threshold : float, optional
        Neutral satisfaction for the credible ``sign`` of edges (default: the
        middle of the scale).
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"`` (implied when ``events`` is a ``dask.dataframe.DataFrame``)
        reads, validates and aggregates the events on the active Dask
        scheduler (a ``dask.distributed.Client`` when one is running), for
        logs that do not fit one machine; ``events`` may then also be a
        Parquet dataset (a directory) or CSV path. Edges and nodes are the
        same as with pandas; ``net.events`` stays a Dask frame. Needs
        ``pip install "icnet[dask]"``; see :mod:`icnet._dask` and
        docs/scaling.md.
    **read_options
        How files are read and dates parsed: ``sep``, ``encoding``,
        ``decimal``, ``sheet``, ``na_values``, ``dayfirst``, ``date_format``
        (see :func:`icnet.io.read_events`).

    Returns
    -------
    ServiceNetwork

    Raises
    ------
    SchemaError
        A table is missing a required column, or (``errors="raise"``) holds an
        invalid value; the message names the column, rows and the fix.
    EmptyNetworkError
        No usable event.

    Examples
    --------
    >>> import icnet
    >>> net = icnet.from_events(
    ...     {"provider": ["IT", "IT", "Compras"], "client": ["Ventas", "Compras", "IT"],
    ...      "satisfaction": [2, 3, 5]}, level="unit")
    >>> # one rating per relation: its mean is hidden unless asked for (docs/privacy.md)
    >>> net.by("unit", individuals=True).edges[["provider", "client", "satisfaction_mean"]]
      provider   client  satisfaction_mean
    0  Compras       IT                5.0
    1       IT  Compras                3.0
    2       IT   Ventas                2.0
    """
    _validate.one_of("errors", errors, ["raise", "drop"])
    _validate.one_of("engine", engine, ["pandas", "dask"])
    scale = _validate.scale(scale)
    if not isinstance(level, str) or not level:
        raise ParameterError(f"The 'level' parameter must be a non-empty str; got {level!r}.")
    if threshold is not None:
        _validate.in_range("threshold", threshold, low=scale[0], high=scale[1])
    if engine == "dask" or type(events).__module__.startswith("dask."):
        if read_options:
            raise ParameterError(
                f"Reading options {sorted(read_options)} are not supported with "
                "engine='dask'; convert the files to UTF-8 CSV with ISO dates or Parquet.")

        build = engine_builder("dask")    # icnet._dask, registered on import
        return build(events, people=people, ratings=ratings,
                     agreements=agreements, scale=scale, level=level,
                     columns=columns, errors=errors, tz=tz, threshold=threshold)
    ev = io.read_events(events, columns=columns, scale=scale, errors=errors, tz=tz,
                        **read_options)
    tables = {"events": ev}
    if people is not None:
        tables["people"] = io.read_people(people, columns=columns, errors=errors,
                                          **read_options)
    if ratings is not None:
        tables["ratings"] = io.read_ratings(ratings, columns=columns, scale=scale,
                                            errors=errors, tz=tz, **read_options)
    if agreements is not None:
        tables["agreements"] = io.read_agreements(agreements, columns=columns, scale=scale,
                                                  errors=errors, tz=tz, **read_options)
    dropped = [t.dropped for t in tables.values() if len(t.dropped)]
    dropped = (pd.concat(dropped, ignore_index=True) if dropped else empty_dropped())
    ppl = tables["people"].data if "people" in tables else None
    agr = tables["agreements"].data if "agreements" in tables else None
    rat = tables["ratings"].data if "ratings" in tables else None
    events_df = ev.data
    if agr is not None and "expected_hours" not in events_df and \
            "max_delay_hours" in agr:
        events_df = expected_from_agreements(events_df, agr, ppl)
    used = [c.cat.categories[np.unique(c.cat.codes)] for c in
            (events_df["provider"], events_df["client"])]
    ids = used[0].union(used[1])
    if ppl is not None and level == "person":
        ids = ids.union(pd.Index(ppl["person"]))
    node_ids = np.sort(ids.to_numpy(dtype=object))
    events_df = canonical_events(events_df, node_ids)
    net = ServiceNetwork(events=events_df, people=ppl, ratings=rat, agreements=agr,
                         scale=scale, level=level, dropped=dropped, node_ids=node_ids,
                         threshold=threshold)
    warn_unknown(net, stacklevel=3)
    return net


def _read_log_file(log):
    """An XES file (``.xes``/``.xes.gz``) is read by icnet._xes.read_xes; anything else is
    left to io.read_table (frames, dicts, CSV/Parquet paths)."""
    import os

    if isinstance(log, (str, os.PathLike)) and str(log).lower().endswith((".xes", ".xes.gz")):
        from ._xes import read_xes

        return read_xes(log)
    return log


def from_process_log(log, *, case: str = "case", activity: str = "activity",
                     resource: str = "resource", timestamp: str = "timestamp",
                     people=None, scale=(1, 5), errors: str = "raise", tz: str = "UTC",
                     calendar=None) -> ServiceNetwork:
    """Turn a process-mining or ticketing log into provider → client hand-overs.

    Within each case, events are ordered by time; when step *i* is done by
    resource *r* and the next step *i+1* by another resource *s*, *r* has
    served *s*: one event ``provider=r, client=s`` with ``requested_at`` =
    the time of step *i*, ``delivered_at`` = the time of step *i+1* (so the
    delay is the waiting time between them) and ``service`` = the activity of
    step *i*. Consecutive steps by the same resource are not hand-overs. This
    is the hand-over-of-work relation of van der Aalst, Reijers & Song (2005)
    without indirect succession.

    What the delay means depends on what the log's timestamps record: with
    one timestamp per step (XES ``time:timestamp``, a ticket's status or
    assignment change) it is the time the case sat between step *i* and
    step *i+1* (queueing plus work of the next resource); with completion
    timestamps it is the next resource's lead time; with start timestamps
    the provider's own processing time. Nothing else is assumed: a log has
    no satisfaction, so ``satisfaction`` stays missing (never a neutral
    value) and the edges' ``satisfaction_n`` is 0.

    Parameters
    ----------
    log : DataFrame or path
        A table, a CSV/Parquet file, or an XES event log (``.xes``/``.xes.gz``,
        read by :func:`icnet.read_xes`: trace name in ``case``, event
        attributes under their keys, e.g. ``resource="org:group",
        timestamp="time:timestamp", activity="concept:name"``).
    case, activity, resource, timestamp : str
        Column names in ``log``.
    people, scale, errors, tz
        As in :func:`from_events`.
    calendar : icnet.worktime.WorkCalendar or dict, optional
        Measure ``delay_hours`` in working hours (weekly schedule, holidays,
        time zone) instead of wall-clock hours; a dict maps each *provider*
        (the resource handing over) to its calendar, key ``None`` the default.

    Returns
    -------
    ServiceNetwork
        Its events have ``event_id`` = ``"<case>:<step>"``.

    References
    ----------
    van der Aalst, W. M. P., Reijers, H. A., & Song, M. (2005). Discovering
    social networks from event logs. *CSCW*, 14(6), 549–593.

    Examples
    --------
    >>> import icnet
    >>> log = {"case": [1, 1, 1, 2, 2], "activity": ["open", "fix", "close", "open", "fix"],
    ...        "resource": ["ana", "it", "ana", "ana", "it"],
    ...        "timestamp": ["2025-01-01 09:00", "2025-01-01 12:00", "2025-01-02 09:00",
    ...                      "2025-01-03 09:00", "2025-01-03 10:00"]}
    >>> icnet.from_process_log(log).edges[["provider", "client", "n_events", "delay_mean"]]
      provider client  n_events  delay_mean
    0      ana     it         2         2.0
    1       it    ana         1        21.0
    """
    for name, col in (("case", case), ("activity", activity), ("resource", resource),
                      ("timestamp", timestamp)):
        if not isinstance(col, str):
            raise ParameterError(f"The '{name}' parameter must be a column name (str).")
    raw = io.read_table(_read_log_file(log), "events")
    missing = [c for c in (case, activity, resource, timestamp) if c not in raw]
    if missing:
        raise SchemaError(
            f"process log is missing column(s) {missing}; it has {list(raw.columns)[:20]}. "
            "Name them with case=, activity=, resource=, timestamp=.")
    ts, miss, bad = parse_timestamps(raw[timestamp], tz)
    cs, res = id_strings(raw[case]), id_strings(raw[resource])
    problems = [(bad, "bad_timestamp", timestamp), (miss, "missing_timestamp", timestamp),
                (cs.isna().to_numpy(), "missing_id", case),
                (res.isna().to_numpy(), "missing_id", resource)]
    badrow = np.zeros(len(raw), dtype=bool)
    for mask, reason, col in problems:
        if mask.any():
            if errors == "raise":
                rows = np.flatnonzero(mask)[:5].tolist()
                raise SchemaError(
                    f"process log column {col!r} has {int(mask.sum())} invalid values "
                    f"({reason}; rows {rows}). Fix them or pass errors='drop'.")
            badrow |= mask
    df = pd.DataFrame({"case": cs, "activity": id_strings(raw[activity]), "resource": res,
                       "t": ts, "row": np.arange(len(raw))})[~badrow]
    df = df.sort_values(["case", "t", "row"], kind="mergesort")
    nxt = df.shift(-1)
    same_case = (df["case"] == nxt["case"]).to_numpy()
    hand = same_case & (df["resource"] != nxt["resource"]).to_numpy()
    step = df.groupby("case", sort=False).cumcount().to_numpy()
    ev = pd.DataFrame({
        "event_id": (df["case"].astype(str) + ":" + step.astype(str)).to_numpy()[hand],
        "provider": df["resource"].to_numpy()[hand],
        "client": nxt["resource"].to_numpy()[hand],
        "requested_at": df["t"].to_numpy()[hand],
        "delivered_at": nxt["t"].to_numpy()[hand],
        "service": df["activity"].to_numpy()[hand],
    })
    if calendar is not None:
        from .worktime import working_hours

        ev["delay_hours"] = working_hours(ev["requested_at"], ev["delivered_at"], calendar,
                                          unit=ev["provider"] if isinstance(calendar, dict)
                                          else None)
    net = from_events(ev, people=people, scale=scale, errors=errors)
    if badrow.any():
        d = raw.loc[badrow].reset_index(drop=True)
        reasons = np.select([m[badrow] for m, _, _ in problems],
                            [r for _, r, _ in problems], "invalid")
        d.insert(0, "detail", "process log row")
        d.insert(0, "reason", reasons)
        d.insert(0, "row", np.flatnonzero(badrow))
        d.insert(0, "table", "process_log")
        net.dropped = pd.concat([net.dropped, d], ignore_index=True)
    kept = df.rename(columns={"t": "timestamp"})[["case", "activity", "resource",
                                                 "timestamp"]].reset_index(drop=True)
    kept.attrs["used"] = {"case": case, "activity": activity, "resource": resource,
                          "timestamp": timestamp}
    net.process_log, net.work_calendar = kept, calendar
    net.__dict__.pop("_by_cache", None)     # aggregated before the log was attached
    return net


# ---------------------------------------------------------------------- aggregation


def _aggregate(net: ServiceNetwork) -> pd.DataFrame:
    out, pcode = edge_stats(net.events, net.node_ids, lambda: net.span[1])
    return complete_edges(out, net, pcode=pcode)


def _node_attributes(net: ServiceNetwork):
    idx = net.node_ids
    n = len(idx)
    unit = np.full(n, np.nan, dtype=object)
    ext = np.zeros(n, dtype=bool)
    known = np.zeros(n, dtype=bool)
    ppl = net.people
    if ppl is not None:
        key = "person"
        pos = idx.get_indexer(ppl[key])
        ok = pos >= 0
        unit[pos[ok]] = ppl["unit"].to_numpy(dtype=object)[ok]
        ext[pos[ok]] = ppl["external_facing"].to_numpy(dtype=bool)[ok]
        known[pos[ok]] = True
    return unit, ext, known


def _aggregate_to(net: ServiceNetwork, column: str) -> ServiceNetwork:
    groups, node_to_g, small = group_tables(net, column, stacklevel=5)
    gidx = pd.Index(groups)
    ev = net.events
    pg = node_to_g[ev["provider"].cat.codes.to_numpy()]
    cg = node_to_g[ev["client"].cat.codes.to_numpy()]
    inside = pg == cg
    base = ev.rename(columns={"provider": "provider_person", "client": "client_person"})
    internal = base.loc[inside].reset_index(drop=True)
    internal.insert(0, column, pd.Categorical.from_codes(pg[inside], categories=gidx))
    cross = base.loc[~inside].reset_index(drop=True)
    cross.insert(0, "client", groups[cg[~inside]])
    cross.insert(0, "provider", groups[pg[~inside]])
    events = canonical_events(cross, groups)
    return ServiceNetwork(events=events, internal=internal, node_ids=groups, **small)


def _aggregate_edges_to(net: ServiceNetwork, column: str) -> ServiceNetwork:
    """``by()`` for a network built from an edge list: counts add up, means are weighted.

    ``n_events``, ``satisfaction_n`` and ``sla_n`` are summed; ``satisfaction_mean``
    is the mean weighted by ``satisfaction_n``, ``satisfaction_sd`` the pooled SD
    (within + between relations), ``delay_mean`` weighted by ``n_events``, rates by
    their counts. Medians and quantiles cannot be combined from summaries: NaN.
    Relations inside a group go to ``internal`` (a table of edges).
    """
    ppl = net.people
    group = pd.Series(ppl[column].to_numpy(dtype=object), index=ppl["person"].to_numpy())
    e = net._edges
    pg = group.reindex(e["provider"].to_numpy(dtype=object)).to_numpy(dtype=object)
    cg = group.reindex(e["client"].to_numpy(dtype=object)).to_numpy(dtype=object)
    missing = pd.isna(pg) | pd.isna(cg)
    if missing.any():
        ids = pd.unique(np.r_[e["provider"].to_numpy(dtype=object)[pd.isna(pg)],
                              e["client"].to_numpy(dtype=object)[pd.isna(cg)]])
        warnings.warn(
            f"{len(ids)} ids have no {column!r} in the people table "
            f"({', '.join(map(str, ids[:5]))}); they are grouped as {UNKNOWN_UNIT!r}.",
            IcnetWarning, stacklevel=4)
        pg = np.where(pd.isna(pg), UNKNOWN_UNIT, pg)
        cg = np.where(pd.isna(cg), UNKNOWN_UNIT, cg)
    inside = pg == cg
    internal = e.loc[inside].rename(columns={"provider": "provider_person",
                                             "client": "client_person"})
    internal.insert(0, column, pg[inside])
    x = e.loc[~inside].assign(provider=pg[~inside], client=cg[~inside])
    num = lambda c: x[c].astype(float) if c in x else pd.Series(np.nan, index=x.index)  # noqa: E731
    sn = num("satisfaction_n").fillna(0)
    sm, sd = num("satisfaction_mean"), num("satisfaction_sd")
    ok = sm.notna() & (sn > 0)
    w = x.assign(_sn=sn.where(ok, 0), _s1=(sn * sm).where(ok, 0),
                 _s2=(sn * (sd.fillna(0) ** 2 * np.where(sn > 1, (sn - 1) / sn.clip(lower=1),
                                                         0) + sm ** 2)).where(ok, 0),
                 _n=num("n_events").fillna(0),
                 _d=(num("delay_mean") * num("n_events")).fillna(0),
                 _dn=num("n_events").where(num("delay_mean").notna(), 0),
                 _sl=num("sla_n").fillna(0) if "sla_n" in x else 0.0,
                 _sb=(num("sla_breach_rate") * num("sla_n")).fillna(0) if "sla_n" in x else 0.0,
                 _rw=(num("rework_rate") * num("n_events")).fillna(0),
                 _rn=num("n_events").where(num("rework_rate").notna(), 0))
    a = w.groupby(["provider", "client"], sort=True)[
        ["_n", "_sn", "_s1", "_s2", "_d", "_dn", "_sl", "_sb", "_rw", "_rn"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = a["_s1"] / a["_sn"]
        var = (a["_s2"] - a["_sn"] * mean ** 2) / (a["_sn"] - 1)
        out = pd.DataFrame({
            "provider": a.index.get_level_values(0).astype(object),
            "client": a.index.get_level_values(1).astype(object),
            "n_events": a["_n"].round().to_numpy().astype("int64"),
            "satisfaction_n": a["_sn"].to_numpy(),
            "satisfaction_mean": mean.where(a["_sn"] > 0).to_numpy(),
            "satisfaction_sd": np.sqrt(var.clip(lower=0)).where(a["_sn"] > 1).to_numpy(),
            "delay_mean": (a["_d"] / a["_dn"]).where(a["_dn"] > 0).to_numpy(),
            "sla_n": a["_sl"].round().to_numpy().astype("int64"),
            "sla_breach_rate": (a["_sb"] / a["_sl"]).where(a["_sl"] > 0).to_numpy(),
            "rework_rate": (a["_rw"] / a["_rn"]).where(a["_rn"] > 0).to_numpy()})
    groups = np.sort(pd.unique(np.r_[pd.unique(group.to_numpy(dtype=object)), pg, cg]
                               .astype(object)))
    gp = pd.DataFrame({"person": groups, "unit": groups})
    agg = ServiceNetwork.from_edges(out, people=gp, scale=net.scale, level=column,
                                    threshold=net.threshold)
    agg.internal = internal.reset_index(drop=True)
    person_ids = net.node_ids.to_numpy(dtype=object)
    g_all = group.reindex(person_ids).to_numpy(dtype=object)
    agg._members = pd.DataFrame({"node": np.where(pd.isna(g_all), UNKNOWN_UNIT, g_all),
                                 "member": person_ids}).sort_values(
        ["node", "member"], kind="mergesort").reset_index(drop=True)
    return agg


def _check_edge_numbers(e: pd.DataFrame) -> None:
    """Counts are whole numbers >= 0 (below 2**53, so nothing wraps), sub-counts do not
    exceed ``n_events``, rates lie in [0, 1], spreads and delays are >= 0."""
    def refuse(mask, col, what, fix):
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            rows = np.flatnonzero(mask)[:5].tolist()
            vals = [e[col].iloc[r].item() for r in rows]
            raise SchemaError(
                f"edges column {col!r} has {int(mask.sum())} {what} (rows {rows}: {vals}). "
                f"{fix}")

    for c in ("n_events", "satisfaction_n", "sla_n"):
        if c in e:
            v = e[c].to_numpy(dtype=float)
            refuse((v < 0) | (v != np.round(v)) | (v >= 2**53), c,
                   "values that are not whole counts between 0 and 2**53",
                   "Counts are numbers of events: whole numbers >= 0.")
    for c in ("satisfaction_n", "sla_n"):
        if c in e and "n_events" in e:
            refuse(e[c].to_numpy(dtype=float) > e["n_events"].to_numpy(dtype=float), c,
                   "counts larger than n_events", "A sub-count cannot exceed n_events.")
    for c in ("sla_breach_rate", "rework_rate"):
        if c in e:
            v = e[c].to_numpy(dtype=float)
            refuse((v < 0) | (v > 1), c, "rates outside [0, 1]",
                   "Rates are shares: 0.25, not 25 (divide percentages by 100).")
    for c in ("satisfaction_sd", "delay_mean", "delay_median", "delay_p90"):
        if c in e:
            refuse(e[c].to_numpy(dtype=float) < 0, c, "negative values",
                   "Spreads and delays (hours) are >= 0.")
