"""ServiceNetwork: aggregation, levels, time slices, builders, and invariants."""

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icnet
from icnet import ServiceNetwork
from icnet.errors import EmptyNetworkError, IcnetWarning, ParameterError, SchemaError


def reference_edges(ev):
    """Per-edge statistics with plain pandas groupby (the slow, obvious way)."""
    g = ev.groupby(["provider", "client"], sort=True)
    return pd.DataFrame({
        "n_events": g.size(),
        "satisfaction_n": g["satisfaction"].count(),
        "satisfaction_mean": g["satisfaction"].mean(),
        "satisfaction_sd": g["satisfaction"].std(),
        "delay_mean": g["delay_hours"].mean(),
        "delay_median": g["delay_hours"].median(),
        "delay_p90": g["delay_hours"].quantile(0.9),
        "rework_rate": g["reopened"].mean(),
        "first_at": g["requested_at"].min(),
        "last_at": g["requested_at"].max(),
    }).reset_index()


def random_events(n, n_people, seed):
    rng = np.random.default_rng(seed)
    p = rng.integers(0, n_people, n)
    c = (p + rng.integers(1, n_people, n)) % n_people
    t = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), "h")
    d = rng.gamma(2, 10, n)
    sat = rng.integers(1, 6, n).astype(float)
    sat[rng.random(n) < 0.3] = np.nan
    return pd.DataFrame({"provider": [f"p{i:03d}" for i in p],
                         "client": [f"p{i:03d}" for i in c],
                         "requested_at": t, "delivered_at": t + pd.to_timedelta(d, "h"),
                         "satisfaction": sat, "reopened": rng.random(n) < 0.1})


def test_edges_match_pandas_groupby():
    raw = random_events(3000, 15, 1)
    net = icnet.from_events(raw)
    ref = reference_edges(net.events.assign(provider=net.events.provider.astype(str),
                                            client=net.events.client.astype(str)))
    got = net.edges[ref.columns]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), ref, check_dtype=False,
                                  check_exact=False, rtol=1e-12)


def test_edge_statistics_by_hand(events):
    net = icnet.from_events(events)
    e = net.edges.set_index(["provider", "client"])
    r = e.loc[("it1", "ops1")]
    assert r["n_events"] == 2 and r["satisfaction_mean"] == 1.5
    assert r["delay_mean"] == (12 + 48) / 2
    # 12 h and 48 h against 24 h agreed: one breach in two
    assert r["sla_breach_rate"] == 0.5 and r["rework_rate"] == 0.5
    r = e.loc[("it1", "sal1")]
    # one delivered in 4 h (no breach); one still open, already older than 24 h at the
    # end of the data (2025-03-01 09:00): a known breach
    assert r["n_open"] == 1 and r["sla_n"] == 2 and r["sla_breach_rate"] == 0.5
    assert np.isnan(e.loc[("ops1", "it1"), "sla_breach_rate"])
    assert list(net.edges.columns[:len(icnet.network.EDGE_COLUMNS)]) == icnet.network.EDGE_COLUMNS


def test_open_request_not_yet_late_is_censored():
    net = icnet.from_events({
        "provider": ["a", "a"], "client": ["b", "b"], "expected_hours": [48, 48],
        "requested_at": ["2025-01-01 00:00", "2025-01-02 00:00"],
        "delivered_at": ["2025-01-02 12:00", None]})
    r = net.edges.iloc[0]
    assert r["sla_n"] == 1 and r["sla_breach_rate"] == 0.0 and r["n_open"] == 1


def test_shrinkage_pulls_small_edges_harder():
    rng = np.random.default_rng(0)
    rows = [("x", "big", s) for s in np.clip(np.round(rng.normal(4.6, 0.5, 200)), 1, 5)]
    rows += [("y", "one", 5.0)] + [("y", f"c{i}", float(np.clip(np.round(rng.normal(3, 1)), 1, 5)))
                                   for i in range(5) for _ in range(10)]
    df = pd.DataFrame(rows, columns=["provider", "client", "satisfaction"])
    e = icnet.from_events(df).edges.set_index("client")
    assert e.loc["one", "satisfaction_mean"] > e.loc["big", "satisfaction_mean"]
    assert e.loc["one", "satisfaction_shrunk"] < e.loc["big", "satisfaction_shrunk"]
    assert e.loc["one", "satisfaction_high"] - e.loc["one", "satisfaction_low"] > \
        e.loc["big", "satisfaction_high"] - e.loc["big", "satisfaction_low"]
    assert e.loc["big", "sign"] == "good"


