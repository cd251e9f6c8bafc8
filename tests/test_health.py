"""health scorecards and privacy of person-level output."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.errors import ParameterError


@pytest.fixture(scope="module")
def planta():
    return icnet.datasets.load("planta")


def test_unit_scorecard_tells_the_planta_story(planta):
    h = icnet.health(planta).set_index("unit")
    assert len(h) == 10 and h["score"].between(0, 100).all()
    assert h.loc["Informatica", "in_bottleneck"] and "bottleneck" in h.loc["Informatica", "flags"]
    assert "spiral" in h.loc["Produccion", "flags"] and "spiral" in h.loc["Calidad", "flags"]
    assert "chronic_conflict" in h.loc["Compras", "flags"]
    assert h.loc["Produccion", "overdue_reviews"] == 1
    for u, row in h.iterrows():
        assert len(row["flags"].split("; ")) == len(row["flag_evidence"].split("; ")) or \
            row["flags"] == ""
    assert list(icnet.health(planta)["score"]) == sorted(icnet.health(planta)["score"])


def test_idle_members_and_leniency_by_hand():
    ev = pd.DataFrame({"provider": ["a1"] * 6 + ["b1"] * 6,
                       "client": ["b1", "b2", "b3", "b4", "b5", "b6"] * 2,
                       "satisfaction": [4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2]})
    ev.loc[6:, "client"] = ["a1", "a2", "a3", "a4", "a5", "a6"]
    people = pd.DataFrame({"person": [f"a{i}" for i in range(1, 7)] + [f"b{i}" for i in range(1, 7)],
                           "unit": ["A"] * 6 + ["B"] * 6})
    net = icnet.from_events(ev, people=people)
    h = icnet.health(net).set_index("unit")
    assert h.loc["A", "idle_members"] == 5 and h.loc["B", "idle_members"] == 5
    assert "idle_members" in h.loc["A", "flags"]
    assert h.loc["A", "n_raters"] == 6 and h.loc["A", "served_quality"] > h.loc["B", "served_quality"]


def test_small_groups_are_suppressed():
    ev = pd.DataFrame({"provider": ["a1"] * 8, "client": ["b1", "b2", "b3", "b4"] * 2,
                       "satisfaction": [1, 1, 2, 1, 1, 2, 1, 1]})
    people = pd.DataFrame({"person": ["a1", "b1", "b2", "b3", "b4"],
                           "unit": ["A", "B", "B", "B", "B"]})
    h = icnet.health(icnet.from_events(ev, people=people)).set_index("unit")
    assert h.loc["A", "n_raters"] == 4
    assert np.isnan(h.loc["A", "served_quality"])           # 4 raters: never revealed
    h3 = icnet.health(icnet.from_events(ev, people=people), min_group_size=4).set_index("unit")
    assert h3.loc["A", "served_quality"] < 3


def test_person_level_only_when_asked(planta):
    with pytest.raises(ParameterError, match="individuals=True"):
        icnet.health(planta, level="person")
    hp = icnet.health(planta, level="person", individuals=True)
    assert {"person", "unit"} <= set(hp.columns) and len(hp) == 150


def test_needs_people():
    with pytest.raises(ParameterError, match="people table"):
        icnet.health(icnet.from_events({"provider": ["a"], "client": ["b"]}))


def test_trend_ignores_an_organisation_wide_shift():
    org = synth.organisation(n_people=80, days=365, seed=4, plant="none")
    h = icnet.health(org.network())
    assert h["trend"].abs().max() < 0.6
    assert not h["flags"].str.contains("declining").any()
