"""Synthetic organisations with planted, known patterns (ground truth).

:func:`organisation` generates the four icnet tables (events, people, ratings,
agreements) for a company whose units depend on each other the way real ones
do (production needs maintenance, purchasing, quality and IT; sales needs
production, logistics and finance; everybody needs IT and HR), with
heavy-tailed workloads, about 30 % reciprocal relations, provider-specific
delays, client-specific rating leniency, weekly and annual seasonality and an
organisation-wide shock month. On top of that it plants patterns whose truth
is returned exactly: bottleneck providers, conflict cycles, retaliation
spirals, chronic conflicts, avoidance, idle units, missing agreements and
overdue reviews.

Everything is vectorised over events; the same arguments give the same
tables, byte for byte.

Examples
--------
>>> from icnet import synth
>>> org = synth.organisation(n_people=60, days=120, seed=1)
>>> sorted(org.truth.to_dict())[:3]
['avoidance', 'bottlenecks', 'chronic']
>>> org.events.columns.tolist()[:4]
['event_id', 'provider', 'client', 'requested_at']
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from . import _validate
from .errors import BudgetExceededError, ParameterError

__all__ = ["Plant", "Truth", "Organisation", "organisation", "write", "UNITS"]

#: The named units, their service and who they depend on (client → providers with weight).
UNITS = {
    "Produccion": ("material", {"Mantenimiento": 3, "Compras": 2, "Calidad": 2,
                                "Informatica": 2, "Logistica": 1, "RRHH": 0.5}),
    "Mantenimiento": ("maintenance", {"Compras": 2, "Informatica": 1, "Produccion": 1,
                                      "RRHH": 0.5}),
    "Calidad": ("quality", {"Produccion": 2, "Informatica": 1, "Compras": 0.5, "RRHH": 0.5}),
    "Informatica": ("it", {"Compras": 1, "Finanzas": 0.5, "RRHH": 0.5}),
    "Compras": ("material", {"Finanzas": 2, "Calidad": 1, "Logistica": 1, "Informatica": 1,
                             "RRHH": 0.5}),
    "Logistica": ("logistics", {"Produccion": 2, "Compras": 1, "Informatica": 1,
                                "RRHH": 0.5}),
    "Ventas": ("sales", {"Produccion": 3, "Logistica": 2, "Finanzas": 2, "Informatica": 2,
                         "Calidad": 1, "RRHH": 0.5}),
    "Atencion al cliente": ("information", {"Ventas": 2, "Logistica": 2, "Calidad": 1,
                                            "Informatica": 2, "RRHH": 0.5}),
    "RRHH": ("hr", {"Finanzas": 1, "Informatica": 1}),
    "Finanzas": ("finance", {"Ventas": 1, "Compras": 1, "Informatica": 1, "RRHH": 0.5}),
}
_EXTERNAL = {"Ventas", "Atencion al cliente"}
_SIZE = {"Produccion": 5, "Mantenimiento": 1.5, "Calidad": 1.2, "Informatica": 1,
         "Compras": 1, "Logistica": 1.5, "Ventas": 1.5, "Atencion al cliente": 1.2,
         "RRHH": 0.6, "Finanzas": 0.7}
_BASE_DELAY = {"material": 20, "maintenance": 10, "quality": 12, "it": 16, "logistics": 18,
               "sales": 8, "information": 6, "hr": 30, "finance": 24}
_DIMENSIONS = ["reliability", "responsiveness", "assurance", "empathy", "tangibles"]


@dataclass(frozen=True)
class Plant:
    """What to plant (counts; 0 = none).

    Attributes
    ----------
    bottlenecks : int, default 1
        Overloaded providers (their delay grows with the backlog over the year).
    conflict_cycles : tuple of int, default (2, 3)
        Lengths of mutually dissatisfied cycles (2 to 4).
    spirals : int, default 2
        Retaliation spirals between pairs of people.
    chronic : int, default 1
        Chronic mutual conflicts without escalation.
    avoidance : int, default 1
        Providers that clients stop asking (they go to a peer).
    idle_units : int, default 1
        Units whose members serve nobody internally.
    missing_agreements : int, default 3
        Unit relations left without an agreement.
    overdue_reviews : int, default 2
        Agreements whose review is overdue at the end of the data.
    shock : bool, default True
        An organisation-wide bad month (always planted unless False; it is
        nobody's retaliation).
    spiral_units, chronic_units : tuple of (str, str), default ()
        Optional unit pairs for the planted spirals / chronic conflicts, in
        order (e.g. ``(("Produccion", "Calidad"),)``); random units otherwise.
    """

    bottlenecks: int = 1
    conflict_cycles: tuple = (2, 3)
    spirals: int = 2
    chronic: int = 1
    avoidance: int = 1
    idle_units: int = 1
    missing_agreements: int = 3
    overdue_reviews: int = 2
    shock: bool = True
    spiral_units: tuple = ()
    chronic_units: tuple = ()

    @classmethod
    def none(cls) -> "Plant":
        """Pattern-free data (the shock month stays: it is not a pattern)."""
        return cls(0, (), 0, 0, 0, 0, 0, 0, True, (), ())


@dataclass
class Truth:
    """What was planted, exactly (ids as in the tables; times as ISO strings)."""

    bottlenecks: list = field(default_factory=list)      # [{"person", "unit"}]
    conflict_cycles: list = field(default_factory=list)  # [[p1, p2, …]]: p1→p2→…→p1 bad
    # [{"a", "b", "initiator", "onset", "end", "rounds"}]
    spirals: list = field(default_factory=list)
    chronic: list = field(default_factory=list)          # [[a, b]]
    # [{"provider", "alternative", "date", "clients"}]
    avoidance: list = field(default_factory=list)
    idle_units: list = field(default_factory=list)
    missing_agreements: list = field(default_factory=list)  # [[provider_unit, client_unit]]
    overdue_reviews: list = field(default_factory=list)     # [[provider_unit, client_unit]]
    shock: dict = field(default_factory=dict)               # {"start", "end"}
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain Python types only."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys)."""
        return json.dumps(asdict(self), sort_keys=True, indent=1, default=str,
                          ensure_ascii=False)


@dataclass(frozen=True)
class Organisation:
    """The generated tables and their truth."""

    events: pd.DataFrame
    people: pd.DataFrame
    ratings: pd.DataFrame
    agreements: pd.DataFrame
    truth: Truth

    def network(self, **kw):
        """``icnet.from_events`` on these tables."""
        from .network import from_events

        return from_events(self.events, people=self.people, ratings=self.ratings,
                           agreements=self.agreements, **kw)


def _start(start, days: int) -> pd.Timestamp:
    """``start`` as a timestamp in the supported range (refused, never wrapped: #20)."""
    from ._engine import RELATIVE_DATES
    if isinstance(start, str) and start.strip().lower() in RELATIVE_DATES:
        raise ParameterError(
            f"The 'start' parameter must be a date such as '2025-01-01'; got {start!r}, "
            "which would read the clock (the organisation would change with the day).")
    if not isinstance(start, (str, _dt.date, np.datetime64)):
        raise ParameterError(
            f"The 'start' parameter must be a date such as '2025-01-01'; got {start!r} "
            f"({type(start).__name__}).")
    try:
        t0 = pd.Timestamp(start)
    except (ValueError, TypeError, OverflowError):
        raise ParameterError(
            f"The 'start' parameter must be a date such as '2025-01-01'; got {start!r}."
        ) from None
    if pd.isna(t0):
        raise ParameterError(f"The 'start' parameter must be a date; got {start!r}.")
    if t0.tzinfo is not None:
        t0 = t0.tz_convert("UTC").tz_localize(None)
    lo, hi = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
    if t0 < lo or t0 + pd.Timedelta(days=int(days) + 366) >= hi:
        raise ParameterError(
            f"The 'start' parameter must lie between 1900 and 2200 minus the {days} days "
            f"generated and a year of late deliveries; got {start!r}. Use a date such as "
            "'2025-01-01'.")
    return t0


def _plant(plant) -> Plant:
    if plant is None:
        return Plant()
    if isinstance(plant, Plant):
        return plant
    if isinstance(plant, str) and plant == "none":
        return Plant.none()
    if isinstance(plant, dict):
        names = {f.name for f in fields(Plant)}
        bad = sorted(set(plant) - names)
        if bad:
            raise ParameterError(f"Unknown plant keys {bad}; use {sorted(names)}.")
        kw = dict(plant)
        if "conflict_cycles" in kw:
            cc = kw["conflict_cycles"]
            kw["conflict_cycles"] = tuple([2] * cc if isinstance(cc, int) else cc)
        return Plant(**kw)
    raise ParameterError(
        f"The 'plant' parameter must be None, 'none', a dict or a Plant; got {plant!r}.")


def organisation(n_people: int = 150, *, n_units: int | None = None, days: int = 365,
                 seed=0, plant=None, start: str = "2025-01-01",
                 events_per_person: float = 150.0, max_events: float = 5e7) -> Organisation:
    """Generate an organisation with planted patterns and their exact truth.

    Parameters
    ----------
    n_people : int, default 150
    n_units : int, optional
        Default: the 10 named units (fewer for very small organisations,
        extra generic units ``U11``… for large ones).
    days : int, default 365
    seed : int or numpy Generator
    plant : None, "none", dict or Plant
        None plants the defaults of :class:`Plant`; "none" gives pattern-free
        data (with the shared shock month).
    start : str, default "2025-01-01"
        A date (``str``, ``datetime`` or ``pandas.Timestamp``) from 1900 on,
        such that ``start + days`` (plus a year for late deliveries) stays
        before 2200; clock words (``"now"``, ``"today"``) and numbers are
        refused (:class:`~icnet.errors.ParameterError`).
    events_per_person : float, default 150
        Expected events provided per person and year (150 people → about
        22,000 events; 20,000 people with 250 → about 5 M).
    max_events : float, default 5e7
        Budget: refuse (:class:`~icnet.errors.BudgetExceededError`) an
        organisation expected to hold more events
        (``n_people × events_per_person × days / 365``), which would not fit
        one machine's memory.

    Returns
    -------
    Organisation

    Examples
    --------
    >>> org = organisation(n_people=40, days=90, seed=0, plant="none")
    >>> org.truth.spirals, len(org.people)
    ([], 40)
    """
    _validate.in_range("n_people", n_people, low=8, integer=True)
    _validate.in_range("days", days, low=28, integer=True)
    _validate.in_range("events_per_person", events_per_person, low=1)
    _validate.in_range("max_events", max_events, low=1)
    expected = float(n_people) * float(events_per_person) * float(days) / 365.0
    if expected > max_events:
        raise BudgetExceededError(
            f"organisation(n_people={n_people:,}, days={days:,}, events_per_person="
            f"{events_per_person:g}) would generate about {expected:,.0f} events, more than "
            f"max_events={max_events:,.0f}. Generate a smaller organisation (fewer people or "
            "days) or raise max_events if the memory is there.")
    p = _plant(plant)
    rng = _validate.rng(seed)
    t0 = _start(start, days)
    end = t0 + pd.Timedelta(days=days)

    # ---------------------------------------------------------------- units, people
    names = list(UNITS)
    if n_units is None:
        n_units = 10 if n_people >= 60 else max(3, n_people // 6)
        n_units += max(0, (n_people - 2000) // 1000)
    _validate.in_range("n_units", n_units, low=3, high=n_people // 2, integer=True)
    units = names[:min(n_units, 10)] + [f"U{i + 1:02d}" for i in range(10, n_units)]
    U = len(units)
    service = np.array([UNITS[u][0] if u in UNITS else ("information", "document",
                        "material")[i % 3] for i, u in enumerate(units)], dtype=object)
    dep = np.zeros((U, U))  # dep[client unit, provider unit]
    for i, u in enumerate(units):
        if u in UNITS:
            for v, w in UNITS[u][1].items():
                if v in units:
                    dep[i, units.index(v)] = w
    extra = np.arange(U) >= 10
    if extra.any():
        r = rng.random((U, U)) < 0.25
        dep[extra] += r[extra] * rng.uniform(0.5, 2, (U, U))[extra]
        dep[:, extra] += (rng.random((U, extra.sum())) < 0.1) * 1.0
    np.fill_diagonal(dep, 0)
    for i in range(U):
        if dep[i].sum() == 0:
            dep[i, (i + 1) % U] = 1.0
    size_w = np.array([_SIZE.get(u, 1.0) for u in units])
    unit_of = np.sort(np.r_[np.arange(U), rng.choice(U, n_people - U, p=size_w / size_w.sum())])
    width = max(4, len(str(n_people)))
    pid = np.array([f"P{i + 1:0{width}d}" for i in range(n_people)], dtype=object)
    first = np.r_[0, np.flatnonzero(np.diff(unit_of)) + 1]
    is_head = np.zeros(n_people, bool)
    is_head[first] = True
    ext_unit = np.array([u in _EXTERNAL for u in units]) if any(u in _EXTERNAL for u in units) \
        else np.arange(U) == U - 1
    people = pd.DataFrame({
        "person": pid, "unit": np.array(units, dtype=object)[unit_of],
        "manager": np.where(is_head, None, pid[first][unit_of]).astype(object),
        "role": np.where(is_head, "head", np.where(np.array(units)[unit_of] == "Produccion",
                                                   "operator", "staff")).astype(object),
        "external_facing": ext_unit[unit_of]})

    # ---------------------------------------------------------------- relations
    members = [np.flatnonzero(unit_of == u) for u in range(U)]
    popularity = rng.lognormal(0, 0.8, n_people)
    idle_units = []
    if p.idle_units:
        cand = [u for u in range(U) if units[u] not in ("Informatica", "Produccion",
                                                         "Mantenimiento") and not ext_unit[u]]
        idle = sorted(rng.choice(cand, min(p.idle_units, len(cand)), replace=False).tolist())
        idle_units = [units[u] for u in idle]
        dep[:, idle] = 0
        for i in range(U):
            if dep[i].sum() == 0:
                dep[i, [u for u in range(U) if u not in idle and u != i][0]] = 1.0
    n_rel = np.maximum(1, np.round(rng.lognormal(np.log(4), 0.5, n_people))).astype(int)
    cli = np.repeat(np.arange(n_people), n_rel)
    pu = _rows_choice(rng, dep[unit_of[cli]])
    within = rng.random(len(cli)) < 0.12
    within &= np.array([len(members[u]) > 1 for u in range(U)])[unit_of[cli]]
    within &= ~np.isin(unit_of[cli], [units.index(u) for u in idle_units])
    pu = np.where(within, unit_of[cli], pu)
    prov = _pick_members(rng, members, popularity, pu)
    ok = prov != cli
    rel = pd.DataFrame({"p": prov[ok], "c": cli[ok]}).drop_duplicates().to_numpy()
    # reciprocity: add the reverse of some relations (never into idle units as providers)
    rev = rel[:, ::-1]
    take = rng.random(len(rev)) < 0.22
    take &= ~np.isin(unit_of[rev[:, 0]], [units.index(u) for u in idle_units])
    rel = np.unique(np.r_[rel, rev[take]], axis=0)
    P, C = rel[:, 0], rel[:, 1]

    # ---------------------------------------------------------------- heterogeneity
    p_quality = rng.normal(3.9, 0.35, n_people)       # how well a provider serves
    c_leniency = rng.normal(0.0, 0.35, n_people)      # how kindly a client rates
    p_delay = np.array([_BASE_DELAY.get(s, 12) for s in service])[unit_of] * \
        rng.lognormal(0, 0.4, n_people)
    rate = rng.lognormal(0, 0.9, len(P)) * popularity[P] ** 0.5
    rate *= events_per_person * n_people * days / 365.0 / rate.sum()  # expected events
    truth = Truth(idle_units=idle_units)
    rel_q = np.zeros(len(P))  # relation quality shift

    # ---------------------------------------------------------------- planted relations
    planted = []  # (provider, client, expected events, quality shift) extra relations
    taken: set[int] = set()

    def pick(unit=None, exclude=(), active=True):
        pool = np.arange(n_people) if unit is None else members[unit]
        pool = [x for x in pool if x not in taken and x not in exclude and not is_head[x]]
        if unit is None:
            pool = [x for x in pool if units[unit_of[x]] not in idle_units]
        if not pool:
            pool = [x for x in (np.arange(n_people) if unit is None else members[unit])
                    if x not in exclude]
        x = int(rng.choice(pool))
        taken.add(x)
        return x

    bott = []
    if p.bottlenecks:
        it = units.index("Informatica") if "Informatica" in units else 0
        for _ in range(p.bottlenecks):
            b = pick(it)
            bott.append(b)
            truth.bottlenecks.append({"person": pid[b], "unit": units[unit_of[b]]})
            # everybody, and the external-facing units most, depends on it
            k = max(10, n_people // 6)
            pool = np.flatnonzero(unit_of != unit_of[b])
            clients = rng.choice(pool, min(k, pool.size), replace=False)  # small orgs
            for c in clients:
                planted.append((b, int(c), 12.0 * (2 if ext_unit[unit_of[c]] else 1), 0.0))
    used_units: list[int] = []

    def distinct_people(k, hint=None):
        if hint is not None:
            bad = [h for h in hint if h not in units]
            if bad:
                raise ParameterError(f"Unknown unit(s) {bad} in plant; units are {units}.")
            return [pick(units.index(h)) for h in hint]
        us = [u for u in rng.permutation(U).tolist() if units[u] not in idle_units
              and u not in used_units][:k]
        if len(us) < k:
            us = [u for u in rng.permutation(U).tolist() if units[u] not in idle_units][:k]
        used_units.extend(us)
        return [pick(u) for u in us]

    for L in p.conflict_cycles:
        _validate.in_range("conflict cycle length", L, low=2, high=4, integer=True)
        cyc = distinct_people(L)
        truth.conflict_cycles.append([pid[x] for x in cyc])
        for i in range(L):
            planted.append((cyc[i], cyc[(i + 1) % L], 30.0, -2.2))
    spiral_pairs = []
    for i in range(p.spirals):
        a, b = distinct_people(2, p.spiral_units[i] if i < len(p.spiral_units) else None)
        spiral_pairs.append((a, b))
        planted += [(a, b, 3.0 * days / 7, 0.0), (b, a, 3.0 * days / 7, 0.0)]
    chronic = []
    for i in range(p.chronic):
        a, b = distinct_people(2, p.chronic_units[i] if i < len(p.chronic_units) else None)
        chronic.append((a, b))
        truth.chronic.append([pid[a], pid[b]])
        planted += [(a, b, 2.5 * days / 7, -1.8), (b, a, 2.5 * days / 7, -1.8)]
    avoid = []
    for _ in range(p.avoidance):
        mu = units.index("Mantenimiento") if "Mantenimiento" in units else 0
        if len(members[mu]) < 2:
            break
        a = pick(mu)
        alt = pick(mu, exclude=(a,))
        cu = units.index("Produccion") if "Produccion" in units and mu != 0 else (mu + 1) % U
        clients = [int(c) for c in members[cu] if c != a][:max(5, len(members[cu]) // 2)]
        date = t0 + pd.Timedelta(days=int(days * rng.uniform(0.4, 0.6)))
        avoid.append((a, alt, date, clients))
        truth.avoidance.append({"provider": pid[a], "alternative": pid[alt],
                                "date": date.isoformat(), "clients": [pid[c] for c in clients]})
        for c in clients:
            planted.append((a, c, 10.0, -0.3))
            planted.append((alt, c, 10.0, 0.0))
    if planted:
        P = np.r_[P, [x[0] for x in planted]]
        C = np.r_[C, [x[1] for x in planted]]
        rate = np.r_[rate, [x[2] for x in planted]]
        rel_q = np.r_[rel_q, [x[3] for x in planted]]
        key = pd.DataFrame({"p": P, "c": C, "r": rate, "q": rel_q})
        # a planted relation replaces an organic one between the same two people
        key = key.groupby(["p", "c"], sort=True).agg(r=("r", "max"), q=("q", "min")).reset_index()
        P, C = key["p"].to_numpy(), key["c"].to_numpy()
        rate, rel_q = key["r"].to_numpy(), key["q"].to_numpy()

    # ---------------------------------------------------------------- events
    n_ev = rng.poisson(rate)
    r_idx = np.repeat(np.arange(len(P)), n_ev)
    N = len(r_idx)
    dayw = np.ones(days)
    dow = (t0.day_of_week + np.arange(days)) % 7
    dayw[dow >= 5] = 0.15
    dayw *= 1 + 0.25 * np.sin(2 * np.pi * (t0.day_of_year + np.arange(days)) / 365.25)
    day = rng.choice(days, N, p=dayw / dayw.sum())
    minute = day * 1440 + rng.integers(7 * 60, 19 * 60, N)
    ev_p, ev_c = P[r_idx], C[r_idx]
    frac_t = minute / (days * 1440.0)
    shock_day = int(days * 0.55) if p.shock else -10**6
    shock = (day >= shock_day) & (day < shock_day + 30)
    if p.shock:
        truth.shock = {"start": (t0 + pd.Timedelta(days=shock_day)).isoformat(),
                       "end": (t0 + pd.Timedelta(days=shock_day + 30)).isoformat()}
    delay = p_delay[ev_p] * rng.lognormal(0, 0.6, N) * np.where(shock, 1.6, 1.0)
    sat = p_quality[ev_p] + c_leniency[ev_c] + rel_q[r_idx] + rng.normal(0, 0.7, N)
    sat -= np.where(shock, 0.8, 0.0)
    for b in bott:  # backlog builds: delay grows with time and load
        unit_m = unit_of[ev_p] == unit_of[b]   # the whole unit is overloaded, b the most
        delay[unit_m] *= 1 + 0.8 * frac_t[unit_m]
        m = ev_p == b
        delay[m] = p_delay[b] * 2 * (1 + 6 * frac_t[m]) * rng.lognormal(0, 0.4, m.sum())
        sat[m] -= 1.0 * frac_t[m]
    keep = np.ones(N, bool)
    for a, alt, date, clients in avoid:
        after = minute >= (date - t0) / pd.Timedelta(minutes=1)
        m = (ev_p == a) & np.isin(ev_c, clients) & after
        keep &= ~(m & (rng.random(N) < 0.85))
        m2 = (ev_p == alt) & np.isin(ev_c, clients)
        keep &= ~(m2 & ~after & (rng.random(N) < 0.85))
    # spirals: alternating, escalating bad service after the onset
    bad_round = np.zeros(N, bool)
    for a, b in spiral_pairs:
        init, other = (a, b) if rng.random() < 0.5 else (b, a)
        onset_day = int(days * rng.uniform(0.25, 0.45))
        rounds = int(rng.integers(6, 11))
        gap = 4.0  # days between rounds
        times = onset_day * 1440 + 600 + np.arange(rounds) * gap * 1440
        who = np.where(np.arange(rounds) % 2 == 0, init, other)
        # the round events themselves
        extra_p = who
        extra_c = np.where(who == init, other, init)
        r_ids = [int(np.flatnonzero((P == x) & (C == y))[0]) for x, y in zip(extra_p, extra_c)]
        r_idx = np.r_[r_idx, r_ids]
        ev_p, ev_c = np.r_[ev_p, extra_p], np.r_[ev_c, extra_c]
        minute = np.r_[minute, times.astype(int)]
        level = np.arange(rounds) + 1
        delay = np.r_[delay, p_delay[extra_p] * (2 + 0.6 * level)]
        sat = np.r_[sat, 2.2 - 0.25 * level]
        keep = np.r_[keep, np.ones(rounds, bool)]
        bad_round = np.r_[bad_round, np.ones(rounds, bool)]
        shock = np.r_[shock, np.zeros(rounds, bool)]
        frac_t = np.r_[frac_t, times / (days * 1440.0)]
        # ordinary exchanges of the pair degrade with the bad service received (strict past)
        for x, y in ((init, other), (other, init)):
            m = np.flatnonzero((ev_p == x) & (ev_c == y) & ~bad_round)
            recv = times[who == y]
            # decayed exposure to the bad service received (strict past, 10-day memory),
            # weighted by the escalation level of each round
            lev = (np.flatnonzero(who == y) + 1.0)
            dt = (minute[m][:, None] - recv[None, :]) / 1440.0
            expo = np.where(dt > 0, np.exp(-dt / 10.0) * (0.6 + 0.15 * lev), 0.0).sum(axis=1)
            sat[m] -= 1.6 * expo
            delay[m] *= 1 + 0.8 * expo
        truth.spirals.append({
            "a": pid[min(a, b)], "b": pid[max(a, b)], "initiator": pid[init],
            "onset": (t0 + pd.Timedelta(minutes=int(times[0]))).isoformat(),
            "end": (t0 + pd.Timedelta(minutes=int(times[-1]))).isoformat(),
            "rounds": rounds})
    ev_p, ev_c, minute = ev_p[keep], ev_c[keep], minute[keep]
    delay, sat, r_idx = delay[keep], sat[keep], r_idx[keep]
    N = len(ev_p)
    sat = np.clip(np.round(sat), 1, 5)
    sat[rng.random(N) < 0.35] = np.nan
    delay = np.round(np.maximum(delay, 0.1), 2)
    req = np.datetime64(t0.to_datetime64(), "m") + minute.astype("timedelta64[m]")
    deliv = req + (delay * 60).astype("timedelta64[m]")
    open_ = deliv > np.datetime64(end.to_datetime64(), "m")
    delay = np.where(open_, np.nan, delay)
    sat = np.where(open_, np.nan, sat)
    reopened = rng.random(N) < np.clip(0.03 + 0.04 * (3 - np.nan_to_num(sat, nan=3)), 0, 0.5)

    # ---------------------------------------------------------------- agreements
    pu_e, cu_e = unit_of[ev_p], unit_of[ev_c]
    rel_units = pd.DataFrame({"p": pu_e, "c": cu_e})
    rel_units = rel_units[rel_units.p != rel_units.c].value_counts().reset_index()
    rel_units = rel_units.sort_values(["p", "c"]).reset_index(drop=True)
    main = rel_units[rel_units["count"] >= max(20, rel_units["count"].quantile(0.3))]
    main = main[["p", "c"]].to_numpy()
    miss_idx = rng.choice(len(main), min(p.missing_agreements, len(main)), replace=False) \
        if p.missing_agreements else np.array([], int)
    present = np.setdiff1d(np.arange(len(main)), miss_idx)
    overdue_idx = rng.choice(present, min(p.overdue_reviews, len(present)), replace=False) \
        if p.overdue_reviews else np.array([], int)
    truth.missing_agreements = sorted([units[main[i, 0]], units[main[i, 1]]] for i in miss_idx)
    truth.overdue_reviews = sorted([units[main[i, 0]], units[main[i, 1]]] for i in overdue_idx)
    ag = main[present]
    every = np.where(rng.random(len(ag)) < 0.5, 90, 180)
    last = end - pd.to_timedelta(rng.integers(5, 60, len(ag)), "D")
    od = np.isin(present, overdue_idx)
    last = np.where(od, (end - pd.to_timedelta(every + rng.integers(30, 90, len(ag)), "D")),
                    last)
    max_delay = np.round(np.array([_BASE_DELAY.get(s, 12) for s in service])[ag[:, 0]] * 2.5)
    agreements = pd.DataFrame({
        "provider": np.array(units, dtype=object)[ag[:, 0]],
        "client": np.array(units, dtype=object)[ag[:, 1]],
        "service": service[ag[:, 0]], "max_delay_hours": max_delay.astype(float),
        "min_satisfaction": 3.5, "review_every": [f"{d}D" for d in every],
        "last_review": pd.to_datetime(last).normalize()})
    exp_map = pd.Series(max_delay.astype(float),
                        index=pd.MultiIndex.from_arrays([ag[:, 0], ag[:, 1]]))
    expected = exp_map.reindex(pd.MultiIndex.from_arrays([pu_e, cu_e])).to_numpy()

    # ---------------------------------------------------------------- events table
    order = np.lexsort((ev_c, ev_p, minute))
    events = pd.DataFrame({
        "event_id": np.char.add("E", np.char.zfill(np.arange(1, N + 1).astype(str), 7)),
        "provider": pid[ev_p[order]], "client": pid[ev_c[order]],
        "requested_at": req[order].astype("datetime64[ns]"),
        "delivered_at": np.where(open_[order], np.datetime64("NaT"), deliv[order])
        .astype("datetime64[ns]"),
        "delay_hours": delay[order], "satisfaction": sat[order],
        "service": service[unit_of[ev_p[order]]], "expected_hours": expected[order],
        "reopened": reopened[order]})
    events["event_id"] = events["event_id"].astype(object)

    # ---------------------------------------------------------------- survey
    ratings = _survey(rng, events, t0, end)
    truth.params = {"n_people": n_people, "n_units": U, "days": days, "start": str(t0.date()),
                    "events_per_person": events_per_person, "plant": asdict(p),
                    "seed": seed if isinstance(seed, (int, np.integer)) else None}
    return Organisation(events, people, ratings, agreements, truth)


def _rows_choice(rng, w):
    """One column index per row of the weight matrix ``w`` (vectorised)."""
    cw = np.cumsum(w, axis=1)
    u = rng.random(len(w)) * cw[:, -1]
    return (cw < u[:, None]).sum(axis=1)


def _pick_members(rng, members, popularity, units):
    """A member of each requested unit, chosen by popularity (vectorised per unit)."""
    out = np.empty(len(units), dtype=np.int64)
    for u in np.unique(units):
        m = members[u]
        idx = np.flatnonzero(units == u)
        w = popularity[m] / popularity[m].sum()
        out[idx] = rng.choice(m, len(idx), p=w)
    return out


def _survey(rng, events, t0, end):
    """Quarterly SERVQUAL survey consistent with the events."""
    ev = events.dropna(subset=["satisfaction"])
    q = ev["requested_at"].dt.to_period("Q")
    g = ev.groupby([q, "client", "provider"], sort=True)["satisfaction"].agg(["mean", "size"])
    g = g[g["size"] >= 3].reset_index()
    g = g[rng.random(len(g)) < 0.5].reset_index(drop=True)
    n = len(g)
    rep = np.repeat(np.arange(n), len(_DIMENSIONS))
    dims = np.tile(_DIMENSIONS, n)
    perc = np.clip(np.round(g["mean"].to_numpy()[rep] + rng.normal(0, 0.6, len(rep))), 1, 5)
    expc = np.clip(np.round(rng.normal(4.2, 0.6, len(rep))), 1, 5)
    rec = np.clip(np.round((g["mean"].to_numpy() - 1) / 4 * 10 + rng.normal(0, 1.2, n)), 0, 10)
    return pd.DataFrame({
        "rater": g["client"].to_numpy()[rep], "provider": g["provider"].to_numpy()[rep],
        "period": g["requested_at"].astype(str).to_numpy()[rep], "dimension": dims,
        "perception": perc.astype(int), "expectation": expc.astype(int),
        "recommend": rec.astype(int)[rep]})


def _bar(name: str, done: int, total: int, width: int = 30) -> None:
    frac = done / total if total else 1.0
    fill = int(round(width * frac))
    print(f"\ricnet: {name:<10} [{'#' * fill}{' ' * (width - fill)}] {frac:4.0%} "
          f"({done:,}/{total:,} rows)", end="", file=sys.stderr, flush=True)


def write(org: Organisation, out_dir, *, format: str = "csv", progress: bool = False) -> Path:
    """Write the tables and ``truth.json`` to ``out_dir``.

    Parameters
    ----------
    org : Organisation
    out_dir : str or path
    format : {"csv", "parquet"}
    progress : bool
        Draw a progress bar per file on standard error (large tables are
        written in chunks; the file's bytes do not depend on it).

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> d = write(organisation(n_people=30, days=60, seed=2), tempfile.mkdtemp())
    >>> sorted(p.name for p in d.iterdir())
    ['agreements.csv', 'events.csv', 'people.csv', 'ratings.csv', 'truth.json']
    """
    _validate.one_of("format", format, ["csv", "parquet"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opts = dict(index=False, lineterminator="\n", float_format="%.6g",
                date_format="%Y-%m-%dT%H:%M:%S")
    for name in ("events", "people", "ratings", "agreements"):
        df = getattr(org, name)
        path = out / f"{name}.{format}"
        if format == "csv":
            # chunks, so a progress bar can follow large tables; the bytes are the same
            step = max(len(df) // 20, 100_000) if progress else max(len(df), 1)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                for i, lo in enumerate(range(0, max(len(df), 1), step)):
                    df.iloc[lo:lo + step].to_csv(fh, header=(i == 0), **opts)
                    if progress:
                        _bar(name, min(lo + step, len(df)), len(df))
        else:
            df.to_parquet(path, index=False)
            if progress:
                _bar(name, len(df), len(df))
        if progress:
            print(file=sys.stderr)
    (out / "truth.json").write_text(org.truth.to_json() + "\n", encoding="utf-8")
    return out
