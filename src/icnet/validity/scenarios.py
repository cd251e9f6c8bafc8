"""Scenario generators of the validity suite: organisations built apart from the detectors.

Every scenario starts from the same *base organisation* (written here, not in
:mod:`icnet.synth`, and not reading any detector): units with a business
function, people in them, provider → client relations that follow the
functions' needs (production needs maintenance, sales needs production …),
about a third of them answered in the other direction too, and one year of
events per relation. Each event has a latent *loss* (0 = normal service; 1 =
one standard deviation worse) that lowers the client's rating and lengthens
the delay; mechanisms and confounders are planted by adding loss, rater bias
or delay to named events, and the ground truth is written from what was
really planted (a mechanism that had no event to act on is not in the truth).

Model of one event of relation *p → c* at time *t* (days 0–365)::

    m      = 3.8 + 0.6 (rel_q + prov_q) − 0.9 loss            (expected rating)
    rating = clip(round(m + rater_bias[c] + N(0, 0.7)), 1, 5)  (with prob. rate_prob)
    delay  = median[service] · exp(speed[p] + 0.5 N(0,1) + 0.7 loss) · slow(t)

with ``rel_q ~ N(0, 0.5)`` per relation, ``prov_q ~ N(0, 0.4)`` and
``speed ~ N(0, 0.25)`` per provider, 25 events a year per relation on average
(log-normal, sd 0.6). The expected rating of an event given ``m`` and the
rating noise ``s`` is :math:`1+\\sum_{k=1}^{4}\\Phi((m-k-0.5)/s)`, which gives
the *true* satisfaction of a relation (see :func:`true_satisfaction`).

Use :func:`generate` (``generate("lock_in", n_people=150, seed=3)``) or the
:data:`SCENARIOS` table (name, family, what is planted, what the truth holds).

Examples
--------
>>> from icnet.validity import scenarios
>>> d = scenarios.generate("episodic", n_people=60, seed=1)
>>> sorted(d.truth)
['spirals']
>>> list(d.truth["spirals"].columns[:4])
['a', 'b', 'mechanism', 'accept']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy import special

from ..errors import ParameterError

__all__ = ["ScenarioData", "Scenario", "SCENARIOS", "generate", "scenario_table",
           "true_satisfaction"]

T0 = pd.Timestamp("2025-01-01")
DAYS = 365.0
RATING_SD = 0.7

# business functions, the functions each one needs, typical delay (hours)
FUNCTIONS = ["sales", "service_desk", "production", "maintenance", "quality", "logistics",
             "purchasing", "it", "hr", "finance"]
EXTERNAL = {"sales", "service_desk"}
NEEDS = {
    "sales": ["production", "logistics", "it", "finance"],
    "service_desk": ["production", "it", "quality"],
    "production": ["maintenance", "purchasing", "quality", "logistics", "it", "hr"],
    "maintenance": ["purchasing", "it"],
    "quality": ["production", "it"],
    "logistics": ["production", "it"],
    "purchasing": ["finance", "it"],
    "it": ["hr", "finance"],
    "hr": ["it", "finance"],
    "finance": ["it", "hr"],
}
MEDIAN_HOURS = {"sales": 24.0, "service_desk": 8.0, "production": 48.0, "maintenance": 24.0,
                "quality": 16.0, "logistics": 24.0, "purchasing": 72.0, "it": 8.0, "hr": 40.0,
                "finance": 48.0}


@dataclass
class ScenarioData:
    """One generated organisation of a scenario.

    Attributes
    ----------
    name, seed, n_people : the scenario, its seed and size.
    events : DataFrame
        ``event_id``, ``provider``, ``client``, ``requested_at``,
        ``delivered_at`` (NaT = still open at the end of the data),
        ``satisfaction`` (1–5 or NaN = not rated), ``service``.
    people : DataFrame
        ``person``, ``unit``, ``manager``, ``role``, ``external_facing``.
    agreements : DataFrame or None
        Unit-level ``provider``, ``client``, ``service``, ``max_delay_hours``.
    log : DataFrame or None
        Ticket log (``case``, ``activity``, ``resource``, ``timestamp``) for
        :func:`icnet.from_process_log` (ticket scenarios only).
    truth : dict of DataFrame
        What was planted, by detector: ``spirals`` (``a``, ``b`` with a < b,
        ``mechanism``, ``accept`` = kinds that count as found, ``level``,
        ``initiator``, ``onset`` (datetime), ``rounds_fired``),
        ``bottlenecks`` (``node``, ``mechanism``, ``level``), ``conflicts``
        (``a``, ``b``: chronic mutual bad relations), ``quality``
        (``provider``, ``client``, ``level``, ``true_satisfaction``),
        ``agreements`` (``provider``, ``client``, ``service``,
        ``true_breach``), ``pingpong`` (``a``, ``b`` teams, ``n_bounces``).
        An empty table means "planted nothing of this kind": the scenario is
        a null for that detector.
    null_for : tuple of str
        Detectors for which this organisation is a null (no pattern planted).
    """

    name: str
    seed: int
    n_people: int
    events: pd.DataFrame
    people: pd.DataFrame
    agreements: pd.DataFrame | None = None
    log: pd.DataFrame | None = None
    truth: dict = field(default_factory=dict)
    null_for: tuple = ()

    def network(self, **kw):
        """``icnet.from_events`` on these tables (or ``from_process_log`` for tickets)."""
        import icnet
        if self.log is not None:
            return icnet.from_process_log(self.log, people=self.people, **kw)
        return icnet.from_events(self.events, people=self.people, agreements=self.agreements,
                                 **kw)


@dataclass(frozen=True)
class Scenario:
    """A named scenario: family, what it plants, what its truth holds, its builder."""

    name: str
    family: str          # "spiral", "bottleneck", "confounder", "quality", "tickets"
    plants: str
    truth: str
    build: Callable = field(repr=False)
    null_for: tuple = ()


# ---------------------------------------------------------------------------------------
# the base organisation


class _Org:
    """Mutable arrays of one organisation while mechanisms are planted."""

    def __init__(self, n_people, rng, *, rate_prob=0.5, rel_rate=25.0):
        if not 20 <= n_people <= 100_000:
            raise ParameterError(f"n_people must be between 20 and 100000, got {n_people}.")
        self.rng = rng
        self.n = n_people
        n_units = max(10, n_people // 12)
        self.unit_func = [FUNCTIONS[i % len(FUNCTIONS)] for i in range(n_units)]
        counts = {}
        names = []
        for f in self.unit_func:
            counts[f] = counts.get(f, 0) + 1
            names.append(f"{f}{counts[f]}" if counts[f] > 1 or self.unit_func.count(f) > 1
                         else f)
        self.unit_names = np.array(names, dtype=object)
        # every unit at least 3 people, the rest at random
        base = np.repeat(np.arange(n_units), 3)
        extra = rng.integers(0, n_units, n_people - len(base)) if n_people > len(base) else \
            np.array([], dtype=int)
        unit_of = np.sort(np.concatenate([base, extra]))[:n_people]
        self.unit_of = unit_of
        self.person = np.array([f"W{i + 1:04d}" for i in range(n_people)], dtype=object)
        self.func_of = np.array([self.unit_func[u] for u in unit_of], dtype=object)
        first = np.r_[True, unit_of[1:] != unit_of[:-1]]
        head_idx = np.maximum.accumulate(np.where(first, np.arange(n_people), 0))
        self.people = pd.DataFrame({
            "person": self.person,
            "unit": self.unit_names[unit_of],
            "manager": np.where(first, None, self.person[head_idx]).astype(object),
            "role": np.where(first, "head", "staff"),
            "external_facing": np.isin(self.func_of, list(EXTERNAL)),
        })
        self._relations(rel_rate)
        self.prov_q = rng.normal(0, 0.4, n_people)
        self.speed = rng.normal(0, 0.25, n_people)
        self.rater_bias = np.zeros(n_people)
        self.rate_prob_person = np.full(n_people, rate_prob)
        self._events()

    def _relations(self, rel_rate):
        rng = self.rng
        by_func = {f: np.flatnonzero(self.func_of == f) for f in FUNCTIONS}
        P, C = [], []
        for f, needs in NEEDS.items():
            clients = by_func[f]
            for g in needs:
                prov = by_func[g]
                if len(prov) == 0 or len(clients) == 0:
                    continue
                take = clients[rng.random(len(clients)) < 0.7]
                P.append(prov[rng.integers(0, len(prov), len(take))])
                C.append(take)
        # colleagues inside the unit
        cl = np.arange(self.n)
        same = [np.flatnonzero(self.unit_of == u) for u in range(len(self.unit_func))]
        pick = np.array([s[rng.integers(0, len(s))] for s in (same[u] for u in self.unit_of)])
        keep = pick != cl
        P.append(pick[keep])
        C.append(cl[keep])
        p = np.concatenate(P)
        c = np.concatenate(C)
        # a third answered the other way (served back, with the provider's own function)
        back = rng.random(len(p)) < 0.33
        p, c = np.r_[p, c[back]], np.r_[c, p[back]]
        key = np.unique(p.astype(np.int64) * self.n + c)
        p, c = key // self.n, key % self.n
        keep = p != c
        self.rp, self.rc = p[keep], c[keep]
        self.rel_q = rng.normal(0, 0.5, len(self.rp))
        self.rate = rel_rate * np.exp(rng.normal(0, 0.6, len(self.rp)) - 0.18)
        self.rel_index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.rp, self.rc))}

    def reciprocal_pairs(self):
        """Relations i with their reverse j: arrays (i, j) with rp[i] < rc[i]."""
        idx = self.rel_index
        out = [(i, idx[(b, a)]) for (a, b), i in idx.items() if a < b and (b, a) in idx]
        out.sort()
        return np.array(out, dtype=np.int64).reshape(-1, 2)

    def boost(self, rels, rate=150.0):
        """Give relations enough events to be tested (same for planted and null pairs)."""
        rels = np.asarray(rels, dtype=np.int64)
        self.rate[rels] = np.maximum(self.rate[rels], rate)
        self._events()

    def _events(self):
        rng = self.rng
        k = rng.poisson(self.rate * DAYS / 365.0)
        self.rel = np.repeat(np.arange(len(self.rp)), k)
        m = len(self.rel)
        day = np.floor(rng.random(m) * DAYS)
        hour = 8 + rng.random(m) * 9
        t = day + hour / 24.0
        o = np.lexsort((self.rel, t))
        self.rel, self.t = self.rel[o], t[o]
        self.p, self.c = self.rp[self.rel], self.rc[self.rel]
        self.loss = np.zeros(m)           # quality loss (SD units): ratings and delays
        self.rating_shift = np.zeros(m)   # shift of the rating only (rater side)
        self.delay_mult = np.ones(m)      # multiplies the delay only
        self.e_noise = rng.normal(0, RATING_SD, m)
        self.d_noise = rng.normal(0, 0.5, m)
        self.rated = rng.random(m) < self.rate_prob_person[self.c]
        self.no_satisfaction = False
        self.service = self.func_of[self.p]

    def rerate(self, prob_person):
        self.rate_prob_person = prob_person
        self.rated = self.rng.random(len(self.rel)) < prob_person[self.c]

    # ---- the observed tables
    def mean_rating(self):
        return 3.8 + 0.6 * (self.rel_q[self.rel] + self.prov_q[self.p]) - 0.9 * self.loss

    def delays(self):
        med = np.array([MEDIAN_HOURS[s] for s in self.service])
        return med * np.exp(self.speed[self.p] + self.d_noise + 0.7 * self.loss) * \
            self.delay_mult

    def tables(self):
        d = self.delays()
        x = self.mean_rating() + self.rating_shift + self.rater_bias[self.c] + self.e_noise
        sat = np.clip(np.round(x), 1, 5)
        sat = np.where(self.rated & ~self.no_satisfaction, sat, np.nan)
        req = T0 + pd.to_timedelta(np.round(self.t * 1440), unit="min")
        dlv = req + pd.to_timedelta(np.round(d * 60), unit="min")
        end = T0 + pd.Timedelta(days=DAYS)
        dlv = dlv.where(dlv <= end)          # still open at the end of the data
        ev = pd.DataFrame({
            "event_id": np.char.add("E", np.char.zfill(
                np.arange(1, len(self.t) + 1).astype(str), 7)),
            "provider": self.person[self.p], "client": self.person[self.c],
            "requested_at": req, "delivered_at": dlv, "satisfaction": sat,
            "service": self.service.astype(object)})
        return ev


def true_satisfaction(m, sd=RATING_SD):
    """Expected 1–5 rating of ``clip(round(N(m, sd)), 1, 5)``.

    >>> round(float(true_satisfaction(3.0)), 3)
    3.0
    """
    m = np.asarray(m, float)
    return 1.0 + sum(special.ndtr((m - k - 0.5) / sd) for k in range(1, 5))


def _rounds(org, i_ab, i_ba, start, round_days, severities, first="a"):
    """Alternating bad turns: turn k is given by a (k even, if first='a') or b.

    Returns the number of turns that had at least one event to act on.
    """
    fired = 0
    for k, sev in enumerate(severities):
        rel = (i_ab if (k % 2 == 0) == (first == "a") else i_ba)
        lo, hi = start + k * round_days, start + (k + 1) * round_days
        hit = (org.rel == rel) & (org.t >= lo) & (org.t < hi)
        if not hit.any():             # the turn is the actor's next service after lo
            nxt = np.flatnonzero((org.rel == rel) & (org.t >= lo))[:1]
            hit = np.zeros(len(org.rel), bool)
            hit[nxt] = True
        org.loss[hit] += sev
        fired += bool(hit.any())
    return fired


def _spiral_truth(org, pairs, mechanism, accept, onsets, fired, initiators, level="person"):
    a = org.person[org.rp[pairs[:, 0]]]
    b = org.person[org.rc[pairs[:, 0]]]
    return pd.DataFrame({
        "a": a, "b": b, "mechanism": mechanism, "accept": accept, "level": level,
        "initiator": np.where(np.asarray(initiators) == "a", a, b),
        "onset": T0 + pd.to_timedelta(np.asarray(onsets, float), unit="D"),
        "rounds_fired": np.asarray(fired, dtype=np.int64)})


def _n_planted(n):
    return max(3, n // 50)


def _pick_pairs(org, k, *, exclude=()):
    rec = org.reciprocal_pairs()
    if len(rec) == 0:
        return rec
    used = set(exclude)
    order = org.rng.permutation(len(rec))
    out = []
    for r in order:
        i, j = rec[r]
        a, b = int(org.rp[i]), int(org.rc[i])
        if a in used or b in used:
            continue
        used.update((a, b))
        out.append((i, j))
        if len(out) == k:
            break
    out = np.array(out, dtype=np.int64).reshape(-1, 2)
    org.boost(out.ravel())
    return out


def _empty(cols):
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def _finish(org, name, seed, truth, null_for, agreements=None):
    ev = org.tables()
    return ScenarioData(name, seed, org.n, ev, org.people, agreements, None, truth,
                        tuple(null_for))


# ---------------------------------------------------------------------------------------
# spiral mechanisms

_NOT_SPIRAL = ()
_SB = ("spirals", "bottlenecks")


def _spiral(mechanism, *, episodes=1, lock_in=False, slow=False, one_sided=False,
            delay_only=False):
    def build(n_people, seed):
        rng = np.random.default_rng(seed)
        org = _Org(n_people, rng)
        pairs = _pick_pairs(org, _n_planted(n_people))
        onsets, fired, inits = [], [], []
        for i_ab, i_ba in pairs:
            first = "a" if rng.random() < 0.5 else "b"
            if slow:                       # 8 turns of 3 weeks, loss 0.6 → 2.6
                start = rng.uniform(40, 120)
                f = _rounds(org, i_ab, i_ba, start, 21.0, np.linspace(0.6, 2.6, 8), first)
            elif one_sided:
                # the initiator's spontaneous bad spells are answered within a week;
                # the other side's own spells are never answered
                ini, resp = (i_ab, i_ba) if first == "a" else (i_ba, i_ab)
                start = rng.uniform(20, 60)
                f = 0
                for s in start + np.arange(4) * 70:
                    for rel, lo in ((ini, s), (resp, s + 6)):
                        hit = (org.rel == rel) & (org.t >= lo) & (org.t < lo + 6)
                        org.loss[hit] += 2.2
                        f += bool(hit.any())
                    lone = (org.rel == resp) & (org.t >= s + 35) & (org.t < s + 41)
                    org.loss[lone] += 2.2
            else:
                start = rng.uniform(30, 90 if episodes > 1 or lock_in else 250)
                sev = np.linspace(1.4, 2.8, 4 if lock_in else 6)
                f = _rounds(org, i_ab, i_ba, start, 7.0, sev, first)
                if lock_in:                   # then both sides stay bad to the end
                    after = start + 4 * 7.0
                    hit = np.isin(org.rel, [i_ab, i_ba]) & (org.t >= after)
                    org.loss[hit] += 1.6
                if episodes > 1:
                    start2 = start + rng.uniform(150, 200)
                    f += _rounds(org, i_ab, i_ba, start2, 7.0, sev,
                                 "b" if first == "a" else "a")
            onsets.append(start)
            fired.append(f)
            inits.append(first)
        if delay_only:
            org.no_satisfaction = True
        accept = "spiral|one_sided" if one_sided else "spiral"
        truth = {"spirals": _spiral_truth(org, pairs, mechanism, accept, onsets, fired, inits)}
        return _finish(org, mechanism, seed, truth, _NOT_SPIRAL)
    return build


def _between_units(n_people, seed):
    """Units X and Y (production and quality) exchange alternating bad turns."""
    rng = np.random.default_rng(seed)
    org = _Org(n_people, rng)
    # a production unit and a quality unit that serve each other both ways (with many
    # units, 600 people, the first two of each often do not: a "spiral" there would be one
    # direction only): the pair with the most relations in its thinner direction, ties by
    # order (at 150 people there is one unit of each, the pair used before)
    ru, cu = org.unit_of[org.rp], org.unit_of[org.rc]
    prod = [u for u, f in enumerate(org.unit_func) if f == "production"]
    qual = [u for u, f in enumerate(org.unit_func) if f == "quality"]
    both = [(min(((ru == x) & (cu == y)).sum(), ((ru == y) & (cu == x)).sum()), -i, x, y)
            for i, (x, y) in enumerate((x, y) for x in prod for y in qual)]
    ux, uy = max(both)[2:]
    px = org.unit_of[org.rp] == ux
    py = org.unit_of[org.rp] == uy
    cx = org.unit_of[org.rc] == ux
    cy = org.unit_of[org.rc] == uy
    xy, yx = np.flatnonzero(px & cy), np.flatnonzero(py & cx)
    org.boost(np.r_[xy, yx], rate=60.0)
    first = "a" if rng.random() < 0.5 else "b"
    start = rng.uniform(60, 200)
    fired = 0
    for k, sev in enumerate(np.linspace(1.4, 2.8, 6)):
        rels = xy if (k % 2 == 0) == (first == "a") else yx
        hit = np.isin(org.rel, rels) & (org.t >= start + 7 * k) & (org.t < start + 7 * (k + 1))
        org.loss[hit] += sev
        fired += bool(hit.any())
    a, b = sorted([org.unit_names[ux], org.unit_names[uy]])
    ini = org.unit_names[ux] if first == "a" else org.unit_names[uy]
    truth = pd.DataFrame({"a": [a], "b": [b], "mechanism": ["between_units"],
                          "accept": ["spiral"], "level": ["unit"], "initiator": [ini],
                          "onset": [T0 + pd.Timedelta(days=start)], "rounds_fired": [fired]})
    return _finish(org, "between_units", seed, {"spirals": truth}, _NOT_SPIRAL)


# ---------------------------------------------------------------------------------------
# bottleneck mechanisms


def _unit_agreements(org, factor=2.5):
    """One agreement per (provider unit, client unit) flow: factor × the service median."""
    pu, cu = org.unit_of[org.rp], org.unit_of[org.rc]
    keep = pu != cu
    flows = pd.DataFrame({"provider": org.unit_names[pu[keep]],
                          "client": org.unit_names[cu[keep]],
                          "service": org.func_of[org.rp[keep]]}).drop_duplicates()
    flows = flows.sort_values(["provider", "client"], kind="mergesort").reset_index(drop=True)
    flows["max_delay_hours"] = [MEDIAN_HOURS[s] * factor for s in flows["service"]]
    return flows


def _bottleneck_truth(org, nodes, mechanism):
    return pd.DataFrame({"node": org.person[np.asarray(nodes, dtype=np.int64)],
                         "mechanism": mechanism, "level": "person"})


def _deep_chain(n_people, seed):
    """A maintenance person serving few production people, 4× slower; no agreements."""
    rng = np.random.default_rng(seed)
    org = _Org(n_people, rng)
    maint = np.flatnonzero(org.func_of == "maintenance")
    # the maintenance person with most production clients (still few)
    served = np.bincount(org.rp[np.isin(org.rp, maint) &
                                (org.func_of[org.rc] == "production")], minlength=org.n)
    node = int(maint[np.argmax(served[maint])])
    org.delay_mult[org.p == node] *= 4.0
    return _finish(org, "deep_chain", seed,
                   {"bottlenecks": _bottleneck_truth(org, [node], "deep_chain")},
                   ())


def _backlog(n_people, seed):
    """A production person whose queue grows: delays ×e^(2.2 t/365), requests left open."""
    rng = np.random.default_rng(seed)
    org = _Org(n_people, rng)
    prod = np.flatnonzero(org.func_of == "production")
    n_cl = np.bincount(org.rp, minlength=org.n)
    node = int(prod[np.argmax(n_cl[prod])])
    sel = org.p == node
    org.delay_mult[sel] *= np.exp(2.2 * org.t[sel] / DAYS)
    return _finish(org, "backlog_growth", seed,
                   {"bottlenecks": _bottleneck_truth(org, [node], "backlog_growth")},
                   (), _unit_agreements(org))


def _rewire_events(org):
    """After providers were reassigned: one relation per (provider, client), no self-service,
    and the events drawn again on the new relations."""
    key = org.rp.astype(np.int64) * org.n + org.rc
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(key), bool)
    keep[first] = True
    keep &= org.rp != org.rc
    org.rp, org.rc, org.rel_q, org.rate = (x[keep] for x in (org.rp, org.rc, org.rel_q,
                                                              org.rate))
    org.rel_index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(org.rp, org.rc))}
    org._events()


def _spof(n_people, seed):
    """The only IT provider: every IT request goes to one person, 3× slower."""
    rng = np.random.default_rng(seed)
    org = _Org(n_people, rng)
    it = np.flatnonzero(org.func_of == "it")
    node = int(it[0])
    sel = np.isin(org.rp, it)
    org.rp = np.where(sel, node, org.rp)
    _rewire_events(org)
    org.delay_mult[org.p == node] *= 3.0
    return _finish(org, "single_point_of_failure", seed,
                   {"bottlenecks": _bottleneck_truth(org, [node], "single_point_of_failure")},
                   (), _unit_agreements(org))


def _small_peers(n_people, seed):
    """Maintenance done by 3 people only; one of them 4× slower; no agreements."""
    rng = np.random.default_rng(seed)
    org = _Org(n_people, rng)
    maint = np.flatnonzero(org.func_of == "maintenance")
    keep3 = maint[:3]
    sel = np.isin(org.rp, maint) & ~np.isin(org.rp, keep3)
    org.rp = np.where(sel, keep3[rng.integers(0, 3, len(org.rp))], org.rp)
    _rewire_events(org)
    node = int(keep3[0])
    org.delay_mult[org.p == node] *= 4.0
    return _finish(org, "small_peer_group", seed,
                   {"bottlenecks": _bottleneck_truth(org, [node], "small_peer_group")},
                   ())


# ---------------------------------------------------------------------------------------
# confounders and nulls


def _null(name, plant=None, *, agreements=None, boost_pairs=True, null_for=()):
    def build(n_people, seed):
        rng = np.random.default_rng(seed)
        org = _Org(n_people, rng)
        pairs = _pick_pairs(org, _n_planted(n_people)) if boost_pairs else None
        truth = {}
        if plant is not None:
            extra = plant(org, pairs, rng)
            if extra:
                truth.update(extra)
        ag = _unit_agreements(org, agreements) if agreements else None
        if ag is not None:
            truth["agreements"] = _agreement_truth(org, ag)
        return _finish(org, name, seed, truth, null_for, ag)
    return build


def _shock_season(org, pairs, rng):
    month = rng.integers(1, 11)
    org.loss += 0.5 * np.sin(2 * np.pi * org.t / DAYS + rng.uniform(0, 2 * np.pi))
    org.loss[(org.t >= 30.4 * month) & (org.t < 30.4 * (month + 1))] += 1.4


def _overload(org, pairs, rng):
    provs = np.unique(org.rp)
    chosen = rng.choice(provs, max(1, len(provs) // 10), replace=False)
    # the providers of the boosted pairs too, so the pairs see it
    chosen = np.union1d(chosen, org.rp[pairs[:, 0]]) if len(pairs) else chosen
    for node in chosen:
        for s in rng.uniform(0, DAYS - 21, 2):
            org.loss[(org.p == node) & (org.t >= s) & (org.t < s + rng.uniform(14, 21))] += 1.8


def _common_cause(org, pairs, rng):
    weeks = int(DAYS // 7) + 1
    for i_ab, i_ba in pairs:
        x = np.zeros(weeks)
        e = rng.normal(0, 0.6, weeks)
        for w in range(1, weeks):
            x[w] = 0.8 * x[w - 1] + e[w]
        hit = np.isin(org.rel, [i_ab, i_ba])
        org.loss[hit] += np.maximum(0.0, 1.2 * x[(org.t[hit] // 7).astype(int)])


def _joint(org, pairs, rng):
    for i_ab, i_ba in pairs:
        for s in np.sort(rng.uniform(10, DAYS - 30, 2)):
            hit = np.isin(org.rel, [i_ab, i_ba]) & (org.t >= s) & (org.t < s + rng.uniform(14, 21))
            org.loss[hit] += 2.2


def _unit_month(org, pairs, rng):
    units = np.unique(org.unit_of[org.rp[pairs[:, 0]]]) if len(pairs) else np.array([0])
    for u in units:
        s = rng.uniform(0, DAYS - 31)
        when = (org.t >= s) & (org.t < s + 30)
        org.loss[when & (org.unit_of[org.p] == u)] += 1.6          # its service
        org.rating_shift[when & (org.unit_of[org.c] == u)] -= 1.4  # its ratings


def _chronic(org, pairs, rng):
    hit = np.isin(org.rel, pairs.ravel())
    org.loss[hit] += 1.6
    a = org.person[org.rp[pairs[:, 0]]]
    b = org.person[org.rc[pairs[:, 0]]]
    return {"conflicts": pd.DataFrame({"a": a, "b": b, "mechanism": "chronic_conflict"})}


def _slowdown(org, pairs, rng):
    org.delay_mult *= np.exp(1.0 * org.t / DAYS)


def _heavy(org, pairs, rng):
    """One person per unit answers 95 % of its requests' surveys, the rest 10 %."""
    org.rater_bias = rng.normal(0, 0.5, org.n)
    prob = np.full(org.n, 0.10)
    heavy = np.array([rng.choice(np.flatnonzero(org.unit_of == u))
                      for u in range(len(org.unit_func))])
    prob[heavy] = 0.95
    org.rerate(prob)
    return {"quality": _quality_truth(org, "heavy_raters")}


