"""Every ```python block of README.md and docs/ runs (issue #23, point 6), the one above each
figure of docs/figures.md draws that figure, and the install lines work from a clone."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from docs_blocks import ROOT, blocks, run_blocks

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
WITH_CODE = [p for p in PAGES if blocks(p)]


def test_docs_have_code_and_few_skips():
    every = [b for p in PAGES for b in blocks(p)]
    assert len(every) >= 10
    skipped = [b for b in every if b.skip_reason]
    assert len(skipped) <= 3, [(b.page.name, b.lineno) for b in skipped]


def test_no_run_marker_needs_a_reason(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("<!-- no-run: needs your cluster -->\n```python\nraise SystemExit\n```\n"
                    "\n```python\nx = 1\n```\n\n![a](img/x.png)\n", encoding="utf-8")
    b = blocks(page)
    assert b[0].skip_reason == "needs your cluster" and b[1].skip_reason is None
    assert b[1].image == "img/x.png"
    page.write_text("<!-- no-run: -->\n```python\nx = 1\n```\n", encoding="utf-8")
    assert blocks(page)[0].skip_reason is None         # no reason, no skip


@pytest.mark.parametrize("page", WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_code_runs(page, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_blocks(blocks(page), tmp_path)
    for b in blocks(page):
        if b.image and b.skip_reason is None:
            assert (tmp_path / Path(b.image).name).exists(), \
                f"{page.name}:{b.lineno} does not write {Path(b.image).name}"
            _same_picture(tmp_path / Path(b.image).name, page.parent / b.image)


def _same_picture(drawn: Path, shown: Path, tol: float = 0.03):
    """The drawn PNG is the one shown: same size (±3 px for font metrics) and RMS pixel
    difference below ``tol`` (0..1 scale; two different icnet figures differ by > 0.1)."""
    import matplotlib.pyplot as plt

    a, b = plt.imread(drawn)[..., :3], plt.imread(shown)[..., :3]
    assert abs(a.shape[0] - b.shape[0]) <= 3 and abs(a.shape[1] - b.shape[1]) <= 3, \
        (drawn.name, a.shape, b.shape)
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    rms = float(np.sqrt(np.mean((a[:h, :w] - b[:h, :w]) ** 2)))
    assert rms < tol, f"{drawn.name}: RMS {rms:.3f} from {shown}"


def test_every_figure_of_figures_md_has_its_code():
    page = ROOT / "docs" / "figures.md"
    text = page.read_text(encoding="utf-8")
    images = re.findall(r"^!\[[^\]]*\]\(([^)]+)\)", text, re.M)
    drawn = {b.image for b in blocks(page) if b.skip_reason is None}
    assert len(images) == 5 and set(images) == drawn


def test_picture_check_tells_figures_apart():
    img = ROOT / "docs" / "img"
    with pytest.raises(AssertionError):
        _same_picture(img / "satisfaction_heatmap.png", img / "health_trend.png")


def test_install_lines_work_from_a_clone():
    """icnet is not on PyPI: every install line installs the clone (-e .) or a third party."""
    bad = []
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for cmd in re.findall(r"pip install[^`\n&#]*", line):
                if re.search(r"""(^|\s)["']?icnet(\[|["']|\s|$)""", cmd.split("install", 1)[1]):
                    bad.append(f"{page.name}:{n}: {cmd.strip()}")
    assert not bad, bad
    qs = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    assert "python -m pip install -e ." in qs
