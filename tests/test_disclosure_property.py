"""#20 acceptance: on generated organisations with small groups, no suppressed value is
recoverable from the unit-level API tables or from a report's tables (independent attacker)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import icnet
from test_disclosure import _recoverable


def _generated(seed, n_units, max_people):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_people + 1, n_units)
    people = pd.DataFrame([(f"U{u}p{i}", f"U{u}") for u in range(n_units)
                           for i in range(sizes[u])], columns=["person", "unit"])
    ids = people["person"].to_numpy()
    n = int(rng.integers(60, 240))
    prov = rng.choice(ids, n)
    cli = rng.choice(ids, n)
    keep = prov != cli
    sat = rng.integers(1, 6, n).astype(float)
    ev = pd.DataFrame({"provider": prov[keep], "client": cli[keep], "satisfaction": sat[keep]})
    return icnet.from_events(ev, people=people)


def _small(found, rel):
    """Only the small groups are protected: a complementary cell may be recomputable."""
    m = (rel["suppressed_by"] == "small group").to_numpy()
    small = set(zip(rel.loc[m, "provider"], rel.loc[m, "client"]))
    return {k: v for k, v in found.items() if k in small}


def _known_counts(rel, net):
    """The published relations with the counts they hide (#20) filled from the data: the
    attacker is assumed to know every count (conservative, as the audit assumes)."""
    full = net.by("unit", individuals=True).edges
    n = full.assign(provider=full["provider"].astype(str), client=full["client"].astype(str)) \
        .set_index(["provider", "client"])
    out = rel.copy()
    out["satisfaction_n"] = n["satisfaction_n"].reindex(
        pd.MultiIndex.from_frame(rel[["provider", "client"]].astype(str))).to_numpy(float)
    return out


def _org_row(rel, net_units):
    tot = net_units.edges.eval("satisfaction_n * satisfaction_mean").sum()
    cnt = net_units.edges["satisfaction_n"].sum()
    return (pd.Series("org", index=rel.index),
            pd.DataFrame({"satisfaction_n": [cnt], "satisfaction_mean": [tot / cnt]},
                         index=["org"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 6), max_people=st.integers(1, 9))
def test_unit_tables_never_reveal_a_small_group(seed, n_units, max_people):
    net = _generated(seed, n_units, max_people)
    q = icnet.service_quality(net, level="unit")
    e = q.edges
    if not len(e):
        return
    assert e.loc[e["suppressed"], "satisfaction_n"].isna().all()      # counts hidden too
    e = _known_counts(e, net)
    found = _recoverable(e, [(e["provider"], q.units.set_index("unit")),
                             _org_row(e, net.by("unit", individuals=True))])
    assert _small(found, e) == {}
    assert q.audit["safe"].all()


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 5))
def test_report_tables_never_reveal_a_small_group(tmp_path, seed, n_units):
    net = _generated(seed, n_units, 8)
    out = tmp_path / f"r{seed}_{n_units}"
    icnet.report(net, out / "report.html", tables=True)
    e = pd.read_csv(out / "edges.csv")
    if not len(e):
        return
    e = _known_counts(e, net)
    h = pd.read_csv(out / "health.csv").set_index("unit")
    exact = icnet.service_quality(net, level="unit", min_group_size=1,
                                  protection=0.0).units.set_index("unit")
    shown = h["served_quality"].notna().reindex(exact.index).fillna(False)
    margins = exact[["satisfaction_n", "satisfaction_mean"]].where(shown, np.nan)
    found = _recoverable(e, [(e["provider"], margins),
                             _org_row(e, net.by("unit", individuals=True))])
    assert _small(found, e) == {}


# --- every CSV of report(tables=True) and every unit-level API table (#20 acceptance) -------
_SURVEYISH = ("satisf", "quality", "leniency", "within_sd", "lfsr", "n_eff")


def _reference(net, mgs=5):
    """Small groups, computed from the raw tables (not from what icnet publishes)."""
    ue = net.by("unit", individuals=True).edges
    rated = ue["satisfaction_n"].fillna(0) > 0
    small_rel = set(zip(ue.loc[rated & (ue["satisfaction_raters"] < mgs), "provider"],
                        ue.loc[rated & (ue["satisfaction_raters"] < mgs), "client"]))
    ev = net.events
    unit = net.people.set_index("person")["unit"]
    r = ev[ev["satisfaction"].notna()]
    pu = r["provider"].astype(object).map(unit)
    cu = r["client"].astype(object).map(unit)
    across = (pu != cu).to_numpy()
    raters = r["client"].astype(object)[across].groupby(pu[across]).nunique()
    small_units = {u for u in unit.unique() if raters.get(u, 0) < mgs}
    return small_rel, small_units


def _check_all_csvs(out, net, individuals=False):
    small_rel, small_units = _reference(net)
    e = pd.read_csv(out / "edges.csv")
    if len(e):
        key = list(zip(e["provider"], e["client"]))
        m = np.array([k in small_rel for k in key], dtype=bool)
        assert e.loc[m, icnet.privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
        assert (e.loc[m, "sign"] == "suppressed").all()
    h = pd.read_csv(out / "health.csv")
    if len(h):
        m = h["unit"].isin(small_units)
        assert h.loc[m, ["served_quality", "served_low", "served_high"]].isna().all().all()
    c = pd.read_csv(out / "conflict_cycles.csv")
    if len(c):
        assert c.loc[c["between"] == "people", "severity"].isna().all()
        import ast
        steps = [ast.literal_eval(x) if isinstance(x, str) else () for x in c["edges"]]
        touch = np.array([any(tuple(s) in small_rel for s in es) for es in steps], dtype=bool)
        units = (c["between"] == "units").to_numpy()
        assert c.loc[touch & units, ["satisfaction_mean", "severity"]].isna().all().all()
    a = pd.read_csv(out / "actions.csv")
    if len(a) and "evidence" in a:
        served = a["evidence"].astype(str).str.contains(r"served quality \d", regex=True)
        assert not (served & a["target"].isin(small_units)).any()
    sp = pd.read_csv(out / "spirals.csv")      # person-level pairs: one rater a direction
    if len(sp) and not individuals:
        assert sp["effect"].isna().all()
    for name in ("nodes", "bottlenecks", "spirals"):
        t = pd.read_csv(out / f"{name}.csv")
        assert not [col for col in t.columns if any(w in col for w in _SURVEYISH)], name


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 5))
def test_every_report_csv_hides_small_groups(tmp_path, seed, n_units):
    net = _generated(seed, n_units, 7)
    out = tmp_path / f"a{seed}_{n_units}"
    icnet.report(net, out / "report.html", tables=True)
    written = {p.name for p in out.glob("*.csv")}
    assert written == {f"{t}.csv" for t in icnet.reporting.TABLES}   # every CSV checked
    _check_all_csvs(out, net)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 6), max_people=st.integers(1, 9))
def test_unit_api_tables_never_reveal_a_small_group(seed, n_units, max_people):
    """health, agreement_compliance and by("unit") (shared through privacy.suppress_edges
    and to_networkx) next to service_quality: keyed checks and the differencing attack."""
    net = _generated(seed, n_units, max_people)
    small_rel, small_units = _reference(net)
    q = icnet.service_quality(net, level="unit")
    h = icnet.health(net)
    assert h.loc[h["unit"].isin(small_units), "served_quality"].isna().all()
    se = icnet.privacy.suppress_edges(net.by("unit"))
    m = np.array([k in small_rel for k in zip(se["provider"], se["client"])], dtype=bool)
    assert se.loc[m, icnet.privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
    ue = net.by("unit").edges                  # the public unit edges are gated too
    m = np.array([k in small_rel for k in zip(ue["provider"], ue["client"])], dtype=bool)
    assert ue.loc[m, icnet.privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
    assert ue["suppressed"].tolist() == m.tolist()
    g = net.by("unit").to_networkx()
    for p, c_ in small_rel:
        assert np.isnan(g.edges[p, c_]["satisfaction_mean"])
    units = net.people["unit"].unique()
    if len(units) >= 2:
        ag = pd.DataFrame({"provider": units, "client": np.roll(units, 1),
                           "max_delay_hours": 48.0, "min_satisfaction": 3.0})
        net2 = icnet.from_events(net.events[["provider", "client", "satisfaction"]]
                                 .astype({"provider": object, "client": object}),
                                 people=net.people, agreements=ag)
        ac = icnet.agreement_compliance(net2).agreements
        sm = np.array([k in small_rel for k in zip(ac["provider"], ac["client"])], dtype=bool)
        assert ac.loc[sm, ["satisfaction_mean", "satisfaction_shrunk",
                           "satisfaction_high"]].isna().all().all()
    e = q.edges
    if not len(e):
        return
    # differencing across the API tables: units of service_quality, the org, and health's
    # served quality (a shrunk mean: used as if it were the raw mean, the attacker's best)
    exact = icnet.service_quality(net, level="unit", min_group_size=1,
                                  protection=0.0).units.set_index("unit")
    shown = h.set_index("unit")["served_quality"].notna().reindex(exact.index).fillna(False)
    hm = exact[["satisfaction_n", "satisfaction_mean"]].where(shown, np.nan)
    found = _recoverable(e, [(e["provider"], q.units.set_index("unit")),
                             (e["provider"], hm),
                             _org_row(e, net.by("unit", individuals=True))])
    assert _small(found, e) == {}
