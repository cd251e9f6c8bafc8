"""The engines' shared kernels: what the pandas path and the Dask path both run.

Data flows ``io -> network -> analysis -> plot/report/cli``. Two engines build a
:class:`~icnet.ServiceNetwork`: the pandas path (:mod:`icnet.io` reads and validates,
:func:`icnet.from_events` builds) and the Dask path (:mod:`icnet._dask`, for logs that
do not fit one machine). So that both give the *same* tables, they run the same code;
that code lives here, under plain names with docstrings, and this module imports
neither :mod:`icnet.io` nor :mod:`icnet.network` nor :mod:`icnet._dask`::

    io ──────┐
    network ─┼──> _engine        (the kernels below, and the engine registry)
    _dask ───┘    _dask ──> io, network (public names only: read_events, ServiceNetwork)

The interface, by concern:

* **Validation messages and dropped rows** -- :data:`N_SHOW`, :data:`DROP_HINT`,
  :func:`rows_text` (the "rows 3, 17: 'x', 'y', …" part of every message),
  :func:`plain`, :func:`empty_dropped`, :func:`require_columns`.
* **Ids and numbers** -- :func:`id_strings` (ids as stripped NFC strings, blank →
  missing), :func:`clean_factorize`, :func:`int_floats`, :func:`parse_numbers` (decimal
  commas, thousands separators; missing and invalid masks): the cell rules every table
  and ``ServiceNetwork.from_edges`` / ``from_process_log`` read with.
* **Timestamps** -- the documented parsing rule of every table
  (:func:`parse_timestamps`, :func:`parse_timestamps_ex`, :func:`missing_mask`,
  :data:`RELATIVE_DATES`, :data:`FIRST_YEAR`, :data:`LAST_YEAR`) and of date
  parameters (:func:`time_parameter`, :func:`rating_times`).
* **Events** -- :data:`EVENT_ORDER`, :func:`node_codes`, :func:`canonical_events`
  (the canonical row order that makes sums bit-for-bit reproducible),
  :func:`expected_from_agreements`.
* **Edges** -- :func:`group_codes`, :func:`edge_stats` (per-edge statistics of
  canonically sorted events: the pandas path calls it on all events, the Dask path
  on each partition of whole ``provider -> client`` pairs), :func:`rater_stats`,
  :func:`complete_edges` and :func:`shrink_edges` (shrinkage, credible sign, column
  order), :data:`EDGE_COLUMNS`, :data:`RATER_COLUMNS`.
* **Levels** -- :func:`group_tables` (what ``by(column)`` needs besides the events),
  :data:`UNKNOWN_UNIT`, :func:`warn_unknown`.
* **Engines** -- :func:`register_engine` / :func:`engine_builder`: ``from_events(...,
  engine="dask")`` looks its builder up here; :mod:`icnet._dask` registers itself when
  the package is imported (it imports ``dask`` itself only when used). So
  :mod:`icnet.network` never imports :mod:`icnet._dask` and the imports form no
  cycle (a registry of named engines, as xarray's ``open_dataset(engine=...)`` looks
  its backends up in ``xarray.backends.plugins``).

Functions taking ``net`` read only its public attributes (``node_ids``, ``people``,
``ratings``, ``nodes``, ``scale``, ``threshold`` …), so they serve both network
classes. Everything here is internal (no stability promise); the architecture test
``tests/test_architecture.py`` keeps :mod:`icnet._dask` off the private names of
:mod:`icnet.io` and :mod:`icnet.network` and the four modules free of import cycles.
"""

from __future__ import annotations

import re
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from . import _shrink
from .errors import IcnetWarning, ParameterError, SchemaError


# --------------------------------------------------------------------------- messages

#: Offending rows shown in a validation message.
N_SHOW = 5
#: The last sentence of every row-level validation error.
DROP_HINT = 'errors="drop" keeps them in net.dropped.'


def plain(v):
    """A cell value as a message shows it (numpy scalars as Python ones, timestamps as
    text)."""
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v


def empty_dropped() -> pd.DataFrame:
    """The ``dropped`` table with no row: ``table``, ``row``, ``reason``, ``detail``."""
    return pd.DataFrame({"table": pd.Series(dtype=object), "row": pd.Series(dtype="int64"),
                         "reason": pd.Series(dtype=object), "detail": pd.Series(dtype=object)})


def rows_text(rows, values, n: int) -> str:
    """The rows part of a validation message: ``"3, 17: 'x', 'y'"`` plus ``", …"`` when
    more than :data:`N_SHOW` of the ``n`` rows failed (``values`` None: rows only).

    Used by :mod:`icnet.io` for every check and by :mod:`icnet._dask` to rebuild the
    same message from all partitions, so both engines word it identically.
    """
    shown = ", ".join(str(r) for r in rows)
    if values is not None:
        shown += ": " + ", ".join(repr(plain(v)) for v in values)
    return shown + ("" if n <= N_SHOW else ", …")


def require_columns(raw: pd.DataFrame, table: str, required) -> None:
    """Raise :class:`SchemaError` when ``raw`` lacks one of the ``required`` columns."""
    missing = [c for c in required if c not in raw.columns]
    if missing:
        have = list(raw.columns)[:20]
        raise SchemaError(
            f"{table} is missing required column(s) {missing}; it has {have}. Rename "
            f"your columns or pass columns={{'your_name': '{missing[0]}'}}.")


