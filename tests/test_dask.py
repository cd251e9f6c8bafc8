"""icnet.from_events on a Dask cluster gives the pandas path's network.

A LocalCluster (2 workers, 1 thread each, in-process) runs every Dask test;
dask is in the ``test`` extra, so these tests run (they never skip).
Edges, nodes, dropped rows and the events are compared exactly: the Dask path
sums each pair's values in the pandas path's order (see icnet._dask).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.errors import EmptyNetworkError, ParameterError, SchemaError

dd = pytest.importorskip("dask.dataframe", reason="dask is in the test extra")  # never skips in CI
distributed = pytest.importorskip("distributed", reason="distributed is in the test extra")

from icnet import _dask  # noqa: E402  (after the dask import above)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.fixture(scope="module")
def planta():
    return icnet.datasets.load("planta")


def _raw(net) -> pd.DataFrame:
    """Plain input columns (strings, floats, timestamps) from a network's events.

    Text columns get pandas' own string dtype, as ``pd.read_parquet`` gives them:
    Dask turns object columns into ``string[pyarrow]``, which icnet reads back as
    that dtype, so dropped rows then show identical values (missing = nan).
    """
    ev = net.events.copy()
    for c in ("provider", "client", "service"):
        ev[c] = ev[c].astype(object).astype(_STR)
    return ev


_STR = pd.Series(["a"]).dtype


def _same_network(a, b):
    pd.testing.assert_frame_equal(a.edges, b.edges)
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.dropped, b.dropped)
    assert list(a.node_ids) == list(b.node_ids)


def test_dask_is_exported_as_documented():
    assert "engine" in icnet.from_events.__doc__ and "dask" in icnet.from_events.__doc__


def test_planta_with_every_table_is_identical(client, planta):
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=4), **kw)
    assert isinstance(net, icnet.ServiceNetwork)
    _same_network(net, ref)
    assert net.n_events == len(ref.events) == len(net.events)
    assert repr(net).endswith(f"{len(ref.events)} events (Dask)>")
    assert net.span == ref.span
    # the Dask frame holds the validated events; computed, they are the pandas events
    assert isinstance(net.events, dd.DataFrame)
    pd.testing.assert_frame_equal(net.compute().events, ref.events)


def test_edge_and_event_analyses_are_identical(client, planta):
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), **kw)
    pd.testing.assert_frame_equal(icnet.conflict_cycles(net), icnet.conflict_cycles(ref))
    pd.testing.assert_frame_equal(icnet.bottlenecks(net), icnet.bottlenecks(ref))
    a, b = icnet.service_quality(net), icnet.service_quality(ref)
    for name in ("edges", "providers", "units", "dimensions", "nps", "agreement"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(net.by("unit").edges, ref.by("unit").edges)
    w = net.window("2025-03-01", "2025-06-01")
    pd.testing.assert_frame_equal(w.edges, ref.window("2025-03-01", "2025-06-01").edges)


def _refuse_full_events(monkeypatch):
    """Computing the whole event log to the driver fails (analyses reach it through
    DaskServiceNetwork.compute); by() and the per-provider summaries still work."""
    def refuse(*a, **k):
        raise AssertionError("the events were computed to the driver")
    monkeypatch.setattr(_dask.DaskServiceNetwork, "compute", refuse)


def _same_quality(a, b):
    for name in ("edges", "providers", "units", "dimensions", "nps", "agreement"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("nparts", [1, 3, 7])
def test_event_analyses_run_per_partition_of_providers(client, planta, monkeypatch, nparts):
    """bottlenecks, service_quality, health and actions read the events only through
    per-provider summaries computed on the cluster: exactly the pandas results, for
    any partitioning, and the event log never reaches the driver."""
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=nparts), **kw)
    _refuse_full_events(monkeypatch)
    for level in (None, "unit"):
        pd.testing.assert_frame_equal(icnet.bottlenecks(net, level=level),
                                      icnet.bottlenecks(ref, level=level), check_exact=True)
        _same_quality(icnet.service_quality(net, level=level),
                      icnet.service_quality(ref, level=level))
    pd.testing.assert_frame_equal(icnet.health(net), icnet.health(ref), check_exact=True)
    pd.testing.assert_frame_equal(icnet.health(net, level="person", individuals=True,
                                               freq="MS"),
                                  icnet.health(ref, level="person", individuals=True,
                                               freq="MS"), check_exact=True)
    pd.testing.assert_frame_equal(icnet.actions(net), icnet.actions(ref), check_exact=True)


def test_event_analyses_of_an_empty_window(client, planta):
    """A window without events: bottlenecks and quality are empty tables, compliance
    lists every agreement with no event — on both engines (both crashed before)."""
    kw = dict(people=planta.people, agreements=planta.agreements)
    ev = _raw(planta)
    ref = icnet.from_events(ev, **kw).window("2030-01-01")
    net = icnet.from_events(dd.from_pandas(ev, npartitions=2), **kw).window("2030-01-01")
    for w in (ref, net):
        assert w.n_events == 0
        assert icnet.bottlenecks(w).empty
        assert icnet.service_quality(w).providers.empty
    got = icnet.agreement_compliance(net)
    _same_compliance(got, icnet.agreement_compliance(ref))
    assert len(got.agreements) == len(planta.agreements)
    assert (got.agreements["n_events"] == 0).all() and got.coverage.empty


def test_summaries_are_shared_not_recomputed(client, planta, monkeypatch):
    """One pass over the events per summary: a second analysis needing the same
    summary reuses it."""
    net = icnet.from_events(dd.from_pandas(_raw(planta), npartitions=3),
                            people=planta.people)
    calls = []
    real = _dask.per_provider
    monkeypatch.setattr(_dask, "per_provider", lambda *a: calls.append(a[1]) or real(*a))
    icnet.bottlenecks(net)
    assert len(calls) == 1
    icnet.bottlenecks(net)
    assert len(calls) == 1
    icnet.service_quality(net)          # the ratings of the people and of the units
    assert len(calls) == 3
    icnet.service_quality(net)
    assert len(calls) == 3


def test_generated_org_analyses_are_identical(client, monkeypatch):
    """A generated organisation with planted patterns (several services, agreed delays,
    months of backlog): bottleneck measures, quality, health trends and leniency equal
    the pandas path's."""
    org = synth.organisation(n_people=400, seed=5)
    kw = dict(people=org.people, agreements=org.agreements)
    ref = icnet.from_events(org.events, **kw)
    net = icnet.from_events(dd.from_pandas(org.events, npartitions=5), **kw)
    _refuse_full_events(monkeypatch)
    for level in (None, "unit"):
        b = icnet.bottlenecks(net, level=level)
        pd.testing.assert_frame_equal(b, icnet.bottlenecks(ref, level=level),
                                      check_exact=True)
        assert b["delay_trend"].notna().any() and b["redundancy"].notna().any()
    _same_quality(icnet.service_quality(net), icnet.service_quality(ref))
    h = icnet.health(net, freq="MS")
    pd.testing.assert_frame_equal(h, icnet.health(ref, freq="MS"), check_exact=True)
    assert h["trend"].notna().any() and h["client_leniency"].notna().any()


