"""Cost of the CSV safety checks (issue #20): reading an events CSV with icnet.io.

Prints, for a generated events table written as CSV, the time of
  * pandas.read_csv alone (what the reader did before),
  * the field-count pass that detects ragged rows and duplicate headers
    (icnet.io._check_csv_shape, Python's C csv module),
  * the whole icnet.io.read_events (shape check, read, missing spellings, NFC ids,
    date rules, validation).

Usage: python benchmarks/bench_read_csv.py [n_people] [days]   (default 500 365)
"""

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from icnet import io, synth


def main(n_people: int = 500, days: int = 365) -> None:
    org = synth.organisation(n_people=n_people, days=days, seed=0)
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "events.csv"
        org.events.to_csv(f, index=False)
        size = f.stat().st_size / 2**20
        rows = []
        t = time.perf_counter()
        pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
        rows.append(("pandas.read_csv only", time.perf_counter() - t))
        t = time.perf_counter()
        io._check_csv_shape(str(f), "events", ",", "utf-8-sig", False)
        rows.append(("field-count check", time.perf_counter() - t))
        t = time.perf_counter()
        io.read_events(str(f))
        rows.append(("io.read_events (all)", time.perf_counter() - t))
    print(f"{len(org.events):,} events, {size:.1f} MiB CSV")
    for name, sec in rows:
        print(f"  {name:<24s} {sec:6.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
