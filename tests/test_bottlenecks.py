"""bottlenecks, dependence, structural betweenness and critical_path."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.bottlenecks import dependence, structural_betweenness
from icnet.errors import ParameterError


def _chain_net(delays, ext="D"):
    """A → B → C → D (D external-facing) plus a shortcut A → D; lengths given."""
    e = pd.DataFrame({"provider": ["A", "B", "C", "A"], "client": ["B", "C", "D", "D"],
                      "n_events": [10, 10, 10, 10], "delay_median": delays})
    people = pd.DataFrame({"person": list("ABCD"), "unit": list("ABCD"),
                           "external_facing": [x == ext for x in "ABCD"]})
    return icnet.ServiceNetwork.from_edges(e, people=people)


def test_structural_betweenness_agrees_with_networkx():
    rng = np.random.default_rng(0)
    for trial in range(5):
        g = nx.gnp_random_graph(25, 0.15, seed=trial, directed=True)
        rows = [(f"n{u:02d}", f"n{v:02d}", float(rng.integers(1, 4))) for u, v in g.edges]
        e = pd.DataFrame(rows, columns=["provider", "client", "delay_median"])
        ext = {f"n{i:02d}" for i in rng.choice(25, 3, replace=False)}
        ids = sorted(set(e.provider) | set(e.client))
        people = pd.DataFrame({"person": ids, "unit": "u",
                               "external_facing": [i in ext for i in ids]})
        net = icnet.ServiceNetwork.from_edges(e, people=people)
        ours = structural_betweenness(net, weights=np.ones(len(net.node_ids)))
        G = nx.DiGraph()
        G.add_weighted_edges_from(zip(e.provider, e.client, e.delay_median), weight="w")
        for x in ext:
            G.add_edge(x, "SINK", w=0.0)
        ref = nx.betweenness_centrality_subset(G, sources=[n for n in G if n != "SINK"],
                                               targets=["SINK"], weight="w", normalized=False)
        # integer lengths: many ties, so path counting matters
        for node in ours.index:
            assert ours[node] == pytest.approx(ref.get(node, 0.0), abs=1e-9), (trial, node)


def test_structural_by_hand():
    # A→B→C→D costs 3, A→D costs 5: A's service goes through B and C
    b = structural_betweenness(_chain_net([1, 1, 1, 5]), weights=np.array([1, 0, 0, 0.]))
    assert b.to_dict() == {"A": 0.0, "B": 1.0, "C": 1.0, "D": 1.0}
    b = structural_betweenness(_chain_net([1, 1, 1, 2]), weights=np.array([1, 0, 0, 0.]))
    assert b["B"] == 0.0 and b["D"] == 1.0


def test_dependence_is_a_distribution_and_follows_chains():
    d = dependence(_chain_net([1, 1, 1, 5]))
    assert d.sum() == pytest.approx(1.0)
    # D (external) depends on C and A; C on B; B on A: A, feeding both chains, leads
    assert d.idxmax() == "A" and d["D"] == 0.0


def test_critical_path_on_condensation():
    cp = icnet.critical_path(_chain_net([1, 1, 1, 2]))
    assert cp["node"].tolist() == ["A", "B", "C", "D"]
    assert cp.attrs["total_hours"] == 3.0
    # a cycle B ⇄ C is condensed into one step
    e = pd.DataFrame({"provider": ["A", "B", "C", "C"], "client": ["B", "C", "B", "D"],
                      "delay_median": [1.0, 2.0, 2.0, 1.0]})
    people = pd.DataFrame({"person": list("ABCD"), "unit": "u",
                           "external_facing": [False, False, False, True]})
    cp = icnet.critical_path(icnet.ServiceNetwork.from_edges(e, people=people))
    assert cp["component"].tolist() == ["A", "B; C", "D"]


def test_acceptance_over_ten_seeds():
    """Planted providers top at person and unit level; nothing flagged on clean data."""
    res = []
    for seed in range(10):
        org = synth.organisation(n_people=150, seed=seed)
        net = org.network()
        truth = {x["person"] for x in org.truth.bottlenecks}
        b = icnet.bottlenecks(net)
        bu = icnet.bottlenecks(net, level="unit")
        clean = synth.organisation(n_people=150, seed=seed, plant="none").network()
        res.append((b.node.iloc[0] in truth, bu.node.iloc[0] == "Informatica",
                    truth <= set(b.loc[b.is_bottleneck, "node"]),
                    not icnet.bottlenecks(clean).is_bottleneck.any()
                    and not icnet.bottlenecks(clean, level="unit").is_bottleneck.any()))
    top, top_unit, flagged, clean = (sum(x) for x in zip(*res))
    assert top >= 9 and top_unit >= 9 and flagged >= 9 and clean >= 9, res


def test_columns_sorting_and_params():
    b = icnet.bottlenecks(icnet.datasets.toy(), level="unit")
    assert list(b.columns[:5]) == ["node", "unit", "score", "is_bottleneck", "reason"]
    assert b["score"].is_monotonic_decreasing and b["rank"].tolist() == list(range(1, 6))
    assert b.attrs["params"]["level"] == "unit"


def test_parameter_errors():
    net = icnet.datasets.toy()
    with pytest.raises(ParameterError, match="'fwer' parameter must be <= 1"):
        icnet.bottlenecks(net, fwer=2)
    with pytest.raises(ParameterError, match="'alpha' parameter must be <= 1"):
        icnet.bottlenecks(net, alpha=1.5)
