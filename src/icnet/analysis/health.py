"""Health scorecards per unit (and, when asked, per person): the area head's and HR's view.

See docs/methods/health.md for every column and the score formula.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
from scipy import stats

from .. import _validate
from . import _ratings
from ..errors import ParameterError
from ..privacy import MIN_GROUP_SIZE, check_individuals

__all__ = ["health", "findings", "FLAGS", "handover_health", "HANDOVER_FLAGS"]

#: flag code → what it means (the ``flags`` column holds these codes, ``"; "``-joined).
FLAGS = {
    "low_served_quality": "its internal clients rate its service credibly below neutral",
    "late": "over 30 % of its requests with an agreed delay are late",
    "agreement_breach": "over 30 % of the requests under its agreements break the agreed delay",
    "bottleneck": "flagged as a bottleneck",
    "conflict_cycle": "part of a conflict cycle",
    "spiral": "in a retaliation spiral",
    "chronic_conflict": "in a chronic mutual conflict",
    "no_agreement": "serves clients without any agreement",
    "overdue_review": "agreement reviews are overdue",
    "idle_members": "members who serve no internal client",
    "declining": "served quality fell credibly since the previous period",
    "harsh_rater": "rates its providers much lower than others do",
}
_UNCOVERED = 0.25    # share of a unit's work without agreement that raises "no_agreement"
_LATE = 0.3          # breach share above which "late" / "agreement_breach" is raised
_DECLINE = -0.3      # trend (scale points) below which "declining" is raised
_DECLINE_FWER = 0.05  # family-wise error of "declining" over the units (or people) tested
_HARSH = -0.5        # leniency (scale points) below which "harsh_rater" is raised

#: analysis → (module, function); findings() records the ones it could not import.
_ANALYSES = {
    "service_quality": ("icnet.analysis.quality", "service_quality"),
    "agreement_compliance": ("icnet.analysis.agreements", "agreement_compliance"),
    "bottlenecks": ("icnet.analysis.bottlenecks", "bottlenecks"),
    "conflict_cycles": ("icnet.analysis.conflicts", "conflict_cycles"),
    "retaliation_spirals": ("icnet.analysis.spirals", "retaliation_spirals"),
}


def _load(name):
    mod, fn = _ANALYSES[name]
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError):
        return None


def findings(net, *, min_group_size: int = MIN_GROUP_SIZE, as_of=None, seed=0,
             n_perm: int = 499) -> dict:
    """Run every analysis once (shared by :func:`health`, :func:`icnet.actions`, the report).

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    min_group_size : int, default 5
    as_of : timestamp, optional
        "Today" for agreement reviews (default: end of the data).
    seed : int or numpy.random.Generator, default 0
        For the spiral permutation test.
    n_perm : int, default 499
        Permutations of the spiral test.

    Returns
    -------
    dict
        ``net`` (person level), ``units`` (unit level, or the network itself
        when it has no people table), ``quality``, ``compliance`` (or None),
        ``bottlenecks`` (person level), ``bottlenecks_unit``, ``cycles``
        (person level), ``cycles_unit``, ``spirals`` (person level),
        ``as_of``, ``missing`` (list of analyses that could not be
        imported; their entries are empty tables with the documented columns)
        and ``handovers``: the :class:`~icnet.analysis.handovers.HandoverSummary`
        of a network built by :func:`icnet.from_process_log` (its
        ``process_log``, in its ``work_calendar``), else None.

    Examples
    --------
    >>> import icnet
    >>> f = findings(icnet.datasets.toy(), n_perm=49)
    >>> f["cycles_unit"].loc[0, "cycle"]
    ('Calidad', 'Produccion')
    >>> f["missing"]
    []
    """
    net = _validate.network(net)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    units = net.by("unit") if (net.level == "person" and net.people is not None) else net
    out = {"net": net, "units": units, "missing": []}
    fn = {k: _load(k) for k in _ANALYSES}
    out["missing"] = sorted(k for k, v in fn.items() if v is None)
    out["quality"] = fn["service_quality"](net, min_group_size=min_group_size) \
        if fn["service_quality"] else None
    has_ag = net.agreements is not None and len(net.agreements)
    out["compliance"] = (fn["agreement_compliance"](net, as_of=as_of,
                                                    min_group_size=min_group_size)
                         if (has_ag and fn["agreement_compliance"]) else None)
    empty_b = pd.DataFrame({"node": pd.Series(dtype=object), "score": pd.Series(dtype=float),
                            "is_bottleneck": pd.Series(dtype=bool),
                            "dependence": pd.Series(dtype=float)})
    if fn["bottlenecks"]:
        out["bottlenecks"] = fn["bottlenecks"](net)
        # unit level through the API, so a unit with a flagged member is flagged there
        out["bottlenecks_unit"] = fn["bottlenecks"](net, level="unit",
                                                   _person=out["bottlenecks"]) \
            if units is not net else out["bottlenecks"]
    else:
        out["bottlenecks"] = out["bottlenecks_unit"] = empty_b
    empty_c = pd.DataFrame({"cycle": pd.Series(dtype=object), "length": pd.Series(dtype=int)})
    if fn["conflict_cycles"]:
        out["cycles"] = fn["conflict_cycles"](net, individuals=True)   # gated by the callers
        # unit level through the API: it carries the units of the people's cycles too
        out["cycles_unit"] = fn["conflict_cycles"](net, level="unit", individuals=True,
                                                   _person=out["cycles"]) \
            if units is not net else out["cycles"]
    else:
        out["cycles"] = out["cycles_unit"] = empty_c
    if net.has_time and net.has_events and fn["retaliation_spirals"]:
        out["spirals"] = fn["retaliation_spirals"](net, seed=seed, n_perm=n_perm,
                                                   individuals=True)   # gated by the callers
    else:
        out["spirals"] = pd.DataFrame(columns=["a", "b", "kind"])
    out["as_of"] = as_of if as_of is not None else (net.span[1] if net.has_time else None)
    out["handovers"] = _handovers_of(net)
    return out


def _handovers_of(net):
    """The hand-over summary of a network that carries its process log (else None)."""
    if getattr(net, "process_log", None) is None:
        return None
    from .handovers import handover_summary

    # teams: the resources' units when there is a people table (never named people),
    # else the resources themselves (a log whose resource is the team, e.g. org:group)
    ppl = net.people
    unit = net.level == "person" and ppl is not None and "unit" in ppl
    return handover_summary(net, level="unit" if unit else None)


def health(net, *, level: str = "unit", individuals: bool = False,
           min_group_size: int = MIN_GROUP_SIZE, freq: str = "QS", as_of=None, seed=0,
           _found: dict | None = None) -> pd.DataFrame:
    """A scorecard per unit: how it serves, how it is served, agreements, conflicts, trend.

    What the area head monitors (how its internal clients are served, and
    where to correct at the root) and what HR scans for (areas, and people
    when asked, with deficiencies). Every deficiency is a short code in
    ``flags`` with the numbers behind it in ``flag_evidence``.

    Parameters
    ----------
    net : ServiceNetwork
        Person level, with a people table (person → unit).
    level : {"unit", "person"}, default "unit"
        ``"person"`` rows need ``individuals=True`` (privacy by default).
    individuals : bool, default False
        Allow person-level scorecards.
    min_group_size : int, default 5
        Survey-derived figures (served quality and its interval, trend,
        client leniency) backed by fewer distinct raters are NaN.
    freq : str, default "QS"
        Pandas offset alias of the trend periods (last complete period vs the
        one before).
    as_of : timestamp, optional
        "Today" for agreement reviews (default: the end of the data, never
        the wall clock).
    seed : int or numpy.random.Generator, default 0
        For the spiral permutation test.

    Returns
    -------
    DataFrame
        One row per unit (or per person, then with columns ``person`` and
        ``unit``), sorted by ``score`` ascending (the most in need first),
        ties by name:

        - ``unit``; ``n_members`` (people);
        - ``served_quality``, ``served_low``, ``served_high``: shrunk mean
          satisfaction (scale points) of the service it gives to the other
          units, with its 95 % interval;
        - ``n_raters``: distinct people who rated that service;
        - ``client_leniency``: as a client, its mean rating minus what the
          same providers get from their other clients, event-weighted (scale
          points; < 0 a harsh rater);
        - ``delay_median`` (hours, median over its client relations of the
          relation's median delay); ``sla_breach_rate`` (share of its
          requests with an ``expected_hours`` delivered late: the relations'
          Kaplan–Meier estimates, ``sla_n``-weighted) and ``sla_breach_low``
          (the same weighting of their lower 95 % bounds; the ``late`` flag
          fires when it exceeds 30 %);
        - ``n_agreements``; ``agreement_breach_rate`` (Kaplan–Meier share of
          requests breaking the agreed delay, event-weighted over its
          agreements as provider); ``agreements_breached`` (its agreements
          whose whole 95 % interval lies above 30 %: the ``agreement_breach``
          flag); ``volume_without_agreement`` (share of its events served
          without agreement; ``no_agreement`` needs ≥ 25 %);
        - ``n_clients`` (client units or people);
          ``share_without_agreement`` (share of its client units served
          without any agreement); ``overdue_reviews`` (its agreements whose
          review is overdue at ``as_of``);
        - ``bottleneck_score`` (0–1); ``in_bottleneck`` (the unit, or one of
          its members, is flagged);
        - ``n_conflict_cycles``, ``n_spirals``, ``n_chronic``: person-level
          conflict cycles, retaliation spirals and chronic mutual conflicts
          (``chronic_conflict``) its members are part of;
        - ``idle_members`` (members who serve no internal client, within or
          outside the unit, and are not marked ``external_facing``: those serve
          the external customer) and ``idle_share``;
        - ``trend``: served quality in the last complete period minus the
          period before, minus the organisation's own change (scale points);
          ``trend_low``, ``trend_high``: its 95 % interval (each period's mean
          with a rater-clustered standard error); ``p_declining``: the one-sided
          p of "no decline", Holm-adjusted over the rows with a trend (Holm
          1979); the ``declining`` flag needs ``trend_high`` < 0, ``trend`` <
          −0.3 *and* ``p_declining`` ≤ 0.05 (at most a 5 % chance of any
          ``declining`` flag in an organisation where nothing declined);
        - ``score`` (0–100, see Notes); ``flags`` (``"; "``-joined codes of
          :data:`FLAGS`, ``""`` when none) and ``flag_evidence`` (the numbers
          behind each flag, same order, ``"; "``-joined).

        ``attrs``: ``params``; ``missing`` (analyses that could not be
        imported and so are absent from the scorecard; normally ``[]``).

    Raises
    ------
    ParameterError
        ``level="person"`` without ``individuals=True``; no people table; a
        bad ``level``, ``min_group_size`` or ``freq``.

    See Also
    --------
    icnet.actions : the scorecard turned into owner-addressed actions.
    icnet.service_quality, icnet.agreement_compliance, icnet.bottlenecks,
    icnet.conflict_cycles, icnet.retaliation_spirals

    Notes
    -----
    ``score`` = 100 × the mean of the available components, each in [0, 1]:
    served quality :math:`(\\hat\\theta-L)/(H-L)` on the scale [L, H];
    punctuality :math:`1-\\text{breach}`; agreement coverage
    :math:`1-\\text{share without}`; reviews :math:`1/(1+\\text{overdue})`;
    peace :math:`1/(1+\\text{cycles}+\\text{spirals}+\\text{chronic})`;
    engagement :math:`1-\\text{idle share}`; flow: 0 when in a bottleneck,
    else 1. Missing components (NaN) are left out of the mean.

    Leniency of client *c*: :math:`\\ell_c = \\sum_p n_{pc}(\\bar y_{pc} -
    \\bar y_{p,-c}) / \\sum_p n_{pc}`, where :math:`\\bar y_{p,-c}` is what
    provider *p* gets from its other clients (cf. the rater effect of the
    social relations model, Kenny 1994).

    References
    ----------
    Kaplan, R. S. & Norton, D. P. (1992). The balanced scorecard. *Harvard
    Business Review* 70(1), 71–79.
    Gremler, D. D., Bitner, M. J. & Evans, K. R. (1994). The internal service
    encounter. *Int. J. Service Industry Management* 5(2), 34–56.
    Kenny, D. A. (1994). *Interpersonal Perception: A Social Relations
    Analysis*. Guilford.

    Examples
    --------
    >>> import icnet
    >>> h = icnet.health(icnet.datasets.toy(), min_group_size=1)
    >>> h[["unit", "n_conflict_cycles", "overdue_reviews"]].head(3).values.tolist()
    [['Calidad', 2, 0], ['Informatica', 0, 1], ['Produccion', 2, 0]]
    >>> h.loc[0, "flags"].split("; ")
    ['conflict_cycle', 'chronic_conflict', 'no_agreement', 'harsh_rater']
    >>> h.loc[0, "flag_evidence"].split("; ")[0]
    '2 conflict cycle(s)'

    With the default ``min_group_size=5`` the figures rated by 4 people are
    not shown:

    >>> h5 = icnet.health(icnet.datasets.toy()).set_index("unit")
    >>> float(h5.loc["Calidad", "served_quality"])
    nan
    """
    net = _validate.network(net)
    _validate.one_of("level", level, ["unit", "person"])
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    off = _validate.offset(freq)
    individuals = check_individuals(individuals)
    if level == "person" and not individuals:
        raise ParameterError(
            "Person-level health needs individuals=True: scorecards of individuals are "
            "only produced when asked for (privacy by default).")
    if net.level != "person" or net.people is None:
        raise ParameterError(
            "health needs a person-level network with a people table (person → unit); "
            "pass people=... to icnet.from_events.")
    f = _found or findings(net, min_group_size=min_group_size, as_of=as_of, seed=seed)
    units = f["units"]
    unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                        index=net.nodes["node"].to_numpy(dtype=object))
    if level == "unit":
        names = units.node_ids.to_numpy(dtype=object)
        mem = units.members
        key_net, group_of = units, unit_of
    else:
        names = net.node_ids.to_numpy(dtype=object)
        mem = pd.DataFrame({"node": names, "member": names})
        key_net = net
        group_of = pd.Series(names, index=names)
    out = pd.DataFrame({"unit": names})
    out["n_members"] = mem.groupby("node")["member"].size().reindex(names) \
        .fillna(0).astype(int).to_numpy()
    # served quality (provider side), suppressed below min_group_size raters
    q = f["quality"]
    if q is not None:
        qp = q.units if level == "unit" else q.providers
        qp = qp.set_index(qp.columns[0])
        for col, src in (("served_quality", "satisfaction_shrunk"),
                         ("served_low", "satisfaction_low"),
                         ("served_high", "satisfaction_high")):
            out[col] = qp[src].reindex(names).to_numpy(dtype=float)
    else:
        out[["served_quality", "served_low", "served_high"]] = np.nan
    rs = _ratings.summary(key_net)
    nr = rs.providers["n_raters"] if rs is not None else pd.Series(dtype="int64")
    out["n_raters"] = nr.reindex(names).fillna(0).astype(int).to_numpy()
    small = out["n_raters"].to_numpy() < min_group_size
    out.loc[small, ["served_quality", "served_low", "served_high"]] = np.nan
    out["client_leniency"] = _leniency(rs, names, min_group_size)
    # delays and agreed delays of the service it gives
    e = key_net._edges
    g = e.groupby("provider", observed=True)
    out["delay_median"] = g["delay_median"].median().reindex(names).to_numpy(dtype=float) \
        if "delay_median" in e else np.nan
    if "sla_n" in e:
        bw = (e["sla_breach_rate"].fillna(0) * e["sla_n"]).groupby(e["provider"],
                                                                   observed=True).sum()
        sn = g["sla_n"].sum()
        out["sla_breach_rate"] = (bw / sn.where(sn > 0)).reindex(names).to_numpy(dtype=float)
        # the flag fires on the interval: the sla_n-weighted mean of the relations'
        # lower bounds (conservative: below the pooled estimate's lower bound)
        lw = e["sla_breach_low"] if "sla_breach_low" in e else pd.Series(np.nan, e.index)
        sw = e["sla_n"].where(lw.notna(), 0)
        lb = (lw.fillna(0) * sw).groupby(e["provider"], observed=True).sum() / \
            sw.groupby(e["provider"], observed=True).sum().replace(0, np.nan)
        out["sla_breach_low"] = lb.reindex(names).to_numpy(dtype=float)
    else:
        out["sla_breach_rate"] = np.nan
        out["sla_breach_low"] = np.nan
    out["n_clients"] = g.size().reindex(names).fillna(0).astype(int).to_numpy()
    comp = f["compliance"]
    if comp is not None and level == "unit":
        cov = comp.coverage.set_index("provider")
        out["share_without_agreement"] = (1 - cov["share_clients"]).reindex(names) \
            .to_numpy(dtype=float)
        ag = comp.agreements
        out["n_agreements"] = ag.groupby("provider").size().reindex(names).fillna(0) \
            .astype(int).to_numpy()
        w = ag["n_events"].astype(float).where(ag["breach_rate_km"].notna(), 0.0)
        num = (ag["breach_rate_km"].fillna(0) * w).groupby(ag["provider"]).sum()
        den = w.groupby(ag["provider"]).sum()
        out["agreement_breach_rate"] = (num / den.where(den > 0)).reindex(names) \
            .to_numpy(dtype=float)
        # agreements flagged on their interval (whole interval above the bound)
        bf = ag["breach_flag"] if "breach_flag" in ag else pd.Series(False, ag.index)
        out["agreements_breached"] = bf.groupby(ag["provider"]).sum().reindex(names) \
            .fillna(0).astype(int).to_numpy()
        out["volume_without_agreement"] = (1 - cov["share_volume"]).reindex(names) \
            .to_numpy(dtype=float)
        od = ag.groupby("provider")["overdue"].sum()
        out["overdue_reviews"] = od.reindex(names).fillna(0).astype(int).to_numpy()
    else:
        out["share_without_agreement"] = np.nan
        out["n_agreements"] = 0
        out["agreement_breach_rate"] = np.nan
        out["agreements_breached"] = 0
        out["volume_without_agreement"] = np.nan
        out["overdue_reviews"] = 0
    # bottlenecks
    b = (f["bottlenecks_unit"] if level == "unit" else f["bottlenecks"]).set_index("node")
    out["bottleneck_score"] = b["score"].reindex(names).to_numpy(dtype=float)
    flagged = b["is_bottleneck"].reindex(names).fillna(False).to_numpy(dtype=bool).copy()
    if level == "unit":   # a flagged member makes its unit part of a bottleneck
        pb = f["bottlenecks"]
        flagged |= np.isin(names, unit_of.reindex(pb.loc[pb["is_bottleneck"], "node"])
                           .to_numpy())
    out["in_bottleneck"] = flagged
    # conflicts and spirals, found on the person level and mapped to this level
    out["n_conflict_cycles"] = _count(names, group_of, list(f["cycles"]["cycle"]))
    sp = f["spirals"]
    for col, kinds in (("n_spirals", ("spiral", "one_sided")),
                       ("n_chronic", ("chronic_conflict",))):
        s = sp[sp["kind"].isin(kinds)] if len(sp) else sp
        out[col] = _count(names, group_of, list(zip(s.get("a", []), s.get("b", []))))
    # members who serve nobody internally (within-unit service counts) and do not
    # face the external customer (sales, service desk: their clients are outside)
    nodes = net.nodes.set_index("node")
    n_out = nodes["n_out"]
    ext = nodes["external_facing"].fillna(False).astype(bool) if "external_facing" in nodes \
        else pd.Series(False, index=nodes.index)
    idle = mem.assign(idle=(n_out.reindex(mem["member"]).fillna(0).to_numpy() == 0)
                      & ~ext.reindex(mem["member"]).fillna(False).to_numpy(dtype=bool))
    out["idle_members"] = idle.groupby("node")["idle"].sum().reindex(names).fillna(0) \
        .astype(int).to_numpy()
    out["idle_share"] = out["idle_members"] / out["n_members"].where(out["n_members"] > 0)
    out["trend"], out["trend_low"], out["trend_high"], p_down = _trend(
        key_net, names, off, min_group_size, rs)
    out["p_declining"] = _holm(p_down)
    lo, hi = net.scale
    breach = out["sla_breach_rate"].where(out["sla_breach_rate"].notna(),
                                          out["agreement_breach_rate"])
    comps = np.vstack([
        (out["served_quality"] - lo) / (hi - lo),
        1 - breach,
        1 - out["share_without_agreement"],
        1 / (1 + out["overdue_reviews"]),
        1 / (1 + out["n_conflict_cycles"] + out["n_spirals"] + out["n_chronic"]),
        1 - out["idle_share"],
        1 - out["in_bottleneck"].astype(float)]).astype(float)
    with np.errstate(invalid="ignore"):
        out["score"] = 100 * np.nanmean(comps, axis=0)
    out["flags"], out["flag_evidence"] = _flags(out, net.threshold)
    out = out.sort_values(["score", "unit"], kind="mergesort").reset_index(drop=True)
    if level == "person":
        out = out.rename(columns={"unit": "person"})
        out.insert(1, "unit", unit_of.reindex(out["person"]).to_numpy())
    out.attrs["params"] = dict(level=level, individuals=individuals,
                               min_group_size=min_group_size, freq=freq,
                               as_of=str(f["as_of"]), seed=seed if isinstance(seed, int)
                               else str(seed))
    out.attrs["missing"] = list(f.get("missing", []))
    return out


def _count(names, group_of, groups):
    """How many of ``groups`` (tuples of node ids) touch each of ``names``."""
    if not len(groups):
        return np.zeros(len(names), dtype=int)
    gid = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    mapped = group_of.reindex([x for g in groups for x in g]).to_numpy(dtype=object)
    d = pd.DataFrame({"g": gid, "n": mapped}).dropna().drop_duplicates()
    return d.groupby("n").size().reindex(names).fillna(0).astype(int).to_numpy()


def _leniency(rs, names, min_group_size):
    """Client leniency: its ratings minus what the same providers get from others."""
    if rs is None or not len(rs.relations):
        return np.full(len(names), np.nan)
    pc = rs.relations[["sum", "count"]].reset_index()
    tot = pc.groupby("provider", sort=False)[["sum", "count"]].transform("sum")
    n_other = tot["count"] - pc["count"]
    ok = n_other > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = pc["sum"] / pc["count"] - (tot["sum"] - pc["sum"]) / n_other
    w = pc["count"].where(ok, 0).astype(float)
    num = (dev.where(ok, 0) * w).groupby(pc["client"]).sum()
    den = w.groupby(pc["client"]).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        len_ = (num / den.where(den > 0)).reindex(names).to_numpy(dtype=float, copy=True)
    # privacy: the figure describes the client's raters
    nrat = rs.client_raters
    len_[nrat.reindex(names).fillna(0).to_numpy() < min_group_size] = np.nan
    return len_


def _period_rater_part(ev: pd.DataFrame, start, stop, freq):
    """Per (provider, period, rater): the count and sum of the ratings (for the
    rater-clustered variance of each period's mean, see :func:`_trend`)."""
    rater = _ratings.rater_column(ev.columns)
    rated = ev.loc[ev["satisfaction"].notna() & ev["requested_at"].notna()]
    starts = pd.date_range(start, stop, freq=freq)
    k = np.searchsorted(starts.to_numpy(), rated["requested_at"].to_numpy(), side="right") - 1
    key = pd.DataFrame({"p": rated["provider"].cat.codes.to_numpy().astype(np.int64),
                        "k": k, "r": _ratings._raters(rated, rater)})
    g = rated["satisfaction"].groupby([key["p"].to_numpy(), key["k"].to_numpy(),
                                       key["r"].to_numpy()])
    return pd.DataFrame({"n": g.count(), "s": g.sum()}).rename_axis(
        ["p", "k", "r"]).reset_index()


def _trend(key_net, names, off, min_group_size, rs):
    """Served quality in the last complete period minus the one before, net of the
    organisation-wide change (a company-wide bad or good period moves nobody's trend),
    with its 95 % interval and the one-sided p of "no decline":
    ``(trend, trend_low, trend_high, p)``.

    Each period's mean has a rater-clustered (CR1) variance,
    :math:`\\frac{G}{G-1}\\sum_r (S_r - n_r\\bar y)^2 / n^2` over its G raters r (n_r
    ratings summing to S_r); the change's variance is the sum of the two (periods
    treated as independent: a rater's style shared by both periods only makes the true
    variance of the change smaller, so this is conservative). The interval uses the t
    quantile with Welch–Satterthwaite degrees of freedom, G - 1 per period (the
    small-cluster correction of Cameron & Miller 2015). The organisation's own change,
    estimated from all ratings, is taken as known."""
    nan = np.full(len(names), np.nan)
    got = _ratings.by_period(key_net, off, rs) if key_net.has_time else None
    if got is None or not len(got[0]):
        return nan, nan, nan, nan
    t, bounds = got
    end = key_net.span[1]
    # a period is complete when the data reach its last day
    last = int(t["k"].max())
    if end < bounds[last + 1] - pd.Timedelta(days=1):
        last -= 1
    if last < 1:
        return nan, nan, nan, nan
    start = bounds[0]
    cl = key_net._per_provider(_period_rater_part,
                               ["satisfaction", _ratings.rater_column(key_net.event_columns)],
                               start=start, stop=bounds[-1], freq=off.freqstr)
    # partitions (Dask) each number their rows: one order, the pandas path's, for sums
    cl = cl.loc[cl["k"].isin([last - 1, last])].sort_values(["p", "k", "r"], kind="mergesort") \
        .reset_index(drop=True)
    n_pk = cl.groupby(["p", "k"])["n"].transform("sum").to_numpy(float)
    m_pk = cl.groupby(["p", "k"])["s"].transform("sum").to_numpy(float) / n_pk
    u = (cl["s"].to_numpy(float) - cl["n"].to_numpy(float) * m_pk) ** 2 / n_pk ** 2
    v = pd.Series(u).groupby([cl["p"].to_numpy(), cl["k"].to_numpy()]).agg(["sum", "size"])
    with np.errstate(invalid="ignore", divide="ignore"):
        var = v["sum"] * v["size"] / (v["size"] - 1)
    ids = key_net.node_ids.to_numpy(dtype=object)

    def mean(j):
        s = t.loc[t["k"] == j]
        m = pd.Series(s["mean"].to_numpy(), index=s["provider"].to_numpy(dtype=object))
        m = m.where(s["n_raters"].to_numpy() >= min_group_size)
        vj = var.xs(j, level=1) if j in var.index.get_level_values(1) else var.iloc[:0]
        vj = pd.Series(vj.to_numpy(), index=ids[vj.index.to_numpy()])
        gj = v["size"].xs(j, level=1) if j in v.index.get_level_values(1) else v["size"][:0]
        gj = pd.Series(gj.to_numpy(float), index=ids[gj.index.to_numpy()])
        with np.errstate(invalid="ignore", divide="ignore"):
            return m, vj.reindex(m.index), gj.reindex(m.index), \
                s["sum"].sum() / s["count"].sum()

    (m1, v1, g1, o1), (m0, v0, g0, o0) = mean(last), mean(last - 1)
    tr = ((m1 - m0) - (o1 - o0)).reindex(names).to_numpy(dtype=float)
    v1, v0 = v1.reindex(names).to_numpy(float), v0.reindex(names).to_numpy(float)
    g1, g0 = g1.reindex(names).to_numpy(float), g0.reindex(names).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Welch–Satterthwaite degrees of freedom, G - 1 per period (few raters: wide)
        df = (v1 + v0) ** 2 / (v1 ** 2 / (g1 - 1) + v0 ** 2 / (g0 - 1))
    ok = np.isfinite(tr) & np.isfinite(df) & (df > 0)
    q = np.full(len(names), np.nan)
    q[ok] = stats.t.ppf(0.975, df[ok])
    se = np.sqrt(v1 + v0)
    half = np.where(ok, q * se, np.nan)
    half[np.isfinite(tr) & (v1 + v0 == 0)] = 0.0     # every rater gave one same rating
    # one-sided p of "no decline" (trend >= 0), same t and degrees of freedom
    p = np.full(len(names), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        p[ok] = stats.t.cdf(tr[ok] / se[ok], df[ok])
    sure = np.isfinite(tr) & (v1 + v0 == 0)
    p[sure] = np.where(tr[sure] < 0, 0.0, 1.0)
    return tr, tr - half, tr + half, p


def _holm(p):
    """Holm (1979) step-down adjusted p-values over the finite ones (NaN stays NaN)."""
    p = np.asarray(p, float)
    adj = np.full(len(p), np.nan)
    fin = np.flatnonzero(np.isfinite(p))
    if not len(fin):
        return adj
    order = fin[np.argsort(p[fin], kind="mergesort")]
    m = len(order)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adj[order] = np.minimum(stepped, 1.0)
    return adj


def _flags(out, threshold):
    """Flag codes and their evidence, vectorised per flag, joined per row."""
    fin = np.isfinite
    checks = [
        ("low_served_quality", fin(out["served_high"]) & (out["served_high"] < threshold),
         lambda r: f"served quality {r.served_quality:.2f} "
                   f"[{r.served_low:.2f}, {r.served_high:.2f}] from {r.n_raters} raters"),
        ("late", fin(out["sla_breach_low"]) & (out["sla_breach_low"] > _LATE),
         lambda r: f"{r.sla_breach_rate:.0%} of requests late "
                   f"(lower 95 % bound {r.sla_breach_low:.0%})"),
        ("agreement_breach", out["agreements_breached"] > 0,
         lambda r: f"{r.agreement_breach_rate:.0%} beyond the agreed delay, "
                   f"{r.agreements_breached} agreement(s) with the whole 95 % interval "
                   f"above {_LATE:.0%}"),
        ("bottleneck", out["in_bottleneck"].to_numpy(dtype=bool),
         lambda r: f"bottleneck score {r.bottleneck_score:.2f}"),
        ("conflict_cycle", out["n_conflict_cycles"] > 0,
         lambda r: f"{r.n_conflict_cycles} conflict cycle(s)"),
        ("spiral", out["n_spirals"] > 0, lambda r: f"{r.n_spirals} retaliation spiral(s)"),
        ("chronic_conflict", out["n_chronic"] > 0,
         lambda r: f"{r.n_chronic} chronic conflict(s)"),
        ("no_agreement", fin(out["share_without_agreement"])
         & (out["share_without_agreement"] > 0)
         & (out["volume_without_agreement"].fillna(1) >= _UNCOVERED),
         lambda r: f"{r.share_without_agreement:.0%} of client relations "
                   f"({r.volume_without_agreement:.0%} of its work) without agreement"),
        ("overdue_review", out["overdue_reviews"] > 0,
         lambda r: f"{r.overdue_reviews} overdue review(s)"),
        ("idle_members", out["idle_members"] > 0,
         lambda r: f"{r.idle_members} of {r.n_members} members serve nobody"),
        ("declining", fin(out["trend_high"]) & (out["trend_high"] < 0)
         & (out["trend"] < _DECLINE) & (out["p_declining"] <= _DECLINE_FWER),
         lambda r: f"served quality {r.trend:+.2f} [{r.trend_low:+.2f}, "
                   f"{r.trend_high:+.2f}] vs the previous period (Holm-adjusted "
                   f"p = {r.p_declining:.2g})"),
        ("harsh_rater", fin(out["client_leniency"]) & (out["client_leniency"] < _HARSH),
         lambda r: f"rates {r.client_leniency:+.2f} below the providers' other clients"),
    ]
    n = len(out)
    codes = [[] for _ in range(n)]
    evid = [[] for _ in range(n)]
    for code, mask, text in checks:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(idx):
            continue
        for i, r in zip(idx, out.iloc[idx].itertuples(index=False)):
            codes[i].append(code)
            evid[i].append(text(r))
    return ["; ".join(c) for c in codes], ["; ".join(e) for e in evid]


# ------------------------------------------------------------ hand-over health (#22)

#: hand-over flag code → what it means (the ``flags`` column of :func:`handover_health`).
HANDOVER_FLAGS = {
    "pingpong": "in a ping-pong pair: cases bounce between it and another team",
    "slow_holding": "cases wait there longer than elsewhere (holding time)",
    "pushes_up": "a 1st-line team that escalates more than the other 1st-line teams",
    "sends_back_down": "sends back down what came up, more than its routing implies",
}


def handover_health(handovers) -> pd.DataFrame:
    """Per team, the tested hand-over findings of a process log (no ratings needed).

    Parameters
    ----------
    handovers : HandoverSummary
        :func:`icnet.handover_summary`.

    Returns
    -------
    DataFrame
        One row per team: ``team``, ``visits`` (visits handed on),
        ``median_hours`` (holding time per visit, in ``hours_basis`` hours),
        ``pingpong_partners`` (flagged ping-pong partners, ``"; "``-joined),
        ``bounces`` (A→B→A bounces in its flagged pairs, either side),
        ``hours_lost`` (hours in the receiving team during those bounces),
        ``flags`` (codes of :data:`HANDOVER_FLAGS`, ``"; "``-joined),
        ``n_flags``, ``hours_basis``. Flagged teams first (most flags, then
        most bounces), then by name. ``attrs["used"]``: the log's columns.

    Examples
    --------
    >>> from icnet.analysis.handovers import simulate_tickets, handover_summary
    >>> log = simulate_tickets(n_cases=800, n_teams=8, pingpong=[("T0", "T1")],
    ...                        slow=["T3"], seed=1)
    >>> handover_health(handover_summary(log)).set_index("team").loc["T3", "flags"]
    'slow_holding; pushes_up'
    """
    if not all(hasattr(handovers, k) for k in ("pingpong", "holding_times", "escalations")):
        raise ParameterError("handover_health needs icnet.handover_summary(...).")
    ht = handovers.holding_times
    pp = handovers.pingpong
    es = handovers.escalations
    basis = handovers.hours_basis
    fpp = pp[pp["flagged"].to_numpy(bool)]
    both = pd.concat([fpp.assign(team=fpp["team_a"], other=fpp["team_b"]),
                      fpp.assign(team=fpp["team_b"], other=fpp["team_a"])],
                     ignore_index=True)
    teams = pd.Index(pd.unique(np.r_[ht["team"].to_numpy(dtype=object),
                                     es["team"].to_numpy(dtype=object) if len(es) else [],
                                     both["team"].to_numpy(dtype=object)]).astype(str))
    g = both.assign(team=both["team"].astype(str), other=both["other"].astype(str)) \
        .groupby("team", sort=True)
    out = pd.DataFrame(index=teams.rename("team"))
    h = ht.assign(team=ht["team"].astype(str)).set_index("team")
    out["visits"] = h["visits"].reindex(teams).fillna(0).astype("int64")
    out["median_hours"] = h["median_hours"].reindex(teams)
    out["pingpong_partners"] = g["other"].agg(lambda s: "; ".join(sorted(set(s)))) \
        .reindex(teams).fillna("")
    out["bounces"] = g["bounces"].sum().reindex(teams).fillna(0).astype("int64")
    out["hours_lost"] = g["hours_lost"].sum().reindex(teams).fillna(0.0)
    e = es.assign(team=es["team"].astype(str)).set_index("team") if len(es) else None
    flags = {
        "pingpong": out["pingpong_partners"] != "",
        "slow_holding": h["slow"].reindex(teams).fillna(False).astype(bool),
        "pushes_up": (e["flagged"] & (e["direction"] == "pushes up") & (e["line"] == 1))
        .reindex(teams).fillna(False).astype(bool) if e is not None else
        pd.Series(False, index=teams),
        "sends_back_down": e["pushes_back"].reindex(teams).fillna(False).astype(bool)
        if e is not None and "pushes_back" in e else pd.Series(False, index=teams),
    }
    fl = pd.DataFrame(flags)
    out["flags"] = ["; ".join(c for c in HANDOVER_FLAGS if row[c])
                    for row in fl.to_dict("records")]
    out["n_flags"] = fl.sum(axis=1).astype("int64")
    out["hours_basis"] = basis
    out = out.reset_index()
    out = out.sort_values(["n_flags", "bounces", "team"], ascending=[False, False, True],
                          kind="mergesort").reset_index(drop=True)
    out.attrs.update(used=dict(handovers.used), flags=dict(HANDOVER_FLAGS),
                     params=dict(handovers.params, level=handovers.level))
    return out
