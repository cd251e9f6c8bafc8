"""Build a :class:`~icnet.ServiceNetwork` on a Dask cluster (``engine="dask"``).

For event logs that do not fit one machine. The events are read, validated and
aggregated to ``provider → client`` edges on the active Dask scheduler (the
``dask.distributed.Client`` you started, or Dask's local threads); only small
results come back: validation counts and the first offending rows, the node
ids, and the edge table. The edges and nodes are then finished in pandas by
the same code as the pandas path, so they are identical to
``icnet.from_events(events.compute())``.

What runs where
---------------
1. *Validation* (cluster, one task per partition): each partition goes
   through :func:`icnet.io.read_events` with ``errors="drop"``; the driver
   receives per-check counts, the dropped rows, the ids and services used and
   a hash of every ``event_id``. Repeated event ids across partitions are
   found by bucketing those hashes on the cluster; only candidates come back
   and are checked exactly. ``errors="raise"`` raises the same
   :class:`~icnet.errors.SchemaError` as pandas would (same check order,
   total count, first offending rows with their values, the fix).
2. *Aggregation* (cluster): validated events are coded over the global node
   ids, shuffled by ``provider → client`` pair so that every pair lands whole
   in one partition, sorted there in the canonical event order and reduced
   by :func:`icnet._engine.edge_stats` (the pandas path's own code: counts,
   means, two-pass standard deviations, exact delay medians and 90th
   percentiles, SLA breaches, rework, first/last request). Because each
   pair's events are summed in the same order as pandas sums them, the
   floating-point results are bit-for-bit equal.
3. *Finishing* (driver): empirical-Bayes shrinkage, credible signs and node
   volumes on the small edge table, by the pandas code.

The returned network keeps ``net.events`` as the validated Dask frame
(canonical columns; ``provider``/``client`` categoricals over
``net.node_ids``; not sorted). Edge-based analyses (``conflict_cycles``,
``dependence``, ``to_networkx`` …) never touch it. ``retaliation_spirals``
runs on the cluster per partition of pairs (:func:`spiral_table`): same
pairs, counts, effects and chains as the pandas path, p-values from another
Monte Carlo draw (also at another ``level``). ``window`` filters the
events per partition and ``by`` maps people to groups per partition (the
within-group events become ``internal``, a Dask frame); both recompute the
edges by the aggregation of step 2 and return a Dask-built network.
``spiral_timeline`` computes only the pair's events (:func:`pair_events`).

``service_quality``, ``bottlenecks``, ``agreement_compliance``, ``health``,
``actions`` and the report read the events only through per-provider
summaries (:meth:`icnet.ServiceNetwork._per_provider`): the needed columns are
shuffled by provider, each partition sorted canonically and summarised by the
pandas path's own function (:func:`per_provider`); only the summaries reach
the driver, and the results are identical. ``periods`` and a few options
that rewrite events (``service_quality(adjust_leniency=True)``, ``what_if``)
compute the events into memory once (:meth:`DaskServiceNetwork.compute`),
canonically sorted exactly like the pandas path; they need the memory the
pandas path needs.

Code shared with the pandas path
--------------------------------
Every kernel both engines run (validation messages and the dropped table, timestamp
parsing, the canonical event order, per-edge statistics and their completion, group
tables) comes from :mod:`icnet._engine` under its plain name; from :mod:`icnet.io` and
:mod:`icnet.network` this module uses public names only (``read_table``,
``read_events``, ``SCHEMAS``, :class:`~icnet.ServiceNetwork`). It registers
:func:`from_events` as ``engine="dask"`` in :func:`icnet._engine.register_engine` (at
import; ``dask`` itself is imported only when used), so :mod:`icnet.network` does not
import this module. ``tests/test_architecture.py`` guards both rules.

Examples
--------
>>> import dask, dask.dataframe as dd, icnet
>>> ev = icnet.datasets.load("planta").events
>>> with dask.config.set(scheduler="synchronous"):
...     net = icnet.from_events(dd.from_pandas(ev, npartitions=3), level="unit")
...     ref = icnet.from_events(ev, level="unit")
...     same = net.edges.equals(ref.edges)
>>> net                                                   # doctest: +ELLIPSIS
<ServiceNetwork level='unit': ... nodes, ... edges, ... events (Dask)>
>>> same
True
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from . import io
from .network import ServiceNetwork
from ._engine import (DROP_HINT, EVENT_ORDER, N_SHOW, canonical_events, complete_edges,
                      edge_stats, empty_dropped, expected_from_agreements, group_tables,
                      node_codes, parse_timestamps, rating_times, register_engine,
                      require_columns, rows_text, time_parameter, warn_unknown)
from .errors import EmptyNetworkError, ParameterError, SchemaError

__all__ = ["from_events", "DaskServiceNetwork"]

_INSTALL = 'pip install "icnet[dask]"'
_ROWS_PER_PARTITION = 1_000_000       # when a pandas frame is handed to engine="dask"
_N_BUCKETS = 16                         # hash buckets for the repeated-event-id check
_SENTINEL_IDS = ("\x00icnet-sentinel-a", "\x00icnet-sentinel-b")
_DEFAULT_STR = pd.Series(["a"]).dtype   # pandas' own string dtype (str or object)


def _dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise ParameterError(
            "engine='dask' needs the optional packages dask[dataframe] and distributed. "
            f"Install them with: {_INSTALL}") from None
    return dask, dd


# --------------------------------------------------------------------------- loading

def _load(events, dd, dask):
    """A Dask frame from a Dask frame, a pandas table or a CSV/Parquet path."""
    if type(events).__module__.startswith("dask"):
        if not hasattr(events, "map_partitions") or not hasattr(events, "columns"):
            raise ParameterError(
                "With engine='dask', 'events' must be a dask.dataframe.DataFrame, a pandas "
                f"DataFrame or a CSV/Parquet path; got {type(events).__name__}.")
        return events
    with dask.config.set({"dataframe.convert-string": False}):
        if isinstance(events, (str, os.PathLike)):
            path = os.fspath(events)
            if not os.path.exists(path):
                raise SchemaError(f"events: file {path!r} does not exist. Check the path.")
            low = path.lower()
            try:
                if low.endswith((".parquet", ".pq")) or os.path.isdir(path):
                    return dd.read_parquet(path)
                sep = "\t" if low.endswith((".tsv", ".tsv.gz", ".tab")) else ","
                return dd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                                   na_values=[""], encoding="utf-8-sig",
                                   blocksize=None if low.endswith(".gz") else "64MB")
            except ImportError as err:
                raise SchemaError(
                    f"events: reading {path!r} needs an optional package ({err}). Install "
                    "it with: python -m pip install pyarrow") from None
            except (OSError, ValueError) as err:
                raise SchemaError(
                    f"events: could not read {path!r} ({type(err).__name__}: {err}). Give "
                    "a Parquet dataset or a UTF-8 CSV with a header row.") from None
        df = io.read_table(events, "events")     # dict / DataFrame, checked as pandas does
        n = max(1, -(-len(df) // _ROWS_PER_PARTITION))
        return dd.from_pandas(df, npartitions=n, sort=False)


def _gather(*frames) -> tuple:
    """Dask frames into pandas, their partitions brought back one by one and joined on
    the driver (``frame.compute()`` joins them on one worker first, which must then hold
    and ship the whole frame: at 50 M events that worker ran out of memory)."""
    dask = _dask()[0]
    parts = dask.compute(*[f.to_delayed() for f in frames])
    return tuple(pd.concat(p, ignore_index=True) if len(p) else f._meta
                 for f, p in zip(frames, parts))


def _small(table):
    """People/ratings/agreements are small: bring a Dask frame into memory."""
    if table is not None and type(table).__module__.startswith("dask") and \
            hasattr(table, "compute"):
        return table.compute()
    return table


# --------------------------------------------------------------------------- partitions

def _plain_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Dask's ``string[pyarrow]`` (missing = NA) → pandas' default string dtype."""
    for c in df.columns:
        dt = df[c].dtype
        if isinstance(dt, pd.StringDtype) and dt != _DEFAULT_STR and dt.na_value is pd.NA:
            if _DEFAULT_STR == object:  # pragma: no cover - pandas 2
                df[c] = df[c].astype(object).where(df[c].notna(), np.nan)
            else:
                df[c] = df[c].astype(_DEFAULT_STR)
    return df


