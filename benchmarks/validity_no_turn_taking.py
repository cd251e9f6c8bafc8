"""The validity scoreboard for ``retaliation_spirals(..., turn_taking=False)`` (#18).

Since 0.2 the turn test is the default, so ``benchmarks/validity.py`` measures it; this
runs the same script for the more sensitive screen without it (same arguments), e.g.::

    python benchmarks/validity_no_turn_taking.py --detectors spirals --seeds 20 \\
        --sizes 150,600 --jobs 2 --records benchmarks/validity_no_turn_taking.csv

Its records describe the screen, not the default: do not pool them into the default
scoreboard. (Records named ``validity_*_turn_taking.csv`` were made before 0.2 by the
former ``validity_turn_taking.py``, which switched the turn test on when it was opt-in.)
"""

import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import icnet  # noqa: E402
import validity  # noqa: E402

icnet.retaliation_spirals = functools.partial(icnet.retaliation_spirals, turn_taking=False)

if __name__ == "__main__":
    validity.main()
