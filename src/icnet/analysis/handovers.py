"""Hand-over pathologies in ticket and process logs: ping-pong, reassignments, escalations.

These measures read a *process log* (one row per step of a case: a ticket's
status or assignment changes, an XES event log) at the level of the team that
holds the case (``org:group``, the assignment group). They need no rating: a
log without satisfaction still yields named, tested findings, and every result
says in ``attrs["used"]`` which columns it used.

A case's rows are collapsed into **visits**: maximal runs of consecutive rows
held by the same team. A visit starts at its first row and ends when the next
team's visit starts (the last visit ends at the case's last row); its
**holding time** is that span, in working hours with a
:class:`~icnet.worktime.WorkCalendar`.

* :func:`pingpong` — per ordered team pair: A sends the case to B and B sends
  it straight back (A→B→A), with a conditional exact test against the null
  that keeps the service graph.
* :func:`reassignments` — per case: hand-overs, teams, bounces, lines reached.
* :func:`escalations` — hand-overs between support lines (1st → 2nd/3rd and
  back), per team against its line's rate.
* :func:`holding_times` — per team: how long cases wait there, against all
  other teams (rank test).
* :func:`handover_actions` — the findings as actions (same columns as
  :func:`icnet.actions`).
* :func:`handover_summary` — all of them once, from a log or from a network
  built by :func:`icnet.from_process_log`: the :class:`HandoverSummary` that
  feeds conflict cycles (:func:`icnet.analysis.conflicts.pingpong_conflicts`),
  bottlenecks (:func:`icnet.analysis.bottlenecks.holding_bottlenecks`),
  health (:func:`icnet.analysis.health.handover_health`), actions and the
  report.
* :func:`simulate_tickets` — a generated ticket log with planted ping-pong pairs
  and slow teams (tests, validity suite, benchmark).

See docs/methods/handovers.md for the formulas and references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ParameterError, SchemaError

from ._multiple import bh as _bh

__all__ = ["visits", "pingpong", "reassignments", "escalations", "holding_times",
           "handover_actions", "handover_summary", "HandoverSummary", "simulate_tickets",
           "support_line"]


def support_line(team) -> np.ndarray:
    """Support line of each team from its name: ``"... 2nd"`` → 2, ``"... 3rd"`` → 3, else 1.

    The BPI Challenge 2013 convention (Volvo IT Belgium): 2nd- and 3rd-line
    teams carry the suffix, the others are 1st line.

    Examples
    --------
    >>> support_line(["G97", "G230 2nd", "V5 3rd"]).tolist()
    [1, 2, 3]
    """
    codes, uniq = pd.factorize(pd.Series(np.asarray(team, dtype=object)).astype(str))
    n = pd.Series(uniq).str.extract(r"(\d)\s*(?:st|nd|rd|th)\b", flags=re.IGNORECASE)[0]
    per = pd.to_numeric(n, errors="coerce").fillna(1).astype("int64").to_numpy()
    return per[codes] if len(per) else np.zeros(len(codes), dtype="int64")


def visits(log, *, case: str = "case", team: str = "group", timestamp: str = "timestamp",
           calendar=None) -> pd.DataFrame:
    """Collapse a process log into visits: consecutive rows of a case held by one team.

    Parameters
    ----------
    log : DataFrame
        One row per step; ``case``, ``team`` and ``timestamp`` name its columns.
    calendar : WorkCalendar, dict of WorkCalendar (by team), or None
        Holding time in working hours (``None``: wall-clock hours).

    Returns
    -------
    DataFrame
        ``case``, ``pos`` (0, 1, … within the case), ``team``, ``start``,
        ``end`` (the next visit's start; the case's last row for the last
        visit), ``hours`` (holding time), ``prev_team``, ``next_team`` (missing
        at the ends), ``n_rows``. Sorted by case and position. Rows without a
        team or time are left out and counted in ``attrs["dropped"]`` (with
        the reason), never guessed.

    Raises
    ------
    SchemaError
        A named column is missing.

    Examples
    --------
    >>> log = pd.DataFrame({"case": [1, 1, 1, 1], "group": ["A", "A", "B", "A"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 10:00",
    ...                                  "2024-01-01 12:00", "2024-01-01 13:00"])})
    >>> visits(log)[["pos", "team", "hours", "next_team"]]
       pos team  hours next_team
    0    0    A    3.0         B
    1    1    B    1.0         A
    2    2    A    0.0       NaN
    """
    if not isinstance(log, pd.DataFrame):
        log = pd.DataFrame(log)
    missing = [c for c in (case, team, timestamp) if c not in log]
    if missing:
        raise SchemaError(
            f"process log is missing column(s) {missing}; it has {list(log.columns)[:20]}. "
            "Name them with case=, team=, timestamp= (for XES: team='org:group', "
            "timestamp='time:timestamp').")
    ts = pd.to_datetime(log[timestamp], utc=True, errors="coerce")
    tm = log[team].astype(object)
    cs = log[case].astype(object)
    bad_t, bad_g, bad_c = ts.isna().to_numpy(), tm.isna().to_numpy(), cs.isna().to_numpy()
    keep = ~(bad_t | bad_g | bad_c)
    dropped = {"missing_time": int(bad_t.sum()), "missing_team": int((bad_g & ~bad_t).sum()),
               "missing_case": int((bad_c & ~bad_t & ~bad_g).sum())}
    # naive UTC datetime64 inside (a tz-aware .to_numpy() would be an object array)
    t_utc = ts.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    df = pd.DataFrame({"case": cs.to_numpy()[keep], "team": tm.to_numpy()[keep],
                       "t": t_utc[keep], "row": np.flatnonzero(keep)})
    df = df.sort_values(["case", "t", "row"], kind="mergesort").reset_index(drop=True)
    c = df["case"].to_numpy()
    g = df["team"].to_numpy()
    new_case = np.r_[True, c[1:] != c[:-1]] if len(df) else np.zeros(0, bool)
    new_visit = new_case | np.r_[True, g[1:] != g[:-1]] if len(df) else new_case
    starts = np.flatnonzero(new_visit)
    vid = np.cumsum(new_visit) - 1
    n_rows = np.bincount(vid, minlength=len(starts))
    case_end_t = df.groupby("case", sort=False)["t"].transform("last").to_numpy()
    v = pd.DataFrame({"case": c[starts], "team": g[starts], "start": df["t"].to_numpy()[starts],
                      "n_rows": n_rows})
    vc = v["case"].to_numpy()
    same_next = np.r_[vc[1:] == vc[:-1], False] if len(v) else np.zeros(0, bool)
    same_prev = np.r_[False, vc[1:] == vc[:-1]] if len(v) else np.zeros(0, bool)
    nxt_start = np.r_[v["start"].to_numpy()[1:], np.datetime64("NaT")] if len(v) else \
        v["start"].to_numpy()
    end = np.where(same_next, nxt_start, case_end_t[starts])
    v["end"] = pd.to_datetime(end, utc=True)
    v["start"] = pd.to_datetime(v["start"], utc=True)
    teams = v["team"].to_numpy()
    v["prev_team"] = np.where(same_prev, np.r_[None, teams[:-1]] if len(v) else teams, None)
    v["next_team"] = np.where(same_next, np.r_[teams[1:], None] if len(v) else teams, None)
    v["prev_team"] = v["prev_team"].where(same_prev, np.nan)
    v["next_team"] = v["next_team"].where(same_next, np.nan)
    v["pos"] = v.groupby("case", sort=False).cumcount().astype("int64")
    if calendar is None:
        hrs = (v["end"] - v["start"]) / pd.Timedelta(hours=1)
    else:
        from ..worktime import working_hours

        hrs = working_hours(v["start"], v["end"], calendar,
                            unit=v["team"] if isinstance(calendar, Mapping) else None)
    v["hours"] = np.asarray(hrs, float)
    v = v[["case", "pos", "team", "start", "end", "hours", "prev_team", "next_team", "n_rows"]]
    v.attrs["dropped"] = {k: n for k, n in dropped.items() if n}
    v.attrs["hours_basis"] = "wall-clock" if calendar is None else "working"
    v.attrs["used"] = {"case": case, "team": team, "timestamp": timestamp}
    return v


def _visits_of(log, case, team, timestamp, calendar):
    if isinstance(log, pd.DataFrame) and {"case", "pos", "team", "start", "end", "hours",
                                          "prev_team", "next_team"} <= set(log.columns):
        return log                     # already visits
    return visits(log, case=case, team=team, timestamp=timestamp, calendar=calendar)


def pingpong(log, *, case: str = "case", team: str = "group", timestamp: str = "timestamp",
             calendar=None, alpha: float = 0.05, min_bounces: int = 3) -> pd.DataFrame:
    """Ping-pong per ordered team pair: A hands the case to B and B hands it straight back.

    A **bounce** of (A, B) is three consecutive visits A, B, A of one case.
    Its **opportunities** are the visits to B that came from A and were
    handed on (B was not the last team). The test asks whether B sends cases
    back to A more often when they came from A than when they came from
    anyone else: among the visits to B with a predecessor and a successor,
    the 2 × 2 table (came from A or not) × (went to A or not) is tested with
    the one-sided Fisher exact test (hypergeometric), then
    Benjamini–Hochberg across pairs. Its null permutes which incoming
    hand-over of B is followed by which outgoing one — B's hand-over order —
    so every team's incoming and outgoing hand-over counts, i.e. the service
    graph, stay exactly as observed (a first-order Markov null on paths).
    The "from elsewhere" row leaves out the visits B returned to their own
    (other) sender, so one pair's ping-pong does not make B's other senders
    look bounced; this makes the test slightly conservative.

    Parameters
    ----------
    log : DataFrame
        A process log (or the output of :func:`visits`).
    case, team, timestamp : str
        Column names.
    calendar : WorkCalendar, dict, or None
        Hours lost in working hours (``None``: wall-clock).
    alpha : float, default 0.05
        False-discovery rate for ``flagged``.
    min_bounces : int, default 3
        A pair is flagged only with at least this many bounces.

    Returns
    -------
    DataFrame
        One row per ordered pair with at least one bounce: ``team_a`` (the
        sender), ``team_b`` (who sent it back), ``pair`` (``"A⇄B"``),
        ``bounces`` (A→B→A triples), ``cases`` (cases with ≥ 1 bounce),
        ``handover_cases`` (cases with an A→B hand-over), ``share``
        (``cases / handover_cases``), ``opportunities``, ``return_rate``
        (bounces / opportunities), ``base_rate`` (share of B's onward
        hand-overs of cases from other teams that go to A, returns to their
        own sender left out), ``expected`` (bounces expected under
        the null), ``hours_lost`` (holding hours spent in B during the
        bounces), ``b_return_share`` (share of all cases B handed on that
        went back to their own sender, whoever it was: near 1, B returns
        everything — a team habit or the agreed workflow, not one pair's
        ping-pong, and the pair is not flagged), ``p_value``, ``q_value``,
        ``flagged``, ``hours_basis``.
        Sorted by flagged, bounces (descending), then names. ``attrs``:
        ``params``, ``used`` (columns), ``n_tests`` (pairs tested).

    References
    ----------
    Fisher, R. A. (1935). The logic of inductive inference. *JRSS* 98(1), 39–82.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate.
    *JRSS B* 57(1), 289–300.
    Rosvall, M., Esquivel, A. V., Lancichinetti, A., West, J. D. & Lambiotte, R.
    (2014). Memory in network flows and its effects on spreading dynamics and
    community detection. *Nature Communications* 5, 4630.

    Examples
    --------
    >>> log = simulate_tickets(n_cases=800, n_teams=8, pingpong=[("T0", "T1")], seed=1)
    >>> pp = pingpong(log)
    >>> pp.loc[0, "pair"], bool(pp.loc[0, "flagged"])
    ('T0⇄T1', True)
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1); got {alpha!r}.")
    v = _visits_of(log, case, team, timestamp, calendar)
    a = v["prev_team"].to_numpy(dtype=object)
    b = v["team"].to_numpy(dtype=object)
    n = v["next_team"].to_numpy(dtype=object)
    mid = ~pd.isna(v["prev_team"]).to_numpy() & ~pd.isna(v["next_team"]).to_numpy()
    # middle visits: prev → B → next; codes for fast counting
    cats = pd.Index(pd.unique(np.r_[a[mid], b[mid], n[mid]]))
    K = len(cats)
    A = cats.get_indexer(a[mid]).astype(np.int64)
    B = cats.get_indexer(b[mid]).astype(np.int64)
    N = cats.get_indexer(n[mid]).astype(np.int64)
    bounce = A == N
    hours_mid = v["hours"].to_numpy(float)[mid]
    case_mid = v["case"].to_numpy(dtype=object)[mid]
    # per (A,B): opportunities and bounces; per (B, A as next): col totals; per B: totals
    key_ab = A * K + B
    opp = np.bincount(key_ab, minlength=K * K)
    bnc = np.bincount(key_ab[bounce], minlength=K * K)
    lost = np.bincount(key_ab[bounce], weights=np.nan_to_num(hours_mid[bounce]),
                       minlength=K * K)
    to_a = np.bincount(B * K + N, minlength=K * K)          # (B, next=A) counts
    tot_b = np.bincount(B, minlength=K)
    bnc_b = np.bincount(B[bounce], minlength=K)              # B's returns to any sender
    ia, ib = np.divmod(np.flatnonzero(opp), K)
    x11 = bnc[ia * K + ib]
    row = opp[ia * K + ib]                                  # came from A
    col = to_a[ib * K + ia]                                 # went to A
    # the reference group leaves out B's returns to *other* senders: another pair's
    # ping-pong must not lower the base rate (conservative under the null)
    M = tot_b[ib] - (bnc_b[ib] - x11)
    p = stats.hypergeom.sf(x11 - 1, M, col, row)
    p = np.clip(np.where(col == 0, 1.0, p), 0.0, 1.0)
    q = _bh(p)
    x21 = col - x11
    rest = M - row
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(rest > 0, x21 / rest, np.nan)
    out = pd.DataFrame({"team_a": cats[ia].to_numpy(dtype=object),
                        "team_b": cats[ib].to_numpy(dtype=object),
                        "bounces": x11.astype("int64"), "opportunities": row.astype("int64"),
                        "return_rate": x11 / row, "base_rate": base,
                        "expected": row * col / M, "hours_lost": lost[ia * K + ib],
                        "b_return_share": bnc_b[ib] / tot_b[ib],
                        "p_value": p, "q_value": q})
    n_tests = len(out)
    out = out[out["bounces"] > 0].copy()
    # distinct cases: with a bounce, and with any A→B hand-over (all visits, not only middle)
    bk = pd.DataFrame({"case": case_mid[bounce], "team_a": a[mid][bounce],
                       "team_b": b[mid][bounce]}).drop_duplicates()
    nb = bk.groupby(["team_a", "team_b"], sort=False).size().rename("cases")
    has_prev = ~pd.isna(v["prev_team"]).to_numpy()
    hk = pd.DataFrame({"case": v["case"].to_numpy(dtype=object)[has_prev],
                       "team_a": a[has_prev], "team_b": b[has_prev]}).drop_duplicates()
    nh = hk.groupby(["team_a", "team_b"], sort=False).size().rename("handover_cases")
    out = out.join(nb, on=["team_a", "team_b"]).join(nh, on=["team_a", "team_b"])
    out["cases"] = out["cases"].fillna(0).astype("int64")
    out["handover_cases"] = out["handover_cases"].fillna(0).astype("int64")
    out["share"] = out["cases"] / out["handover_cases"]
    out["pair"] = out["team_a"].astype(str) + "⇄" + out["team_b"].astype(str)
    out["flagged"] = (out["q_value"] <= alpha) & (out["bounces"] >= min_bounces)
    out["hours_basis"] = v.attrs.get("hours_basis", "wall-clock")
    out = out[["team_a", "team_b", "pair", "bounces", "cases", "handover_cases", "share",
               "opportunities", "return_rate", "base_rate", "expected", "hours_lost",
               "b_return_share", "p_value", "q_value", "flagged", "hours_basis"]]
    out = out.sort_values(["flagged", "bounces", "team_a", "team_b"],
                          ascending=[False, False, True, True], kind="mergesort")
    out = out.reset_index(drop=True)
    out.attrs.update(params={"alpha": alpha, "min_bounces": min_bounces,
                             "test": "one-sided Fisher exact (hypergeometric), BH"},
                     used=dict(v.attrs.get("used", {}), satisfaction=None),
                     n_tests=n_tests, dropped=v.attrs.get("dropped", {}))
    return out