# --------------------------------------------------------------------------- ids and numbers
def int_floats(s: pd.Series) -> pd.Series:
    """Integral floats as nullable ints (ids read as floats because of a gap)."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(v)
        if fin.any() and not np.isinf(v).any() and np.all(v[fin] == np.round(v[fin])) and \
                np.all(np.abs(v[fin]) < 2**53):      # ±inf cannot be an int: ids stay as read
            return s.astype("Int64")
    return s


def clean_factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Factorise ``s`` and clean its distinct values (strip; blank → NaN).

    Integral floats lose their '.0' (ids read as floats because of a gap).
    Returns the codes (-1 = missing) and the cleaned distinct values.
    """
    try:
        codes, uniq = pd.factorize(int_floats(s), use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts, arrays)
        boxed = s.map(lambda v: isinstance(v, (list, dict, set, tuple, np.ndarray)))
        odd = np.flatnonzero(boxed.to_numpy(bool))
        shown = ", ".join(f"{r}: {s.iloc[r]!r}"[:60] for r in odd[:N_SHOW])
        raise SchemaError(
            f"column '{s.name}' holds lists or other containers in {odd.size} rows "
            f"({shown}). Ids must be text or numbers: one id per cell (explode the lists "
            "into rows first).") from None
    txt = pd.Series(np.asarray(uniq, dtype=object), dtype=object).astype(str).str.strip() \
        .str.normalize("NFC")   # one spelling per name: NFC and NFD forms are one id
    clean = txt.to_numpy(dtype=object)
    return np.asarray(codes, dtype=np.int64), np.where(clean == "", np.nan, clean).astype(object)


def id_strings(s: pd.Series) -> pd.Series:
    """Ids as stripped strings (object); missing or blank → NaN.

    Works on the distinct values only (factorise, clean, take back), so it is
    fast on millions of rows with few distinct ids.
    """
    codes, clean = clean_factorize(s)
    clean = np.append(clean, np.nan)
    return pd.Series(clean[codes], index=s.index, dtype=object)  # code -1 → trailing NaN


def parse_numbers(s: pd.Series, decimal: str | None = None
                  ) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Return (float series, missing mask, invalid mask).

    Text numbers: by default a comma is a decimal comma ("4,5" = 4.5);
    ``decimal=","`` also drops dots as thousands separators ("1.234,5"),
    ``decimal="."`` drops commas as thousands separators ("1,234.5").
    """
    miss = missing_mask(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(float)
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s.astype("float64")
    else:
        txt = s.astype(str).str.strip()
        if decimal == ",":
            txt = txt.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        elif decimal == ".":
            txt = txt.str.replace(",", "", regex=False)
        else:
            txt = txt.str.replace(",", ".", regex=False)
        num = pd.to_numeric(txt.where(~miss, None), errors="coerce").astype("float64")
    vals = num.to_numpy(copy=True)
    invalid = ~miss & ~np.isfinite(vals)
    vals[miss | invalid] = np.nan
    return pd.Series(vals, index=s.index), miss, invalid


# --------------------------------------------------------------------------- timestamps

#: Words refused as dates (they would read the clock: results would change with the day).
RELATIVE_DATES = {"now", "today", "yesterday", "tomorrow", "hoy", "ayer", "mañana", "ahora"}

#: Dates before this year or from ``LAST_YEAR`` on are placeholders ("9999-12-31",
#: "1900-01-01"): *open* in ``delivered_at``/``last_review``, refused elsewhere.
FIRST_YEAR, LAST_YEAR = 1901, 2200

_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")

_ISO_DATE = re.compile(r"^[+-]?\d{4,}-\d{1,2}(?:-\d{1,2})?(?:[T ].*)?$")

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:(?:[T ]|, ?)(.*))?$")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def missing_mask(s: pd.Series) -> np.ndarray:
    """Missing = NA or a blank string."""
    miss = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s[~miss].astype(str).str.strip()
        blank = np.zeros(len(s), dtype=bool)
        blank[np.flatnonzero(~miss)] = (txt == "").to_numpy()
        miss = miss | blank
    return miss


def parse_timestamps(s: pd.Series, tz: str, *, dayfirst=None, date_format=None,
                     table: str = "table") -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse timestamps by the documented rule; return (naive UTC, missing, invalid).

    Placeholder/out-of-range dates, relative words and unparseable values are all
    *invalid* here; :func:`parse_timestamps_ex` tells them apart.
    """
    ts, miss, bad, flags = parse_timestamps_ex(s, tz, dayfirst=dayfirst,
                                               date_format=date_format, table=table)
    return ts, miss, bad | flags["relative_date"] | flags["out_of_range"]


