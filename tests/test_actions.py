"""actions: every rule triggers on a case that has the finding and not on one that lacks it."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.actions import RULES
from icnet.errors import ParameterError


@pytest.fixture(scope="module")
def planta_actions():
    return icnet.actions(icnet.datasets.load("planta"))


@pytest.fixture(scope="module")
def clean_actions():
    return icnet.actions(synth.organisation(n_people=150, seed=2, plant="none").network())


@pytest.mark.parametrize("rule", ["bottleneck", "spiral", "chronic_conflict", "overdue_review",
                                  "no_agreement", "idle_members"])
def test_rule_triggers_on_planta(rule, planta_actions):
    assert rule in set(planta_actions["rule"])


@pytest.mark.parametrize("rule", ["bottleneck", "spiral", "chronic_conflict", "overdue_review",
                                  "conflict_cycle"])
def test_rule_silent_on_pattern_free_data(rule, clean_actions):
    assert rule not in set(clean_actions["rule"])


def test_planta_targets_and_owners(planta_actions):
    a = planta_actions
    row = a[a.rule == "bottleneck"].iloc[0]
    assert row["target"] == "Informatica" and row["owner_role"] == "area head"
    row = a[a.rule == "spiral"].iloc[0]
    assert row["target"] == "Produccion ⇄ Calidad" and row["owner_role"] == "HR"
    assert "mediation" in row["action"] and "reset agreement" in row["action"]
    assert a["priority"].is_monotonic_increasing
    assert not a["target"].str.contains(r"P\d{4}").any()        # no person named by default


def test_individuals_name_people():
    a = icnet.actions(icnet.datasets.load("planta"), individuals=True)
    assert a[a.rule == "spiral"]["target"].str.contains("P0009").any()


def _two_units(sat_a=4.0, with_agreement=True, idle=False, overdue=False):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        for j in range(6):
            rows += [(f"a{i}", f"b{j}", float(np.clip(round(rng.normal(sat_a, .5)), 1, 5)))] * 2
            if not (idle and j > 0):
                rows += [(f"b{j}", f"a{i}", float(np.clip(round(rng.normal(4, .5)), 1, 5)))] * 2
    ev = pd.DataFrame(rows, columns=["provider", "client", "satisfaction"])
    ev["requested_at"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(len(ev)), "h")
    people = pd.DataFrame({"person": [f"a{i}" for i in range(6)] + [f"b{j}" for j in range(6)],
                           "unit": ["A"] * 6 + ["B"] * 6})
    ag = pd.DataFrame({"provider": ["A", "B"], "client": ["B", "A"], "review_every": ["90D"] * 2,
                       "last_review": ["2024-01-01" if overdue else "2025-01-01"] * 2})
    return icnet.from_events(ev, people=people, agreements=ag if with_agreement else None)


def test_low_quality_rule():
    assert "low_served_quality" in set(icnet.actions(_two_units(sat_a=1.6))["rule"])
    assert "low_served_quality" not in set(icnet.actions(_two_units(sat_a=4.2))["rule"])


def test_agreement_rules():
    assert "overdue_review" in set(icnet.actions(_two_units(overdue=True))["rule"])
    assert "overdue_review" not in set(icnet.actions(_two_units())["rule"])
    assert "no_agreement" not in set(icnet.actions(_two_units())["rule"])


def test_idle_rule():
    assert "idle_members" in set(icnet.actions(_two_units(idle=True))["rule"])
    assert "idle_members" not in set(icnet.actions(_two_units())["rule"])


def test_conflict_cycle_rule():
    assert "conflict_cycle" in set(icnet.actions(icnet.datasets.toy())["rule"])


def test_every_rule_has_an_owner():
    assert {o for o, _ in RULES.values()} == {"area head", "HR", "leadership", "collaborator"}


def test_what_if():
    net = icnet.datasets.load("planta")
    w = icnet.what_if(net, meet_agreement="Informatica")
    assert w.attrs["lead_time_after"] <= w.attrs["lead_time_before"]
    info = w.set_index("node").loc["Informatica"]
    assert info["score_after"] <= info["score_before"]
    r = icnet.what_if(net, remove="Mantenimiento")
    lost = r.attrs["lost_only_provider"]
    assert set(lost["service"]) == {"maintenance"} and "Produccion" in set(lost["client"])
    assert np.isnan(r.set_index("node").loc["Mantenimiento", "score_after"])
    with pytest.raises(ParameterError, match="needs a scenario"):
        icnet.what_if(net)
    with pytest.raises(ParameterError, match="neither nodes nor units"):
        icnet.what_if(net, remove="Marte")
