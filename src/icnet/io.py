"""Reading and validating the input tables.

This is the only module that knows user column names. It turns events,
people, ratings and agreements given as pandas DataFrames, dicts of columns,
or CSV/Parquet paths into canonical frames, and either raises a
:class:`~icnet.errors.SchemaError` naming the table, column, offending rows and
fix (``errors="raise"``) or moves every offending row into a *dropped* table
with its reason (``errors="drop"``). Rows in = rows kept + rows dropped.

Timestamps follow one explicit rule: naive timestamps are read in the time
zone ``tz`` (default ``"UTC"``), aware ones are converted; everything is
stored as naive UTC (``datetime64[ns]``). Dates are never guessed or wrapped:
ambiguous day/month orders and mixed formats are refused until ``dayfirst=`` or
``date_format=`` is given, relative words ("now") are refused, and placeholder
dates (before 1901 or from 2200 on, e.g. 9999-12-31) mean *open* in
``delivered_at``/``last_review`` and are refused elsewhere. Files may be CSV
(``sep=``, ``encoding=``, ``decimal=``), Parquet or Excel (``sheet=``); see
:data:`READ_OPTIONS` and :func:`find_tables`.

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

import codecs
import csv
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from . import _validate
from ._engine import (DROP_HINT, N_SHOW, clean_factorize, empty_dropped, id_strings,
                      int_floats, missing_mask, parse_numbers, parse_timestamps_ex,
                      require_columns, rows_text)
from .errors import EmptyNetworkError, IcnetError, IcnetWarning, ParameterError, SchemaError

__all__ = [
    "SCHEMAS",
    "Table",
    "read_table",
    "read_events",
    "read_people",
    "read_ratings",
    "read_agreements",
    "validate",
    "find_tables",
    "MISSING",
    "READ_OPTIONS",
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
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "si", "sí", "x"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", ""}

#: Cell texts read as *missing* in every column (compared stripped and
#: case-insensitively), so "N/A" or "NULL" never becomes a person. Replace the
#: list with ``na_values=[...]`` (``na_values=()`` keeps only blank cells missing).
MISSING = ("", "n/a", "na", "#n/a", "null", "none", "nan", "nat", "-", "--", "nil")

#: Reading options accepted by every reader, :func:`validate` and
#: :func:`icnet.from_events` (CLI: ``--sep``, ``--encoding``, ``--decimal``,
#: ``--sheet``, ``--dayfirst``/``--monthfirst``, ``--date-format``).
READ_OPTIONS = ("sep", "encoding", "decimal", "sheet", "dayfirst", "date_format", "na_values")

#: Longest ``review_every`` accepted (50 years): a next review stays a representable date.
_MAX_REVIEW_DAYS = 18_262
#: Longest delivery delay accepted (100 years): longer ones are data errors, and past 292
#: years a delay does not fit datetime64[ns].
_MAX_DELAY_DAYS = 36_525
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _options(opts: Mapping[str, Any]) -> dict:
    """Check the reading options; return them with defaults filled in."""
    unknown = sorted(set(opts) - set(READ_OPTIONS))
    if unknown:
        raise ParameterError(
            f"Unknown reading option(s) {unknown}; the options are {list(READ_OPTIONS)}.")
    o = dict.fromkeys(READ_OPTIONS)
    o.update(opts)
    if o["sep"] is not None and (not isinstance(o["sep"], str) or not o["sep"]):
        raise ParameterError(f"The 'sep' parameter must be a non-empty str such as ';'; "
                             f"got {o['sep']!r}.")
    if o["encoding"] is not None:
        try:
            codecs.lookup(o["encoding"])
        except (LookupError, TypeError):
            raise ParameterError(
                f"The 'encoding' parameter must be a text encoding such as 'utf-8', "
                f"'latin-1' or 'cp1252'; got {o['encoding']!r}.") from None
    if o["decimal"] not in (None, ".", ","):
        raise ParameterError(f"The 'decimal' parameter must be '.' or ','; got "
                             f"{o['decimal']!r}.")
    if o["sheet"] is not None and (isinstance(o["sheet"], bool) or
                                   not isinstance(o["sheet"], (str, int))):
        raise ParameterError(f"The 'sheet' parameter must be a sheet name or index; got "
                             f"{o['sheet']!r}.")
    if o["dayfirst"] is not None and not isinstance(o["dayfirst"], (bool, np.bool_)):
        raise ParameterError(f"The 'dayfirst' parameter must be True, False or None; got "
                             f"{o['dayfirst']!r}.")
    if o["date_format"] is not None and not isinstance(o["date_format"], str):
        raise ParameterError(f"The 'date_format' parameter must be a strftime format such "
                             f"as '%d/%m/%Y'; got {o['date_format']!r}.")
    na = o["na_values"]
    if na is None:
        o["na_values"] = frozenset(MISSING)
    else:
        if isinstance(na, str) or not all(isinstance(x, str) for x in na):
            raise ParameterError(f"The 'na_values' parameter must be a list of str such as "
                                 f"['N/A', 'NULL']; got {na!r}.")
        o["na_values"] = frozenset({""} | {x.strip().lower() for x in na})
    return o


def _check_tz(tz) -> str:
    try:
        if not isinstance(tz, str):
            raise TypeError
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception:  # noqa: BLE001 - pytz/zoneinfo raise many types
        raise ParameterError(
            f"The 'tz' parameter must be a time zone name such as 'UTC' or "
            f"'Europe/Madrid'; got {tz!r}.") from None
    return tz


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

def read_table(data: Any, table: str, *, columns: Mapping[str, str] | None = None,
               **read_options) -> pd.DataFrame:
    """Load one raw table and map user column names onto icnet's.

    Parameters
    ----------
    data : DataFrame, dict of columns, str or path
        A CSV (``.csv``, ``.csv.gz``, ``.tsv``), Parquet (``.parquet``,
        ``.pq``) or Excel (``.xlsx``; needs ``pip install "icnet[excel]"``)
        file, or an in-memory table.
    table : {"events", "people", "ratings", "agreements"}
        Which table this is (used in messages).
    columns : dict, optional
        ``{"their_name": "icnet_name"}``; names not present are ignored, so
        one mapping can serve every table.
    **read_options
        ``sep`` (CSV separator, default ``,``; tab for ``.tsv``), ``encoding``
        (default UTF-8), ``decimal`` (``.`` or ``,``), ``sheet`` (Excel: the
        sheet; default the one named like the table, or the only one),
        ``na_values`` (texts read as missing; default :data:`MISSING`), and
        ``dayfirst``/``date_format`` (used when timestamps are parsed).

    Returns
    -------
    pandas.DataFrame
        A new frame with a fresh ``RangeIndex``; the input is never modified.

    Raises
    ------
    SchemaError
        Unreadable file, duplicated column names, rows with more or fewer
        fields than the header (a trailing comma shifts every column), or a
        mapping that makes two columns share a name. The message suggests
        ``sep=``/``encoding=`` when the file looks semicolon-separated or not
        UTF-8.

    Examples
    --------
    >>> read_table({"de": ["a"], "para": ["b"]}, "events",
    ...            columns={"de": "provider", "para": "client"}).columns.tolist()
    ['provider', 'client']
    """
    _validate.one_of("table", table, SCHEMAS)
    mapping = _check_mapping(columns)
    opts = _options(read_options)
    if isinstance(data, (str, os.PathLike)):
        df = _read_file(os.fspath(data), table, opts)
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
    cols = [unicodedata.normalize("NFC", c.strip()) for c in cols]
    df.columns = cols
    df = _na_to_missing(df, opts["na_values"])
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


def _na_to_missing(df: pd.DataFrame, na: frozenset) -> pd.DataFrame:
    """Text cells spelled like a missing value (see :data:`MISSING`) become NaN."""
    out = None
    for c in df.columns:
        col = df[c]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)):
            continue
        try:
            codes, uniq = pd.factorize(col, use_na_sentinel=True)
        except TypeError:          # lists/dicts in cells: reported where the column is used
            continue
        u = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
        try:                     # .str gives NaN for non-text cells: never a hit
            hit = u.str.strip().str.lower().isin(na).to_numpy(dtype=bool)
        except AttributeError:   # no text at all
            continue
        if hit.any():
            out = df.copy(deep=False) if out is None else out
            out[c] = col.mask(np.isin(codes, np.flatnonzero(hit)))
    return df if out is None else out


def _open_text(path: str, encoding: str):
    low = path.lower()
    if low.endswith(".gz"):
        import gzip
        return gzip.open(path, "rt", encoding=encoding, newline="")
    if low.endswith(".bz2"):
        import bz2
        return bz2.open(path, "rt", encoding=encoding, newline="")
    if low.endswith(".xz"):
        import lzma
        return lzma.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def _check_csv_shape(path: str, table: str, sep: str, encoding: str, sep_given: bool):
    """Header and field counts of every record (C-speed ``csv`` module pass).

    Refuses duplicated headers, a semicolon/tab file read with ``,``, and rows
    with more or fewer fields than the header.
    """
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=sep)
        header = next(reader, None)
        if header is None:
            return
        counts = np.fromiter((len(r) for r in reader), dtype=np.int64)
    header = [h.strip() for h in header]
    if not sep_given and len(header) == 1:
        for alt, name in ((";", "';'"), ("\t", "'\\t' (tab)"), ("|", "'|'")):
            if alt in header[0]:
                raise SchemaError(
                    f"{table}: {path!r} looks {name}-separated (its header is one column "
                    f"{header[0][:60]!r}). Pass sep={alt!r} (CLI: --sep '{alt}'), and "
                    "decimal=',' if numbers use a decimal comma.")
    named = [h for h in header if h]
    dup = sorted({h for h in named if named.count(h) > 1})
    if dup:
        raise SchemaError(
            f"{table}: {path!r} has duplicated column names {dup} in its header. Rename "
            "or remove the copies so each column appears once.")
    n = len(header)
    real = counts > 0                         # blank lines are skipped, as pandas does
    more = np.flatnonzero(real & (counts > n))
    fewer = np.flatnonzero(real & (counts < n))
    for rows, what, hint in (
            (more, "more fields than the header",
             "A trailing separator at the end of the lines (or an unquoted separator inside "
             "a value) would shift every column: remove it or quote the values"),
            (fewer, "fewer fields than the header",
             "Fill the missing fields (empty between separators) or fix the line breaks")):
        if rows.size:
            shown = ", ".join(f"{r} ({counts[r]} fields)" for r in rows[:N_SHOW])
            extra = "" if sep_given else (
                f"; if the file is separated by another character pass sep= "
                f"(CLI: --sep)")
            raise SchemaError(
                f"{table}: {path!r} has {rows.size} rows with {what} ({n}: {header[:8]}) "
                f"(rows {shown}{', …' if rows.size > N_SHOW else ''}). {hint}{extra}.")


def _read_excel(path: str, table: str, sheet) -> pd.DataFrame:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise SchemaError(
            f"{table}: reading the Excel file {path!r} needs openpyxl. Install it with: "
            'python -m pip install "icnet[excel]"') from None
    try:
        names = pd.ExcelFile(path, engine="openpyxl").sheet_names
    except Exception as err:  # noqa: BLE001 - openpyxl/zipfile raise many types
        raise SchemaError(
            f"{table}: could not read the Excel file {path!r} ({type(err).__name__}: "
            f"{err}). Save it again as .xlsx or export the sheet as CSV.") from None
    if sheet is None:
        match = [n for n in names if n.strip().lower() == table]
        if match:
            sheet = match[0]
        elif len(names) == 1:
            sheet = names[0]
        else:
            raise SchemaError(
                f"{table}: the workbook {path!r} has sheets {names} and none is called "
                f"'{table}'. Pass sheet='name' (CLI: --sheet name) or name the sheet "
                f"'{table}'.")
    elif isinstance(sheet, str) and sheet not in names:
        raise SchemaError(f"{table}: the workbook {path!r} has no sheet {sheet!r}; its sheets "
                          f"are {names}. Pass one of them as sheet=.")
    elif isinstance(sheet, int) and not 0 <= sheet < len(names):
        raise SchemaError(f"{table}: the workbook {path!r} has {len(names)} sheets; sheet="
                          f"{sheet} does not exist.")
    try:
        df = pd.read_excel(path, sheet_name=sheet, engine="openpyxl", dtype=object,
                           keep_default_na=False, na_values=[""])
    except Exception as err:  # noqa: BLE001
        raise SchemaError(
            f"{table}: could not read sheet {sheet!r} of {path!r} ({type(err).__name__}: "
            f"{err}).") from None
    cols = [str(c) for c in df.columns]
    mangled = [c for c in cols if re.search(r"\.\d+$", c) and c.rsplit(".", 1)[0] in cols]
    if mangled:
        raise SchemaError(
            f"{table}: sheet {sheet!r} of {path!r} has duplicated column names "
            f"{sorted({c.rsplit('.', 1)[0] for c in mangled})}. Rename or remove the copies.")
    return df


def _read_file(path: str, table: str, opts: dict | None = None) -> pd.DataFrame:
    opts = _options({}) if opts is None else opts
    low = path.lower()
    if not os.path.exists(path):
        raise SchemaError(f"{table}: file {path!r} does not exist. Check the path.")
    if low.endswith((".xlsx", ".xlsm")):
        return _read_excel(path, table, opts["sheet"])
    if low.endswith((".json", ".html", ".htm", ".png", ".jpg", ".pdf", ".ipynb")):
        raise SchemaError(f"{table}: {path!r} is not a table file. icnet reads CSV (.csv, "
                          ".csv.gz, .tsv), Parquet (.parquet) and Excel (.xlsx) files.")
    if low.endswith(".xls"):
        raise SchemaError(f"{table}: {path!r} is an old-style .xls workbook. Save it as "
                          ".xlsx (or export the sheet as CSV) and read that.")
    if low.endswith((".parquet", ".pq")) or os.path.isdir(path):
        try:
            return pd.read_parquet(path)
        except ImportError as err:
            raise SchemaError(
                f"{table}: reading {path!r} needs an optional package ({err}). Install it "
                "with: python -m pip install pyarrow") from None
        except Exception as err:  # noqa: BLE001 - pyarrow raises many types
            raise SchemaError(
                f"{table}: could not read the Parquet data {path!r} ({type(err).__name__}: "
                f"{err}). Check the file is complete, or export the table as CSV. A folder "
                "must be a Parquet dataset or hold tables named events, people, ratings, "
                "agreements (.csv, .parquet, .xlsx).") from None
    sep_given = opts["sep"] is not None
    sep = opts["sep"] or ("\t" if low.endswith((".tsv", ".tsv.gz", ".tab")) else ",")
    encoding = opts["encoding"] or "utf-8-sig"
    try:
        if not low.endswith(".zip"):
            _check_csv_shape(path, table, sep, encoding, sep_given)
        # ids and free text stay text; numbers and timestamps are parsed later
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                           na_values=[""], encoding=encoding, index_col=False)
    except SchemaError:
        raise
    except UnicodeDecodeError as err:
        raise SchemaError(
            f"{table}: could not read {path!r}: it is not {encoding.replace('-sig', '')} "
            f"text ({err.reason} at "
            f"byte {err.start}). Pass its encoding, e.g. encoding='latin-1' or 'cp1252' "
            "(CLI: --encoding latin-1), or save it as UTF-8.") from None
    except (EOFError, OSError) as err:
        raise SchemaError(
            f"{table}: could not read {path!r} ({type(err).__name__}: {err}). If it is "
            "compressed (.gz), the file is incomplete or corrupt: download or export it "
            "again.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error,
            ValueError) as err:
        raise SchemaError(
            f"{table}: could not read {path!r} ({type(err).__name__}: {err}). Give a "
            "CSV with a header row (options sep=, encoding=, decimal=), a Parquet or an "
            ".xlsx file.") from None
    except Exception as err:  # noqa: BLE001 - zlib.error and other codec failures
        raise SchemaError(
            f"{table}: could not read {path!r} ({type(err).__name__}: {err}). Check the "
            "file is complete, or export it again.") from None


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
        rows = np.flatnonzero(mask)[:N_SHOW]
        vals = self.raw[column].to_numpy()[rows] if values is None and column in \
            self.raw else (None if values is None else np.asarray(values)[rows])
        msg = (f"{self.table} column '{column}' has {n} {what} "
               f"(rows {rows_text(rows, vals, n)}). {fix}")
        self.found.append((reason, column, n, msg))
        if self.errors == "raise":
            raise SchemaError(f"{msg} {DROP_HINT}")
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


# --------------------------------------------------------------------------- coercion


def _id_codes(*cols: pd.Series, sort: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """Integer codes (-1 = missing) of one or more id columns over shared categories.

    The categories are the cleaned (stripped, non-blank) distinct ids, sorted.
    Only the distinct values are cleaned, so millions of rows cost one hash pass.
    """
    both = cols[0].reset_index(drop=True) if len(cols) == 1 else \
        pd.concat([c.reset_index(drop=True) if len({x.dtype for x in cols}) == 1 else
                   int_floats(c).reset_index(drop=True).astype(object) for c in cols],
                  ignore_index=True)
    try:
        codes0, clean = clean_factorize(both)
    except SchemaError:
        for c in cols:          # name the column holding the lists (error path only)
            clean_factorize(c)
        raise
    c2, cats = pd.factorize(pd.Series(clean, dtype=object), sort=sort, use_na_sentinel=True)
    c2 = np.append(np.asarray(c2, dtype=np.int64), -1)
    codes = c2[codes0]  # code -1 → the trailing -1
    bounds = np.cumsum([0] + [len(c) for c in cols])
    return [codes[bounds[i]:bounds[i + 1]] for i in range(len(cols))], \
        np.asarray(cats, dtype=object)


def _categorical(codes: np.ndarray, cats: np.ndarray, index) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object)),
                     index=index)


def _bools(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return (boolean series with missing = False, invalid mask)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool), np.zeros(len(s), dtype=bool)
    miss = s.isna().to_numpy()
    txt = s.astype(str).str.strip().str.lower()
    is_t = txt.isin(_TRUE).to_numpy()
    is_f = txt.isin(_FALSE).to_numpy() | miss
    return pd.Series(is_t, index=s.index), ~(is_t | is_f)


def _require(raw: pd.DataFrame, table: str):
    require_columns(raw, table, SCHEMAS[table]["required"])


def _check_errors(errors):
    return _validate.one_of("errors", errors, ["raise", "drop"])


def _finish(table: str, raw: pd.DataFrame, data: pd.DataFrame, probs: _Problems,
            *, allow_empty: bool) -> Table:
    keep = ~probs.bad
    data = data.loc[keep].reset_index(drop=True)
    dropped = probs.dropped() if probs.bad.any() else empty_dropped()
    if len(data) == 0 and not allow_empty:
        why = ("the table has no rows" if len(raw) == 0 else
               f"all {len(raw)} rows were rejected (first reasons: "
               f"{sorted(set(dropped['reason']))})")
        raise EmptyNetworkError(
            f"{table}: no usable rows: {why}. Pass a table with at least one valid "
            "provider→client event; see net.dropped or icnet.io.validate for details.")
    return Table(table, data, dropped, len(raw), list(probs.found))


# --------------------------------------------------------------------------- tables

def _ts_column(p: _Problems, raw: pd.DataFrame, col: str, tz: str, o: dict,
               *, open_ok: bool, fix: str) -> tuple[pd.Series, np.ndarray]:
    """Parse one timestamp column and record its problems (see :func:`parse_timestamps_ex`).

    ``open_ok``: placeholder dates (9999-12-31, 1900-01-01, any year before 1901
    or from 2200 on) mean *open / not yet* and become NaT with a warning;
    otherwise they are ``out_of_range`` rows.
    """
    ts, miss, bad, flags = parse_timestamps_ex(raw[col], tz, dayfirst=o["dayfirst"],
                                               date_format=o["date_format"], table=p.table)
    p.add(flags["relative_date"], "relative_date", col,
          "values that are not dates but relative words",
          "Write the actual date (ISO 8601 such as 2025-03-01): words such as 'now' or "
          "'today' would change meaning with the day icnet runs.")
    oor = flags["out_of_range"]
    if open_ok:
        if oor.any():
            rows = np.flatnonzero(oor)[:N_SHOW].tolist()
            warnings.warn(
                f"{p.table} column '{col}': {int(oor.sum())} placeholder dates (before 1901 "
                f"or from 2200 on, such as 9999-12-31; rows {rows}) are read as open "
                "(empty).", IcnetWarning, stacklevel=4)
    else:
        p.add(oor, "out_of_range", col,
              "placeholder or out-of-range dates (before 1901 or from 2200 on)",
              "Use the real date, or leave the cell empty when there is none (placeholders "
              "such as 9999-12-31 are only read as 'open' in delivered_at and last_review).")
    p.add(bad, "bad_timestamp", col, "values that are not timestamps", fix)
    return ts, miss


def read_events(data, *, columns=None, scale=(1, 5), errors="raise", tz="UTC",
                **read_options) -> Table:
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
    **read_options
        ``sep``, ``encoding``, ``decimal``, ``sheet``, ``na_values`` (see
        :func:`read_table`), ``dayfirst`` (read ``01/03/2025`` as 1 March) and
        ``date_format`` (a strftime format for every timestamp).

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
    ``relative_date``
        a word such as "now" or "today" instead of a date.
    ``out_of_range``
        a ``requested_at`` before 1901 or from 2200 on (placeholders such as
        9999-12-31). In ``delivered_at`` such placeholders mean *still open*:
        NaT, kept, with an :class:`~icnet.errors.IcnetWarning`.

    Dates are never guessed: ``01/03/2025``-like columns where a value reads
    both ways need ``dayfirst=`` or ``date_format=``, and a column mixing ISO
    and day/month/year dates is refused (:class:`SchemaError`, also with
    ``errors="drop"``). Texts in :data:`MISSING` ("N/A", "NULL", "-" …) are
    missing values; ids are Unicode-normalised (NFC).
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
    o = _options(read_options)
    tz = _check_tz(tz)
    raw = read_table(data, "events", columns=columns, **read_options)
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
            ts, miss = _ts_column(p, raw, col, tz, o, open_ok=col == "delivered_at",
                                  fix="Use ISO 8601 text such as 2025-03-01T14:30:00 (a "
                                      "trailing Z or +01:00 marks the time zone).")
            if col == "requested_at":
                p.add(miss, "missing_timestamp", col, "empty request times",
                      "Fill them in or remove the column (open requests have an empty "
                      "delivered_at, not an empty requested_at).")
            out[col] = ts
    for col, lo in (("satisfaction", None), ("delay_hours", 0.0), ("expected_hours", 0.0)):
        if col not in raw:
            continue
        num, _, bad = parse_numbers(raw[col], o["decimal"])
        p.add(bad, "not_a_number", col, "values that are not finite numbers",
              "Use plain numbers (pass decimal=',' for a decimal comma with dots as "
              "thousands separators).")
        out[col] = num
    if "satisfaction" in out:
        v = out["satisfaction"].to_numpy()
        p.add((v < low) | (v > high), "out_of_scale", "satisfaction",
              f"values outside the scale {_fmt(low)}..{_fmt(high)}",
              "Pass scale=(low, high) matching your survey or clean those rows.")
    if "requested_at" in out and "delivered_at" in out:
        # two dates of 1901..2199 can be 299 years apart, more than datetime64[ns] spans: the
        # delay overflowed (OverflowError, found by the fuzzer, #20). Measured in µs here.
        gap = (out["delivered_at"].astype("datetime64[us]")
               - out["requested_at"].astype("datetime64[us]")).abs()
        far = (gap > pd.Timedelta(days=_MAX_DELAY_DAYS)).to_numpy(bool)
        p.add(far, "out_of_range", "delivered_at",
              f"deliveries more than 100 years ({_MAX_DELAY_DAYS} days) from their request",
              "Check both timestamp columns (a placeholder date, or day and month read the "
              "wrong way?).", values=out["delivered_at"].astype(str).to_numpy())
        out["delivered_at"] = out["delivered_at"].where(~far)
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
        eid = int_floats(raw["event_id"])
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


def read_people(data, *, columns=None, errors="raise", **read_options) -> Table:
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
    _options(read_options)
    raw = read_table(data, "people", columns=columns, **read_options)
    _require(raw, "people")
    p = _Problems("people", raw, errors)
    out = {"person": id_strings(raw["person"]), "unit": id_strings(raw["unit"])}
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
            out[col] = id_strings(raw[col])
    if "external_facing" in raw:
        flag, bad = _bools(raw["external_facing"])
        p.add(bad, "bad_flag", "external_facing", "values that are not yes/no",
              "Use true/false, yes/no or 1/0.")
        out["external_facing"] = flag
    else:
        out["external_facing"] = pd.Series(False, index=raw.index)
    df = pd.DataFrame(out)
    return _finish("people", raw, df, p, allow_empty=True)


def read_ratings(data, *, columns=None, scale=(1, 5), errors="raise", tz="UTC",
                 **read_options) -> Table:
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
    o = _options(read_options)
    tz = _check_tz(tz)
    raw = read_table(data, "ratings", columns=columns, **read_options)
    _require(raw, "ratings")
    p = _Problems("ratings", raw, errors)
    out = {"rater": id_strings(raw["rater"]), "provider": id_strings(raw["provider"])}
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
        num, miss, bad = parse_numbers(raw[col], o["decimal"])
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
        ts, _ = _ts_column(p, raw, "answered_at", tz, o, open_ok=False,
                           fix="Use ISO 8601 text such as 2025-03-01.")
        out["answered_at"] = ts
    for col in ("dimension", "period"):
        if col in raw:
            out[col] = id_strings(raw[col])
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


def read_agreements(data, *, columns=None, scale=(1, 5), errors="raise", tz="UTC",
                    **read_options) -> Table:
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
    o = _options(read_options)
    tz = _check_tz(tz)
    raw = read_table(data, "agreements", columns=columns, **read_options)
    _require(raw, "agreements")
    p = _Problems("agreements", raw, errors)
    out = {"provider": id_strings(raw["provider"]), "client": id_strings(raw["client"])}
    for col in ("provider", "client"):
        p.add(out[col].isna().to_numpy(), "missing_id", col, "empty ids",
              "Every agreement needs a provider and a client.")
    if "service" in raw:
        out["service"] = id_strings(raw["service"])
    for col in ("max_delay_hours", "min_satisfaction"):
        if col in raw:
            num, _, bad = parse_numbers(raw[col], o["decimal"])
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
        td, bad, unitless = _timedeltas(raw["review_every"])
        p.add(unitless, "duration_without_unit", "review_every",
              "numbers without a unit", "Give the unit: 90D (days), 12W (weeks) or "
              "'180 days'; a bare 90 would be 90 nanoseconds.")
        p.add(bad, "bad_duration", "review_every", "values that are not durations",
              "Use durations such as 90D, 12W or '180 days'.")
        # a review date must stay a date: last_review (< 2200) + review_every < 2262, the end
        # of datetime64[ns]; longer periods overflowed in agreement_compliance (#20)
        long = (td > pd.Timedelta(days=_MAX_REVIEW_DAYS)).to_numpy(bool)
        p.add(long, "out_of_range", "review_every",
              f"durations longer than 50 years ({_MAX_REVIEW_DAYS} days)",
              "Use the agreed review period such as 90D or 365D; leave it empty for an "
              "agreement without reviews.")
        out["review_every"] = td.where(~long)
    if "last_review" in raw:
        ts, _ = _ts_column(p, raw, "last_review", tz, o, open_ok=True,
                           fix="Use ISO 8601 text such as 2025-03-01.")
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


def _timedeltas(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Return (Timedelta series, invalid mask, unit-less number mask)."""
    miss = missing_mask(s)
    none = np.zeros(len(s), dtype=bool)
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        return s, none, none.copy()
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(pd.NaT, index=s.index, dtype="timedelta64[ns]"), none, ~miss
    vals = np.full(len(s), np.timedelta64("NaT"), dtype="timedelta64[ns]")
    bad = np.zeros(len(s), dtype=bool)
    txt = s.astype(str).str.strip()
    unitless = txt.str.match(_PLAIN_NUMBER).to_numpy() & ~miss
    for u in pd.unique(txt[~miss & ~unitless]):
        try:
            td = pd.to_timedelta(u)
            if pd.isna(td) or td <= pd.Timedelta(0):
                raise ValueError
        except (ValueError, TypeError, OverflowError):
            bad |= (txt == u).to_numpy() & ~miss
            continue
        vals[(txt == u).to_numpy() & ~miss] = td.to_timedelta64()
    return pd.Series(vals, index=s.index), bad, unitless


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# --------------------------------------------------------------------------- validate

