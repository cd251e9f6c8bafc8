"""Reading and validating the input tables.

This is the only module that knows user column names. It turns events,
people, ratings and agreements given as pandas DataFrames, dicts of columns,
or CSV/Parquet paths into canonical frames, and either raises a
:class:`~icnet.errors.SchemaError` naming the table, column, offending rows and
fix (``errors="raise"``) or moves every offending row into a *dropped* table
with its reason (``errors="drop"``). Rows in = rows kept + rows dropped.

Timestamps follow one explicit rule: naive timestamps are read in the time
zone ``tz`` (default ``"UTC"``), aware ones are converted; everything is
stored as naive UTC (``datetime64[ns]``).

Examples
--------
>>> import pandas as pd
>>> from icnet import io
>>> raw = pd.DataFrame({"from": ["a", "b", "a"], "to": ["b", "a", "a"],
...                     "score": [4, 2, 5]})
>>> t = io.read_events(raw, columns={"from": "provider", "to": "client",
...                                  "score": "satisfaction"}, errors="drop")
>>> t.data[["provider", "client", "satisfaction"]].to_dict("list")
{'provider': ['a', 'b'], 'client': ['b', 'a'], 'satisfaction': [4.0, 2.0]}
>>> t.dropped[["table", "row", "reason"]].to_dict("records")
[{'table': 'events', 'row': 2, 'reason': 'self_service'}]
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from . import _validate
from .errors import EmptyNetworkError, ParameterError, SchemaError

__all__ = [
    "SCHEMAS",
    "Table",
    "read_table",
    "read_events",
    "read_people",
    "read_ratings",
    "read_agreements",
    "validate",
]

#: Canonical columns of every table: ``{table: {"required": [...], "optional": [...]}}``.
SCHEMAS: dict[str, dict[str, list[str]]] = {
    "events": {
        "required": ["provider", "client"],
        "optional": ["event_id", "requested_at", "delivered_at", "delay_hours",
                     "satisfaction", "service", "expected_hours", "reopened"],
    },
    "people": {
        "required": ["person", "unit"],
        "optional": ["manager", "role", "external_facing"],
    },
    "ratings": {
        "required": ["rater", "provider", "perception"],
        "optional": ["answered_at", "period", "dimension", "expectation", "recommend"],
    },
    "agreements": {
        "required": ["provider", "client"],
        "optional": ["service", "max_delay_hours", "min_satisfaction", "review_every",
                     "last_review"],
    },
}

_CANONICAL = {c for s in SCHEMAS.values() for c in s["required"] + s["optional"]}
_N_SHOW = 5  # offending rows shown in a message
_DROP_HINT = 'errors="drop" keeps them in net.dropped.'
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "si", "sí", "x"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", ""}
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


@dataclass
class Table:
    """A validated table: the kept rows and the rows dropped with their reason.

    Attributes
    ----------
    name : str
        ``"events"``, ``"people"``, ``"ratings"`` or ``"agreements"``.
    data : pandas.DataFrame
        Kept rows in canonical columns (extra user columns are kept too).
    dropped : pandas.DataFrame
        Columns ``table``, ``row`` (0-based position in the input), ``reason``
        (a short code), ``detail`` (plain words), then the row's input values.
    n_in : int
        Number of input rows; ``n_in == len(data) + len(dropped)``.
    """

    name: str
    data: pd.DataFrame
    dropped: pd.DataFrame
    n_in: int
    problems: list[tuple[str, str, int, str]] = field(default_factory=list)
    """Every problem found, in check order: ``(reason, column, n_rows, message)``."""


# --------------------------------------------------------------------------- loading

def read_table(data: Any, table: str, *, columns: Mapping[str, str] | None = None
               ) -> pd.DataFrame:
    """Load one raw table and map user column names onto icnet's.

    Parameters
    ----------
    data : DataFrame, dict of columns, str or path
        A CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet (``.parquet``,
        ``.pq``) file, or an in-memory table.
    table : {"events", "people", "ratings", "agreements"}
        Which table this is (used in messages).
    columns : dict, optional
        ``{"their_name": "icnet_name"}``; names not present are ignored, so
        one mapping can serve every table.

    Returns
    -------
    pandas.DataFrame
        A new frame with a fresh ``RangeIndex``; the input is never modified.

    Raises
    ------
    SchemaError
        Unreadable file, duplicated column names, or a mapping that makes two
        columns share a name.

    Examples
    --------
    >>> read_table({"de": ["a"], "para": ["b"]}, "events",
    ...            columns={"de": "provider", "para": "client"}).columns.tolist()
    ['provider', 'client']
    """
    _validate.one_of("table", table, SCHEMAS)
    mapping = _check_mapping(columns)
    if isinstance(data, (str, os.PathLike)):
        df = _read_file(os.fspath(data), table)
    elif isinstance(data, pd.DataFrame):
        df = data.copy(deep=False)
    elif isinstance(data, Mapping):
        try:
            df = pd.DataFrame(dict(data))
        except (ValueError, TypeError) as err:
            raise SchemaError(
                f"{table}: could not build a table from the dict given ({err}). Pass "
                "equal-length columns, e.g. {'provider': [...], 'client': [...]}.") from None
    else:
        raise ParameterError(
            f"The '{table}' argument must be a pandas DataFrame, a dict of columns or a "
            f"path to a CSV/Parquet file; got {type(data).__name__}.")
    cols = [str(c) for c in df.columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise SchemaError(
            f"{table} has duplicated column names {dup}. Rename or remove the copies "
            "so each column appears once.")
    df.columns = cols
    renamed = [mapping.get(c, c) for c in cols]
    dup = sorted({c for c in renamed if renamed.count(c) > 1})
    if dup:
        clash = {c: [o for o in cols if mapping.get(o, o) == c] for c in dup}
        raise SchemaError(
            f"{table}: after applying columns=..., several columns are called "
            f"{dup} (from {clash}). Map only one input column onto each icnet column.")
    df.columns = renamed
    return df.reset_index(drop=True)


def _check_mapping(columns):
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise ParameterError(
            "The 'columns' parameter must be a dict {'their_name': 'icnet_name'}; got "
            f"{type(columns).__name__}.")
    bad = sorted(str(v) for v in columns.values() if v not in _CANONICAL)
    if bad:
        raise ParameterError(
            f"The 'columns' mapping targets unknown icnet columns {bad}. Targets must be "
            f"among {sorted(_CANONICAL)}.")
    return {str(k): v for k, v in columns.items()}


def _read_file(path: str, table: str) -> pd.DataFrame:
    low = path.lower()
    if not os.path.exists(path):
        raise SchemaError(f"{table}: file {path!r} does not exist. Check the path.")
    try:
        if low.endswith((".parquet", ".pq")) or os.path.isdir(path):
            return pd.read_parquet(path)
        sep = "\t" if low.endswith((".tsv", ".tsv.gz", ".tab")) else ","
        # ids and free text stay text; numbers and timestamps are parsed later
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                           na_values=[""], encoding="utf-8-sig")
    except ImportError as err:
        raise SchemaError(
            f"{table}: reading {path!r} needs an optional package ({err}). Install it "
            "with: python -m pip install pyarrow") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError, ValueError) as err:
        raise SchemaError(
            f"{table}: could not read {path!r} ({type(err).__name__}: {err}). Give a "
            "UTF-8 CSV with a header row, or a Parquet file.") from None


# --------------------------------------------------------------------------- problems

class _Problems:
    """Collects row-level problems; each row keeps its first problem."""

    def __init__(self, table: str, raw: pd.DataFrame, errors: str):
        self.table, self.raw, self.errors = table, raw, errors
        self.reason = np.full(len(raw), None, dtype=object)
        self.detail = np.full(len(raw), None, dtype=object)
        self.found: list[tuple[str, str, int, str]] = []  # (reason, column, n, message)

    def add(self, mask, reason: str, column: str, what: str, fix: str, values=None):
        mask = np.asarray(mask, dtype=bool)
        new = mask & pd.isna(self.reason)
        n = int(mask.sum())
        if n == 0:
            return
        rows = np.flatnonzero(mask)[:_N_SHOW]
        vals = self.raw[column].to_numpy()[rows] if values is None and column in \
            self.raw else (None if values is None else np.asarray(values)[rows])
        shown = ", ".join(str(r) for r in rows)
        if vals is not None:
            shown += ": " + ", ".join(repr(_plain(v)) for v in vals)
        more = "" if n <= _N_SHOW else ", …"
        msg = (f"{self.table} column '{column}' has {n} {what} "
               f"(rows {shown}{more}). {fix}")
        self.found.append((reason, column, n, msg))
        if self.errors == "raise":
            raise SchemaError(f"{msg} {_DROP_HINT}")
        self.reason[new] = reason
        self.detail[new] = f"{column}: {what}"

    @property
    def bad(self) -> np.ndarray:
        return ~pd.isna(self.reason)

    def dropped(self) -> pd.DataFrame:
        bad = self.bad
        rows = np.flatnonzero(bad)
        out = pd.DataFrame({"table": self.table, "row": rows.astype("int64"),
                            "reason": self.reason[bad].astype(str),
                            "detail": self.detail[bad].astype(str)})
        vals = self.raw.iloc[rows].reset_index(drop=True)
        vals.columns = [c if c not in out.columns else f"input_{c}" for c in vals.columns]
        return pd.concat([out, vals], axis=1)


def _plain(v):
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v


def _empty_dropped() -> pd.DataFrame:
    return pd.DataFrame({"table": pd.Series(dtype=object), "row": pd.Series(dtype="int64"),
                         "reason": pd.Series(dtype=object), "detail": pd.Series(dtype=object)})


# --------------------------------------------------------------------------- coercion

def _missing(s: pd.Series) -> np.ndarray:
    """Missing = NA or a blank string."""
    miss = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s[~miss].astype(str).str.strip()
        blank = np.zeros(len(s), dtype=bool)
        blank[np.flatnonzero(~miss)] = (txt == "").to_numpy()
        miss = miss | blank
    return miss


def _int_floats(s: pd.Series) -> pd.Series:
    """Integral floats as nullable ints (ids read as floats because of a gap)."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(v)
        if fin.any() and not np.isinf(v).any() and np.all(v[fin] == np.round(v[fin])) and \
                np.all(np.abs(v[fin]) < 2**53):      # ±inf cannot be an int: ids stay as read
            return s.astype("Int64")
    return s


