"""Hand-over findings feed the rest of icnet (issue #22 point 3): a network built from a
process log carries its log; its ping-pong pairs are conflict relations, its slow teams
bottlenecks (holding time in working hours), and health, actions and the report name them
without a single rating."""
import re

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet.analysis import handovers as h
from icnet.analysis.bottlenecks import holding_bottlenecks
from icnet.analysis.conflicts import pingpong_conflicts
from icnet.analysis.health import findings, handover_health
from icnet.validity import generate
from icnet.worktime import WorkCalendar

ALL_DAY = WorkCalendar(hours={d: [("00:00", "24:00")] for d in
                              ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]})


@pytest.fixture(scope="module")
def sim():
    return h.simulate_tickets(n_cases=900, n_teams=8, pingpong=[("T0", "T1")], slow=["T3"],
                              seed=1)


@pytest.fixture(scope="module")
def net(sim):
    return icnet.from_process_log(sim, activity="status", resource="group",
                                  calendar=WorkCalendar())


def test_network_carries_its_log_and_summary_equals_the_log_functions(sim, net):
    assert list(net.process_log.columns) == ["case", "activity", "resource", "timestamp"]
    assert len(net.process_log) == len(sim) and isinstance(net.work_calendar, WorkCalendar)
    s = icnet.handover_summary(net)
    want = h.pingpong(sim, calendar=WorkCalendar())
    pd.testing.assert_frame_equal(s.pingpong.drop(columns="hours_basis"),
                                  want.drop(columns="hours_basis"))
    assert s.hours_basis == "working" and s.used["satisfaction"] is None
    assert icnet.from_events(icnet.datasets.toy().events).process_log is None
    with pytest.raises(icnet.ParameterError, match="from_process_log"):
        icnet.handover_summary(icnet.datasets.toy())


def test_unit_level_teams_are_the_resources_units():
    d = generate("tickets_pingpong", n_people=150, seed=4)
    net = d.network()
    unit = d.people.set_index("person")["unit"]
    want = h.pingpong(d.log.assign(team=d.log["resource"].map(unit)), team="team")
    for got in (icnet.handover_summary(net, level="unit").pingpong,
                icnet.handover_summary(net.by("unit")).pingpong):
        pd.testing.assert_frame_equal(got, want, check_like=True)
    with pytest.raises(icnet.ParameterError, match="people column"):
        icnet.handover_summary(net, level="floor")
    # findings() uses units (never named people) when there is a people table
    f = findings(net, n_perm=19)
    assert f["handovers"].level == "unit"
    truth = {tuple(x) for x in d.truth["pingpong"][["a", "b"]].to_numpy()}
    assert {tuple(c) for c in pingpong_conflicts(f["handovers"])["cycle"]} == truth
    acts = icnet.actions(net, _found=f)
    assert {tuple(sorted(t.split(" ⇄ "))) for t in
            acts.loc[acts["rule"] == "pingpong", "target"]} == truth


def test_pingpong_pairs_are_conflict_relations(net):
    s = icnet.handover_summary(net)
    c = pingpong_conflicts(s)
    assert c["cycle"].tolist() == [("T0", "T1")]
    r = c.iloc[0]
    flagged = s.pingpong[s.pingpong["flagged"]]
    assert r["bounces"] == flagged["bounces"].sum() and r["length"] == 2
    assert r["edges"] == (("T0", "T1"), ("T1", "T0")) and np.isnan(r["satisfaction_mean"])
    assert "working hours" in r["evidence"] and r["kind"] == "pingpong"
    from_table = pingpong_conflicts(s.pingpong)        # the pingpong table alone also works
    assert from_table[["cycle", "bounces", "hours_lost"]].equals(
        c[["cycle", "bounces", "hours_lost"]])
    empty = pingpong_conflicts(h.handover_summary(h.simulate_tickets(n_cases=300, seed=2)))
    assert len(empty) == 0 and "cycle" in empty


def test_slow_teams_are_bottlenecks_in_working_hours(sim):
    s = icnet.handover_summary(sim, calendar=ALL_DAY)
    b = holding_bottlenecks(s)
    assert b.loc[b["is_bottleneck"], "node"].tolist() == ["T3"]
    r = b.iloc[0]
    assert r["hours_basis"] == "working" and "working h per visit" in r["reason"]
    ht = h.holding_times(sim)           # wall clock = all-day calendar, to the second
    assert r["delay_median"] == pytest.approx(
        ht.set_index("team").loc["T3", "median_hours"], abs=1 / 3600)
    assert list(b["rank"]) == list(range(1, len(b) + 1))


def test_handover_health_flags_each_team(net):
    hh = handover_health(icnet.handover_summary(net)).set_index("team")
    assert "slow_holding" in hh.loc["T3", "flags"]
    assert hh.loc["T0", "pingpong_partners"] == "T1" and "pingpong" in hh.loc["T1", "flags"]
    assert hh.loc["T0", "bounces"] == hh.loc["T1", "bounces"] > 0
    assert set(hh["n_flags"]) >= {0, 1}


def test_report_of_a_log_without_ratings_names_pairs_and_slow_teams(net, tmp_path):
    p = icnet.report(net, tmp_path / "r.html", tables=True)
    html = p.read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", html[html.index("Executive summary"):])
    assert re.search(r"T0 ⇄ T1 \(\d+ bounces in \d+ cases, \d+ working hours lost\)", text)
    assert re.search(r"T3 \(median [0-9.]+ working h per visit\)", text)
    pp = pd.read_csv(tmp_path / "handover_pingpong.csv")
    assert len(pp) == 1 and {"T0", "T1"} <= set(re.findall(r"T\d", pp["cycle"].iloc[0]))
    acts = pd.read_csv(tmp_path / "actions.csv")
    assert {"pingpong", "slow_team"} <= set(acts["rule"])
    # a network from events (no log) has none of these sections
    q = icnet.report(icnet.datasets.toy(), tmp_path / "toy.html", min_group_size=1)
    assert "From the process log" not in q.read_text(encoding="utf-8")
