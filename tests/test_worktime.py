"""Working-time delays and SLA clocks (issue #22 point 2)."""
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet.worktime import WorkCalendar, sla_clocks, working_hours

BRU = "Europe/Brussels"


def _brute(a, b, cal, hol=()):
    """Count working minutes one by one (the reference)."""
    mins = pd.date_range(a.tz_convert(cal.tz), b.tz_convert(cal.tz), freq="min",
                         inclusive="left")
    if len(mins) == 0:
        return 0.0
    wd = mins.day_of_week
    m = mins.hour * 60 + mins.minute
    ok = np.zeros(len(mins), bool)
    for k, spans in enumerate(cal._spans):
        for s, e in spans:
            ok |= (wd == k) & (m >= s) & (m < e)
    ok &= ~mins.normalize().tz_localize(None).isin(pd.to_datetime(list(hol)))
    return ok.sum() / 60.0


def test_friday_evening_to_monday_morning_is_not_60_hours():
    cal = WorkCalendar(tz=BRU)
    a = pd.Timestamp("2024-03-01 17:30", tz=BRU)
    b = pd.Timestamp("2024-03-04 09:30", tz=BRU)
    assert working_hours(a, b, cal)[0] == pytest.approx(0.5)
    assert working_hours(a, b, None)[0] == pytest.approx(64.0)


def test_matches_minute_by_minute_count_with_split_days_holidays_and_dst():
    hol = ["2024-04-01", "2024-05-01"]
    cal = WorkCalendar(hours={"mon": [("08:00", "12:00"), ("13:00", "17:30")],
                              "tue": [("08:00", "17:30")], "wed": [("08:00", "12:00")],
                              "thu": [("08:00", "17:30")], "fri": [("08:00", "16:00")],
                              "sat": [("10:00", "12:00")]},
                       holidays=hol, tz=BRU)
    rng = np.random.default_rng(3)
    base = pd.Timestamp("2024-03-25", tz="UTC")     # spans the DST change of 31 March
    a = base + pd.to_timedelta(rng.integers(0, 20 * 24 * 60, 40), unit="min")
    b = a + pd.to_timedelta(rng.integers(0, 9 * 24 * 60, 40), unit="min")
    got = working_hours(pd.Series(a), pd.Series(b), cal)
    want = [_brute(x, y, cal, hol) for x, y in zip(a, b)]
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_public_holidays_from_the_holidays_library():
    pytest.importorskip("holidays")
    cal = WorkCalendar(holidays="BE", tz=BRU)
    # Assumption Day, Thursday 15 August 2024, is a Belgian public holiday
    a = pd.Timestamp("2024-08-15 08:00", tz=BRU)
    b = a + pd.Timedelta(hours=26)                                  # Friday 10:00
    assert working_hours(a, b, cal)[0] == 1.0                      # only Fri 09:00-10:00
    plain = WorkCalendar(tz=BRU)
    assert working_hours(a, b, plain)[0] == 9.0
    with pytest.raises(icnet.ParameterError, match="no calendar"):
        working_hours(a, a + pd.Timedelta(days=1), WorkCalendar(holidays="XX"))


def test_per_unit_calendars_and_time_zones():
    cals = {"brussels": WorkCalendar(tz=BRU), "sao_paulo": WorkCalendar(tz="America/Sao_Paulo"),
            None: WorkCalendar(tz="UTC")}
    a = pd.Series(pd.to_datetime(["2024-03-05 07:00"] * 3, utc=True))   # a Tuesday
    b = a + pd.Timedelta(hours=6)
    h = working_hours(a, b, cals, unit=["brussels", "sao_paulo", "other"])
    # Brussels 08:00-14:00 local -> 09-14 = 5 h; Sao Paulo 04:00-10:00 -> 1 h; UTC 07-13 -> 4 h
    np.testing.assert_allclose(h, [5.0, 1.0, 4.0])
    with pytest.raises(icnet.ParameterError, match="unit="):
        working_hours(a, b, cals)