def _sentinel(raw: pd.DataFrame) -> pd.DataFrame:
    """One valid event in ``raw``'s dtypes, so a partition whose rows are all
    rejected still yields its dropped rows (read_events refuses empty results)."""
    row = {}
    for c in raw.columns:
        dt = raw[c].dtype
        if c == "provider":
            v = _SENTINEL_IDS[0]
        elif c == "client":
            v = _SENTINEL_IDS[1]
        elif c == "event_id":
            v = "\x00icnet-sentinel"
        elif c == "requested_at":
            v = pd.Timestamp("2000-01-01", tz="UTC" if isinstance(dt, pd.DatetimeTZDtype)
                             else None)
            if not pd.api.types.is_datetime64_any_dtype(dt):
                v = "2000-01-01"
        else:
            v = None
        row[c] = [v]
    s = pd.DataFrame(row)
    for c in raw.columns:
        if s[c].isna().all():
            try:
                s[c] = s[c].astype(raw[c].dtype)
            except (TypeError, ValueError):
                pass
    return s


def _read_part(part: pd.DataFrame, columns, scale, tz):
    """``io.read_events(errors="drop")`` on one partition: (raw, data, dropped)."""
    raw = _plain_strings(io.read_table(part, "events", columns=columns))
    try:
        t = io.read_events(raw, scale=scale, errors="drop", tz=tz)
        return raw, t.data, t.dropped, t.problems
    except EmptyNetworkError:
        pass
    both = pd.concat([raw, _sentinel(raw)], ignore_index=True)
    t = io.read_events(both, scale=scale, errors="drop", tz=tz)
    return raw, t.data.iloc[:-1].reset_index(drop=True), t.dropped, t.problems


def _kept_rows(n: int, dropped: pd.DataFrame) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[dropped["row"].to_numpy(dtype=np.int64)] = False
    return np.flatnonzero(keep)


def _id_hash(values) -> np.ndarray:
    s = pd.Series(values)
    return pd.util.hash_array(s.astype(str).to_numpy(dtype=object)
                              if s.dtype != object else s.to_numpy(dtype=object))


def _summary(part, columns, scale, tz, n_buckets):
    """Pass 1 on one partition: everything the driver needs, all small, plus the
    ``event_id`` hashes split into buckets (they stay on the cluster)."""
    raw, data, dropped, problems = _read_part(part, columns, scale, tz)
    used = {}
    for col in ("provider", "client"):
        cat = data[col].cat
        cnt = np.bincount(cat.codes.to_numpy(), minlength=len(cat.categories))
        used[col] = pd.Series(cnt, index=cat.categories.to_numpy(dtype=object))
    ids = used["provider"].add(used["client"], fill_value=0)
    ids = ids[ids > 0].astype("int64")
    ids = ids[~ids.index.isin(_SENTINEL_IDS)]
    out = {"n": len(raw), "dropped": dropped, "ids": ids, "problems": problems,
           "services": (data["service"].cat.categories.to_numpy(dtype=object)
                        if "service" in data else None)}
    buckets = None
    if "event_id" in data:
        rows = _kept_rows(len(raw), dropped)
        h = _id_hash(data["event_id"])
        b = (h % np.uint64(n_buckets)).astype(np.int64)
        order = np.argsort(b, kind="stable")
        bounds = np.searchsorted(b[order], np.arange(n_buckets + 1))
        buckets = [(h[order[bounds[i]:bounds[i + 1]]], rows[order[bounds[i]:bounds[i + 1]]])
                   for i in range(n_buckets)]
    # the first offending rows of each check, with the values shown in messages
    first = {}
    if len(dropped):
        for detail, grp in dropped.groupby("detail", sort=False):
            first[detail] = grp.head(6)
    out["first"] = first
    return out, buckets


def _piece(res, b):
    """Bucket ``b`` of one partition's event_id hashes."""
    return res[1][b]


def _bucket_candidates(*pieces):
    """Rows whose event_id hash occurs in more than one partition (one bucket)."""
    hs, parts, rows = [], [], []
    for number, (h, r) in enumerate(pieces):
        hs.append(h)
        rows.append(r)
        parts.append(np.full(len(h), number, dtype=np.int64))
    if not hs:
        return np.zeros((0, 2), dtype=np.int64)
    h = np.concatenate(hs)
    s = pd.Series(h)
    dup = s.duplicated(keep=False).to_numpy()
    return np.c_[np.concatenate(parts)[dup], np.concatenate(rows)[dup]]


def _first(res):
    return res[0]


def _take_rows(part, rows, columns):
    raw = _plain_strings(io.read_table(part, "events", columns=columns))
    return raw.iloc[np.asarray(rows, dtype=np.int64)]


def _events_part(part, columns, scale, tz, node_ids, services, remove, agr, ppl,
                 partition_info=None):  # noqa: D417
    """Pass 2 on one partition: the validated, globally coded events."""
    raw, data, dropped, _ = _read_part(part, columns, scale, tz)
    number = partition_info["number"] if partition_info else -1
    if remove and number in remove:
        rows = _kept_rows(len(raw), dropped)
        data = data.loc[~np.isin(rows, remove[number])].reset_index(drop=True)
    if agr is not None and "expected_hours" not in data and "max_delay_hours" in agr:
        data = expected_from_agreements(data, agr, ppl)
    idx = pd.Index(node_ids, dtype=object)
    cats = pd.CategoricalDtype(idx)
    for col in ("provider", "client"):
        codes = node_codes(data[col], idx)
        data[col] = pd.Categorical.from_codes(codes, dtype=cats)
    if services is not None and "service" in data:
        data["service"] = pd.Categorical(data["service"].astype(object),
                                         categories=pd.Index(services, dtype=object))
    return data


_STAT_COLS = ["requested_at", "delivered_at", "delay_hours", "satisfaction", "expected_hours", "client_person",
              "reopened"]


def _stats_input(ev: pd.DataFrame, n: int) -> pd.DataFrame:
    """The columns the edge statistics need, with the pair key to shuffle on."""
    key = ev["provider"].cat.codes.to_numpy().astype(np.int64) * n + \
        ev["client"].cat.codes.to_numpy().astype(np.int64)
    out = pd.DataFrame({"key": key})
    for c in _STAT_COLS:
        if c in ev:
            out[c] = ev[c].to_numpy()
    return out


