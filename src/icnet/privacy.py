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
import re

import numpy as np
import pandas as pd

from . import _validate
from ._dp import Budget
from .errors import ParameterError

__all__ = ["MIN_GROUP_SIZE", "PROTECTION", "SURVEY_EDGE_COLUMNS", "SPIRAL_SURVEY_COLUMNS",
           "suppress", "suppress_edges", "pseudonymize", "check_individuals", "audit",
           "publishable_dropped", "dp_quality", "Budget"]

#: Default protection level of the disclosure audit: a suppressed group's mean must stay
#: uncertain over at least this share of the rating scale (1 point on a 1–5 scale).
PROTECTION = 0.25

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


#: Columns of a relations table (``net.edges``) computed from the ratings: blanked for a
#: relation rated by fewer than ``min_group_size`` people (``sign`` becomes "suppressed").
SURVEY_EDGE_COLUMNS = ["satisfaction_mean", "satisfaction_sd", "satisfaction_shrunk",
                       "satisfaction_low", "satisfaction_high", "within_sd", "n_eff", "lfsr"]

# how many ratings / raters a hidden group has: blanked with it (#20: counts of suppressed
# cells hidden; the suppression flag already says "fewer than min_group_size raters")
SURVEY_COUNT_COLUMNS = ["satisfaction_n", "satisfaction_raters", "n_raters"]