def reassignments(log, *, case: str = "case", team: str = "group",
                  timestamp: str = "timestamp", line: Callable | Mapping | None = None,
                  calendar=None) -> pd.DataFrame:
    """Per case: how often it changed hands, how many teams and lines it saw.

    Returns
    -------
    DataFrame
        ``case``, ``handovers`` (team changes), ``teams`` (distinct teams),
        ``bounces`` (A→B→A triples), ``first_team``, ``last_team``,
        ``max_line`` (highest support line reached, see
        :func:`support_line`), ``first_line_only`` (never left the 1st line),
        ``hours`` (first row to last row), ``hours_basis``. Sorted by case.

    Examples
    --------
    >>> log = pd.DataFrame({"case": [1, 1, 1, 2], "group": ["A", "B 2nd", "A", "A"],
    ...                     "timestamp": pd.to_datetime(["2024-01-01 09:00",
    ...                         "2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02 09:00"])})
    >>> reassignments(log)[["case", "handovers", "bounces", "max_line"]]
       case  handovers  bounces  max_line
    0     1          2        1         2
    1     2          0        0         1
    """
    v = _visits_of(log, case, team, timestamp, calendar)
    lines = _lines(v["team"], line)
    bounce = (v["prev_team"].to_numpy(dtype=object) == v["next_team"].to_numpy(dtype=object)) \
        & v["prev_team"].notna().to_numpy()
    g = pd.DataFrame({"case": v["case"], "team": v["team"], "line": lines,
                      "bounce": bounce, "hours": v["hours"]}).groupby("case", sort=True)
    out = pd.DataFrame({
        "handovers": g.size() - 1, "teams": g["team"].nunique(),
        "bounces": g["bounce"].sum().astype("int64"),
        "first_team": g["team"].first(), "last_team": g["team"].last(),
        "max_line": g["line"].max().astype("int64"), "hours": g["hours"].sum()})
    out["first_line_only"] = out["max_line"] == 1
    out["hours_basis"] = v.attrs.get("hours_basis", "wall-clock")
    out = out.reset_index()
    out.attrs.update(used=dict(v.attrs.get("used", {}), satisfaction=None))
    return out


