"""Errors and warnings raised by icnet.

Every error icnet raises on purpose derives from :class:`IcnetError`, so a
pipeline can catch them all with one ``except``. The subclasses also derive
from the matching built-in (``ValueError``, ``MemoryError`` …) so generic code
keeps working.

Examples
--------
>>> import icnet
>>> try:
...     icnet.from_events({"provider": ["a"]})
... except icnet.errors.IcnetError as err:
...     print(type(err).__name__)
SchemaError
"""

from __future__ import annotations

__all__ = [
    "IcnetError",
    "SchemaError",
    "EmptyNetworkError",
    "ParameterError",
    "BudgetExceededError",
    "DisclosureError",
    "IcnetWarning",
    "PrivacyWarning",
]


class IcnetError(Exception):
    """Base class of every error icnet raises on purpose."""


class SchemaError(IcnetError, ValueError):
    """An input table has missing, ill-typed or invalid columns or values.

    The message names the table, the column, how many rows are wrong, the
    first offending rows with their values, and the fix.
    """


class EmptyNetworkError(IcnetError, ValueError):
    """The input holds no usable service event (or the selection is empty)."""


class ParameterError(IcnetError, ValueError):
    """A function argument has an invalid value or type."""


class BudgetExceededError(IcnetError, MemoryError):
    """An enumeration or resampling would exceed its configured budget."""


class DisclosureError(IcnetError, ValueError):
    """A call or release would reveal individual survey answers.

    Raised when person-level survey values are asked for without
    ``individuals=True``, or when a release fails its disclosure audit (a
    suppressed small group could be recomputed from the published figures).
    The message says what would be revealed and the fix.
    """


class IcnetWarning(UserWarning):
    """Base class of icnet's warnings, so they can be filtered at once."""


class PrivacyWarning(IcnetWarning):
    """A figure was suppressed because its group is smaller than allowed."""
