"""Privacy by default: small-group suppression and keyed pseudonyms.

Survey results about a group with fewer than ``min_group_size`` distinct raters
(default 5) could reveal who said what; every icnet function that reports a
survey-derived figure suppresses it (NaN, with a ``suppressed`` flag) below
that size. Person-level output is only produced when asked for
(``individuals=True``). Ids can be replaced by stable keyed hashes before data
leaves HR.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"provider": ["IT", "RRHH"], "n_raters": [12, 3], "score": [3.1, 4.8]})
>>> suppress(df, "n_raters", ["score"])
  provider  n_raters  score  suppressed
0       IT        12    3.1       False
1     RRHH         3    NaN        True
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from . import _validate
from .errors import ParameterError

__all__ = ["MIN_GROUP_SIZE", "suppress", "pseudonymize", "check_individuals"]

#: Default smallest number of distinct raters behind a reported survey figure.
MIN_GROUP_SIZE = 5


def suppress(df: pd.DataFrame, count_column: str, value_columns, *,
             min_group_size: int = MIN_GROUP_SIZE) -> pd.DataFrame:
    """Blank survey figures backed by fewer than ``min_group_size`` raters.

    Parameters
    ----------
    df : DataFrame
    count_column : str
        Column with the number of distinct raters behind each row.
    value_columns : list of str
        Columns to set to NaN where the group is too small.
    min_group_size : int, default 5

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` (bool) added or updated.

    Examples
    --------
    >>> suppress(pd.DataFrame({"n": [4], "x": [1.0]}), "n", ["x"], min_group_size=4)
       n    x  suppressed
    0  4  1.0       False
    """
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    if count_column not in df:
        raise ParameterError(f"suppress: no column {count_column!r} in the table.")
    out = df.copy()
    small = (out[count_column].fillna(0).to_numpy() < min_group_size)
    for c in value_columns:
        if c in out:
            out[c] = out[c].astype(float).where(~small, np.nan)
    prev = out["suppressed"].to_numpy(dtype=bool) if "suppressed" in out else False
    out["suppressed"] = small | prev
    return out


def check_individuals(value) -> bool:
    """Check the ``individuals`` switch: only a real ``True`` or ``False`` is accepted.

    A string such as ``"no"`` is truthy in Python and would turn person-level
    output *on*; numbers and ``None`` are refused too, so the switch cannot be
    flipped by accident.

    Examples
    --------
    >>> check_individuals(False)
    False
    >>> check_individuals("no")
    Traceback (most recent call last):
    ...
    icnet.errors.ParameterError: The 'individuals' parameter must be True or False; got 'no' (str). Pass individuals=True only to show person-level survey values.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(
            f"The 'individuals' parameter must be True or False; got {value!r} "
            f"({type(value).__name__}). Pass individuals=True only to show person-level "
            "survey values.")
    return bool(value)


def pseudonymize(df: pd.DataFrame, columns, key: str | bytes, *, length: int = 12
                 ) -> pd.DataFrame:
    """Replace ids by keyed hashes (HMAC-SHA256), stable for the same key.

    The same id gets the same pseudonym in every column and every run with
    the same ``key``; without the key the mapping cannot be recomputed.

    Parameters
    ----------
    df : DataFrame
    columns : list of str
        Id columns to replace (e.g. ``["provider", "client"]``).
    key : str or bytes
        The secret key (keep it out of the data). A ``str`` is encoded as
        UTF-8; other types (``int``, ``float``, ``None`` …) raise
        ``TypeError``: ``bytes(42)`` would be 42 zero bytes, equal as an HMAC
        key to the empty key. Use a long random key, e.g.
        ``secrets.token_hex(32)``.
    length : int, default 12
        Hex characters kept (48 bits; collisions are checked).

    Returns
    -------
    DataFrame
        A copy with the columns replaced.

    Raises
    ------
    TypeError
        ``key`` is not ``str`` or ``bytes``.
    ParameterError
        Empty key, unknown column, or a collision at this length.

    Notes
    -----
    ``pseudonym = hex(HMAC-SHA256(key, utf8(id)))[:length]`` (RFC 2104); with
    ``length=64`` the full digest, checked in the tests against the RFC 4231
    test vectors.

    Examples
    --------
    >>> df = pd.DataFrame({"provider": ["ana"], "client": ["luis"]})
    >>> pseudonymize(df, ["provider", "client"], key="s3cret")["provider"].str.len().item()
    12
    """
    if not isinstance(key, (str, bytes)):
        raise TypeError(
            f"pseudonymize: the key must be str or bytes; got {type(key).__name__} "
            f"{key!r}. Pass a secret text, e.g. key=secrets.token_hex(32) kept out of the "
            "data (an int is not a key: bytes(42) is 42 zero bytes).")
    if not key:
        raise ParameterError("pseudonymize needs a non-empty secret key.")
    _validate.in_range("length", length, low=8, high=64, integer=True)
    k = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    missing = [c for c in columns if c not in df]
    if missing:
        raise ParameterError(f"pseudonymize: no column(s) {missing} in the table.")
    out = df.copy()
    values = pd.unique(pd.concat([df[c].dropna().astype(str) for c in columns],
                                 ignore_index=True))
    digest = {v: hmac.new(k, v.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
              for v in values}
    if len(set(digest.values())) != len(digest):
        raise ParameterError("pseudonymize: two ids collide at this length; increase length.")
    for c in columns:
        out[c] = df[c].map(lambda v: np.nan if pd.isna(v) else digest[str(v)])
    return out
