"""conflict_cycles, bad_edges, dyad_census and balance."""

import itertools
import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.conflicts import balance, bad_edges, dyad_census, signed_pairs
from icnet.errors import ParameterError


def _edges(pairs, sat=1.5, n=20):
    rows = [{"provider": a, "client": b, "satisfaction_mean": sat, "satisfaction_n": n,
             "satisfaction_sd": 0.5, "n_events": n} for a, b in pairs]
    return icnet.ServiceNetwork.from_edges(pd.DataFrame(rows))


def test_cycles_by_hand_rotated_and_unique():
    net = _edges([("b", "a"), ("a", "b"), ("c", "d"), ("d", "e"), ("e", "c"), ("a", "c")])
    c = icnet.conflict_cycles(net)
    assert sorted(c["cycle"]) == [("a", "b"), ("c", "d", "e")]
    row = c.set_index("length").loc[3]
    assert row["edges"] == (("c", "d"), ("d", "e"), ("e", "c")) and row["n_events"] == 60
    assert c.attrs["truncated"] is False


def test_good_or_thin_edges_break_cycles():
    good = [{"provider": "a", "client": "b", "satisfaction_mean": 1.5, "satisfaction_n": 30,
             "satisfaction_sd": .5, "n_events": 30},
            {"provider": "b", "client": "a", "satisfaction_mean": 4.5, "satisfaction_n": 30,
             "satisfaction_sd": .5, "n_events": 30}]
    assert icnet.conflict_cycles(icnet.ServiceNetwork.from_edges(pd.DataFrame(good))).empty
    thin = _edges([("a", "b"), ("b", "a")], n=3)
    assert icnet.conflict_cycles(thin, min_events=5).empty


def test_late_relations_count_as_bad():
    rows = [{"provider": a, "client": b, "satisfaction_mean": 4.0, "satisfaction_n": 40,
             "satisfaction_sd": .5, "n_events": 40, "sla_n": 40, "sla_breach_rate": late}
            for a, b in (("a", "b"), ("b", "a")) for late in [0.9]]
    net = icnet.ServiceNetwork.from_edges(pd.DataFrame(rows))
    assert bad_edges(net)["why"].tolist() == ["delay", "delay"]
    assert icnet.conflict_cycles(net).loc[0, "cycle"] == ("a", "b")
    ok = icnet.ServiceNetwork.from_edges(pd.DataFrame(rows).assign(sla_breach_rate=0.55))
    assert icnet.conflict_cycles(ok).empty   # Wilson lower bound of 22/40 is below 0.5


def test_matches_networkx_simple_cycles():
    g = nx.gnp_random_graph(30, 0.12, seed=4, directed=True)
    pairs = [(f"n{u:02d}", f"n{v:02d}") for u, v in g.edges]
    ours = {frozenset(zip(c, c[1:] + c[:1])) for c in icnet.conflict_cycles(
        _edges(pairs), max_length=4)["cycle"]}
    G = nx.DiGraph(pairs)
    ref = {frozenset(zip(c, c[1:] + c[:1])) for c in nx.simple_cycles(G, length_bound=4)
           if len(c) >= 2}
    assert ours == ref


def test_dense_adversarial_graph_is_bounded_and_fast():
    nodes = [f"n{i:03d}" for i in range(120)]
    net = _edges(list(itertools.permutations(nodes, 2)), n=10)   # 14,280 bad edges
    t = time.perf_counter()
    c = icnet.conflict_cycles(net, max_cycles=2000)
    assert time.perf_counter() - t < 60        # generous: the point is it terminates
    assert len(c) == 2000 and c.attrs["truncated"] is True


def test_unit_level_lists_person_cycles():
    c = icnet.conflict_cycles(icnet.datasets.toy(), level="unit")
    assert c.loc[0, "cycle"] == ("Calidad", "Produccion")
    assert ("dario", "ana") in c.loc[0, "person_edges"]


def test_accepts_a_digraph():
    g = nx.DiGraph()
    g.add_edge("a", "b", satisfaction=1.2, n_events=30)
    g.add_edge("b", "a", satisfaction=1.4, n_events=30)
    assert icnet.conflict_cycles(g).loc[0, "cycle"] == ("a", "b")


