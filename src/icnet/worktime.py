"""Working time: delays and SLA clocks in working hours, not wall-clock hours.

A request sent on Friday at 17:00 and answered on Monday at 09:00 is 64 wall-clock
hours late but 0 working hours late. :class:`WorkCalendar` holds a weekly
schedule, public holidays (from the maintained ``holidays`` library, extra
``icnet[calendar]``, or a list of dates) and a time zone; :func:`working_hours`
measures intervals with it, vectorised, with one calendar or one per unit;
:func:`sla_clocks` runs a ticket's response and resolution clocks, paused while
the ticket waits for the client or is on hold (the usual ITSM convention,
e.g. ServiceNow's SLA "pause conditions").

Method: a calendar defines the cumulative working time ``W(t)`` since an
anchor day (daily working minutes, summed, plus the part of day ``t`` that is
working time); the working time between ``a`` and ``b`` is ``W(b) − W(a)``.
Every interval is two look-ups, so millions of intervals take well under a
second.

Examples
--------
>>> import pandas as pd
>>> cal = WorkCalendar(tz="Europe/Brussels")           # Mon–Fri 09:00–17:00
>>> working_hours(pd.Timestamp("2024-03-01 16:00", tz="Europe/Brussels"),   # a Friday
...               pd.Timestamp("2024-03-04 10:00", tz="Europe/Brussels"), cal)
array([2.])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import ParameterError, SchemaError

__all__ = ["WorkCalendar", "working_hours", "sla_clocks"]

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _minutes(hhmm: str) -> int:
    try:
        h, m = str(hhmm).split(":")
        v = int(h) * 60 + int(m)
    except ValueError:
        raise ParameterError(f"Working hours must be 'HH:MM'; got {hhmm!r}.") from None
    if not 0 <= v <= 24 * 60:
        raise ParameterError(f"Working hours must be within 00:00–24:00; got {hhmm!r}.")
    return v


@dataclass(frozen=True)
class WorkCalendar:
    """A weekly working schedule with holidays, in one time zone.

    Parameters
    ----------
    hours : dict, optional
        ``{"mon": [("09:00", "12:30"), ("13:30", "17:00")], ...}``: the
        working intervals of each weekday (``mon`` … ``sun``; days not given
        are off). Default: Monday to Friday 09:00–17:00.
    holidays : str, list of dates, or None
        A country code of the ``holidays`` library (``"BE"``, ``"US"``,
        ``"DE"`` …; needs ``pip install icnet[calendar]``), optionally with a
        subdivision ``"ES-MD"``, or an explicit list of dates. Holidays are
        whole days off.
    tz : str, default "UTC"
        The zone whose wall clock the schedule follows (``Europe/Brussels``:
        09:00 is 09:00 in Brussels, summer and winter).
    name : str, optional
        A label (e.g. the unit), shown in results.

    Examples
    --------
    >>> cal = WorkCalendar(hours={"mon": [("08:00", "16:00")]}, holidays=["2024-01-01"])
    >>> cal.week_hours
    8.0
    """

    hours: Mapping[str, Any] | None = None
    holidays: Any = None
    tz: str = "UTC"
    name: str | None = None
    _spans: tuple = field(init=False, repr=False, compare=False)
    _holiday_set: frozenset = field(init=False, repr=False, compare=False)
    _country: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        hours = self.hours if self.hours is not None else {
            d: [("09:00", "17:00")] for d in _DAYS[:5]}
        bad = [d for d in hours if str(d).lower()[:3] not in _DAYS]
        if bad:
            raise ParameterError(f"Unknown weekday(s) {bad}; use {_DAYS}.")
        spans = []
        for d in _DAYS:
            ivs = next((v for k, v in hours.items() if str(k).lower()[:3] == d), []) or []
            if isinstance(ivs, tuple) and len(ivs) == 2 and isinstance(ivs[0], str):
                ivs = [ivs]
            day = sorted((_minutes(a), _minutes(b)) for a, b in ivs)
            for (a, b), nxt in zip(day, day[1:] + [(24 * 60 + 1, 0)]):
                if b <= a or b > nxt[0]:
                    raise ParameterError(
                        f"Working intervals of {d} must be increasing and not overlap; "
                        f"got {ivs}.")
            spans.append(tuple(day))
        object.__setattr__(self, "_spans", tuple(spans))
        try:
            pd.Timestamp("2020-01-01", tz=self.tz)
        except Exception:
            raise ParameterError(f"Unknown time zone {self.tz!r}; use an IANA name such as "
                                 "'Europe/Brussels'.") from None
        object.__setattr__(self, "_holiday_set", frozenset())
        object.__setattr__(self, "_country", None)
        if isinstance(self.holidays, str):
            object.__setattr__(self, "_country", self.holidays)
            try:
                import holidays as _hol  # noqa: F401
            except ImportError:
                raise ParameterError(
                    f"holidays={self.holidays!r} needs the 'holidays' library: "
                    "pip install 'icnet[calendar]' (or pass a list of dates).") from None
        elif self.holidays is not None:
            days = pd.to_datetime(pd.Series(list(self.holidays)), errors="coerce")
            if days.isna().any():
                raise ParameterError("holidays must be dates (e.g. '2024-12-25').")
            object.__setattr__(self, "_holiday_set", frozenset(
                days.dt.normalize().dt.tz_localize(None).to_numpy(dtype="datetime64[D]")))

    @property
    def week_hours(self) -> float:
        """Working hours in a week without holidays."""
        return sum(b - a for day in self._spans for a, b in day) / 60.0

    def _holiday_days(self, first: np.datetime64, last: np.datetime64) -> np.ndarray:
        if self._country is None:
            return np.array(sorted(self._holiday_set), dtype="datetime64[D]")
        import holidays as _hol

        country, _, subdiv = self._country.partition("-")
        years = range(int(str(first)[:4]), int(str(last)[:4]) + 1)
        try:
            cal = _hol.country_holidays(country, subdiv=subdiv or None, years=years)
        except (NotImplementedError, KeyError) as err:
            raise ParameterError(f"The holidays library has no calendar {self._country!r} "
                                 f"({err}).") from None
        return np.array(sorted(cal), dtype="datetime64[D]")

    def _cumulative(self, local_naive: np.ndarray) -> np.ndarray:
        """Working minutes from the first day in ``local_naive`` to each time (NaT → NaN)."""
        t = local_naive.astype("datetime64[s]")
        ok = ~np.isnat(t)
        out = np.full(t.shape, np.nan)
        if not ok.any():
            return out
        day = t.astype("datetime64[D]")
        first, last = day[ok].min(), day[ok].max()
        ndays = int((last - first).astype(int)) + 1
        alldays = first + np.arange(ndays)
        wd = (alldays.astype("datetime64[D]").view("int64") + 3) % 7        # 0 = Monday
        per_wd = np.array([sum(b - a for a, b in s) for s in self._spans], float)
        daily = per_wd[wd]
        hol = self._holiday_days(first, last)
        if len(hol):
            daily[np.isin(alldays, hol)] = 0.0
        cum = np.r_[0.0, np.cumsum(daily)]                   # minutes before each day
        di = (day[ok] - first).astype(int)
        mins = (t[ok] - day[ok]).astype("timedelta64[s]").astype(float) / 60.0
        w = (day[ok].view("int64") + 3) % 7
        part = np.zeros(len(di))
        for k, spans in enumerate(self._spans):             # ≤ 7 days × few intervals
            m = w == k
            if not m.any():
                continue
            for a, b in spans:
                part[m] += np.clip(mins[m], a, b) - a
        part[daily[di] == 0] = 0.0
        out[ok] = cum[di] + part
        return out


def _to_local(ts, tz: str) -> np.ndarray:
    s = pd.Series(pd.to_datetime(ts, utc=True) if not isinstance(ts, pd.Series)
                  else ts)
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, errors="coerce")
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize("UTC")
    return s.dt.tz_convert(tz).dt.tz_localize(None).to_numpy(dtype="datetime64[s]")


def working_hours(start, end, calendar: WorkCalendar | Mapping[Any, WorkCalendar] | None,
                  *, unit=None) -> np.ndarray:
    """Working hours between ``start`` and ``end``, element-wise.

    Parameters
    ----------
    start, end : timestamps (scalar, array, Series)
        Tz-aware times, or naive times meaning UTC.
    calendar : WorkCalendar, dict of WorkCalendar, or None
        One calendar for all intervals; or ``{unit: WorkCalendar}`` with
        ``unit=`` naming each interval's unit (per-unit schedules and time
        zones; units without a calendar get ``NaN``, a key ``None`` is the
        default). ``None``: wall-clock hours.
    unit : array-like, optional
        The unit of each interval when ``calendar`` is a dict.

    Returns
    -------
    ndarray of float
        Hours; ``NaN`` where a time is missing. Negative when ``end`` is
        before ``start``.

    Examples
    --------
    >>> cal = {"desk": WorkCalendar(), "noc": WorkCalendar(
    ...     hours={d: [("00:00", "24:00")] for d in ["mon", "tue", "wed", "thu", "fri",
    ...                                                "sat", "sun"]})}
    >>> t0 = pd.Series(pd.to_datetime(["2024-03-02 10:00"] * 2, utc=True))  # a Saturday
    >>> working_hours(t0, t0 + pd.Timedelta(hours=5), cal, unit=["desk", "noc"])
    array([0., 5.])
    """
    a = pd.Series(np.atleast_1d(start)) if not isinstance(start, pd.Series) else start
    b = pd.Series(np.atleast_1d(end)) if not isinstance(end, pd.Series) else end
    if len(a) != len(b):
        raise ParameterError(f"start and end have different lengths ({len(a)}, {len(b)}).")
    if calendar is None:
        a2, b2 = _to_local(a, "UTC"), _to_local(b, "UTC")
        return (b2 - a2).astype("timedelta64[s]").astype(float) / 3600.0 \
            if len(a2) else np.zeros(0)
    if isinstance(calendar, WorkCalendar):
        cals, idx = [calendar], np.zeros(len(a), dtype=int)
    elif isinstance(calendar, Mapping):
        if unit is None:
            raise ParameterError("A dict of calendars needs unit= (the unit of each interval).")
        u = pd.Series(np.asarray(unit, dtype=object))
        if len(u) != len(a):
            raise ParameterError("unit= must have one value per interval.")
        keys = [k for k in calendar if k is not None]
        idx = pd.Index(keys, dtype=object).get_indexer(u.to_numpy()).astype(int)
        cals = [calendar[k] for k in keys]
        if None in calendar:
            idx = np.where(idx < 0, len(cals), idx)
            cals.append(calendar[None])
    else:
        raise ParameterError("calendar must be a WorkCalendar, a dict of them, or None.")
    out = np.full(len(a), np.nan)
    for k, cal in enumerate(cals):
        m = idx == k
        if not m.any():
            continue
        la = _to_local(a[m].reset_index(drop=True) if isinstance(a, pd.Series) else a[m],
                       cal.tz)
        lb = _to_local(b[m].reset_index(drop=True) if isinstance(b, pd.Series) else b[m],
                       cal.tz)
        w = cal._cumulative(np.r_[la, lb])
        out[m] = (w[len(la):] - w[:len(la)]) / 60.0
    return out


_DEFAULT_PAUSE = ("Wait - User", "Wait - Customer", "Wait - Vendor", "Waiting for customer",
                  "Awaiting User Info", "On Hold", "Pending")


def sla_clocks(log, *, case: str = "case", timestamp: str = "timestamp",
               status: str = "status", respond: Iterable[str] | None = None,
               resolve: Iterable[str] = ("Resolved", "Closed", "Completed", "Done"),
               pause: Iterable[str] = _DEFAULT_PAUSE, calendar=None,
               unit: str | None = None) -> pd.DataFrame:
    """Response and resolution clocks per ticket, paused in waiting statuses.

    A ticket's status holds from its row's time until the next row. The
    **response** clock runs from the first row until the first row whose
    status is in ``respond`` (default: any status other than the first one);
    the **resolution** clock runs until the first row whose status is in
    ``resolve``. Both stop while the status is in ``pause`` (waiting for the
    client, on hold …) and, with a ``calendar``, outside working time.

    Parameters
    ----------
    log : DataFrame
        One row per status change (see :func:`icnet._xes.read_tickets`).
    case, timestamp, status : str
        Column names.
    respond, resolve, pause : iterables of str
        Status values (exact match).
    calendar : WorkCalendar, dict of WorkCalendar, or None
        Working time (``None``: wall-clock hours). With a dict, ``unit=``
        names the column giving the unit whose calendar applies to each row.
    unit : str, optional
        Column of the unit holding the ticket at each row.

    Returns
    -------
    DataFrame
        One row per case: ``case``, ``opened_at``, ``responded_at``,
        ``resolved_at`` (``NaT`` if not yet), ``response_hours``,
        ``resolution_hours`` (clock time, pauses excluded; ``NaN`` while the
        clock is still running), ``paused_hours`` (until resolution or the
        last row), ``hours_basis`` (``"working"`` or ``"wall-clock"``) and
        ``open_reason`` (why a clock is ``NaN``: ``"not responded"``,
        ``"not resolved"``, or empty).

    Examples
    --------
    >>> log = pd.DataFrame({"case": ["T1"] * 4, "status": ["New", "In Progress",
    ...                     "Wait - User", "Resolved"],
    ...     "timestamp": pd.to_datetime(["2024-03-01 09:00", "2024-03-01 10:00",
    ...                                  "2024-03-01 12:00", "2024-03-04 11:00"], utc=True)})
    >>> c = sla_clocks(log, calendar=WorkCalendar())
    >>> c[["response_hours", "resolution_hours", "paused_hours"]]
       response_hours  resolution_hours  paused_hours
    0             1.0               3.0           7.0
    """
    need = [c for c in (case, timestamp, status) + ((unit,) if unit else ()) if c not in log]
    if need:
        raise SchemaError(f"sla_clocks: log is missing column(s) {need}; it has "
                          f"{list(log.columns)[:20]}. Name them with case=, timestamp=, status=.")
    ts = pd.to_datetime(log[timestamp], utc=True, errors="coerce")
    if ts.isna().any():
        rows = np.flatnonzero(ts.isna().to_numpy())[:5].tolist()
        raise SchemaError(f"sla_clocks: column {timestamp!r} has {int(ts.isna().sum())} "
                          f"missing or invalid times (rows {rows}). Fix or drop them.")
    df = pd.DataFrame({"case": log[case].to_numpy(),
                       "t": ts.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]"),
                       "s": log[status].astype(object).to_numpy(),
                       "u": log[unit].to_numpy() if unit else None,
                       "row": np.arange(len(log))})
    df = df.sort_values(["case", "t", "row"], kind="mergesort").reset_index(drop=True)
    g = df.groupby("case", sort=False)
    nxt_t = g["t"].shift(-1)
    last = nxt_t.isna().to_numpy()
    first = g.cumcount().to_numpy() == 0
    if isinstance(calendar, Mapping):
        hrs = working_hours(df["t"], nxt_t, calendar, unit=df["u"])
    else:
        hrs = working_hours(df["t"], nxt_t, calendar)
    hrs = np.where(last, 0.0, hrs)
    paused = df["s"].isin(list(pause)).to_numpy()
    resolved = df["s"].isin(list(resolve)).to_numpy()
    if respond is None:
        first_s = g["s"].transform("first").to_numpy()
        responded = (df["s"].to_numpy() != first_s) & ~first
    else:
        responded = df["s"].isin(list(respond)).to_numpy() & ~first
    # rows at or after the first resolve / response row of their case
    after_res = pd.Series(resolved).groupby(df["case"].to_numpy(), sort=False).cummax(
    ).to_numpy()
    after_resp = pd.Series(responded).groupby(df["case"].to_numpy(), sort=False).cummax(
    ).to_numpy()
    run = np.where(paused, 0.0, hrs)
    key = df["case"].to_numpy()
    per = pd.DataFrame({"case": key, "res": np.where(after_res, 0.0, run),
                        "resp": np.where(after_resp, 0.0, run),
                        "pz": np.where(paused & ~after_res, hrs, 0.0),
                        "t": df["t"]})
    agg = per.groupby("case", sort=False).agg(
        opened_at=("t", "first"), res=("res", "sum"), resp=("resp", "sum"),
        paused_hours=("pz", "sum"))
    t_res = df["t"].where(resolved).groupby(key, sort=False).min()
    t_resp = df["t"].where(responded).groupby(key, sort=False).min()
    out = pd.DataFrame({"case": agg.index.to_numpy(), "opened_at": agg["opened_at"].to_numpy(),
                        "responded_at": t_resp.reindex(agg.index).to_numpy(),
                        "resolved_at": t_res.reindex(agg.index).to_numpy()})
    for col in ("opened_at", "responded_at", "resolved_at"):
        out[col] = pd.to_datetime(out[col]).dt.tz_localize("UTC")
    out["response_hours"] = np.where(out["responded_at"].isna(), np.nan, agg["resp"].to_numpy())
    out["resolution_hours"] = np.where(out["resolved_at"].isna(), np.nan,
                                       agg["res"].to_numpy())
    out["paused_hours"] = agg["paused_hours"].to_numpy()
    out["hours_basis"] = "wall-clock" if calendar is None else "working"
    out["open_reason"] = np.select(
        [out["responded_at"].isna(), out["resolved_at"].isna()],
        ["not responded", "not resolved"], "")
    out = out.sort_values("case", kind="mergesort").reset_index(drop=True)
    out.attrs["params"] = {"respond": None if respond is None else list(respond),
                           "resolve": list(resolve), "pause": list(pause),
                           "calendar": None if calendar is None else repr(calendar)}
    return out