def test_nodes_volumes(events, people):
    with warnings.catch_warnings():
        warnings.simplefilter("error", IcnetWarning)   # everybody is known: no warning
        net = icnet.from_events(events, people=people)
    n = net.nodes.set_index("node")
    assert n.loc["it1", "n_out"] == 4 and n.loc["ops1", "n_in"] == 4
    assert n.loc["it1", "n_clients"] == 2 and n.loc["sal1", "n_providers"] == 2
    assert n.loc["hr1", "n_out"] == 0 and n.loc["hr1", "in_people"]
    assert n.loc["sal1", "external_facing"] and n.loc["it1", "unit"] == "IT"
    assert n["n_out"].sum() == n["n_in"].sum() == len(events)


def test_unknown_people_are_kept_and_reported(events, people):
    with pytest.warns(IcnetWarning, match="1 ids in events are not in the people table"):
        net = icnet.from_events(events, people=people[people.person != "sal1"])
    assert net.unknown == ["sal1"]
    assert pd.isna(net.nodes.set_index("node").loc["sal1", "unit"])
    with pytest.warns(IcnetWarning, match="grouped as '\\(no unit\\)'"):
        u = net.by("unit")
    assert "(no unit)" in u.node_ids


def test_by_unit_preserves_counts_and_recomputes_means(events, people):
    inside = events.iloc[[3]].assign(event_id="e9", provider="it2", client="it1")
    events = pd.concat([events, inside], ignore_index=True)
    net = icnet.from_events(events, people=people)
    u = net.by("unit", individuals=True)        # 1-2 rater relations: asked for (#20)
    assert u.level == "unit"
    assert u.edges["n_events"].sum() + len(u.internal) == len(events)
    assert len(u.internal) == 1 and u.internal["unit"].tolist() == ["IT"]
    e = u.edges.set_index(["provider", "client"])
    # IT→Ops: ratings 2, 1 (it1) and 5 (it2): mean of events = 8/3, not mean of means
    assert e.loc[("IT", "Ops"), "satisfaction_mean"] == pytest.approx(8 / 3)
    assert set(u.events["provider_person"].astype(str)) >= {"it1", "it2"}
    assert u.members.groupby("node").size().to_dict() == {"HR": 1, "IT": 2, "Ops": 1,
                                                          "Sales": 1}
    assert u.nodes.set_index("node").loc["Sales", "external_facing"]


def test_by_errors(events, people):
    net = icnet.from_events(events)
    with pytest.raises(ParameterError, match="needs a people table"):
        net.by("unit")
    net = icnet.from_events(events, people=people)
    with pytest.raises(ParameterError, match="'floor' is not one"):
        net.by("floor")
    with pytest.raises(ParameterError, match="already at level 'unit'"):
        net.by("unit").by("role")


def test_window_and_periods(events):
    net = icnet.from_events(events)
    w = net.window("2025-02-01", "2025-03-01")
    assert len(w.events) == 3 and list(w.node_ids) == list(net.node_ids)
    per = net.periods("MS")
    assert [k.month for k in per] == [1, 2, 3]
    assert sum(len(p.events) for p in per.values()) == len(events)
    with pytest.raises(ParameterError, match="'freq' parameter must be a pandas offset"):
        net.periods("fortnightly-ish")
    with pytest.raises(ParameterError, match="'start' parameter must be a timestamp"):
        net.window("whenever")


def test_time_needed():
    net = icnet.from_events({"provider": ["a"], "client": ["b"]})
    with pytest.raises(ParameterError, match="needs event timestamps"):
        net.periods()


def test_expected_hours_from_unit_agreements(events, people):
    ag = pd.DataFrame({"provider": ["IT"], "client": ["Ops"], "max_delay_hours": [10]})
    net = icnet.from_events(events.drop(columns="expected_hours"), people=people,
                            agreements=ag)
    e = net.edges.set_index(["provider", "client"])
    assert e.loc[("it1", "ops1"), "sla_breach_rate"] == 1.0     # 12 h and 48 h > 10 h
    assert e.loc[("it2", "ops1"), "sla_breach_rate"] == 0.0     # 1 h
    assert np.isnan(e.loc[("it1", "sal1"), "sla_breach_rate"])  # no agreement


