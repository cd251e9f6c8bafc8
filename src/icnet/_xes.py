"""Reading event logs: XES files and ticketing-tool change exports.

Two readers turn what companies actually have into the *process log* that
:func:`icnet.from_process_log` and :mod:`icnet.analysis.handovers` read (one
row per step of a case, with a time, a team and/or a person):

* :func:`read_xes` streams an XES file (IEEE 1849-2016; ``.xes`` or
  ``.xes.gz``) with the standard library's ``xml.etree.ElementTree.iterparse``:
  no heavy dependency, memory bounded by one trace at a time plus the output
  table. pm4py (AGPL, many dependencies) reads the same files; the benchmark
  ``benchmarks/bench_tickets.py`` compares both when pm4py is installed.
* :func:`read_tickets` reads the change history exported from a ticketing tool
  (ServiceNow ``sys_audit``/metric tables, the Jira changelog, a helpdesk's
  "history" sheet): either one row per change of one field (``field``/
  ``old``/``new``) or one row per change with the status and assignment group
  already filled in.

References
----------
IEEE Std 1849-2016, *IEEE Standard for eXtensible Event Stream (XES) for
Achieving Interoperability in Event Logs and Event Streams*.
"""

from __future__ import annotations

import gzip
import os
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError, SchemaError

__all__ = ["read_xes", "read_tickets"]

