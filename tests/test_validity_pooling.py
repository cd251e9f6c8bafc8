"""benchmarks/validity.py pools saved records: a later file's rows replace the same
organisation's, ``--records`` writes the pool, and never over one of its inputs."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "validity.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                          text=True, cwd=ROOT)


def _two_runs(tmp_path):
    recs = pd.read_csv(ROOT / "benchmarks" / "validity_records.csv")
    a = recs[(recs.detector == "bottlenecks") & (recs.scenario == "baseline")
             & (recs.n_people == 150)].head(3).copy()
    b = a.iloc[[1]].copy()
    b["n_false"] = a["n_false"].iloc[1] + 7          # the second run's record for seed 1
    pa, pb = tmp_path / "a.csv", tmp_path / "b.csv"
    a.to_csv(pa, index=False)
    b.to_csv(pb, index=False)
    return a, pa, pb


def test_pooled_records_take_the_later_file_row(tmp_path):
    a, pa, pb = _two_runs(tmp_path)
    out = tmp_path / "pooled.csv"
    r = _run("--from-records", f"{pa},{pb}", "--records", str(out))
    assert r.returncode == 0, r.stderr
    pooled = pd.read_csv(out)
    assert len(pooled) == 3
    seed = a["seed"].iloc[1]
    assert pooled.loc[pooled.seed == seed, "n_false"].item() == a["n_false"].iloc[1] + 7
    assert set(pooled["seed"]) == set(a["seed"])
    assert not list(tmp_path.glob("*.tmp.csv"))       # written atomically, nothing left


def test_pooled_records_never_overwrite_an_input(tmp_path):
    _, pa, pb = _two_runs(tmp_path)
    before = pa.read_bytes()
    r = _run("--from-records", f"{pa},{pb}", "--records", str(pa))
    assert r.returncode != 0
    assert "one of the --from-records inputs" in r.stderr
    assert pa.read_bytes() == before


def test_first_seed_runs_the_seeds_after_the_scoreboard(tmp_path):
    """--first-seed K runs seeds n*1000+K.. (unseen organisations to add to a pool)."""
    out = tmp_path / "r.csv"
    r = _run("--only", "baseline", "--detectors", "bottlenecks", "--sizes", "150",
             "--seeds", "1", "--first-seed", "37", "--records", str(out))
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(out)["seed"].tolist() == [150037]
    assert not out.with_suffix(".tmp.csv").exists()
    bad = _run("--only", "baseline", "--seeds", "5", "--first-seed", "998")
    assert bad.returncode != 0 and "--first-seed" in bad.stderr
