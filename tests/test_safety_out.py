"""Issue #20 "outputs never destroy inputs": the writing side, one test per finding."""

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import icnet
from icnet import _files
from icnet.cli import main
from icnet.errors import ParameterError

SRC = str(Path(icnet.__file__).resolve().parents[1])


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture()
def small(tmp_path):
    """A small generated organisation (events/people/ratings/agreements CSV)."""
    d = tmp_path / "data"
    assert main(["generate", "--people", "20", "--days", "40", "--seed", "3", "-q",
                 "--out", str(d)]) == 0
    return d


def _no_leftovers(folder: Path):
    names = [p.name for p in folder.iterdir()]
    assert not [n for n in names if n.startswith(".icnet-tmp") or n.endswith(".tmp")], names
    assert not [p.name for p in folder.iterdir() if p.is_file() and p.stat().st_size == 0]


# --------------------------------------------------------------------------- --out

def test_out_holding_the_inputs_is_refused_and_inputs_survive(small, capsys):
    before = _digest(small)
    code = main(["analyze", str(small / "events.csv"), "--people", str(small / "people.csv"),
                 "--out", str(small), "-q"])
    assert code == 2
    assert "holds the input" in capsys.readouterr().err
    assert _digest(small) == before


def test_out_equal_to_an_input_folder_is_refused(small):
    before = _digest(small)
    assert main(["analyze", str(small), "--out", str(small), "-q"]) == 2
    assert main(["analyze", str(small), "--out", str(small / ".." / small.name), "-q"]) == 2
    assert _digest(small) == before


def test_generate_refuses_to_overwrite_without_force(small, capsys):
    before = _digest(small)
    assert main(["generate", "--people", "25", "--seed", "9", "-q", "--out", str(small)]) == 2
    assert "--force" in capsys.readouterr().err
    assert _digest(small) == before
    assert main(["generate", "--people", "25", "--seed", "9", "-q", "--force",
                 "--out", str(small)]) == 0
    assert _digest(small) != before
    _no_leftovers(small)


def test_analyze_folder_writes_manifest_and_removes_its_own_stale_files(small, tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(small), "--out", str(out), "-q"]) == 0
    manifest = json.loads((out / _files.MANIFEST).read_text())
    assert "report.html" in manifest["files"] and "edges.csv" in manifest["files"]
    assert set(manifest["files"]) | {_files.MANIFEST} == {p.name for p in out.iterdir()}
    # a stale file from "our" earlier run, and a file of the user's
    (out / "stale_figure.png").write_bytes(b"old")
    manifest["files"].append("stale_figure.png")
    (out / _files.MANIFEST).write_text(json.dumps(manifest))
    (out / "my_notes.txt").write_text("keep me")
    assert main(["analyze", str(small), "--out", str(out), "-q"]) == 0
    assert not (out / "stale_figure.png").exists()
    assert (out / "my_notes.txt").read_text() == "keep me"
    _no_leftovers(out)


def test_dropped_csv_of_an_earlier_run_does_not_survive(small, tmp_path):
    ev = pd.read_csv(small / "events.csv")
    bad = small.parent / "bad"
    bad.mkdir()
    ev2 = ev.copy()
    ev2.loc[0, "client"] = ev2.loc[0, "provider"]          # a self-service row → dropped
    ev2.to_csv(bad / "events.csv", index=False)
    out = tmp_path / "out"
    assert main(["analyze", str(bad / "events.csv"), "--errors", "drop", "--out", str(out),
                 "-q"]) == 0
    assert (out / "dropped.csv").exists()
    assert main(["analyze", str(small / "events.csv"), "--out", str(out), "-q"]) == 0
    assert not (out / "dropped.csv").exists()


