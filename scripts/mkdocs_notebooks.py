"""mkdocs hook: the notebooks of notebooks/ as pages of the site, with their saved outputs.

Listed in mkdocs.yml (``hooks:``). Each ``notebooks/NAME.ipynb`` becomes the page
``notebooks/NAME.md``, generated at build time (nothing is written into docs/): markdown
cells as they are, code cells as Python blocks, and the outputs committed with the notebook
— text as text blocks, tables as their HTML, figures as embedded PNG. The notebooks are
executed by tests/test_notebooks.py and saved with their outputs by
scripts/run_notebooks.py; the site shows what was committed and runs nothing.
"""

from __future__ import annotations

import html
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def notebook_markdown(path: Path) -> str:
    """The Markdown page of one notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            if len(parts) == 1:             # under the title: where the page comes from
                parts.append(f"*This page is the notebook `notebooks/{path.name}` with the "
                             "outputs it was committed with; the test suite runs it. Run it "
                             "yourself with `jupyter lab notebooks/` after "
                             "`python -m pip install -e \".[test]\"`.*")
        elif cell.cell_type == "code":
            parts.append(f"```python\n{cell.source}\n```")
            for out in cell.get("outputs", []):
                parts.append(_output(out))
    return "\n\n".join(p for p in parts if p) + "\n"


def _text_block(text: str) -> str:
    text = text.rstrip("\n")
    return f"```text\n{text}\n```" if text.strip() else ""


def _output(out) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return _text_block(out.get("text", ""))
    if kind == "error":
        return _text_block("\n".join(out.get("traceback", [])))
    data = out.get("data", {})
    if "image/png" in data:
        png = data["image/png"].replace("\n", "")
        return (f'<img class="nb-figure" alt="figure" style="max-width: 100%" '
                f'src="data:image/png;base64,{png}">')
    if "text/html" in data:
        body = data["text/html"]
        body = body if isinstance(body, str) else "".join(body)
        body = "\n".join(line for line in body.splitlines() if line.strip())
        return f'<div class="nb-output" style="overflow-x: auto">\n{body}\n</div>'
    if "text/plain" in data:
        return _text_block(data["text/plain"])
    return ""


def on_files(files, config):
    """Add one generated page per notebook (mkdocs ≥ 1.6)."""
    from mkdocs.structure.files import File

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(File.generated(config, f"notebooks/{path.stem}.md",
                                    content=notebook_markdown(path)))
    return files


if __name__ == "__main__":          # print one page, to look at it
    import sys

    print(notebook_markdown(Path(sys.argv[1])))
