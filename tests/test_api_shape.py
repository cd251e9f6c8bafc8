"""One API shape (issue #23, point 5): results that display, one level rule, tables that
cannot be changed behind the network's back, graphs that networkx can write."""

import inspect
import io
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def toy():
    return icnet.datasets.toy()


# ------------------------------------------------------------------ results

def _results(toy):
    return {
        "edges": icnet.service_quality(toy, min_group_size=1),
        "agreements": icnet.agreement_compliance(toy),
        "camps": icnet.balance(toy, level="unit"),
    }


def test_multi_table_results_have_to_frame_and_html(toy):
    for main, r in _results(toy).items():
        assert r.tables[0] == main
        df = r.to_frame()
        assert isinstance(df, pd.DataFrame)
        pd.testing.assert_frame_equal(df, getattr(r, main))
        df["changed"] = 1                                  # a copy
        assert "changed" not in getattr(r, main)
        for name in r.tables:
            assert isinstance(r.to_frame(name), pd.DataFrame)
        html = r._repr_html_()
        assert html.startswith("<div>") and "<table" in html and type(r).__name__ in html
        assert len(repr(r).splitlines()) == 1 + len(r.tables)   # short, not the whole tables
        with pytest.raises(ParameterError, match="'table' parameter must be one of"):
            r.to_frame("nope")


def test_balance_frame_keeps_params(toy):
    r = icnet.balance(toy, level="unit")
    assert r.to_frame().attrs["params"]["level"] == "unit"


def test_every_analysis_returns_a_frame_or_a_result(toy):
    from icnet._result import Result
    calls = {
        "bottlenecks": dict(level="unit"), "critical_path": dict(level="unit"),
        "conflict_cycles": {}, "dyad_census": dict(n_null=5),
        "retaliation_spirals": dict(n_perm=19), "health": dict(min_group_size=1),
        "reciprocity_test": dict(n_perm=9),
        "actions": dict(min_group_size=1), "service_quality": {},
        "agreement_compliance": {}, "balance": dict(level="unit"),
    }
    for name, kw in calls.items():
        out = getattr(icnet, name)(toy, **kw)
        assert isinstance(out, (pd.DataFrame, Result)), name
        if isinstance(out, Result):
            assert hasattr(out, "_repr_html_") and hasattr(out, "to_frame")


# ------------------------------------------------------------------ level rule

#: The rule of docs/api.md: measures default to the network's own level (None);
#: summaries that grade or draw people default to "unit".
MEASURES = ["service_quality", "bottlenecks", "critical_path", "conflict_cycles",
            "dyad_census", "balance", "retaliation_spirals", "spiral_timeline",
            "reciprocity_test"]
SUMMARIES = ["health", "actions", "what_if", "report"]
PLOTS_SUMMARY = ["network_map", "satisfaction_heatmap", "bottleneck_components"]


def test_one_level_rule():
    import icnet.analysis.conflicts as conflicts
    import icnet.plot as plot

    for name in MEASURES:
        assert inspect.signature(getattr(icnet, name)).parameters["level"].default is None, name
    assert inspect.signature(conflicts.bad_edges).parameters["level"].default is None
    assert inspect.signature(plot.spiral_timeline).parameters["level"].default is None
    for name in SUMMARIES:
        assert inspect.signature(getattr(icnet, name)).parameters["level"].default == "unit", name
    for name in PLOTS_SUMMARY:
        assert inspect.signature(getattr(plot, name)).parameters["level"].default == "unit", name
    # every public function with a level= is covered by the rule (a new one must be placed)
    seen = set()
    for mod in ("quality", "agreements", "bottlenecks", "conflicts", "spirals", "health",
                "actions", "reciprocity"):
        m = __import__(f"icnet.analysis.{mod}", fromlist=["x"])
        for n in m.__all__:
            f = getattr(m, n)
            if (callable(f) and not inspect.isclass(f)
                    and "level" in inspect.signature(f).parameters):
                seen.add(n)
    assert seen <= set(MEASURES) | set(SUMMARIES) | {"bad_edges", "signed_pairs"}, seen
    # the rule is written down, and the CLI uses the same word for the same thing
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert "## The `level` rule" in api
    from icnet.cli import _parser
    help_ = _parser().format_help() + _parser()._subparsers._group_actions[0].choices[
        "analyze"].format_help()
    assert re.search(r"--level\s+LEVEL\s+level= of the analyses", help_), help_


# ------------------------------------------------------------------ copies

def test_edges_and_nodes_are_copies(toy):
    net = icnet.datasets.toy()
    before = icnet.bottlenecks(net)
    e = net.edges
    e["satisfaction_shrunk"] = 1.0                   # what a notebook user might do
    e["my_column"] = "x"
    e.loc[0, "n_events"] = 10_000
    nodes = net.nodes
    nodes["unit"] = "Everyone"
    assert "my_column" not in net.edges
    assert net.edges.loc[0, "n_events"] != 10_000
    assert net.nodes["unit"].nunique() == 5
    pd.testing.assert_frame_equal(icnet.bottlenecks(net), before)
    assert net.edges is not net.edges                  # a new frame on each read


# ------------------------------------------------------------------ networkx export

@pytest.mark.parametrize("level", ["person", "unit"])
def test_to_networkx_writes_graphml_and_gexf(level):
    net = icnet.datasets.load("planta")
    net = net if level == "person" else net.by("unit")
    g = net.to_networkx()
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    back = nx.read_graphml(io.BytesIO(buf.getvalue()))
    assert back.number_of_edges() == g.number_of_edges()
    nx.write_gexf(g, io.BytesIO())
    e = net.edges.iloc[0]
    d = g.edges[e["provider"], e["client"]]
    assert d["weight"] == e["n_events"] and d["distance"] == e["delay_median"]
    assert isinstance(d["first_at"], str) and pd.Timestamp(d["first_at"]) == e["first_at"]
    for _, _, a in g.edges(data=True):
        assert all(isinstance(v, (str, int, float, bool)) for v in a.values())
    for _, a in g.nodes(data=True):
        assert all(isinstance(v, (str, int, float, bool)) for v in a.values())
    assert all(isinstance(v, (str, int, float, bool)) for v in g.graph.values())


def test_to_networkx_weight_and_distance_work_in_networkx(toy):
    g = toy.to_networkx()
    pr = nx.pagerank(g)                               # weight = n_events by default
    assert abs(sum(pr.values()) - 1) < 1e-9
    path = nx.shortest_path(g, "hugo", "beto", weight="distance")
    assert path[0] == "hugo" and path[-1] == "beto"
    # no distance where no request was delivered; nan numbers stay nan
    edges = icnet.ServiceNetwork.from_edges({"provider": ["a"], "client": ["b"],
                                             "n_events": [3]})
    d = edges.to_networkx().edges["a", "b"]
    assert "distance" not in d and d["weight"] == 3 and np.isnan(d["satisfaction_mean"])


def test_to_networkx_round_trip_keeps_scale():
    net = icnet.from_events({"provider": ["a", "b"], "client": ["b", "a"],
                             "satisfaction": [2, 9]}, scale=(0, 10))
    back = icnet.from_networkx(net.to_networkx())
    assert back.scale == (0.0, 10.0)