def _reduce_part(df: pd.DataFrame, n: int, req_max, dlv_max) -> pd.DataFrame:
    """Edge statistics of complete pairs, by the pandas path's own code.

    Rows are sorted like the pandas path sorts events (pair, request time,
    then delivery, delay, satisfaction, expected delay, rework), so each
    pair's values are summed in the same order: identical floats.
    """
    node_ids = np.arange(n)      # codes stand in for ids (named on the driver)
    end = dlv_max if pd.notna(dlv_max) and dlv_max > req_max else req_max
    keys = []
    for c in ("reopened", "expected_hours", "satisfaction", "delay_hours"):
        if c in df:
            v = df[c].to_numpy(dtype=float)
            keys.append(np.where(np.isnan(v), np.inf, v))
    for c in ("delivered_at", "requested_at"):
        if c in df:
            keys.append(df[c].to_numpy(dtype="datetime64[ns]").view("int64"))
    keys.append(df["key"].to_numpy())
    order = np.lexsort(keys) if len(df) else np.zeros(0, dtype=np.int64)
    df = df.take(order).reset_index(drop=True)
    key = df["key"].to_numpy()
    cats = pd.CategoricalDtype(pd.RangeIndex(n))
    ev = pd.DataFrame({"provider": pd.Categorical.from_codes(key // n, dtype=cats),
                       "client": pd.Categorical.from_codes(key % n, dtype=cats)})
    for c in _STAT_COLS:
        if c in df:
            ev[c] = df[c].to_numpy()
    out, pcode = edge_stats(ev, node_ids, lambda: end)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else \
        np.zeros(0, dtype=np.int64)
    out["_key"] = key[starts].astype(np.int64)
    out["_pcode"] = np.asarray(pcode, dtype=np.int64)
    return out


# --------------------------------------------------------------------------- aggregation

def _edges_on_cluster(ev, node_ids, nparts):
    """Edge statistics of the coded Dask events ``ev`` (before shrinkage) and their span.

    The one aggregation of the Dask path (build, ``window``, ``by``): the events are
    shuffled by ``provider → client`` pair and each partition is reduced by
    :func:`_reduce_part` (the pandas path's :func:`icnet._engine.edge_stats`).
    Returns ``(raw_edges, pcode, span, last_request)``; ``span`` (and the last request
    time) is None without timestamps and ``(NaT, NaT)`` when there is no event.
    """
    dask, _ = _dask()
    meta_ev = ev._meta
    n = len(node_ids)
    stats_in = ev.map_partitions(_stats_input, n, meta=_stats_input(meta_ev, n))
    lims = []
    if "requested_at" in meta_ev:
        lims = [ev["requested_at"].min(), ev["requested_at"].max()]
        lims.append(ev["delivered_at"].max() if "delivered_at" in meta_ev else lims[1])
    shuffled = stats_in.shuffle(on="key", npartitions=max(1, nparts))
    meta_out = _reduce_part(_stats_input(meta_ev, n), n, pd.NaT, pd.NaT)
    stats = shuffled.map_partitions(_reduce_part, n, *(lims[1:] or [None, None]),
                                    meta=meta_out, enforce_metadata=False)
    got = dask.compute(stats, *lims)
    raw_edges = got[0]
    span = last_request = None
    if lims:
        first, last, dlv = got[1], got[2], got[3]
        span = (pd.Timestamp(first),
                pd.Timestamp(dlv if pd.notna(dlv) and dlv > last else last))
        last_request = pd.Timestamp(last)
    raw_edges = raw_edges.sort_values("_key", kind="mergesort").reset_index(drop=True)
    pcode = raw_edges.pop("_pcode").to_numpy()
    key = raw_edges.pop("_key").to_numpy()
    ids = np.asarray(node_ids, dtype=object)     # as edge_stats names them
    head = pd.DataFrame({"provider": ids[key // n], "client": ids[key % n]})
    raw_edges = pd.concat([head, raw_edges.drop(columns=["provider", "client"])], axis=1)
    return raw_edges, pcode, span, last_request


# --------------------------------------------------------------------------- messages

_MSG = re.compile(r"^events column '(?P<col>.*?)' has (?P<n>\d+) ")


def _values_for(detail: str, sub: pd.DataFrame, tz):
    """The values a message shows for the rows of one check (as io does)."""
    col = detail.split(":", 1)[0]
    if detail.startswith("delivered_at: deliveries before"):
        return parse_timestamps(sub["delivered_at"], tz)[0].to_numpy()
    return sub[col].to_numpy() if col in sub else None


def _raw_of_dropped(d: pd.DataFrame) -> pd.DataFrame:
    """The input values of dropped rows, under their input column names."""
    vals = d.iloc[:, 4:]
    vals.columns = [c[6:] if c in ("input_table", "input_row", "input_reason",
                                   "input_detail") else c for c in vals.columns]
    return vals.reset_index(drop=True)


def _raise_first(summaries, offsets, cross, cross_problems, tz, scale):
    """Raise the SchemaError pandas would raise, from the partitions' results.

    In ``errors="raise"`` mode pandas raises at the first check (in its own
    order) that any row fails; the rows failing it then have it as their first
    problem, so its count and first rows come from the dropped rows' reasons.
    """
    firsts: dict[str, list] = {}
    for s, off in zip(summaries, offsets):
        for detail, grp in s["first"].items():
            firsts.setdefault(detail, []).append(grp.assign(row=grp["row"] + off))
    if cross is not None and len(cross):
        firsts.setdefault(_DUP, []).append(cross)
    if not firsts:
        return
    firsts = {d: pd.concat(g, ignore_index=True).sort_values("row", kind="mergesort")
              for d, g in firsts.items()}
    # which check comes first: let pandas decide on one row of each candidate
    detail = _DUP
    others = [_raw_of_dropped(g.head(1)) for d, g in firsts.items() if d != _DUP]
    if others:
        try:
            io.read_events(pd.concat(others, ignore_index=True), scale=scale,
                           errors="raise", tz=tz)
        except SchemaError as err:
            msg = str(err)
            m = _MSG.match(msg)
            detail = f"{m.group('col')}: {msg[m.end():].split(' (rows ', 1)[0]}"
    col, what = detail.split(": ", 1)
    n = sum(int((s["dropped"]["detail"] == detail).sum()) for s in summaries if
            len(s["dropped"]))
    if detail == _DUP and cross is not None:
        n += len(cross)
    fix = ""
    for problems in [s["problems"] for s in summaries] + [cross_problems]:
        for _, pcol, cnt, msg in problems:
            if pcol == col and msg.startswith(f"events column '{col}' has {cnt} {what} (rows "):
                fix = _fix_of(msg, col)
                break
        if fix:
            break
    g = firsts[detail].head(N_SHOW)
    vals = _values_for(detail, _raw_of_dropped(g), tz)
    raise SchemaError(f"events column '{col}' has {n} {what} "
                      f"(rows {rows_text(g['row'].to_numpy(), vals, n)}). {fix} "
                      f"{DROP_HINT}")


_DUP = "event_id: repeated event ids"


def _fix_of(msg: str, col: str) -> str:
    """The fix sentence of an io message (after the rows list)."""
    body = msg[:-len(DROP_HINT)].rstrip() if msg.endswith(DROP_HINT) else msg
    head = f"events column '{col}' has "
    rest = body[len(head):]
    # the rows list ends at the last "). " before the fix; fixes never contain one
    i = rest.rfind("). ")
    return rest[i + 3:] if i >= 0 else ""


# --------------------------------------------------------------------------- network

class DaskServiceNetwork(ServiceNetwork):
    """A :class:`~icnet.ServiceNetwork` whose events live on a Dask cluster.

    Built by ``icnet.from_events(..., engine="dask")``. ``edges``, ``nodes``,
    ``dropped``, ``node_ids`` and the small tables are in memory and equal to
    the pandas path's; ``events`` is the validated Dask frame (not sorted).
    Analyses read the events through per-provider summaries or per pair on the
    cluster (see the module docstring); the few that rewrite events work on
    :meth:`compute` (called for them automatically).
    """

    def __init__(self, *, n_events: int, span, last_request=None, **kw):
        super().__init__(**kw)
        self._n_events = int(n_events)
        self._span = span
        self._last_request = last_request
        self._local = None

    def __repr__(self) -> str:
        return (f"<ServiceNetwork level={self.level!r}: {len(self.node_ids)} nodes, "
                f"{len(self._edges)} edges, {self._n_events} events (Dask)>")

    @property
    def has_time(self) -> bool:
        return "requested_at" in self.events.columns

    @property
    def span(self):
        self._need_time("span")
        return self._span

    @property
    def n_events(self) -> int:
        """Number of valid events (known without touching the cluster)."""
        return self._n_events

    @property
    def event_columns(self) -> tuple:
        return tuple(self.events.columns)

    def _request_range(self):
        self._need_time("the request times")
        return self._span[0], self._last_request

    @property
    def _on_cluster(self) -> "DaskServiceNetwork":
        """This network (analyses that run on the cluster look for it)."""
        return self

    def _run_per_provider(self, fn, columns, kw):
        """On the cluster: see :func:`per_provider`."""
        return per_provider(self, fn, columns, kw)

    def compute(self) -> ServiceNetwork:
        """The same network with its events in memory (pandas), computed once.

        The events are canonically sorted exactly as the pandas path sorts
        them, so every analysis gives the pandas path's result. Needs the
        memory the pandas path needs for these events.

        Examples
        --------
        >>> import dask, dask.dataframe as dd, icnet
        >>> ev = icnet.datasets.load("planta").events
        >>> with dask.config.set(scheduler="synchronous"):
        ...     local = icnet.from_events(dd.from_pandas(ev, npartitions=2)).compute()
        >>> local.events.equals(icnet.from_events(ev).events)
        True
        """
        if self._local is None:
            internal = self.internal
            if internal is not None and hasattr(internal, "map_partitions"):
                ev, internal = _gather(self.events, internal)
                persons = internal["provider_person"].cat.categories.to_numpy(dtype=object)
                internal = _canonical_internal(internal, self.level, persons)
            else:
                ev, = _gather(self.events)
            self._local = self._local_with(ev, internal)
        return self._local

    def _local_with(self, events, internal) -> ServiceNetwork:
        """An in-memory network with ``events`` (canonically sorted here) and this
        network's small tables, edges and nodes (cached, not given: window() and
        _replace() recompute edges from their events)."""
        ev = canonical_events(events, self.node_ids.to_numpy())
        local = ServiceNetwork(
            events=ev, people=self.people, ratings=self.ratings,
            agreements=self.agreements, scale=self.scale, level=self.level,
            dropped=self.dropped, internal=internal, node_ids=self.node_ids,
            members=self._members, threshold=self.threshold)
        local.__dict__["_edges"] = self._edges
        local.__dict__["nodes"] = self.nodes
        return local

    def _in_memory(self) -> ServiceNetwork:
        """What analyses see: a network whose events are computed on first use."""
        return _LazyEvents(self)

    def _aggregated(self, column: str) -> "DaskServiceNetwork":
        """``by(column)`` on the cluster (after :meth:`icnet.ServiceNetwork.by`'s checks).

        The people table is small: each node's group code travels with the tasks;
        every partition maps its events to groups, keeps the events between groups
        (``events``, ``provider_person``/``client_person`` kept) and, separately,
        those within one group (``internal``, a Dask frame); the edges are
        recomputed by the build's aggregation (:func:`_edges_on_cluster`). People,
        members and ratings are built by the pandas path's own code
        (:func:`icnet._engine.group_tables`), so ``edges``, ``nodes`` and
        ``members`` equal the pandas ``by()``'s.
        """
        groups, node_to_g, small = group_tables(self, column, stacklevel=4)
        ev = self.events
        args = (np.asarray(node_to_g, dtype=np.int64), groups, column)
        cross = ev.map_partitions(_by_part, *args, False,
                                  meta=_by_part(ev._meta, *args, False))
        internal = ev.map_partitions(_by_part, *args, True,
                                     meta=_by_part(ev._meta, *args, True))
        return self._derived(cross, internal=internal, node_ids=groups, **small)

    def window(self, start=None, end=None):
        """The network of the events requested in ``[start, end)``, on the cluster.

        As :meth:`icnet.ServiceNetwork.window`: the events (and ``internal``)
        are filtered per partition, the edges recomputed by the build's
        aggregation (:func:`_edges_on_cluster`), so ``edges`` and ``nodes``
        equal the pandas path's; ratings (small) are filtered in memory.
        Returns a :class:`DaskServiceNetwork`; the events stay on the cluster.
        """
        self._need_time("window()")
        start = None if start is None else time_parameter(start, "start")
        end = None if end is None else time_parameter(end, "end")
        ev = self.events.map_partitions(_window_part, start, end, meta=self.events._meta)
        internal = self.internal
        if internal is not None and "requested_at" in internal.columns:
            internal = internal.map_partitions(_window_part, start, end,
                                               meta=internal._meta)
        ratings = self.ratings
        if ratings is not None:
            rt = rating_times(ratings)
            if rt is not None:
                keep = _in_window(rt, start, end)
                ratings = ratings.loc[keep].reset_index(drop=True)
        return self._derived(ev, internal=internal, ratings=ratings)

    def _derived(self, events, **kw) -> "DaskServiceNetwork":
        """A network like this one with other (Dask) events: edges on the cluster."""
        args = dict(people=self.people, ratings=self.ratings, agreements=self.agreements,
                    scale=self.scale, level=self.level, dropped=self.dropped,
                    internal=self.internal, node_ids=self.node_ids,
                    members=self._members, threshold=self.threshold)
        args.update(kw)
        raw, pcode, span, last = _edges_on_cluster(events, args["node_ids"],
                                                   events.npartitions)
        net = DaskServiceNetwork(events=events, n_events=int(raw["n_events"].sum()),
                                 span=span, last_request=last, **args)
        net._given_edges = complete_edges(raw, net, pcode=pcode)
        return net

    def periods(self, freq: str = "QS"):
        return self.compute().periods(freq)

    periods.__doc__ = ServiceNetwork.periods.__doc__


def _by_part(df: pd.DataFrame, node_to_g, groups, column, inside: bool) -> pd.DataFrame:
    """One partition's events between groups (``inside`` False: provider/client are the
    groups) or within one group (``inside`` True: ``column`` first), with the columns the
    pandas ``by()`` gives them."""
    cols = [c for c in EVENT_ORDER if c in df] + \
        [c for c in df.columns if c not in EVENT_ORDER]
    pg = node_to_g[df["provider"].cat.codes.to_numpy()]
    cg = node_to_g[df["client"].cat.codes.to_numpy()]
    keep = (pg == cg) if inside else (pg != cg)
    out = df[cols].rename(columns={"provider": "provider_person",
                                   "client": "client_person"})
    out = out.loc[keep].reset_index(drop=True)
    if inside:
        out.insert(0, column, pd.Categorical.from_codes(pg[keep], categories=pd.Index(groups)))
    else:
        cats = pd.CategoricalDtype(pd.Index(groups, dtype=object))
        out.insert(0, "client", pd.Categorical.from_codes(cg[keep], dtype=cats))
        out.insert(0, "provider", pd.Categorical.from_codes(pg[keep], dtype=cats))
    return out


def _canonical_internal(df: pd.DataFrame, column: str, person_ids) -> pd.DataFrame:
    """Computed within-group events in the pandas ``by()``'s order and columns."""
    grp = df[column]
    base = df.drop(columns=column).rename(columns={"provider_person": "provider",
                                                   "client_person": "client"})
    out = canonical_events(base.assign(_g=grp.cat.codes.to_numpy()), person_ids)
    codes = out.pop("_g").to_numpy()
    out = out.rename(columns={"provider": "provider_person", "client": "client_person"})
    out.insert(0, column, pd.Categorical.from_codes(codes, dtype=grp.dtype))
    return out


def _pairs_part(df: pd.DataFrame, keys: np.ndarray, n: int) -> pd.DataFrame:
    """One partition's events whose ``provider * n + client`` code is in ``keys``."""
    key = df["provider"].cat.codes.to_numpy().astype(np.int64) * n + \
        df["client"].cat.codes.to_numpy().astype(np.int64)
    return df.loc[np.isin(key, keys)].reset_index(drop=True)


def _in_window(t: pd.Series, start, end) -> np.ndarray:
    keep = np.ones(len(t), dtype=bool)
    if start is not None:
        keep &= (t >= start).to_numpy()
    if end is not None:
        keep &= (t < end).to_numpy()
    return keep


def _window_part(df: pd.DataFrame, start, end) -> pd.DataFrame:
    """One partition's events requested in ``[start, end)`` (as ``window`` keeps them)."""
    return df.loc[_in_window(df["requested_at"], start, end)].reset_index(drop=True)


class _LazyEvents(ServiceNetwork):
    """A view of a :class:`DaskServiceNetwork` for analyses: ``events`` is the
    in-memory frame, computed only when an analysis reads it."""

    def __init__(self, source: DaskServiceNetwork):
        self.__dict__["_source"] = source
        super().__init__(events=None, people=source.people, ratings=source.ratings,
                         agreements=source.agreements, scale=source.scale,
                         level=source.level, dropped=source.dropped,
                         internal=source.internal, node_ids=source.node_ids,
                         members=source._members, threshold=source.threshold)
        self.__dict__["_edges"] = source._edges
        self.__dict__["nodes"] = source.nodes

    @property
    def events(self):
        return self._source.compute().events

    @events.setter
    def events(self, value):  # set by ServiceNetwork.__init__; the source holds them
        pass

    def __repr__(self) -> str:
        return repr(self._source)

    @property
    def has_events(self) -> bool:
        return True

    @property
    def has_time(self) -> bool:
        return self._source.has_time

    @property
    def span(self):
        return self._source.span

    def by(self, column: str = "unit"):
        out = self._source.by(column)
        return self if out is self._source else out._in_memory()

    def window(self, start=None, end=None):
        return self._source.window(start, end)._in_memory()

    def periods(self, freq: str = "QS"):
        return self._source.periods(freq)

    @property
    def event_columns(self) -> tuple:
        return self._source.event_columns

    @property
    def n_events(self) -> int:
        return self._source.n_events

    @property
    def _on_cluster(self) -> DaskServiceNetwork:
        return self._source

    def _request_range(self):
        return self._source._request_range()

    def _per_provider(self, fn, columns, **kw):
        return self._source._per_provider(fn, columns, **kw)


# --------------------------------------------------------------------------- per provider

def _whole_providers(df: pd.DataFrame, fn, node_ids, kw):
    """One partition of events shuffled by provider: canonical order, then ``fn``."""
    if not len(df):
        return None
    df = canonical_events(df.drop(columns="_p"), node_ids)
    return fn(df, **kw)


def _concat(outs):
    if isinstance(outs[0], tuple):
        return tuple(_concat([o[i] for o in outs]) for i in range(len(outs[0])))
    return pd.concat(outs) if len(outs) > 1 else outs[0]


def per_provider(net, fn, columns, kw):
    """``fn(events, **kw)`` per partition of whole providers, results concatenated.

    The events' ``columns`` (with the columns of the canonical order, so that each
    provider's events come in exactly the pandas path's order and sums, medians and
    modes are the same to the last bit) are shuffled by provider; every partition is
    canonically sorted and given to ``fn``; only ``fn``'s outputs (per-provider
    summaries: small) reach the driver. With no event, ``fn`` sees an empty frame.
    """
    dask, _ = _dask()
    ev = net.events
    keep = ["provider", "client", "requested_at", "service", "reopened", "expected_hours",
            "satisfaction", "delay_hours", "delivered_at", *columns]
    cols = [c for c in dict.fromkeys(keep) if c in ev.columns]
    node_ids = net.node_ids.to_numpy(dtype=object)
    sub = ev[cols]
    sub = sub.assign(_p=sub["provider"].cat.codes.astype("int64"))
    shuffled = sub.shuffle(on="_p", npartitions=max(1, ev.npartitions))
    delayed = dask.delayed
    ids = delayed(node_ids, pure=True)
    outs = dask.compute(*[delayed(_whole_providers, pure=True)(p, fn, ids, kw)
                          for p in shuffled.to_delayed()])
    outs = [o for o in outs if o is not None]
    if not outs:
        outs = [fn(canonical_events(sub._meta.drop(columns="_p"), node_ids), **kw)]
    return _concat(outs)


# --------------------------------------------------------------------------- builder

def from_events(events, people=None, ratings=None, agreements=None, *, scale=(1, 5),
                level="person", columns=None, errors="raise", tz="UTC",
                threshold=None) -> DaskServiceNetwork:
    """:func:`icnet.from_events` on a Dask cluster (called for ``engine="dask"``).

    Arguments are those of :func:`icnet.from_events` (already checked there);
    ``events`` is a ``dask.dataframe.DataFrame``, a Parquet dataset/CSV path
    (read with Dask) or an in-memory table (split into partitions of 1 M rows).
    The computation runs on the active scheduler: start a
    ``dask.distributed.Client`` first to use a cluster.

    Returns
    -------
    DaskServiceNetwork
        A :class:`~icnet.ServiceNetwork`; see the module docstring.
    """
    dask, dd = _dask()
    ddf = _load(events, dd, dask)
    meta = io.read_table(ddf._meta, "events", columns=columns)   # name checks, as pandas
    require_columns(meta, "events", io.SCHEMAS["events"]["required"])
    if "requested_at" in meta and (pd.api.types.is_numeric_dtype(meta["requested_at"].dtype)
                                   or pd.api.types.is_bool_dtype(meta["requested_at"].dtype)):
        raise SchemaError(
            "events column 'requested_at' holds numbers, which are not timestamps (seconds? "
            "days?). Use ISO 8601 text such as 2025-03-01T14:30:00 or datetime values.")
    mapping = dict(columns) if columns else None

    # ---- pass 1: validation summaries (+ repeated event ids across partitions)
    parts = ddf.to_delayed()
    delayed = dask.delayed
    res = [delayed(_summary, pure=True)(p, mapping, scale, tz, _N_BUCKETS) for p in parts]
    summ = [delayed(_first, pure=True)(r) for r in res]
    if "event_id" in meta:
        cand = [delayed(_bucket_candidates, pure=True)(
            *[delayed(_piece, pure=True)(r, b) for r in res]) for b in range(_N_BUCKETS)]
        summaries, cands = dask.compute(summ, cand)
    else:
        summaries, = dask.compute(summ)
        cands = []
    lens = np.array([s["n"] for s in summaries], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lens)[:-1]].astype(np.int64)
    n_in = int(lens.sum())

    # exact check of the candidate repeated ids (hash matches across partitions)
    cross = None
    cross_problems = []
    remove: dict[int, np.ndarray] = {}
    cand = np.concatenate([c for c in cands if len(c)]) if any(len(c) for c in cands) else \
        np.zeros((0, 2), dtype=np.int64)
    cross_ids = pd.Series(dtype="int64")
    if len(cand):
        cand = cand[np.lexsort([cand[:, 1], cand[:, 0]])]
        grows = offsets[cand[:, 0]] + cand[:, 1]
        got = []
        for number in np.unique(cand[:, 0]):
            rows = cand[cand[:, 0] == number, 1]
            got.append(delayed(_take_rows)(parts[number], rows, mapping))
        raw_c = pd.concat(dask.compute(*got), ignore_index=True)
        t = io.read_events(raw_c, scale=scale, errors="drop", tz=tz)
        dup = t.dropped
        cross_problems = t.problems
        if len(dup):
            loc = dup["row"].to_numpy()
            cross = dup.assign(row=grows[loc])
            for number in np.unique(cand[loc, 0]):
                remove[int(number)] = cand[loc, 1][cand[loc, 0] == number]
            # the ids of those rows no longer count as used
            ids_d = io.read_events(raw_c.iloc[loc].drop(columns="event_id"),
                                   scale=scale, errors="drop", tz=tz).data
            cross_ids = pd.concat([ids_d["provider"].astype(object),
                                   ids_d["client"].astype(object)]).value_counts()

    # ---- errors: raise what pandas would raise, or collect the dropped rows
    if errors == "raise":
        _raise_first(summaries, offsets, cross, cross_problems, tz, scale)
    drops = [s["dropped"].assign(row=s["dropped"]["row"] + off)
             for s, off in zip(summaries, offsets) if len(s["dropped"])]
    if cross is not None:
        drops.append(cross)
    ev_dropped = (pd.concat(drops, ignore_index=True).sort_values("row", kind="mergesort")
                  .reset_index(drop=True) if drops else empty_dropped())
    n_events = n_in - len(ev_dropped)
    if n_events == 0:
        why = ("the table has no rows" if n_in == 0 else
               f"all {n_in} rows were rejected (first reasons: "
               f"{sorted(set(ev_dropped['reason']))})")
        raise EmptyNetworkError(
            f"events: no usable rows: {why}. Pass a table with at least one valid "
            "provider→client event; see net.dropped or icnet.io.validate for details.")

    # ---- the small tables, as the pandas path reads them
    kw = {"columns": columns, "errors": errors}
    tables = []
    ppl = agr = rat = None
    if people is not None:
        t = io.read_people(_small(people), **kw)
        ppl, tables = t.data, tables + [t]
    if ratings is not None:
        t = io.read_ratings(_small(ratings), scale=scale, tz=tz, **kw)
        rat, tables = t.data, tables + [t]
    if agreements is not None:
        t = io.read_agreements(_small(agreements), scale=scale, tz=tz, **kw)
        agr, tables = t.data, tables + [t]
    dropped = [ev_dropped] if len(ev_dropped) else []
    dropped += [t.dropped for t in tables if len(t.dropped)]
    dropped = pd.concat(dropped, ignore_index=True) if dropped else empty_dropped()

    # ---- node ids (ids of kept events, plus people at person level)
    counts = pd.concat([s["ids"] for s in summaries]).groupby(level=0).sum()
    if len(cross_ids):
        counts = counts.sub(cross_ids.reindex(counts.index, fill_value=0))
    ids = pd.Index(counts.index[counts.to_numpy() > 0], dtype=object)
    if ppl is not None and level == "person":
        ids = ids.union(pd.Index(ppl["person"]))
    node_ids = np.sort(ids.to_numpy(dtype=object))
    services = None
    if summaries[0]["services"] is not None:
        services = np.sort(pd.unique(np.concatenate(
            [s["services"] for s in summaries]).astype(object)))

    # ---- pass 2: validated events on the cluster, shuffled by pair, reduced
    args = (mapping, scale, tz, node_ids, services, remove, agr, ppl)
    meta_ev = _events_part(ddf._meta, *args)
    shared = [delayed(a, pure=True) if isinstance(a, (np.ndarray, pd.DataFrame, dict))
              else a for a in args]     # one copy per worker, not one per task
    ev = dd.from_delayed([delayed(_events_part, pure=True)(p, *shared,
                                                           partition_info={"number": i})
                          for i, p in enumerate(parts)], meta=meta_ev, verify_meta=False)
    raw_edges, pcode, span, last = _edges_on_cluster(ev, node_ids, len(parts))
    net = DaskServiceNetwork(events=ev, people=ppl, ratings=rat, agreements=agr, scale=scale,
                             level=level, dropped=dropped, node_ids=node_ids,
                             threshold=threshold, n_events=n_events, span=span,
                             last_request=last)
    net._given_edges = complete_edges(raw_edges, net, pcode=pcode)
    warn_unknown(net, stacklevel=4)
    return net


# --------------------------------------------------------------------------- spirals

def _quality_input(ev: pd.DataFrame, n: int, t0, period: str) -> pd.DataFrame:
    """Per event, what the retaliation analysis needs (codes, times, outcomes)."""
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    c = ev["client"].cat.codes.to_numpy().astype(np.int64)
    out = pd.DataFrame({"p": p, "c": c})
    out["w"] = ev["requested_at"].dt.to_period(period).array.asi8.astype(np.int64)
    out["t"] = ((ev["requested_at"] - t0) / pd.Timedelta(days=1)).to_numpy(float)
    out["dlv"] = (ev["delivered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
                  if "delivered_at" in ev else np.zeros(len(ev), np.int64))
    out["ys"] = (ev["satisfaction"].to_numpy(float) if "satisfaction" in ev
                 else np.full(len(ev), np.nan))
    out["yd"] = (np.log1p(ev["delay_hours"].to_numpy(float)) if "delay_hours" in ev
                 else np.full(len(ev), np.nan))
    # the delay's provider effect is per (provider, service) cell (spirals'
    # _provider_service; the services' categories are the same in every partition)
    if "service" in ev:
        sv = ev["service"]
        ns = len(sv.cat.categories) + 2
        out["ps"] = p * ns + (sv.cat.codes.to_numpy().astype(np.int64) + 1)
    else:
        out["ps"] = p
    return out


def _ps_size(ev, n: int) -> int:
    """Number of (provider, service) cell codes of :func:`_quality_input`."""
    return n * (len(ev["service"].cat.categories) + 2) if "service" in ev.columns else n


def _q_first(df):
    """Backfitting, pass 0: sums and counts of the outcomes, range of periods and times."""
    out = {}
    for y in ("ys", "yd"):
        v = df[y].to_numpy()
        ok = np.isfinite(v)
        out[y] = (float(v[ok].sum()), int(ok.sum()))
    w = df["w"].to_numpy()
    out["w"] = (int(w.min()), int(w.max())) if len(w) else None
    out["t"] = float(df["t"].max()) if len(df) else -np.inf
    return out


_GROUPS = ("p", "c", "w")
# the groups of each outcome's additive model: the delay's provider effect per service
_YGROUPS = {"ys": _GROUPS, "yd": ("ps", "c", "w")}


def _q_step(df, state, k):
    """One backfitting update of group ``k`` (one partition's share): per-group sums of
    the partial residual y − μ − Σ_{l≠k} effect_l, and counts."""
    out = {}
    for y in ("ys", "yd"):
        mu, eff = state[y]
        v = df[y].to_numpy()
        ok = np.isfinite(v)
        r = v[ok] - mu
        for j, col in enumerate(_YGROUPS[y]):
            if j != k:
                r = r - eff[j][_gcodes(df, col, state)[ok]]
        g = _gcodes(df, _YGROUPS[y][k], state)[ok]
        size = len(eff[k])
        out[y] = (np.bincount(g, weights=r, minlength=size), np.bincount(g, minlength=size))
    return out


def _gcodes(df, col, state):
    v = df[col].to_numpy()
    return v - state["w0"] if col == "w" else v


def _q_update(state, k, *pieces):
    """Combine the partitions' sums into the new effects of group ``k``."""
    new = {"w0": state["w0"]}
    for y in ("ys", "yd"):
        mu, eff = state[y]
        s = sum(pc[y][0] for pc in pieces)
        cnt = sum(pc[y][1] for pc in pieces)
        eff = list(eff)
        eff[k] = np.where(cnt > 0, s / np.maximum(cnt, 1), 0.0)
        new[y] = (mu, eff)
    return new


def _q_resid(df, state):
    """Residuals y − μ − Σ effects (NaN where y is missing)."""
    out = {}
    for y in ("ys", "yd"):
        mu, eff = state[y]
        v = df[y].to_numpy()
        r = v - mu
        for j, col in enumerate(_YGROUPS[y]):
            r = r - eff[j][_gcodes(df, col, state)]
        out[y] = np.where(np.isfinite(v), r, np.nan)
    return out


def _q_moment(df, state, means):
    """Sums of the residuals (``means`` None) or of their squared deviations."""
    r = _q_resid(df, state)
    out = {}
    for y in ("ys", "yd"):
        v = r[y][np.isfinite(r[y])]
        out[y] = (float(v.sum() if means is None else ((v - means[y]) ** 2).sum()), len(v))
    return out


def _q_mean(*pieces):
    out = {}
    for y in ("ys", "yd"):
        s = sum(pc[y][0] for pc in pieces)
        cnt = sum(pc[y][1] for pc in pieces)
        out[y] = s / cnt if cnt else np.nan
    return out


def _q_z(df, state, sd, bad_z):
    """z per event (as :func:`icnet.analysis.spirals.event_quality`), severity, pair key."""
    r = _q_resid(df, state)
    zs = r["ys"] / sd["ys"] if sd["ys"] > 0 else r["ys"]
    zd = -(r["yd"] / sd["yd"] if sd["yd"] > 0 else r["yd"])
    with np.errstate(invalid="ignore"):
        both = np.vstack([zs, zd])
        cnt = np.isfinite(both).sum(axis=0)
        z = np.where(cnt > 0, np.nansum(both, axis=0) / np.maximum(cnt, 1), np.nan)
    out = df[["p", "c", "t", "dlv", "ys", "yd"]].copy()
    out["z"] = z
    return out


def _nan_last(v):
    return np.where(np.isnan(v), np.inf, v)


def _side_part(df, loo, period_days, who, other, name, gate=0.0, unit=None, prior=3.0):
    """Whole units of ``who`` (providers or clients; whole ``who``s without units): each
    event's time-local leave-the-pair-out mean shrunk towards its unit's (spirals'
    change test, :func:`icnet.analysis._change.local_side`)."""
    out = df.copy()
    if not len(df):
        out[name] = np.zeros(0)
        return out.drop(columns="_su", errors="ignore")
    wv, ov = df[who].to_numpy(), df[other].to_numpy()
    kw = {} if unit is None else dict(who_unit=unit[wv], other_unit=unit[ov])
    kw["prior"] = prior
    out[name] = loo(wv, ov, df["t"].to_numpy(), df["z"].to_numpy(), period_days=period_days,
                    gate=gate, **kw)
    return out.drop(columns="_su", errors="ignore")


def _side_key(df, who, unit):
    """The shuffle key of one side of the control: ``who``'s unit (``who`` without units)."""
    out = df.copy()
    v = df[who].to_numpy()
    out["_su"] = v if unit is None else np.where(unit[v] >= 0, unit[v], -1 - v)
    return out


def _provider_part(df, lam, bad_z, decayed):
    """Whole providers: each event's provider's decayed bad service before it."""
    p, t = df["p"].to_numpy(), df["t"].to_numpy()
    order = np.lexsort([_nan_last(df["ys"].to_numpy()), _nan_last(df["yd"].to_numpy()),
                        df["dlv"].to_numpy(), df["c"].to_numpy(), t, p])
    df = df.take(order).reset_index(drop=True)
    z = df["z"].to_numpy()
    bad = np.isfinite(z) & (z < -bad_z)
    sev = np.where(bad, -z - bad_z, 0.0)
    out = df.copy()
    out["prov_bad"] = decayed(df["t"].to_numpy(), sev, df["p"].to_numpy(), lam) \
        if len(df) else np.zeros(0)
    return out


def _pair_key(df, n):
    p, c = df["p"].to_numpy(), df["c"].to_numpy()
    out = df.copy()
    out["pair"] = np.minimum(p, c) * n + np.maximum(p, c)
    return out


def _pair_arrays(df, bad_z):
    p, c = df["p"].to_numpy(), df["c"].to_numpy()
    d = (p > c).astype(np.int64)
    # the pandas path's order: pair, time, then its canonical order (direction first)
    order = np.lexsort([_nan_last(df["ys"].to_numpy()), _nan_last(df["yd"].to_numpy()),
                        df["dlv"].to_numpy(), d, df["t"].to_numpy(), df["pair"].to_numpy()])
    z = df["z"].to_numpy()[order]
    has = np.isfinite(z)
    zc = (z - df["prov_loo"].to_numpy()[order] - df["cli_loo"].to_numpy()[order]
          if "cli_loo" in df else None)
    return dict(pair=df["pair"].to_numpy()[order], d=d[order], t=df["t"].to_numpy()[order],
                z=z, has=has, bad=has & (z < -bad_z), prov_bad=df["prov_bad"].to_numpy()[order],
                zc=zc)


def _pair_work(df, bad_z, min_events, min_bad, pair_counts):
    a = _pair_arrays(df, bad_z)
    if not len(a["pair"]):
        return 0
    counts, enough = pair_counts(a["pair"], a["d"], a["has"], a["bad"], min_events, min_bad)
    return int(np.isin(a["pair"], counts.index.to_numpy()[enough]).sum())


def _pair_part(df, bad_z, min_events, min_bad, n_perm, base, fns, kw):
    """Whole pairs: their counts and tests, by the pandas path's functions; the shifts
    of each pair come from a generator seeded by (seed, pair code)."""
    pair_counts, pair_tests, pair_table, *more = fns
    a = _pair_arrays(df, bad_z)
    if not len(a["pair"]):
        return None
    counts, enough = pair_counts(a["pair"], a["d"], a["has"], a["bad"], min_events, min_bad)
    if counts.empty:
        return None
    tested = counts.index.to_numpy()[enough]
    G = len(tested)
    U = {1: np.empty((n_perm, G)), 0: np.empty((n_perm, G))}
    for j, code in enumerate(tested):
        u = np.random.default_rng([base, int(code)]).random((2, n_perm))
        U[1][:, j], U[0][:, j] = u[0], u[1]
    if a["zc"] is not None:
        kw = dict(kw, zc=a["zc"])
    tests = pair_tests(a["pair"], a["d"], a["t"], a["z"], a["bad"], a["prov_bad"], tested,
                       draw=lambda resp, b0, nb: U[resp][b0:b0 + nb], n_perm=n_perm, **kw)
    table = pair_table(counts, enough, tests)
    if more:                                  # the specificity check (its summary, n)
        spec, summary, n = more[0]
        table = spec(a["pair"], a["d"], a["t"], a["z"], table, summary, n)
    return table


def _day_part(df):
    """Per event with a finite ``z``: provider, day (``floor(t)``), 1 and ``z``."""
    z = df["z"].to_numpy(float)
    ok = np.isfinite(z)
    return pd.DataFrame({"p": df["p"].to_numpy()[ok].astype(np.int64),
                         "day": np.floor(df["t"].to_numpy(float)[ok]).astype(np.int64),
                         "n": np.ones(int(ok.sum())), "s": z[ok]})


def _provider_days(zf):
    """The specificity check's provider × day summary of the quality residuals (as
    :func:`icnet.analysis.spirals._provider_days`): one groupby on the cluster, its small
    result (one row per provider and day with service) computed to the driver."""
    dask, _ = _dask()
    g = zf.map_partitions(_day_part, meta=_day_part(zf._meta)).groupby(["p", "day"]) \
        .agg({"n": "sum", "s": "sum"})
    out, = dask.compute(g)
    out = out.reset_index().sort_values(["p", "day"], kind="mergesort") \
        .reset_index(drop=True)
    return pd.DataFrame({"p": out["p"].to_numpy(np.int64),
                         "day": out["day"].to_numpy(np.int64),
                         "n": out["n"].to_numpy(float), "s": out["s"].to_numpy(float)})


def _quality_fit(net, period, n_iter, check=None):
    """``event_quality``'s additive provider/client/period model fitted on the cluster
    (the delay's provider effect per (provider, service) cell: ``_YGROUPS``).

    The backfitting of :func:`icnet.analysis.spirals.event_quality`, each update one
    reduction of per-group sums over the partitions (the effect arrays are small and
    travel with the tasks), and the residual SDs by two more reductions; one compute.
    ``check(t_max)`` (optional) sees the span in days before the fit. Returns
    ``(base_in, state, sd, t0)``: the persisted per-event inputs
    (:func:`_quality_input`), the fitted effects and the SDs, for :func:`_q_z`.
    """
    dask, _ = _dask()
    delayed = dask.delayed
    n = len(net.node_ids)
    t0 = net.span[0]
    ev = net.events
    base_in = ev.map_partitions(_quality_input, n, t0, period,
                                meta=_quality_input(ev._meta, n, t0, period))
    base_in = base_in.persist()
    parts = base_in.to_delayed()
    first = dask.compute(*[delayed(_q_first)(pt) for pt in parts])
    if check is not None:
        check(max(f["t"] for f in first))
    ws = [f["w"] for f in first if f["w"] is not None]
    w0, w1 = min(w[0] for w in ws), max(w[1] for w in ws)
    sizes = {"ys": (n, n, w1 - w0 + 1), "yd": (_ps_size(ev._meta, n), n, w1 - w0 + 1)}
    state = {"w0": w0}
    for y in ("ys", "yd"):
        s = sum(f[y][0] for f in first)
        cnt = sum(f[y][1] for f in first)
        state[y] = (s / cnt if cnt else 0.0, [np.zeros(m) for m in sizes[y]])
    st = delayed(state)
    for _ in range(n_iter):
        for k in range(len(_GROUPS)):
            st = delayed(_q_update)(st, k, *[delayed(_q_step)(pt, st, k) for pt in parts])
    means = delayed(_q_mean)(*[delayed(_q_moment)(pt, st, None) for pt in parts])
    sums = [delayed(_q_moment)(pt, st, means) for pt in parts]
    state, sq = dask.compute(st, sums)
    sd = {}
    for y in ("ys", "yd"):
        cnt = sum(s[y][1] for s in sq)
        sd[y] = np.sqrt(sum(s[y][0] for s in sq) / cnt) if cnt else np.nan
    return base_in, state, sd, t0


def spiral_table(net, *, period, n_iter, bad_z, lam, n_perm, base, min_events, min_bad,
                 max_work, kw, fns):
    """The per-pair table of :func:`icnet.retaliation_spirals` computed on the cluster.

    ``fns`` are spirals.py's own functions (``_exclusive_decayed``, ``_pair_counts``,
    ``_pair_tests``, ``_pair_table``, ``_check_span``, ``_check_work``), passed in so
    that this lower layer does not import the analysis layer.

    1. Quality residuals: the additive provider/client/period model of
       ``event_quality`` fitted by the same backfitting, each update one reduction of
       per-group sums over the partitions (the effect arrays are small and travel with
       the tasks); the residual SDs by two more reductions. One graph, one compute.
    2. Shuffle by provider; per partition, time-sorted, each provider's decayed bad
       service to everybody (the "others" control).
    3. Shuffle by unordered pair; per partition, the pandas path's pair-level code.
    Returns (table sorted by pair code, t0); only per-pair rows reach the driver.
    """
    dask, dd = _dask()
    decayed, pair_counts, pair_tests, pair_table, check_span, check_work, *more = fns
    loo = more[0] if more else None           # spirals' person × period control
    spec = more[1] if len(more) > 1 else None  # spirals' specificity check
    delayed = dask.delayed
    n = len(net.node_ids)
    ev = net.events
    base_in, state, sd, t0 = _quality_fit(
        net, period, n_iter, lambda tmax: check_span(tmax, lam, kw["half_life_days"]))
    meta_z = _q_z(base_in._meta, state, {"ys": 1.0, "yd": 1.0}, bad_z)
    zf = base_in.map_partitions(_q_z, state, sd, bad_z, meta=meta_z)
    nparts = max(1, ev.npartitions)
    meta_p = _provider_part(meta_z, lam, bad_z, decayed)
    prov = zf.shuffle(on="p", npartitions=nparts).map_partitions(
        _provider_part, lam, bad_z, decayed, meta=meta_p)
    if loo is not None:
        cp = kw.get("control_period_days", 28.0)
        gate = kw.get("control_gate", 0.0)
        unit = kw.get("control_unit")
        prior = kw.get("control_prior", 3.0)
        args = [(loo, cp, "p", "c", "prov_loo", gate, unit, prior),
                (loo, cp, "c", "p", "cli_loo", gate, unit, prior)]
        for side, (who, a) in enumerate(zip(("p", "c"), args)):
            if side or unit is not None:      # prov is whole providers already
                prov = prov.map_partitions(_side_key, who, unit,
                                           meta=_side_key(meta_p, who, unit)) \
                    .shuffle(on="_su", npartitions=nparts)
                part_meta = _side_key(meta_p, who, unit)
            else:
                part_meta = meta_p
            meta_p = _side_part(part_meta, *a)
            prov = prov.map_partitions(_side_part, *a, meta=meta_p)
    pairs = prov.map_partitions(_pair_key, n, meta=_pair_key(meta_p, n)) \
        .shuffle(on="pair", npartitions=nparts).persist()
    del base_in
    pparts = pairs.to_delayed()
    work = dask.compute(*[delayed(_pair_work)(pt, bad_z, min_events, min_bad, pair_counts)
                          for pt in pparts])
    check_work(float(sum(work)) * (n_perm + 1), max_work)
    skip = ("half_life_days", "control_period_days", "control_gate", "control_unit",
            "control_prior")
    test_kw = {k: v for k, v in kw.items() if k not in skip}
    test_kw["lam"] = lam
    fn3 = (pair_counts, pair_tests, pair_table)
    if spec is not None:
        # the specificity check's provider × day summary (small: one row per provider and
        # day), one groupby on the cluster, passed to every partition of pairs
        summary = delayed(_provider_days(zf), pure=True)
        fn3 = fn3 + ((spec, summary, n),)
    got = dask.compute(*[delayed(_pair_part)(pt, bad_z, min_events, min_bad, n_perm, base,
                                             fn3, test_kw) for pt in pparts])
    got = [g for g in got if g is not None and len(g)]
    if not got:
        return None, t0
    table = pd.concat(got, ignore_index=True).sort_values("pair", kind="mergesort") \
        .reset_index(drop=True)
    return table, t0


def pair_events(net, a, b, *, period, n_iter=20):
    """The events between ``a`` and ``b`` (both directions), canonically sorted, with
    the quality residual ``z`` of :func:`icnet.analysis.spirals.event_quality`.

    The model is fitted over all events on the cluster (:func:`_quality_fit`); only
    the pair's events (filtered per partition) and the small effect arrays reach the
    driver, where ``z`` is computed by :func:`_q_z`. For
    :func:`icnet.spiral_timeline`; ``z`` equals the in-memory one to rounding.
    """
    n = len(net.node_ids)
    ia, ib = (int(net.node_ids.get_loc(x)) for x in (a, b))
    keys = np.unique(np.array([ia * n + ib, ib * n + ia], dtype=np.int64))
    base_in, state, sd, t0 = _quality_fit(net, period, n_iter)
    del base_in
    sub, = _gather(net.events.map_partitions(_pairs_part, keys, n, meta=net.events._meta))
    sub = canonical_events(sub, net.node_ids.to_numpy())
    z = _q_z(_quality_input(sub, n, t0, period), state, sd, 0.0)["z"].to_numpy()
    return sub.assign(z=z)


register_engine("dask", from_events)    # icnet.from_events(..., engine="dask") finds it here