def test_report_and_figures_without_the_events(client, planta, monkeypatch, tmp_path):
    """The whole report (tables, figures, spiral timeline) from a Dask-built network
    whose event log never reaches the driver; its tables equal the pandas report's."""
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), **kw)
    _refuse_full_events(monkeypatch)
    icnet.report(net, tmp_path / "dask" / "report.html", tables=True)
    monkeypatch.undo()
    icnet.report(ref, tmp_path / "pandas" / "report.html", tables=True)
    a = sorted(p.name for p in (tmp_path / "dask").iterdir())
    assert a == sorted(p.name for p in (tmp_path / "pandas").iterdir())
    assert "health_trend.png" in a and any(x.startswith("spiral_") for x in a)
    for name in a:
        if name.endswith(".csv") and name != "spirals.csv":   # spirals: another MC draw
            assert (tmp_path / "dask" / name).read_bytes() == \
                (tmp_path / "pandas" / name).read_bytes(), name
    plot = icnet.plot
    for fn in (plot.health_trend, plot.satisfaction_heatmap):
        fn(net)
    pd.testing.assert_series_equal(plot._raters(net.by("unit")), plot._raters(ref.by("unit")))


# ---------------------------------------------------------------------------- spirals

_SAME = ["a", "b", "rounds", "effect_ab", "effect_ba", "n_ab", "n_ba", "bad_ab", "bad_ba",
         "drop_ab", "drop_ba", "onset_ab", "onset_ba", "p_change_ab", "p_change_ba",
         "concurrence"]
# the pooled reciprocity uses the coupling's null moments (another Monte Carlo draw)


def _same_attrs(s, ref):
    a, b = dict(s.attrs), dict(ref.attrs)
    ra, rb = a.pop("reciprocity"), b.pop("reciprocity")
    assert a == b and ra["n_directions"] == rb["n_directions"]
    assert abs(ra["estimate"] - rb["estimate"]) < 3 * (ra["se"] + rb["se"])


