"""Recommended actions (who should do what, why, with the evidence) and what-if scenarios.

See docs/methods/actions.md for the rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ParameterError
from ..privacy import MIN_GROUP_SIZE, check_individuals
from . import _ratings
from .health import findings, health

__all__ = ["actions", "what_if", "RULES"]

#: rule code → (owner role, priority 1 = first .. 3)
RULES = {
    "bottleneck": ("area head", 1),
    "spiral": ("HR", 1),
    "chronic_conflict": ("leadership", 2),
    "joint_shift": ("area head", 2),
    "conflict_cycle": ("leadership", 2),
    "low_served_quality": ("collaborator", 2),
    "late": ("area head", 2),
    "no_agreement": ("area head", 2),
    "overdue_review": ("area head", 2),
    "idle_members": ("area head", 3),
    "declining": ("area head", 3),
    "harsh_rater": ("collaborator", 3),
}
_COLUMNS = ["priority", "owner_role", "target", "action", "reason", "evidence", "rule"]


def _num(fmt, x):
    """Format a number, or an empty string when it is missing."""
    try:
        return fmt.format(x) if np.isfinite(x) else ""
    except TypeError:
        return ""


def _share(label, x):
    """A share as the report and the bottleneck reasons print it (one figure per fact)."""
    from .bottlenecks import share_text
    return f"{label} {share_text(x)}" if np.isfinite(x) else ""


def _join(*parts):
    return "; ".join(p for p in parts if p)


def actions(net, *, level: str = "unit", individuals: bool = False,
            min_group_size: int = MIN_GROUP_SIZE, as_of=None, seed=0,
            review_every: str = "90 days", _found: dict | None = None) -> pd.DataFrame:
    """Recommended actions for the area heads, the collaborators, HR and leadership.

    Every finding maps to one action by an explicit rule (:data:`RULES`):

    ========================  ============  ==============================================
    rule (finding)            owner         action
    ========================  ============  ==============================================
    bottleneck                area head     root cause and capacity; agree realistic delays
    spiral                    HR            facilitated mediation, then a reset agreement
    chronic_conflict          leadership    an interarea agreement with indicators
    joint_shift               area head     find what changed for both; re-agree both ways
    conflict_cycle (units)    leadership    the heads of the chain agree each hand-over
    low_served_quality        collaborator  learn what the clients need, agree on it
    late                      area head     root cause of late deliveries; fix or re-agree
    no_agreement              area head     identify clients, agree expectations/indicators
    overdue_review            area head     schedule the review (received vs delivered)
    idle_members              area head     clarify whom they serve (their role)
    declining                 area head     review with the clients what changed
    harsh_rater               collaborator  state and check expectations with providers
    ========================  ============  ==============================================

    Parameters
    ----------
    net : ServiceNetwork
        Person level with a people table.
    level : {"unit", "person"}, default "unit"
        Level of the scorecard rules (``low_served_quality``, ``late``,
        ``idle_members``, ``declining``, ``harsh_rater``); ``"person"`` needs
        ``individuals=True``. Agreement and conflict rules stay on units.
    individuals : bool, default False
        Name people in targets and show the survey-derived numbers of
        person-level findings; otherwise targets are units and the evidence
        of person-level findings is limited to counts and dates (privacy).
    min_group_size : int, default 5
        Survey figures backed by fewer distinct raters are neither shown nor
        used to trigger a rule.
    as_of : timestamp, optional
        "Today" for agreement reviews (default: end of the data).
    seed : int or numpy.random.Generator, default 0
        For the spiral permutation test.
    review_every : str, default "90 days"
        Review period proposed in new agreements.

    Returns
    -------
    DataFrame
        One row per action, sorted by ``priority``, then ``target``, then
        ``rule``: ``priority`` (int, 1 = first: harms the external customer
        or escalates; 3 = housekeeping); ``owner_role`` (``"area head"``,
        ``"collaborator"``, ``"HR"``, ``"leadership"``); ``target`` (a unit,
        ``"A ⇄ B"`` for a pair, ``"A → B"`` for an agreement, ``"A → B → C"``
        for a cycle, a person only with ``individuals=True``); ``action``
        (plain language); ``reason``; ``evidence`` (the numbers); ``rule``
        (the key of :data:`RULES` that produced it, or for a network built by
        :func:`icnet.from_process_log` the hand-over rules ``pingpong``,
        ``slow_team``, ``escalation``, ``sent_back_down`` of
        :func:`icnet.handover_actions`, see :func:`handover_rows`).

    Raises
    ------
    ParameterError
        As :func:`icnet.health`; ``level="person"`` without ``individuals=True``.

    See Also
    --------
    icnet.health : the scorecard the rules read.
    what_if : what a capacity or outsourcing decision would change.

    Notes
    -----
    The rules are deliberately simple and auditable: a flag of
    :func:`icnet.health` (or a finding of a detector) produces exactly one
    action per target. Thresholds are those of the detectors and of the
    scorecard flags (docs/methods/health.md).

    References
    ----------
    Gremler, D. D., Bitner, M. J. & Evans, K. R. (1994). The internal service
    encounter. *Int. J. Service Industry Management* 5(2), 34–56.
    Marshall, G. W., Baker, J. & Finn, D. W. (1998). Exploring internal
    customer service quality. *J. Business & Industrial Marketing* 13(4/5),
    381–392.

    Examples
    --------
    >>> import icnet
    >>> a = icnet.actions(icnet.datasets.toy(), min_group_size=1)
    >>> for row in a[["priority", "owner_role", "target", "rule"]].head(2).values:
    ...     print(*row, sep=" | ")
    2 | area head | Calidad | no_agreement
    2 | leadership | Calidad → Produccion | conflict_cycle
    >>> a.loc[0, "evidence"]
    '100% of its client relations uncovered'
    >>> a.loc[a["rule"] == "overdue_review", "action"].item()
    'Schedule the review of the agreement with Produccion (received vs delivered).'

    Calidad is rated by 4 people: with the default ``min_group_size=5`` no
    action reveals (or is triggered by) what they said:

    >>> "low_served_quality" in set(icnet.actions(icnet.datasets.toy())["rule"])
    False
    """
    net = _validate.network(net)
    _validate.one_of("level", level, ["unit", "person"])
    individuals = check_individuals(individuals)
    if level == "person" and not individuals:
        raise ParameterError(
            "Person-level actions need individuals=True: individuals are only named when "
            "asked for (privacy by default).")
    f = _found or findings(net, min_group_size=min_group_size, as_of=as_of, seed=seed)
    h = health(net, min_group_size=min_group_size, as_of=as_of, seed=seed, _found=f)
    hp = health(net, level="person", individuals=True, min_group_size=min_group_size,
                as_of=as_of, seed=seed, _found=f).rename(columns={"unit": "unit_of",
                                                                   "person": "unit"}) \
        if level == "person" else h
    unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                        index=net.nodes["node"].to_numpy(dtype=object))
    rows = []

    def add(rule, target, action, reason, evidence):
        owner, prio = RULES[rule]
        rows.append((prio, owner, target, action, reason, evidence, rule))

    who = (lambda p: f"{p} ({unit_of.get(p)})") if individuals else (lambda p: unit_of.get(p))
    # bottlenecks (person-level flags reported on their unit unless individuals)
    pb = f["bottlenecks"]
    done = set()
    # by unit, the unit rows of the API (a unit with a flagged member is flagged there)
    # carry the figures quoted: one dependence figure per target, as in the report
    for r in (pb[pb["is_bottleneck"]] if individuals or f["bottlenecks_unit"] is pb
              else pb.iloc[:0]).itertuples():
        tgt = who(r.node)
        if tgt in done:
            continue
        done.add(tgt)
        u = unit_of.get(r.node)
        add("bottleneck", tgt,
            f"Find the root cause of the delays in {u} (capacity, priorities, "
            "dependencies); add capacity or redistribute work, and agree realistic delays "
            "with its internal clients.",
            "the organisation depends on it and it is slow or overloaded",
            _join(_share("dependence", r.dependence),
                  _num("delays ×{:.1f} over the period", np.exp(r.delay_trend)),
                  _num("backlog growth {:+.1%}/month", r.backlog_growth)))
    ub = f["bottlenecks_unit"]
    for r in ub[ub["is_bottleneck"]].itertuples():
        if r.node not in done:
            done.add(r.node)
            add("bottleneck", r.node,
                f"Find the root cause of the delays in {r.node}; add capacity or "
                "redistribute work, and agree realistic delays with its internal clients.",
                "the organisation depends on it and it is slow or overloaded",
                _join(_share("dependence", r.dependence),
                      _num("delay excess {:+.1f} SD", r.delay_excess),
                      f"flagged people: {r.flagged_members}"
                      if individuals and getattr(r, "flagged_members", "") else ""))
    # spirals and chronic conflicts (person-level pairs)
    sp = f["spirals"]
    seen = set()

    def once(kind):
        """The pairs of ``kind`` whose targets (units by default) have no action yet."""
        for r in sp[sp["kind"] == kind].itertuples():
            a, b = who(r.a), who(r.b)
            key = tuple(sorted((str(a), str(b))))
            if key not in seen:
                seen.add(key)
                yield r, a, b

    for r, a, b in once("spiral"):
        ev = (f"{r.rounds} alternating round{'' if r.rounds == 1 else 's'} since "
              f"{pd.Timestamp(r.start):%Y-%m-%d}")
        if individuals:
            ev = _join(ev, _num("coupling {:.2f} SD", r.effect), _num("q = {:.3g}", r.q),
                       f"initiator {r.initiator}" + (
                           f" (probability {r.initiator_p:.2f})"
                           if pd.notna(getattr(r, "initiator_p", np.nan)) else "")
                       if isinstance(r.initiator, str) else "")
        add("spiral", f"{a} ⇄ {b}",
            f"Hold a facilitated mediation with both sides ({a} and {b}); close it with a "
            f"reset agreement on expectations and indicators, reviewed every {review_every}.",
            "bad service received is being returned (retaliation spiral)", ev)
    for r, a, b in once("joint_shift"):
        ev = f"both directions worse since {pd.Timestamp(r.start):%Y-%m-%d}"
        if individuals:
            ev = _join(ev, _num("q = {:.3g}", r.q), _num("turn test p = {:.2g}", r.p_turn))
        heads = " and ".join(dict.fromkeys(str(unit_of.get(x, x)) for x in (r.a, r.b)))
        add("joint_shift", f"{a} ⇄ {b}",
            f"The head(s) of {heads}: ask both sides what changed for both at that date "
            "(a shared project, workload, a process change) and fix it; re-agree "
            "expectations and indicators in both directions. Treat it as retaliation only "
            "if the sides say so: the data show no turns.",
            "both sides' service to each other dropped in one exchange (a shared cause, "
            "or turns too fast to show)", ev)
    for r, a, b in once("chronic_conflict"):
        ev = f"{r.n_ab} and {r.n_ba} services exchanged"
        if individuals:
            ev = f"{r.bad_ab} and {r.bad_ba} bad services out of {r.n_ab} and {r.n_ba}"
        add("chronic_conflict", f"{a} ⇄ {b}",
            f"Broker an interarea agreement between {unit_of.get(r.a)} and "
            f"{unit_of.get(r.b)}: what each needs from the other, indicators, and a review "
            f"every {review_every}.",
            "both sides serve each other badly all the time (chronic conflict)", ev)
    cu = f["cycles_unit"]
    if "between" in cu:     # chains of areas; people's cycles have their own rules
        cu = cu[cu["between"] != "people"]
    if len(cu):
        raters = _relation_raters(f["units"])
        for r in cu.itertuples():
            steps = list(zip(r.cycle, r.cycle[1:] + r.cycle[:1]))
            n_min = min(raters.get(s, 0) for s in steps)
            ev = f"{r.n_events} events"
            if n_min >= min_group_size:
                ev = _join(ev, _num("weakest relation {:.2f} below neutral",
                                    r.weakest_shortfall))
            add("conflict_cycle", " → ".join(r.cycle),
                "Bring the heads of " + ", ".join(r.cycle) + " together to agree how each "
                "serves the next; set indicators for every step of the chain.",
                "every relation of this chain of areas is credibly bad", ev)
    # scorecard rules
    comp = f["compliance"]
    for r in hp.itertuples():
        fl = set(r.flags.split("; ")) if r.flags else set()
        tgt = f"{r.unit} ({r.unit_of})" if level == "person" else r.unit
        if "low_served_quality" in fl:
            add("low_served_quality", tgt,
                f"Members of {r.unit}: meet your internal clients, learn what they need "
                "and agree on it; check it with them next period.",
                "its internal clients rate its service credibly below neutral",
                f"served quality {r.served_quality:.2f} [{r.served_low:.2f}, "
                f"{r.served_high:.2f}] from {r.n_raters} raters")
        if fl & {"late", "agreement_breach"}:
            add("late", tgt,
                f"Find why {r.unit} delivers late (at the root: capacity, priorities, "
                "inputs it waits for); fix it, or agree realistic delays with the clients.",
                "many requests are delivered after the agreed delay",
                _join(_num("{:.0%} of requests late", r.sla_breach_rate),
                      _num("{:.0%} beyond the agreed delay", r.agreement_breach_rate)))
        if "idle_members" in fl:
            add("idle_members", tgt,
                f"Clarify whom the {r.idle_members} member(s) of {r.unit} who serve no "
                "internal client should serve (their role), and agree it with them.",
                "everyone in an organisation serves at least one internal client",
                f"{r.idle_members} of {r.n_members} members provided no service")
        if "declining" in fl:
            add("declining", tgt,
                f"Review with the clients of {r.unit} what changed since the previous "
                "period and correct it at the root.",
                "served quality fell more than the organisation's, beyond chance",
                f"trend {r.trend:+.2f} scale points (95 % interval "
                f"[{r.trend_low:+.2f}, {r.trend_high:+.2f}], Holm-adjusted p = "
                f"{r.p_declining:.2g} over the units tested)")
        if "harsh_rater" in fl:
            add("harsh_rater", tgt,
                f"Members of {r.unit}: write down what you expect from your providers and "
                "check it with them; agree what is reasonable.",
                "it rates its providers much lower than their other clients do",
                f"leniency {r.client_leniency:+.2f} scale points")
    for r in h.itertuples():
        fl = set(r.flags.split("; ")) if r.flags else set()
        if "no_agreement" in fl and comp is not None:
            unc = comp.coverage.set_index("provider").loc[r.unit, "uncovered"]
            add("no_agreement", r.unit,
                f"Identify your internal clients, list their expectations, check them with "
                f"the clients and agree behaviour, results and indicators with {unc}; "
                f"review every {review_every}.",
                "it serves these clients without any agreement",
                f"{r.share_without_agreement:.0%} of its client relations uncovered")
        if "overdue_review" in fl and comp is not None:
            ag = comp.agreements
            od = ag[(ag["provider"] == r.unit) & ag["overdue"]]
            for o in od.itertuples():
                add("overdue_review", f"{r.unit} → {o.client}",
                    f"Schedule the review of the agreement with {o.client} "
                    f"(received vs delivered).",
                    "the agreed periodic review has not happened",
                    f"overdue by {int(o.days_overdue)} days (last review "
                    f"{pd.Timestamp(o.last_review):%Y-%m-%d})")
    rows += handover_rows(f.get("handovers"))       # a process log's findings (#22)
    out = pd.DataFrame(rows, columns=_COLUMNS).astype({"priority": "int64"})
    out = out.sort_values(["priority", "target", "rule"], kind="mergesort") \
        .reset_index(drop=True)
    out.attrs["params"] = dict(level=level, individuals=individuals,
                               min_group_size=min_group_size, review_every=review_every,
                               as_of=str(f["as_of"]))
    out.attrs["missing"] = list(f.get("missing", []))
    return out


def _relation_raters(units) -> dict:
    """(provider, client) → distinct people who rated that relation (unit level)."""
    s = _ratings.summary(units)
    return {} if s is None else s.relations["n_raters"].to_dict()


def what_if(net, *, meet_agreement=None, remove=None, level: str = "unit") -> pd.DataFrame:
    """Recompute dependence, bottlenecks and lead time under a scenario.

    Two decisions leadership weighs: "what if this provider met its
    agreement?" (capacity, process fixes) and "what if this unit were
    outsourced or removed?" (who would lose their only provider).

    Parameters
    ----------
    net : ServiceNetwork
        With events; preferably person level with a people table: the
        scenario is applied to the people's events and the result reported
        at ``level``.
    meet_agreement : str or list of str, optional
        Units or people whose delays are capped at their agreed delay
        (``expected_hours``, filled from the agreements table when absent).
    remove : str or list of str, optional
        Units or people removed (outsourced): their service disappears.
    level : {"unit", "person"}, default "unit"
        Level of the rows of the result.

    Returns
    -------
    DataFrame
        One row per node at ``level``, sorted by node: ``node``;
        ``dependence_before``, ``dependence_after`` (share of the
        organisation's dependence, sums to 1); ``score_before``,
        ``score_after`` (bottleneck score 0–1, NaN when the node provides
        nothing); ``bottleneck_before``, ``bottleneck_after`` (bool; at unit
        level also true when one of its members is flagged, as in
        :func:`icnet.health`);
        ``lost_only_provider`` (bool: the node loses its only provider of some
        service). ``attrs``: ``lead_time_before``/``lead_time_after`` (hours
        on the critical path to the external customer, on the person-level
        network, the finest available); ``lost_only_provider`` (DataFrame
        ``client``, ``service``, ``provider``: each client and service whose
        every provider was removed); ``params``.

    Raises
    ------
    ParameterError
        No scenario; an unknown node or unit; ``meet_agreement`` without any
        agreed delay; a bad ``level``; a network without events.

    See Also
    --------
    icnet.bottlenecks, icnet.critical_path, actions

    Notes
    -----
    Meeting the agreement replaces each of the provider's delays :math:`d`
    by :math:`\\min(d, d_{agreed})` (delivery times move accordingly);
    removal drops its events. Everything downstream (edges, dependence,
    bottleneck components, critical path) is recomputed from the modified
    events, so the comparison uses exactly the same method before and after.
    A client loses its only provider of a service when all its events of
    that service (between different nodes at ``level``) came from removed
    providers.

    Examples
    --------
    >>> import icnet
    >>> w = icnet.what_if(icnet.datasets.toy(), meet_agreement="Informatica")
    >>> bool(w.attrs["lead_time_after"] <= w.attrs["lead_time_before"])
    True
    >>> r = icnet.what_if(icnet.datasets.toy(), remove="Mantenimiento")
    >>> r.loc[r["lost_only_provider"], "node"].tolist()
    ['Produccion']
    """
    from .bottlenecks import bottlenecks, critical_path

    net = _validate.network(net, need_events=True)
    _validate.one_of("level", level, ["unit", "person"])
    meet = [meet_agreement] if isinstance(meet_agreement, str) else list(meet_agreement or [])
    rem = [remove] if isinstance(remove, str) else list(remove or [])
    if not meet and not rem:
        raise ParameterError("what_if needs a scenario: meet_agreement=... or remove=...")
    ids = net.node_ids.to_numpy(dtype=object)
    unit_arr = net.nodes.set_index("node")["unit"].reindex(ids).to_numpy(dtype=object)
    units = set(pd.Series(unit_arr).dropna()) if net.level == "person" else set()
    unknown = [x for x in meet + rem if x not in net.node_ids and x not in units]
    if unknown:
        raise ParameterError(f"what_if: {unknown} are neither nodes nor units of this network; "
                             "pass node ids (net.node_ids) or unit names.")

    def selected(xs):     # bool per node: the node, or its unit, is in xs
        xs = list(xs)
        return np.isin(ids, xs) | (np.isin(unit_arr, xs) if units else False)

    ev = net.events.copy()
    pc = ev["provider"].cat.codes.to_numpy()
    if meet:
        if "expected_hours" not in ev or not ev["expected_hours"].notna().any():
            raise ParameterError(
                "meet_agreement needs agreed delays: events with expected_hours, or an "
                "agreements table with max_delay_hours (agreements=... in from_events).")
        m = selected(meet)[pc] & ev["expected_hours"].notna().to_numpy()
        d = ev["delay_hours"].to_numpy(float).copy()
        d[m] = np.fmin(d[m], ev["expected_hours"].to_numpy(float)[m])
        ev["delay_hours"] = d
        if "delivered_at" in ev:
            ev.loc[m, "delivered_at"] = ev.loc[m, "requested_at"] + pd.to_timedelta(d[m], "h")
    lost = pd.DataFrame({"client": pd.Series(dtype=object), "service": pd.Series(dtype=object),
                         "provider": pd.Series(dtype=object)})
    if rem:
        gone_node = selected(rem)
        gone = gone_node[pc]
        to_unit = level == "unit" and net.level == "person" and net.people is not None
        side = unit_arr if to_unit else ids
        side_codes, side_names = pd.factorize(side)
        cc = ev["client"].cat.codes.to_numpy()
        svc_codes, svc_names = pd.factorize(
            ev["service"].astype(object).fillna("") if "service" in ev
            else pd.Series("", index=ev.index))
        k = pd.DataFrame({"client": side_codes[cc], "service": svc_codes,
                          "provider": side_codes[pc], "gone": gone})
        k = k[(k["client"] != k["provider"]) & ~gone_node[cc]]
        per = k.groupby(["client", "service"])["gone"].all()
        keys = per[per].reset_index()[["client", "service"]]
        lk = keys.merge(k[k["gone"]].drop_duplicates(["client", "service", "provider"]),
                        on=["client", "service"])
        lost = pd.DataFrame({"client": side_names[lk["client"].to_numpy()],
                             "service": svc_names[lk["service"].to_numpy()],
                             "provider": side_names[lk["provider"].to_numpy()]})
        lost = lost.sort_values(["client", "service", "provider"], kind="mergesort") \
            .reset_index(drop=True)
        ev = ev.loc[~gone].reset_index(drop=True)
    after = net._replace(events=ev)
    lv0, lv1 = _validate.level(net, level), _validate.level(after, level)
    # at unit level the API flags a unit with a flagged member (as health and the report)
    b0 = bottlenecks(net, level=level).set_index("node")
    b1 = bottlenecks(after, level=level).set_index("node")
    nodes = lv0.node_ids
    out = pd.DataFrame({
        "node": nodes.to_numpy(dtype=object),
        "dependence_before": b0["dependence"].reindex(nodes).to_numpy(dtype=float),
        "dependence_after": b1["dependence"].reindex(nodes).to_numpy(dtype=float),
        "score_before": b0["score"].reindex(nodes).to_numpy(dtype=float),
        "score_after": b1["score"].reindex(nodes).to_numpy(dtype=float),
        "bottleneck_before": b0["is_bottleneck"].reindex(nodes).fillna(False)
        .to_numpy(dtype=bool),
        "bottleneck_after": b1["is_bottleneck"].reindex(nodes).fillna(False)
        .to_numpy(dtype=bool)})
    out["lost_only_provider"] = out["node"].isin(set(lost["client"]))
    cp0, cp1 = critical_path(net), critical_path(after)
    out.attrs.update(lead_time_before=cp0.attrs.get("total_hours", np.nan),
                     lead_time_after=cp1.attrs.get("total_hours", np.nan),
                     lost_only_provider=lost,
                     params=dict(meet_agreement=meet, remove=rem, level=level))
    return out


def handover_rows(handovers) -> list[tuple]:
    """The actions of a process log's hand-over findings, as rows of :func:`actions`.

    Parameters
    ----------
    handovers : HandoverSummary or None
        :func:`icnet.handover_summary` (``findings(net)["handovers"]``); None
        gives no rows.

    Returns
    -------
    list of tuple
        ``(priority, owner_role, target, action, reason, evidence, rule)``
        from :func:`icnet.handover_actions`: ping-pong pairs, slow teams (with
        their holding time in the summary's hours), escalation outliers.
    """
    if handovers is None:
        return []
    from .handovers import handover_actions

    return list(handover_actions(handovers)[_COLUMNS].itertuples(index=False, name=None))
