"""The HTML report: sections, no external request, privacy, determinism, CSV tables."""

import re

import pandas as pd
import pytest

import icnet


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    p = icnet.report(icnet.datasets.load("planta"), d / "report.html", tables=True)
    return p, p.read_text(encoding="utf-8")


def test_sections_and_story(html):
    _, text = html
    for h in ("Executive summary", "Bottlenecks", "Conflict cycles", "Retaliation spirals",
              "Unit health", "Recommended actions"):
        assert f"<h2>{h}" in text
    assert "Informatica is the main bottleneck" in text
    assert "Produccion and Calidad are in a retaliation spiral" in text
    assert text.count("data:image/png;base64,") >= 4


def test_no_external_request(html):
    _, text = html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "<script" not in text


def test_people_not_named_by_default(html):
    _, text = html
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"P0\d{3}", text)


def test_tables_written(html):
    p, _ = html
    names = {f.name for f in p.parent.iterdir()}
    assert {"edges.csv", "bottlenecks.csv", "conflict_cycles.csv", "spirals.csv",
            "health.csv", "actions.csv", "network_map.png"} <= names
    assert len(pd.read_csv(p.parent / "health.csv")) == 10


def test_byte_identical(tmp_path):
    net = icnet.datasets.toy()
    a = icnet.report(net, tmp_path / "a.html", min_group_size=1).read_bytes()
    b = icnet.report(net, tmp_path / "b.html", min_group_size=1).read_bytes()
    assert a == b


def test_escapes_user_strings(tmp_path):
    ev = pd.DataFrame({"provider": ["<script>x</script>", "b"] * 10,
                       "client": ["b", "<script>x</script>"] * 10,
                       "satisfaction": [2, 3] * 10})
    people = pd.DataFrame({"person": ["<script>x</script>", "b"], "unit": ["<b>U</b>", "V"]})
    text = icnet.report(icnet.from_events(ev, people=people), tmp_path / "r.html",
                        min_group_size=1).read_text(encoding="utf-8")
    assert "<script>x</script>" not in text and "&lt;" in text


def test_person_level_needs_individuals(tmp_path):
    with pytest.raises(icnet.ParameterError, match="individuals=True"):
        icnet.report(icnet.datasets.toy(), tmp_path / "r.html", level="person")