def _no_event_compute(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the events were computed to the driver")
    monkeypatch.setattr(_dask.DaskServiceNetwork, "compute", refuse)
    monkeypatch.setattr(_dask.DaskServiceNetwork, "_in_memory", refuse)


def test_spirals_run_per_partition_of_pairs(client, monkeypatch):
    """Dask spirals: the pandas path's pairs, counts, effects and chains; p-values from
    another Monte Carlo draw (per-pair generators), the same whatever the partitioning;
    the events never reach the driver."""
    org = synth.organisation(n_people=150, seed=2)
    kw = dict(seed=2, n_perm=199, min_events=5, min_bad=1)   # many tested pairs
    ref = icnet.retaliation_spirals(org.network(), **kw)
    nets = {k: icnet.from_events(dd.from_pandas(org.events, npartitions=k),
                                 people=org.people) for k in (3, 7)}
    _no_event_compute(monkeypatch)
    got = {k: icnet.retaliation_spirals(net, **kw) for k, net in nets.items()}
    assert all(net._local is None for net in nets.values())
    pd.testing.assert_frame_equal(got[3], got[7])          # independent of the partitioning
    s = got[3]
    assert list(s.columns) == list(ref.columns) and (s.dtypes == ref.dtypes).all()
    _same_attrs(s, ref)
    assert ref.attrs["n_tested"] > 20
    key = ["a", "b"]
    a = ref.sort_values(key).reset_index(drop=True)
    b = s.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[_SAME], b[_SAME], rtol=1e-9, atol=1e-9)
    assert (a.kind == "insufficient").equals(b.kind == "insufficient")
    # `effect` picks a direction by the (random) significance: one of the two, exactly
    # (NaN where the coupling was not tested: fewer than min_bad bad events a direction)
    ok = np.isclose(b.effect, np.fmin(b.effect_ab, b.effect_ba), rtol=1e-9, equal_nan=True) | \
        np.isclose(b.effect, np.fmax(b.effect_ab, b.effect_ba), rtol=1e-9, equal_nan=True)
    assert ok[b.kind != "insufficient"].all()
    # p-values: two Monte Carlo draws of the same null, within their sampling error
    pa, pb = np.r_[a.p_ab, a.p_ba], np.r_[b.p_ab, b.p_ba]
    fin = np.isfinite(pa)
    assert (fin == np.isfinite(pb)).all() and fin.sum() > 40
    pa, pb = pa[fin], pb[fin]
    pm = (pa + pb) / 2
    se = np.sqrt(2 * pm * (1 - pm) / (199 + 1)) + 1e-3
    assert np.abs(pa - pb).mean() < 0.05 and (np.abs(pa - pb) / se).max() < 4.5
    clear = (a.q < 0.01) | (a.p > 0.5)
    assert clear.sum() > 10 and (a.kind[clear] == b.kind[clear]).all()
    # who moved first (init8): pair-local, from the change test's segments, so a spiral
    # of both paths names the same initiator with the same probability and start
    sp = ((a.kind == "spiral") & (b.kind == "spiral") & a.initiator_p.notna() &
          b.initiator_p.notna()).to_numpy()
    np.testing.assert_allclose(a.initiator_p[sp], b.initiator_p[sp], rtol=1e-9)
    assert (a.initiator[sp] == b.initiator[sp]).all() and (a.start[sp] == b.start[sp]).all()


def test_spirals_on_planta_tell_the_same_story(client, planta, monkeypatch):
    net = icnet.from_events(dd.from_pandas(_raw(planta), npartitions=4),
                            people=planta.people)
    _no_event_compute(monkeypatch)
    s = icnet.retaliation_spirals(net, n_perm=199, individuals=True, turn_taking=False)
    truth = icnet.datasets.load("planta", as_tables=True)["truth"]
    sp = truth["spirals"][0]
    row = s[(s.a == sp["a"]) & (s.b == sp["b"])].iloc[0]
    assert row["kind"] == "spiral" and row["initiator"] == sp["initiator"]
    # as in memory (tests/test_spirals.py::test_planta_story): concurrent at min_lag_days,
    # a joint_shift under the turn test (the default)
    s2 = icnet.retaliation_spirals(net, n_perm=199)
    assert row["concurrence"] >= 0 and \
        s2.loc[(s2.a == sp["a"]) & (s2.b == sp["b"]), "kind"].item() == "joint_shift"
    a, b = sorted(truth["chronic"][0])
    assert s[(s.a == a) & (s.b == b)]["kind"].item() == "chronic_conflict"
    with pytest.raises(icnet.errors.BudgetExceededError, match="max_work"):
        icnet.retaliation_spirals(net, n_perm=99, max_work=1e3)


@pytest.mark.parametrize("level", [None, "unit"])
def test_spirals_turn_test_same_on_dask(client, planta, monkeypatch, level):
    """#18: the turn test is hashed per pair, so the Dask path (per partition of pairs)
    gives the in-memory p_turn (to the rounding of the control) and the same kinds for
    the pairs it tested. At person level the control is shuffled by unit (control7);
    since its time-local window the unit level has no pair with a turn test on planta
    (Mantenimiento-Produccion, tested before, is `none` without a drop)."""
    ref = icnet.retaliation_spirals(planta, n_perm=199, turn_taking=True, level=level)
    net = icnet.from_events(dd.from_pandas(_raw(planta), npartitions=3),
                            people=planta.people)
    _no_event_compute(monkeypatch)
    s = icnet.retaliation_spirals(net, n_perm=199, turn_taking=True, level=level)
    key = ["a", "b"]
    a = ref.sort_values(key).reset_index(drop=True)
    b = s.sort_values(key).reset_index(drop=True)
    assert (a[key] == b[key]).all().all()
    fin = np.isfinite(a.p_turn)
    assert fin.sum() >= (1 if level is None else 0) and (fin == np.isfinite(b.p_turn)).all()
    assert not fin.any() or np.abs(a.p_turn[fin] - b.p_turn[fin]).max() <= 0.01
    assert (a.kind[fin] == b.kind[fin]).all()


