"""The icnet command, driven as a user would (subprocess), with its exit codes."""

import json
import subprocess
import sys

import pandas as pd
import pytest

import icnet


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "icnet", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture
def files(tmp_path, events, people):
    ev = tmp_path / "events.csv"
    pp = tmp_path / "people.csv"
    events.to_csv(ev, index=False)
    people.to_csv(pp, index=False)
    return ev, pp


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"icnet {icnet.__version__}"
    r = run("--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "icnet demo --out" in r.stdout
    r = run("analyze", "--help")
    assert r.returncode == 0 and "--columns" in r.stdout


def test_no_command_and_unknown_option_are_usage_errors():
    assert run().returncode == 2
    r = run("analyze", "x.csv", "--out", "o", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr


def test_validate_clean_files(files):
    ev, pp = files
    r = run("validate", ev, "--people", pp)
    assert r.returncode == 0, r.stderr
    assert "no problems found" in r.stdout


def test_validate_lists_every_problem_with_rows(tmp_path):
    f = tmp_path / "ev.csv"
    pd.DataFrame({"provider": ["a", "b", "c", "d"], "client": ["a", "c", "a", "b"],
                  "satisfaction": [3, 9, 2, "x"]}).to_csv(f, index=False)
    r = run("validate", f)
    assert r.returncode == 2
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3
    assert "rows where the client is the provider itself (rows 0" in lines[0]
    assert "not finite numbers (rows 3: 'x')" in lines[1]
    assert "outside the scale 1..5 (rows 1: '9')" in lines[2]
    assert "Traceback" not in r.stderr


def test_missing_file_is_a_clean_error(tmp_path):
    r = run("analyze", tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert r.returncode == 2
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_bad_values_exit_2_without_traceback(tmp_path):
    f = tmp_path / "ev.csv"
    pd.DataFrame({"provider": ["a", "b"], "client": ["b", "a"],
                  "satisfaction": [3, 9]}).to_csv(f, index=False)
    r = run("analyze", f, "--out", tmp_path / "o")
    assert r.returncode == 2
    assert "outside the scale 1..5" in r.stderr and "Traceback" not in r.stderr


def test_bad_columns_map(tmp_path, files):
    ev, _ = files
    m = tmp_path / "map.json"
    m.write_text("{not json")
    r = run("analyze", ev, "--columns", m, "--out", tmp_path / "o")
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    m.write_text(json.dumps({"x": "nonsense"}))
    r = run("validate", ev, "--columns", m)
    assert r.returncode == 2 and "unknown icnet columns" in r.stdout


def test_bad_scale(files):
    ev, _ = files
    r = run("validate", ev, "--scale", "five")
    assert r.returncode == 2 and "--scale must look like 1,5" in r.stderr


def test_analyze_writes_report_tables_and_figures(tmp_path, files):
    ev, pp = files
    out = tmp_path / "out"
    r = run("analyze", ev, "--people", pp, "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert (out / "report.html").stat().st_size > 1000
    assert (out / "edges.csv").exists()
    assert any(p.suffix == ".png" for p in out.iterdir())
    assert r.stderr == ""          # --quiet and not a terminal: nothing on stderr


def test_analyze_on_dask_writes_the_pandas_tables(tmp_path):
    """--engine dask: the planta sample analysed on two local worker processes gives
    the pandas run's tables (spirals: another Monte Carlo draw of the same test)."""
    pytest.importorskip("distributed", reason="dask is in the test extra")  # never skips in CI
    d = icnet.datasets.load("planta", as_tables=True)
    ev, pp, ag = (tmp_path / f"{n}.csv" for n in ("events", "people", "agreements"))
    d["events"].to_csv(ev, index=False)
    d["people"].to_csv(pp, index=False)
    d["agreements"].to_csv(ag, index=False)
    common = (ev, "--people", pp, "--agreements", ag, "--quiet", "--seed", "3")
    r = run("analyze", *common, "--engine", "dask", "--workers", "2", "--out", tmp_path / "d")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = run("analyze", *common, "--out", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    assert "analysed on a Dask cluster" in (tmp_path / "d" / "report.html").read_text()
    assert "Dask" not in (tmp_path / "p" / "report.html").read_text()
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == names
    for name in names:
        if name.endswith(".csv") and name != "spirals.csv":
            assert (tmp_path / "d" / name).read_bytes() == (tmp_path / "p" / name).read_bytes()
    sp = [pd.read_csv(tmp_path / x / "spirals.csv") for x in "dp"]
    top = [x[x["kind"].isin(["spiral", "joint_shift"])][["a", "b", "kind", "start"]]
           for x in sp]
    assert len(top[1]) and top[0].equals(top[1])


def test_dask_options_are_checked(files, tmp_path):
    ev, pp = files
    r = run("analyze", ev, "--workers", "3", "--out", tmp_path / "o")
    assert r.returncode == 2 and "go with --engine dask" in r.stderr
    r = run("analyze", ev, "--engine", "dask", "--workers", "0", "--out", tmp_path / "o")
    assert r.returncode == 2 and "--workers must be at least 1" in r.stderr
    r = run("analyze", ev, "--engine", "spark", "--out", tmp_path / "o")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_analyze_drop_writes_dropped_csv(tmp_path, events, people):
    bad = pd.concat([events, events.iloc[[0]].assign(event_id="zz", satisfaction=9)])
    f = tmp_path / "ev.csv"
    bad.to_csv(f, index=False)
    pp = tmp_path / "pp.csv"
    people.to_csv(pp, index=False)
    out = tmp_path / "out"
    r = run("analyze", f, "--people", pp, "--errors", "drop", "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    d = pd.read_csv(out / "dropped.csv")
    assert d["reason"].tolist() == ["out_of_scale"]


def test_generate_writes_tables_and_truth(tmp_path):
    out = tmp_path / "gen"
    r = run("generate", "--people", 60, "--seed", 3, "--days", 90, "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert {"events.csv", "people.csv", "truth.json"} <= names
    truth = json.loads((out / "truth.json").read_text())
    assert isinstance(truth, dict) and truth
    net = icnet.from_events(out / "events.csv", people=out / "people.csv")
    assert net.nodes["in_people"].sum() == 60


def test_generate_rejects_bad_size(tmp_path):
    r = run("generate", "--people", 1, "--out", tmp_path / "g")
    assert r.returncode == 2 and "--people must be at least 2" in r.stderr


def test_generate_budget_exits_3_and_writes_nothing(tmp_path):
    """#20 point 6: generation sizes have a budget (exit 3), in the CLI and in the API
    (synth.organisation's max_events, which the CLI's generate goes through)."""
    r = run("generate", "--people", 10 ** 7, "--out", tmp_path / "g")
    assert r.returncode == 3 and "limited to" in r.stderr and "Traceback" not in r.stderr
    r = run("generate", "--people", 900_000, "--days", 3650, "--out", tmp_path / "h")
    assert r.returncode == 3 and "max_events" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "g").exists() and not (tmp_path / "h").exists()