def parse_timestamps_ex(s: pd.Series, tz: str, *, dayfirst=None, date_format=None,
                        table: str = "table"):
    """Parse timestamps; return (naive UTC, missing, invalid, flags).

    ``flags`` holds boolean masks ``relative_date`` (words such as "now") and
    ``out_of_range`` (placeholder dates such as 9999-12-31 or 1900-01-01, or
    any date before 1901 or from 2200 on). Day/month orders are never guessed:
    a column of ``dd/mm/yyyy``-like dates where some value reads both ways
    needs ``dayfirst=`` or ``date_format=`` (else :class:`SchemaError`), and
    one column never mixes formats.
    """
    n = len(s)
    col = s.name
    no = np.zeros(n, dtype=bool)
    flags = {"relative_date": no.copy(), "out_of_range": no.copy()}
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        miss = s.isna().to_numpy()
        vals, oor = _to_ns(s)
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            vals = _localise(vals, tz)
        flags["out_of_range"] = oor
        out = pd.Series(vals, index=s.index)
        return out, miss, out.isna().to_numpy() & ~miss & ~oor, flags
    miss = missing_mask(s)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        # bare numbers are ambiguous (seconds? days? Excel serials?): refuse them
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), miss, ~miss, flags
    txt = s.astype(str).str.strip()
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    present = np.flatnonzero(~miss)
    if present.size:
        t = txt.iloc[present]
        rel = t.str.lower().isin(RELATIVE_DATES).to_numpy()
        flags["relative_date"][present[rel]] = True
        t = t.where(~rel, "")                          # never the wall clock
        if date_format is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    parsed = pd.to_datetime(t, format=date_format, errors="coerce",
                                            utc="%z" in date_format or "%Z" in date_format)
                except (ValueError, TypeError) as err:
                    raise ParameterError(
                        f"The 'date_format' parameter {date_format!r} is not a valid "
                        f"strftime format ({err}); e.g. '%d/%m/%Y %H:%M'.") from None
            vals, oor = _to_ns(parsed)
            if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
                vals = _localise(vals, tz)
            out[present] = vals
            flags["out_of_range"][present[oor]] = True
        else:
            _parse_classes(t, rel, present, out, flags, tz, dayfirst, table, col)
    res = pd.Series(out, index=s.index)
    bad = res.isna().to_numpy() & ~miss & ~flags["relative_date"] & ~flags["out_of_range"]
    return res, miss, bad, flags


def _year_range(parsed: pd.Series) -> np.ndarray:
    """Placeholder or out-of-range dates (before 1901, from 2200 on), computed in the
    parsed resolution so nothing wraps when cast to nanoseconds."""
    y = parsed.dt.year.to_numpy(dtype=float, na_value=np.nan)
    return (y < FIRST_YEAR) | (y >= LAST_YEAR)