def test_spirals_default_kinds_same_on_dask_for_a_lock_in_org(client, monkeypatch):
    """#18 (speed9): with the default turn test, on a validity-suite organisation whose
    mutual drops the turn test splits into spiral and joint_shift (lock_in, 150 people),
    the Dask path gives every turn-tested pair the in-memory p_turn (to the rounding of
    the control) and kind."""
    from icnet.validity import scenarios
    d = scenarios.generate("lock_in", n_people=150, seed=0)
    ref = icnet.retaliation_spirals(d.network(), seed=0, n_perm=199)
    net = icnet.from_events(dd.from_pandas(d.events, npartitions=3), people=d.people)
    _no_event_compute(monkeypatch)
    s = icnet.retaliation_spirals(net, seed=0, n_perm=199)
    key = ["a", "b"]
    a = ref.sort_values(key).reset_index(drop=True)
    b = s.sort_values(key).reset_index(drop=True)
    assert (a[key] == b[key]).all().all()
    fin = np.isfinite(a.p_turn)
    assert (fin == np.isfinite(b.p_turn)).all()
    assert {"spiral", "joint_shift"} <= set(a.kind[fin])
    assert np.abs(a.p_turn[fin] - b.p_turn[fin]).max() <= 0.01
    assert (a.kind[fin] == b.kind[fin]).all()
    # onset12: a spiral's start (the alternation's start posterior) is pair-local too
    sp = ((a.kind == "spiral") & a.initiator_p.notna()).to_numpy()
    assert sp.any() and (a.start[sp] == b.start[sp]).all()


def test_conflict_cycles_does_not_compute_the_events(client, planta):
    net = icnet.from_events(dd.from_pandas(_raw(planta), npartitions=2),
                            people=planta.people)
    icnet.conflict_cycles(net)
    assert net._local is None       # edge-based: the events stayed on the cluster


def test_window_stays_on_the_cluster(client, planta, monkeypatch):
    """window() filters on the cluster and re-aggregates with the build's code: the
    pandas window's edges, nodes, ratings and span; the events never reach the driver."""
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), **kw)
    _no_event_compute(monkeypatch)
    spans = [("2025-03-01", "2025-06-01"), (None, "2025-02-01"),
             ("2025-05-01T12:00", None), ("2030-01-01", None)]
    got = {s: net.window(*s) for s in spans}
    nested = got[spans[0]].window("2025-04-01", None)
    monkeypatch.undo()
    for s, w in got.items():
        r = ref.window(*s)
        assert isinstance(w, _dask.DaskServiceNetwork) and w._local is None
        _same_network(w, r)
        pd.testing.assert_frame_equal(w.ratings, r.ratings)
        assert w.n_events == len(r.events) and w.level == r.level
        if len(r.events):
            assert w.span == r.span
    assert got[spans[-1]].n_events == 0 and got[spans[-1]].edges.empty
    r = ref.window("2025-03-01", "2025-06-01").window("2025-04-01", None)
    _same_network(nested, r)
    pd.testing.assert_frame_equal(nested.compute().events, r.events)
    # analyses on a window see the pandas window
    pd.testing.assert_frame_equal(icnet.bottlenecks(got[spans[0]]),
                                  icnet.bottlenecks(ref.window(*spans[0])))


def test_by_aggregates_on_the_cluster(client, planta, monkeypatch):
    """by() maps people to groups on the cluster and re-aggregates with the build's
    code: the pandas by()'s edges, nodes, members, people, ratings; ``internal`` stays
    a Dask frame; computed, events and internal are the pandas ones."""
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), **kw)
    _no_event_compute(monkeypatch)
    u = net.by("unit")
    w = u.window("2025-03-01", "2025-06-01")
    monkeypatch.undo()
    r = ref.by("unit")
    assert isinstance(u, _dask.DaskServiceNetwork) and u.level == "unit"
    assert net.by("unit") is u and u.by("unit") is u
    assert isinstance(u.internal, dd.DataFrame) and isinstance(u.events, dd.DataFrame)
    _same_network(u, r)
    for name in ("members", "people", "ratings"):
        pd.testing.assert_frame_equal(getattr(u, name), getattr(r, name))
    assert u.n_events == len(r.events) and u.span == r.span
    rw = r.window("2025-03-01", "2025-06-01")
    _same_network(w, rw)
    local = u.compute()
    pd.testing.assert_frame_equal(local.events, r.events)
    pd.testing.assert_frame_equal(local.internal, r.internal)
    pd.testing.assert_frame_equal(w.compute().internal, rw.internal)
    with pytest.raises(ParameterError, match="already at level"):
        u.by("manager")
    with pytest.raises(ParameterError, match="is not one"):
        net.by("nope")


