"""The validity suite (issue #17): generators plant what they say; a quick scoreboard slice.

The scoreboard slice runs every detector on every scenario at 150 people for
the two seeds of ``benchmarks/validity.py --quick`` and checks each bound.
Bounds the current detectors miss are ``xfail(strict=True)`` with the measured
value: when a detector improves, the test XPASSes and fails — update the list
(and docs/validity.md) then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icnet.errors import ParameterError
from icnet.validity import SCENARIOS, generate, scenario_table, scoreboard as sb

N = 150


@pytest.fixture(scope="module")
def gen():
    cache = {}

    def get(name, seed=3, n=N):
        if (name, seed, n) not in cache:
            cache[(name, seed, n)] = generate(name, n_people=n, seed=seed)
        return cache[(name, seed, n)]
    return get


def _pair_events(ev, a, b):
    return ev[((ev.provider == a) & (ev.client == b)) | ((ev.provider == b) & (ev.client == a))]


def _delay(ev):
    return (ev["delivered_at"] - ev["requested_at"]) / pd.Timedelta(hours=1)


# ---------------------------------------------------------------------------------------
# schema, determinism, errors

@pytest.mark.parametrize("name", list(SCENARIOS))
def test_schema_and_truth_kinds(gen, name):
    d = gen(name)
    assert list(d.events.columns) == ["event_id", "provider", "client", "requested_at",
                                      "delivered_at", "satisfaction", "service"]
    assert list(d.people.columns) == ["person", "unit", "manager", "role", "external_facing"]
    assert d.people["external_facing"].any()
    assert d.events["requested_at"].max() - d.events["requested_at"].min() > \
        pd.Timedelta(days=350)
    sat = d.events["satisfaction"].dropna()
    assert sat.between(1, 5).all() and (sat == sat.round()).all()
    assert set(d.events["provider"]) | set(d.events["client"]) <= set(d.people["person"])
    cols = {"spirals": {"a", "b", "mechanism", "accept", "level", "initiator", "onset",
                        "rounds_fired"},
            "bottlenecks": {"node", "mechanism", "level"}, "conflicts": {"a", "b"},
            "quality": {"provider", "client", "level", "true_satisfaction"},
            "agreements": {"provider", "client", "service", "true_breach"},
            "pingpong": {"a", "b", "n_bounces"}}
    for k, t in d.truth.items():
        assert cols[k] <= set(t.columns), k
    # a scenario is either a null for a detector or plants its truth, not both
    assert not set(d.null_for) & {k for k, t in d.truth.items() if len(t)}
    assert set(d.null_for) == set(SCENARIOS[name].null_for)
    d.network()          # icnet reads it


def test_sizes_and_determinism():
    a = generate("lock_in", n_people=60, seed=5)
    b = generate("lock_in", n_people=60, seed=5)
    c = generate("lock_in", n_people=60, seed=6)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth["spirals"], b.truth["spirals"])
    assert not a.events["delivered_at"].equals(c.events["delivered_at"])
    big = generate("baseline", n_people=600, seed=1)
    assert len(big.people) == 600 and len(big.events) > 40_000


def test_errors():
    with pytest.raises(ParameterError, match="unknown scenario 'nope'"):
        generate("nope")
    with pytest.raises(ParameterError, match="n_people"):
        generate("baseline", n_people=5)


def test_scenario_table_covers_issue():
    t = scenario_table()
    assert len(t) == len(SCENARIOS) >= 26
    assert set(t["family"]) == {"spiral", "bottleneck", "confounder", "quality", "tickets"}
    assert t["plants"].str.len().min() > 20


# ---------------------------------------------------------------------------------------
# the mechanisms are really in the data

TURNS = {"episodic": (7, 6), "episodic_two": (7, 6), "lock_in": (7, 4),
         "slow_escalation": (21, 8), "delay_only": (7, 6)}


@pytest.mark.parametrize("name", list(TURNS) + ["one_sided"])
def test_spiral_turns_alternate_and_hurt(gen, name):
    d = gen(name)
    t = d.truth["spirals"]
    assert len(t) >= 3 and (t["rounds_fired"] >= 4).all()
    assert (t["a"] < t["b"]).all() and t["initiator"].isin(pd.concat([t.a, t.b])).all()
    ev = d.events.assign(d=np.log(_delay(d.events)))
    for row in t.itertuples():
        x = _pair_events(ev, row.a, row.b)
        before = x[x.requested_at < row.onset].groupby("provider")["d"].mean()
        if name == "one_sided":      # both sides had bad service after the onset
            after = x[x.requested_at >= row.onset]
            for side in (row.a, row.b):
                assert (after[after.provider == side]["d"] > before[side] + 1.5).sum() >= 2
            continue
        days, n = TURNS[name]
        other = row.b if row.initiator == row.a else row.a
        excess = []
        for k in range(n):      # turn k is the initiator's when k is even
            side = row.initiator if k % 2 == 0 else other
            lo = row.onset + pd.Timedelta(days=days * k)
            w = x[(x.provider == side) & (x.requested_at >= lo) &
                  (x.requested_at < lo + pd.Timedelta(days=days))]
            if len(w):
                excess.append(w["d"].mean() - before[side])
        assert np.mean(excess) > (0.4 if name == "slow_escalation" else 0.7), excess
        if name == "lock_in":       # still bad both ways months later
            late = x[x.requested_at > row.onset + pd.Timedelta(days=90)]
            for side in (row.a, row.b):
                assert late[late.provider == side]["d"].mean() > before[side] + 0.6
        if name == "episodic":      # recovered two months after the episode
            late = x[x.requested_at > row.onset + pd.Timedelta(days=100)]
            if len(late) > 20:
                assert late["d"].mean() < before.mean() + 0.4


def test_delay_only_and_no_satisfaction(gen):
    for name in ("delay_only", "no_satisfaction"):
        assert gen(name).events["satisfaction"].isna().all()
    assert gen("baseline").events["satisfaction"].notna().mean() > 0.3


def test_between_units(gen):
    d = gen("between_units")
    t = d.truth["spirals"].iloc[0]
    unit = d.people.set_index("person")["unit"]
    ev = d.events.assign(pu=d.events.provider.map(unit), cu=d.events.client.map(unit),
                         d=_delay(d.events))
    x = ev[((ev.pu == t.a) & (ev.cu == t.b)) | ((ev.pu == t.b) & (ev.cu == t.a))]
    on = x.requested_at >= t.onset
    win = on & (x.requested_at < t.onset + pd.Timedelta(days=42))
    assert t.level == "unit" and t.rounds_fired == 6
    assert x[win]["d"].median() > 1.4 * x[~on]["d"].median()


@pytest.mark.parametrize("seed", [600005, 600008])
def test_between_units_serve_each_other_both_ways(seed):
    # at 600 people the first production and the first quality unit did not always serve
    # each other both ways (5 of the scoreboard's 20 organisations): the planted "spiral"
    # was one direction's bad turns only, a truth no detector could find
    d = generate("between_units", n_people=600, seed=seed)
    t = d.truth["spirals"].iloc[0]
    unit = d.people.set_index("person")["unit"]
    pu, cu = d.events.provider.map(unit), d.events.client.map(unit)
    ab = ((pu == t.a) & (cu == t.b)).sum()
    ba = ((pu == t.b) & (cu == t.a)).sum()
    assert ab > 0 and ba > 0 and t.rounds_fired >= 5


@pytest.mark.parametrize("name,ratio", [("deep_chain", 2.5), ("single_point_of_failure", 2.0),
                                        ("small_peer_group", 2.5)])
def test_slow_provider(gen, name, ratio):
    d = gen(name)
    node = d.truth["bottlenecks"]["node"].iloc[0]
    ev = d.events.assign(d=_delay(d.events))
    mine = ev[ev.provider == node]
    peers = ev[(ev.service == mine.service.iloc[0]) & (ev.provider != node)]
    if name == "single_point_of_failure":
        assert peers.empty                              # nobody else does it
        assert mine["d"].median() > ratio * 8.0         # IT's typical 8 hours
        assert mine["client"].nunique() > 10
    else:
        assert mine["d"].median() > ratio * peers["d"].median()
    if name == "small_peer_group":
        assert ev[ev.service == "maintenance"]["provider"].nunique() == 3
    if name == "deep_chain":
        unit = d.people.set_index("person")["unit"]
        assert not d.people.set_index("person").loc[node, "external_facing"]
        assert mine["client"].map(unit).str.startswith("production").any()


def test_backlog_growth(gen):
    d = gen("backlog_growth")
    node = d.truth["bottlenecks"]["node"].iloc[0]
    ev = d.events[d.events.provider == node].assign(d=_delay(d.events))
    q = ev.requested_at.dt.quarter
    assert ev[q == 3]["d"].median() > 3 * ev[q == 1]["d"].median()
    assert ev["delivered_at"].isna().sum() > 0          # still open at the end


def test_chronic_and_common_cause(gen):
    d = gen("chronic_conflict")
    for row in d.truth["conflicts"].itertuples():
        x = _pair_events(d.events, row.a, row.b)
        for side in (row.a, row.b):
            assert x[x.provider == side]["satisfaction"].mean() < 3.0
    d = gen("common_cause")
    ev = d.events.assign(w=d.events.requested_at.dt.isocalendar().week)
    cors = []
    for a, b in zip(*np.array(_boosted_pairs(d)).T):
        x = _pair_events(ev, a, b).assign(d=lambda f: np.log(_delay(f)))
        m = x.groupby(["w", "provider"])["d"].mean().unstack()
        cors.append(m.corr().iloc[0, 1])
    assert np.nanmean(cors) > 0.3     # both directions move together


def _boosted_pairs(d):
    n = pd.concat([d.events.provider, d.events.client]).value_counts()
    pc = d.events.groupby(["provider", "client"]).size()
    big = pc[pc > 100].reset_index()
    pairs = {tuple(sorted(x)) for x in zip(big.provider, big.client)
             if (x[1], x[0]) in pc.index and pc[(x[1], x[0])] > 100}
    assert len(n) and len(pairs) >= 3
    return sorted(pairs)


def test_confounders_present(gen):
    ev = gen("shock_season").events
    m = ev.groupby(ev.requested_at.dt.month)["satisfaction"].mean()
    assert m.min() < m.median() - 0.5
    ev = gen("org_slowdown").events.assign(d=lambda f: _delay(f))
    q = ev.requested_at.dt.quarter
    assert ev[q == 4]["d"].median() > 1.8 * ev[q == 1]["d"].median()
    d = gen("unit_bad_month")
    ev = d.events.assign(u=d.events.client.map(d.people.set_index("person")["unit"]),
                         m=d.events.requested_at.dt.to_period("M"))
    g = ev.groupby(["u", "m"])["satisfaction"].mean().unstack()
    assert (g.min(axis=1) < g.median(axis=1) - 0.8).any()


def test_raters(gen):
    d = gen("heavy_raters")
    ev = d.events.dropna(subset=["satisfaction"])
    ev = ev.assign(u=ev.client.map(d.people.set_index("person")["unit"]))
    top = ev.groupby("u")["client"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    assert top.median() > 0.4
    d = gen("sparse_ceiling")
    n = d.events.dropna(subset=["satisfaction"]).groupby(["provider", "client"]).size()
    assert n.between(1, 5).all() and n.nunique() == 5
    assert (d.events["satisfaction"] == 5).sum() > 0.35 * d.events["satisfaction"].notna().sum()
    assert d.events["satisfaction"].mean() > 4.0
    q = d.truth["quality"]
    assert q["true_satisfaction"].between(1, 5).all() and set(q["level"]) == {"person", "unit"}


def test_agreement_truth_matches_events(gen):
    d = gen("tight_agreements")
    t = d.truth["agreements"]
    assert t["true_breach"].mean() > 0.6
    unit = d.people.set_index("person")["unit"]
    ev = d.events.dropna(subset=["delivered_at"])
    ev = ev.assign(provider=ev.provider.map(unit), client=ev.client.map(unit), d=_delay(ev))
    m = ev.merge(d.agreements, on=["provider", "client", "service"])
    obs = (m["d"] > m["max_delay_hours"]).groupby([m.provider, m.client]).mean()
    tt = t.set_index(["provider", "client"])["true_breach"]
    # delivered requests only (open ones are the slow ones): close, and not above truth
    assert (obs - tt.reindex(obs.index)).abs().median() < 0.05


def test_pingpong_truth_is_an_independent_count(gen):
    d = gen("tickets_pingpong", seed=4)
    unit = d.people.set_index("person")["unit"]
    log = d.log.sort_values(["case", "timestamp"])
    u = log.resource.map(unit).to_numpy()
    c = log.case.to_numpy()
    # A -> B -> A within a case, at team level, excluding the requester steps
    staff = ~log.activity.isin(["open", "close"]).to_numpy()
    counts = {}
    for i in range(len(u) - 2):
        if c[i] == c[i + 2] and staff[i] and staff[i + 1] and staff[i + 2] and \
                u[i] == u[i + 2] != u[i + 1] and log.activity.iloc[i + 2] == "returned":
            k = tuple(sorted((u[i], u[i + 1])))
            counts[k] = counts.get(k, 0) + 1
    t = d.truth["pingpong"]
    assert {(a, b): n for a, b, n in zip(t.a, t.b, t.n_bounces)} == counts
    assert len(t) >= 1 and (t["n_bounces"] >= 1).all()
    assert generate("tickets_null", n_people=N, seed=4).truth["pingpong"].empty


# ---------------------------------------------------------------------------------------
# scoreboard machinery

def test_wilson_and_poisson():
    lo, hi = sb.wilson(0, 20)
    assert lo == 0 and 0.15 < hi < 0.17
    assert np.isnan(sb.wilson(0, 0)[0])
    lo, hi = sb.poisson_interval(0, 10)
    assert lo == 0 and abs(hi - 0.3689) < 1e-3


def test_adapter_never_crashes(monkeypatch, gen):
    import icnet
    monkeypatch.setattr(icnet, "bottlenecks", lambda *a, **k: 1 / 0, raising=False)
    r = sb.score_organisation(gen("deep_chain"), detectors=["bottlenecks"])
    assert r.loc[0, "status"].startswith("n/a: ZeroDivisionError")
    board = sb.scoreboard(r)
    assert board.loc[0, "passed"].startswith("n/a") and board.loc[0, "orgs"] == 0


def test_adapter_accepts_renamed_kind(monkeypatch, gen):
    import icnet
    d = gen("chronic_conflict")
    real = icnet.retaliation_spirals

    def renamed(net, **kw):
        s = real(net, **kw).copy()
        s["kind"] = s["kind"].replace({"mutual_degradation": "chronic_conflict"})
        t = d.truth["conflicts"].iloc[0]
        extra = pd.DataFrame({"a": [t.a], "b": [t.b], "kind": ["joint_shift"], "p": [0.5]})
        return pd.concat([s[s.a != t.a], extra], ignore_index=True)
    monkeypatch.setattr(icnet, "retaliation_spirals", renamed)
    r = sb.score_organisation(d, detectors=["spirals"])
    assert r.loc[0, "status"] == "ok" and r.loc[0, "n_false_spiral"] >= 0


def test_planted_pairs_reported_as_any_finding(monkeypatch, gen):
    # a planted spiral called joint_shift or one_sided is still a dated finding the user
    # sees (recall counts spiral only); the scoreboard reports that share without a bound,
    # and leaves it out for records made before the column existed
    import icnet
    d = gen("lock_in")
    t = d.truth["spirals"]
    assert len(t) >= 3
    kinds = ["spiral", "joint_shift", "none"] + ["one_sided"] * (len(t) - 3)

    def fixed(net, **kw):
        return pd.DataFrame({"a": t["a"].to_numpy(), "b": t["b"].to_numpy(), "kind": kinds,
                             "initiator": t["initiator"].to_numpy(), "start": t["onset"],
                             "p": 0.01})
    monkeypatch.setattr(icnet, "retaliation_spirals", fixed)
    r = sb.score_organisation(d, detectors=["spirals"])
    assert r.loc[0, "n_hit"] == 1 and r.loc[0, "n_surfaced"] == len(t) - 1
    metric = "reported as any finding (spiral, joint_shift, one_sided)"
    row = sb.scoreboard(r).set_index("metric").loc[metric]
    assert row["value"] == pytest.approx((len(t) - 1) / len(t)) and row["bound"] == ""
    assert metric not in set(sb.scoreboard(r.drop(columns="n_surfaced"))["metric"])


# ---------------------------------------------------------------------------------------
# the quick scoreboard slice (same organisations as benchmarks/validity.py --quick)

@pytest.fixture(scope="module")
def records():
    recs = [sb.score_organisation(generate(n, n_people=N, seed=1000 * N + s), seed=1000 * N + s)
            for s in range(2) for n in SCENARIOS]
    return pd.concat([r for r in recs if len(r)], ignore_index=True)


@pytest.fixture(scope="module")
def board(records):
    return sb.scoreboard(records)


def test_every_detector_runs_on_the_quick_slice(records):
    # an adapter turns a detector's exception into status "n/a: ..." so that one broken
    # detector does not stop the suite; the scoreboard then just has fewer organisations
    # (a crash of retaliation_spirals on 2 of 20 organisations went unnoticed that way)
    bad = records[records["status"].str.startswith("n/a")]
    assert bad.empty, bad[["detector", "scenario", "seed", "status"]].to_string()


def _x(value, why):
    return pytest.mark.xfail(strict=True, reason=f"measured {value} ({why})")


S18, S19, S21 = "spiral detector, issue #18", "bottleneck detector, issue #19", \
    "statistics, issue #21"
BOUNDS = [
    ("spirals", "baseline", "orgs with false spiral"),
    ("spirals", "chronic_conflict", "orgs with false spiral"),
    ("spirals", "no_satisfaction", "orgs with false spiral"),
    ("spirals", "org_slowdown", "orgs with false spiral"),
    ("spirals", "overload_episodes", "orgs with false spiral"),
    ("spirals", "shock_season", "orgs with false spiral"),
    ("spirals", "unit_bad_month", "orgs with false spiral"),
    ("spirals", "episodic", "precision"),
    ("spirals", "episodic", "initiator right (of found)"),
    # met since the turn test is the default (0.2; 1.00 without it)
    ("spirals", "common_cause", "orgs with false spiral"),
    ("spirals", "joint_bad_periods", "orgs with false spiral"),
    # turn10 (the alternation scan as the turn statistic): 0.67 on the quick slice (0.33)
    pytest.param("spirals", "episodic", "recall", marks=_x("0.67", S18)),
    # the quick slice's two organisations per size: 41.4 days since the turn-test default
    # and init8's first-mover onsets; met since turn10 (6.7 days, with 4 of the 6 planted
    # pairs found instead of 2); 4.7 / 2.5 days over 20 organisations before it
    ("spirals", "episodic", "median onset error (days)"),
    # episodes14 (second drops matched episode by episode): 6 of 6 planted pairs on the
    # quick slice (4 of 6 before, 0.67); over 20 seeds see docs/methods/spirals-record.md
    ("spirals", "episodic_two", "recall"),
    # control7 (time-local control through the unit): 5 of 6 planted on the quick slice;
    # over 20 seeds 0.88 / 0.91 at 150 / 600 (0.92 / 0.91 before), benchmarks/validity_control7
    pytest.param("spirals", "lock_in", "recall", marks=_x("0.83", S18)),
    ("spirals", "slow_escalation", "recall"),          # passes since control7
    # onesided8's answer test: 4 of 6 on the quick slice (0 before); 20 seeds with the
    # turn test: benchmarks/validity_onesided8_turn_taking.csv, docs/methods/spirals-record.md
    pytest.param("spirals", "one_sided", "recall", marks=_x("0.67", S18)),
    ("spirals", "one_sided", "precision"),
    ("spirals", "one_sided", "initiator right (of found)"),
    # the first answered spell is often the second one (the first one's answer not bad
    # enough to count): per-organisation medians 48 / 36 days on the quick slice
    pytest.param("spirals", "one_sided", "median onset error (days)", marks=_x("42.3", S18)),
    pytest.param("spirals", "delay_only", "recall", marks=_x("0.33", S18)),
    pytest.param("spirals", "between_units", "recall", marks=_x("0.50", S18)),
    ("bottlenecks", "baseline", "orgs with false"),
    ("bottlenecks", "no_satisfaction", "orgs with false"),
    ("bottlenecks", "overload_episodes", "orgs with false"),
    ("bottlenecks", "shock_season", "orgs with false"),
    ("bottlenecks", "tight_agreements", "orgs with false"),
    ("bottlenecks", "backlog_growth", "top-k (k = planted)"),
    ("bottlenecks", "org_slowdown", "orgs with false"),
    ("bottlenecks", "backlog_growth", "recall (flagged)"),
    ("bottlenecks", "deep_chain", "recall (flagged)"),
    ("bottlenecks", "deep_chain", "top-k (k = planted)"),
    ("bottlenecks", "single_point_of_failure", "recall (flagged)"),
    ("bottlenecks", "single_point_of_failure", "top-k (k = planted)"),
    # 20 seeds (#19, bottle12: the slow budget split by service): 0.80 at 150 and 600
    # people (0.75 / 0.60 before); 60 seeds 0.88 / 0.90 (benchmarks/validity_bottle60.csv) — a 4× slowdown over 2 peers is ~4.5 between-person SDs,
    # a three-person service's provider needs z ≈ 3.0, and the misses are 1.7-2.5× slower
    pytest.param("bottlenecks", "small_peer_group", "recall (flagged)",
                 marks=_x("0.50 on the quick slice; 60 seeds: 0.88 (150), 0.90 (600)", S19)),
    ("bottlenecks", "small_peer_group", "top-k (k = planted)"),
    ("conflicts", "baseline", "orgs with false"),
    # 20 seeds (#21, census3): 0.97 [0.89, 0.99] at 150, 0.95 [0.91, 0.97] at 600 people
    # with the 'slower than the provider's other clients' rule (was 0.80 / 0.76)
    ("conflicts", "chronic_conflict", "recall"),
    # late only beyond the organisation's normal breach rate (Abbott's correction, #19)
    ("conflicts", "tight_agreements", "orgs with false"),
    ("dyad_census", "baseline", "orgs 'more mutual' p <= 0.05"),
    ("quality", "baseline", "coverage, person relations"),
    ("quality", "baseline", "coverage, unit relations"),
    ("quality", "baseline", "false 'bad' of truly good, person"),
    ("quality", "heavy_raters", "coverage, person relations"),
    ("quality", "lenient_harsh", "coverage, person relations"),
    ("quality", "sparse_ceiling", "coverage, person relations"),
    ("quality", "lenient_harsh", "false 'bad' of truly good, unit"),
    ("quality", "heavy_raters", "coverage, unit relations"),
    ("quality", "lenient_harsh", "coverage, unit relations"),
    ("quality", "sparse_ceiling", "coverage, unit relations"),
    ("agreements", "baseline", "|breach error| <= 0.05"),
    ("agreements", "tight_agreements", "|breach error| <= 0.05"),
    ("agreements", "org_slowdown", "mean breach error (bias)"),
    # rows that appeared once the #18 change test found spirals (measured on the quick slice)
    # the control's gate at unit level (recall6): 20 seeds 0.73 / 1.00 (was 0.25 / 0.90)
    ("spirals", "between_units", "precision"),
    ("spirals", "between_units", "initiator right (of found)"),
    ("spirals", "between_units", "median onset error (days)"),
    ("spirals", "delay_only", "precision"),
    # init9 (the phase of the alternation): 1 of 2 found on the quick slice; 20 seeds
    # 0.88 / 0.78 -> 0.70 / 0.81 (benchmarks/validity_main9.csv)
    pytest.param("spirals", "delay_only", "initiator right (of found)", marks=_x("0.50", S18)),
    ("spirals", "delay_only", "median onset error (days)"),
    ("spirals", "episodic_two", "precision"),
    ("spirals", "episodic_two", "initiator right (of found)"),
    ("spirals", "episodic_two", "median onset error (days)"),
    pytest.param("spirals", "lock_in", "precision", marks=_x("0.83", S18)),
    ("spirals", "lock_in", "initiator right (of found)"),
    ("spirals", "lock_in", "median onset error (days)"),
    ("spirals", "slow_escalation", "precision"),       # passes since control7
    # regressed with the Page onsets (spirals4): the first turns of a slow escalation are
    # below Page's reference value; 20 seeds: initiator 0.56 / 0.60, onset 43 / 45 d.
    # The initiator row passes on the quick slice (0.80, 4 of 5) since the first move is
    # weighed as a likelihood ratio with the escalation's prior (onset6); over 20 seeds it
    # is 0.56 / 0.59 (benchmarks/validity_onset6.csv): the bound is NOT met, as for lock-in
    # (0.64 / 0.63) and two episodes (0.59 / 0.59), which pass here too.
    # init8 (the exchange model names the first mover): 4 of 6 on the quick slice (5 of 6
    # before); over 20 seeds 0.55 / 0.61 -> 0.53 / 0.65 (benchmarks/validity_init8.csv).
    # The onset: 55 -> 19.8 d on the quick slice, 20 seeds 43.7 / 53.4 -> 15.4 / 11.9 d
    pytest.param("spirals", "slow_escalation", "initiator right (of found)",
                 marks=_x("0.67", S18)),
    # onset12 (the alternation's start posterior dates the spiral): 19.8 -> 10.8 d on the
    # quick slice; 20 seeds 15.4 / 12.4 -> 0.5 / 0.6 d (benchmarks/validity_onset12.csv)
    ("spirals", "slow_escalation", "median onset error (days)"),
    ("quality", "baseline", "false 'bad' of truly good, unit"),
    ("quality", "heavy_raters", "false 'bad' of truly good, person"),
    ("quality", "heavy_raters", "false 'bad' of truly good, unit"),
    ("quality", "lenient_harsh", "false 'bad' of truly good, person"),
    ("quality", "sparse_ceiling", "false 'bad' of truly good, person"),
    ("quality", "sparse_ceiling", "false 'bad' of truly good, unit"),
    ("agreements", "baseline", "mean breach error (bias)"),
    ("agreements", "org_slowdown", "|breach error| <= 0.05"),
    ("agreements", "tight_agreements", "mean breach error (bias)"),
    # the organisation-level reciprocity test (#18 point 4): the turn test's p_perm (label
    # permutation within weeks and circular shift, the larger p; under each, two statistics
    # combined by Tippett's min p), quick slice 2 orgs each. Over 20 seeds
    # (benchmarks/validity_recip8.csv): nulls 0.00 at 150 people; at 600 slowdown 0.10,
    # baseline, shock, overload, unit month 0.05, the rest 0.00 (over 60 seeds,
    # benchmarks/validity_recip_nulls60.csv: 0-5 % everywhere); power at 150 lock-in 0.85,
    # slow escalation 0.85, episodes 0.95, delay only 0.90, between units 1.00; at 600 1.00,
    # between units 0.45 (docs/methods/spirals-record.md §5). recip10 (a third, sparse statistic,
    # benchmarks/validity_recip10_power.csv): between units at 600 0.75 (not met), at 150
    # slow escalation 0.80, episodes 0.90, delay only 0.85, the rest unchanged; over 60
    # organisations (+ benchmarks/validity_recip60_power.csv) between units at 600 0.82.
    # recip10: the quick slice's second base organisation (seed 150001) is at p = 0.05 in
    # its baseline and common-cause versions (one pair of 29 turn terms above 98 of 99
    # draws of either null: the sparse statistic's chance finding); over 60 organisations
    # (benchmarks/validity_recip10_nulls60.csv) both rows are 0.03 (2 of 60), within bound
    pytest.param("reciprocity", "baseline", "orgs p <= 0.05",
                 marks=_x("0.50, 1 of 2", S18)),
    ("reciprocity", "chronic_conflict", "orgs p <= 0.05"),
    pytest.param("reciprocity", "common_cause", "orgs p <= 0.05",
                 marks=_x("0.50, 1 of 2", S18)),
    ("reciprocity", "joint_bad_periods", "orgs p <= 0.05"),
    ("reciprocity", "org_slowdown", "orgs p <= 0.05"),
    ("reciprocity", "overload_episodes", "orgs p <= 0.05"),
    ("reciprocity", "shock_season", "orgs p <= 0.05"),
    ("reciprocity", "unit_bad_month", "orgs p <= 0.05"),
    ("reciprocity", "episodic", "orgs p <= 0.05 (power)"),
    ("reciprocity", "lock_in", "orgs p <= 0.05 (power)"),
    ("reciprocity", "slow_escalation", "orgs p <= 0.05 (power)"),
    ("reciprocity", "delay_only", "orgs p <= 0.05 (power)"),
    ("reciprocity", "between_units", "orgs p <= 0.05 (power)"),
    # #22 bounced tickets: icnet.pingpong on the log at team level (20 seeds x 150/600
    # people: recall 1.00 [0.91, 1.00] and [1.00, 1.00]; 0/20 null orgs with a false pair)
    ("pingpong", "tickets_pingpong", "recall"),
    ("pingpong", "tickets_null", "orgs with false"),
]


@pytest.mark.parametrize("detector,scenario,metric", BOUNDS)
def test_bound(board, detector, scenario, metric):
    row = board[(board.detector == detector) & (board.scenario == scenario) &
                (board.metric == metric)]
    assert len(row) == 1, board[(board.detector == detector) &
                                (board.scenario == scenario)][["metric", "passed"]]
    r = row.iloc[0]
    assert r.passed == "yes", f"{detector} on {scenario}: {metric} = {r.value:.3f} " \
                              f"[{r.low:.2f}, {r.high:.2f}], bound {r.bound}"


def test_every_bound_row_is_listed(board):
    """A new bounded row (a new scenario or metric) must be added to BOUNDS."""
    listed = {tuple(p.values) if hasattr(p, "values") else p for p in BOUNDS}
    rows = board[board.bound != ""]
    missing = [k for k in zip(rows.detector, rows.scenario, rows.metric) if k not in listed]
    # rows with no finding to judge (precision/initiator of nothing found) are n/a
    missing = [k for k in missing if np.isfinite(
        rows[(rows.detector == k[0]) & (rows.scenario == k[1]) & (rows.metric == k[2])]
        ["value"].iloc[0])]
    assert len(missing) <= 10, missing