def _lines(teams: pd.Series, line) -> np.ndarray:
    if line is None:
        return support_line(teams)
    if callable(line):
        return np.asarray([line(t) for t in pd.unique(teams)], dtype=np.int64)[
            pd.Index(pd.unique(teams)).get_indexer(teams)]
    if isinstance(line, Mapping):
        m = teams.map(line)
        if m.isna().any():
            miss = pd.unique(teams[m.isna()])[:5].tolist()
            raise ParameterError(f"line= has no support line for team(s) {miss}; give every "
                                 "team a line (1, 2, 3 …) or pass a function.")
        return m.astype("int64").to_numpy()
    raise ParameterError("line= must be None, a dict team → line, or a function.")


def escalations(log, *, case: str = "case", team: str = "group", timestamp: str = "timestamp",
                line: Callable | Mapping | None = None, by: str = "team",
                alpha: float = 0.05, min_cases: int = 10) -> pd.DataFrame:
    """Hand-overs between support lines: pushed up (1st → 2nd/3rd) or back to the front.

    Parameters
    ----------
    log : DataFrame
        A process log (or :func:`visits`).
    line : dict, function, or None
        The support line of each team (``None``: :func:`support_line`, the
        BPIC 2013 naming ``"... 2nd"``/``"... 3rd"``).
    by : {"team", "line"}
        ``"line"``: one row per (from_line, to_line) with ``handovers`` and
        ``cases``. ``"team"``: one row per team: ``team``, ``line``,
        ``handovers_out``, ``up`` (to a higher line), ``down`` (to a lower
        line: back to the front), ``up_rate``, ``line_up_rate`` (the same
        line's other teams), ``p_value`` (two-sided Fisher exact test of the
        team's up/other split against its line's other teams), ``q_value``
        (BH), ``flagged`` (q ≤ alpha, at least ``min_cases`` hand-overs),
        ``direction`` (``"pushes up"``/``"keeps"``); and the test whose null
        keeps the service graph: ``sent_back_down`` (cases that came to the
        team from a lower line and went straight back to a lower line),
        ``sent_back_expected`` (expected when the team's outgoing hand-overs
        are permuted among its incoming ones, which keeps every team's
        incoming and outgoing hand-overs: the service graph), ``back_p_value``
        (one-sided hypergeometric), ``back_q_value`` (BH), ``pushes_back``
        (q ≤ alpha and at least ``min_cases`` cases from a lower line).

    Notes
    -----
    The ``up_rate`` comparison asks how a team routes compared with the other
    teams of its line: it is a statement *about* the service graph (how many
    of its hand-overs go up), so no null that keeps the graph can test it;
    its null keeps each team's number of hand-overs and the line's up share.
    ``pushes_back`` asks the sequence question that the graph cannot answer:
    does a higher-line team return to the front what the front sent up more
    often than its own routing implies (the 2 × 2 table came from a lower
    line × went to a lower line over its visits with a predecessor and a
    successor; the null permutes its hand-over order, as in :func:`pingpong`).

    Returns
    -------
    DataFrame
        ``attrs["first_line_only"]``: share of cases that never left the 1st line.

    Examples
    --------
    >>> log = pd.DataFrame({"case": [1, 1, 2, 2, 3], "group": ["A", "B 2nd", "A", "C", "A"],
    ...                     "timestamp": pd.date_range("2024-01-01", periods=5, freq="h")})
    >>> escalations(log, by="line")
       from_line  to_line  handovers  cases
    0          1        1          1      1
    1          1        2          1      1
    """
    if by not in ("team", "line"):
        raise ParameterError(f"by must be 'team' or 'line'; got {by!r}.")
    v = _visits_of(log, case, team, timestamp, None)
    lines = _lines(v["team"], line)
    has_next = v["next_team"].notna().to_numpy()
    nxt_line = np.r_[lines[1:], 0] if len(lines) else lines
    frm, to = lines[has_next], nxt_line[has_next]
    cs = v["case"].to_numpy(dtype=object)[has_next]
    first_only = float((pd.Series(lines).groupby(v["case"].to_numpy()).max() == 1).mean()) \
        if len(v) else np.nan
    if by == "line":
        t = pd.DataFrame({"from_line": frm, "to_line": to, "case": cs})
        out = t.groupby(["from_line", "to_line"]).agg(handovers=("case", "size"),
                                                     cases=("case", "nunique")).reset_index()
        out = out.astype({"handovers": "int64", "cases": "int64"})
    else:
        t = pd.DataFrame({"team": v["team"].to_numpy(dtype=object)[has_next], "line": frm,
                          "up": to > frm, "down": to < frm})
        g = t.groupby(["team", "line"], sort=True)
        out = g.agg(handovers_out=("up", "size"), up=("up", "sum"), down=("down", "sum"))
        out = out.reset_index().astype({"handovers_out": "int64", "up": "int64",
                                        "down": "int64"})
        lt = out.groupby("line")[["handovers_out", "up"]].transform("sum")
        rest_n = (lt["handovers_out"] - out["handovers_out"]).to_numpy()
        rest_up = (lt["up"] - out["up"]).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out["up_rate"] = out["up"] / out["handovers_out"]
            out["line_up_rate"] = np.where(rest_n > 0, rest_up / rest_n, np.nan)
        # two-sided Fisher: team (up, not up) vs rest of its line
        Mt = out["handovers_out"].to_numpy() + rest_n
        nup = out["up"].to_numpy() + rest_up
        Nt = out["handovers_out"].to_numpy()
        x = out["up"].to_numpy()
        p = _fisher_two_sided(x, Mt, nup, Nt)
        p = np.where((rest_n > 0) & (nup > 0) & (nup < Mt), p, 1.0)
        out["p_value"] = p
        out["q_value"] = _bh(p)
        out["flagged"] = (out["q_value"] <= alpha) & (out["handovers_out"] >= min_cases)
        out["direction"] = np.where(out["up_rate"] > out["line_up_rate"], "pushes up", "keeps")
        out = out.merge(_sent_back_down(v, lines, alpha, min_cases), on="team", how="left")
        out = out.fillna({"sent_back_down": 0, "back_p_value": 1.0, "back_q_value": 1.0,
                          "pushes_back": False}).astype({"sent_back_down": "int64",
                                                         "pushes_back": bool})
        out = out.sort_values(["flagged", "up", "team"], ascending=[False, False, True],
                              kind="mergesort").reset_index(drop=True)
    out.attrs.update(first_line_only=first_only, used=dict(v.attrs.get("used", {}),
                     satisfaction=None), params={"by": by, "alpha": alpha,
                                                 "min_cases": min_cases})
    return out


