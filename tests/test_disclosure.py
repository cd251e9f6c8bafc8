"""#20 point 1: small-group suppression survives differencing within a release.

The attacker here is written independently of icnet's audit: it reads only the
published tables (means and counts), writes every published mean × count as a
linear equation over the relations, and asks, by exact rank, whether a hidden
relation's sum is a linear combination of published figures.
"""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import privacy


def _org(small_raters=2, small_ratings=(1.0, 2.0), seed=0):
    """Unit A serves B and C (10 raters each) and D (``small_raters`` people)."""
    rng = np.random.default_rng(seed)
    people = []
    rows = []
    for u, k in (("A", 3), ("B", 10), ("C", 10), ("D", small_raters)):
        people += [(f"{u}{i}", u) for i in range(k)]
    for u in ("B", "C"):
        for i in range(10):
            for _ in range(3):
                rows.append((f"A{i % 3}", f"{u}{i}", float(rng.integers(2, 6))))
    for i, s in enumerate(small_ratings):
        rows.append((f"A{i % 3}", f"D{i % small_raters}", s))
    ev = pd.DataFrame(rows, columns=["provider", "client", "satisfaction"])
    return icnet.from_events(ev, people=pd.DataFrame(people, columns=["person", "unit"]))


def _equations(rel, margins):
    """Published equations: rows over the relations of ``rel``; one per published margin."""
    n = rel["satisfaction_n"].to_numpy(float)
    hidden = rel["satisfaction_mean"].isna().to_numpy() & (n > 0)
    vis_tot = np.where(hidden, 0.0, n * np.nan_to_num(rel["satisfaction_mean"].to_numpy(float)))
    rows, rhs = [], []
    for member, table in margins:          # member: relation -> key in table (or None)
        for key, r in table.iterrows():
            if pd.isna(r["satisfaction_mean"]):
                continue
            m = (member == key).to_numpy()
            rows.append((m & hidden).astype(float))
            rhs.append(r["satisfaction_n"] * r["satisfaction_mean"] - vis_tot[m].sum())
    return np.array(rows).reshape(-1, len(rel)), np.array(rhs), hidden


def _known_counts(rel, net):
    """``rel`` with the counts the published table hides (#20) filled from the data: the
    attacker is assumed to know every count (conservative, as the audit assumes)."""
    full = icnet.service_quality(net, level="unit", individuals=True).edges
    n = full.set_index(["provider", "client"])["satisfaction_n"]
    out = rel.copy()
    out["satisfaction_n"] = n.reindex(pd.MultiIndex.from_frame(rel[["provider", "client"]])) \
        .to_numpy(float)
    return out


def _recoverable(rel, margins):
    """Hidden relations whose mean follows exactly from the published figures."""
    a, b, hidden = _equations(rel, margins)
    out = {}
    idx = np.flatnonzero(hidden)
    if not len(a):
        return out
    ah = a[:, idx]
    rank = np.linalg.matrix_rank(ah)
    sol = np.linalg.lstsq(ah, b, rcond=None)[0]
    for k, j in enumerate(idx):
        e = np.zeros(len(idx))
        e[k] = 1
        if np.linalg.matrix_rank(np.vstack([ah, e])) == rank:
            out[(rel["provider"].iloc[j], rel["client"].iloc[j])] = \
                sol[k] / rel["satisfaction_n"].iloc[j]
    return out


def test_two_rater_relation_is_not_recoverable_from_unit_tables():
    net = _org()
    q = icnet.service_quality(net, level="unit")
    e, u = _known_counts(q.edges, net), q.units
    assert e.set_index("client").loc["D", "suppressed"]          # 2 raters: suppressed
    # the attack: unit mean x count minus its visible relations
    found = _recoverable(e, [(e["provider"], u.set_index("unit"))])
    assert found == {}, found
    # the relation was hidden by the rule, a larger one hides it in turn
    assert (e["suppressed_by"] == "complementary").sum() >= 1
    assert set(e["suppressed_by"]) <= {"", "small group", "complementary"}


def test_the_attack_did_work_on_plain_suppression():
    """The test can fail: with small-group suppression alone the value comes out exactly."""
    net = _org()
    plain = icnet.plot.suppressed_edges(net.by("unit"))
    u = icnet.service_quality(net, level="unit", min_group_size=1).units
    found = _recoverable(plain, [(plain["provider"], u.set_index("unit"))])
    assert found[("A", "D")] == pytest.approx(1.5)