def _to_ns(parsed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[ns] values, out-of-range mask); out-of-range values become NaT."""
    oor = _year_range(parsed)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    vals = parsed.where(~oor)
    return vals.to_numpy(dtype="datetime64[ns]"), oor


def _localise(vals: np.ndarray, tz: str) -> np.ndarray:
    if tz == "UTC":
        return vals
    ser = pd.Series(vals).dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return ser.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _parse_classes(t, rel, present, out, flags, tz, dayfirst, table, col):
    """Parse text timestamps by format class: ISO, d/m/y-like, or other text."""
    iso = t.str.match(_ISO_DATE).to_numpy() & ~rel
    dm = pd.DataFrame({k: pd.Series(np.nan, index=t.index, dtype=object) for k in range(4)})
    rest_ = ~iso & ~rel
    if rest_.any():                       # only non-ISO values pay for the d/m/y regex
        dm.loc[rest_, :] = t[rest_].str.extract(_DMY).astype(object).to_numpy()
    dmy = dm[0].notna().to_numpy() & ~rel
    other = ~iso & ~dmy & ~rel
    kinds = [k for k, m in (("ISO (2025-03-01)", iso), ("day/month/year-like (01/03/2025)",
                                                         dmy)) if m.any()]
    if len(kinds) > 1:
        ex_iso = t[iso].iloc[0]
        ex_dmy = t[dmy].iloc[0]
        raise SchemaError(
            f"{table} column '{col}' mixes date formats: {kinds[0]} such as {ex_iso!r} and "
            f"{kinds[1]} such as {ex_dmy!r}. icnet never mixes formats silently: convert "
            "the column to one format (ISO 8601 is best), or pass date_format= (CLI: "
            "--date-format) so values in any other format are reported row by row.")
    if dmy.any():
        a = pd.to_numeric(dm[0], errors="coerce").to_numpy()
        b = pd.to_numeric(dm[1], errors="coerce").to_numpy()
        if dayfirst is None:
            amb = dmy & (a <= 12) & (b <= 12) & (a != b)
            d_only, m_only = dmy & (a > 12), dmy & (b > 12)
            if amb.any() or (d_only.any() and m_only.any()):
                ex = t[amb].iloc[0] if amb.any() else t[d_only].iloc[0]
                x, y = (int(a[amb][0]), int(b[amb][0])) if amb.any() else (0, 0)
                if amb.any():
                    yr = dm[2][amb].iloc[0]
                    readings = (f"day first {ex!r} = {x} {_MONTHS[y - 1]} {yr}; month first "
                                f"= {y} {_MONTHS[x - 1]} {yr}")
                    why = f"{int(amb.sum())} values read both ways"
                else:
                    readings = (f"{t[d_only].iloc[0]!r} is only valid day first and "
                                f"{t[m_only].iloc[0]!r} only month first")
                    why = "the values disagree on the order"
                raise SchemaError(
                    f"{table} column '{col}' has dates whose day/month order is ambiguous "
                    f"({why}: {readings}). icnet does not guess: pass dayfirst=True (or "
                    "False), or date_format='%d/%m/%Y' (CLI: --dayfirst, --monthfirst or "
                    "--date-format), or write the dates as ISO 8601 (2025-03-01).")
            dayfirst = bool(d_only.any())
        day, month = (dm[0], dm[1]) if dayfirst else (dm[1], dm[0])
        yr = dm[2].where(dm[2].str.len() == 4,
                         np.where(pd.to_numeric(dm[2], errors="coerce") < 69, "20", "19")
                         + dm[2].astype(str))
        rest = dm[3].fillna("")
        t = t.where(~dmy, yr + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) +
                    np.where(rest != "", " " + rest, ""))
        iso = iso | dmy
    for sel, how in ((iso, "iso"), (other, "other")):
        if not sel.any():
            continue
        part = t[sel]
        aware = part.str.contains(_TZ_SUFFIX).to_numpy()
        for sub, is_aware in ((aware, True), (~aware, False)):
            if not sub.any():
                continue
            parsed = _parse_text(part[sub], utc=is_aware, iso=how == "iso",
                                 dayfirst=bool(dayfirst))
            vals, oor = _to_ns(parsed)
            if not is_aware:
                vals = _localise(vals, tz)
            idx = present[np.flatnonzero(sel)[sub]]
            out[idx] = vals
            flags["out_of_range"][idx[oor]] = True


def _parse_text(part: pd.Series, *, utc: bool, iso: bool = True,
                dayfirst: bool = False) -> pd.Series:
    if iso:
        try:
            return pd.to_datetime(part, errors="coerce", utc=utc, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(part, errors="coerce", utc=utc, format="mixed",
                                  dayfirst=dayfirst)
        except (ValueError, TypeError, OverflowError):
            # values pandas cannot even coerce (e.g. mixed offsets): one at a time
            return pd.Series([_one_ts(v, utc) for v in part], index=part.index,
                             dtype="datetime64[us, UTC]" if utc else "datetime64[us]")


def _one_ts(v, utc):
    try:
        t = pd.Timestamp(v)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if utc:
        return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")
    return t.tz_localize(None) if t.tzinfo else t


def time_parameter(value, name) -> pd.Timestamp:
    """A date parameter (``window(start, end)``, ``as_of`` …) as naive UTC nanoseconds.

    Refused with a :class:`ParameterError` naming ``name``: relative words, bare numbers,
    unparseable values and dates outside ``FIRST_YEAR..LAST_YEAR`` (the readers' rule).
    """
    if isinstance(value, str) and value.strip().lower() in RELATIVE_DATES:
        raise ParameterError(
            f"The '{name}' parameter must be a date such as '2025-01-01'; got {value!r}, "
            "which would read the clock (results would change with the day icnet runs).")
    if isinstance(value, (bool, int, float, np.number)):
        raise ParameterError(
            f"The '{name}' parameter must be a date such as '2025-01-01'; got the number "
            f"{value!r} (numbers are not read as dates: nanoseconds since 1970 would be "
            "a guess).")
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise ParameterError(
            f"The '{name}' parameter must be a timestamp such as '2025-01-01'; got "
            f"{value!r}.") from None
    if pd.isna(t):
        raise ParameterError(f"The '{name}' parameter must be a date; got {value!r}.")
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    lo, hi = pd.Timestamp(f"{FIRST_YEAR}-01-01"), pd.Timestamp(f"{LAST_YEAR}-01-01")
    if not lo <= t < hi:      # the readers' rule: outside it, dates are placeholders (#20)
        raise ParameterError(
            f"The '{name}' parameter must lie between {FIRST_YEAR} and {LAST_YEAR}; "
            f"got {value!r}. Pass a date inside your data's period, e.g. '2025-01-01'.")
    return t.as_unit("ns")


def rating_times(r: pd.DataFrame):
    """When each rating was given: ``answered_at``, else the start of its ``period``,
    else None (ratings without time are kept by every window)."""
    if "answered_at" in r:
        return r["answered_at"]
    if "period" in r:
        uniq = pd.unique(r["period"].dropna())
        start = {u: pd.Period(str(u)).start_time for u in uniq}
        return r["period"].map(start)
    return None


# --------------------------------------------------------------------------- events

EVENT_ORDER = ["event_id", "provider", "client", "requested_at", "delivered_at",
               "delay_hours", "satisfaction", "service", "expected_hours", "reopened"]


def node_codes(col: pd.Series, node_ids: pd.Index) -> np.ndarray:
    """Codes of an id column (categorical or plain) over ``node_ids``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        lut = node_ids.get_indexer(col.cat.categories)
        return np.append(lut, -1)[col.cat.codes.to_numpy()]
    return node_ids.get_indexer(col.to_numpy(dtype=object))


def canonical_events(df: pd.DataFrame, node_ids: np.ndarray) -> pd.DataFrame:
    """Categorical ids over ``node_ids`` and a deterministic row order.

    Rows are sorted by provider, client, request and delivery time, delay,
    satisfaction, expected delay, rework flag and service; rows equal on all
    of these are ordered by ``event_id`` and any extra column, so the result
    does not depend on the input row order.
    """
    idx = pd.Index(node_ids, dtype=object)
    cats = pd.CategoricalDtype(idx)
    pc = node_codes(df["provider"], idx)
    cc = node_codes(df["client"], idx)
    # primary order: provider, client, request time
    main = [pc * len(idx) + cc]
    if "requested_at" in df:
        main.insert(0, df["requested_at"].to_numpy(dtype="datetime64[ns]").view("int64"))
    order = _argsort_keys(main)
    # rows equal on those: order by the other canonical columns, then by the rest
    keys = []
    if "service" in df:
        svc = df["service"]
        keys.append(svc.cat.codes.to_numpy() if isinstance(svc.dtype, pd.CategoricalDtype)
                    else pd.factorize(svc, sort=True)[0])
    for col in ("reopened", "expected_hours", "satisfaction", "delay_hours"):
        if col in df:
            v = df[col].to_numpy(dtype=float)
            keys.append(np.where(np.isnan(v), np.inf, v))
    if "delivered_at" in df:
        keys.append(df["delivered_at"].to_numpy(dtype="datetime64[ns]").view("int64"))
    if len(order) > 1:
        same = np.ones(len(order) - 1, dtype=bool)
        for k in main:
            ks = k[order]
            same &= ks[1:] == ks[:-1]
        if same.any():
            tie_cols = [c for c in df.columns if c not in EVENT_ORDER or c == "event_id"]
            order = _break_ties(df, order, same, keys, tie_cols)
    data = {}
    cols = [c for c in EVENT_ORDER if c in df] + [c for c in df if c not in EVENT_ORDER]
    for c in cols:
        if c == "provider":
            data[c] = pd.Categorical.from_codes(pc[order], dtype=cats)
        elif c == "client":
            data[c] = pd.Categorical.from_codes(cc[order], dtype=cats)
        else:
            data[c] = df[c].take(order).reset_index(drop=True)
    return pd.DataFrame(data)


def _argsort_keys(keys: list[np.ndarray]) -> np.ndarray:
    """``np.lexsort(keys)`` for non-negative-ish int64 keys, packed into one key when
    the packed range fits in int64 (one sort instead of one pass per key).

    Rows tied on every key may come out in any order; callers break ties.
    """
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    span = 1
    for k in keys:  # keys[0] is the least significant
        lo = int(k.min())
        d = k - lo
        g = int(np.gcd.reduce(d)) if len(d) else 1
        g = g or 1
        width = int(d.max()) // g + 1
        if span * width >= 2**62:
            return np.lexsort(keys)
        packed += (d // g) * span
        span *= width
    return np.argsort(packed, kind="quicksort")


def _break_ties(df, order, same, keys, tie_cols):
    """Order runs of rows tied on the primary keys by ``keys``, then ``tie_cols``."""
    run = np.r_[0, np.cumsum(~same)]
    size = np.bincount(run)
    pos = np.flatnonzero(size[run] > 1)
    rows = order[pos]
    sub = [k[rows] for k in keys]
    if tie_cols:
        sub = [pd.factorize(df[c].take(rows).astype(str).to_numpy(dtype=object),
                            sort=True)[0] for c in reversed(tie_cols)] + sub
    order = order.copy()
    order[pos] = rows[np.lexsort(sub + [run[pos]])]
    return order


def expected_from_agreements(ev, agr, ppl):
    """Fill ``expected_hours`` from agreements (unit-to-unit, or id-to-id)."""

    def side(col):
        cat = ev[col].cat
        names = cat.categories.to_numpy(dtype=object)
        if ppl is not None:
            unit = pd.Series(ppl["unit"].to_numpy(dtype=object), index=ppl["person"].to_numpy())
            mapped = unit.reindex(names).to_numpy(dtype=object)
            names = np.where(pd.isna(mapped), names, mapped)
        return np.append(names, np.nan)[cat.codes.to_numpy()]

    key = pd.DataFrame({"provider": side("provider"), "client": side("client")})
    a = agr.dropna(subset=["max_delay_hours"])
    exp = np.full(len(ev), np.nan)
    if "service" in a and "service" in ev:
        specific = a[a["service"].notna()]
        if len(specific):
            k = key.assign(service=ev["service"].astype(object).to_numpy())
            m = k.merge(specific[["provider", "client", "service", "max_delay_hours"]],
                        how="left", on=["provider", "client", "service"])
            exp = m["max_delay_hours"].to_numpy(float)
        a = a[a["service"].isna()]
    if len(a):
        m = key.merge(a[["provider", "client", "max_delay_hours"]]
                      .drop_duplicates(["provider", "client"]), how="left",
                      on=["provider", "client"])
        exp = np.where(np.isnan(exp), m["max_delay_hours"].to_numpy(float), exp)
    out = ev.copy()
    out["expected_hours"] = exp
    return out


# --------------------------------------------------------------------------- edges

#: Columns of :attr:`ServiceNetwork.edges`, in order.
EDGE_COLUMNS = [
    "provider", "client", "n_events", "satisfaction_n", "satisfaction_mean",
    "satisfaction_sd", "satisfaction_shrunk", "satisfaction_low", "satisfaction_high",
    "sign", "delay_n", "delay_mean", "delay_median", "delay_p90", "n_open", "sla_n",
    "sla_breach_rate", "sla_breach_low", "sla_breach_high", "rework_rate", "first_at",
    "last_at",
]

#: Rater columns of :attr:`ServiceNetwork.edges` (after :data:`EDGE_COLUMNS`).
RATER_COLUMNS = ["satisfaction_raters", "rater_n2", "within_sd", "n_eff", "lfsr"]


def group_codes(ev: pd.DataFrame, node_ids):
    """``(key, starts, p, c)`` of canonically sorted events: the pair key
    ``provider * n + client``, where each pair's run of rows starts, and the codes."""
    n = len(node_ids)
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    c = ev["client"].cat.codes.to_numpy().astype(np.int64)
    key = p * n + c
    # events are sorted by (provider, client, …): groups are contiguous runs
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else \
        np.array([], dtype=np.int64)
    return key, starts, p, c


def edge_stats(ev: pd.DataFrame, node_ids, end) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-edge statistics of canonically sorted events (before shrinkage).

    ``end()`` gives the end of the whole log's span (open requests older than
    their expected delay count as breaches). Shared with the Dask path, which
    calls it on each partition of complete provider→client groups.
    """
    key, starts, p, c = group_codes(ev, node_ids)
    g = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
    G = len(starts)
    ids = np.asarray(node_ids, dtype=object)
    out = pd.DataFrame({"provider": ids[p[starts]], "client": ids[c[starts]]})
    out["n_events"] = np.bincount(g, minlength=G).astype("int64")

    def grouped(values):
        v = np.asarray(values, float)
        ok = ~np.isnan(v)
        cnt = np.bincount(g[ok], minlength=G)
        s = np.bincount(g[ok], weights=v[ok], minlength=G)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s / cnt
            dev = np.bincount(g[ok], weights=(v[ok] - mean[g[ok]]) ** 2, minlength=G)
            sd = np.sqrt(dev / (cnt - 1))
        mean[cnt == 0] = np.nan
        sd[cnt < 2] = np.nan
        return cnt, mean, sd

    nan = np.full(G, np.nan)
    if "satisfaction" in ev:
        cnt, mean, sd = grouped(ev["satisfaction"].to_numpy(float))
    else:
        cnt, mean, sd = np.zeros(G, np.int64), nan.copy(), nan.copy()
    out["satisfaction_n"] = cnt.astype("int64")
    out["satisfaction_mean"] = mean
    out["satisfaction_sd"] = sd
    out = pd.concat([out, rater_stats(ev, g, G, cnt, mean)], axis=1)
    if "delay_hours" in ev:
        d = ev["delay_hours"].to_numpy(float)
        dn, dmean, _ = grouped(d)
        med, p90 = _group_quantiles(g, d, G, (0.5, 0.9))
    else:
        dn, dmean, med, p90 = np.zeros(G), nan.copy(), nan.copy(), nan.copy()
    out["delay_n"] = dn.astype("int64")
    out["delay_mean"], out["delay_median"], out["delay_p90"] = dmean, med, p90
    if "delivered_at" in ev:
        out["n_open"] = np.bincount(g, weights=ev["delivered_at"].isna().to_numpy(float),
                                    minlength=G).astype("int64")
    elif "delay_hours" in ev:
        out["n_open"] = (out["n_events"] - out["delay_n"]).astype("int64")
    else:
        out["n_open"] = np.zeros(G, dtype="int64")
    if "expected_hours" in ev and "delay_hours" in ev:
        # Kaplan-Meier on delay / expected delay (open requests censored at their age),
        # breach rate = S(1); the same estimator as agreement_compliance
        from .analysis._survival import km_at
        exp = ev["expected_hours"].to_numpy(float)
        known = ~np.isnan(exp) & ~np.isnan(d)
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(exp > 0, d / exp, np.where(d > 0, np.inf, 0.0))
        use = known.copy()
        late_open = np.zeros(len(exp), bool)
        if "requested_at" in ev:     # open: no delay (and no delivery) yet
            # in float hours (a Timedelta of centuries would overflow)
            req = ev["requested_at"]
            ns = req.to_numpy().astype("datetime64[ns]").astype(np.int64).astype(float)
            age = np.where(req.isna().to_numpy(), np.nan,
                           (pd.Timestamp(end()).value - ns) / 3.6e12)
            open_ = ~np.isnan(exp) & np.isnan(d)
            if "delivered_at" in ev:
                open_ &= ev["delivered_at"].isna().to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                xo = np.where(exp > 0, np.maximum(age, 0) / exp, np.inf)
            x = np.where(open_, xo, x)
            use |= open_
            late_open = open_ & (age > exp)
        sla_n = np.bincount(g, weights=(known | late_open).astype(float), minlength=G)
        km = km_at(g[use], x[use], known[use], 1.0, G)
        out["sla_n"] = sla_n.astype("int64")
        out["sla_breach_rate"] = km["s"].to_numpy()
        out["sla_breach_low"] = km["low"].to_numpy()
        out["sla_breach_high"] = km["high"].to_numpy()
    else:
        out["sla_n"] = np.zeros(G, dtype="int64")
        out["sla_breach_rate"] = nan.copy()
        out["sla_breach_low"] = nan.copy()
        out["sla_breach_high"] = nan.copy()
    if "reopened" in ev:
        out["rework_rate"] = np.bincount(g, weights=ev["reopened"].to_numpy(float),
                                         minlength=G) / out["n_events"].to_numpy()
    else:
        out["rework_rate"] = nan.copy()
    if "requested_at" in ev:
        t = ev["requested_at"].to_numpy()
        ti = t.view("int64")
        first = np.minimum.reduceat(ti, starts) if G else np.array([], np.int64)
        last = np.maximum.reduceat(ti, starts) if G else np.array([], np.int64)
        out["first_at"] = first.view("datetime64[ns]")
        out["last_at"] = last.view("datetime64[ns]")
    else:
        out["first_at"] = pd.NaT
        out["last_at"] = pd.NaT
    return out, p[starts]


def rater_stats(ev: pd.DataFrame, g, G, cnt, mean) -> pd.DataFrame:
    """Per-edge rater summaries: distinct raters, sum of squared ratings per rater and
    the pooled within-rater SD (NaN when no rater rated twice).

    The rater is ``client_person`` (aggregated levels), else the client itself
    (person level: one rater per relation). Vectorised: one hash factorisation of
    (edge, rater) and bincounts.
    """
    nan = np.full(G, np.nan)
    if "satisfaction" not in ev:
        return pd.DataFrame({"satisfaction_raters": nan, "rater_n2": nan.copy(),
                             "within_sd": nan.copy()})
    y = ev["satisfaction"].to_numpy(float)
    ok = ~np.isnan(y)
    if "client_person" in ev:
        col = ev["client_person"]
        r = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) \
            else pd.factorize(col.to_numpy(dtype=object))[0]
        r = r.astype(np.int64)[ok]
        go, yo = g[ok], y[ok]
        code, uniq = pd.factorize(go.astype(np.int64) * (int(r.max(initial=0)) + 2) + r + 1)
        K = len(uniq)
        edge_of = np.empty(K, np.int64)
        edge_of[code] = go
        nj = np.bincount(code, minlength=K).astype(float)
        sj = np.bincount(code, weights=yo, minlength=K)
        mj = sj / nj
        ssw = np.bincount(go, weights=(yo - mj[code]) ** 2, minlength=G)
        J = np.bincount(edge_of, minlength=G).astype(float)
        n2 = np.bincount(edge_of, weights=nj ** 2, minlength=G)
    else:       # person level: the client is the relation's one rater
        J = (cnt > 0).astype(float)
        n2 = np.asarray(cnt, float) ** 2
        ssw = np.bincount(g[ok], weights=(y[ok] - mean[g[ok]]) ** 2, minlength=G)
    dfw = np.asarray(cnt, float) - J
    with np.errstate(invalid="ignore", divide="ignore"):
        wsd = np.where(dfw > 0, np.sqrt(ssw / np.where(dfw > 0, dfw, 1)), np.nan)
    return pd.DataFrame({"satisfaction_raters": np.where(cnt > 0, J, 0.0),
                         "rater_n2": n2, "within_sd": wsd})


def _group_quantiles(g, v, G, qs):
    """Exact per-group quantiles (numpy 'linear' rule) without a Python loop."""
    ok = ~np.isnan(v)
    gg, vv = g[ok], v[ok]
    rank = np.empty(len(vv), dtype=np.int64)
    rank[np.argsort(vv, kind="quicksort")] = np.arange(len(vv))
    order = _argsort_keys([rank, gg])
    vv = vv[order]
    cnt = np.bincount(gg, minlength=G)
    start = np.r_[0, np.cumsum(cnt)[:-1]]
    res = []
    for q in qs:
        out = np.full(G, np.nan)
        has = cnt > 0
        pos = (cnt[has] - 1) * q
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        a, b = vv[start[has] + lo], vv[start[has] + hi]
        out[has] = a + (b - a) * (pos - lo)
        res.append(out)
    return res


def complete_edges(e: pd.DataFrame, net, pcode=None) -> pd.DataFrame:
    """Add shrinkage columns and the credible sign; put columns in order.

    ``pcode`` (the provider's code in ``net.node_ids`` per edge) saves a lookup.
    """
    e = e.copy()
    G = len(e)
    for c in EDGE_COLUMNS:
        if c not in e and c not in ("satisfaction_shrunk", "satisfaction_low",
                                    "satisfaction_high", "sign"):
            if c in ("first_at", "last_at"):
                e[c] = pd.Series(pd.NaT, index=e.index, dtype="datetime64[ns]")
            elif c in ("satisfaction_n", "delay_n", "n_open", "sla_n"):
                e[c] = np.zeros(G, dtype="int64")
            else:
                e[c] = np.full(G, np.nan)
    if pcode is None:
        pcode = net.node_ids.get_indexer(e["provider"].to_numpy(dtype=object))
    for c in ("satisfaction_raters", "rater_n2", "within_sd"):
        if c not in e:
            e[c] = np.full(G, np.nan)
    sh = shrink_edges(e, net, pcode)
    e["satisfaction_shrunk"] = sh["shrunk"].to_numpy()
    e["satisfaction_low"] = sh["low"].to_numpy()
    e["satisfaction_high"] = sh["high"].to_numpy()
    e["sign"] = _shrink.sign(sh["low"], sh["high"], e["satisfaction_n"], net.threshold,
                             p_below=sh["p_below"].to_numpy())
    e["n_eff"] = sh["n_eff"].to_numpy()
    e["lfsr"] = sh["lfsr"].to_numpy()
    order = EDGE_COLUMNS + RATER_COLUMNS
    e = e[order + [c for c in e.columns if c not in order]]
    e.attrs["shrinkage"] = dict(sh.attrs.get("components", {}))
    if G and not (e["satisfaction_n"].to_numpy() > 0).any():
        e.attrs["missing"] = {"satisfaction": "no satisfaction ratings in the data: "
                              "satisfaction columns are NaN and sign is 'unrated'"}
    return e.reset_index(drop=True)


def shrink_edges(e: pd.DataFrame, net, pcode=None, *, level: float = 0.95,
                 threshold: float | None = None) -> pd.DataFrame:
    """:func:`icnet._shrink.shrink` of an edges table (rater columns used when present)."""
    if pcode is None:
        pcode = net.node_ids.get_indexer(e["provider"].to_numpy(dtype=object))

    def col(c):
        return e[c].to_numpy(float) if c in e else None

    wsd = col("within_sd")
    n, J = e["satisfaction_n"].to_numpy(float), col("satisfaction_raters")
    ssw = None if wsd is None or J is None else \
        np.where(np.isfinite(wsd), wsd ** 2 * (n - J), np.where(J == n, 0.0, np.nan))
    from .analysis import _ratings
    design = _ratings.design(net, e["provider"].to_numpy(dtype=object),
                             e["client"].to_numpy(dtype=object)) if len(e) else None
    return _shrink.shrink(n, e["satisfaction_mean"].to_numpy(float),
                          e["satisfaction_sd"].to_numpy(float), np.asarray(pcode), net.scale,
                          level=level, n_raters=J, rater_n2=col("rater_n2"), ss_within=ssw,
                          threshold=net.threshold if threshold is None else threshold,
                          design=design)


# --------------------------------------------------------------------------- levels

UNKNOWN_UNIT = "(no unit)"


def group_tables(net, column: str, stacklevel: int):
    """What ``by(column)`` needs besides the events (shared with the Dask path).

    Returns ``(groups, node_to_g, small)``: the sorted group ids, each node's
    group code, and the keyword arguments of the aggregated network other than
    ``events``, ``internal`` and ``node_ids`` (people, ratings, members …).
    """
    ppl = net.people
    group = pd.Series(ppl[column].to_numpy(dtype=object), index=ppl["person"].to_numpy())
    person_ids = net.node_ids.to_numpy()
    g_of_node = group.reindex(person_ids).to_numpy(dtype=object)
    missing = pd.isna(g_of_node)
    if missing.any():
        warnings.warn(
            f"{int(missing.sum())} ids have no {column!r} in the people table "
            f"({', '.join(map(str, person_ids[missing][:5]))}); they are grouped as "
            f"{UNKNOWN_UNIT!r}.", IcnetWarning, stacklevel=stacklevel)
        g_of_node = np.where(missing, UNKNOWN_UNIT, g_of_node)
    groups = np.sort(pd.unique(g_of_node).astype(object))
    gidx = pd.Index(groups)
    node_to_g = gidx.get_indexer(g_of_node)
    members = pd.DataFrame({"node": groups[node_to_g], "member": person_ids})
    members = members.sort_values(["node", "member"], kind="mergesort").reset_index(drop=True)
    ext = pd.Series(net.nodes["external_facing"].to_numpy(), index=person_ids)
    gp = pd.DataFrame({"person": groups, "unit": groups,
                       "external_facing": ext.groupby(g_of_node).any().reindex(groups)
                       .fillna(False).to_numpy(dtype=bool),
                       "n_members": pd.Series(g_of_node).value_counts().reindex(groups)
                       .to_numpy()})
    ratings = net.ratings
    if ratings is not None:
        r = ratings.rename(columns={"rater": "rater_person",
                                    "provider": "provider_person"})
        rg = group.reindex(r["rater_person"].to_numpy()).to_numpy(dtype=object)
        pgr = group.reindex(r["provider_person"].to_numpy()).to_numpy(dtype=object)
        r.insert(0, "provider", np.where(pd.isna(pgr), UNKNOWN_UNIT, pgr))
        r.insert(0, "rater", np.where(pd.isna(rg), UNKNOWN_UNIT, rg))
        ratings = r
    return groups, node_to_g, dict(people=gp, ratings=ratings, agreements=net.agreements,
                                   scale=net.scale, level=column, dropped=net.dropped,
                                   members=members, threshold=net.threshold)


def warn_unknown(net, stacklevel: int) -> None:
    """Warn about event ids missing from the people table (both engines)."""
    unknown = net.unknown
    if unknown:
        warnings.warn(
            f"{len(unknown)} ids in events are not in the people table "
            f"({', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''}); they are kept "
            "with unit NaN (see net.unknown). Add them to people to place them in a unit.",
            IcnetWarning, stacklevel=stacklevel)


# --------------------------------------------------------------------------- engines

_ENGINES: dict[str, Callable] = {}


def register_engine(name: str, build: Callable) -> None:
    """Make ``build`` the builder behind ``icnet.from_events(..., engine=name)``.

    ``build`` takes :func:`icnet.from_events`'s (already checked) arguments:
    ``events, people, ratings, agreements`` and the keywords ``scale``, ``level``,
    ``columns``, ``errors``, ``tz`` and ``threshold``. :mod:`icnet._dask` registers
    ``"dask"`` on import.
    """
    _ENGINES[name] = build


def engine_builder(name: str) -> Callable:
    """The builder registered for ``engine=name`` (see :func:`register_engine`)."""
    try:
        return _ENGINES[name]
    except KeyError:
        raise ParameterError(
            f"engine={name!r} is not available here (known: {sorted(_ENGINES)}). "
            "Install it with: pip install \"icnet[dask]\"") from None
