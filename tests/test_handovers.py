"""Hand-over pathologies (issue #22 point 3): ping-pong, reassignments, escalations,
holding times, actions, and the bounced-tickets validity scenario."""
import os

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet.analysis import handovers as h
from icnet.worktime import WorkCalendar

BPIC = os.path.join(os.path.dirname(__file__), "..", "data", "samples", "bpic2013",
                    "bpic2013_incidents.xes.gz")


def _independent_bounces(log, case, team, timestamp):
    """Plain-Python count of A→B→A triples per ordered pair (the reference)."""
    df = log[[case, team, timestamp]].copy()
    df["_row"] = np.arange(len(df))
    df = df.sort_values([case, timestamp, "_row"])
    counts, cases = {}, {}
    for k, grp in df.groupby(case, sort=False):
        seq = []
        for t in grp[team]:
            if not seq or seq[-1] != t:
                seq.append(t)
        for x, y, z in zip(seq, seq[1:], seq[2:]):
            if x == z:
                counts[(x, y)] = counts.get((x, y), 0) + 1
                cases.setdefault((x, y), set()).add(k)
    return counts, {p: len(c) for p, c in cases.items()}


def test_visits_collapse_runs_and_measure_holding_time():
    log = pd.DataFrame({"case": ["c1"] * 5 + ["c2"], "group": ["A", "A", "B", "A", "A", "C"],
                        "timestamp": pd.to_datetime(
                            ["2024-03-01 16:00", "2024-03-01 16:30", "2024-03-04 10:00",
                             "2024-03-04 11:00", "2024-03-04 12:00", "2024-03-05 09:00"],
                            utc=True)})
    v = h.visits(log)
    assert v["team"].tolist() == ["A", "B", "A", "C"]
    assert v["n_rows"].tolist() == [2, 1, 2, 1]
    assert v["hours"].tolist() == [66.0, 1.0, 1.0, 0.0]
    w = h.visits(log, calendar=WorkCalendar())
    assert w["hours"].tolist()[:2] == [2.0, 1.0] and w.attrs["hours_basis"] == "working"
    with pytest.raises(icnet.SchemaError, match="org:group"):
        h.visits(log.rename(columns={"group": "team"}))


def test_rows_without_team_or_time_are_counted_not_guessed():
    log = pd.DataFrame({"case": [1, 1, 1], "group": ["A", None, "B"],
                        "timestamp": ["2024-01-01 09:00", "2024-01-01 10:00", None]})
    v = h.visits(log)
    assert v["team"].tolist() == ["A"]
    assert v.attrs["dropped"] == {"missing_time": 1, "missing_team": 1}


def test_pingpong_counts_match_an_independent_count_on_generated_logs():
    log = h.simulate_tickets(n_cases=400, n_teams=6, pingpong=[("T0", "T1")], seed=4)
    pp = h.pingpong(log)
    want, want_cases = _independent_bounces(log, "case", "group", "timestamp")
    got = {(a, b): n for a, b, n in pp[["team_a", "team_b", "bounces"]].itertuples(index=False)}
    assert got == want
    assert {(a, b): n for a, b, n in pp[["team_a", "team_b", "cases"]].itertuples(
        index=False)} == want_cases
    assert pp.attrs["used"]["satisfaction"] is None


def test_pingpong_test_is_the_hypergeometric_of_the_2x2_table():
    from scipy.stats import fisher_exact

    log = h.simulate_tickets(n_cases=300, n_teams=5, pingpong=[("T0", "T1"), ("T2", "T1")],
                             seed=2)
    v = h.visits(log)
    pp = h.pingpong(v)
    r = pp.iloc[0]
    assert r.team_b == "T1"
    mid = v[v["prev_team"].notna() & v["next_team"].notna() & (v["team"] == r.team_b)]
    came = mid["prev_team"] == r.team_a
    went = mid["next_team"] == r.team_a
    own = mid["next_team"] == mid["prev_team"]          # returned to its own sender
    table = [[int((came & went).sum()), int((came & ~went).sum())],
             [int((~came & went).sum()), int((~came & ~went & ~own).sum())]]
    assert table[0][0] == r.bounces
    assert fisher_exact(table, alternative="greater")[1] == pytest.approx(r.p_value, rel=1e-9)


def test_bounced_tickets_scenario_recall_and_null():
    """Validity (#22 acceptance): planted pairs found (recall >= 0.9); a null organisation
    (first-order Markov routing, nothing planted) shows a pair in <= 5 % of organisations."""
    found = planted = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        a, b, c, d = rng.choice(10, 4, replace=False)
        pairs = [(f"T{a}", f"T{b}"), (f"T{c}", f"T{d}")]
        log = h.simulate_tickets(n_cases=1500, n_teams=12, pingpong=pairs, bounce=0.4,
                                 seed=seed)
        truth = set(log.attrs["truth"]["pingpong"])
        pp = h.pingpong(log)
        hits = set(zip(pp.loc[pp["flagged"], "team_a"], pp.loc[pp["flagged"], "team_b"]))
        found += len(truth & hits)
        planted += len(truth)
    assert found / planted >= 0.9, (found, planted)
    false_orgs = 0
    n_null = 40
    for seed in range(n_null):
        log = h.simulate_tickets(n_cases=1500, n_teams=12, seed=1000 + seed)
        false_orgs += bool(h.pingpong(log)["flagged"].any())
    assert false_orgs / n_null <= 0.05, false_orgs