def test_by_with_unknown_people_warns_as_in_pandas(client):
    org = synth.organisation(n_people=120, days=60, seed=7)
    people = org.people.iloc[5:]
    with pytest.warns(icnet.IcnetWarning):
        ref = icnet.from_events(org.events, people=people)
    with pytest.warns(icnet.IcnetWarning):
        net = icnet.from_events(dd.from_pandas(org.events, npartitions=3), people=people)
    with pytest.warns(icnet.IcnetWarning, match="grouped as") as rec:
        u = net.by("unit")
    assert rec[0].filename == __file__
    with pytest.warns(icnet.IcnetWarning, match="grouped as"):
        r = ref.by("unit")
    _same_network(u, r)
    pd.testing.assert_frame_equal(u.members, r.members)


def test_spirals_specificity_same_on_dask_for_an_overload_org(client, monkeypatch):
    """#18 (spec14): the specificity check (does a side's service to its *other* clients
    drop too in its drop's window?) reads a provider × day summary that the Dask path
    computes by one groupby on the cluster and passes to every partition of pairs, so
    both engines give the same specificity z-scores and kinds, including the spiral the
    check makes a joint_shift (overload_episodes, a development seed)."""
    from icnet.validity import scenarios
    # the moved pair's z is -3.2 (below the default -2.7); individuals=True: specificity_z
    # is a survey magnitude, blanked at person level otherwise
    d = scenarios.generate("overload_episodes", n_people=600, seed=600505)
    ref = icnet.retaliation_spirals(d.network(), seed=0, n_perm=199, individuals=True)
    net = icnet.from_events(dd.from_pandas(d.events, npartitions=3), people=d.people)
    _no_event_compute(monkeypatch)
    s = icnet.retaliation_spirals(net, seed=0, n_perm=199, individuals=True)
    key = ["a", "b"]
    a = ref.sort_values(key).reset_index(drop=True)
    b = s.sort_values(key).reset_index(drop=True)
    assert (a[key] == b[key]).all().all()
    fin = np.isfinite(a.specificity_z)
    assert fin.sum() > 100 and (fin == np.isfinite(b.specificity_z)).all()
    np.testing.assert_allclose(a.specificity_z[fin], b.specificity_z[fin], rtol=1e-9,
                               atol=1e-9)
    assert (a.kind == b.kind).all()
    moved = a.reason.astype(str).str.contains("not targeted")
    assert moved.any() and (a.kind[moved] == "joint_shift").all()
    assert (moved == b.reason.astype(str).str.contains("not targeted")).all()
    # blind19: a one-sided drop the check could not have seen is said to be so, alike
    blind = a.reason.astype(str).str.contains("cannot be checked")
    assert blind.any() and (a.kind[blind] == "one_sided").all()
    assert (blind == b.reason.astype(str).str.contains("cannot be checked")).all()


def test_spirals_at_unit_level_run_per_partition_of_pairs(client, monkeypatch):
    org = synth.organisation(n_people=200, seed=4)
    kw = dict(seed=1, n_perm=199, min_events=5, min_bad=1, level="unit")
    ref = icnet.retaliation_spirals(org.network(), **kw)
    net = icnet.from_events(dd.from_pandas(org.events, npartitions=4), people=org.people)
    _no_event_compute(monkeypatch)
    s = icnet.retaliation_spirals(net, **kw)
    assert net.by("unit")._local is None
    assert list(s.columns) == list(ref.columns)
    _same_attrs(s, ref)
    a = ref.sort_values(["a", "b"]).reset_index(drop=True)
    b = s.sort_values(["a", "b"]).reset_index(drop=True)
    assert len(a) > 5
    pd.testing.assert_frame_equal(a[_SAME], b[_SAME], rtol=1e-9, atol=1e-9)
    assert (a.kind == "insufficient").equals(b.kind == "insufficient")


def _same_compliance(a, b):
    pd.testing.assert_frame_equal(a.agreements, b.agreements)
    pd.testing.assert_frame_equal(a.coverage, b.coverage)
    assert a.agreements.attrs == b.agreements.attrs


