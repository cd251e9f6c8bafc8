"""icnet's bottleneck and cycle measures agree with networkx-only code on a generated org.

The agreement half of ``benchmarks/bench_sidebyside.py`` (which also times both sides and
compares ``from_process_log`` with pm4py, not a test dependency), on a small organisation
so it runs in about a second. The networkx code starts from the same edge table:

- betweenness toward a sink behind the external-facing nodes: on the reversed graph,
  shortest paths from the sink to *s* are those from *s* to the sink, so
  ``nx.betweenness_centrality_subset(sources=[sink], targets=S)`` sums
  sigma_sT(v) / sigma_sT over *s* in *S*; one call per distinct source weight;
- dependence: ``nx.pagerank`` on client → provider with the same personalization, minus
  the restart mass;
- conflict cycles: ``nx.simple_cycles(length_bound=4)`` on the bad-relation graph.
"""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.bottlenecks import dependence, structural_betweenness
from icnet.analysis.conflicts import bad_edges

SINK = "\0sink"


@pytest.fixture(scope="module")
def org_net():
    org = synth.organisation(n_people=240, days=365, seed=3, events_per_person=120)
    return org.network()


def _ext(net):
    ext = net.nodes.loc[net.nodes["external_facing"].astype(bool), "node"].tolist()
    assert ext, "the generated organisation marks external-facing people"
    return ext


def _nx_betweenness(net, weights=None):
    e = net.edges
    L = e["delay_median"].to_numpy(float)
    L = np.maximum(np.where(np.isfinite(L), L, np.nanmedian(L)), 1e-9)
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(e["client"], e["provider"], L), weight="length")
    G.add_weighted_edges_from(((SINK, x, 0.0) for x in _ext(net)), weight="length")
    if weights is None:
        weights = e.groupby("provider")["n_events"].sum()
    out = dict.fromkeys(net.node_ids, 0.0)
    for wt, members in weights.groupby(weights.to_numpy()).groups.items():
        b = nx.betweenness_centrality_subset(G, [SINK], list(members), normalized=False,
                                             weight="length")
        for k, v in b.items():
            if k != SINK:
                out[k] += wt * v
    return pd.Series(out).reindex(net.node_ids)


@pytest.mark.parametrize("level", ["person", "unit"])
def test_structural_betweenness_matches_networkx_subset(org_net, level):
    net = org_net if level == "person" else org_net.by("unit")
    ours = structural_betweenness(net)
    theirs = _nx_betweenness(net)
    assert ours.gt(0).sum() >= 3                       # not trivially zero
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=0)
    ones = pd.Series(1.0, index=net.node_ids)
    np.testing.assert_allclose(structural_betweenness(net, weights=np.ones(len(ones))),
                               _nx_betweenness(net, ones).to_numpy(), rtol=1e-9, atol=0)


@pytest.mark.parametrize("level", ["person", "unit"])
def test_dependence_matches_networkx_pagerank(org_net, level):
    net = org_net if level == "person" else org_net.by("unit")
    e, ext, alpha = net.edges, _ext(net), 0.85
    D = nx.DiGraph()
    D.add_nodes_from(net.node_ids)
    D.add_weighted_edges_from(zip(e["client"], e["provider"], e["n_events"].astype(float)))
    pr = nx.pagerank(D, alpha=alpha, personalization=dict.fromkeys(ext, 1.0),
                     tol=1e-13 / len(D), max_iter=10_000)
    dangling = sum(pr[x] for x in D if D.out_degree(x) == 0)
    restart = (alpha * dangling + 1 - alpha) / len(ext)
    arrive = pd.Series({x: pr[x] - (restart if x in ext else 0.0) for x in D})
    arrive = (arrive / arrive.sum()).reindex(net.node_ids)
    np.testing.assert_allclose(dependence(net).to_numpy(), arrive.to_numpy(), rtol=0,
                               atol=1e-9)


@pytest.mark.parametrize("level", ["person", "unit"])
def test_conflict_cycles_match_networkx_simple_cycles(org_net, level):
    net = org_net if level == "person" else org_net.by("unit")
    ours = icnet.conflict_cycles(net, max_length=4, max_cycles=10**6)
    assert not ours.attrs["truncated"]
    bad = bad_edges(net)
    G = nx.DiGraph(zip(bad["provider"], bad["client"]))
    theirs = set()
    for cyc in nx.simple_cycles(G, length_bound=4):
        if len(cyc) >= 2:
            i = cyc.index(min(cyc))
            theirs.add(tuple(cyc[i:] + cyc[:i]))
    assert len(ours) == len(set(ours["cycle"]))          # each cycle once
    assert set(ours["cycle"]) == theirs
    if level == "person":
        assert len(theirs) >= 1                         # planted conflicts are there


def test_conflict_cycles_match_networkx_on_a_dense_bad_graph():
    # many overlapping bad relations: hundreds of cycles of every length 2..4
    rng = np.random.default_rng(7)
    g = nx.gnp_random_graph(40, 0.2, seed=7, directed=True)
    e = pd.DataFrame([(f"n{u:02d}", f"n{v:02d}") for u, v in g.edges],
                     columns=["provider", "client"])
    e["satisfaction_mean"] = np.where(rng.random(len(e)) < 0.7, 1.5, 4.5)
    e["satisfaction_n"] = 40
    net = icnet.ServiceNetwork.from_edges(e)
    ours = icnet.conflict_cycles(net, max_length=4, max_cycles=10**6)
    bad = bad_edges(net)
    G = nx.DiGraph(zip(bad["provider"], bad["client"]))
    theirs = set()
    for cyc in nx.simple_cycles(G, length_bound=4):
        i = cyc.index(min(cyc))
        theirs.add(tuple(cyc[i:] + cyc[:i]))
    assert set(ours["length"]) == {2, 3, 4} and len(theirs) > 100
    assert set(ours["cycle"]) == theirs and len(ours) == len(theirs)