def test_reassignments_and_escalations_by_line():
    log = pd.DataFrame({
        "case": [1, 1, 1, 2, 2, 3, 4, 4],
        "group": ["A", "X 2nd", "A", "A", "Y 3rd", "B", "B", "X 2nd"],
        "timestamp": pd.date_range("2024-01-01", periods=8, freq="h", tz="UTC")})
    r = h.reassignments(log)
    assert r["handovers"].tolist() == [2, 1, 0, 1]
    assert r["bounces"].tolist() == [1, 0, 0, 0]
    assert r["max_line"].tolist() == [2, 3, 1, 2]
    assert r["first_line_only"].tolist() == [False, False, True, False]
    by_line = h.escalations(log, by="line")
    assert by_line.set_index(["from_line", "to_line"])["handovers"].to_dict() == {
        (1, 2): 2, (1, 3): 1, (2, 1): 1}
    t = h.escalations(log).set_index("team")
    assert t.loc["A", "up"] == 2 and t.loc["X 2nd", "down"] == 1
    assert h.escalations(log).attrs["first_line_only"] == 0.25
    custom = h.escalations(log, line={"A": 1, "B": 2, "X 2nd": 3, "Y 3rd": 3}, by="line")
    assert set(custom["to_line"]) == {3, 1}
    with pytest.raises(icnet.ParameterError, match="no support line"):
        h.escalations(log, line={"A": 1})