def test_agreement_compliance_runs_per_partition_of_providers(client, planta, monkeypatch):
    """Each agreement's events, open requests and breach rates are computed on the
    cluster; only those figures reach the driver (also with a service-specific
    agreement and one whose relation has no event)."""
    ev = _raw(planta)
    kw = dict(people=planta.people, ratings=planta.ratings, agreements=planta.agreements)
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), **kw)
    unit = icnet.from_events(dd.from_pandas(ref.by("unit").events.drop(
        columns=["provider_person", "client_person"]).astype(
        {"provider": object, "client": object}), npartitions=2), level="unit",
        agreements=planta.agreements)
    ref_unit = unit.compute()
    _no_event_compute(monkeypatch)
    got = icnet.agreement_compliance(net)
    got2 = icnet.agreement_compliance(net, as_of="2025-09-01", min_group_size=2)
    got_unit = icnet.agreement_compliance(unit)
    monkeypatch.undo()
    assert net._local is None and net.by("unit")._local is None
    _same_compliance(got, icnet.agreement_compliance(ref))
    _same_compliance(got2, icnet.agreement_compliance(ref, as_of="2025-09-01",
                                                      min_group_size=2))
    _same_compliance(got_unit, icnet.agreement_compliance(ref_unit))
    assert got.agreements["n_events"].sum() > 0
    # a service-specific agreement and one on a relation without events
    ag = planta.agreements
    taken = set(zip(ag["provider"], ag["client"]))
    units = sorted(planta.people["unit"].unique())
    free = next((u, v) for u in units for v in units if u != v and (u, v) not in taken)
    used = set(ag.loc[(ag["provider"] == ag["provider"].iloc[0]) &
                      (ag["client"] == ag["client"].iloc[0]), "service"].dropna())
    svc = next(x for x in sorted(ev["service"].dropna().unique()) if x not in used)
    extra = pd.concat([ag, ag.iloc[[0]].assign(service=svc),
                       ag.iloc[[0]].assign(provider=free[0], client=free[1])],
                      ignore_index=True)
    kw["agreements"] = extra
    ref = icnet.from_events(ev, **kw)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=4), **kw)
    _refuse_full_events(monkeypatch)
    got = icnet.agreement_compliance(net)
    monkeypatch.undo()
    _same_compliance(got, icnet.agreement_compliance(ref))
    assert len(got.agreements) == len(extra)


def test_spiral_timeline_brings_only_the_pair(client, planta, monkeypatch):
    ev = _raw(planta)
    ref = icnet.from_events(ev, people=planta.people)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), people=planta.people)
    sp = icnet.datasets.load("planta", as_tables=True)["truth"]["spirals"][0]
    units = ref.by("unit").edges.iloc[0][["provider", "client"]].tolist()
    calls = [((sp["a"], sp["b"]), {}), ((sp["b"], sp["a"]), dict(period="M", bad_z=1.0)),
             (tuple(units), dict(level="unit"))]
    _no_event_compute(monkeypatch)
    got = [icnet.spiral_timeline(net, *ab, **kw) for ab, kw in calls]
    with pytest.raises(ParameterError, match="not a node"):
        icnet.spiral_timeline(net, sp["a"], "nobody")
    monkeypatch.undo()
    for g, (ab, kw) in zip(got, calls):
        r = icnet.spiral_timeline(ref, *ab, **kw)
        assert len(r) > 10
        pd.testing.assert_frame_equal(g, r, rtol=1e-9, atol=1e-9)
    assert got[0]["is_bad"].any() and got[0]["turn"].max() >= 2


def test_generated_org_is_identical(client):
    org = synth.organisation(n_people=300, days=120, seed=3)
    ref = org.network()
    net = icnet.from_events(dd.from_pandas(org.events, npartitions=5), people=org.people,
                            ratings=org.ratings, agreements=org.agreements)
    _same_network(net, ref)
    unit = icnet.from_events(dd.from_pandas(org.events, npartitions=5),
                             people=org.people).by("unit")
    pd.testing.assert_frame_equal(unit.edges, ref.by("unit").edges)


def test_parquet_dataset_path(client, tmp_path):
    org = synth.organisation(n_people=120, days=90, seed=5)
    path = tmp_path / "events"
    path.mkdir()
    ev = org.events
    for i, chunk in enumerate(np.array_split(np.arange(len(ev)), 4)):
        ev.iloc[chunk].to_parquet(path / f"part-{i}.parquet", index=False)
    ref = icnet.from_events(path, people=org.people)
    net = icnet.from_events(path, people=org.people, engine="dask")
    assert net.events.npartitions == 4
    _same_network(net, ref)


def test_csv_path(client, tmp_path):
    org = synth.organisation(n_people=60, days=60, seed=2)
    path = tmp_path / "events.csv"
    org.events.to_csv(path, index=False)
    _same_network(icnet.from_events(path, engine="dask"), icnet.from_events(path))


def test_pandas_frame_with_engine_dask(client, planta):
    ev = _raw(planta)
    _same_network(icnet.from_events(ev, engine="dask"), icnet.from_events(ev))


# ---------------------------------------------------------------------------- errors

