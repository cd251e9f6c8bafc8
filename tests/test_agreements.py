"""agreement_compliance: Kaplan–Meier breach with censoring, reviews, coverage."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet.analysis.agreements import km_breach
from icnet.errors import ParameterError


def test_km_by_hand_with_censoring():
    # delivered at 1, 3; open (censored) at 2 and 6; limit 4:
    # S(1) = 3/4; at t=3 two at risk (3, 6): S(3) = 3/4 * 1/2 = 3/8
    assert km_breach([1, 2, 3, 6], [True, False, True, False], 4) == pytest.approx(3 / 8)
    # dropping the open requests would say 0 of 2 breach: KM keeps them
    assert km_breach([1, 3], [True, True], 4) == 0.0
    assert np.isnan(km_breach([], [], 4))


def _net(as_of_open=True):
    ev = pd.DataFrame({
        "provider": ["it1"] * 4 + ["ops1"],
        "client": ["ops1"] * 4 + ["it1"],
        "requested_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03",
                                        "2025-01-10", "2025-01-10"]),
        "delay_hours": [10, 30, np.nan, np.nan, 5],
        "satisfaction": [2, 1, np.nan, np.nan, 4],
    })
    people = pd.DataFrame({"person": ["it1", "ops1"], "unit": ["IT", "Ops"]})
    ag = pd.DataFrame({"provider": ["IT"], "client": ["Ops"], "max_delay_hours": [24],
                       "min_satisfaction": [3.5], "review_every": ["30D"],
                       "last_review": ["2024-11-01"]})
    return icnet.from_events(ev, people=people, agreements=ag)


def test_compliance_row():
    c = icnet.agreement_compliance(_net(), as_of="2025-01-11")
    r = c.agreements.iloc[0]
    assert r["n_events"] == 4 and r["n_open"] == 2
    # delivered at 10 h (ok), 30 h (late); open for 192 h and 24 h (censored, >= 24 h):
    # S(24) = 3/4 (one delivery at 10 h among 4 at risk)
    assert r["breach_rate_km"] == pytest.approx(3 / 4)
    assert r["breach_rate_closed"] == 0.5
    assert r["overdue"] and r["days_overdue"] == (pd.Timestamp("2025-01-11")
                                                  - pd.Timestamp("2024-12-01")).days
    not_yet = icnet.agreement_compliance(_net(), as_of="2024-11-15").agreements.iloc[0]
    assert not not_yet["overdue"] and not_yet["days_overdue"] == 0


def test_coverage():
    c = icnet.agreement_compliance(_net()).coverage.set_index("provider")
    assert c.loc["IT", "share_clients"] == 1.0
    assert c.loc["Ops", "share_clients"] == 0.0 and c.loc["Ops", "uncovered"] == "IT"


def test_planta_finds_the_planted_gaps():
    net = icnet.datasets.load("planta")
    truth = icnet.datasets.load("planta", as_tables=True)["truth"]
    c = icnet.agreement_compliance(net)
    overdue = c.agreements[c.agreements.overdue]
    assert sorted(map(list, zip(overdue.provider, overdue.client))) == \
        sorted(truth["overdue_reviews"])
    unc = {(p, u) for p, s in zip(c.coverage.provider, c.coverage.uncovered)
           for u in s.split("; ") if u}
    assert {tuple(x) for x in truth["missing_agreements"]} <= unc


def test_needs_agreements():
    with pytest.raises(ParameterError, match="needs an agreements table"):
        icnet.agreement_compliance(icnet.from_events({"provider": ["a"], "client": ["b"]}))


def test_every_agreement_finds_its_own_events():
    # each agreement counts the events of its own relation and service (the second and
    # later agreements too: a loop variable once overwrote the lookup keys)
    net = icnet.datasets.load("planta")
    c = icnet.agreement_compliance(net).agreements
    ev = net.by("unit").events
    n = ev.groupby(["provider", "client", "service"], observed=True).size()
    expect = [int(n.get((p, cl, sv), 0)) for p, cl, sv in zip(c.provider, c.client, c.service)]
    assert len(c) > 2 and sum(x > 0 for x in expect) > 2
    assert c["n_events"].tolist() == expect


def test_small_rater_groups_are_suppressed():
    net = icnet.datasets.toy()
    c5 = icnet.agreement_compliance(net).agreements
    c1 = icnet.agreement_compliance(net, min_group_size=1).agreements
    assert (c5["n_raters"] < 5).all() and c5["suppressed"].all()
    assert c5[["satisfaction_mean", "satisfaction_shrunk", "satisfaction_high"]].isna().all().all()
    assert not c5["satisfaction_breach"].any()
    assert c1["satisfaction_mean"].notna().any() and not c1["suppressed"].any()
    with pytest.raises(icnet.errors.ParameterError, match="min_group_size"):
        icnet.agreement_compliance(net, min_group_size=0)


# ---------------------------------------------------------------- issue #19, point 5

def test_not_estimable_is_nan_with_the_reason():
    # two requests 1 h and 2 h old, agreed 24 h: nothing is known yet (was 1.0 = 100 %)
    s, lo, hi, note = km_breach([1, 2], [False, False], 24, interval=True)
    assert np.isnan(s) and np.isnan(lo) and np.isnan(hi)
    assert "no request followed up to the agreed delay" in note
    assert np.isnan(km_breach([1, 2], [False, False], 24))
    # one of them old enough: estimable again
    assert km_breach([1, 30], [False, False], 24) == 1.0


def test_compliance_reports_the_interval_and_the_note():
    ev = pd.DataFrame({"provider": ["it1", "it1"], "client": ["ops1", "ops1"],
                       "requested_at": pd.to_datetime(["2025-01-10 22:00", "2025-01-10 23:00"]),
                       "delay_hours": [np.nan, np.nan]})
    people = pd.DataFrame({"person": ["it1", "ops1"], "unit": ["IT", "Ops"]})
    ag = pd.DataFrame({"provider": ["IT"], "client": ["Ops"], "max_delay_hours": [24]})
    net = icnet.from_events(ev, people=people, agreements=ag)
    r = icnet.agreement_compliance(net, as_of="2025-01-11").agreements.iloc[0]
    assert np.isnan(r["breach_rate_km"]) and not r["breach_flag"]
    assert r["breach_note"].startswith("no request followed up")
    r = icnet.agreement_compliance(_net(), as_of="2025-01-11").agreements.iloc[0]
    assert r["breach_low"] <= r["breach_rate_km"] <= r["breach_high"]
    assert r["breach_note"] == ""


def _simulate(n, p, reps, rng, censor=0.3):
    """``reps`` agreements of ``n`` requests, P(delay > 1) = p, some censored early."""
    from icnet.analysis._survival import km_at
    g = np.repeat(np.arange(reps), n)
    T = rng.exponential(1 / -np.log(p), reps * n)
    C = np.where(rng.random(reps * n) < censor, rng.uniform(0, 3, reps * n), np.inf)
    return km_at(g, np.minimum(T, C), T <= C, 1.0, reps)


def test_interval_coverage_and_flag_error_rate():
    rng = np.random.default_rng(19)
    for n in (10, 30, 100):
        r = _simulate(n, 0.2, 2000, rng)
        ok = r["s"].notna()
        cover = ((r["low"] <= 0.2) & (r["high"] >= 0.2))[ok].mean()
        assert 0.93 <= cover <= 1.0, (n, cover)
        # true rate 0.20 < 0.30: the interval rule flags rarely (the point rule: 32 % at n=10)
        assert (r["low"] > 0.30).mean() <= 0.05
    # a real breach (true 0.6, 30 requests) is flagged most of the time
    assert (_simulate(30, 0.6, 2000, rng)["low"] > 0.30).mean() >= 0.8


def test_edge_breach_rate_is_the_km_estimate():
    net = _net()
    e = net.by("unit").edges.set_index(["provider", "client"]).loc[("IT", "Ops")]
    # delivered 10 h (on time), 30 h (late); open for 9 d and 1 d at the end of the data
    assert e["sla_breach_low"] <= e["sla_breach_rate"] <= e["sla_breach_high"]
    c = icnet.agreement_compliance(net).agreements.iloc[0]
    assert e["sla_breach_rate"] == pytest.approx(c["breach_rate_km"])