def test_planta_unit_tables_reveal_nothing():
    net = icnet.datasets.load("planta")
    # the finding, reproduced without the complementary suppression:
    plain = icnet.service_quality(net, level="unit", protection=0.0)
    e0 = _known_counts(plain.edges, net)
    found = _recoverable(e0, [(e0["provider"], plain.units.set_index("unit"))])
    assert found[("Finanzas", "RRHH")] == pytest.approx(3.882353, abs=1e-6)
    q = icnet.service_quality(net, level="unit")
    e = _known_counts(q.edges, net)
    found = _recoverable(e, [(e["provider"], q.units.set_index("unit")),
                             (pd.Series("org", index=e.index), pd.DataFrame(
                                 {"satisfaction_n": [np.nan], "satisfaction_mean": [np.nan]},
                                 index=["org"]))])
    assert found == {}
    au = q.audit
    assert len(au) == int((e["suppressed_by"] == "small group").sum())
    assert au["safe"].all() and (au["width"] >= 1.0 - 1e-9).all()
    # the protection costs few relations: at most one extra per provider unit here
    assert (e["suppressed_by"] == "complementary").sum() <= e["provider"].nunique()


def test_person_level_units_and_people_do_not_difference():
    """A unit's mean minus its published people's means must not give a hidden person."""
    net = icnet.datasets.load("planta")
    q = icnet.service_quality(net)
    p = q.providers
    unit_of = net.nodes.set_index("node")["unit"]
    # cells: person-providers' relations to other units; unit margins and person margins
    ev = net.edges.assign(up=lambda d: d["provider"].map(unit_of),
                          uc=lambda d: d["client"].map(unit_of))
    ev = ev[ev["up"] != ev["uc"]]
    # a provider row counts all its relations; restrict to people serving only other units
    inside = net.edges.assign(up=lambda d: d["provider"].map(unit_of),
                              uc=lambda d: d["client"].map(unit_of))
    only_out = set(p["provider"]) - set(inside.loc[inside["up"] == inside["uc"], "provider"])
    ps = p.set_index("provider")
    cells = pd.DataFrame({"provider": ev["provider"].to_numpy(), "client": ev["up"].to_numpy()})
    cells = cells.groupby("provider", as_index=False).size()
    cells["client"] = "*"
    cells["satisfaction_n"] = ps["satisfaction_n"].reindex(cells["provider"]).to_numpy()
    shown = ps["satisfaction_mean"].reindex(cells["provider"]).to_numpy()
    cells["satisfaction_mean"] = np.where(cells["provider"].isin(only_out), shown, np.nan)
    cells = cells[cells["provider"].isin(only_out)].reset_index(drop=True)
    assert len(cells) > 10
    units = q.units.set_index("unit")
    # only units whose every person serves other units only (exact equations)
    full = [x for x in units.index
            if set(unit_of[unit_of == x].index) & set(p["provider"]) <= only_out]
    found = _recoverable(cells, [(cells["provider"].map(unit_of), units.loc[full])])
    assert found == {}


def test_person_level_relations_need_individuals():
    net = icnet.datasets.toy()
    q = icnet.service_quality(net)
    assert q.edges["satisfaction_mean"].isna().all()       # 1 rater each: individual data
    assert (q.edges["sign"] == "suppressed").all()
    qi = icnet.service_quality(net, individuals=True)
    assert qi.edges["satisfaction_mean"].notna().all()
    assert "suppressed_by" not in qi.edges


def test_audit_engine_bounds_by_hand():
    from icnet._disclosure import Release, audit
    # one provider, three relations: 2 ratings (hidden), 10 and 10 ratings published;
    # the provider's sum is published: the hidden one is pinned
    cells = pd.DataFrame({"n": [2.0, 10, 10], "total": [3.0, 40, 30],
                          "sensitive": [True, False, False], "hidden": [True, False, False]})
    rel = Release(cells, {"p": (np.array([0, 0, 0]), np.array([False]))}, (1, 5))
    a = audit(rel)
    assert a.loc[0, "low"] == pytest.approx(1.5) and a.loc[0, "high"] == pytest.approx(1.5)
    assert not a.loc[0, "safe"]
    # hide the second too: the pair's sum 43 over 12 ratings, each in [1, 5]:
    # x0 in [max(2, 43 - 50), min(10, 43 - 10)] = [2, 10] -> mean [1, 5]
    rel.cells["hidden"] = [True, True, False]
    a = audit(rel)
    assert (a.loc[0, "low"], a.loc[0, "high"]) == pytest.approx((1.0, 5.0))
    assert a.loc[0, "safe"]


