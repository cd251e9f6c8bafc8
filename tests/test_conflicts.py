"""conflict_cycles, bad_edges, dyad_census, signed_pairs and balance."""

import itertools
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.conflicts import (BalanceResult, bad_edges, balance, dyad_census,
                                      signed_pairs)
from icnet.errors import ParameterError

REF = Path(__file__).parent / "reference"


def _edges(pairs, sat=1.5, n=20):
    rows = [{"provider": a, "client": b, "satisfaction_mean": sat, "satisfaction_n": n,
             "satisfaction_sd": 0.5, "n_events": n} for a, b in pairs]
    return icnet.ServiceNetwork.from_edges(pd.DataFrame(rows))


def _rot(c):
    c = tuple(c)
    i = c.index(min(c))
    return c[i:] + c[:i]


# ------------------------------------------------------------------ bad edges

def _late_rows(rate, others=0.0, n_others=6):
    """a <-> b late at ``rate``; ``n_others`` other relations late at ``others``."""
    row = {"satisfaction_mean": 4.0, "satisfaction_n": 40, "satisfaction_sd": .5,
           "n_events": 40, "sla_n": 40}
    pairs = [("a", "b", rate), ("b", "a", rate)] + [
        (f"x{i}", f"y{i}", others) for i in range(n_others)]
    return pd.DataFrame([dict(row, provider=a, client=b, sla_breach_rate=r)
                         for a, b, r in pairs])


def test_bad_edges_by_satisfaction_and_by_delay():
    net = icnet.ServiceNetwork.from_edges(_late_rows(0.9))   # the others never late
    b = bad_edges(net)
    assert b["why"].tolist() == ["delay", "delay"]
    # Wilson lower bound of 36/40 by hand: 0.7695 (the organisation's normal rate is 0)
    assert b["breach_low"].iloc[0] == pytest.approx(0.76951, abs=1e-4)
    assert b["shortfall"].iloc[0] == pytest.approx(0.76951 - 0.5, abs=1e-4)
    assert icnet.conflict_cycles(net).loc[0, "cycle"] == ("a", "b")
    # 22/40 late: lower bound 0.3953 < 0.5, not credibly late
    ok = icnet.ServiceNetwork.from_edges(_late_rows(0.55))
    assert bad_edges(ok).empty and icnet.conflict_cycles(ok).empty
    assert len(bad_edges(ok, max_breach=0.3)) == 2


def test_late_only_relative_to_what_is_normal_in_the_organisation():
    """#19: with agreed delays shorter than the usual delay every relation breaches;
    that is a property of the agreements, not a conflict between two parties."""
    every = icnet.ServiceNetwork.from_edges(_late_rows(0.9, others=0.9))
    assert bad_edges(every).empty and icnet.conflict_cycles(every).empty
    # Abbott's correction by hand: p0 = 0.5 (the median), (0.7695 - 0.5) / 0.5 = 0.539
    half = icnet.ServiceNetwork.from_edges(_late_rows(0.9, others=0.5))
    b = bad_edges(half)
    assert b["breach_low"].iloc[0] == pytest.approx((0.76951 - 0.5) / 0.5, abs=1e-4)
    assert icnet.conflict_cycles(half).loc[0, "cycle"] == ("a", "b")
    # fewer than 5 relations with enough agreed requests: no reference, the plain rule
    few = icnet.ServiceNetwork.from_edges(_late_rows(0.9, others=0.9, n_others=2))
    assert len(bad_edges(few)) == 4


def test_bad_edges_does_not_mutate_and_keeps_edge_columns():
    net = icnet.datasets.toy()
    before = net.edges.copy()
    b = bad_edges(net, individuals=True)      # person level: values only when asked
    pd.testing.assert_frame_equal(net.edges, before)
    assert list(b.columns[:len(before.columns)]) == list(before.columns)
    assert (b["shortfall"] > 0).all()


# ------------------------------------------------------------------ cycles

def test_cycles_by_hand_rotated_and_unique():
    pairs = [("b", "a"), ("a", "b"), ("c", "d"), ("d", "e"), ("e", "c"), ("a", "c")]
    rows = [{"provider": a, "client": b, "satisfaction_mean": m, "satisfaction_n": 20,
             "satisfaction_sd": 0.5, "n_events": 20}
            for (a, b), m in zip(pairs, [1.5, 1.5, 1.2, 2.4, 1.8, 1.5])]
    net = icnet.ServiceNetwork.from_edges(pd.DataFrame(rows))
    c = icnet.conflict_cycles(net, individuals=True)     # person level: one rater each
    assert sorted(c["cycle"]) == [("a", "b"), ("c", "d", "e")]
    row = c.set_index("length").loc[3]
    assert row["edges"] == (("c", "d"), ("d", "e"), ("e", "c")) and row["n_events"] == 60
    assert c.attrs["truncated"] is False and c.attrs["truncated_by"] is None
    assert c.attrs["components"] == 2 and c.attrs["n_bad_edges"] == 6
    # severity = weakest shortfall x log(1 + events), by hand from the edge table
    b = bad_edges(net, individuals=True).set_index(["provider", "client"])
    w = [b.loc[e, "shortfall"] for e in row["edges"]]
    assert max(w) > min(w) + 0.05
    assert row["weakest_shortfall"] == pytest.approx(min(w))
    assert row["severity"] == pytest.approx(min(w) * np.log1p(60))
    assert c["severity"].is_monotonic_decreasing