def _sent_back_down(v: pd.DataFrame, lines: np.ndarray, alpha: float,
                    min_cases: int) -> pd.DataFrame:
    """Per team: cases from a lower line sent straight back to a lower line, against the
    null that permutes the team's hand-over order (its in/out hand-overs stay fixed)."""
    same_prev = v["prev_team"].notna().to_numpy()
    same_next = v["next_team"].notna().to_numpy()
    prev_line = np.r_[0, lines[:-1]] if len(lines) else lines
    next_line = np.r_[lines[1:], 0] if len(lines) else lines
    mid = same_prev & same_next
    team = v["team"].to_numpy(dtype=object)[mid]
    came = prev_line[mid] < lines[mid]
    went = next_line[mid] < lines[mid]
    t = pd.DataFrame({"team": team, "M": 1, "row": came, "col": went, "x": came & went})
    g = t.groupby("team", sort=True)[["M", "row", "col", "x"]].sum()
    M, row, col, x = (g[c].to_numpy(np.int64) for c in ("M", "row", "col", "x"))
    p = np.where((row > 0) & (col > 0), stats.hypergeom.sf(x - 1, M, col, row), 1.0)
    q = _bh(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp = np.where(M > 0, row * col / np.maximum(M, 1), np.nan)
    return pd.DataFrame({"team": g.index.to_numpy(dtype=object), "sent_back_down": x,
                         "sent_back_expected": exp, "back_p_value": p, "back_q_value": q,
                         "pushes_back": (q <= alpha) & (row >= min_cases)})


def _fisher_two_sided(x, M, n, N) -> np.ndarray:
    """Two-sided Fisher exact p (sum of the tables no more likely than the observed one),
    for many 2 × 2 tables at once: every table's support is laid end to end and the
    hypergeometric pmf evaluated in one call, then summed per table."""
    x, M, n, N = (np.asarray(z, np.int64) for z in (x, M, n, N))
    lo = np.maximum(0, N + n - M)
    hi = np.minimum(n, N)
    size = np.maximum(hi - lo + 1, 0)
    out = np.ones(len(x))
    if not len(x) or size.sum() == 0:
        return out
    tab = np.repeat(np.arange(len(x)), size)
    k = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size) + lo[tab]
    logpmf = stats.hypergeom.logpmf(k, M[tab], n[tab], N[tab])
    p0 = stats.hypergeom.logpmf(x, M, n, N)
    keep = logpmf <= p0[tab] + 1e-7
    s = np.bincount(tab, weights=np.where(keep, np.exp(logpmf), 0.0), minlength=len(x))
    return np.where(size > 1, np.minimum(s, 1.0), 1.0)