def _lenient(org, pairs, rng):
    org.rater_bias = rng.normal(0, 0.7, org.n)
    return {"quality": _quality_truth(org, "lenient_harsh")}


def _sparse_ceiling(org, pairs, rng):
    """1–5 ratings per relation, most of them 5 (ceiling)."""
    org.prov_q += 0.9
    rng_ = rng
    rated = np.zeros(len(org.rel), bool)
    order = rng_.permutation(len(org.rel))
    # keep the first k events of each relation in a random order, k ~ U{1..5}
    rel = org.rel[order]
    o = np.argsort(rel, kind="stable")
    rel_s = rel[o]
    pos = np.arange(len(rel_s)) - np.searchsorted(rel_s, rel_s)
    k = rng_.integers(1, 6, len(org.rp))
    rated[order[o[pos < k[rel_s]]]] = True
    org.rated = rated
    return {"quality": _quality_truth(org, "sparse_ceiling")}


def _baseline_quality(org, pairs, rng):
    return {"quality": _quality_truth(org, "baseline")}


def _no_sat(org, pairs, rng):
    org.no_satisfaction = True


def _quality_truth(org, mechanism):
    """True satisfaction per relation (person level: this client; unit level: the
    rater population, rater bias integrated out), averaged over the relation's events."""
    m = org.mean_rating() + org.rating_shift
    person = true_satisfaction(m + org.rater_bias[org.c])
    sb = float(np.std(org.rater_bias)) if np.any(org.rater_bias) else 0.0
    unit = true_satisfaction(m, np.hypot(RATING_SD, sb))
    ev = pd.DataFrame({"p": org.p, "c": org.c, "person": person, "unit": unit,
                       "pu": org.unit_names[org.unit_of[org.p]],
                       "cu": org.unit_names[org.unit_of[org.c]]})
    a = ev.groupby(["p", "c"], sort=True)["person"].mean().reset_index()
    a = pd.DataFrame({"provider": org.person[a["p"]], "client": org.person[a["c"]],
                      "level": "person", "true_satisfaction": a["person"].to_numpy(),
                      "mechanism": mechanism})
    b = ev.groupby(["pu", "cu"], sort=True)["unit"].mean().reset_index()
    b = pd.DataFrame({"provider": b["pu"].to_numpy(), "client": b["cu"].to_numpy(),
                      "level": "unit", "true_satisfaction": b["unit"].to_numpy(),
                      "mechanism": mechanism})
    return pd.concat([a, b], ignore_index=True)


