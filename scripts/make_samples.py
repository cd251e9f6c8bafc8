"""Regenerate the bundled samples (data/samples/ and the packaged copy in src/icnet/_data/).

Run from the repository root: ``python scripts/make_samples.py``. The samples are
generated from fixed seeds, so running it again reproduces them byte for byte
(tests/test_synth.py checks that).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {
    # name: keyword arguments of icnet.synth.organisation
    "planta": dict(n_people=150, days=365, seed=20250101, start="2025-01-01",
                   plant=dict(bottlenecks=1, conflict_cycles=(3,), spirals=1, chronic=1,
                              avoidance=1, idle_units=0, missing_agreements=3,
                              overdue_reviews=2,
                              spiral_units=(("Produccion", "Calidad"),),
                              chronic_units=(("Compras", "Logistica"),))),
}


def build(name: str, out_dir) -> Path:
    """Generate sample ``name`` into ``out_dir`` (CSV files and truth.json)."""
    from icnet import synth

    org = synth.organisation(**SAMPLES[name])
    return synth.write(org, out_dir, format="csv")


def main() -> int:
    for name in SAMPLES:
        data = ROOT / "data" / "samples" / name
        build(name, data)
        pkg = ROOT / "src" / "icnet" / "_data" / name
        pkg.mkdir(parents=True, exist_ok=True)
        for f in sorted(data.iterdir()):
            shutil.copyfile(f, pkg / f.name)
        print(f"wrote {data} and {pkg}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