def _messy(planta) -> pd.DataFrame:
    ev = _raw(planta).iloc[:4000].reset_index(drop=True)
    ev["satisfaction"] = ev["satisfaction"].astype(object)
    ev.loc[[5, 1500, 3100, 3101, 3102, 3900], "satisfaction"] = 9       # out of scale
    ev.loc[[2200], "satisfaction"] = "good"                               # not a number
    ev.loc[[700], "provider"] = None                                      # missing id
    ev.loc[[2600], "client"] = ev.loc[2600, "provider"]                   # self service
    ev.loc[[1200], "delivered_at"] = ev.loc[1200, "requested_at"] - pd.Timedelta(hours=3)
    ev.loc[[3500, 800], "event_id"] = ev.loc[[10, 2100], "event_id"].to_numpy()  # repeats
    ev["satisfaction"] = ev["satisfaction"].astype(str).replace("nan", "").astype(_STR)
    for c in ("provider", "client"):
        ev[c] = ev[c].astype(_STR)
    return ev


def _both(ev, nparts=4, **kw):
    errs = []
    for data in (ev, dd.from_pandas(ev, npartitions=nparts)):
        with pytest.raises((SchemaError, EmptyNetworkError)) as info:
            icnet.from_events(data, **kw)
        errs.append(info.value)
    assert type(errs[0]) is type(errs[1])
    return str(errs[0]), str(errs[1])


def test_raise_gives_the_pandas_message(client, planta):
    ev = _messy(planta)
    a, b = _both(ev)
    assert a == b and "'provider' has 1 empty ids (rows 700" in b
    ev.loc[700, "provider"] = "P0001" if ev.loc[700, "client"] != "P0001" else "P0002"
    a, b = _both(ev)
    assert a == b and "client is the provider itself" in b
    ev.loc[2600, "client"] = "P0003" if ev.loc[2600, "provider"] != "P0003" else "P0004"
    a, b = _both(ev)
    assert a == b and "1 values that are not finite numbers (rows 2200: 'good')" in b
    ev.loc[2200, "satisfaction"] = "3"
    a, b = _both(ev)   # six rows over three partitions: the first five and ", …"
    assert a == b and "has 6 values outside the scale 1..5 (rows 5, 1500, 3100, 3101, " \
        "3102: '9', '9', '9', '9', '9', …)" in b
    ev.loc[[5, 1500, 3100, 3101, 3102, 3900], "satisfaction"] = "4"
    a, b = _both(ev)   # delivered before requested: values are the parsed timestamps
    assert a == b and "deliveries before their request (rows 1200" in b
    ev.loc[1200, "delivered_at"] = pd.NaT
    a, b = _both(ev)   # repeated event ids, across partitions
    assert a == b and "has 2 repeated event ids (rows 2100, 3500:" in b


def test_drop_keeps_every_row_with_its_reason(client, planta):
    ev = _messy(planta)
    ref = icnet.from_events(ev, errors="drop")
    net = icnet.from_events(dd.from_pandas(ev, npartitions=4), errors="drop")
    _same_network(net, ref)
    assert net.n_events + len(net.dropped) == len(ev)
    assert net.dropped["reason"].value_counts().to_dict() == {
        "out_of_scale": 6, "duplicate_event_id": 2, "missing_id": 1, "self_service": 1,
        "negative_delay": 1, "not_a_number": 1}
    pd.testing.assert_frame_equal(net.compute().events, ref.events)


def test_a_partition_with_no_valid_row(client, planta):
    ev = _raw(planta).iloc[:300].reset_index(drop=True)
    ev.loc[:99, "client"] = ev.loc[:99, "provider"]          # the whole first partition
    ref = icnet.from_events(ev, errors="drop")
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3), errors="drop")
    _same_network(net, ref)
    assert len(net.dropped) == 100


def test_no_valid_row_at_all(client):
    ev = pd.DataFrame({"provider": ["a", "b", "c", "d"], "client": ["a", "b", "c", "d"]})
    a, b = _both(ev, nparts=2, errors="drop")
    assert a == b and "all 4 rows were rejected" in b


def test_missing_and_clashing_columns(client, planta):
    ev = _raw(planta).iloc[:200]
    a, b = _both(ev.drop(columns="client"))
    assert a == b and "missing required column(s) ['client']" in b
    a, b = _both(ev.rename(columns={"provider": "from"}), columns={"from": "provider",
                                                                    "client": "provider"})
    assert a == b and "several columns are called ['provider']" in b
    with pytest.raises(SchemaError, match="does not exist"):
        icnet.from_events("/no/such/dataset", engine="dask")


def test_column_mapping(client, planta):
    ev = _raw(planta).rename(columns={"provider": "de", "client": "para",
                                      "satisfaction": "nota"})
    cols = {"de": "provider", "para": "client", "nota": "satisfaction"}
    _same_network(icnet.from_events(dd.from_pandas(ev, npartitions=3), columns=cols),
                  icnet.from_events(ev, columns=cols))