def test_to_networkx(events, people):
    g = icnet.from_events(events, people=people).to_networkx()
    assert isinstance(g, nx.DiGraph) and g.number_of_nodes() == 5
    assert g.edges["it1", "ops1"]["n_events"] == 2
    assert g.nodes["sal1"]["external_facing"]


def test_from_edges_and_networkx_round_trip(events):
    net = icnet.from_events(events)
    g = net.to_networkx(individuals=True)        # person level: ratings only when asked
    back = ServiceNetwork.from_networkx(g, satisfaction="satisfaction_mean")
    cols = ["provider", "client", "n_events", "satisfaction_mean", "satisfaction_shrunk"]
    pd.testing.assert_frame_equal(back.edges[cols], net.edges[cols], check_dtype=False)
    assert not back.has_events


def test_from_edges_errors():
    with pytest.raises(SchemaError, match="repeated provider→client pairs"):
        ServiceNetwork.from_edges({"provider": ["a", "a"], "client": ["b", "b"]})
    with pytest.raises(SchemaError, match="empty id or provider == client"):
        ServiceNetwork.from_edges({"provider": ["a"], "client": ["a"]})
    with pytest.raises(SchemaError, match="outside the scale 1..5"):
        ServiceNetwork.from_edges({"provider": ["a"], "client": ["b"],
                                   "satisfaction_mean": [6]})
    with pytest.raises(EmptyNetworkError):
        ServiceNetwork.from_networkx(nx.DiGraph())


def test_from_process_log():
    log = pd.DataFrame({
        "case": ["c1"] * 4 + ["c2"] * 3,
        "activity": ["a", "b", "c", "d", "a", "b", "c"],
        "resource": ["r1", "r2", "r2", "r1", "r1", "r3", "r1"],
        "timestamp": pd.to_datetime(["2025-01-01 00:00", "2025-01-01 02:00",
                                     "2025-01-01 03:00", "2025-01-01 07:00",
                                     "2025-01-02 00:00", "2025-01-02 01:00",
                                     "2025-01-02 05:00"]),
    }).sample(frac=1, random_state=3)
    net = icnet.from_process_log(log)
    e = net.edges.set_index(["provider", "client"])
    assert e["n_events"].to_dict() == {("r1", "r2"): 1, ("r1", "r3"): 1, ("r2", "r1"): 1,
                                       ("r3", "r1"): 1}
    assert e.loc[("r2", "r1"), "delay_mean"] == 4.0
    with pytest.raises(SchemaError, match="missing column\\(s\\) \\['case'\\]"):
        icnet.from_process_log(log.drop(columns="case"))


def test_process_log_bad_rows_are_dropped_and_recorded():
    log = {"case": [1, 1, 1, 1], "activity": ["a", "b", "c", "d"],
           "resource": ["x", "y", "x", "z"],
           "timestamp": ["2025-01-01", "nope", "2025-01-03", "2025-01-04"]}
    with pytest.raises(SchemaError, match="bad_timestamp"):
        icnet.from_process_log(log)
    net = icnet.from_process_log(log, errors="drop")
    assert net.dropped["table"].tolist() == ["process_log"]
    assert net.dropped["reason"].tolist() == ["bad_timestamp"]
    assert net.edges[["provider", "client"]].values.tolist() == [["x", "z"]]


def test_dropped_rows_are_kept_with_table(events, people):
    bad = pd.concat([events, events.iloc[[0]].assign(satisfaction=9)], ignore_index=True)
    ppl = pd.concat([people, people.iloc[[0]]], ignore_index=True)
    net = icnet.from_events(bad, people=ppl, errors="drop")
    d = net.dropped
    assert sorted(zip(d["table"], d["reason"])) == [("events", "out_of_scale"),
                                                   ("people", "duplicate_person")]


def test_results_are_byte_identical_across_runs():
    raw = random_events(500, 10, 5)
    a = icnet.from_events(raw).edges.to_csv()
    b = icnet.from_events(raw.sample(frac=1, random_state=1)).edges.to_csv()
    assert a == b


# --------------------------------------------------------------------------- properties

frames = st.integers(0, 10_000).map(lambda s: random_events(60, 6, s))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=frames, seed=st.integers(0, 1000))
def test_property_shuffling_event_order_changes_nothing(raw, seed):
    a = icnet.from_events(raw)
    b = icnet.from_events(raw.sample(frac=1, random_state=seed))
    pd.testing.assert_frame_equal(a.edges, b.edges)
    pd.testing.assert_frame_equal(a.events.reset_index(drop=True),
                                  b.events.reset_index(drop=True))


