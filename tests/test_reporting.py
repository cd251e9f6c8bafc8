"""The HTML report: sections, no external request, privacy, determinism, CSV tables."""

import re

import numpy as np
import pandas as pd
import pytest

import icnet
from test_plot import four_raters

SECTIONS = ("Executive summary", "Who serves whom", "Bottlenecks", "Conflict cycles",
            "Retaliation spirals and chronic conflicts", "Unit health", "Recommended actions")


def _text(html):
    """The visible text of the page, images removed."""
    html = re.sub(r"base64,[A-Za-z0-9+/=]+", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row(html, first_cell):
    """The cells of the first table row whose first cell is ``first_cell``."""
    for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", tr, flags=re.S)]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r}")


@pytest.fixture(scope="module")
def planta():
    return icnet.datasets.load("planta")


@pytest.fixture(scope="module")
def html(planta, tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    p = icnet.report(planta, d / "report.html", tables=True)
    return p, p.read_text(encoding="utf-8")


def test_story_spiral_start_date(html):
    # planted: P0070 (Calidad) first serves P0009 badly on 1 May 2025 (the sample's
    # README); the bound on the onset error is 14 days. The story tells the
    # person-level spiral (5 May 2025). This was a strict expected failure asserting the
    # exact date "1 May" and diagnosed as the unit-level start (1 April since the Page
    # onsets): that one is checked in test_spirals.py::test_planta_unit_spiral_start
    _, text = html
    summary = _text(text.split('<h2 id="map">')[0])
    # (since 0.2 the turn test is the default: the planted pair is a joint drop, dated)
    m = re.search(r"Calidad serve each other worse since (\d{1,2} \w+ \d{4})", summary)
    assert m, summary
    start = pd.Timestamp(m.group(1))
    assert abs((start - pd.Timestamp("2025-05-01")).days) <= 14, m.group(1)


def test_sections_and_story(html):
    _, text = html
    for h in SECTIONS:
        assert re.search(rf"<h2[^>]*>{h}</h2>", text)
    summary = _text(text.split('<h2 id="map">')[0])
    assert "Informatica is the main bottleneck: 22% of the service reaching the external " \
           "customer depends on it" in summary
    # the planted pair's turns are four days apart: a joint drop by default, not a spiral
    assert "Produccion and Calidad serve each other worse since 1 May 2025, both ways at " \
           "once" in summary
    assert "no turns show" in summary and "retaliation spiral" not in summary
    assert "Compras and Logistica serve each other badly all the time" in summary
    # the cycles are conflict_cycles(net, level="unit") as the API gives them (#19):
    # the units of people's cycles, rotated to start at the smallest unit
    assert "Compras → Produccion → Mantenimiento → Compras" in summary
    assert "(between people of these units)" in summary
    assert text.count("data:image/png;base64,") == 5     # 4 figures and the spiral
    assert 'class="unavailable"' not in text             # every analysis has landed


def test_spirals_section_has_the_organisation_level_test(html, planta):
    _, text = html
    section = _text(text.split('<h2 id="spirals">')[1].split('<h2 id="health">')[0])
    res = icnet.reciprocity_test(planta, n_perm=99)
    r, used = res.iloc[0], res.attrs["n_perm_used"]
    assert f"Organisation-level test: across {int(r.n_pairs)} pairs" in section
    assert f"by {r.estimate:.2f} SD per SD (SE {r.se:.2f})" in section
    # the draws made (sequential stopping: fewer than 99 when p is large)
    assert f"turn-taking test p = {r.p_perm:.2g} ({used} relabellings)" in section


def test_no_external_request(html):
    _, text = html
    assert not re.search(r'(src|href)\s*=\s*"(?!data:)', text)
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text and "@import" not in text


def test_people_not_named_by_default(html, planta):
    _, text = html
    assert not re.search(r"P0\d{3}", _text(text))
    assert not (set(planta.node_ids) & set(re.findall(r"\w+", _text(text))))


def test_tables_and_figures_written(html):
    p, _ = html
    names = {f.name for f in p.parent.iterdir()}
    assert {f"{t}.csv" for t in ("edges", "nodes", "bottlenecks", "conflict_cycles", "spirals",
                                 "health", "actions")} <= names
    assert {"network_map.png", "satisfaction_heatmap.png", "bottleneck_components.png",
            "health_trend.png", "spiral_Produccion_Calidad.png"} <= names
    assert len(pd.read_csv(p.parent / "health.csv")) == 10
    b = pd.read_csv(p.parent / "bottlenecks.csv")
    assert b.loc[0, "node"] == "Informatica" and b.loc[0, "is_bottleneck"]
    e = pd.read_csv(p.parent / "edges.csv")
    # small groups, plus the complementary suppressions that protect them (#20)
    # (their counts are hidden with them: n_raters is NaN exactly where suppressed)
    assert (e["suppressed"] == e["n_raters"].isna()).all()
    assert (e.loc[~e["suppressed"], "n_raters"] >= 5).all()
    assert (e["suppressed"] == e["suppressed_by"].isin(["small group", "complementary"])).all()
    assert e.loc[e["suppressed"], "satisfaction_mean"].isna().all()
    s = pd.read_csv(p.parent / "spirals.csv")
    assert not s["a"].str.match(r"P\d").any()


def test_individuals_names_people(planta, tmp_path):
    p = icnet.report(planta, tmp_path / "r.html", individuals=True, tables=True)
    text = _text(p.read_text(encoding="utf-8"))
    assert "P0009 and P0070 serve each other worse since" in text
    assert (tmp_path / "spiral_P0009_P0070.png").exists()


def test_person_level_report(tmp_path):
    p = icnet.report(icnet.datasets.toy(), tmp_path / "r.html", level="person",
                     individuals=True, tables=True, min_group_size=1)
    h = pd.read_csv(tmp_path / "health.csv")
    assert {"person", "unit"} <= set(h.columns) and len(h) == 12
    assert len(pd.read_csv(tmp_path / "edges.csv")) == len(icnet.datasets.toy().edges)
    assert "Each circle is a unit" in p.read_text(encoding="utf-8")     # map stays by unit


def test_small_group_figures_absent(tmp_path):
    net = four_raters()
    p5 = icnet.report(net, tmp_path / "a" / "r.html", tables=True, min_group_size=5)
    p4 = icnet.report(net, tmp_path / "b" / "r.html", tables=True, min_group_size=4)
    h5, h4 = (pd.read_csv(p.parent / "health.csv").set_index("unit") for p in (p5, p4))
    assert np.isnan(h5.loc["Four", "served_quality"])           # rated by 4 people
    assert np.isfinite(h4.loc["Four", "served_quality"])
    assert np.isfinite(h5.loc["Hub", "served_quality"])         # 10 raters
    # its row in the HTML has an empty served_quality cell; with 4 allowed it shows
    cols = ["unit", "score", "flags", "served_quality"]
    r5, r4 = (dict(zip(cols, _row(p.read_text(encoding="utf-8").split('id="health"')[1],
                                  "Four"))) for p in (p5, p4))
    assert r5["served_quality"] == "" and r4["served_quality"] == \
        f"{h4.loc['Four', 'served_quality']:.3g}"
    e5 = pd.read_csv(p5.parent / "edges.csv").set_index(["provider", "client"])
    e4 = pd.read_csv(p4.parent / "edges.csv").set_index(["provider", "client"])
    for pair in [("Hub", "Four"), ("Four", "Hub"), ("Six", "Four")]:
        assert e4.loc[pair, "n_raters"] == 4 and e5.loc[pair, "sign"] == "suppressed"
        assert pd.isna(e5.loc[pair, "n_raters"]) and pd.isna(e5.loc[pair, "satisfaction_n"])
        assert e5.loc[pair, ["satisfaction_mean", "satisfaction_shrunk", "satisfaction_low",
                             "satisfaction_high", "satisfaction_sd"]].isna().all()
        assert np.isfinite(e4.loc[pair, "satisfaction_mean"])
    # Hub's published quality minus Hub -> Six would give Hub -> Four (#20): one more
    # relation is hidden to protect it (complementary suppression)
    assert e5.loc[("Hub", "Six"), "suppressed_by"] == "complementary"
    assert np.isfinite(e4.loc[("Hub", "Six"), "satisfaction_mean"])


def test_byte_identical(tmp_path):
    net = icnet.datasets.toy()
    pa = icnet.report(net, tmp_path / "a" / "r.html", min_group_size=1, tables=True)
    pb = icnet.report(net, tmp_path / "b" / "r.html", min_group_size=1, tables=True)
    assert pa.read_bytes() == pb.read_bytes()
    for f in sorted(pa.parent.iterdir()):
        assert f.read_bytes() == (pb.parent / f.name).read_bytes(), f.name


def test_escapes_user_strings(tmp_path):
    ev = pd.DataFrame({"provider": ["<script>x</script>", "b"] * 10,
                       "client": ["b", "<script>x</script>"] * 10,
                       "satisfaction": [2, 3] * 10})
    people = pd.DataFrame({"person": ["<script>x</script>", "b"], "unit": ["<b>U</b>", "V"]})
    text = icnet.report(icnet.from_events(ev, people=people), tmp_path / "r.html",
                        min_group_size=1, title="<i>T</i>").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>U</b>" not in text and "<i>T</i>" not in text
    assert "&lt;b&gt;U&lt;/b&gt;" in text and "&lt;i&gt;T&lt;/i&gt;" in text


def test_without_people_table_sections_say_so(tmp_path):
    ev = pd.DataFrame({"provider": ["a", "b", "c"] * 10, "client": ["b", "c", "a"] * 10,
                       "satisfaction": [1, 2, 1] * 10,
                       "requested_at": pd.date_range("2025-01-01", periods=30, freq="D")})
    text = icnet.report(icnet.from_events(ev), tmp_path / "r.html",
                        min_group_size=1).read_text(encoding="utf-8")
    for h in SECTIONS:
        assert re.search(rf"<h2[^>]*>{h}</h2>", text)
    assert "The unit scorecard needs a people table" in text
    assert "The actions need a people table" in text


@pytest.mark.parametrize("kwargs, match", [
    (dict(level="person"), r"individuals=True"),
    (dict(level="team"), "'level' parameter must be one of 'unit', 'person'"),
    (dict(min_group_size=0), "'min_group_size' parameter must be >= 1"),
    (dict(title=3), "'title' parameter must be a str or None"),
    (dict(seed="x"), "'seed' parameter must be an int"),
])
def test_error_messages(tmp_path, kwargs, match):
    with pytest.raises(icnet.ParameterError, match=match):
        icnet.report(icnet.datasets.toy(), tmp_path / "r.html", **kwargs)


def test_path_and_network_errors():
    with pytest.raises(icnet.ParameterError, match="'path' parameter must be a file path"):
        icnet.report(icnet.datasets.toy(), 3)
    with pytest.raises(icnet.ParameterError, match="Expected an icnet.ServiceNetwork"):
        icnet.report("net", "r.html")


def test_report_cycles_are_the_api_result(tmp_path):
    """#19 point 4: the report renders conflict_cycles(net, level="unit") as it is."""
    net = icnet.datasets.load("planta")
    icnet.report(net, tmp_path / "r.html", tables=True)
    got = pd.read_csv(tmp_path / "conflict_cycles.csv")
    api = icnet.conflict_cycles(net, level="unit")
    assert got["cycle"].tolist() == [str(c) for c in api["cycle"]]
    assert got["between"].tolist() == api["between"].tolist()
    assert np.allclose(got["severity"], api["severity"], equal_nan=True)   # both gated (#20)



def test_one_dependence_figure_per_unit(tmp_path):
    """#19: Informatica's dependence was 22 % in one place and 3.0 % / 21.8 % in others."""
    from icnet.analysis.bottlenecks import share_text
    net = icnet.datasets.load("planta")
    icnet.report(net, tmp_path / "r.html", tables=False)
    text = _text((tmp_path / "r.html").read_text(encoding="utf-8"))
    d = icnet.bottlenecks(net, level="unit").set_index("node").loc["Informatica", "dependence"]
    quoted = set(re.findall(r"Informatica is the main bottleneck: ([\d.]+%)", text)) | \
        set(re.findall(r"dependence ([\d.]+%)", text))
    assert quoted == {share_text(d)}


def _spiral_story(initiator_p, initiator="Ventas"):
    from icnet.reporting import _summary
    spir = pd.DataFrame({
        "a": ["Compras"], "b": ["Ventas"], "kind": ["spiral"], "initiator": [initiator],
        "initiator_p": [initiator_p], "start": [pd.Timestamp("2025-03-03")],
        "end": [pd.Timestamp("2025-05-05")], "rounds": [4], "effect": [np.nan],
        "q": [0.01]})
    empty = pd.DataFrame()
    lines = _summary(pd.DataFrame({"is_bottleneck": pd.Series(dtype=bool)}), empty, empty,
                     spir, empty, empty, False, {})
    return next(x for x in lines if "retaliation spiral" in x)


def test_story_names_who_moved_first_only_as_surely_as_the_data_say():
    # init15 (#18, benchmarks/init15_diagnosis.csv): initiator_p >= 0.8 was right for 0.87
    # of the found spirals on development seeds, below 0.8 for 0.64 — the story must not
    # state a coin flip as a fact
    sure = _spiral_story(0.93)
    assert "Ventas moved first (probability 0.93)" in sure
    unsure = _spiral_story(0.61)
    assert "Ventas moved first." not in unsure
    assert "who moved first is not clear" in unsure and "0.61" in unsure
    # an initiator without a probability (the coupling test's chain): as before
    assert "Ventas moved first." in _spiral_story(np.nan)
    # no initiator at all (a coupling-test spiral without an escalation chain): not "None"
    none = _spiral_story(np.nan, initiator=None)
    assert "None moved first" not in none and "who moved first is not clear" in none


def test_story_of_a_one_sided_pair_does_not_claim_an_answer():
    # onesided16: a change-test one_sided pair is one direction's drop ("only X's service
    # dropped"), not an answer; the story read "one side answers bad service with bad
    # service" for every one_sided pair
    from icnet.reporting import _summary
    spir = pd.DataFrame({
        "a": ["Compras"], "b": ["Ventas"], "kind": ["one_sided"], "initiator": ["Compras"],
        "initiator_p": [np.nan], "start": [pd.Timestamp("2025-03-03")],
        "end": [pd.Timestamp("2025-05-05")], "rounds": [0], "effect": [np.nan],
        "q": [0.01], "reason": ["only Compras's service dropped (q=0.01)"]})
    empty = pd.DataFrame()
    lines = _summary(pd.DataFrame({"is_bottleneck": pd.Series(dtype=bool)}), empty, empty,
                     spir, empty, empty, False, {})
    line = next(x for x in lines if "Compras and Ventas" in x)
    assert "answers" not in line
    assert "one direction only" in line and "not a spiral" in line
