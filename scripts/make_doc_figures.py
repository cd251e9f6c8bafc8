"""Redraw docs/img/*.png from the code blocks of docs/figures.md (one image per block).

Each ```python block of the page that is followed by an image ``![...](img/NAME.png)`` saves
``NAME.png``; this script runs the blocks in order (like notebook cells) in a temporary
folder and copies every ``NAME.png`` they write to ``docs/img/``. tests/test_docs_code.py
checks that the blocks still draw these images.

    python scripts/make_doc_figures.py
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from docs_blocks import blocks, run_blocks  # noqa: E402


def main() -> None:
    page = ROOT / "docs" / "figures.md"
    found = [b for b in blocks(page) if b.image]
    with tempfile.TemporaryDirectory() as tmp:
        run_blocks(blocks(page), Path(tmp))
        for b in found:
            shutil.copyfile(Path(tmp) / Path(b.image).name, page.parent / b.image)
            print("wrote", os.path.relpath(page.parent / b.image, ROOT))


if __name__ == "__main__":
    main()