@settings(max_examples=25, deadline=None)
@given(raw=frames, seed=st.integers(0, 1000))
def test_property_renaming_ids_permutes_results(raw, seed):
    ids = sorted(set(raw.provider) | set(raw.client))
    perm = np.random.default_rng(seed).permutation(len(ids))
    ren = {old: f"z{perm[i]:03d}" for i, old in enumerate(ids)}
    a = icnet.from_events(raw).edges
    b = icnet.from_events(raw.assign(provider=raw.provider.map(ren),
                                     client=raw.client.map(ren))).edges
    a = a.assign(provider=a.provider.map(ren), client=a.client.map(ren))
    a = a.sort_values(["provider", "client"]).reset_index(drop=True)
    cols = ["n_events", "satisfaction_mean", "delay_mean", "delay_p90", "satisfaction_shrunk"]
    pd.testing.assert_frame_equal(a[["provider", "client"] + cols],
                                  b[["provider", "client"] + cols], rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(raw=frames, n_units=st.integers(1, 4))
def test_property_by_unit_preserves_totals(raw, n_units):
    ids = sorted(set(raw.provider) | set(raw.client))
    people = pd.DataFrame({"person": ids, "unit": [f"u{i % n_units}" for i in range(len(ids))]})
    net = icnet.from_events(raw, people=people)
    u = net.by("unit")
    n_cross = 0 if u.events is None else len(u.events)
    assert n_cross + len(u.internal) == len(raw)
    assert u.edges["n_events"].sum() == n_cross
    assert u.edges["satisfaction_n"].sum() + u.internal["satisfaction"].notna().sum() == \
        raw["satisfaction"].notna().sum()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_property_drop_loses_no_row(data):
    n = data.draw(st.integers(1, 30))
    ids = st.sampled_from(["a", "b", "c", "", None, 1, 2.0, "ü"])
    raw = pd.DataFrame({
        "provider": data.draw(st.lists(ids, min_size=n, max_size=n)),
        "client": data.draw(st.lists(ids, min_size=n, max_size=n)),
        "satisfaction": data.draw(st.lists(st.one_of(st.none(), st.integers(-2, 8),
                                                     st.just("x")), min_size=n, max_size=n)),
        "event_id": data.draw(st.lists(st.sampled_from(["e1", "e2", "e3", None]),
                                       min_size=n, max_size=n)),
    })
    try:
        net = icnet.from_events(raw, errors="drop")
    except EmptyNetworkError:
        return
    assert int(net.edges["n_events"].sum()) + len(net.dropped) == n


def test_unknown_engine_is_refused_clearly():  # engine="dask": tests/test_dask.py
    with pytest.raises(ParameterError, match="'engine' parameter must be one of"):
        icnet.from_events({"provider": ["a"], "client": ["b"]}, engine="spark")


def test_by_on_an_edge_list_matches_the_event_path():
    # an edge-only network aggregates by summing counts and weighting means
    toy = icnet.datasets.toy()
    e = icnet.from_edges(toy.edges, people=toy.people)
    got = e.by("unit", individuals=True)
    want = toy.by("unit", individuals=True)
    g = got.edges.set_index(["provider", "client"])
    w = want.edges.set_index(["provider", "client"]).loc[g.index]
    assert list(g.index) == list(want.edges.set_index(["provider", "client"]).index)
    for c in ["n_events", "satisfaction_n", "satisfaction_mean", "satisfaction_sd",
              "delay_mean", "sla_n", "sla_breach_rate", "rework_rate"]:
        np.testing.assert_allclose(g[c].astype(float), w[c].astype(float), rtol=1e-9,
                                   equal_nan=True, err_msg=c)
    assert g["delay_median"].isna().all()          # medians do not combine from summaries
    # counts preserved: relations inside a unit are kept in .internal
    assert got.edges["n_events"].sum() + got.internal["n_events"].sum() == \
        toy.edges["n_events"].sum()
    assert got.level == "unit" and set(got.members["member"]) == set(toy.node_ids)
    assert icnet.bottlenecks(e, level="unit")["node"].tolist()   # runs on the edge list


def test_from_networkx_keeps_sla_n():
    toy = icnet.datasets.toy()
    back = icnet.from_networkx(toy.to_networkx())
    pd.testing.assert_series_equal(back.edges["sla_n"].reset_index(drop=True),
                                   toy.edges["sla_n"].reset_index(drop=True))