def _hide_counts(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the rating counts (:data:`SURVEY_COUNT_COLUMNS`) NaN where ``suppressed``
    (a published table; working data keeps its counts)."""
    hidden = df["suppressed"].to_numpy(bool) if "suppressed" in df else np.zeros(len(df), bool)
    if not hidden.any():
        return df
    out = df.copy()
    for c in SURVEY_COUNT_COLUMNS:
        if c in out:
            out[c] = out[c].astype(float).where(~hidden, np.nan)
    return out


def _edge_raters(e: pd.DataFrame, level) -> np.ndarray:
    """Distinct raters behind each relation's survey figures (0 when unrated).

    ``satisfaction_raters`` when known; otherwise (an edge list) one rater per
    rated relation at person level and the number of ratings at other levels.
    """
    n = e["satisfaction_n"].fillna(0).to_numpy(float) if "satisfaction_n" in e \
        else np.zeros(len(e))
    r = e["satisfaction_raters"].to_numpy(float) if "satisfaction_raters" in e \
        else np.full(len(e), np.nan)
    fallback = np.minimum(n, 1.0) if level == "person" else n
    return np.where(np.isnan(r), fallback, r)


def _small_relations(e: pd.DataFrame, level, min_group_size: int) -> np.ndarray:
    """Rated relations whose survey figures concern fewer than ``min_group_size`` raters."""
    n = e["satisfaction_n"].fillna(0).to_numpy(float) if "satisfaction_n" in e \
        else np.zeros(len(e))
    return (n > 0) & (_edge_raters(e, level) < min_group_size)


def _gate_edges(e: pd.DataFrame, level, min_group_size: int, *, flag: bool = False
                ) -> pd.DataFrame:
    """``e`` with the survey figures of small relations blanked (private; trusts inputs);
    ``flag`` adds the bool column ``suppressed``."""
    small = _small_relations(e, level, min_group_size)
    out = e.copy()
    if flag:
        out["suppressed"] = small
    for c in SURVEY_EDGE_COLUMNS:
        if c in out:
            out[c] = out[c].astype(float).where(~small, np.nan)
    if "sign" in out:
        sign = out["sign"]
        if isinstance(sign.dtype, pd.CategoricalDtype):
            sign = sign.astype(object)
        out["sign"] = sign.where(~small, "suppressed")       # keeps a string dtype
    return out


def _gate_timeline(sub: pd.DataFrame, individuals: bool, min_group_size: int) -> pd.DataFrame:
    """A pair's events (:func:`icnet.spiral_timeline`) with the ratings of directions rated
    by fewer than ``min_group_size`` distinct people blanked (``satisfaction``, ``z``,
    ``exposure``), unless ``individuals``."""
    if individuals or not len(sub):
        return sub
    rater = "client_person" if "client_person" in sub else "client"
    rated = sub["satisfaction"].notna() if "satisfaction" in sub else \
        pd.Series(False, index=sub.index)
    n = sub[rater].astype(object).where(rated).groupby(sub["direction"]).nunique()
    n = sub["direction"].map(n).fillna(0).to_numpy()
    small = (n > 0) & (n < min_group_size)          # delay-only directions hold no rating
    out = sub.copy()
    for c in ("satisfaction", "z", "exposure"):
        if c in out:
            out[c] = out[c].astype(float).where(~small)
    return out


#: Columns of :func:`icnet.retaliation_spirals` that measure a pair's ratings (in SD of its
#: quality, or their correlation): blanked for a pair with a direction rated by fewer than
#: ``min_group_size`` people (a column a version does not have is skipped).
SPIRAL_SURVEY_COLUMNS = ["effect", "effect_ab", "effect_ba", "drop_ab", "drop_ba",
                         "concurrence", "specificity_z"]

# a magnitude in SD, or a number after "effect"/"coupling"/"drop"/"z", in a spiral's reason
_SD_NUMBER = re.compile(
    r"(?P<w>\b(?:effect|coupling|concurrence|drop|drops|dropped by|z)\b\s*(?:=|of|by)?\s*)"
    r"[-+−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?|[-+−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?=\s*SD\b)",
    flags=re.IGNORECASE)
# the specificity z in a spiral's reason (hidden on its own where only it concerns a small group)
_Z_NUMBER = re.compile(r"(?P<w>\bz=)[-+−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _gate_spirals(net, out: pd.DataFrame, *, individuals: bool, min_group_size: int
                  ) -> pd.DataFrame:
    """:func:`icnet.retaliation_spirals`' table with the survey magnitudes of pairs that
    have a direction rated by fewer than ``min_group_size`` distinct people blanked
    (:data:`SPIRAL_SURVEY_COLUMNS` NaN, numbers in SD cut from ``reason``), unless
    ``individuals`` (private; trusts its inputs, applied at the end of the analysis).

    The decision columns stay: ``kind``, ``candidate``, ``initiator``, ``start``,
    ``end``, ``rounds``, ``onset_*``, the p- and q-values and the event counts.
    """
    attrs = dict(out.attrs)
    attrs["params"] = {**attrs.get("params", {}), "individuals": individuals,
                       "min_group_size": min_group_size}
    out = out.copy()
    out.attrs = attrs
    if individuals or not len(out):
        return out
    e = net._edges
    sm = _small_relations(e, net.level, min_group_size)
    small = pd.MultiIndex.from_arrays([e.loc[sm, "provider"].astype(object).to_numpy(),
                                       e.loc[sm, "client"].astype(object).to_numpy()])
    a = out["a"].astype(object).to_numpy()
    b = out["b"].astype(object).to_numpy()
    hide = pd.MultiIndex.from_arrays([a, b]).isin(small) | \
        pd.MultiIndex.from_arrays([b, a]).isin(small)
    # specificity_z pools a side's services to *all* its clients: hidden too where either
    # side provides any small relation (a difference of two pairs' z could isolate it)
    sp = pd.unique(e.loc[sm, "provider"].astype(object).to_numpy())
    hide_z = hide | pd.Index(a).isin(sp) | pd.Index(b).isin(sp)
    for c in SPIRAL_SURVEY_COLUMNS:
        if c in out:
            out[c] = out[c].astype(float).where(~(hide_z if c == "specificity_z" else hide))
    if "reason" in out:
        r = out["reason"].astype(object)
        cut = r[hide].map(lambda x: _SD_NUMBER.sub(
            lambda m: (m.group("w") or "") + "(hidden)", x) if isinstance(x, str) else x)
        r = r.where(~hide, cut)
        only_z = hide_z & ~hide
        cut_z = r[only_z].map(lambda x: _Z_NUMBER.sub(r"\g<w>(hidden)", x)
                              if isinstance(x, str) else x)
        out["reason"] = r.where(~only_z, cut_z)
    out.attrs = attrs
    return out


def suppress_edges(net, *, individuals: bool = False,
                   min_group_size: int = MIN_GROUP_SIZE) -> pd.DataFrame:
    """``net.edges`` fit to share: survey figures of small relations blanked.

    ``net.edges`` (like ``net.events``) is the analyst's working table and
    holds every relation's ratings — at person level, or for a unit-level
    relation rated by one person, one person's answers. Share this table
    instead: the columns :data:`SURVEY_EDGE_COLUMNS` are NaN and ``sign`` is
    ``"suppressed"`` where fewer than ``min_group_size`` distinct people rated
    the relation, unless ``individuals=True``. Differencing against other
    published tables is not checked here (see :func:`audit`).

    Examples
    --------
    >>> import icnet
    >>> e = suppress_edges(icnet.datasets.toy().by("unit"))
    >>> bool(e["satisfaction_mean"].isna().all()), e["sign"].unique().tolist()
    (True, ['suppressed'])
    >>> bool(suppress_edges(icnet.datasets.toy(), individuals=True)["satisfaction_mean"]
    ...      .notna().any())
    True
    """
    net = _validate.network(net)
    individuals = check_individuals(individuals)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    e = net._edges
    return e if individuals else _gate_edges(e, net.level, min_group_size)


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
    icnet.errors.ParameterError: The 'individuals' parameter must be True or False; got 'no' ...
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


def audit(release, *, protection: float = PROTECTION) -> pd.DataFrame:
    """What an attacker can derive about each suppressed small group of a release.

    Every published survey mean × count is a linear equation over the cells
    (relations) of the release; for each cell suppressed because too few
    people rated it, two linear programmes (HiGHS) give the narrowest interval
    of its hidden mean consistent with every published figure, each rating
    lying on the scale and every count assumed known to the attacker. A cell is
    ``safe`` when that interval spans at least ``protection`` × the scale
    width. :func:`icnet.service_quality` and :func:`icnet.report` run this audit
    before returning and hide more cells (complementary suppression) until all
    are safe.

    Parameters
    ----------
    release : QualityResult or icnet._disclosure.Release
        The result of :func:`icnet.service_quality` (its three tables of
        relations, providers and units form one release).
    protection : float, default 0.25

    Returns
    -------
    DataFrame
        One row per suppressed small group: ``provider``, ``client``, ``n``
        (ratings), ``n_raters``, ``low``, ``high`` (the interval of its mean
        an attacker can derive), ``width``, ``exact`` (``False``: the interval
        is a certified inner bound, found without solving, of a possibly wider
        one) and ``safe``.

    Raises
    ------
    ParameterError
        ``release`` is neither; a result computed with ``individuals=True``
        (nothing is suppressed at person level then).

    Examples
    --------
    >>> import icnet
    >>> q = icnet.service_quality(icnet.datasets.load("planta"), level="unit")
    >>> a = audit(q)
    >>> bool(a["safe"].all()), len(a) == int((q.edges["suppressed_by"] == "small group").sum())
    (True, True)
    """
    from . import _disclosure

    _validate.in_range("protection", protection, low=0, high=1)
    if isinstance(release, _disclosure.Release):
        rel = release
    elif getattr(release, "audit", None) is not None:
        a = release.audit
        if protection == a.attrs.get("protection", PROTECTION):
            return a.copy()
        rel = a.attrs["release"]
    else:
        raise ParameterError(
            "audit: pass the result of icnet.service_quality (computed without "
            f"individuals=True) or a Release; got {type(release).__name__}.")
    return _disclosure.audit(rel, protection=protection)


#: Columns of a dropped-rows table that carry no survey answer (kept in ``dropped.csv``).
_NOT_SURVEY = ["table", "row", "reason", "detail", "event_id", "input_event_id", "provider",
               "client", "rater", "person", "unit", "service", "dimension", "period",
               "requested_at", "delivered_at", "delay_hours", "expected_hours", "reopened",
               "role", "manager", "external_facing", "client_person"]


def publishable_dropped(dropped: pd.DataFrame, *, individuals: bool = False) -> pd.DataFrame:
    """The dropped-rows table fit to publish (``dropped.csv``).

    The rows an input check dropped keep their raw values — for the ratings
    and the events, survey answers about named people. Unless
    ``individuals=True`` only the columns known to carry no survey answer
    are kept (ids, times, reason, detail); satisfaction, perception,
    expectation, recommendation and any other column are left out.

    Examples
    --------
    >>> d = pd.DataFrame({"table": ["ratings"], "row": [3], "reason": ["missing_id"],
    ...                   "detail": ["rater: empty ids"], "provider": ["ana"],
    ...                   "perception": [2.0], "comment": ["rude"]})
    >>> publishable_dropped(d).columns.tolist()
    ['table', 'row', 'reason', 'detail', 'provider']
    >>> publishable_dropped(d, individuals=True).shape
    (1, 7)
    """
    individuals = check_individuals(individuals)
    if not isinstance(dropped, pd.DataFrame):
        raise ParameterError("publishable_dropped: pass the dropped-rows table (a DataFrame, "
                             f"e.g. net.dropped); got {type(dropped).__name__}.")
    if individuals:
        return dropped.copy()
    return dropped[[c for c in dropped.columns if c in _NOT_SURVEY]].copy()


def dp_quality(net, *, epsilon: float, level: str | None = "unit", budget=None,
               max_providers: int = 5) -> pd.DataFrame:
    """Mean satisfaction per provider with ε-differential privacy (for repeated releases).

    For windows and periods released again and again, where suppression can be
    differenced: each provider's mean is released with user-level
    ε-differential privacy — one rater and all their ratings is the unit —
    through OpenDP's Laplace mechanism (ε/2 for the sums, ε/2 for the counts;
    each rater's contribution bounded to ``max_providers`` providers and the
    scale). See ``icnet._dp`` for the mechanism, ``benchmarks/bench_dp.py`` for
    its error on planta. Needs the ``privacy`` extra (``opendp``).

    Parameters
    ----------
    net : ServiceNetwork
        With rated events (the raters: ``client_person`` or the client).
    epsilon : float
        Privacy loss of this release (> 0; smaller is more private and noisier).
    level : str or None, default "unit"
        Providers at this level (``None``: the network's).
    budget : Budget, optional
        Charged ``epsilon`` before anything is computed from the noise;
        :class:`~icnet.errors.BudgetExceededError` when it would be exceeded.
        Releases add up (sequential composition): two windows at ε = 0.5 each
        spend 1.
    max_providers : int, default 5
        Providers a rater may count for (the rest of their ratings are left out).

    Returns
    -------
    DataFrame
        ``provider``, ``n_raters_dp`` (noisy count), ``satisfaction_mean_dp``
        (noisy mean clipped to the scale; NaN when the noisy count is below 1).
        ``attrs``: ``epsilon``, ``mechanism``, ``sensitivity``.

    Notes
    -----
    Guarantees ε-DP for the raters of this network for this one call; not
    reproducible by a seed (OpenDP's secure noise). It does not protect the
    ids of providers (public) nor other icnet outputs computed on the same data.

    Examples
    --------
    >>> import icnet
    >>> from icnet.privacy import Budget
    >>> b = Budget(2.0)
    >>> t = dp_quality(icnet.datasets.toy(), epsilon=1.0, budget=b)  # doctest: +SKIP
    >>> b.remaining                                                  # doctest: +SKIP
    1.0
    """
    from ._dp import dp_quality as _impl
    return _impl(net, epsilon=epsilon, level=level, budget=budget, max_providers=max_providers)
