"""Shared by the benchmark scripts: each owns one section of benchmarks/RESULTS.md."""

from __future__ import annotations

import os


def write_section(path, text: str) -> None:
    """Put ``text`` (starting with its ``## `` heading line) into ``path``.

    The section with the same heading line is replaced up to the next ``## `` heading;
    a new one goes at the end. Every other section is kept as it is.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "R.md"
    >>> write_section(p, "## A\\n\\none\\n"); write_section(p, "## B\\n\\ntwo\\n")
    >>> write_section(p, "## A\\n\\nnew\\n"); print(p.read_text())
    # Benchmark results
    <BLANKLINE>
    ## A
    <BLANKLINE>
    new
    <BLANKLINE>
    ## B
    <BLANKLINE>
    two
    <BLANKLINE>
    """
    heading = text.split("\n", 1)[0]
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmark results\n"
    lines = old.rstrip("\n").split("\n")
    start = next((i for i, x in enumerate(lines) if x == heading), None)
    body = text.rstrip("\n").split("\n")
    if start is None:
        lines += [""] + body
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        lines[start:end] = body + ([""] if end < len(lines) else [])
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