def test_direction_matters():
    # a → b → c → a is a cycle; a → b, a → c, c → b is not
    assert len(icnet.conflict_cycles(_edges([("a", "b"), ("b", "c"), ("c", "a")]))) == 1
    assert icnet.conflict_cycles(_edges([("a", "b"), ("a", "c"), ("c", "b")])).empty


def test_good_or_thin_edges_break_cycles():
    good = [{"provider": "a", "client": "b", "satisfaction_mean": 1.5, "satisfaction_n": 30,
             "satisfaction_sd": .5, "n_events": 30},
            {"provider": "b", "client": "a", "satisfaction_mean": 4.5, "satisfaction_n": 30,
             "satisfaction_sd": .5, "n_events": 30}]
    assert icnet.conflict_cycles(icnet.ServiceNetwork.from_edges(pd.DataFrame(good))).empty
    thin = _edges([("a", "b"), ("b", "a")], n=3)
    assert icnet.conflict_cycles(thin, min_events=5).empty
    assert len(icnet.conflict_cycles(thin, min_events=3)) == 1


def test_matches_networkx_reference_cycles():
    # tests/reference/conflicts_gnp_cycles.csv: nx.simple_cycles(length_bound=5)
    e = pd.read_csv(REF / "conflicts_gnp_edges.csv")
    ref = pd.read_csv(REF / "conflicts_gnp_cycles.csv")
    c = icnet.conflict_cycles(_edges(list(e.itertuples(index=False))), max_length=5)
    assert sorted(" ".join(x) for x in c["cycle"]) == ref["cycle"].tolist()
    assert c["length"].value_counts().sort_index().tolist() == \
        ref["length"].value_counts().sort_index().tolist()
    c3 = icnet.conflict_cycles(_edges(list(e.itertuples(index=False))), max_length=3)
    assert sorted(" ".join(x) for x in c3["cycle"]) == \
        ref.loc[ref["length"] <= 3, "cycle"].tolist()


def test_matches_networkx_simple_cycles_random():
    for seed in (4, 5):
        g = nx.gnp_random_graph(30, 0.12, seed=seed, directed=True)
        pairs = [(f"n{u:02d}", f"n{v:02d}") for u, v in g.edges]
        ours = set(icnet.conflict_cycles(_edges(pairs), max_length=4)["cycle"])
        ref = {_rot(c) for c in nx.simple_cycles(nx.DiGraph(pairs), length_bound=4)
               if len(c) >= 2}
        assert ours == ref


def test_dense_adversarial_graph_is_bounded_and_fast():
    nodes = [f"n{i:03d}" for i in range(120)]
    net = _edges(list(itertools.permutations(nodes, 2)), n=10)   # 14,280 bad relations
    net.edges
    t = time.perf_counter()
    c = icnet.conflict_cycles(net)                 # default bound 5000
    assert time.perf_counter() - t < 10            # about 0.1 s; 4-cycles alone are ~5e7
    assert len(c) == 5000 and c.attrs["truncated"] is True
    assert c.attrs["truncated_by"] == "max_cycles"
    assert (c["length"] == 2).all()                # shorter cycles come first
    # the work bound alone also stops it
    c = icnet.conflict_cycles(net, max_cycles=10**9, max_paths=200_000)
    assert c.attrs["truncated_by"] == "max_paths" and c.attrs["n_paths"] <= 200_000
    assert (c.loc[c["length"] == 2].shape[0]) == 120 * 119 // 2


def test_exactly_max_cycles_is_not_truncated():
    net = _edges([("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")])
    c = icnet.conflict_cycles(net, max_cycles=2)
    assert len(c) == 2 and c.attrs["truncated"] is False
    c = icnet.conflict_cycles(net, max_cycles=1)
    assert len(c) == 1 and c.attrs["truncated"] is True


def test_max_length_two_gives_dyads_only():
    net = _edges([("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")])
    assert icnet.conflict_cycles(net, max_length=2)["cycle"].tolist() == [("a", "b")]
    assert len(icnet.conflict_cycles(net, max_length=3)) == 2


def test_empty_result_has_the_columns():
    c = icnet.conflict_cycles(_edges([("a", "b")]))
    assert c.empty and list(c.columns) == ["cycle", "length", "severity",
                                           "weakest_shortfall", "n_events", "edges",
                                           "satisfaction_mean"]
    assert c.attrs["params"]["max_length"] == 4


def test_order_of_rows_and_node_relabelling():
    pairs = [("a", "b"), ("b", "a"), ("c", "d"), ("d", "c"), ("e", "f"), ("f", "g"),
             ("g", "e")]
    c1 = icnet.conflict_cycles(_edges(pairs))
    c2 = icnet.conflict_cycles(_edges(pairs[::-1]))
    pd.testing.assert_frame_equal(c1, c2)
    m = {"a": "z", "b": "y", "c": "x", "d": "w", "e": "v", "f": "u", "g": "t"}
    c3 = icnet.conflict_cycles(_edges([(m[a], m[b]) for a, b in pairs]))
    assert {frozenset(x) for x in c3["cycle"]} == \
        {frozenset(m[v] for v in x) for x in c1["cycle"]}


def test_unit_level_lists_person_edges_and_cycles():
    net = icnet.datasets.toy()
    c = icnet.conflict_cycles(net, level="unit")
    assert c.loc[0, "cycle"] == ("Calidad", "Produccion")
    assert ("dario", "ana") in c.loc[0, "person_edges"]
    unit = net.nodes.set_index("node")["unit"]
    for pe, cyc in zip(c["person_edges"], c["edges"]):
        assert {(unit[a], unit[b]) for a, b in pe} <= set(cyc)
    person = set(icnet.conflict_cycles(net)["cycle"])
    for pcs, cyc in zip(c["person_cycles"], c["cycle"]):
        assert set(pcs) <= person
        for pc in pcs:
            assert {unit[x] for x in pc} == set(cyc)
    # the unit network given directly: same cycles, no person columns
    cu = icnet.conflict_cycles(net.by("unit"))
    own = c[c["between"] == "units"]
    assert cu["cycle"].tolist() == own["cycle"].tolist() and "person_edges" not in cu


