"""The documentation site builds with ``mkdocs build --strict`` and lists every page."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, re.M))
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    # the notebooks are pages too, generated at build time by scripts/mkdocs_notebooks.py
    pages |= {f"notebooks/{p.stem}.md" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert pages == listed


def test_methods_pages_have_formulas_and_references():
    for page in (ROOT / "docs" / "methods").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "$" in text, f"{page.name} has no formula"
        assert re.search(r"^#+ References", text, re.M), f"{page.name} has no references"


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")  # in the test extra; absent only outside CI
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                        "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").exists()
    # the notebooks are shown with their figures (issue #23, point 4)
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        page = (tmp_path / "site" / "notebooks" / nb.stem / "index.html").read_text("utf-8")
        assert "<h1" in page and "highlight" in page, nb.stem
    quick = tmp_path / "site" / "notebooks" / "01_quickstart" / "index.html"
    assert quick.read_text("utf-8").count('src="data:image/png;base64,') >= 3
