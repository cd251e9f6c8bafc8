"""The ```python blocks of the Markdown docs, and a runner (used by test_docs_code.py and
scripts/make_doc_figures.py).

A block is skipped only when the line just above its fence is an HTML comment
``<!-- no-run: why -->`` (invisible on the site; the reason is required). The blocks of
one page run in order in one namespace, like notebook cells, in a scratch folder that has a
``data`` link to the repository's ``data/`` (so ``data/samples/...`` paths work). A block
followed by an image ``![...](img/NAME.png)`` must write ``NAME.png``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_RUN = re.compile(r"^<!--\s*no-run:\s*(\S.*?)\s*-->\s*$")
IMAGE = re.compile(r"^!\[[^\]]*\]\(([^)\s]+\.png)\)")


@dataclass
class Block:
    page: Path
    lineno: int            # 1-based line of the opening fence
    source: str
    skip_reason: str | None
    image: str | None      # the image shown right below the block, if any


def blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("````"):          # an example of Markdown: not code to run
            i += 1
            while i < len(lines) and not lines[i].startswith("````"):
                i += 1
            i += 1
        elif lines[i].strip() == "```python":
            start = i
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
            m = NO_RUN.match(prev.strip())
            nxt = next((lines[k] for k in range(j + 1, len(lines)) if lines[k].strip()), "")
            im = IMAGE.match(nxt.strip())
            out.append(Block(page, start + 1, "\n".join(lines[start + 1:j]) + "\n",
                             m.group(1) if m else None, im.group(1) if im else None))
            i = j + 1
        else:
            i += 1
    return out


def run_blocks(page_blocks: list[Block], cwd: Path) -> dict:
    """Run the runnable blocks in order in ``cwd``; return their namespace."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    link = cwd / "data"
    if not link.exists():
        link.symlink_to(ROOT / "data", target_is_directory=True)
    ns: dict = {"__name__": "__main__"}
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for b in page_blocks:
            if b.skip_reason is None:
                code = compile(b.source, f"{b.page.relative_to(ROOT)}:{b.lineno}", "exec")
                exec(code, ns)
                plt.close("all")
    finally:
        os.chdir(old)
    return ns
