"""The validity scoreboard for ``retaliation_spirals(..., turn_taking=True)`` (#18).

The turn test is opt-in, so ``benchmarks/validity.py`` measures the default; this runs
the same script with the option switched on (same arguments), e.g.::

    python benchmarks/validity_turn_taking.py --detectors spirals --seeds 20 \\
        --sizes 150,600 --jobs 1 --records benchmarks/validity_spec6_turn_taking.csv

Its records describe the option, not the default: do not pool them into the default
scoreboard.
"""

import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import icnet  # noqa: E402
import validity  # noqa: E402

icnet.retaliation_spirals = functools.partial(icnet.retaliation_spirals, turn_taking=True)

if __name__ == "__main__":
    validity.main()