def _agreement_truth(org, ag):
    """Share of each agreement's requests whose (uncensored) delay exceeds the limit."""
    d = org.delays()
    ev = pd.DataFrame({"provider": org.unit_names[org.unit_of[org.p]],
                       "client": org.unit_names[org.unit_of[org.c]],
                       "service": org.service, "d": d})
    ev = ev.merge(ag, on=["provider", "client", "service"])
    ev["breach"] = ev["d"] > ev["max_delay_hours"]
    t = ev.groupby(["provider", "client", "service"], sort=True).agg(
        true_breach=("breach", "mean"), n_events=("breach", "size")).reset_index()
    return t


# ---------------------------------------------------------------------------------------
# tickets bounced between teams


def _tickets(pingpong):
    def build(n_people, seed):
        rng = np.random.default_rng(seed)
        org = _Org(n_people, rng)
        teams = [u for u, f in enumerate(org.unit_func) if f in ("it", "service_desk",
                                                                  "maintenance", "quality")]
        members = {u: np.flatnonzero(org.unit_of == u) for u in teams}
        n_cases = 20 * n_people
        first = rng.choice(teams, n_cases)
        # every case is escalated once to a second team
        second = np.array([rng.choice([u for u in teams if u != f]) for f in first])
        pp_pairs = set()
        if pingpong:
            cand = sorted({tuple(sorted((int(f), int(s)))) for f, s in zip(first, second)})
            k = max(2, len(cand) // 4)
            pick = rng.choice(len(cand), min(k, len(cand)), replace=False)
            pp_pairs = {cand[i] for i in pick}
        rows = []
        bounces = {}
        t = rng.uniform(0, DAYS - 20, n_cases)
        requester = rng.integers(0, org.n, n_cases)
        for i in range(n_cases):
            f, s = int(first[i]), int(second[i])
            seq = [("open", int(requester[i])), ("triage", int(rng.choice(members[f]))),
                   ("work", int(rng.choice(members[s])))]
            pair = tuple(sorted((f, s)))
            if pair in pp_pairs and rng.random() < 0.5:
                nb = int(rng.integers(1, 3))
                for _ in range(nb):
                    seq.append(("returned", int(rng.choice(members[f]))))
                    seq.append(("work", int(rng.choice(members[s]))))
                bounces[pair] = bounces.get(pair, 0) + nb
            seq.append(("close", int(requester[i])))
            ts = t[i] + np.cumsum(rng.exponential(0.8, len(seq)))
            rows.extend((f"C{i + 1:06d}", act, org.person[r], T0 + pd.Timedelta(days=float(x)))
                        for (act, r), x in zip(seq, ts))
        log = pd.DataFrame(rows, columns=["case", "activity", "resource", "timestamp"])
        truth = pd.DataFrame(
            [(*sorted((org.unit_names[a], org.unit_names[b])), n) for (a, b), n in
             sorted(bounces.items())], columns=["a", "b", "n_bounces"])
        if not pingpong:
            truth = truth.iloc[0:0]
        data = ScenarioData("tickets_pingpong" if pingpong else "tickets_null", seed, org.n,
                            org.tables(), org.people, None, log,
                            {"pingpong": truth.sort_values(["a", "b"]).reset_index(drop=True)},
                            () if pingpong else ("pingpong",))
        return data
    return build


# ---------------------------------------------------------------------------------------
# the table

def _S(name, family, plants, truth, build, null_for):
    return Scenario(name, family, plants, truth, build, tuple(null_for))


_SP = "spirals: the planted pair(s), kinds that count as found, initiator, onset"
_BN = "bottlenecks: the planted slow provider"

SCENARIOS = {s.name: s for s in [
    _S("episodic", "spiral", "6 alternating bad turns of a week each, loss 1.4→2.8 SD, "
       "then recovery (one episode)", _SP, _spiral("episodic"), _NOT_SPIRAL),
    _S("episodic_two", "spiral", "two such episodes 5–7 months apart, each started by the "
       "other side", _SP, _spiral("episodic_two", episodes=2), _NOT_SPIRAL),
    _S("lock_in", "spiral", "good relationship, 4 alternating bad turns (1.4→2.8 SD), then "
       "both directions stay bad (1.6 SD) to the end of the year", _SP,
       _spiral("lock_in", lock_in=True), _NOT_SPIRAL),
    _S("slow_escalation", "spiral", "8 alternating turns of 3 weeks, loss growing "
       "0.6→2.6 SD", _SP, _spiral("slow_escalation", slow=True), _NOT_SPIRAL),
    _S("one_sided", "spiral", "the initiator's 4 bad spells each answered within a week; "
       "the responder's own bad spells never answered", _SP.replace("kinds", "kinds "
       "(spiral or one_sided)"), _spiral("one_sided", one_sided=True), _NOT_SPIRAL),
    _S("delay_only", "spiral", "episodic spirals in an organisation that records no "
       "satisfaction (delays only)", _SP, _spiral("delay_only", delay_only=True),
       _NOT_SPIRAL),
    _S("between_units", "spiral", "a production and a quality unit exchange 6 alternating "
       "bad turns (all their members' service to each other)",
       _SP + " (unit level)", _between_units, _NOT_SPIRAL),
    _S("deep_chain", "bottleneck", "a maintenance person (few clients, two hops from the "
       "customer) 4× slower; no agreements", _BN, _deep_chain,
       ()),
    _S("backlog_growth", "bottleneck", "a production person's delays grow ×9 over the year "
       "(queue), late requests still open; unit agreements at 2.5× the median", _BN,
       _backlog, ()),
    _S("single_point_of_failure", "bottleneck", "one person does all IT work (no "
       "redundancy), 3× slower; agreements", _BN, _spof,
       ()),
    _S("small_peer_group", "bottleneck", "maintenance done by 3 people, one 4× slower; no "
       "agreements", _BN, _small_peers, ()),
    _S("baseline", "confounder", "nothing planted (pairs boosted like the spiral pairs); "
       "agreements at 2.5× the median", "quality: true satisfaction per relation; "
       "agreements: true breach share",
       _null("baseline", _baseline_quality, agreements=2.5, null_for=_SB + ("conflicts",)),
       _SB + ("conflicts",)),
    _S("shock_season", "confounder", "company-wide shock month (+1.4 SD) and seasonality "
       "(±0.5 SD sine)", "none (null)", _null("shock_season", _shock_season, null_for=_SB), _SB),
    _S("overload_episodes", "confounder", "10 % of providers (and the boosted pairs' "
       "providers) have two 2–3-week episodes hitting all their clients (+1.8 SD)",
       "none (null)", _null("overload_episodes", _overload, null_for=_SB), _SB),
    _S("common_cause", "confounder", "both directions of each boosted pair share a weekly "
       "AR(1) latent quality (φ = 0.8), loss max(0, 1.2 x)", "none (null)",
       _null("common_cause", _common_cause, null_for=("spirals",)), ("spirals",)),
    _S("joint_bad_periods", "confounder", "both directions of each boosted pair bad at the "
       "same time (+2.2 SD), twice, 2–3 weeks, no alternation", "none (null)",
       _null("joint_bad_periods", _joint, null_for=("spirals",)), ("spirals",)),
    _S("unit_bad_month", "confounder", "a unit's bad month: its service (+1.6 SD) and the "
       "ratings its members give (−1.4) at once", "none (null)",
       _null("unit_bad_month", _unit_month, null_for=("spirals",)), ("spirals",)),
    _S("chronic_conflict", "confounder", "boosted pairs bad both ways (+1.6 SD) from day "
       "one", "conflicts: the chronic pairs (spirals: null)",
       _null("chronic_conflict", _chronic, null_for=("spirals",)), ("spirals",)),
    _S("org_slowdown", "confounder", "every delay grows ×e over the year", "none (null)",
       _null("org_slowdown", _slowdown, agreements=2.5, null_for=_SB), _SB),
    _S("tight_agreements", "confounder", "agreements at 0.5× the median delay (most "
       "requests breach)", "agreements: true breach share",
       _null("tight_agreements", agreements=0.5), ("bottlenecks", "conflicts")),
    _S("heavy_raters", "quality", "rater bias N(0, 0.5); one person per unit answers 95 % "
       "of surveys, the others 10 %", "quality: true satisfaction per relation",
       _null("heavy_raters", _heavy, null_for=()), ()),
    _S("lenient_harsh", "quality", "rater bias N(0, 0.7) per client", "quality: true "
       "satisfaction", _null("lenient_harsh", _lenient, null_for=()), ()),
    _S("sparse_ceiling", "quality", "1–5 ratings per relation, providers 0.9 better "
       "(most ratings 5)", "quality: true satisfaction",
       _null("sparse_ceiling", _sparse_ceiling, null_for=()), ()),
    _S("no_satisfaction", "confounder", "no satisfaction recorded at all", "none (null)",
       _null("no_satisfaction", _no_sat, null_for=_SB), _SB),
    _S("tickets_pingpong", "tickets", "tickets escalated from a first to a second team; for "
       "a quarter of the team pairs half the tickets bounce back 1–2 times",
       "pingpong: team pairs that bounced at least once", _tickets(True), ()),
    _S("tickets_null", "tickets", "the same tickets without bounces", "none (null)",
       _tickets(False), ("pingpong",)),
]}


def scenario_table() -> pd.DataFrame:
    """The scenarios: ``name``, ``family``, ``plants``, ``truth``, ``null_for``.

    >>> scenario_table().loc[0, "name"]
    'episodic'
    """
    return pd.DataFrame([{"name": s.name, "family": s.family, "plants": s.plants,
                          "truth": s.truth, "null_for": ", ".join(s.null_for)}
                         for s in SCENARIOS.values()])


def generate(name: str, *, n_people: int = 150, seed: int = 0) -> ScenarioData:
    """One organisation of scenario ``name`` (tables + ground truth).

    Parameters
    ----------
    name : str
        A key of :data:`SCENARIOS`.
    n_people : int, default 150
    seed : int
        Same seed, same tables.

    Raises
    ------
    ParameterError
        Unknown scenario or size out of range.

    Examples
    --------
    >>> d = generate("chronic_conflict", n_people=60, seed=2)
    >>> len(d.truth["conflicts"]) >= 3, "spirals" in d.null_for
    (True, True)
    """
    if name not in SCENARIOS:
        raise ParameterError(f"unknown scenario {name!r}; choose one of "
                             f"{', '.join(SCENARIOS)}.")
    sc = SCENARIOS[name]
    data = sc.build(int(n_people), int(seed))
    data.null_for = sc.null_for
    return data
