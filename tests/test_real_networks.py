"""Real public networks in data/samples/ reproduce their published figures through icnet.

Krackhardt's high-tech managers (Krackhardt 1987; Wasserman & Faust 1994, ch. 13): the advice
relation's dyad census is 45 mutual, 100 asymmetric, 65 null pairs; friendship's is 23 / 56 /
131. Read's Highland tribes: frustration index 7 (Aref & Wilson 2018). Provenance of the files:
data/samples/krackhardt/README.md and data/samples/highland_tribes/README.md.
"""

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

import icnet

ROOT = Path(__file__).resolve().parents[1]
K = ROOT / "data" / "samples" / "krackhardt"


def _read(name):
    return pd.read_csv(K / name, comment="#")


def _census(net):
    e = net.edges[["provider", "client"]]
    both = e.merge(e, left_on=["provider", "client"], right_on=["client", "provider"])
    n = len(net.node_ids)
    mutual = len(both) // 2
    asym = len(e) - 2 * mutual
    return mutual, asym, n * (n - 1) // 2 - mutual - asym


@pytest.fixture(scope="module")
def advice_net():
    advice = _read("advice.csv")             # asker -> adviser = client -> provider
    attrs = _read("attributes.csv")
    people = pd.DataFrame({"person": attrs["id"].astype(str),
                           "unit": "dept " + attrs["dept"].astype(str)})
    edges = pd.DataFrame({"provider": advice["adviser"].astype(str),
                          "client": advice["asker"].astype(str)})
    return icnet.ServiceNetwork.from_edges(edges, people=people)


def test_advice_file_shape():
    advice = _read("advice.csv")
    assert list(advice.columns) == ["asker", "adviser"]
    assert len(advice) == 190 and not advice.duplicated().any()
    assert (advice["asker"] != advice["adviser"]).all()
    assert set(advice["asker"]) | set(advice["adviser"]) == set(range(1, 22))


def test_advice_dyad_census_is_45_100_65(advice_net):
    assert len(advice_net.node_ids) == 21 and len(advice_net.edges) == 190
    assert _census(advice_net) == (45, 100, 65)
    g = advice_net.to_networkx()
    assert round(nx.reciprocity(g) * g.number_of_edges() / 2) == 45
    # icnet's own census of every relation, against the degree-preserving null
    d = icnet.dyad_census(advice_net, relations="all", n_null=200, seed=0).set_index("dyad")
    assert d["observed"].tolist() == [45, 100, 65]
    assert d.loc["mutual", "expected"] < 45 and d.loc["mutual", "p_greater"] < 0.05


def test_advice_is_reversed_to_provider_client(advice_net):
    # the census cannot see a reversal; the degrees can: manager 2 is asked by 18 of the
    # 20 others (Wasserman & Faust's in-degree), manager 15 asks all 20
    nodes = advice_net.nodes.set_index("node")
    assert nodes["n_clients"].idxmax() == "2" and nodes.loc["2", "n_clients"] == 18
    assert nodes.loc["15", "n_providers"] == 20 and nodes.loc["15", "n_clients"] == 4
    # manager 2 asks 6 for advice, 6 asks only 21: 6 serves 2, 2 does not serve 6
    assert advice_net.edges.query("provider == '6' and client == '2'").shape[0] == 1
    assert advice_net.edges.query("provider == '2' and client == '6'").shape[0] == 0


def test_friendship_dyad_census_is_23_56_131():
    f = _read("friendship.csv")
    net = icnet.ServiceNetwork.from_edges(
        pd.DataFrame({"provider": f["friend"].astype(str), "client": f["ego"].astype(str)}))
    assert len(net.edges) == 102
    assert _census(net) == (23, 56, 131)


def test_reports_to_follows_departments_and_levels():
    r = _read("reports_to.csv").set_index("id")["reports_to"]
    a = _read("attributes.csv").set_index("id")
    assert len(a) == 21 and a.loc[7, "level"] == 1 and a.loc[7, "dept"] == 0
    assert set(r.index) == set(range(1, 22)) - {7}
    for person, boss in r.items():
        if a.loc[person, "level"] == 2:
            assert boss == 7
        else:
            assert a.loc[boss, "level"] == 2 and a.loc[boss, "dept"] == a.loc[person, "dept"]


def test_unrated_advice_has_no_bad_relations_and_no_bottleneck(advice_net):
    # icnet's dyad_census counts credibly *bad* relations; a survey without satisfaction
    # has none, and a bottleneck needs delays that a survey does not have
    from icnet.analysis.conflicts import dyad_census

    d = dyad_census(advice_net, n_null=5).set_index("dyad")["observed"]
    assert d.tolist() == [0, 0, 210]
    b = icnet.bottlenecks(advice_net)
    assert not b["is_bottleneck"].any()
    assert b.sort_values("dependence", ascending=False)["node"].iloc[0] == "21"


def test_highland_tribes_copy_and_frustration_index():
    copy = ROOT / "data" / "samples" / "highland_tribes" / "highland_tribes.csv"
    ref = ROOT / "tests" / "reference" / "highland_tribes.csv"
    assert copy.read_bytes() == ref.read_bytes()
    r = icnet.balance(None, edges=pd.read_csv(copy))
    assert r.frustration == 7 and r.optimal
