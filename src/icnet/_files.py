"""Writing outputs safely: atomic files, neutralised CSV cells, output folders.

Rules (issue #20, "outputs never destroy inputs"):

* every file is written to a temporary name in its own folder and then
  renamed over the target (:func:`os.replace`, atomic on POSIX and Windows),
  so a crash or a kill never leaves a truncated or 0-byte file;
* CSV cells that a spreadsheet would run as a formula (text starting with
  ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a NUL) get a leading
  ``'``, as OWASP ASVS 5.0 requirement 1.2.10 and CWE-1236 ("CSV injection")
  prescribe; plain numbers such as ``-3.5`` are kept;
* an :class:`OutputFolder` refuses a folder that holds one of the run's
  inputs, writes the whole run into a temporary sub-folder first, then moves
  the files into place with the report last, records them in
  ``icnet-manifest.json`` and removes the files its own earlier manifest
  listed that this run did not write (stale figures, an old ``dropped.csv``).
  An interrupted run leaves the previous outputs, or the new tables without a
  ``report.html`` — never a new report beside old tables.

Examples
--------
>>> import pandas as pd
>>> neutralise(pd.DataFrame({"a": ["=1+1", "-3.5", "@x", "ok"]}))["a"].tolist()
["'=1+1", '-3.5', "'@x", 'ok']
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import ParameterError

__all__ = ["atomic_write", "neutralise", "write_csv", "OutputFolder", "MANIFEST"]

MANIFEST = "icnet-manifest.json"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@contextmanager
def atomic_write(path, mode: str = "w", **kw):
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    On an exception (including ``KeyboardInterrupt``) the temporary file is
    removed and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_write(p) as fh:
    ...     _ = fh.write("hello")
    >>> p.read_text()
    'hello'
    """
    path = Path(path)
    if path.is_dir():
        raise ParameterError(
            f"Cannot write to {str(path)!r}: it is a folder. Give a file name such as "
            "'report.html'.")
    if not path.parent.is_dir():
        raise ParameterError(
            f"Cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist. "
            "Create it first.")
    if "b" not in mode:
        kw.setdefault("encoding", "utf-8")
        kw.setdefault("newline", "")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot run as spreadsheet formulas.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading
    ``'``; numbers (numeric columns, and text that is a plain number) are kept.
    Column names are treated the same way.
    """
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
                or isinstance(s.dtype, pd.CategoricalDtype)):
            continue
        txt = s.astype(object)
        is_str = txt.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if not is_str.any():
            continue
        st = txt[is_str].astype(str)
        risky = st.str.startswith(_FORMULA_START) & ~st.str.match(_PLAIN_NUMBER)
        if risky.any():
            txt = txt.copy()
            txt.loc[risky[risky].index] = "'" + st[risky]
            out[c] = txt
    out.columns = [("'" + c) if isinstance(c, str) and c.startswith(_FORMULA_START)
                   and not _PLAIN_NUMBER.match(c) else c for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path, **kw) -> Path:
    """Write ``df`` as CSV atomically, with formula cells neutralised.

    Keyword arguments go to :meth:`pandas.DataFrame.to_csv` (default
    ``index=False``, ``lineterminator="\\n"``).
    """
    kw.setdefault("index", False)
    safe = neutralise(df)
    # Python's csv writer quotes a field only for characters of the line terminator:
    # a text cell holding a bare CR would break the row, so such files use CRLF
    # (RFC 4180), which quotes it.
    kw.setdefault("lineterminator", "\r\n" if _has_cr(safe) else "\n")
    with atomic_write(path) as fh:
        safe.to_csv(fh, **kw)
    return Path(path)


def _has_cr(df: pd.DataFrame) -> bool:
    for c in df.columns:
        s = df[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if s.dropna().astype(str).str.contains("\r", regex=False).any():
                return True
    return False


def _under(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


class OutputFolder:
    """An output folder written all at once (see the module docstring).

    Parameters
    ----------
    path : str or path
        The output folder (created when missing).
    inputs : iterable of paths
        Files or folders the run reads: refused when the output folder holds
        one of them (or is one of them).
    overwrite : bool, default True
        ``False`` refuses a folder that already holds any file (``icnet
        generate`` without ``--force``).
    last : str, default "report.html"
        The file moved into place last.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputFolder(d / "out") as out:
    ...     _ = (out.tmp / "a.csv").write_text("x\\n")
    >>> sorted(p.name for p in (d / "out").iterdir())
    ['a.csv', 'icnet-manifest.json']
    """

    def __init__(self, path, *, inputs: Iterable = (), overwrite: bool = True,
                 last: str = "report.html"):
        self.path = Path(path)
        self.last = last
        root = self.path.resolve()
        for inp in inputs:
            if inp is None:
                continue
            ip = Path(inp).resolve()
            if _under(ip, root):                # the input is the folder or inside it
                raise ParameterError(
                    f"The output folder {str(self.path)!r} holds the input {str(inp)!r}: "
                    "writing there could overwrite your data. Choose another --out folder "
                    "(e.g. a new, empty one).")
        if self.path.exists() and not self.path.is_dir():
            raise ParameterError(
                f"The output path {str(self.path)!r} is a file, not a folder. Choose a "
                "folder for --out.")
        if not overwrite and self.path.is_dir():
            theirs = sorted(p.name for p in self.path.iterdir()
                            if not p.name.startswith(".icnet-tmp"))
            if theirs:
                raise ParameterError(
                    f"The output folder {str(self.path)!r} already holds {theirs[:5]}; "
                    "refusing to overwrite them. Choose an empty folder or pass --force.")
        self.tmp: Path | None = None
        self.written: list[str] = []

    def _old_manifest(self) -> list[str]:
        f = self.path / MANIFEST
        try:
            files = json.loads(f.read_text(encoding="utf-8")).get("files", [])
            return [str(x) for x in files if isinstance(x, str) and "/" not in x
                    and "\\" not in x and x not in ("", ".", "..")]
        except (OSError, ValueError, AttributeError):
            return []

    def __enter__(self) -> "OutputFolder":
        self.path.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".icnet-tmp-", dir=self.path))
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def _commit(self) -> None:
        new = sorted(p.name for p in self.tmp.iterdir() if p.is_file())
        old = self._old_manifest()
        first = [n for n in new if n != self.last]
        # the old report goes first, so no report ever sits beside a mixed set
        stale_report = self.path / self.last
        if self.last in old or self.last in new:
            stale_report.unlink(missing_ok=True)
        for n in first:
            os.replace(self.tmp / n, self.path / n)
        for n in old:
            if n not in new and n != MANIFEST:
                (self.path / n).unlink(missing_ok=True)
        with atomic_write(self.path / MANIFEST) as fh:
            json.dump({"written_by": "icnet", "files": new}, fh, indent=1)
            fh.write("\n")
        if self.last in new:
            os.replace(self.tmp / self.last, self.path / self.last)
        self.written = new