def test_missing_times_give_nan_and_bad_calendars_raise():
    a = pd.Series(pd.to_datetime(["2024-03-05 09:00", None], utc=True))
    h = working_hours(a, a + pd.Timedelta(hours=1), WorkCalendar())
    assert h[0] == 1.0 and np.isnan(h[1])
    with pytest.raises(icnet.ParameterError):
        WorkCalendar(hours={"mon": [("17:00", "09:00")]})
    with pytest.raises(icnet.ParameterError):
        WorkCalendar(hours={"someday": [("09:00", "17:00")]})
    with pytest.raises(icnet.ParameterError, match="time zone"):
        WorkCalendar(tz="Mars/Olympus")


def _log():
    t = pd.to_datetime(["2024-03-04 09:00", "2024-03-04 11:00", "2024-03-04 13:00",
                        "2024-03-05 10:00", "2024-03-05 12:00",        # T1 resolved
                        "2024-03-04 09:00", "2024-03-04 09:30"], utc=True)  # T2 open
    return pd.DataFrame({"case": ["T1"] * 5 + ["T2"] * 2, "timestamp": t,
                         "status": ["New", "In Progress", "Wait - User", "In Progress",
                                    "Resolved", "New", "New"]})


def test_sla_clocks_pause_and_keep_response_and_resolution_apart():
    c = sla_clocks(_log(), calendar=WorkCalendar())
    t1, t2 = c.iloc[0], c.iloc[1]
    assert t1["response_hours"] == 2.0                     # New 09-11
    # running: 09-13 (4 h) + Tue 10-12 (2 h); paused: Mon 13-17 + Tue 09-10 = 5 h
    assert t1["resolution_hours"] == 6.0 and t1["paused_hours"] == 5.0
    assert np.isnan(t2["response_hours"]) and np.isnan(t2["resolution_hours"])
    assert t2["open_reason"] == "not responded" and t1["open_reason"] == ""
    w = sla_clocks(_log(), calendar=None)
    assert w.loc[0, "resolution_hours"] == 4.0 + 2.0 and w.loc[0, "paused_hours"] == 21.0
    assert set(w["hours_basis"]) == {"wall-clock"}
    with pytest.raises(icnet.SchemaError, match="missing column"):
        sla_clocks(_log().drop(columns="status"))


def test_sla_clock_equals_sum_of_unpaused_working_intervals_on_random_logs():
    rng = np.random.default_rng(0)
    n = 300
    case = np.sort(rng.integers(0, 40, n))
    t = pd.Timestamp("2024-01-08", tz="UTC") + pd.to_timedelta(
        np.cumsum(rng.integers(10, 3000, n)), unit="min")
    st = rng.choice(["New", "In Progress", "On Hold", "Resolved"], n, p=[.2, .4, .3, .1])
    log = pd.DataFrame({"case": case, "timestamp": t, "status": st})
    cal = WorkCalendar()
    c = sla_clocks(log, calendar=cal).set_index("case")
    for k, grp in log.groupby("case"):
        tt, ss = grp["timestamp"].tolist(), grp["status"].tolist()
        total, done = 0.0, False
        for i in range(len(tt) - 1):
            if ss[i] == "Resolved":
                done = True
                break
            if ss[i] != "On Hold":
                total += working_hours(tt[i], tt[i + 1], cal)[0]
        done = done or ss[-1] == "Resolved"
        got = c.loc[k, "resolution_hours"]
        if "Resolved" in ss:
            assert got == pytest.approx(total), k
        else:
            assert np.isnan(got)


def test_from_process_log_in_working_hours_and_without_invented_satisfaction():
    log = {"case": [1, 1, 2, 2], "activity": ["open", "fix", "open", "fix"],
           "resource": ["desk", "it", "desk", "it"],
           "timestamp": ["2024-03-01 16:00", "2024-03-04 10:00",      # Fri -> Mon
                         "2024-03-05 09:00", "2024-03-05 12:00"]}
    wall = icnet.from_process_log(log)
    work = icnet.from_process_log(log, calendar=WorkCalendar())
    assert wall.events["delay_hours"].tolist() == [66.0, 3.0]
    assert work.events["delay_hours"].tolist() == [2.0, 3.0]
    assert work.edges.loc[0, "delay_mean"] == 2.5
    ev = work.events
    assert "satisfaction" not in ev or ev["satisfaction"].isna().all()
    assert (work.edges["satisfaction_n"] == 0).all()
    assert work.edges["satisfaction_mean"].isna().all()
