"""The notebooks run top to bottom, show their figures inline and are committed WITH their
outputs (issue #23, point 4: small PNGs, rendered on the docs site); they load the samples
through ``icnet.datasets``. ``python scripts/run_notebooks.py`` re-executes and saves them."""

import base64
import filecmp
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_PNG_BYTES = 150_000          # per figure: dpi 60 keeps the maps near 100 kB
MAX_NOTEBOOK_BYTES = 400_000


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _kinds(cell):
    """What a cell shows: 'png', 'html', 'text' or 'stream', in order. Consecutive stream
    outputs count once: the kernel may split one cell's prints into several messages
    (it flushes on a timer), so their number is not the code's."""
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            if out[-1:] != ["stream"]:
                out.append("stream")
        elif o.output_type in ("execute_result", "display_data"):
            d = o.get("data", {})
            out.append("png" if "image/png" in d else "html" if "text/html" in d else "text")
        else:
            out.append(o.output_type)
    return out


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5
    assert {"04_real_networks", "05_bpic2013"} <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    cells = _code(nb)
    # run once, top to bottom, in order
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), path.name
    assert sum(bool(c.outputs) for c in cells) >= len(cells) - 1, path.name
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, (path.name, path.stat().st_size)
    for c in cells:
        for o in c.outputs:
            assert o.output_type != "error", (path.name, c.source[:60])
            d = o.get("data", {})
            if "image/png" in d:
                assert len(base64.b64decode(d["image/png"])) <= MAX_PNG_BYTES, path.name
            # a figure printed as text ('<Figure size ...>') instead of drawn
            assert "image/png" in d or "<Figure size" not in str(d.get("text/plain", "")), \
                (path.name, c.source[:60])
            assert "<Figure size" not in o.get("text", ""), (path.name, c.source[:60])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_draws_inline_and_loads_samples_through_datasets(path):
    nb = nbformat.read(path, as_version=4)
    src = "\n".join(c.source for c in _code(nb))
    assert "matplotlib.use(" not in src and "MPLBACKEND" not in src, path.name
    # no path into data/samples, no reader of our own (comments may name the folder)
    code = re.sub(r"#[^\n]*", "", src)
    assert not re.search(r"""['"][^'"\n]*data/samples|['"]samples['"]|read_csv|read_parquet""",
                         code), path.name
    uses_plots = "icnet.plot." in src or "plt." in src
    if uses_plots:
        assert "%matplotlib inline" in src, path.name
        assert any("png" in _kinds(c) for c in _code(nb)), path.name
    if re.search(r"planta|krackhardt|highland", src):
        assert "icnet.datasets.load(" in src, path.name


def test_bundled_published_samples_are_the_data_samples_files():
    for name in ("krackhardt", "highland_tribes"):
        src, pkg = ROOT / "data" / "samples" / name, ROOT / "src" / "icnet" / "_data" / name
        files = sorted(p.name for p in src.iterdir())
        assert files == sorted(p.name for p in pkg.iterdir())
        match, mismatch, errors = filecmp.cmpfiles(src, pkg, files, shallow=False)
        assert not mismatch and not errors, (name, mismatch, errors)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_what_was_committed(path):
    committed = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    for c in _code(nb):
        c.outputs, c.execution_count = [], None
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    # the committed outputs are this code's: the same kinds of output, cell by cell
    assert [_kinds(c) for c in _code(nb)] == [_kinds(c) for c in _code(committed)], path.name
