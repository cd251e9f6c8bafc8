"""Private checks shared by the public functions (sklearn-style messages)."""

from __future__ import annotations

import numbers
from typing import Any, Iterable

import numpy as np

from .errors import ParameterError


def in_range(name: str, value: Any, *, low=None, high=None, integer: bool = False,
             low_inclusive: bool = True, high_inclusive: bool = True):
    """Check that a numeric parameter lies in ``[low, high]``; return it."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or (
            not integer and not np.isfinite(value)):
        want = "an int" if integer else "a finite number"
        raise ParameterError(
            f"The '{name}' parameter must be {want}; got {value!r} "
            f"({type(value).__name__}).")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ParameterError(f"The '{name}' parameter must be {op} {low}; got {value!r}.")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ParameterError(f"The '{name}' parameter must be {op} {high}; got {value!r}.")
    return value


def one_of(name: str, value: Any, options: Iterable[Any]):
    """Check that ``value`` is one of ``options``; return it."""
    options = list(options)
    if value not in options:
        opts = ", ".join(repr(o) for o in options)
        raise ParameterError(f"The '{name}' parameter must be one of {opts}; got {value!r}.")
    return value


def offset(freq, *, text_only: bool = False):
    """``freq`` (a pandas offset alias such as ``"QS"``) as a pandas offset.

    >>> offset("QS").freqstr
    'QS-JAN'
    """
    import pandas as pd

    try:
        if text_only and not isinstance(freq, str):
            raise TypeError
        return pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        raise ParameterError(
            "The 'freq' parameter must be a pandas offset alias such as 'MS', 'QS' or "
            f"'W-MON'; got {freq!r}.") from None


def rng(seed) -> np.random.Generator:
    """Turn ``seed`` (None, int or Generator) into a Generator."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed < 0:
        raise ParameterError(f"The 'seed' parameter must be >= 0; got {seed!r}.")
    if seed is None or isinstance(seed, (numbers.Integral, np.random.Generator)) and \
            not isinstance(seed, bool):
        return np.random.default_rng(seed)
    raise ParameterError(
        f"The 'seed' parameter must be an int, None or a numpy Generator; got {seed!r}.")


def scale(value) -> tuple[float, float]:
    """Check a rating scale ``(low, high)``; return it as floats."""
    try:
        low, high = value
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise ParameterError(
            f"The 'scale' parameter must be a pair (low, high) such as (1, 5); got {value!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ParameterError(
            f"The 'scale' parameter must satisfy low < high, both finite; got {value!r}.")
    return low, high


def network(net, *, need_events: bool = False):
    """Return a :class:`ServiceNetwork` from ``net`` (a network or an ``nx.DiGraph``)."""
    from .network import ServiceNetwork  # local: network imports this module

    if isinstance(net, ServiceNetwork):
        out = net
    else:
        try:
            import networkx as nx
        except ImportError:  # pragma: no cover - networkx is a core dependency
            nx = None
        if nx is not None and isinstance(net, nx.DiGraph):
            out = ServiceNetwork.from_networkx(net)
        else:
            raise ParameterError(
                "Expected an icnet.ServiceNetwork (from icnet.from_events) or a "
                f"networkx.DiGraph; got {type(net).__name__}.")
    if hasattr(out, "_in_memory"):  # built on a Dask cluster: see icnet._dask
        out = out._in_memory()
    if need_events and not out.has_events:
        raise ParameterError(
            "This analysis needs the individual service events (with timestamps); the "
            "network was built from an aggregated edge list. Build it with "
            "icnet.from_events(events, ...).")
    return out


def level(net, level):
    """Return ``net`` aggregated to ``level`` (None keeps the network's own level)."""
    if level is None or level == net.level:
        return net
    return net.by(level)