_TYPES = {"string", "date", "int", "float", "boolean", "id"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_xes(path: str | os.PathLike, *, case: str = "case",
             trace_prefix: str = "case:", tz: str = "UTC") -> pd.DataFrame:
    """Read an XES event log (``.xes`` or ``.xes.gz``) into a table, one row per event.

    The file is streamed (``iterparse``; each trace is freed once read), so
    memory holds one trace and the output table.

    Parameters
    ----------
    path : str or path-like
        An ``.xes`` file, gzip-compressed when it ends in ``.gz``.
    case : str, default "case"
        Name of the output column holding the trace's ``concept:name``.
    trace_prefix : str, default "case:"
        Prefix of the other trace-level attributes (pm4py's convention), so a
        trace's ``concept:name`` and an event's never collide.
    tz : str, default "UTC"
        Time zone of the output timestamps (XES dates carry their UTC offset).

    Returns
    -------
    DataFrame
        ``case``, then every event attribute under its XES key
        (``concept:name``, ``org:group``, ``org:resource``,
        ``lifecycle:transition``, ``time:timestamp`` …), then the trace
        attributes prefixed with ``trace_prefix``. ``date`` attributes are
        tz-aware datetimes, ``int``/``float`` numbers, ``boolean`` booleans,
        ``string``/``id`` text. Attributes an event does not have are missing
        (``NaN``/``NaT``); nested (meta-)attributes are not read. Rows keep the
        file's order. ``df.attrs["source"]`` records the file.

    Raises
    ------
    SchemaError
        The file is not XML, or holds no ``<trace>``/``<event>``.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> xes = ('<log xmlns="http://www.xes-standard.org/"><trace>'
    ...        '<string key="concept:name" value="T1"/>'
    ...        '<event><string key="org:group" value="G1"/>'
    ...        '<date key="time:timestamp" value="2012-05-01T09:00:00+02:00"/></event>'
    ...        '<event><string key="org:group" value="G2"/>'
    ...        '<date key="time:timestamp" value="2012-05-01T10:30:00+02:00"/></event>'
    ...        '</trace></log>')
    >>> p = os.path.join(tempfile.mkdtemp(), "t.xes.gz")
    >>> with gzip.open(p, "wt") as fh:
    ...     _ = fh.write(xes)
    >>> read_xes(p)
      case org:group            time:timestamp
    0   T1        G1 2012-05-01 07:00:00+00:00
    1   T1        G2 2012-05-01 08:30:00+00:00
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ParameterError(f"No XES file at {path!r}.")
    opener = gzip.open if path.endswith(".gz") else open
    cols: dict[str, list] = {}
    kinds: dict[str, str] = {}
    n = 0                          # events read so far
    trace_start = 0
    trace_cols: dict[str, list] = {}
    stack: list[str] = []
    try:
        with opener(path, "rb") as fh:
            for ev, elem in ET.iterparse(fh, events=("start", "end")):
                tag = _local(elem.tag)
                if ev == "start":
                    stack.append(tag)
                    continue
                stack.pop()
                if tag == "event" and stack and stack[-1] == "trace":
                    for child in elem:
                        k = child.get("key")
                        t = _local(child.tag)
                        if k is None or t not in _TYPES:
                            continue
                        col = cols.get(k)
                        if col is None:
                            col = cols[k] = [None] * n
                            kinds[k] = t
                        col.append(child.get("value"))
                    n += 1
                    for col in cols.values():       # events lacking an attribute
                        if len(col) < n:
                            col.append(None)
                    elem.clear()
                elif tag == "trace":
                    attrs = {}
                    for child in elem:
                        t = _local(child.tag)
                        k = child.get("key")
                        if t in _TYPES and k is not None:
                            attrs[k] = (t, child.get("value"))
                    for k, (t, v) in attrs.items():
                        name = case if k == "concept:name" else trace_prefix + k
                        col = trace_cols.get(name)
                        if col is None:
                            col = trace_cols[name] = [None] * trace_start
                            kinds[name] = "string" if name == case else t
                        col.extend([v] * (n - trace_start))
                    trace_start = n
                    for col in trace_cols.values():
                        if len(col) < n:
                            col.extend([None] * (n - len(col)))
                    elem.clear()
    except (ET.ParseError, OSError, EOFError) as err:
        raise SchemaError(f"{path!r} is not a readable XES file: {err}. Check it is XML "
                          "(gzip-compressed only when the name ends in .gz).") from err
    if n == 0:
        raise SchemaError(f"{path!r} holds no <trace>/<event> elements; is it an XES log?")
    data = {case: trace_cols.pop(case, [None] * n)}
    data.update(cols)
    data.update(trace_cols)
    out = pd.DataFrame({k: _typed(v, kinds.get(k, "string"), tz) for k, v in data.items()})
    out.attrs["source"] = {"file": os.path.basename(path), "format": "XES",
                           "events": n, "cases": int(out[case].nunique())}
    return out


def _typed(values: list, kind: str, tz: str) -> pd.Series:
    s = pd.Series(values, dtype=object)
    if kind == "date":
        return pd.to_datetime(s, utc=True, format="ISO8601", errors="coerce").dt.tz_convert(tz)
    if kind in ("int", "float"):
        return pd.to_numeric(s, errors="coerce")
    if kind == "boolean":
        return s.map({"true": True, "false": False, "1": True, "0": False})
    return s


def _has_offset(s: pd.Series) -> bool:
    """Whether text timestamps carry a UTC offset or 'Z' (then they are parsed as UTC)."""
    v = s.dropna()
    if not len(v) or not isinstance(v.iloc[0], str):
        return False
    return bool(v.astype(str).str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).any())


def read_tickets(data: Any, *, case: str, timestamp: str, status: str | None = None,
                 group: str | None = None, resource: str | None = None,
                 field: str | None = None, new: str | None = None,
                 status_field: str = "state", group_field: str = "assignment_group",
                 resource_field: str = "assigned_to", tz: str = "UTC") -> pd.DataFrame:
    """Read a ticketing tool's change history into a process log (one row per change).

    Two export shapes are understood:

    * **wide** (``status=``/``group=`` given): each row is a change and already
      carries the ticket's status and assignment group after the change
      (e.g. a ServiceNow ``incident_metric`` or helpdesk history sheet);
    * **audit** (``field=``/``new=`` given): each row changes one field
      (ServiceNow ``sys_audit``: ``fieldname``/``newvalue``; Jira changelog:
      ``field``/``toString``). Rows whose field is ``status_field``,
      ``group_field`` or ``resource_field`` are kept; each field's value is
      carried forward within the ticket so every row shows the full state.

    Parameters
    ----------
    data : DataFrame, mapping of columns, or path to a CSV file
    case, timestamp : str
        Column names of the ticket id and the time of the change.
    status, group, resource : str, optional
        Wide shape: the columns holding status, assignment group and assignee.
    field, new : str, optional
        Audit shape: the columns holding the changed field's name and its new value.
    status_field, group_field, resource_field : str
        Audit shape: the field names that mean status, group and assignee.
    tz : str, default "UTC"
        Zone of naive timestamps (aware ones are converted).

    Returns
    -------
    DataFrame
        ``case``, ``timestamp`` (tz-aware), ``status``, ``group``, ``resource``
        (missing where the export does not say, never invented), ``changed``
        (which of status/group/resource changed on this row), sorted by case
        and time (ties keep the file order).

    Raises
    ------
    SchemaError
        A named column is missing, or timestamps do not parse (the message
        gives the first offending rows).
    ParameterError
        Neither shape is described.

    Examples
    --------
    >>> audit = {"number": ["INC1"] * 4,
    ...          "sys_created_on": ["2024-03-01 09:00", "2024-03-01 09:00",
    ...                             "2024-03-01 11:00", "2024-03-04 10:00"],
    ...          "fieldname": ["state", "assignment_group", "assignment_group", "state"],
    ...          "newvalue": ["New", "Service Desk", "Network", "Resolved"]}
    >>> read_tickets(audit, case="number", timestamp="sys_created_on",
    ...              field="fieldname", new="newvalue")[["case", "status", "group", "changed"]]
       case    status         group changed
    0  INC1       New           NaN  status
    1  INC1       New  Service Desk   group
    2  INC1       New       Network   group
    3  INC1  Resolved       Network  status
    """
    from .io import read_table

    raw = read_table(data, "events")  # the io reader (CSV, Parquet, frames)
    audit = field is not None or new is not None
    if audit and (field is None or new is None):
        raise ParameterError("The audit shape needs both field= and new= column names.")
    if not audit and status is None and group is None:
        raise ParameterError(
            "Describe the export: status=/group= (one row per change with the state filled "
            "in) or field=/new= (one row per changed field, e.g. ServiceNow sys_audit).")
    need = [case, timestamp] + ([field, new] if audit else
                                [c for c in (status, group, resource) if c is not None])
    missing = [c for c in need if c not in raw]
    if missing:
        raise SchemaError(f"tickets table is missing column(s) {missing}; it has "
                          f"{list(raw.columns)[:20]}. Name the right columns in read_tickets().")
    ts = raw[timestamp]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        try:                                   # the fast path: one ISO 8601 layout
            ts = pd.to_datetime(ts, format="ISO8601", utc=_has_offset(ts))
        except (ValueError, TypeError):
            ts = pd.to_datetime(ts, errors="coerce", format="mixed", utc=_has_offset(ts))
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize(tz)
    else:
        ts = ts.dt.tz_convert(tz)
    bad = ts.isna() & raw[timestamp].notna()
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:5].tolist()
        raise SchemaError(
            f"tickets column {timestamp!r} has {int(bad.sum())} values that are not times "
            f"(rows {rows}: {raw[timestamp].iloc[rows].tolist()}). Use ISO 8601 times.")
    out = pd.DataFrame({"case": raw[case].astype(object), "timestamp": ts,
                        "_row": np.arange(len(raw))})
    names = (("status", status, status_field), ("group", group, group_field),
             ("resource", resource, resource_field))
    if audit:
        fld = raw[field].astype(str).str.strip()
        keep = fld.isin([f for _, _, f in names]).to_numpy()
        out = out[keep].copy()
        fld = fld[keep]
        vals = raw[new][keep]
        changed = pd.Series(pd.NA, index=out.index, dtype=object)
        for col, _, fname in names:
            m = (fld == fname).to_numpy()
            out[col] = vals.where(m)
            changed[m] = col
        out["changed"] = changed
    else:
        for col, src, _ in names:
            out[col] = raw[src].astype(object) if src is not None else np.nan
    out = out.sort_values(["case", "timestamp", "_row"], kind="mergesort")
    g = out.groupby("case", sort=False)
    for col, _, _ in names:
        out[col] = g[col].ffill()
    if not audit:
        prev = g[["status", "group", "resource"]].shift(1)
        diff = [(out[c].ne(prev[c]) & out[c].notna()) for c in ("status", "group", "resource")]
        first = g.cumcount().to_numpy() == 0
        lab = np.select([first, diff[0].to_numpy(), diff[1].to_numpy(), diff[2].to_numpy()],
                        ["opened", "status", "group", "resource"], "none")
        out["changed"] = lab
    out = out.drop(columns="_row").reset_index(drop=True)
    out.attrs["source"] = {"format": "tickets-audit" if audit else "tickets-wide",
                           "rows": len(raw), "kept": len(out)}
    return out