def test_ctrl_c_exits_130_and_leaves_the_previous_outputs(small, tmp_path, monkeypatch,
                                                          capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(small), "--out", str(out), "-q"]) == 0
    before = _digest(out)

    def interrupted(net, path, **kw):
        Path(path).write_text("<html>half")
        Path(path).with_name("edges.csv").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(icnet, "report", interrupted)
    assert main(["analyze", str(small), "--out", str(out), "-q"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    assert _digest(out) == before
    _no_leftovers(out)


def test_sigterm_exits_143_without_a_zero_byte_report(small, tmp_path):
    out = tmp_path / "out"
    ready = tmp_path / "ready"
    script = f"""
import sys, time, pathlib
sys.path.insert(0, {SRC!r})
import matplotlib; matplotlib.use("Agg")
import icnet, icnet.cli
def slow(net, path, **kw):
    pathlib.Path(path).write_bytes(b"")
    pathlib.Path({str(ready)!r}).write_text("x")
    time.sleep(60)
icnet.report = slow
sys.exit(icnet.cli.main(["analyze", {str(small)!r}, "--out", {str(out)!r}, "-q"]))
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), proc.stderr.read() if proc.poll() is not None else "timeout"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 143
    assert "Traceback" not in proc.stderr.read()
    assert not (out / "report.html").exists()
    _no_leftovers(out)


# --------------------------------------------------------------------------- files

def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("old")
    with pytest.raises(RuntimeError):
        with _files.atomic_write(f) as fh:
            fh.write("new, partial")
            raise RuntimeError("boom")
    assert f.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\tx", "\rx", "=cmd|' /C calc'!A0"])
def test_formula_cells_are_neutralised(cell, tmp_path):
    f = _files.write_csv(pd.DataFrame({"unit": [cell, "ok"], "n": [1, -2]}), tmp_path / "a.csv")
    back = pd.read_csv(f, keep_default_na=False)
    assert back["unit"].iloc[0] == "'" + cell
    assert back["n"].tolist() == [1, -2]                 # numbers untouched


def test_negative_number_text_is_kept():
    out = _files.neutralise(pd.DataFrame({"a": ["-3.5", "+2", "-1e3", "-", "-x"]}))
    assert out["a"].tolist() == ["-3.5", "+2", "-1e3", "'-", "'-x"]


def test_report_tables_neutralise_formula_ids(tmp_path):
    ev = pd.DataFrame({"provider": ["=1+1", "b", "=1+1", "c"], "client": ["b", "=1+1", "c", "b"],
                       "satisfaction": [4, 2, 3, 5]})
    net = icnet.from_events(ev, level="unit")
    icnet.report(net, tmp_path / "report.html", tables=True, min_group_size=1)
    text = (tmp_path / "edges.csv").read_text()
    assert "'=1+1" in text
    assert not any(line.startswith("=") or ",=" in line for line in text.splitlines())


def test_dollar_names_are_shown_literally(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    ev = pd.DataFrame({"provider": ["$$", "b", "$x^2$", "b"], "client": ["b", "$$", "b", "$x^2$"],
                       "satisfaction": [4, 2, 3, 5]})
    net = icnet.from_events(ev, level="unit")
    ax = icnet.plot.satisfaction_heatmap(net, min_group_size=1)
    ax.figure.savefig(tmp_path / "h.png")                 # mathtext would raise here
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert r"\$\$" in labels
    icnet.report(net, tmp_path / "report.html", tables=True, min_group_size=1)
    assert (tmp_path / "report.html").stat().st_size > 0


def test_output_folder_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        _files.OutputFolder(f)


# --------------------------------------------------------------------------- CLI

def test_analyze_dir_on_samples_and_generate_output(small, tmp_path):
    assert main(["analyze", "data/samples/planta", "--out", str(tmp_path / "p"), "-q"]) == 0
    assert (tmp_path / "p" / "report.html").exists()
    assert main(["analyze", str(small), "--out", str(tmp_path / "g"), "-q"]) == 0


@pytest.mark.parametrize("extra", [["--tz", "Mars/Olympus"], ["--encoding", "klingon"],
                                   ["--sep", ";"], ["--date-format", "%d/%m/%Y"],
                                   ["--seed", "-5"], ["--date-format", "%Q"]])
def test_cli_user_errors_exit_2(small, tmp_path, extra, capsys):
    code = main(["analyze", str(small / "events.csv"), "--out", str(tmp_path / "o"), "-q",
                 *extra])
    assert code == 2, capsys.readouterr().err
    assert "internal error" not in capsys.readouterr().err


def test_cli_reads_semicolon_latin1(tmp_path):
    f = tmp_path / "in" / "ev.csv"
    f.parent.mkdir()
    f.write_bytes("provider;client;satisfaction\nCompañía;b;4,5\nb;Compañía;2\n"
                  .encode("latin-1"))
    assert main(["validate", str(f), "-q"]) == 2
    assert main(["validate", str(f), "--sep", ";", "--encoding", "latin-1", "--decimal", ",",
                 "-q"]) == 0
    assert main(["analyze", str(f), "--sep", ";", "--encoding", "latin-1", "--level", "unit",
                 "--out", str(tmp_path / "o"), "-q"]) == 0
    edges = pd.read_csv(tmp_path / "o" / "edges.csv")
    assert len(edges) == 2


def test_analyze_a_non_table_file_exits_2(small, tmp_path, capsys):
    assert main(["analyze", str(small / "truth.json"), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "not a table file" in capsys.readouterr().err


def test_analyze_folder_without_tables_and_parquet_dataset(small, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", str(empty), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "holds no events table" in capsys.readouterr().err
    pytest.importorskip("pyarrow")
    ds = tmp_path / "dataset"
    ds.mkdir()
    ev = pd.read_csv(small / "events.csv")
    ev.iloc[: len(ev) // 2].to_parquet(ds / "part-0.parquet")
    ev.iloc[len(ev) // 2:].to_parquet(ds / "part-1.parquet")
    assert main(["validate", str(ds), "-q"]) == 0


@pytest.mark.parametrize("target", ["", "."])
def test_report_to_a_folder_is_a_parameter_error(target, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match="is a folder"):
        _files.atomic_write(target).__enter__()
    with pytest.raises(ParameterError, match="does not exist"):
        _files.atomic_write(tmp_path / "nope" / "r.html").__enter__()


def test_analyze_an_excel_workbook(small, tmp_path):
    pytest.importorskip("openpyxl")
    book = tmp_path / "in" / "hr.xlsx"
    book.parent.mkdir()
    with pd.ExcelWriter(book) as w:
        for name in ("events", "people"):
            pd.read_csv(small / f"{name}.csv").to_excel(w, sheet_name=name, index=False)
    assert main(["validate", str(book), "-q"]) == 0
    assert main(["analyze", str(book), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert (tmp_path / "o" / "report.html").exists()
