"""spec14 (issue #18): the specificity check's holdout, on seeds nobody has seen.

validity.py's own ``_one`` (generate + ``scoreboard.score_organisation``, detector
``spirals``) for overload_episodes and joint_bad_periods at 600 people on seeds
600020..600039 (validity.py has no seed offset; its ``--seeds 20`` are 600000..600019)::

    PYTHONPATH=src python benchmarks/spec14_holdout.py [OUT.csv]

(default ``benchmarks/validity_spec14_holdout.csv``; the merged main's run wrote
``benchmarks/validity_comb14_holdout.csv``).
"""
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import validity  # noqa: E402  (puts ROOT/src first on sys.path)

out = []
for s in range(20, 40):
    for name in ["overload_episodes", "joint_bad_periods"]:
        out.append(validity._one((name, 600, 600000 + s, ["spirals"])))
        print(name, 600000 + s, flush=True)
dest = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    ROOT / "benchmarks" / "validity_spec14_holdout.csv"
tmp = dest.with_name(dest.name + ".tmp")
pd.concat(out, ignore_index=True).sort_values(validity.KEY, kind="mergesort").to_csv(
    tmp, index=False)
tmp.replace(dest)                                   # atomic: never a half-written record