def holding_times(log, *, case: str = "case", team: str = "group",
                  timestamp: str = "timestamp", calendar=None, alpha: float = 0.05,
                  min_visits: int = 10, include_last: bool = False) -> pd.DataFrame:
    """How long cases wait in each team, against all other teams.

    A visit's holding time runs from the case's arrival at the team to its
    hand-over to the next team (working hours with a ``calendar``). The last
    visit of a case ends at the case's last row (its closure), so it is left
    out unless ``include_last``. Each team's holding times are compared with
    all other teams' by the one-sided Mann–Whitney U test (normal
    approximation with tie correction; "this team holds cases longer"),
    Benjamini–Hochberg across teams.

    Returns
    -------
    DataFrame
        One row per team: ``team``, ``visits``, ``cases``, ``median_hours``,
        ``mean_hours``, ``p90_hours``, ``total_hours``, ``share_of_hours``
        (of all holding hours), ``prob_longer`` (probability that a random
        visit here lasts longer than one elsewhere, the common-language
        effect size), ``p_value``, ``q_value``, ``slow`` (q ≤ alpha, at least
        ``min_visits`` visits and a median above the overall median),
        ``hours_basis``. Sorted by ``slow`` then median (descending).

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). On a test of whether one of two random
    variables is stochastically larger than the other. *Ann. Math. Stat.* 18, 50–60.

    Examples
    --------
    >>> log = simulate_tickets(n_cases=600, n_teams=6, slow=["T2"], seed=0)
    >>> ht = holding_times(log)
    >>> ht.loc[0, "team"], bool(ht.loc[0, "slow"])
    ('T2', True)
    """
    v = _visits_of(log, case, team, timestamp, calendar)
    if not include_last:
        v = v[v["next_team"].notna()]
    v = v[np.isfinite(v["hours"].to_numpy(float))]
    h = v["hours"].to_numpy(float)
    cats, code = np.unique(v["team"].to_numpy(dtype=object).astype(str), return_inverse=True)
    K, Ntot = len(cats), len(h)
    g = pd.DataFrame({"team": cats[code], "hours": h, "case": v["case"].to_numpy()}) \
        .groupby("team", sort=True)
    out = pd.DataFrame({"visits": g.size(), "cases": g["case"].nunique(),
                        "median_hours": g["hours"].median(), "mean_hours": g["hours"].mean(),
                        "p90_hours": g["hours"].quantile(0.9), "total_hours": g["hours"].sum()})
    out = out.reindex(cats)
    out["share_of_hours"] = out["total_hours"] / max(h.sum(), 1e-300)
    ranks = stats.rankdata(h)
    R = np.bincount(code, weights=ranks, minlength=K)
    n1 = np.bincount(code, minlength=K).astype(float)
    n2 = Ntot - n1
    U = R - n1 * (n1 + 1) / 2
    _, tcount = np.unique(h, return_counts=True)
    tie = (tcount ** 3 - tcount).sum() / max(Ntot * (Ntot - 1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(n1 * n2 / 12.0 * ((Ntot + 1) - tie))
        z = (U - n1 * n2 / 2.0 - 0.5) / sd
        out["prob_longer"] = U / (n1 * n2)
    p = np.where((n2 > 0) & (sd > 0), stats.norm.sf(z), 1.0)
    out["p_value"] = p
    out["q_value"] = _bh(p)
    overall = float(np.median(h)) if len(h) else np.nan
    out["slow"] = (out["q_value"] <= alpha) & (out["visits"] >= min_visits) & \
        (out["median_hours"] > overall)
    out["hours_basis"] = v.attrs.get("hours_basis", "wall-clock") if hasattr(v, "attrs") \
        else "wall-clock"
    out = out.rename_axis("team").reset_index()
    out = out.sort_values(["slow", "median_hours", "team"], ascending=[False, False, True],
                          kind="mergesort").reset_index(drop=True)
    out.attrs.update(overall_median_hours=overall, params={
        "alpha": alpha, "min_visits": min_visits, "include_last": include_last,
        "test": "one-sided Mann-Whitney U (normal approx., ties), BH"},
        used=dict(v.attrs.get("used", {}), satisfaction=None))
    return out


_ACTION_COLUMNS = ["priority", "owner_role", "target", "action", "reason", "evidence", "rule"]


def handover_actions(log, *, case: str = "case", team: str = "group",
                     timestamp: str = "timestamp", calendar=None, line=None,
                     alpha: float = 0.05, max_per_rule: int = 10) -> pd.DataFrame:
    """Named findings from a ticket log without ratings, as actions.

    Four rules, each from a tested measure: ``pingpong`` (flagged pairs of
    :func:`pingpong`: the two team leads agree who owns which requests and a
    routing rule), ``slow_team`` (``slow`` teams of :func:`holding_times`:
    review the team's queue and capacity), ``escalation`` (1st-line teams
    that push cases up significantly more than their line, from
    :func:`escalations`: a knowledge article / training so the front line
    solves more, the BPIC 2013 "push to front" goal) and ``sent_back_down``
    (``pushes_back`` teams of :func:`escalations`: higher-line teams that
    return what came up more than their routing implies).

    ``log`` may also be a :class:`HandoverSummary` (nothing is recomputed) or
    a network from :func:`icnet.from_process_log`.

    Returns
    -------
    DataFrame
        The columns of :func:`icnet.actions`: ``priority`` (1 = highest),
        ``owner_role``, ``target``, ``action``, ``reason``, ``evidence``,
        ``rule``; at most ``max_per_rule`` per rule, strongest first.

    Examples
    --------
    >>> log = simulate_tickets(n_cases=800, n_teams=8, pingpong=[("T0", "T1")],
    ...                        slow=["T3"], seed=1)
    >>> handover_actions(log)[["rule", "target"]].head(2)
            rule   target
    0   pingpong  T0 ⇄ T1
    1  slow_team       T3
    """
    s = log if isinstance(log, HandoverSummary) else handover_summary(
        log, case=case, team=team, timestamp=timestamp, calendar=calendar, line=line,
        alpha=alpha)
    basis = s.hours_basis
    rows = []
    pp = s.pingpong
    for r in pp[pp["flagged"]].head(max_per_rule).itertuples():
        rows.append((1, "team leads", f"{r.team_a} ⇄ {r.team_b}",
                     f"{r.team_a} and {r.team_b} agree who owns these requests and a routing "
                     "rule, so cases stop bouncing",
                     f"{r.team_b} sent cases straight back to {r.team_a} {r.bounces} times "
                     f"({r.return_rate:.0%} of what it received from {r.team_a} and passed "
                     f"on, vs {r.base_rate:.0%} from other teams)",
                     f"{r.bounces} bounces in {r.cases} of {r.handover_cases} cases; "
                     f"{r.hours_lost:.0f} {basis} hours in {r.team_b}; q={r.q_value:.2g}",
                     "pingpong"))
    ht = s.holding_times
    for r in ht[ht["slow"]].head(max_per_rule).itertuples():
        rows.append((2, "team lead", str(r.team),
                     f"review {r.team}'s queue and capacity (where do cases wait?)",
                     f"cases wait in {r.team} longer than elsewhere "
                     f"(P(longer) = {r.prob_longer:.2f})",
                     f"median {r.median_hours:.1f} {basis} h vs "
                     f"{ht.attrs['overall_median_hours']:.1f} h overall; {r.visits} visits; "
                     f"q={r.q_value:.2g}", "slow_team"))
    es = s.escalations
    back = es[es["pushes_back"]] if "pushes_back" in es else es.iloc[0:0]
    es = es[es["flagged"] & (es["direction"] == "pushes up") & (es["line"] == 1)]
    for r in es.head(max_per_rule).itertuples():
        rows.append((3, "service manager", str(r.team),
                     f"give {r.team} the knowledge/permissions to solve more at the 1st line",
                     f"{r.team} pushes {r.up_rate:.0%} of its hand-overs to higher lines vs "
                     f"{r.line_up_rate:.0%} for other 1st-line teams",
                     f"{r.up} of {r.handovers_out} hand-overs up; q={r.q_value:.2g}",
                     "escalation"))
    for r in back.sort_values(["back_q_value", "team"], kind="mergesort").head(
            max_per_rule).itertuples():
        rows.append((3, "service manager", str(r.team),
                     f"agree with {r.team} and the teams that escalate to it what it "
                     "solves itself, so cases are not sent back down",
                     f"{r.team} sends cases that came up from a lower line straight back "
                     "down more often than its own routing implies",
                     f"{r.sent_back_down} sent back vs {r.sent_back_expected:.1f} expected; "
                     f"q={r.back_q_value:.2g}", "sent_back_down"))
    out = pd.DataFrame(rows, columns=_ACTION_COLUMNS).astype({"priority": "int64"})
    out.attrs.update(used=dict(s.used), hours_basis=basis)
    return out


@dataclass(frozen=True)
class HandoverSummary:
    """Every hand-over measure of one process log, computed once.

    The small interface through which a log without ratings feeds the rest of
    icnet: :func:`icnet.analysis.conflicts.pingpong_conflicts` (a flagged
    ping-pong pair is a conflict relation),
    :func:`icnet.analysis.bottlenecks.holding_bottlenecks` (slow teams by
    holding time), :func:`icnet.analysis.health.handover_health` (per team),
    :func:`handover_actions` and :func:`icnet.report`. Build it with
    :func:`handover_summary`.

    Attributes
    ----------
    level : str
        What a team is: ``"person"`` (the log's resource) or a people column.
    hours_basis : str
        ``"working"`` (a calendar was used) or ``"wall-clock"``.
    visits, pingpong, holding_times, escalations, reassignments : DataFrame
        The outputs of :func:`visits`, :func:`pingpong`, :func:`holding_times`,
        :func:`escalations` (``by="team"``) and :func:`reassignments`.
    used : dict
        The log's columns that were read (``satisfaction`` is always None).
    params : dict
        ``alpha``, ``line`` (given or ``None``).
    """

    level: str
    hours_basis: str
    visits: pd.DataFrame = field(repr=False)
    pingpong: pd.DataFrame = field(repr=False)
    holding_times: pd.DataFrame = field(repr=False)
    escalations: pd.DataFrame = field(repr=False)
    reassignments: pd.DataFrame = field(repr=False)
    used: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def pingpong_pairs(self) -> pd.DataFrame:
        """The flagged ping-pong pairs (rows of ``pingpong`` with ``flagged``)."""
        return self.pingpong[self.pingpong["flagged"]].reset_index(drop=True)

    @property
    def slow_teams(self) -> pd.DataFrame:
        """The slow teams (rows of ``holding_times`` with ``slow``)."""
        return self.holding_times[self.holding_times["slow"]].reset_index(drop=True)


def _log_of_network(net, level):
    """The process log of a network from :func:`icnet.from_process_log`, its team column
    the resource (person level) or the resource's ``people[level]``."""
    log = getattr(net, "process_log", None)
    if log is None:
        raise ParameterError(
            "This network carries no process log: build it with icnet.from_process_log(...) "
            "or pass the log itself (a DataFrame with case, team and timestamp columns).")
    level = net.level if level is None else level
    if level == "person":
        team = log["resource"]
    elif level in log.columns and level not in ("case", "activity", "resource", "timestamp"):
        team = log[level]                   # net.by(level): the resources' groups
    else:
        ppl = net.people
        if ppl is None or level not in ppl:
            opts = [] if ppl is None else [c for c in ppl.columns if c != "person"]
            raise ParameterError(
                f"level={level!r} needs a people column {level!r} mapping the log's resources "
                f"to teams; the people table has {opts}. Pass people=... to "
                "icnet.from_process_log or use level='person'.")
        team = log["resource"].map(ppl.drop_duplicates("person").set_index("person")[level])
    out = pd.DataFrame({"case": log["case"].to_numpy(), "team": team.to_numpy(dtype=object),
                        "timestamp": log["timestamp"].to_numpy()})
    return out, level, dict(log.attrs.get("used", {}), team=log.attrs.get(
        "used", {}).get("resource", "resource") if level == "person" else f"people.{level}")


def handover_summary(source, *, level: str | None = None, calendar=None, line=None,
                     case: str = "case", team: str = "group", timestamp: str = "timestamp",
                     alpha: float = 0.05) -> HandoverSummary:
    """All hand-over measures of a process log, once: ping-pong, holding, escalations.

    Parameters
    ----------
    source : ServiceNetwork or DataFrame
        A network built by :func:`icnet.from_process_log` (its
        ``process_log``; the team of a step is the resource at person level,
        or the resource's ``people[level]``), or a process log with ``case``,
        ``team`` and ``timestamp`` columns (or :func:`visits`).
    level : str, optional
        For a network: ``"person"`` (default for a person-level network) or
        a people column such as ``"unit"`` (default for ``net.by("unit")``).
    calendar : WorkCalendar, dict, or None
        Holding times in working hours; default: the network's
        ``work_calendar`` (the one given to ``from_process_log``), else
        wall-clock hours.
    line : dict, function, or None
        Support line of each team (see :func:`escalations`).
    case, team, timestamp : str
        Column names of a log (ignored for a network).
    alpha : float, default 0.05
        False-discovery rate of every test.

    Returns
    -------
    HandoverSummary

    Raises
    ------
    ParameterError
        A network without a process log, or an unknown ``level``.

    Examples
    --------
    >>> log = simulate_tickets(n_cases=800, n_teams=8, pingpong=[("T0", "T1")],
    ...                        slow=["T3"], seed=1)
    >>> s = handover_summary(log)
    >>> s.pingpong_pairs.loc[0, "pair"], s.slow_teams.loc[0, "team"], s.hours_basis
    ('T0⇄T1', 'T3', 'wall-clock')
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1); got {alpha!r}.")
    if isinstance(source, pd.DataFrame) or isinstance(source, Mapping):
        v = _visits_of(source, case, team, timestamp, calendar)
        lvl, used = "team", dict(v.attrs.get("used", {}))
    else:
        log, lvl, used = _log_of_network(source, level)
        cal = calendar if calendar is not None else getattr(source, "work_calendar", None)
        v = visits(log, case="case", team="team", timestamp="timestamp", calendar=cal)
        dropped = v.attrs.get("dropped", {})
        v.attrs.update(used=used, dropped=dropped)
    used = dict(used, satisfaction=None)
    return HandoverSummary(
        level=lvl, hours_basis=v.attrs.get("hours_basis", "wall-clock"), visits=v,
        pingpong=pingpong(v, alpha=alpha), holding_times=holding_times(v, alpha=alpha),
        escalations=escalations(v, line=line, alpha=alpha), reassignments=reassignments(
            v, line=line), used=used, params={"alpha": alpha, "line": line})


def simulate_tickets(n_cases: int = 1000, n_teams: int = 10, *, pingpong=(),
                     bounce: float = 0.5, slow=(), slow_factor: float = 4.0,
                     second_line: float = 0.3, mean_handovers: float = 2.5,
                     start: str = "2024-01-01", seed=0) -> pd.DataFrame:
    """A generated ticket log with planted ping-pong pairs and slow teams.

    Cases enter at a 1st-line team and move between teams by a sparse
    first-order Markov routing (each team hands on to 2–4 others); each
    step ends the case with probability ``1 / (1 + mean_handovers)``. For a
    planted pair (A, B), a case B received from A goes straight back to A
    with probability ``bounce``. So that the planted bouncing is
    identifiable from the log (a null that keeps the service graph could
    not tell it from routing otherwise) and testable: A is reachable from
    the 1st line, A hands on to B with probability ≥ 0.3, B's own routing
    never sends work to A, and a 1st-line team other than A hands on to B
    with probability ≥ 0.3. Holding times are
    gamma-distributed (mean 8 h; ``slow_factor`` times longer in ``slow``
    teams). Each visit writes two rows (``Queued`` on arrival, ``In
    Progress`` after a gamma wait); the last writes ``Closed``.

    Parameters
    ----------
    n_cases, n_teams : int
    pingpong : iterable of (team, team)
        Planted pairs (``"T0"`` … names).
    bounce : float
    slow : iterable of team names
    second_line : float
        Share of teams that are 2nd line (named ``"Tk 2nd"``).
    seed : int or Generator

    Returns
    -------
    DataFrame
        ``case``, ``group``, ``status``, ``timestamp`` (UTC), ``resource``;
        ``attrs["truth"]``: ``pingpong`` (planted pairs), ``slow``, ``lines``.
        With ``pingpong=()`` the log is a null organisation (no pair bounces
        more than its routing implies).

    Examples
    --------
    >>> log = simulate_tickets(n_cases=50, n_teams=5, seed=0)
    >>> list(log.columns)
    ['case', 'group', 'status', 'timestamp', 'resource']
    """
    rng = np.random.default_rng(seed)
    if n_teams < 3:
        raise ParameterError("simulate_tickets needs n_teams >= 3.")
    n2 = int(round(second_line * n_teams))
    names = np.array([f"T{k}" + (" 2nd" if k >= n_teams - n2 else "") for k in range(n_teams)],
                     dtype=object)
    short = {f"T{k}": names[k] for k in range(n_teams)}

    def idx(t):
        t = short.get(t, t)
        hit = np.flatnonzero(names == t)
        if not len(hit):
            raise ParameterError(f"Unknown team {t!r}; teams are T0 … T{n_teams - 1}.")
        return int(hit[0])

    P = np.zeros((n_teams, n_teams))
    for k in range(n_teams):
        others = np.delete(np.arange(n_teams), k)
        to = rng.choice(others, size=min(len(others), int(rng.integers(2, 5))), replace=False)
        P[k, to] = rng.dirichlet(np.ones(len(to)))
    pairs = [(idx(x), idx(y)) for x, y in pingpong]
    entry = np.arange(max(n_teams - n2, 1))           # cases start at a 1st-line team

    def route(z, target, w):                          # z hands on to target with share >= w
        if P[z, target] < w:
            P[z] *= (1 - w) / max(1 - P[z, target], 1e-12) if P[z].sum() > P[z, target] else 0
            P[z, target] = w
            P[z] /= P[z].sum()

    for x, y in pairs:
        # identifiable and testable: x is reached from the entry teams, routes to y often
        # enough, y never routes to x by itself, and y also receives work from a 1st-line
        # team other than x (else no path could tell bouncing from routing)
        others = [k for k in entry if k not in (x, y)] or \
            [k for k in range(n_teams) if k not in (x, y)]
        if x not in entry and not (P[entry, x] >= 0.2).any():
            route(int(rng.choice(others)), x, 0.3)
        route(x, y, 0.3)
        if P[y, x] > 0:
            P[y, x] = 0.0
            if P[y].sum() == 0:
                P[y, rng.choice([k for k in range(n_teams) if k not in (x, y)])] = 1.0
            P[y] /= P[y].sum()
        if not any(P[k, y] >= 0.2 for k in others):
            route(int(rng.choice(others)), y, 0.3)
    cum = np.cumsum(P, axis=1)
    bmat = np.zeros((n_teams, n_teams))
    for x, y in pairs:
        bmat[x, y] = bounce
    cur = rng.choice(entry, n_cases)
    prev = np.full(n_cases, -1)
    pend = 1.0 / (1.0 + mean_handovers)
    seq_case, seq_team = [np.arange(n_cases)], [cur.copy()]
    alive = np.ones(n_cases, dtype=bool)
    for _ in range(200):               # bounded: expected length 1 + mean_handovers
        stop = rng.random(n_cases) < pend
        alive &= ~stop
        if not alive.any():
            break
        u = rng.random(n_cases)
        nxt = (cum[cur] < u[:, None] * cum[cur, -1:]).sum(axis=1)
        nxt = np.minimum(nxt, n_teams - 1)
        back = (prev >= 0) & (rng.random(n_cases) < bmat[np.maximum(prev, 0), cur])
        nxt = np.where(back, prev, nxt)
        prev = np.where(alive, cur, prev)
        cur = np.where(alive, nxt, cur)
        seq_case.append(np.flatnonzero(alive))
        seq_team.append(cur[alive])
    vc = np.concatenate(seq_case)
    vt = np.concatenate(seq_team)
    order = np.argsort(vc, kind="stable")
    vc, vt = vc[order], vt[order]
    slow_idx = {idx(s) for s in slow}
    scale = np.where(np.isin(vt, list(slow_idx)), slow_factor, 1.0) * 4.0   # mean 8 h
    hold = rng.gamma(2.0, scale)
    wait = hold * rng.uniform(0.1, 0.6, len(hold))
    case_start = pd.Timestamp(start, tz="UTC").value / 1e9 + rng.uniform(
        0, 365 * 86400, n_cases)
    new_case = np.r_[True, vc[1:] != vc[:-1]]
    # visit start = case start + cumulative holding of earlier visits of the same case
    csum = np.cumsum(hold)
    base = np.maximum.accumulate(np.where(new_case, np.r_[0.0, csum[:-1]], 0.0))
    t0 = case_start[vc] + (np.r_[0.0, csum[:-1]] - base) * 3600.0
    last = np.r_[vc[1:] != vc[:-1], True]
    rows_case = np.r_[vc, vc, vc[last]]
    rows_team = np.r_[vt, vt, vt[last]]
    rows_t = np.r_[t0, t0 + wait * 3600.0, (t0 + hold * 3600.0)[last]]
    rows_s = np.r_[np.full(len(vc), "Queued"), np.full(len(vc), "In Progress"),
                   np.full(int(last.sum()), "Closed")].astype(object)
    rows_k = np.r_[np.zeros(len(vc)), np.ones(len(vc)), np.full(int(last.sum()), 2)]
    o = np.lexsort((rows_k, rows_t, rows_case))
    width = len(str(max(n_cases - 1, 1)))
    log = pd.DataFrame({
        "case": pd.Series(rows_case[o]).map(lambda c: f"C{c:0{width}d}").to_numpy(),
        "group": names[rows_team[o]], "status": rows_s[o],
        "timestamp": pd.to_datetime(np.round(rows_t[o] * 1e3).astype("int64"), unit="ms",
                                    utc=True),
        "resource": (names[rows_team[o]].astype(str) + "-r"
                     + rng.integers(0, 3, len(o)).astype(str))})
    log.attrs["truth"] = {"pingpong": [(names[x], names[y]) for x, y in pairs],
                          "slow": sorted(names[k] for k in slow_idx),
                          "lines": {n: (2 if n.endswith("2nd") else 1) for n in names}}
    return log
