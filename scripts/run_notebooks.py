"""Execute the notebooks in place and save them with their outputs (small PNG figures).

    python scripts/run_notebooks.py [notebooks/01_quickstart.ipynb ...]

The notebooks are committed with their outputs so that GitHub, the documentation site
(docs/notebooks/, rendered by scripts/mkdocs_notebooks.py) and a reader without a kernel
see the figures; tests/test_notebooks.py executes them again and checks what was committed.
Per-cell execution timestamps are dropped so that a re-run changes only what changed.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    took = time.perf_counter() - t0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return took


def main(argv) -> None:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for p in paths:
        print(f"{p.name}: {run(p):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
