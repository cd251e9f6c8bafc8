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
