"""Recommended actions (who should do what, why, with the evidence) and what-if scenarios.

See docs/methods/actions.md for the rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ParameterError
from ..privacy import MIN_GROUP_SIZE
from .health import findings, health

__all__ = ["actions", "what_if", "RULES"]

#: rule code → (owner role, priority)
RULES = {
    "bottleneck": ("area head", 1),
    "spiral": ("HR", 1),
    "chronic_conflict": ("leadership", 2),
    "conflict_cycle": ("leadership", 2),
    "low_served_quality": ("collaborator", 2),
    "no_agreement": ("area head", 2),
    "overdue_review": ("area head", 2),
    "idle_members": ("area head", 3),
    "declining": ("area head", 3),
}
_COLUMNS = ["priority", "owner_role", "target", "action", "reason", "evidence", "rule"]


def actions(net, *, individuals: bool = False, min_group_size: int = MIN_GROUP_SIZE,
            as_of=None, seed=0, review_every: str = "90 days",
            _found: dict | None = None) -> pd.DataFrame:
    """Recommended actions for the area heads, the collaborators, HR and leadership.

    Every finding maps to one action by an explicit rule (``RULES``):

    ========================  ============  =============================================
    finding                   owner         action
    ========================  ============  =============================================
    bottleneck                area head     root cause and capacity; agree realistic delays
    retaliation spiral        HR            facilitated mediation, then a reset agreement
    chronic conflict / cycle  leadership    an interarea agreement with indicators
    low served quality        collaborator  learn what the clients need, agree on it
    no agreement              area head     identify clients, agree expectations/indicators
    overdue review            area head     schedule the review
    members serving nobody    area head     clarify their internal clients and role
    declining quality         area head     review with the clients what changed
    ========================  ============  =============================================

    Parameters
    ----------
    net : ServiceNetwork (person level with a people table)
    individuals : bool, default False
        Name people in targets; otherwise targets are units (privacy).
    min_group_size : int, default 5
    as_of : timestamp, optional
    seed : int
    review_every : str, default "90 days"
        Review period proposed in new agreements.

    Returns
    -------
    DataFrame
        ``priority`` (1 = first), ``owner_role``, ``target``, ``action``
        (plain language), ``reason``, ``evidence`` (numbers), ``rule``;
        sorted by priority, then rule, then target.

    Examples
    --------
    >>> import icnet
    >>> a = icnet.actions(icnet.datasets.toy())
    >>> a.loc[0, ["owner_role", "rule"]].tolist()
    ['leadership', 'conflict_cycle']
    """
    net = _validate.network(net)
    f = _found or findings(net, min_group_size=min_group_size, as_of=as_of, seed=seed)
    h = health(net, min_group_size=min_group_size, as_of=as_of, seed=seed, _found=f)
    unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                        index=net.nodes["node"].to_numpy(dtype=object))
    rows = []

    def add(rule, target, action, reason, evidence):
        owner, prio = RULES[rule]
        rows.append((prio, owner, target, action, reason, evidence, rule))

    who = (lambda p: f"{p} ({unit_of.get(p)})") if individuals else (lambda p: unit_of.get(p))
    # bottlenecks (person level flags, reported on their unit unless individuals)
    pb = f["bottlenecks"]
    done = set()
    for r in pb[pb.is_bottleneck].itertuples():
        tgt = who(r.node)
        if tgt in done:
            continue
        done.add(tgt)
        add("bottleneck", tgt,
            f"Find the root cause of the delays in {unit_of.get(r.node)} (capacity, "
            "priorities, dependencies); add capacity or redistribute work, and agree "
            "realistic delays with its internal clients.",
            "the organisation depends on it and it is slow or overloaded",
            f"dependence {r.dependence:.1%}; delays ×{np.exp(r.delay_trend):.1f} over the "
            f"period; backlog growth {r.backlog_growth:+.1%}/month")
    ub = f["bottlenecks_unit"]
    for r in ub[ub.is_bottleneck].itertuples():
        if r.node not in done:
            done.add(r.node)
            add("bottleneck", r.node,
                f"Find the root cause of the delays in {r.node}; add capacity or "
                "redistribute work, and agree realistic delays with its internal clients.",
                "the organisation depends on it and it is slow or overloaded",
                f"dependence {r.dependence:.1%}; delay excess {r.delay_excess:+.1f} SD")
    # spirals and chronic conflicts
    sp = f["spirals"]
    seen = set()
    for r in sp[sp["kind"] == "spiral"].itertuples():
        a, b = who(r.a), who(r.b)
        key = tuple(sorted((str(a), str(b))))
        if key in seen:
            continue
        seen.add(key)
        add("spiral", f"{a} ⇄ {b}",
            f"Hold a facilitated mediation with both sides ({a} and {b}); close it with a "
            f"reset agreement on expectations and indicators, reviewed every {review_every}.",
            "bad service received is being returned (retaliation spiral)",
            f"{r.rounds} alternating rounds since {pd.Timestamp(r.start):%Y-%m-%d}; "
            f"coupling {r.effect:.2f} SD, q = {r.q:.3g}")
    for r in sp[sp["kind"] == "mutual_degradation"].itertuples():
        a, b = who(r.a), who(r.b)
        key = tuple(sorted((str(a), str(b))))
        if key in seen:
            continue
        seen.add(key)
        add("chronic_conflict", f"{a} ⇄ {b}",
            f"Broker an interarea agreement between {unit_of.get(r.a)} and "
            f"{unit_of.get(r.b)}: what each needs from the other, indicators, and a review "
            f"every {review_every}.",
            "both sides serve each other badly all the time (chronic conflict)",
            f"{r.bad_ab} and {r.bad_ba} bad services out of {r.n_ab} and {r.n_ba}")
    for r in f["cycles_unit"].itertuples():
        add("conflict_cycle", " → ".join(r.cycle),
            "Bring the heads of " + ", ".join(r.cycle) + " together to agree how each "
            "serves the next; set indicators for every step of the chain.",
            "every relation of this chain of areas is credibly bad",
            f"{r.n_events} events; weakest relation {r.weakest_shortfall:.2f} below neutral")
    # unit scorecard rules
    comp = f["compliance"]
    for r in h.itertuples():
        fl = set(r.flags.split("; ")) if r.flags else set()
        if "low_served_quality" in fl:
            add("low_served_quality", r.unit,
                f"Members of {r.unit}: meet your internal clients, learn what they need "
                "and agree on it; check it with them next period.",
                "its internal clients rate its service credibly below neutral",
                f"served quality {r.served_quality:.2f} [{r.served_low:.2f}, "
                f"{r.served_high:.2f}] from {r.n_raters} raters")
        if "no_agreement" in fl and comp is not None:
            unc = comp.coverage.set_index("provider").loc[r.unit, "uncovered"]
            add("no_agreement", r.unit,
                f"Identify your internal clients, list their expectations and agree "
                f"indicators with {unc}; review every {review_every}.",
                "it serves these clients without any agreement",
                f"{r.share_without_agreement:.0%} of its client relations uncovered")
        if "overdue_review" in fl and comp is not None:
            od = comp.agreements[(comp.agreements.provider == r.unit) & comp.agreements.overdue]
            for o in od.itertuples():
                add("overdue_review", f"{r.unit} → {o.client}",
                    f"Schedule the review of the agreement with {o.client} "
                    f"(received vs delivered).",
                    "the agreed periodic review has not happened",
                    f"overdue by {int(o.days_overdue)} days (last review "
                    f"{pd.Timestamp(o.last_review):%Y-%m-%d})")
        if "idle_members" in fl:
            add("idle_members", r.unit,
                f"Clarify whom the {r.idle_members} member(s) of {r.unit} who serve no "
                "internal client should serve, and agree it with them.",
                "everyone in an organisation serves at least one internal client",
                f"{r.idle_members} of {r.n_members} members provided no service")
        if "declining" in fl:
            add("declining", r.unit,
                f"Review with the clients of {r.unit} what changed since the previous "
                "period and correct it at the root.",
                "served quality fell", f"trend {r.trend:+.2f}")
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out = out.sort_values(["priority", "rule", "target"], kind="mergesort") \
        .reset_index(drop=True)
    out.attrs["params"] = dict(individuals=individuals, min_group_size=min_group_size,
                               review_every=review_every)
    return out


def what_if(net, *, meet_agreement=None, remove=None, level: str = "unit") -> pd.DataFrame:
    """Recompute dependence, bottlenecks and lead time under a scenario.

    Parameters
    ----------
    net : ServiceNetwork
        Preferably person level with a people table: the scenario is applied to
        the people's events and the result reported at ``level``.
    meet_agreement : str or list, optional
        Units or people whose delays are capped at their agreed delay
        (``expected_hours``).
    remove : str or list, optional
        Units or people removed (outsourced): their service disappears.
    level : str, default "unit"
        Level of the rows of the result.

    Returns
    -------
    DataFrame
        One row per node at ``level``: ``node``, ``dependence_before``,
        ``dependence_after``, ``score_before``, ``score_after``,
        ``bottleneck_before``, ``bottleneck_after``. ``attrs``:
        ``lead_time_before``/``lead_time_after`` (hours on the critical path
        of the person-level network, the finest available) and
        ``lost_only_provider`` (DataFrame ``client``, ``service``,
        ``provider``: clients whose only provider of a service was removed).

    Examples
    --------
    >>> import icnet
    >>> w = icnet.what_if(icnet.datasets.toy(), meet_agreement="Informatica")
    >>> bool(w.attrs["lead_time_after"] <= w.attrs["lead_time_before"])
    True
    """
    from .bottlenecks import bottlenecks, critical_path

    net = _validate.network(net, need_events=True)
    meet = [meet_agreement] if isinstance(meet_agreement, str) else list(meet_agreement or [])
    rem = [remove] if isinstance(remove, str) else list(remove or [])
    if not meet and not rem:
        raise ParameterError("what_if needs a scenario: meet_agreement=... or remove=...")
    units = set(net.nodes["unit"].dropna()) if net.level == "person" else set()
    unknown = [x for x in meet + rem if x not in net.node_ids and x not in units]
    if unknown:
        raise ParameterError(f"what_if: {unknown} are neither nodes nor units of this network.")
    unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                        index=net.nodes["node"].to_numpy(dtype=object))

    def members(xs):
        xs = set(xs)
        return [n for n in net.node_ids if n in xs or unit_of.get(n) in xs]

    meet_p, rem_p = members(meet), members(rem)
    ev = net.events.copy()
    prov = ev["provider"].astype(object)
    if meet_p:
        if "expected_hours" not in ev:
            raise ParameterError("meet_agreement needs agreed delays (expected_hours or an "
                                 "agreements table).")
        m = prov.isin(meet_p).to_numpy() & ev["expected_hours"].notna().to_numpy()
        d = ev["delay_hours"].to_numpy(float).copy()
        d[m] = np.minimum(d[m], ev["expected_hours"].to_numpy(float)[m])
        ev["delay_hours"] = d
        if "delivered_at" in ev:
            ev.loc[m, "delivered_at"] = ev.loc[m, "requested_at"] + pd.to_timedelta(d[m], "h")
    lost = pd.DataFrame(columns=["client", "service", "provider"])
    if rem_p:
        gone = prov.isin(rem_p).to_numpy()
        svc = ev["service"].astype(object) if "service" in ev else pd.Series("", index=ev.index)
        side = (lambda s: s.map(unit_of)) if (level != net.level and net.level == "person") \
            else (lambda s: s)
        k = pd.DataFrame({"client": side(ev["client"].astype(object)).to_numpy(),
                          "service": svc.to_numpy(),
                          "provider": side(prov).to_numpy(), "gone": gone})
        k = k[k["client"] != k["provider"]]
        per = k.groupby(["client", "service"]).agg(all_gone=("gone", "all"))
        lost_keys = per[per.all_gone].reset_index()[["client", "service"]]
        lost = lost_keys.merge(k[k.gone].drop_duplicates(["client", "service", "provider"]),
                               on=["client", "service"])[["client", "service", "provider"]]
        lost = lost[~lost["client"].isin(rem)]
        lost = lost.sort_values(["client", "service", "provider"]).reset_index(drop=True)
        ev = ev.loc[~gone].reset_index(drop=True)
    after = net._replace(events=ev)
    lv0, lv1 = _validate.level(net, level), _validate.level(after, level)
    b0, b1 = bottlenecks(lv0).set_index("node"), bottlenecks(lv1).set_index("node")
    nodes = lv0.node_ids
    out = pd.DataFrame({
        "node": nodes.to_numpy(dtype=object),
        "dependence_before": b0["dependence"].reindex(nodes).to_numpy(),
        "dependence_after": b1["dependence"].reindex(nodes).to_numpy(),
        "score_before": b0["score"].reindex(nodes).to_numpy(),
        "score_after": b1["score"].reindex(nodes).to_numpy(),
        "bottleneck_before": b0["is_bottleneck"].reindex(nodes).fillna(False).to_numpy(bool),
        "bottleneck_after": b1["is_bottleneck"].reindex(nodes).fillna(False).to_numpy(bool)})
    cp0, cp1 = critical_path(net), critical_path(after)
    out.attrs.update(lead_time_before=cp0.attrs.get("total_hours", np.nan),
                     lead_time_after=cp1.attrs.get("total_hours", np.nan),
                     lost_only_provider=lost,
                     params=dict(meet_agreement=meet, remove=rem, level=level))
    return out