@pytest.fixture(scope="module")
def planta_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    icnet.report(icnet.datasets.load("planta"), out / "report.html", tables=True)
    return out


def test_suppressed_cells_keep_no_rating_derived_figure():
    """#20: a suppressed unit relation of service_quality kept lfsr = 0.0 (its hidden mean
    is credibly on one side of the threshold), n_eff and weight; all are blanked now."""
    net = icnet.datasets.load("planta")
    q = icnet.service_quality(net, level="unit")
    assert q.edges["suppressed"].any()
    for t in (q.edges, q.providers, q.units):
        s = t["suppressed"].to_numpy(bool) & (t["sign"] != "unrated").to_numpy()
        cols = [c for c in ("lfsr", "n_eff", "weight") if c in t]
        assert t.loc[s, cols].isna().all().all(), t.loc[s, cols]
    full = icnet.service_quality(net, level="unit", min_group_size=1, protection=0.0)
    assert full.edges["lfsr"].notna().all()


def test_report_spirals_csv_has_no_person_magnitudes(planta_report):
    """#20: spirals.csv carried each person-level pair's coupling (``effect``, in SD of one
    person's ratings) without --individuals."""
    sp = pd.read_csv(planta_report / "spirals.csv")
    assert len(sp) and sp["effect"].isna().all()


def test_report_edges_and_health_reveal_nothing(planta_report):
    e = pd.read_csv(planta_report / "edges.csv")
    h = pd.read_csv(planta_report / "health.csv")
    # the attacker is granted each unit's exact mean wherever health.csv shows its quality
    net = icnet.datasets.load("planta")
    exact = icnet.service_quality(net, level="unit", min_group_size=1,
                                  protection=0.0).units.set_index("unit")
    shown = h.set_index("unit")["served_quality"].notna()
    margins = exact[["satisfaction_n", "satisfaction_mean"]].where(
        shown.reindex(exact.index).fillna(False), np.nan)
    org = pd.DataFrame({"satisfaction_n": [e["satisfaction_n"].sum()],
                        "satisfaction_mean": [(net.by("unit", individuals=True).edges.eval(
                            "satisfaction_n * satisfaction_mean").sum()
                            / e["satisfaction_n"].sum())]}, index=["org"])
    found = _recoverable(e, [(e["provider"], margins), (pd.Series("org", index=e.index), org)])
    assert found == {}
    assert (e["suppressed_by"] == "complementary").any()
    # the heatmap and the cycles follow the table: no figure shows a hidden relation
    hidden = e.loc[e["suppressed"], ["provider", "client"]].apply(tuple, axis=1)
    cyc = pd.read_csv(planta_report / "conflict_cycles.csv")
    for es, m in zip(cyc["edges"], cyc["satisfaction_mean"]):
        if any(str(p) in es for p in hidden):
            assert np.isnan(m)


def test_quality_tables_concatenate_and_audit_is_not_published():
    """The audit is a field of the result, not a DataFrame in ``attrs``: a DataFrame in
    attrs made every pd.concat/merge of the edges raise (pandas compares attrs)."""
    net = icnet.datasets.load("planta")
    q = icnet.service_quality(net, level="unit")
    both = pd.concat([q.edges, q.edges])          # raised ValueError before
    assert len(both) == 2 * len(q.edges)
    q.edges.merge(q.providers, on="provider", how="left")
    assert q.audit is not None and q.audit["safe"].all()
    assert "audit" not in q.tables


def test_no_ratings_stay_unrated_not_suppressed():
    ev = pd.DataFrame({"provider": ["a", "a", "b", "c"], "client": ["b", "c", "a", "a"],
                       "delay_hours": [1.0, 2.0, 3.0, 4.0]})
    q = icnet.service_quality(icnet.from_events(ev))
    assert (q.providers["sign"] == "unrated").all()
    assert (q.edges["sign"] == "unrated").all()