def test_unknown_people_warn_as_in_pandas(client, planta):
    ev = _raw(planta)
    people = planta.people.iloc[5:]
    with pytest.warns(icnet.errors.IcnetWarning, match="not in the people table"):
        net = icnet.from_events(dd.from_pandas(ev, npartitions=2), people=people)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = icnet.from_events(ev, people=people)
    _same_network(net, ref)
    assert net.unknown == ref.unknown


def test_missing_dask_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ParameterError, match=r'pip install "icnet\[dask\]"'):
        _dask._dask()


def test_bad_engine_and_bad_input_type():
    with pytest.raises(ParameterError, match="'engine' parameter must be one of"):
        icnet.from_events({"provider": ["a"], "client": ["b"]}, engine="spark")
    with pytest.raises(ParameterError, match="must be a pandas DataFrame"):
        icnet.from_events(42, engine="dask")


def test_spirals_answer_test_same_on_dask(client, monkeypatch):
    """#18 (onesided8): the answer test's draws are hashed per pair and direction, so the
    Dask path gives the in-memory one-sided answer: the same kind, initiator, start and
    direction p for a pair whose bad spells one side answers."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from test_spirals import _answer_org

    net, _ = _answer_org(True, 0)
    ref = icnet.retaliation_spirals(net, n_perm=199, seed=0)
    raw = net.events.copy()
    for c in ("provider", "client"):
        raw[c] = raw[c].astype(object).astype(_STR)
    dnet = icnet.from_events(dd.from_pandas(raw, npartitions=3))
    _no_event_compute(monkeypatch)
    s = icnet.retaliation_spirals(dnet, n_perm=199, seed=0)
    a = ref[(ref.a == "P00") & (ref.b == "P01")].iloc[0]
    b = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert a.kind == "one_sided" and "answers" in a.reason, a.reason
    assert (b.kind, b.initiator, b.start) == (a.kind, a.initiator, a.start)
    assert abs(b.p - a.p) <= 1e-6


def test_delay_quality_per_provider_and_service_same_on_dask(client, monkeypatch):
    """#18 (delay9): the delay's provider effect is per (provider, service) cell on the
    cluster too; a delays-only log whose providers give a 4-hour and a 3-day service gets
    the in-memory ``z`` (and the slow services of p0 -> c0 stand out by it)."""
    rng = np.random.default_rng(5)
    n = 4000
    prov, cli, svc = rng.integers(0, 8, n), rng.integers(0, 10, n), rng.integers(0, 2, n)
    slow = (prov == 0) & (cli == 0) & (rng.random(n) < 0.3)
    logd = np.log(np.where(svc == 0, 4.0, 72.0)) + rng.normal(0, 0.5, n) + 1.0 * slow
    ev = pd.DataFrame({"event_id": [f"E{i}" for i in range(n)],
                       "provider": [f"p{i}" for i in prov], "client": [f"c{i}" for i in cli],
                       "service": np.where(svc == 0, "fast", "slow"),
                       "requested_at": pd.Timestamp("2025-01-01") +
                       pd.to_timedelta(rng.uniform(0, 365, n), "D"),
                       "delay_hours": np.exp(logd)})
    ref = icnet.from_events(ev)
    net = icnet.from_events(dd.from_pandas(ev, npartitions=3))
    _no_event_compute(monkeypatch)
    got = icnet.spiral_timeline(net, "p0", "c0")
    monkeypatch.undo()
    r = icnet.spiral_timeline(ref, "p0", "c0")
    pd.testing.assert_frame_equal(got, r, rtol=1e-9, atol=1e-9)
    fwd = r[r.provider == "p0"]
    is_slow = fwd.requested_at.isin(ev.requested_at[slow]).to_numpy()
    assert is_slow.sum() == slow.sum()
    assert fwd.z[is_slow].mean() < fwd.z[~is_slow].mean() - 1.5


def test_spirals_two_episode_pairs_same_kinds(client):
    """episodes14: the second drops matched episode by episode are pair-local (inside
    ``_pair_tests``, shared through ``fns``), so the Dask path gives the pandas path's kinds,
    onsets and change p-values on a two-episode organisation, including the pair main
    called ``one_sided`` (W0129-W0130)."""
    from icnet.validity.scenarios import generate
    d = generate("episodic_two", n_people=150, seed=150501)
    kw = dict(seed=150501, n_perm=199)
    ref = icnet.retaliation_spirals(d.network(), **kw)
    got = icnet.retaliation_spirals(
        icnet.from_events(dd.from_pandas(d.events, npartitions=3), people=d.people), **kw)
    a = ref.sort_values(["a", "b"]).reset_index(drop=True)
    b = got.sort_values(["a", "b"]).reset_index(drop=True)
    assert a.kind.equals(b.kind)
    assert a.onset_ab.equals(b.onset_ab) and a.onset_ba.equals(b.onset_ba)
    np.testing.assert_allclose(a.p_change_ab, b.p_change_ab, rtol=1e-9)
    assert a.loc[(a.a == "W0129") & (a.b == "W0130"), "kind"].item() == "spiral"