_READERS: dict[str, Callable[..., Table]] = {
    "events": read_events, "people": read_people,
    "ratings": read_ratings, "agreements": read_agreements,
}


def validate(events=None, people=None, ratings=None, agreements=None, *, columns=None,
             scale=(1, 5), tz="UTC", **read_options) -> pd.DataFrame:
    """Check input tables and list every problem found, without raising.

    Parameters
    ----------
    events, people, ratings, agreements : table-like, optional
        As accepted by :func:`icnet.from_events`.
    columns, scale, tz
        As in :func:`icnet.from_events`.
    **read_options
        As in :func:`read_events` (``sep``, ``encoding``, ``dayfirst`` …).

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
        kw = {"columns": columns, "errors": "drop", **read_options}
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
        except IcnetError as err:
            rows.append((name, "error", np.nan, str(err)))
            continue
        rows += [(name, reason, float(n), msg) for reason, _, n, msg in t.problems]
    return pd.DataFrame(rows, columns=["table", "reason", "n_rows", "message"])


# --------------------------------------------------------------------------- folders

_TABLE_EXT = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq", ".xlsx", ".xlsm")


def find_tables(source, *, sheet=None) -> dict:
    """Find the input tables in a folder or an Excel workbook, by their names.

    A folder's files named ``events``, ``people``, ``ratings`` and
    ``agreements`` (``.csv``, ``.csv.gz``, ``.tsv``, ``.parquet``, ``.pq`` or
    ``.xlsx``; case-insensitive) are used; every other file (``truth.json``,
    ``report.html``, ``dropped.csv`` …) is ignored, so the folders icnet
    itself writes (``icnet generate``, ``data/samples/planta``) can be read
    back. A workbook's sheets are matched the same way (a workbook with one
    sheet, or ``sheet=``, gives the events).

    Parameters
    ----------
    source : str or path
        A folder, or an ``.xlsx`` workbook.
    sheet : str, optional
        For a workbook: the events sheet when no sheet is named ``events``.

    Returns
    -------
    dict
        ``{table: path}`` for a folder; ``{table: DataFrame}`` for a
        workbook. Only tables found are present.

    Raises
    ------
    SchemaError
        ``source`` does not exist, or two files claim the same table
        (``events.csv`` and ``events.parquet``).

    Examples
    --------
    >>> import icnet, pathlib
    >>> found = find_tables(pathlib.Path(icnet.__file__).parent / "_data" / "planta")
    >>> sorted(found)
    ['agreements', 'events', 'people', 'ratings']
    """
    src = os.fspath(source)
    if not os.path.exists(src):
        raise SchemaError(f"{src!r} does not exist. Give a folder of tables or a workbook.")
    names = list(SCHEMAS)
    if os.path.isdir(src):
        found: dict[str, list[str]] = {}
        for entry in sorted(os.listdir(src)):
            low = entry.lower()
            for ext in _TABLE_EXT:
                if low.endswith(ext) and low[:-len(ext)] in names:
                    found.setdefault(low[:-len(ext)], []).append(os.path.join(src, entry))
        clash = {k: v for k, v in found.items() if len(v) > 1}
        if clash:
            k, v = next(iter(clash.items()))
            raise SchemaError(
                f"{src!r} holds several {k} tables ({[os.path.basename(x) for x in v]}). "
                "Keep one, or pass the files one by one.")
        return {k: v[0] for k, v in found.items()}
    if not src.lower().endswith((".xlsx", ".xlsm")):
        raise SchemaError(f"{src!r} is neither a folder nor an .xlsx workbook.")
    chosen = _read_excel(src, "events", sheet) if sheet is not None else None
    try:
        sheets = pd.ExcelFile(src, engine="openpyxl").sheet_names
    except ImportError:
        raise SchemaError(f"reading the Excel file {src!r} needs openpyxl. Install it with: "
                          'python -m pip install "icnet[excel]"') from None
    except Exception as err:  # noqa: BLE001
        raise SchemaError(f"could not read the Excel file {src!r} ({type(err).__name__}: "
                          f"{err}).") from None
    out = {}
    for sh in sheets:
        key = sh.strip().lower()
        if key in names and key not in out:
            out[key] = _read_excel(src, key, sh)
    if "events" not in out:
        if chosen is not None:
            out["events"] = chosen
        elif len(sheets) == 1:
            out["events"] = _read_excel(src, "events", sheets[0])
    return out
