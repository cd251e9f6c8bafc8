"""A plain (non-editable) wheel installs and carries the samples and py.typed."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = out.glob("icnet-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "icnet/py.typed" in names
    assert "icnet/_data/planta/events.csv" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    assert not any(n.startswith(("tests/", "data/")) for n in names)


def test_wheel_installs_and_loads_the_sample(wheel, tmp_path):
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                        str(target), str(wheel)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    code = ("import icnet, sys; assert icnet.__file__.startswith(sys.argv[1]), icnet.__file__; "
            "net = icnet.datasets.load('planta'); print(len(net.events) > 1000)")
    r = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True,
                       text=True, cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": ""},
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "True"
