"""actions: every rule triggers on a case that has the finding and not on one that lacks it;
what_if scenarios."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.actions import RULES
from icnet.errors import ParameterError

UNITS = ("A", "B", "C")


def _org(*, low=None, late=None, idle=None, decline=None, harsh=None, uncovered=(),
         overdue=(), n=6, seed=0):
    """Three units of ``n`` people; everybody serves everybody in the other units once a
    quarter (Q1 and Q2 2025), rated about 4 on 1..5, delivered in ~10 h of 24 agreed.
    Each keyword plants one deficiency in one unit (or agreement)."""
    rng = np.random.default_rng(seed)
    people = [(f"{u}{i}", u) for u in UNITS for i in range(n)]
    rows = []
    for q, q0 in enumerate((pd.Timestamp("2025-01-06"), pd.Timestamp("2025-04-07"))):
        for p, pu in people:
            if idle == pu and p != f"{pu}0":
                continue
            for c, cu in people:
                if cu == pu:
                    continue
                s = 4.0 + rng.normal(0, 0.4)
                if low == pu:
                    s = 1.5 + rng.normal(0, 0.4)
                if decline == pu and q == 1:
                    s = 2.0 + rng.normal(0, 0.4)
                if harsh == cu:
                    s -= 2.0
                d = 10.0 + rng.exponential(2)
                if late == pu and rng.random() < 0.7:
                    d = 48.0 + rng.exponential(5)
                t = q0 + pd.Timedelta(hours=float(rng.uniform(0, 24 * 80)))
                rows.append((p, c, t, d, float(np.clip(round(s), 1, 5)), "document"))
    # one dense pair, so the spiral test has a pair to test (independent bad turns)
    for k in range(24):
        a, b = ("A0", "B0") if k % 2 == 0 else ("B0", "A0")
        t = pd.Timestamp("2025-01-08") + pd.Timedelta(days=7 * k)
        bad = k in (3, 6, 11, 13, 16, 21)
        rows.append((a, b, t, 80.0 if bad else 10.0, 1.0 if bad else 4.0, "document"))
    ev = pd.DataFrame(rows, columns=["provider", "client", "requested_at", "delay_hours",
                                     "satisfaction", "service"])
    ev.loc[len(ev)] = ("A0", "B0", pd.Timestamp("2025-06-30 12:00"), 1.0, 4.0, "document")
    pe = pd.DataFrame(people, columns=["person", "unit"])
    ag = [(a, b, 24.0, "90D", "2025-05-01" if (a, b) not in overdue else "2024-06-01")
          for a in UNITS for b in UNITS if a != b and (a, b) not in uncovered]
    ag = pd.DataFrame(ag, columns=["provider", "client", "max_delay_hours", "review_every",
                                   "last_review"])
    return icnet.from_events(ev, people=pe, agreements=ag)


_CACHE = {}


def _lock_in():
    from icnet.validity.scenarios import SCENARIOS
    return SCENARIOS["lock_in"].build(150, 150000)


def _planted_unit_pairs():
    """The lock-in case's planted spirals, named as ``actions`` names them (unit ⇄ unit,
    either order)."""
    sc = _lock_in()
    unit = sc.people.set_index("person")["unit"]
    t = sc.truth["spirals"]
    return {f"{unit[a]} ⇄ {unit[b]}" for a, b in zip(t["a"], t["b"])} | \
        {f"{unit[b]} ⇄ {unit[a]}" for a, b in zip(t["a"], t["b"])}


def _actions(case):
    if case not in _CACHE:
        if case == "planta":
            _CACHE[case] = icnet.actions(icnet.datasets.load("planta"))
        elif case == "clean":
            _CACHE[case] = icnet.actions(
                synth.organisation(n_people=150, seed=2, plant="none").network())
        elif case == "lock_in":     # the validity suite's lock-in spirals (turns shown)
            _CACHE[case] = icnet.actions(_lock_in().network())
        elif case == "toy":
            _CACHE[case] = icnet.actions(icnet.datasets.toy())
        else:
            _CACHE[case] = icnet.actions(_org(**dict([case])))
    return _CACHE[case]


# rule → (a case that must trigger it, the target it must name, cases that must not)
CASES = {
    "bottleneck": ("planta", "Informatica", ["clean", ("low", None)]),
    # the target is one of the scenario's planted pairs (which of its three is found
    # depends on the detector; the scoreboard measures how many)
    "spiral": ("lock_in", _planted_unit_pairs, ["planta", "clean", ("low", None)]),
    # planta's planted spiral: four-day turns, no turns shown (docs/methods/spirals-record.md §4)
    "joint_shift": ("planta", "Produccion ⇄ Calidad", ["clean", ("low", None)]),
    "chronic_conflict": ("planta", "Compras ⇄ Logistica", ["clean", ("low", None)]),
    "conflict_cycle": ("toy", "Calidad → Produccion", ["clean", ("low", None)]),
    "low_served_quality": (("low", "A"), "A", [("low", None), ("decline", "A")]),
    "late": (("late", "A"), "A", [("low", None)]),
    "no_agreement": (("uncovered", (("A", "B"),)), "A", [("low", None)]),
    "overdue_review": (("overdue", (("A", "B"),)), "A → B", [("low", None), "clean"]),
    "idle_members": (("idle", "A"), "A", [("low", None)]),
    "declining": (("decline", "A"), "A", [("low", None), ("low", "A")]),
    "harsh_rater": (("harsh", "C"), "C", [("low", None), ("low", "A")]),
}


def test_every_rule_has_cases():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_triggers_on_its_case(rule):
    case, target, _ = CASES[rule]
    a = _actions(case)
    hit = a[a["rule"] == rule]
    assert len(hit), (rule, case)
    if callable(target):        # a set of acceptable targets: every hit is one of them
        assert set(hit["target"]) <= target(), (rule, set(hit["target"]))
    else:
        assert target in set(hit["target"])
    owner, prio = RULES[rule]
    assert (hit["owner_role"] == owner).all() and (hit["priority"] == prio).all()
    assert hit["evidence"].str.len().gt(0).all() and hit["reason"].str.len().gt(0).all()


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_silent_without_its_finding(rule):
    for case in CASES[rule][2]:
        assert rule not in set(_actions(case)["rule"]), (rule, case)


@pytest.mark.xfail(strict=True, reason="#18: 2 of the 3 lock-in spirals planted at seed "
                   "150000 show no turns to the turn test (p_turn 0.07 and 0.35) and are "
                   "called joint_shift; lock-in recall is 0.73 at 150 people on the scoreboard")
def test_lock_in_spirals_are_not_called_joint_shifts():
    assert "joint_shift" not in set(_actions("lock_in")["rule"])


def test_planted_cases_trigger_only_their_rule():
    """Each planted deficiency of the small organisation produces its rule(s) and nothing
    unrelated (a late unit may also be a bottleneck: it is slow and depended upon)."""
    assert _actions(("low", None)).empty
    for kw, allowed in [(("low", "A"), {"low_served_quality"}),
                        (("idle", "A"), {"idle_members"}),
                        (("decline", "A"), {"declining"}),
                        (("harsh", "C"), {"harsh_rater"}),
                        (("late", "A"), {"late", "bottleneck"}),
                        (("uncovered", (("A", "B"),)), {"no_agreement"}),
                        (("overdue", (("A", "B"),)), {"overdue_review"})]:
        assert set(_actions(kw)["rule"]) <= allowed, kw


def test_action_texts():
    row = _actions("lock_in").query("rule == 'spiral'").iloc[0]
    assert row["owner_role"] == "HR"
    assert "mediation" in row["action"] and "reset agreement" in row["action"]
    a = _actions("planta")
    row = a[a.rule == "joint_shift"].iloc[0]
    assert row["owner_role"] == "area head" and "since 2025-05-01" in row["evidence"]
    assert "Produccion and Calidad" in row["action"] and "what changed" in row["action"]
    assert "retaliation only" in row["action"] and "no turns" in row["action"]
    row = a[a.rule == "bottleneck"].iloc[0]
    assert "root cause" in row["action"] and "capacity" in row["action"]
    row = _actions(("uncovered", (("A", "B"),))).iloc[0]
    assert "agree" in row["action"] and "with B" in row["action"] and "90 days" in row["action"]
    row = _actions(("overdue", (("A", "B"),))).iloc[0]
    assert "Schedule the review" in row["action"] and "days" in row["evidence"]
    row = _actions(("idle", "A")).iloc[0]
    assert "5 of 6 members" in row["evidence"] and "role" in row["action"]


def test_order_and_privacy_by_default():
    a = _actions("planta")
    assert list(a.columns) == ["priority", "owner_role", "target", "action", "reason",
                               "evidence", "rule"]
    key = list(zip(a["priority"], a["target"], a["rule"]))
    assert key == sorted(key)
    assert set(a["owner_role"]) <= {"area head", "collaborator", "HR", "leadership"}
    assert not a["target"].str.contains(r"P\d{4}").any()        # no person named by default
    assert not a["evidence"].str.contains("coupling|bad services|initiator").any()
    assert a.attrs["params"]["individuals"] is False


def test_individuals_name_people():
    a = icnet.actions(icnet.datasets.load("planta"), individuals=True)
    sp = a[a.rule == "joint_shift"]
    assert sp["target"].str.contains("P0009").any()
    assert sp["evidence"].str.contains("turn test p = ").all()


def test_person_level_scorecard_rules():
    a = icnet.actions(_org(low="A"), level="person", individuals=True)
    low = a[a.rule == "low_served_quality"]
    assert set(low["target"]) == {f"A{i} (A)" for i in range(6)}


def test_every_rule_has_an_owner():
    assert {o for o, _ in RULES.values()} == {"area head", "HR", "leadership", "collaborator"}


@pytest.mark.parametrize("kwargs, match", [
    (dict(level="person"), "individuals=True"),
    (dict(level="division"), "'level' parameter must be one of"),
    (dict(min_group_size=0), "'min_group_size' parameter must be"),
])
def test_actions_errors(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        icnet.actions(icnet.datasets.toy(), **kwargs)


# ---- what_if -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planta():
    return icnet.datasets.load("planta")


def test_what_if_meet_agreement(planta):
    w = icnet.what_if(planta, meet_agreement="Informatica")
    assert list(w.columns) == ["node", "dependence_before", "dependence_after", "score_before",
                               "score_after", "bottleneck_before", "bottleneck_after",
                               "lost_only_provider"]
    assert w.attrs["lead_time_after"] <= w.attrs["lead_time_before"]
    info = w.set_index("node").loc["Informatica"]
    assert info["bottleneck_before"] and info["score_after"] < info["score_before"]
    assert w["dependence_after"].sum() == pytest.approx(1)
    assert not w["lost_only_provider"].any()


def test_what_if_remove(planta):
    r = icnet.what_if(planta, remove="Mantenimiento")
    lost = r.attrs["lost_only_provider"]
    assert set(lost["service"]) == {"maintenance"} and "Produccion" in set(lost["client"])
    assert set(lost["provider"]) == {"Mantenimiento"}
    assert set(r.loc[r["lost_only_provider"], "node"]) == set(lost["client"])
    assert np.isnan(r.set_index("node").loc["Mantenimiento", "score_after"])


def test_what_if_remove_by_hand():
    # c1 gets "it" only from x1 (unit X) and "doc" from y1 and x2: removing X takes c1's
    # only IT provider, not its documents; removing y1 takes only x1's documents.
    ev = pd.DataFrame({"provider": ["x1", "x1", "x2", "y1", "y1"],
                       "client": ["c1", "c1", "c1", "c1", "x1"],
                       "service": ["it", "it", "doc", "doc", "doc"],
                       "requested_at": pd.to_datetime(["2025-01-01", "2025-01-02",
                                                       "2025-01-03", "2025-01-04",
                                                       "2025-01-05"]),
                       "delay_hours": [5.0, 7.0, 2.0, 3.0, 1.0]})
    people = pd.DataFrame({"person": ["x1", "x2", "y1", "c1"], "unit": ["X", "X", "Y", "C"],
                           "external_facing": [False, False, False, True]})
    net = icnet.from_events(ev, people=people)
    lost = icnet.what_if(net, remove="X").attrs["lost_only_provider"]
    assert lost.values.tolist() == [["C", "it", "X"]]
    lost_p = icnet.what_if(net, remove="X", level="person").attrs["lost_only_provider"]
    assert lost_p.values.tolist() == [["c1", "it", "x1"]]
    lost_y = icnet.what_if(net, remove="y1", level="person").attrs["lost_only_provider"]
    assert lost_y.values.tolist() == [["x1", "doc", "y1"]]      # c1 still has x2 for documents


def test_what_if_does_not_mutate(planta):
    before = planta.events.copy()
    icnet.what_if(planta, meet_agreement="Informatica", remove="Mantenimiento")
    pd.testing.assert_frame_equal(planta.events, before)


@pytest.mark.parametrize("kwargs, match", [
    ({}, "needs a scenario"),
    (dict(remove="Marte"), "neither nodes nor units"),
    (dict(remove="Informatica", level="division"), "'level' parameter must be one of"),
])
def test_what_if_errors(planta, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        icnet.what_if(planta, **kwargs)


def test_what_if_needs_agreed_delays():
    net = icnet.from_events({"provider": ["a", "b"], "client": ["b", "a"],
                             "requested_at": ["2025-01-01", "2025-01-02"],
                             "delay_hours": [3.0, 4.0]})
    with pytest.raises(ParameterError, match="meet_agreement needs agreed delays"):
        icnet.what_if(net, meet_agreement="a", level="person")


def test_what_if_needs_events():
    net = icnet.ServiceNetwork.from_edges(pd.DataFrame({"provider": ["a"], "client": ["b"]}))
    with pytest.raises(ParameterError, match="needs the individual service events"):
        icnet.what_if(net, remove="a")


def test_spiral_evidence_gives_the_initiators_probability_when_asked():
    # init15 (#18): who moved first is right 0.87 of the time at initiator_p >= 0.8 and
    # 0.64 below, so the evidence for HR carries the probability, not a bare name
    a = icnet.actions(_lock_in().network(), individuals=True)
    ev = a.query("rule == 'spiral'")["evidence"]
    assert len(ev)
    assert ev.str.contains(r"initiator [A-Z]\d{4} \(probability 0\.\d\d\)").all(), ev.tolist()


def test_spiral_evidence_without_an_initiator_names_nobody():
    # a coupling-test spiral without an escalation chain has no initiator: the evidence
    # leaves it out rather than printing "initiator None"
    from icnet.analysis.health import findings
    net = _lock_in().network()
    f = findings(net)
    sp = f["spirals"].copy()
    sp.loc[sp["kind"] == "spiral", ["initiator", "initiator_p"]] = [None, np.nan]
    f["spirals"] = sp
    ev = icnet.actions(net, individuals=True, _found=f).query("rule == 'spiral'")["evidence"]
    assert len(ev) and not ev.str.contains("initiator").any(), ev.tolist()