def test_escalation_test_finds_a_team_that_pushes_up():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(400):
        first = "F0" if i < 200 else f"F{1 + i % 3}"
        p_up = 0.8 if first == "F0" else 0.2
        rows.append((i, first, 0))
        rows.append((i, "S 2nd" if rng.random() < p_up else "F9", 1))
    log = pd.DataFrame(rows, columns=["case", "group", "k"])
    log["timestamp"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(log["k"], "h")
    es = h.escalations(log)
    flagged_up = es[es["flagged"] & (es["direction"] == "pushes up")]["team"].tolist()
    assert flagged_up == ["F0"]


def test_holding_times_flag_planted_slow_teams_in_working_hours():
    log = h.simulate_tickets(n_cases=1500, n_teams=10, slow=["T2", "T5"], seed=3)
    ht = h.holding_times(log, calendar=WorkCalendar(hours={d: [("00:00", "24:00")] for d in
                                                         ["mon", "tue", "wed", "thu", "fri",
                                                          "sat", "sun"]}))
    assert set(ht.loc[ht["slow"], "team"]) == {"T2", "T5"}
    plain = h.holding_times(log)
    np.testing.assert_allclose(ht["median_hours"].to_numpy(),
                               plain["median_hours"].to_numpy(), atol=1 / 3600)  # to the second
    assert ht["hours_basis"].iloc[0] == "working"


def test_handover_actions_name_pairs_and_teams_without_ratings():
    log = h.simulate_tickets(n_cases=1000, n_teams=8, pingpong=[("T0", "T1")], slow=["T3"],
                             seed=1)
    a = h.handover_actions(log)
    assert list(a.columns) == ["priority", "owner_role", "target", "action", "reason",
                               "evidence", "rule"]
    assert "T0 ⇄ T1" in a.loc[a["rule"] == "pingpong", "target"].tolist()
    assert "T3" in a.loc[a["rule"] == "slow_team", "target"].tolist()
    assert a.attrs["used"]["satisfaction"] is None


def test_simulate_is_deterministic_for_a_seed():
    a = h.simulate_tickets(n_cases=200, n_teams=6, pingpong=[("T0", "T1")], seed=7)
    b = h.simulate_tickets(n_cases=200, n_teams=6, pingpong=[("T0", "T1")], seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(h.simulate_tickets(n_cases=200, n_teams=6, seed=8))


def test_top_level_exports():
    assert icnet.pingpong is h.pingpong and icnet.holding_times is h.holding_times


@pytest.mark.skipif(not os.path.isfile(BPIC), reason="BPIC 2013 sample not present")
def test_bpic2013_pingpong_pairs_reproduced_by_independent_count():
    log = icnet.datasets.load("bpic2013", as_tables=True)["incidents"]
    pp = h.pingpong(log, team="org:group", timestamp="time:timestamp")
    want, want_cases = _independent_bounces(log, "case", "org:group", "time:timestamp")
    top = pp[pp["flagged"]].head(10)
    assert len(top) == 10
    for a, b, n, c in top[["team_a", "team_b", "bounces", "cases"]].itertuples(index=False):
        assert want[(a, b)] == n and want_cases[(a, b)] == c
    assert sum(want.values()) == int(pp["bounces"].sum())


def test_vectorised_two_sided_fisher_equals_scipy():
    from scipy.stats import fisher_exact

    rng = np.random.default_rng(0)
    t = rng.integers(0, 25, (60, 4))
    M, n, N = t.sum(1), t[:, 0] + t[:, 2], t[:, 0] + t[:, 1]
    got = h._fisher_two_sided(t[:, 0], M, n, N)
    want = [fisher_exact([[a, b], [c, d]])[1] for a, b, c, d in t]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_logs_without_hand_overs_give_empty_results_not_errors():
    one = pd.DataFrame({"case": [1, 1], "group": ["A", "A"],
                        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)})
    for log in (one, one.iloc[:0]):
        assert len(h.pingpong(log)) == 0 and len(h.handover_actions(log)) == 0
        assert len(h.escalations(log)) == 0 and len(h.holding_times(log)) == 0
    assert h.reassignments(one)["handovers"].tolist() == [0]


def test_bh_is_scipys_false_discovery_control_and_equals_the_step_up_formula():
    """#22 point 4: one Benjamini–Hochberg (scipy's), identical to the textbook step-up."""
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(3)
    p = np.r_[rng.uniform(size=200) ** 3, [0.0, 1.0, 0.05, 0.05]]
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    step_up = np.empty(m)
    step_up[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    np.testing.assert_allclose(h._bh(p), step_up, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(h._bh(p), false_discovery_control(p, method="bh"))
    with_nan = h._bh(np.r_[p[:5], np.nan])
    assert np.isnan(with_nan[-1])
    np.testing.assert_array_equal(with_nan[:5], false_discovery_control(p[:5]))
    assert len(h._bh(np.array([]))) == 0


def _lines_log(p_back, seed):
    """1st-line teams F0..F3 send cases to 'S 2nd', which hands each on either back down to
    a 1st-line team or to 'X 2nd'; cases that came from 'X 3rd' are passed on alike."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(600):
        src = "X 3rd" if i % 3 == 0 else f"F{i % 4}"
        back = rng.random() < (p_back if src != "X 3rd" else 0.3)
        nxt = f"F{rng.integers(4)}" if back else "X 2nd"
        rows += [(i, src, 0), (i, "S 2nd", 1), (i, nxt, 2)]
    log = pd.DataFrame(rows, columns=["case", "group", "k"])
    log["timestamp"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(log["k"], "h")
    return log


def test_escalation_back_down_test_keeps_the_service_graph():
    """#22 point 3: 'S 2nd' returns to the 1st line what the 1st line sent up more often
    than what came from the 3rd line; its in/out hand-overs (the graph) are the null's."""
    es = h.escalations(_lines_log(0.7, 0)).set_index("team")
    s = es.loc["S 2nd"]
    assert bool(s["pushes_back"]) and s["sent_back_down"] > s["sent_back_expected"]
    v = h.visits(_lines_log(0.7, 0))
    mid = v[(v.team == "S 2nd") & v.prev_team.notna() & v.next_team.notna()]
    came = ~mid.prev_team.str.endswith("3rd")
    went = ~mid.next_team.str.endswith(("2nd", "3rd"))
    assert s["sent_back_down"] == int((came & went).sum())
    from scipy.stats import fisher_exact
    table = [[int((came & went).sum()), int((came & ~went).sum())],
             [int((~came & went).sum()), int((~came & ~went).sum())]]
    assert fisher_exact(table, alternative="greater")[1] == pytest.approx(s["back_p_value"])
    # same routing whatever the source: the null; nobody pushes back
    nulls = [bool(h.escalations(_lines_log(0.3, k))["pushes_back"].any()) for k in range(20)]
    assert sum(nulls) <= 2


@pytest.mark.skipif(not os.path.isfile(BPIC), reason="BPIC 2013 sample not present")
def test_notebook_05_pairs_and_counts_are_reproduced_by_an_independent_count():
    """#22 acceptance: the ping-pong pairs the committed notebook 05 names, with their
    bounce and case counts, equal a plain-Python count on the log (no icnet code)."""
    import re

    import nbformat

    nb = nbformat.read(os.path.join(os.path.dirname(__file__), "..", "notebooks",
                                    "05_bpic2013.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code"
                and c.source.startswith("pp = icnet.pingpong(v)"))
    text = next(o["data"]["text/plain"] for o in cell.outputs
                if o.output_type == "execute_result")
    team = r"[^\s⇄]+(?: (?:2nd|3rd))?"
    rows = re.findall(rf"^\s*\d+\s+({team})⇄({team})\s+(\d+)\s+(\d+)\s", text, flags=re.M)
    assert len(rows) >= 5, text
    log = icnet.datasets.load("bpic2013", as_tables=True)["incidents"]
    want, want_cases = _independent_bounces(log, "case", "org:group", "time:timestamp")
    for a, b, n, c in rows:
        assert (want[(a, b)], want_cases[(a, b)]) == (int(n), int(c)), (a, b)