def _unit_events(dilute=False):
    """Units A, B, C; a1 ⇄ b1 and the chain a2 → b2 → c1 → a2 are served badly."""
    rng = np.random.default_rng(0)
    rel = [("a1", "b1", 1.5), ("b1", "a1", 1.5), ("a2", "b2", 1.5), ("b2", "c1", 1.5),
           ("c1", "a2", 1.5), ("a1", "c1", 4.5), ("a1", "a2", 4.5)]
    rel += [("b2", "a1", 4.5)] if dilute else []
    rows = [{"provider": p, "client": c, "satisfaction": float(np.clip(q + rng.normal(0, .4),
                                                                       1, 5)),
             "requested_at": pd.Timestamp("2025-01-01") + pd.Timedelta(hours=int(k))}
            for p, c, q in rel for k in rng.integers(0, 5000, 25)]
    people = pd.DataFrame({"person": ["a1", "a2", "b1", "b2", "c1"],
                           "unit": ["A", "A", "B", "B", "C"]})
    return icnet.from_events(pd.DataFrame(rows), people=people)


def test_unit_level_composition_by_hand():
    net = _unit_events()
    assert set(icnet.conflict_cycles(net)["cycle"]) == {("a1", "b1"), ("a2", "b2", "c1")}
    c = icnet.conflict_cycles(net, level="unit").set_index("cycle")
    # A serves B badly through a1 and a2, B serves A badly through b1
    assert c.loc[[("A", "B")], "person_edges"].iloc[0] == (("a1", "b1"), ("a2", "b2"),
                                                         ("b1", "a1"))
    assert c.loc[[("A", "B")], "person_cycles"].iloc[0] == (("a1", "b1"),)
    assert c.loc[[("A", "B", "C")], "person_cycles"].iloc[0] == (("a2", "b2", "c1"),)
    # b2 serving a1 well makes B → A uncertain as a whole: the unit dyad disappears
    # while the person-level conflict a1 ⇄ b1 stays
    d = _unit_events(dilute=True)
    assert ("a1", "b1") in set(icnet.conflict_cycles(d)["cycle"])
    cd = icnet.conflict_cycles(d, level="unit")
    assert cd.loc[cd["between"] == "units", "cycle"].tolist() == [("A", "B", "C")]
    # ... and the API still carries A and B: their people a1 ⇄ b1 are in a conflict (#19)
    people = cd[cd["between"] == "people"]
    assert people["cycle"].tolist() == [("A", "B")]
    assert people["person_cycles"].iloc[0] == (("a1", "b1"),)
    assert people["person_edges"].iloc[0] == (("a1", "b1"), ("b1", "a1"))
    assert np.isnan(people["satisfaction_mean"].iloc[0])       # individual ratings
    # severity and shortfall are functions of those ratings too (#20)
    assert people[["severity", "weakest_shortfall"]].isna().all().all()
    full = icnet.conflict_cycles(d, level="unit", individuals=True)
    assert full.loc[full["between"] == "people", "severity"].notna().all()
    assert (c["between"] == "units").all()                     # all covered before


def test_accepts_a_digraph():
    g = nx.DiGraph()
    g.add_edge("a", "b", satisfaction=1.2, n_events=30)
    g.add_edge("b", "a", satisfaction=1.4, n_events=30)
    g.add_edge("b", "c", satisfaction=4.6, n_events=30)
    assert icnet.conflict_cycles(g)["cycle"].tolist() == [("a", "b")]
    assert len(g.edges) == 3                       # not mutated


def test_acceptance_on_planted_organisations():
    """Recall >= 0.9, precision >= 0.8 over 10 seeds; chronic conflicts found; clean data quiet.

    Measured (this code, default parameters): recall 0.90 (18/20), precision 1.00,
    chronic conflicts found in 9/10 seeds, pattern-free data empty in 9/10 seeds. The two
    misses are planted relations whose mean satisfaction stays near neutral (2.6-2.7 on
    1..5; see the report on synth.py), so their interval is not credibly below it.
    """
    tp = fn = fp = 0
    chronic = clean = 0
    for seed in range(10):
        org = synth.organisation(n_people=150, seed=seed)
        t = org.truth
        found = set(icnet.conflict_cycles(org.network())["cycle"])
        planted = {_rot(x) for x in t.conflict_cycles}
        # chronic conflicts and spiral pairs are planted mutual dissatisfaction too
        allowed = planted | {_rot(x) for x in t.chronic} | \
            {_rot((s["a"], s["b"])) for s in t.spirals}
        tp += len(planted & found)
        fn += len(planted - found)
        fp += len(found - allowed)
        chronic += all(_rot(x) in found for x in t.chronic)
        clean_net = synth.organisation(n_people=150, seed=seed, plant="none").network()
        clean += icnet.conflict_cycles(clean_net).empty
    assert tp / (tp + fn) >= 0.9
    assert tp / (tp + fp) >= 0.8
    assert chronic >= 8 and clean >= 8


# ------------------------------------------------------------------ dyads

