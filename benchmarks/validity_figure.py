"""The figures of docs/validity.md: the bounded share rows of the open issues' detectors
(spirals #18, bottlenecks #19), each value with its 95 % interval against its bound.

    python benchmarks/validity_figure.py benchmarks/validity_records.csv

writes docs/img/validity_floors.png (bounds "at least": recall, precision, initiator,
top-k) and docs/img/validity_ceilings.png (bounds "at most": organisations with a false
finding) from the pooled records (icnet.plot.scoreboard)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from icnet import plot  # noqa: E402
from icnet._files import atomic_write  # noqa: E402
from icnet.validity import scoreboard  # noqa: E402


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "benchmarks" / "validity_records.csv")
    board = scoreboard.scoreboard(pd.read_csv(src))
    for which, name in (("at least", "validity_floors.png"), ("at most", "validity_ceilings.png")):
        ax = plot.scoreboard(board, detectors=["spirals", "bottlenecks"], which=which)
        out = ROOT / "docs" / "img" / name
        with atomic_write(out, "wb") as fh:
            ax.figure.savefig(fh, dpi=72, bbox_inches="tight", format="png")
        print(f"{out.relative_to(ROOT)}: {len(ax.get_yticklabels())} rows")


if __name__ == "__main__":
    main()