def _clean_factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Factorise ``s`` and clean its distinct values (strip; blank → NaN).

    Integral floats lose their '.0' (ids read as floats because of a gap).
    Returns the codes (-1 = missing) and the cleaned distinct values.
    """
    codes, uniq = pd.factorize(_int_floats(s), use_na_sentinel=True)
    txt = pd.Series(np.asarray(uniq, dtype=object), dtype=object).astype(str).str.strip()
    clean = txt.to_numpy(dtype=object)
    return np.asarray(codes, dtype=np.int64), np.where(clean == "", np.nan, clean).astype(object)


def _ids(s: pd.Series) -> pd.Series:
    """Ids as stripped strings (object); missing or blank → NaN.

    Works on the distinct values only (factorise, clean, take back), so it is
    fast on millions of rows with few distinct ids.
    """
    codes, clean = _clean_factorize(s)
    clean = np.append(clean, np.nan)
    return pd.Series(clean[codes], index=s.index, dtype=object)  # code -1 → trailing NaN


def _id_codes(*cols: pd.Series, sort: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """Integer codes (-1 = missing) of one or more id columns over shared categories.

    The categories are the cleaned (stripped, non-blank) distinct ids, sorted.
    Only the distinct values are cleaned, so millions of rows cost one hash pass.
    """
    both = cols[0].reset_index(drop=True) if len(cols) == 1 else \
        pd.concat([c.reset_index(drop=True) if len({x.dtype for x in cols}) == 1 else
                   _int_floats(c).reset_index(drop=True).astype(object) for c in cols],
                  ignore_index=True)
    codes0, clean = _clean_factorize(both)
    c2, cats = pd.factorize(pd.Series(clean, dtype=object), sort=sort, use_na_sentinel=True)
    c2 = np.append(np.asarray(c2, dtype=np.int64), -1)
    codes = c2[codes0]  # code -1 → the trailing -1
    bounds = np.cumsum([0] + [len(c) for c in cols])
    return [codes[bounds[i]:bounds[i + 1]] for i in range(len(cols))], \
        np.asarray(cats, dtype=object)


def _categorical(codes: np.ndarray, cats: np.ndarray, index) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object)),
                     index=index)


def _numbers(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Return (float series, missing mask, invalid mask)."""
    miss = _missing(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(float)
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s.astype("float64")
    else:
        txt = s.astype(str).str.strip().str.replace(",", ".", regex=False)
        num = pd.to_numeric(txt.where(~miss, None), errors="coerce").astype("float64")
    vals = num.to_numpy(copy=True)
    invalid = ~miss & ~np.isfinite(vals)
    vals[miss | invalid] = np.nan
    return pd.Series(vals, index=s.index), miss, invalid


def _bools(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return (boolean series with missing = False, invalid mask)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool), np.zeros(len(s), dtype=bool)
    miss = s.isna().to_numpy()
    txt = s.astype(str).str.strip().str.lower()
    is_t = txt.isin(_TRUE).to_numpy()
    is_f = txt.isin(_FALSE).to_numpy() | miss
    return pd.Series(is_t, index=s.index), ~(is_t | is_f)


def _timestamps(s: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse timestamps by the documented rule; return (naive UTC, missing, invalid)."""
    n = len(s)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC").dt.tz_localize(None)
        miss = out.isna().to_numpy()
        return out.astype("datetime64[ns]"), miss, np.zeros(n, dtype=bool)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        out = s.astype("datetime64[ns]")
        if tz != "UTC":
            out = out.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT") \
                .dt.tz_convert("UTC").dt.tz_localize(None)
        miss = s.isna().to_numpy()
        return out, miss, out.isna().to_numpy() & ~miss
    miss = _missing(s)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        # bare numbers are ambiguous (seconds? days? Excel serials?): refuse them
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), miss, ~miss
    txt = s.astype(str).str.strip()
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    present = np.flatnonzero(~miss)
    if present.size:
        t = txt.iloc[present]
        aware = t.str.contains(_TZ_SUFFIX).to_numpy()
        for sel, is_aware in ((aware, True), (~aware, False)):
            if not sel.any():
                continue
            part = t[sel]
            parsed = _parse_text(part, utc=is_aware)
            if is_aware:
                parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
            elif tz != "UTC":
                parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT") \
                    .dt.tz_convert("UTC").dt.tz_localize(None)
            out[present[sel]] = parsed.to_numpy(dtype="datetime64[ns]")
    res = pd.Series(out, index=s.index)
    return res, miss, res.isna().to_numpy() & ~miss


def _parse_text(part: pd.Series, *, utc: bool) -> pd.Series:
    try:
        return pd.to_datetime(part, errors="raise", utc=utc, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(part, errors="coerce", utc=utc, format="mixed")
        except (ValueError, TypeError, OverflowError):
            # values pandas cannot even coerce (e.g. mixed offsets): one at a time
            return pd.Series([_one_ts(v, utc) for v in part], index=part.index,
                             dtype="datetime64[ns, UTC]" if utc else "datetime64[ns]")


def _one_ts(v, utc):
    try:
        t = pd.Timestamp(v)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if utc:
        return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")
    return t.tz_localize(None) if t.tzinfo else t


def _require(raw: pd.DataFrame, table: str):
    missing = [c for c in SCHEMAS[table]["required"] if c not in raw.columns]
    if missing:
        have = list(raw.columns)[:20]
        raise SchemaError(
            f"{table} is missing required column(s) {missing}; it has {have}. Rename "
            f"your columns or pass columns={{'your_name': '{missing[0]}'}}.")


def _check_errors(errors):
    return _validate.one_of("errors", errors, ["raise", "drop"])


def _finish(table: str, raw: pd.DataFrame, data: pd.DataFrame, probs: _Problems,
            *, allow_empty: bool) -> Table:
    keep = ~probs.bad
    data = data.loc[keep].reset_index(drop=True)
    dropped = probs.dropped() if probs.bad.any() else _empty_dropped()
    if len(data) == 0 and not allow_empty:
        why = ("the table has no rows" if len(raw) == 0 else
               f"all {len(raw)} rows were rejected (first reasons: "
               f"{sorted(set(dropped['reason']))})")
        raise EmptyNetworkError(
            f"{table}: no usable rows: {why}. Pass a table with at least one valid "
            "provider→client event; see net.dropped or icnet.io.validate for details.")
    return Table(table, data, dropped, len(raw), list(probs.found))


# --------------------------------------------------------------------------- tables

def read_events(data, *, columns=None, scale=(1, 5), errors="raise", tz="UTC") -> Table:
    """Read and validate the service events table.

    Parameters
    ----------
    data : DataFrame, dict of columns, str or path
        One row per service interaction; needs ``provider`` and ``client``.
    columns : dict, optional
        ``{"their_name": "icnet_name"}`` mapping (see :func:`read_table`).
    scale : (low, high), default (1, 5)
        The satisfaction rating scale.
    errors : {"raise", "drop"}, default "raise"
        Raise at the first problem, or drop offending rows and keep them,
        with their reason, in the returned ``dropped`` table.
    tz : str, default "UTC"
        Time zone of naive timestamps. Aware timestamps are converted to UTC;
        all are stored as naive UTC.

    Returns
    -------
    Table
        ``data`` has columns ``event_id`` (str), ``provider``, ``client``
        (str ids), ``requested_at``, ``delivered_at`` (naive UTC; NaT =
        missing or still open), ``delay_hours`` (float hours, derived from the
        timestamps when absent), ``satisfaction`` (float, NaN = not rated),
        ``service`` (str or NaN), ``expected_hours`` (float hours),
        ``reopened`` (bool), plus any extra user column. Only columns the
        input had (or that are derived) are present.

    Notes
    -----
    Defined behaviour per problem (each a ``reason`` code in ``dropped``):

    ``missing_id``
        provider or client is empty.
    ``self_service``
        provider == client: serving oneself is not an internal-customer
        relation.
    ``bad_timestamp`` / ``missing_timestamp``
        a timestamp that cannot be parsed / an empty ``requested_at`` (an
        empty ``delivered_at`` means the request is still open and is kept).
    ``not_a_number``
        a non-numeric satisfaction, delay or expected delay.
    ``out_of_scale``
        satisfaction outside ``scale``.
    ``negative_delay``
        delivery before request, or a negative ``delay_hours`` /
        ``expected_hours``.
    ``duplicate_event_id``
        an ``event_id`` seen before (the first occurrence is kept).
    ``bad_flag``
        ``reopened`` that is not a yes/no value.

    Examples
    --------
    >>> t = read_events({"provider": ["it", "it"], "client": ["ops", "hr"],
    ...                  "requested_at": ["2025-01-01 09:00", "2025-01-02T10:00+01:00"],
    ...                  "delivered_at": ["2025-01-01 13:30", None]})
    >>> t.data[["requested_at", "delay_hours"]]
             requested_at  delay_hours
    0 2025-01-01 09:00:00          4.5
    1 2025-01-02 09:00:00          NaN
    """
    errors = _check_errors(errors)
    low, high = _validate.scale(scale)
    raw = read_table(data, "events", columns=columns)
    _require(raw, "events")
    p = _Problems("events", raw, errors)
    out = {}
    (pc, cc), cats = _id_codes(raw["provider"], raw["client"])
    for col, codes in (("provider", pc), ("client", cc)):
        p.add(codes < 0, "missing_id", col, "empty ids",
              "Every event needs a provider and a client id.")
    p.add((pc == cc) & (pc >= 0), "self_service", "client",
          "rows where the client is the provider itself",
          "Self-service is not an internal-customer relation: remove those rows.")
    out["provider"] = _categorical(pc, cats, raw.index)
    out["client"] = _categorical(cc, cats, raw.index)
    for col in ("requested_at", "delivered_at"):
        if col in raw:
            ts, miss, bad = _timestamps(raw[col], tz)
            p.add(bad, "bad_timestamp", col, "values that are not timestamps",
                  "Use ISO 8601 text such as 2025-03-01T14:30:00 (a trailing Z or "
                  "+01:00 marks the time zone).")
            if col == "requested_at":
                p.add(miss, "missing_timestamp", col, "empty request times",
                      "Fill them in or remove the column (open requests have an empty "
                      "delivered_at, not an empty requested_at).")
            out[col] = ts
    for col, lo in (("satisfaction", None), ("delay_hours", 0.0), ("expected_hours", 0.0)):
        if col not in raw:
            continue
        num, _, bad = _numbers(raw[col])
        p.add(bad, "not_a_number", col, "values that are not finite numbers",
              "Use plain numbers with a dot as the decimal separator.")
        out[col] = num
    if "satisfaction" in out:
        v = out["satisfaction"].to_numpy()
        p.add((v < low) | (v > high), "out_of_scale", "satisfaction",
              f"values outside the scale {_fmt(low)}..{_fmt(high)}",
              "Pass scale=(low, high) matching your survey or clean those rows.")
    if "delay_hours" not in out and "requested_at" in out and "delivered_at" in out:
        out["delay_hours"] = (out["delivered_at"] - out["requested_at"]) / pd.Timedelta(hours=1)
    if "requested_at" in out and "delivered_at" in out:
        neg = (out["delivered_at"] < out["requested_at"]).to_numpy()
        p.add(neg, "negative_delay", "delivered_at", "deliveries before their request",
              "Check the two timestamp columns are not swapped.",
              values=out["delivered_at"].to_numpy())
    for col in ("delay_hours", "expected_hours"):
        if col in out:
            p.add((out[col] < 0).to_numpy(), "negative_delay", col, "negative durations",
                  "Durations are hours and must be >= 0.")
    if "reopened" in raw:
        flag, bad = _bools(raw["reopened"])
        p.add(bad, "bad_flag", "reopened", "values that are not yes/no",
              "Use true/false, yes/no or 1/0.")
        out["reopened"] = flag
    if "service" in raw:
        (sc,), scats = _id_codes(raw["service"])
        out["service"] = _categorical(sc, scats, raw.index)
    if "event_id" in raw:
        eid = _int_floats(raw["event_id"])
        ec, uniq = pd.factorize(eid, use_na_sentinel=True)
        ec = np.asarray(ec, dtype=np.int64)
        txt = pd.Series(uniq).astype(str)
        clean = txt.str.strip()
        if (clean != txt).any() or (clean == "").any() or not pd.api.types.is_string_dtype(
                eid.dtype):
            (ec,), ecats = _id_codes(raw["event_id"], sort=False)  # rare: re-clean
            eid = pd.Series(np.append(ecats, np.nan)[ec], index=raw.index, dtype=object)
        p.add(ec < 0, "missing_id", "event_id", "empty event ids",
              "Fill them in or drop the event_id column.")
        ok = ~p.bad
        dup = np.zeros(len(raw), dtype=bool)
        dup[ok] = pd.Series(ec[ok]).duplicated(keep="first").to_numpy()
        p.add(dup, "duplicate_event_id", "event_id", "repeated event ids",
              "Each event_id must appear once (the first occurrence is kept).")
        out["event_id"] = eid
    extra = [c for c in raw.columns if c not in out and c not in SCHEMAS["events"]["optional"]]
    df = pd.DataFrame(out)
    for c in extra:
        df[c] = raw[c]
    return _finish("events", raw, df, p, allow_empty=False)


def read_people(data, *, columns=None, errors="raise") -> Table:
    """Read and validate the people table (``person``, ``unit``, …).

    Parameters
    ----------
    data : DataFrame, dict of columns, str or path
    columns : dict, optional
    errors : {"raise", "drop"}

    Returns
    -------
    Table
        ``data`` columns ``person``, ``unit`` (str), ``manager``, ``role``
        (str or NaN), ``external_facing`` (bool; empty = False).

    Examples
    --------
    >>> read_people({"person": ["a", "b"], "unit": ["IT", "Ventas"],
    ...              "external_facing": ["no", "yes"]}).data["external_facing"].tolist()
    [False, True]
    """
    errors = _check_errors(errors)
    raw = read_table(data, "people", columns=columns)
    _require(raw, "people")
    p = _Problems("people", raw, errors)
    out = {"person": _ids(raw["person"]), "unit": _ids(raw["unit"])}
    p.add(out["person"].isna().to_numpy(), "missing_id", "person", "empty ids",
          "Every row needs a person id.")
    p.add(out["unit"].isna().to_numpy(), "missing_unit", "unit", "people without a unit",
          "Give every person a unit (area/department).")
    ok = ~p.bad
    dup = np.zeros(len(raw), dtype=bool)
    dup[ok] = out["person"][ok].duplicated(keep="first").to_numpy()
    p.add(dup, "duplicate_person", "person", "repeated person ids",
          "Each person must appear once (the first row is kept).")
    for col in ("manager", "role"):
        if col in raw:
            out[col] = _ids(raw[col])
    if "external_facing" in raw:
        flag, bad = _bools(raw["external_facing"])
        p.add(bad, "bad_flag", "external_facing", "values that are not yes/no",
              "Use true/false, yes/no or 1/0.")
        out["external_facing"] = flag
    else:
        out["external_facing"] = pd.Series(False, index=raw.index)
    df = pd.DataFrame(out)
    return _finish("people", raw, df, p, allow_empty=True)


def read_ratings(data, *, columns=None, scale=(1, 5), errors="raise", tz="UTC") -> Table:
    """Read and validate survey ratings (``rater`` rates ``provider``).

    Parameters
    ----------
    data : DataFrame, dict of columns, str or path
    columns : dict, optional
    scale : (low, high), default (1, 5)
        Scale of ``perception`` and ``expectation``; ``recommend`` is 0–10.
    errors : {"raise", "drop"}
    tz : str, default "UTC"

    Returns
    -------
    Table
        ``data`` columns ``rater``, ``provider`` (str), ``perception``,
        optional ``expectation``, ``recommend`` (float), ``dimension``,
        ``period`` (str), ``answered_at`` (naive UTC).

    Examples
    --------
    >>> read_ratings({"rater": ["a"], "provider": ["b"], "perception": [4],
    ...               "expectation": [5]}).data[["perception", "expectation"]].iloc[0].tolist()
    [4.0, 5.0]
    """
    errors = _check_errors(errors)
    low, high = _validate.scale(scale)
    raw = read_table(data, "ratings", columns=columns)
    _require(raw, "ratings")
    p = _Problems("ratings", raw, errors)
    out = {"rater": _ids(raw["rater"]), "provider": _ids(raw["provider"])}
    for col in ("rater", "provider"):
        p.add(out[col].isna().to_numpy(), "missing_id", col, "empty ids",
              "Every rating needs a rater and a provider.")
    p.add((out["rater"] == out["provider"]).to_numpy() & out["rater"].notna().to_numpy(),
          "self_rating", "rater", "rows where people rate themselves",
          "Remove self-ratings.", values=out["rater"].to_numpy())
    for col, lo, hi in (("perception", low, high), ("expectation", low, high),
                        ("recommend", 0.0, 10.0)):
        if col not in raw:
            continue
        num, miss, bad = _numbers(raw[col])
        p.add(bad, "not_a_number", col, "values that are not finite numbers",
              "Use plain numbers.")
        if col == "perception":
            p.add(miss, "missing_value", col, "empty ratings", "Remove unanswered items.")
        v = num.to_numpy()
        p.add((v < lo) | (v > hi), "out_of_scale", col,
              f"values outside the scale {_fmt(lo)}..{_fmt(hi)}",
              "Pass scale=(low, high) matching your survey or clean those rows."
              if col != "recommend" else "The recommendation item is 0..10.")
        out[col] = num
    if "answered_at" in raw:
        ts, miss, bad = _timestamps(raw["answered_at"], tz)
        p.add(bad, "bad_timestamp", "answered_at", "values that are not timestamps",
              "Use ISO 8601 text such as 2025-03-01.")
        out["answered_at"] = ts
    for col in ("dimension", "period"):
        if col in raw:
            out[col] = _ids(raw[col])
    if "period" in out:
        per = out["period"]
        bad = np.zeros(len(raw), dtype=bool)
        present = per.notna().to_numpy()
        if present.any():
            uniq = pd.unique(per[present])
            okp = {u: _period_ok(u) for u in uniq}
            bad[present] = ~per[present].map(okp).to_numpy(dtype=bool)
        p.add(bad, "bad_period", "period", "values that are not periods",
              "Use labels such as 2025Q1, 2025-03 or 2025.")
    df = pd.DataFrame(out)
    return _finish("ratings", raw, df, p, allow_empty=True)


def _period_ok(label) -> bool:
    try:
        pd.Period(str(label))
        return True
    except (ValueError, TypeError):
        return False


def read_agreements(data, *, columns=None, scale=(1, 5), errors="raise", tz="UTC") -> Table:
    """Read and validate service agreements between providers and clients.

    Parameters
    ----------
    data : DataFrame, dict of columns, str or path
    columns : dict, optional
    scale : (low, high), default (1, 5)
        Scale of ``min_satisfaction``.
    errors : {"raise", "drop"}
    tz : str, default "UTC"

    Returns
    -------
    Table
        ``data`` columns ``provider``, ``client`` (str), ``service`` (str or
        NaN: all services), ``max_delay_hours``, ``min_satisfaction`` (float),
        ``review_every`` (Timedelta), ``last_review`` (naive UTC).

    Examples
    --------
    >>> a = read_agreements({"provider": ["IT"], "client": ["Ventas"],
    ...                      "max_delay_hours": [24], "review_every": ["90D"]}).data
    >>> a.loc[0, "review_every"]
    Timedelta('90 days 00:00:00')
    """
    errors = _check_errors(errors)
    low, high = _validate.scale(scale)
    raw = read_table(data, "agreements", columns=columns)
    _require(raw, "agreements")
    p = _Problems("agreements", raw, errors)
    out = {"provider": _ids(raw["provider"]), "client": _ids(raw["client"])}
    for col in ("provider", "client"):
        p.add(out[col].isna().to_numpy(), "missing_id", col, "empty ids",
              "Every agreement needs a provider and a client.")
    if "service" in raw:
        out["service"] = _ids(raw["service"])
    for col in ("max_delay_hours", "min_satisfaction"):
        if col in raw:
            num, _, bad = _numbers(raw[col])
            p.add(bad, "not_a_number", col, "values that are not finite numbers",
                  "Use plain numbers.")
            out[col] = num
    if "max_delay_hours" in out:
        p.add((out["max_delay_hours"] < 0).to_numpy(), "negative_delay", "max_delay_hours",
              "negative durations", "Durations are hours and must be >= 0.")
    if "min_satisfaction" in out:
        v = out["min_satisfaction"].to_numpy()
        p.add((v < low) | (v > high), "out_of_scale", "min_satisfaction",
              f"values outside the scale {_fmt(low)}..{_fmt(high)}",
              "Pass scale=(low, high) matching your survey.")
    if "review_every" in raw:
        td, bad = _timedeltas(raw["review_every"])
        p.add(bad, "bad_duration", "review_every", "values that are not durations",
              "Use durations such as 90D, 12W or '180 days'.")
        out["review_every"] = td
    if "last_review" in raw:
        ts, _, bad = _timestamps(raw["last_review"], tz)
        p.add(bad, "bad_timestamp", "last_review", "values that are not timestamps",
              "Use ISO 8601 text such as 2025-03-01.")
        out["last_review"] = ts
    ok = ~p.bad
    key = [c for c in ("provider", "client", "service") if c in out]
    dup = np.zeros(len(raw), dtype=bool)
    dup[ok] = pd.DataFrame({k: out[k] for k in key})[ok].duplicated(keep="first").to_numpy()
    p.add(dup, "duplicate_agreement", "client", "repeated agreements for the same "
          "provider, client and service", "Keep one agreement per relation and service.",
          values=out["client"].to_numpy())
    df = pd.DataFrame(out)
    return _finish("agreements", raw, df, p, allow_empty=True)


def _timedeltas(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    miss = _missing(s)
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        return s, np.zeros(len(s), dtype=bool)
    vals = np.full(len(s), np.timedelta64("NaT"), dtype="timedelta64[ns]")
    bad = np.zeros(len(s), dtype=bool)
    txt = s.astype(str).str.strip()
    for u in pd.unique(txt[~miss]):
        try:
            td = pd.to_timedelta(u)
            if pd.isna(td) or td <= pd.Timedelta(0):
                raise ValueError
        except (ValueError, TypeError, OverflowError):
            bad |= (txt == u).to_numpy() & ~miss
            continue
        vals[(txt == u).to_numpy() & ~miss] = td.to_timedelta64()
    return pd.Series(vals, index=s.index), bad


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# --------------------------------------------------------------------------- validate

_READERS: dict[str, Callable[..., Table]] = {
    "events": read_events, "people": read_people,
    "ratings": read_ratings, "agreements": read_agreements,
}


def validate(events=None, people=None, ratings=None, agreements=None, *, columns=None,
             scale=(1, 5), tz="UTC") -> pd.DataFrame:
    """Check input tables and list every problem found, without raising.

    Parameters
    ----------
    events, people, ratings, agreements : table-like, optional
        As accepted by :func:`icnet.from_events`.
    columns, scale, tz
        As in :func:`icnet.from_events`.

    Returns
    -------
    pandas.DataFrame
        One row per problem: ``table``, ``reason``, ``n_rows`` (rows with
        this problem), ``message`` (where, what, the first rows, the fix).
        Empty when every table is valid. Table-level problems (missing
        columns, unreadable files) have ``n_rows`` = NaN.

    Examples
    --------
    >>> validate({"provider": ["a", "b"], "client": ["b", "b"]})[["table", "reason", "n_rows"]]
        table        reason  n_rows
    0  events  self_service     1.0
    """
    rows = []
    given = {"events": events, "people": people, "ratings": ratings,
             "agreements": agreements}
    for name, data in given.items():
        if data is None:
            continue
        kw = {"columns": columns, "errors": "drop"}
        if name != "people":
            kw["tz"] = tz
        if name in ("events", "ratings", "agreements"):
            kw["scale"] = scale
        try:
            t = _READERS[name](data, **kw)
        except EmptyNetworkError as err:
            rows.append((name, "empty", np.nan, str(err)))
            continue
        except (SchemaError, ParameterError) as err:
            rows.append((name, "schema", np.nan, str(err)))
            continue
        rows += [(name, reason, float(n), msg) for reason, _, n, msg in t.problems]
    return pd.DataFrame(rows, columns=["table", "reason", "n_rows", "message"])