def test_acceptance_on_planted_organisations():
    tp = fn = fp = 0
    chronic = clean = 0
    canon = lambda cyc: tuple(sorted(cyc))  # noqa: E731
    for seed in range(10):
        org = synth.organisation(n_people=150, seed=seed)
        t = org.truth
        found = {canon(x) for x in icnet.conflict_cycles(org.network())["cycle"]}
        planted = {canon(x) for x in t.conflict_cycles}
        # spiral and chronic pairs are mutually dissatisfied too: true conflicts
        allowed = planted | {canon(x) for x in t.chronic} | \
            {canon((s["a"], s["b"])) for s in t.spirals}
        tp += len(planted & found)
        fn += len(planted - found)
        fp += len(found - allowed)
        chronic += all(canon(x) in found for x in t.chronic)
        clean_net = synth.organisation(n_people=150, seed=seed, plant="none").network()
        clean += icnet.conflict_cycles(clean_net).empty
    assert tp / (tp + fn) >= 0.9
    assert tp / (tp + fp) >= 0.8
    assert chronic >= 8 and clean >= 8


def test_dyad_census_against_null():
    # 6 mutual pairs among 12 nodes plus 4 one-way edges: far more mutual than chance
    pairs = [(f"a{i}", f"b{i}") for i in range(6)] + [(f"b{i}", f"a{i}") for i in range(6)]
    pairs += [("a0", "a1"), ("a2", "a3"), ("b4", "b5"), ("b1", "a3")]
    d = dyad_census(_edges(pairs), n_null=100, seed=1).set_index("dyad")
    assert d.loc["mutual", "observed"] == 6 and d.loc["asymmetric", "observed"] == 4
    assert d.loc["mutual", "z"] > 2 and d.loc["mutual", "p"] < 0.05
    n = 12
    assert d["observed"].sum() == n * (n - 1) // 2


def test_balance_exact_and_heuristic():
    # two camps {a, b} and {c, d}: positive inside, negative across, one frustrated edge
    e = pd.DataFrame({"a": ["a", "c", "a", "a", "b", "b"], "b": ["b", "d", "c", "d", "c", "d"],
                      "sign": [1, 1, -1, -1, -1, 1]})
    r = balance(None, edges=e)
    assert r.frustration == 1 and r.optimal and r.method == "exact"
    camp = r.camps.set_index("node")["camp"]
    assert camp["a"] == camp["b"] != camp["c"] == camp["d"]
    h = balance(None, edges=e, method="heuristic")
    assert h.frustration >= 1 and h.method == "heuristic"
    # an odd all-negative triangle cannot be balanced
    tri = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"], "sign": [-1, -1, -1]})
    assert balance(None, edges=tri).frustration == 1


def test_balance_exact_matches_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(5):
        pairs = [(i, j) for i in range(8) for j in range(i + 1, 8) if rng.random() < 0.5]
        e = pd.DataFrame({"a": [f"v{i}" for i, _ in pairs], "b": [f"v{j}" for _, j in pairs],
                          "sign": rng.choice([-1, 1], len(pairs))})
        best = min(sum((x[i] == x[j]) != (s > 0) for (i, j), s in zip(pairs, e.sign))
                   for x in itertools.product([0, 1], repeat=8))
        assert balance(None, edges=e).frustration == best


def test_balance_on_a_network():
    r = balance(icnet.datasets.toy(), level="unit")
    assert set(r.camps["node"]) <= set(icnet.datasets.toy().by("unit").node_ids)
    sp = signed_pairs(icnet.datasets.toy().by("unit"))
    assert (sp.set_index(["a", "b"]).loc[("Calidad", "Produccion"), "sign"] == -1)


def test_parameter_errors():
    net = icnet.datasets.toy()
    with pytest.raises(ParameterError, match="'max_length' parameter must be >= 2"):
        icnet.conflict_cycles(net, max_length=1)
    with pytest.raises(ParameterError, match="'method' parameter must be one of"):
        balance(net, method="magic")
    with pytest.raises(ParameterError, match="needs columns a, b, sign"):
        balance(None, edges=pd.DataFrame({"a": [1]}))