def test_dyad_census_against_null():
    # 6 mutual pairs among 12 nodes plus 4 one-way edges: far more mutual than chance
    pairs = [(f"a{i}", f"b{i}") for i in range(6)] + [(f"b{i}", f"a{i}") for i in range(6)]
    pairs += [("a0", "a1"), ("a2", "a3"), ("b4", "b5"), ("b1", "a3")]
    d = dyad_census(_edges(pairs), n_null=100, seed=1, null="swaps").set_index("dyad")
    assert d.loc["mutual", "observed"] == 6 and d.loc["asymmetric", "observed"] == 4
    assert d.loc["mutual", "z"] > 2 and d.loc["mutual", "p_greater"] < 0.05
    assert d.loc["asymmetric", "p_less"] < 0.05
    assert d["observed"].sum() == 12 * 11 // 2
    assert d["expected"].sum() == pytest.approx(12 * 11 // 2)
    assert d.attrs["n_bad_edges"] == 16 and 0 < d.attrs["swap_acceptance"] <= 1


def test_dyad_null_matches_networkx_edge_swaps():
    # tests/reference/conflicts_dyad_null.csv: 1000 graphs by nx.directed_edge_swap
    e = pd.read_csv(REF / "conflicts_dyad_edges.csv")
    ref = pd.read_csv(REF / "conflicts_dyad_null.csv").set_index("statistic")["value"]
    d = dyad_census(_edges(list(e.itertuples(index=False))), n_null=400, seed=0,
                    null="swaps")
    m = d.set_index("dyad").loc["mutual"]
    assert m["observed"] == ref["observed_mutual"]
    assert abs(m["expected"] - ref["null_mean_mutual"]) < 0.35
    assert abs(m["sd"] - ref["null_sd_mutual"]) < 0.35


def test_dyad_null_keeps_degrees_and_is_seeded():
    rng = np.random.default_rng(0)
    src = rng.integers(0, 20, 60)
    dst = (src + rng.integers(1, 20, 60)) % 20
    key = np.unique(src * 20 + dst)
    src, dst = key // 20, key % 20
    a = dyad_census(_edges([(f"v{u:02d}", f"v{v:02d}") for u, v in zip(src, dst)]), seed=3,
                    null="swaps")
    b = dyad_census(_edges([(f"v{u:02d}", f"v{v:02d}") for u, v in zip(src, dst)]), seed=3,
                    null="swaps")
    pd.testing.assert_frame_equal(a, b)
    # the swap chain itself: degrees kept, no self-relations, no duplicates, it moves
    from icnet.analysis.conflicts import _swap
    S, D, acc = _swap(np.tile(src, (5, 1)), np.tile(dst, (5, 1)), 20,
                      np.random.default_rng(1), 20)
    assert 0 < acc <= 1
    for r in range(5):
        assert (S[r] == src).all()
        assert (np.bincount(D[r], minlength=20) == np.bincount(dst, minlength=20)).all()
        assert (S[r] != D[r]).all() and len(np.unique(S[r] * 20 + D[r])) == len(src)
        assert not (D[r] == dst).all()


# ------------------------------------------------------------------ balance

def test_highland_tribes_frustration_index_is_7():
    # Read (1954) / Hage & Harary (1983); KONECT ucidata-gama (see reference README)
    e = pd.read_csv(REF / "highland_tribes.csv")
    assert len(e) == 58 and (e["sign"] > 0).sum() == 29
    r = balance(None, edges=e, method="exact")
    assert r.frustration == 7 and r.optimal and r.lower_bound == 7
    assert len(r.frustrated) == 7
    camp = r.camps.set_index("node")["camp"]
    assert sorted(camp[camp == camp[1]].index) == [1, 2, 15, 16]   # Gavev, Kotun, Nagad, Gama
    h = balance(None, edges=e, method="heuristic")
    assert h.frustration == 7 and not h.optimal and h.method == "heuristic"


def test_balance_exact_and_heuristic():
    # two camps {a, b} and {c, d}: positive inside, negative across, one frustrated edge
    e = pd.DataFrame({"a": ["a", "c", "a", "a", "b", "b"], "b": ["b", "d", "c", "d", "c", "d"],
                      "sign": [1, 1, -1, -1, -1, 1]})
    r = balance(None, edges=e)
    assert isinstance(r, BalanceResult)
    assert r.frustration == 1 and r.optimal and r.method == "exact"
    camp = r.camps.set_index("node")["camp"]
    assert camp["a"] == camp["b"] == 1 and camp["c"] == camp["d"] == 0
    h = balance(None, edges=e, method="heuristic")
    assert h.frustration == 1 and h.method == "heuristic"
    tri = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"], "sign": [-1, -1, -1]})
    assert balance(None, edges=tri).frustration == 1


def test_balance_exact_matches_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(12):
        pairs = [(i, j) for i in range(9) for j in range(i + 1, 9)
                 if rng.random() < rng.uniform(0.15, 0.6)]
        e = pd.DataFrame({"a": [f"v{i}" for i, _ in pairs], "b": [f"v{j}" for _, j in pairs],
                          "sign": rng.choice([-1, 1], len(pairs))})
        best = min(sum((x[i] == x[j]) != (s > 0) for (i, j), s in zip(pairs, e.sign))
                   for x in itertools.product([0, 1], repeat=9))
        r = balance(None, edges=e, n_perm=0)
        assert r.frustration == best and r.optimal
        assert balance(None, edges=e, n_perm=0, method="heuristic").frustration >= best
        camp = r.camps.set_index("node")["camp"]
        assert sum((camp[a] == camp[b]) != (s > 0) for a, b, s in
                   e.itertuples(index=False)) == best


def test_balance_duplicates_and_leaves():
    # a negative and a positive record of one pair: negative wins; leaves never frustrate
    e = pd.DataFrame({"a": ["x", "y", "x", "z", "w"], "b": ["y", "x", "z", "y", "z"],
                      "sign": [1, -1, -1, -1, 1]})
    r = balance(None, edges=e)
    assert r.params["n_relations"] == 4 and r.frustration == 1


def test_balance_time_limit_falls_back_and_reports_a_bound():
    rng = np.random.default_rng(1)
    n, m = 150, 1000
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    camp = rng.integers(0, 2, n)
    s = np.where(camp[a] == camp[b], 1, -1) * np.where(rng.random(m) < 0.1, -1, 1)
    e = pd.DataFrame({"a": a[keep], "b": b[keep], "sign": s[keep]})
    t = time.perf_counter()
    r = balance(None, edges=e, n_perm=0, time_limit=1.0)
    assert time.perf_counter() - t < 8
    h = balance(None, edges=e, n_perm=0, method="heuristic", time_limit=1.0)
    assert r.frustration <= h.frustration + 2
    h2 = balance(None, edges=e, n_perm=0, method="heuristic", time_limit=60, seed=3)
    h3 = balance(None, edges=e, n_perm=0, method="heuristic", time_limit=60, seed=3)
    pd.testing.assert_frame_equal(h2.camps, h3.camps)     # seeded, not time-dependent
    assert r.lower_bound <= r.frustration and r.frustration <= 0.12 * len(e)
    if not r.optimal:
        assert r.method == "exact" and r.lower_bound < r.frustration


def test_balance_on_a_network():
    net = icnet.datasets.toy()
    r = balance(net, level="unit", min_group_size=2)       # toy units: 2-3 raters
    assert set(r.camps["node"]) <= set(net.by("unit").node_ids)
    assert r.frustration == 1 and r.frustrated.values.tolist() == [["Calidad", "Ventas", 1]]
    assert r.camps.attrs["params"]["level"] == "unit"
    sp = signed_pairs(net, level="unit", min_group_size=2)
    assert sp.set_index(["a", "b"]).loc[("Calidad", "Produccion"), "sign"] == -1
    assert (sp["a"] < sp["b"]).all()
    assert balance(net).frustration >= 0


# ------------------------------------------------------------------ errors

def test_parameter_errors():
    net = icnet.datasets.toy()
    with pytest.raises(ParameterError, match="'max_length' parameter must be >= 2"):
        icnet.conflict_cycles(net, max_length=1)
    with pytest.raises(ParameterError, match="'max_cycles' parameter must be >= 1"):
        icnet.conflict_cycles(net, max_cycles=0)
    with pytest.raises(ParameterError, match="'max_paths' parameter must be an int"):
        icnet.conflict_cycles(net, max_paths=1.5)
    with pytest.raises(ParameterError, match="'min_events' parameter must be >= 1"):
        bad_edges(net, min_events=0)
    with pytest.raises(ParameterError, match="'max_breach' parameter must be <= 1"):
        icnet.conflict_cycles(net, max_breach=2)
    with pytest.raises(ParameterError, match="Expected an icnet.ServiceNetwork"):
        icnet.conflict_cycles(pd.DataFrame())
    with pytest.raises(ParameterError, match="by\\(\\) needs a people column"):
        icnet.conflict_cycles(net, level="floor")
    with pytest.raises(ParameterError, match="'n_null' parameter must be >= 1"):
        dyad_census(net, n_null=0)
    with pytest.raises(ParameterError, match="'seed' parameter must be"):
        dyad_census(net, seed="x")
    with pytest.raises(ParameterError, match="'method' parameter must be one of"):
        balance(net, method="magic")
    with pytest.raises(ParameterError, match="'time_limit' parameter must be > 0"):
        balance(net, time_limit=0)
    with pytest.raises(ParameterError, match="balance needs a network"):
        balance(None)
    with pytest.raises(ParameterError, match="needs columns a, b, sign"):
        balance(None, edges=pd.DataFrame({"a": [1]}))
    with pytest.raises(ParameterError, match="'edges' must be a DataFrame"):
        balance(None, edges=[("a", "b", 1)])
    with pytest.raises(ParameterError, match="must be \\+1 or -1; 1 rows are not"):
        balance(None, edges=pd.DataFrame({"a": ["x", "y"], "b": ["y", "z"], "sign": [1, 0]}))
    with pytest.raises(ParameterError, match="1 self-relations"):
        balance(None, edges=pd.DataFrame({"a": ["x", "y"], "b": ["x", "z"], "sign": [1, -1]}))


def test_dyad_census_of_all_relations_matches_networkx():
    net = synth.organisation(n_people=60, seed=3).network()
    d = icnet.dyad_census(net, relations="all", n_null=20).set_index("dyad")
    g = net.to_networkx()
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    n, e = g.number_of_nodes(), g.number_of_edges()
    mutual = sum(g.has_edge(v, u) for u, v in g.edges) // 2
    assert d["observed"].tolist() == [mutual, e - 2 * mutual, n * (n - 1) // 2 - e + mutual]
    assert d.attrs["params"]["relations"] == "all" and d.attrs["n_bad_edges"] == e
    # the bad-relation census is a sub-census
    assert icnet.dyad_census(net, n_null=20).set_index("dyad").loc["mutual", "observed"] <= mutual
    with pytest.raises(ParameterError, match="relations"):
        icnet.dyad_census(net, relations="good")


# ------------------------------------------------------------------ dyads: relabelling null

def _service(pairs_bad, pairs_good):
    rows = [{"provider": a, "client": b, "satisfaction_mean": q, "satisfaction_n": 30,
             "satisfaction_sd": 0.5, "n_events": 30}
            for pairs, q in ((pairs_bad, 1.5), (pairs_good, 4.5)) for a, b in pairs]
    return icnet.ServiceNetwork.from_edges(pd.DataFrame(rows))


def test_mutual_pmf_is_exact_by_enumeration():
    import itertools
    from icnet.analysis.conflicts import _mutual_pmf
    # 3 reciprocal pairs and 2 one-way relations: E = 8
    rel = [(0, 1), (1, 0), (2, 3), (3, 2), (4, 5), (5, 4), (0, 2), (3, 5)]
    for m in range(0, 9):
        counts = np.zeros(min(3, m // 2) + 1)
        for sub in itertools.combinations(rel, m):
            st = set(sub)
            counts[sum((b, a) in st for a, b in sub) // 2] += 1
        pmf, k0 = _mutual_pmf(8, 3, m)
        assert k0 == 0
        np.testing.assert_allclose(pmf, counts / counts.sum(), atol=1e-12)


def test_mutual_pmf_window_on_a_large_graph():
    """900,000 relations, 100,000 reciprocal pairs, 5,000 bad: the 12-SD window holds
    the whole mass and matches the hypergeometric-free mean R p (m-1)/(E-1)."""
    from icnet.analysis.conflicts import _mutual_pmf
    E, R, m = 900_000, 100_000, 5_000
    pmf, k0 = _mutual_pmf(E, R, m)
    k = np.arange(k0, k0 + len(pmf))
    assert len(pmf) < 200
    assert (k * pmf).sum() == pytest.approx(R * m / E * (m - 1) / (E - 1), rel=1e-6)


def test_relabelling_null_keeps_the_service_graph():
    """All service relations reciprocal and half of them bad at random: mutual bad pairs
    are expected (the swap null over all pairs calls them 'more than chance')."""
    rng = np.random.default_rng(5)
    nodes = [f"n{i:02d}" for i in range(30)]
    pairs = [(nodes[i], nodes[j]) for i in range(30) for j in range(i + 1, 30)
             if rng.random() < 0.15]
    rel = pairs + [(b, a) for a, b in pairs]
    bad = rng.random(len(rel)) < 0.4
    net = _service([r for r, x in zip(rel, bad) if x], [r for r, x in zip(rel, bad) if not x])
    d = dyad_census(net, null="relations").set_index("dyad")
    assert d.attrs["exact"] and d.attrs["n_reciprocal_pairs"] == len(pairs)
    assert d.loc["mutual", "p_greater"] > 0.05
    assert d.loc["mutual", "expected"] == pytest.approx(len(pairs) * bad.sum() / len(rel)
                                                        * (bad.sum() - 1) / (len(rel) - 1))
    s = dyad_census(net, null="swaps", seed=0).set_index("dyad")
    assert s.loc["mutual", "p_greater"] < 0.05          # the old null's false alarm
    # planted: the bad ones are exactly the mutual pairs of the first 10 reciprocal pairs
    planted = pairs[:10] + [(b, a) for a, b in pairs[:10]]
    rest = [r for r in rel if r not in set(planted)]
    d2 = dyad_census(_service(planted, rest), null="relations").set_index("dyad")
    assert d2.loc["mutual", "observed"] == 10 and d2.loc["mutual", "p_greater"] < 0.001
    assert d2.loc["asymmetric", "p_less"] < 0.001
    assert d2["expected"].sum() == pytest.approx(30 * 29 / 2)


def test_relabelling_null_monte_carlo_matches_exact(monkeypatch):
    from icnet.analysis import conflicts
    rng = np.random.default_rng(2)
    nodes = [f"n{i:02d}" for i in range(20)]
    rel = [(a, b) for a in nodes for b in nodes if a != b and rng.random() < 0.2]
    bad = rng.random(len(rel)) < 0.3
    net = _service([r for r, x in zip(rel, bad) if x], [r for r, x in zip(rel, bad) if not x])
    ex = dyad_census(net, null="relations").set_index("dyad")
    monkeypatch.setattr(conflicts, "_MAX_PMF_TERMS", 0)
    mc = dyad_census(net, n_null=2000, seed=1, null="relations").set_index("dyad")
    assert ex.attrs["exact"] and not mc.attrs["exact"]
    assert mc.loc["mutual", "expected"] == pytest.approx(ex.loc["mutual", "expected"], abs=0.15)
    assert mc.loc["mutual", "p_greater"] == pytest.approx(ex.loc["mutual", "p_greater"], abs=0.04)


def _five_bad_providers():
    """Five bad providers serve each other and 6 of 40 others each (every relation they
    give is bad); the others give 4 good relations each. Returns (bad, good, others)."""
    rng = np.random.default_rng(0)
    badp = [f"b{i}" for i in range(5)]
    others = [f"o{i:02d}" for i in range(40)]
    bad = [(a, b) for a in badp for b in badp if a != b]
    bad += [(a, o) for a in badp for o in rng.choice(others, 6, replace=False)]
    good = [(o, b) for o in others for b in rng.choice(badp + others, 4, replace=False)
            if o != b]
    return bad, good, others


def test_provider_null_explains_mutual_pairs_of_bad_providers():
    """#21: five bad providers serve each other and 6 others each; every relation they give
    is bad. Their 10 mutual pairs follow from who is a bad provider: the label permuted over
    all relations calls them 'more mutual than chance', the null that keeps each provider's
    number of bad relations does not."""
    bad, good, others = _five_bad_providers()
    net = _service(bad, good)
    rel = dyad_census(net, null="relations").set_index("dyad")
    prov = dyad_census(net, n_null=500, seed=3, null="providers").set_index("dyad")
    assert prov.attrs["params"]["null"] == "providers"
    assert rel.loc["mutual", "observed"] == prov.loc["mutual", "observed"] == 10
    assert rel.loc["mutual", "p_greater"] < 0.001
    assert prov.loc["mutual", "expected"] == pytest.approx(10)
    assert prov.loc["mutual", "p_greater"] > 0.4
    # planted mutual pairs between providers who are otherwise fine: still detected
    pairs = [(others[2 * i], others[2 * i + 1]) for i in range(8)]
    planted = pairs + [(b, a) for a, b in pairs]
    rest = [r for r in good if r not in set(planted) and r[::-1] not in set(planted)]
    d = dyad_census(_service(planted, rest), n_null=500, seed=3,
                    null="providers").set_index("dyad")
    assert d.loc["mutual", "observed"] == 8 and d.loc["mutual", "p_greater"] < 0.01
    # same seed, same answer
    again = dyad_census(net, n_null=500, seed=3, null="providers").set_index("dyad")
    pd.testing.assert_frame_equal(prov, again)


def test_relabelling_null_needs_bad_relations():
    with pytest.raises(ParameterError, match="null='swaps'"):
        dyad_census(icnet.datasets.toy(), relations="all", null="relations")
    with pytest.raises(ParameterError, match="null"):
        dyad_census(icnet.datasets.toy(), null="qap")


# ------------------------------------------------------------------ balance: reference

def test_balance_reference_under_sign_permutation():
    ht = pd.read_csv(REF / "highland_tribes.csv")
    r = balance(None, edges=ht, n_perm=100)
    assert r.frustration == 7
    assert r.normalised == pytest.approx(1 - 2 * 7 / len(ht))
    assert r.expected > 10 and r.p_value < 0.02          # far more balanced than chance
    assert balance(None, edges=ht, n_perm=100).p_value == r.p_value      # seeded
    assert np.isnan(balance(None, edges=ht, n_perm=0).p_value)


def test_balance_p_value_under_random_signs_is_not_small():
    rng = np.random.default_rng(3)
    ps = []
    for _ in range(30):
        A = np.triu(rng.random((12, 12)) < 0.35, 1)
        a, b = np.nonzero(A)
        e = pd.DataFrame({"a": a, "b": b, "sign": np.where(rng.random(len(a)) < 0.4, -1, 1)})
        ps.append(balance(None, edges=e, n_perm=40, seed=1).p_value)
    ps = np.array(ps)
    assert 0.3 < ps.mean() < 0.7 and (ps <= 0.05).mean() <= 0.15


def test_balance_without_signed_relations_warns_and_gives_nan():
    ev = pd.DataFrame({"provider": ["a", "b", "c"], "client": ["b", "c", "a"],
                       "delay_hours": [1.0, 2.0, 3.0]})
    with pytest.warns(icnet.errors.IcnetWarning, match="no signed relation"):
        r = balance(icnet.from_events(ev))
    assert np.isnan(r.frustration) and not r.optimal and np.isnan(r.normalised)
    assert np.isnan(r.p_value) and r.camps.empty


# ------------------------------------------------- slower than the provider's other clients (#21)

def _two_providers_log(slow=3.0, seed=0, n=40, k=6):
    """k providers each serve 5 clients (n requests each); p0 <-> p1 serve each other
    and, with ``slow`` > 1, that relation is ``slow`` times slower than the provider's
    others. Ratings are neutral (3 +- 1) everywhere, so satisfaction decides nothing."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(k):
        p = f"p{i}"
        other = {"p0": "p1", "p1": "p0"}.get(p)
        for c in [f"{p}c{j}" for j in range(5 - (other is not None))] + \
                ([other] if other else []):
            f = slow if c == other else 1.0
            t = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 300, n)),
                                                             unit="D")
            hours = 10 * f * np.exp(0.5 * rng.standard_normal(n))
            rows.append(pd.DataFrame({
                "provider": p, "client": c, "requested_at": t,
                "delivered_at": t + pd.to_timedelta(hours, unit="h"),
                "satisfaction": rng.choice([2, 3, 4], n), "service": "work"}))
    ev = pd.concat(rows, ignore_index=True)
    ev["event_id"] = [f"e{i}" for i in range(len(ev))]
    return icnet.from_events(ev)


def test_a_pair_served_slower_than_the_providers_other_clients_is_a_conflict():
    net = _two_providers_log(slow=3.0)
    b = bad_edges(net, individuals=True)
    assert sorted(zip(b["provider"], b["client"])) == [("p0", "p1"), ("p1", "p0")]
    assert (b["why"] == "slower").all()
    # shortfall: the one-sided 95 % lower bound of the share of delay beyond the others'
    assert ((b["shortfall"] > 0.4) & (b["shortfall"] < 1 - 1 / 3 + 0.05)).all()
    assert icnet.conflict_cycles(net, max_length=2, individuals=True).loc[0, "cycle"] \
        == ("p0", "p1")


def test_no_slower_relation_without_a_contrast():
    for seed in range(5):
        net = _two_providers_log(slow=1.0, seed=seed)
        assert bad_edges(net, individuals=True).empty


# ------------------------------------------------------------------ dyads: detectability null

def test_log_esf_and_conditional_bernoulli_are_exact_by_enumeration():
    """#21 point 3: the conditional-Bernoulli draw gives P(S) = prod_S w / e_k(w) exactly
    (four strata: k = 2 of 5, 1 of 4, none of 2, all of 3)."""
    import itertools
    from icnet.analysis.conflicts import _conditional_bernoulli, _log_esf
    size = np.array([5, 4, 2, 3])
    k = np.array([2, 1, 0, 3])
    start = np.r_[0, np.cumsum(size)[:-1]]
    strat = np.repeat(np.arange(4), size)
    pos = np.arange(size.sum()) - np.repeat(start, size)
    eta = np.log(np.array([0.2, 1.0, 3.0, 9.0, 0.5, 4.0, 1.0, 0.1, 2.0, 1, 1, 5, 1, 1]))
    E = _log_esf(eta, strat, pos, 4, 5, 3)
    for s in range(4):
        w = np.exp(eta[strat == s])
        for j in range(min(3, size[s]) + 1):
            brute = sum(np.prod(w[list(c)]) for c in itertools.combinations(range(size[s]), j))
            assert np.exp(E[s, j]) == pytest.approx(brute, rel=1e-10)
    draws = _conditional_bernoulli(eta, strat, start, size, k, 40_000, np.random.default_rng(1))
    got = draws.reshape(40_000, -1)
    assert (np.add.reduceat(got.astype(int), start, axis=1) == k).all()
    for s in (0, 1):
        w = np.exp(eta[strat == s])
        sub = got[:, strat == s]
        combos = list(itertools.combinations(range(size[s]), k[s]))
        expect = np.array([np.prod(w[list(c)]) for c in combos])
        expect /= expect.sum()
        code = sub @ (2 ** np.arange(size[s]))
        seen = np.array([(code == sum(2 ** np.array(c))).mean() for c in combos])
        assert np.all(np.abs(seen - expect) <= 4 * np.sqrt(expect / 40_000) + 1e-3)


def _weighted_service(rows):
    """rows: (provider, client, bad, n_events)."""
    return icnet.ServiceNetwork.from_edges(pd.DataFrame([
        {"provider": a, "client": b, "satisfaction_mean": 1.5 if bad else 4.5,
         "satisfaction_n": n, "satisfaction_sd": 0.5, "n_events": n}
        for a, b, bad, n in rows]))


def _detectability_graph(seed=4):
    """40 people; each serves 3 partners heavily both ways (200 events each way), 6
    clients lightly one way (5 events) and 1 heavily one way. Bad at random but
    detectable: 60 % of heavy, 5 % of light relations (the one-way relations show it).
    Mutual bad pairs follow from who serves whom heavily."""
    rng = np.random.default_rng(seed)
    nodes = [f"p{i:02d}" for i in range(40)]
    rows = []
    for i in range(0, 40, 4):               # ten groups of four serving each other heavily
        grp = nodes[i:i + 4]
        rows += [(a, b, rng.random() < 0.6, 200) for a in grp for b in grp if a != b]
    for i, a in enumerate(nodes):           # one-way relations to the next groups:
        rows += [(a, nodes[(i + 4 + 5 * j) % 40], rng.random() < 0.05, 5) for j in range(6)]
        rows += [(a, nodes[(i + 7) % 40], rng.random() < 0.6, 200)]    # light and heavy
    return _weighted_service(rows)


def test_detectability_null_follows_event_counts():
    """#21 point 3: where relations with many events are reciprocal and more often called
    bad, the 'providers' null calls random badness 'more mutual than chance'; the
    detectability null (conditional Bernoulli, weights from the conditional-logistic fit
    on log events) expects the mutual pairs that detectability produces."""
    net = _detectability_graph()
    prov = dyad_census(net, n_null=400, seed=2, null="providers").set_index("dyad")
    det = dyad_census(net, n_null=400, seed=2, null="detectability").set_index("dyad")
    M = det.loc["mutual", "observed"]
    assert M == prov.loc["mutual", "observed"] and M >= 10
    assert prov.loc["mutual", "p_greater"] < 0.01
    assert det.loc["mutual", "expected"] > 2 * prov.loc["mutual", "expected"]
    assert det.loc["mutual", "p_greater"] > 0.05
    assert det.attrs["params"]["null"] == "detectability"
    assert dyad_census(net, n_null=5).attrs["params"]["null"] == "detectability"  # default
    assert det.attrs["detectability_slope"] > 0.5
    # same seed, same answer
    pd.testing.assert_frame_equal(
        det, dyad_census(net, n_null=400, seed=2, null="detectability").set_index("dyad"))


def test_detectability_null_keeps_bad_providers_and_planted_pairs():
    """The five-bad-providers example stays not significant (equal event counts: the
    detectability null is the 'providers' null), planted mutual pairs are still found."""
    bad, good, others = _five_bad_providers()
    d = dyad_census(_service(bad, good), n_null=500, seed=3,
                    null="detectability").set_index("dyad")
    assert d.loc["mutual", "observed"] == 10 and d.loc["mutual", "p_greater"] > 0.4
    pairs = [(others[2 * i], others[2 * i + 1]) for i in range(8)]
    planted = pairs + [(b, a) for a, b in pairs]
    rest = [r for r in good if r not in set(planted) and r[::-1] not in set(planted)]
    d = dyad_census(_service(planted, rest), n_null=500, seed=3,
                    null="detectability").set_index("dyad")
    assert d.loc["mutual", "observed"] == 8 and d.loc["mutual", "p_greater"] < 0.01


def test_detectability_null_bad_parameter():
    with pytest.raises(ParameterError, match="'null'.*'detectability'"):
        dyad_census(icnet.datasets.toy(), null="odds")
    with pytest.raises(ParameterError, match="null='swaps'"):
        dyad_census(icnet.datasets.toy(), relations="all", null="detectability")
