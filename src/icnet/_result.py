"""The one shape of icnet's multi-table results (private).

An analysis returns a DataFrame; when it has several tables it returns a small
frozen dataclass of DataFrames (and scalars) that derives from :class:`Result`:

- ``result.to_frame()`` is its main table (a copy), ``result.to_frame("name")``
  any other one; the parameters are in ``attrs["params"]`` when known;
- ``result.tables`` lists the table names;
- in Jupyter the object displays as HTML (``_repr_html_``): the scalars, then
  every table's first rows with its size; ``repr()`` gives the same as text.
"""

from __future__ import annotations

import dataclasses
import html

import pandas as pd

from .errors import ParameterError

#: Rows shown per table when a result is displayed.
DISPLAY_ROWS = 5


class Result:
    """Mixin for the frozen dataclasses of tables returned by analyses.

    Subclasses set ``_main`` to the name of their main table.
    """

    _main: str = ""

    @property
    def tables(self) -> list[str]:
        """Names of the DataFrame attributes, the main table first."""
        names = [f.name for f in dataclasses.fields(self)
                 if isinstance(getattr(self, f.name), pd.DataFrame)
                 and f.metadata.get("table", True)]
        return sorted(names, key=lambda n: n != self._main)

    def _scalars(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if not isinstance(getattr(self, f.name), (pd.DataFrame, dict))
                and f.metadata.get("table", True)}

    def to_frame(self, table: str | None = None) -> pd.DataFrame:
        """One table of the result as a DataFrame (a copy).

        Parameters
        ----------
        table : str, optional
            A name from :attr:`tables`; default: the main table.

        Returns
        -------
        DataFrame
            Its ``attrs["params"]`` holds the analysis parameters when the
            result records them.

        Raises
        ------
        ParameterError
            ``table`` is not one of :attr:`tables`.
        """
        name = self._main if table is None else table
        if name not in self.tables:
            raise ParameterError(f"The 'table' parameter must be one of {self.tables}; "
                                 f"got {table!r}.")
        out = getattr(self, name).copy()
        params = getattr(self, "params", None)
        if isinstance(params, dict) and params and "params" not in out.attrs:
            out.attrs["params"] = dict(params)
        return out

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v!r}" for k, v in self._scalars().items())
        parts = [f"<{type(self).__name__}{' ' + head if head else ''}>"]
        for name in self.tables:
            df = getattr(self, name)
            parts.append(f"{name}: {len(df)} rows × {df.shape[1]} columns")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        out = [f"<div><strong>{html.escape(type(self).__name__)}</strong>"]
        scal = self._scalars()
        if scal:
            out.append("<ul>" + "".join(f"<li><code>{html.escape(k)}</code> = "
                                         f"{html.escape(str(v))}</li>"
                                         for k, v in scal.items()) + "</ul>")
        for name in self.tables:
            df = getattr(self, name)
            main = " (main table: <code>.to_frame()</code>)" if name == self._main else ""
            out.append(f"<p><code>.{html.escape(name)}</code>: {len(df)} rows × "
                       f"{df.shape[1]} columns{main}</p>")
            if len(df.columns):
                out.append('<div style="overflow-x:auto">'
                           + df.head(DISPLAY_ROWS).to_html(border=0, max_cols=20) + "</div>")
        out.append("</div>")
        return "\n".join(out)
