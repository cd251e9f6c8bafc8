"""Health scorecards per unit (and, when asked, per person): the area head's and HR's view.

See docs/methods/health.md for every column and the score formula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ParameterError
from ..privacy import MIN_GROUP_SIZE

__all__ = ["health", "findings"]

_FLAG_TEXT = {
    "low_served_quality": "its internal clients rate its service credibly below neutral",
    "late": "over 30 % of its requests with an agreed delay are late",
    "bottleneck": "flagged as a bottleneck",
    "conflict_cycle": "part of a conflict cycle",
    "spiral": "in a retaliation spiral",
    "chronic_conflict": "in a chronic mutual conflict",
    "no_agreement": "serves clients without any agreement",
    "overdue_review": "agreement reviews are overdue",
    "idle_members": "members who serve no internal client",
    "declining": "served quality fell since the previous period",
    "harsh_rater": "rates its providers much lower than others do",
}


def findings(net, *, min_group_size: int = MIN_GROUP_SIZE, as_of=None, seed=0,
             n_perm: int = 499) -> dict:
    """Run every analysis once (shared by :func:`health`, :func:`icnet.actions`, the report).

    Returns a dict with ``net`` (person level), ``units`` (unit level, or
    the network itself when it has no people table), ``quality``,
    ``compliance`` (or None), ``bottlenecks`` (person level), ``bottlenecks_unit``,
    ``cycles`` (person level), ``cycles_unit``, ``spirals`` (person level) and
    ``as_of``.

    Examples
    --------
    >>> import icnet
    >>> f = findings(icnet.datasets.toy(), n_perm=49)
    >>> f["cycles_unit"].loc[0, "cycle"]
    ('Calidad', 'Produccion')
    """
    from .agreements import agreement_compliance
    from .bottlenecks import bottlenecks
    from .conflicts import conflict_cycles
    from .quality import service_quality
    from .spirals import retaliation_spirals

    net = _validate.network(net)
    units = net.by("unit") if (net.level == "person" and net.people is not None) else net
    out = {"net": net, "units": units}
    out["quality"] = service_quality(net, min_group_size=min_group_size)
    out["compliance"] = agreement_compliance(net, as_of=as_of) \
        if net.agreements is not None and len(net.agreements) else None
    out["bottlenecks"] = bottlenecks(net)
    out["bottlenecks_unit"] = bottlenecks(units) if units is not net else out["bottlenecks"]
    out["cycles"] = conflict_cycles(net)
    out["cycles_unit"] = conflict_cycles(units) if units is not net else out["cycles"]
    if net.has_time and net.has_events:
        out["spirals"] = retaliation_spirals(net, seed=seed, n_perm=n_perm)
    else:
        out["spirals"] = pd.DataFrame(columns=["a", "b", "kind"])
    out["as_of"] = as_of if as_of is not None else (net.span[1] if net.has_time else None)
    return out


def _unit_of(net):
    n = net.nodes
    return pd.Series(n["unit"].to_numpy(dtype=object), index=n["node"].to_numpy(dtype=object))


def health(net, *, level: str = "unit", individuals: bool = False,
           min_group_size: int = MIN_GROUP_SIZE, freq: str = "QS", as_of=None, seed=0,
           _found: dict | None = None) -> pd.DataFrame:
    """A scorecard per unit: how it serves, how it is served, agreements, conflicts, trend.

    Parameters
    ----------
    net : ServiceNetwork (person level, with a people table, for unit scorecards)
    level : {"unit", "person"}, default "unit"
        ``"person"`` rows need ``individuals=True`` (privacy by default).
    individuals : bool, default False
    min_group_size : int, default 5
        Quality figures rated by fewer distinct raters are suppressed.
    freq : str, default "QS"
        Period of the trend (last complete period vs the one before).
    as_of : timestamp, optional
        "Today" for reviews (default: end of the data).
    seed : int
        For the spiral permutation test.

    Returns
    -------
    DataFrame
        One row per unit (or person), sorted by ``score`` ascending (the most
        in need first), ties by name: ``unit``; ``n_members``;
        ``served_quality``, ``served_low``, ``served_high`` (shrunk mean
        satisfaction of the service it gives to other units, 95 % interval);
        ``n_raters`` (distinct people who rated it); ``client_leniency`` (mean
        of its ratings minus what the same providers get from others: < 0 a
        harsh rater); ``delay_median`` (hours); ``sla_breach_rate``;
        ``n_clients`` (client units); ``share_without_agreement``;
        ``overdue_reviews``; ``bottleneck_score``; ``in_bottleneck``;
        ``n_conflict_cycles``; ``n_spirals``; ``n_chronic``;
        ``idle_members`` (members serving no internal client) and
        ``idle_share``; ``trend`` (served quality, last complete period minus
        the one before, minus the organisation's own change); ``score`` (0–100, see Notes); ``flags`` (``"; "``-joined
        codes) and ``flag_evidence`` (the numbers behind each flag).

    Raises
    ------
    ParameterError
        ``level="person"`` without ``individuals=True``; no people table.

    Notes
    -----
    ``score`` = 100 × the mean of the available components, each in [0, 1]:
    served quality :math:`(\\hat\\theta-L)/(H-L)` on the scale [L, H];
    punctuality :math:`1-\\text{breach}`; agreement coverage
    :math:`1-\\text{share without}`; reviews :math:`1/(1+\\text{overdue})`;
    peace :math:`1/(1+\\text{cycles}+\\text{spirals}+\\text{chronic})`;
    engagement :math:`1-\\text{idle share}`; flow: 0 when in a bottleneck, else 1.

    Examples
    --------
    >>> import icnet
    >>> h = icnet.health(icnet.datasets.toy())
    >>> h.loc[0, "unit"] in {"Calidad", "Produccion", "Informatica"}
    True
    """
    net = _validate.network(net)
    _validate.one_of("level", level, ["unit", "person"])
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
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
    unit_of = _unit_of(net)
    if level == "unit":
        rows = units.nodes[["node"]].rename(columns={"node": "unit"})
        members = units.members.groupby("node")["member"].apply(list)
        key_net = units
        group_of = unit_of
    else:
        rows = net.nodes[["node"]].rename(columns={"node": "unit"})
        members = pd.Series({n: [n] for n in rows["unit"]})
        key_net, group_of = net, pd.Series(net.node_ids.to_numpy(), index=net.node_ids)
    out = rows.copy().reset_index(drop=True)
    names = out["unit"].to_numpy(dtype=object)
    out["n_members"] = [len(members.get(u, [])) for u in names]
    # served quality (provider side) from the network of this level
    qp = f["quality"].units if level == "unit" else f["quality"].providers
    qp = qp.set_index(qp.columns[0])
    out["served_quality"] = qp["satisfaction_shrunk"].reindex(names).to_numpy()
    out["served_low"] = qp["satisfaction_low"].reindex(names).to_numpy()
    out["served_high"] = qp["satisfaction_high"].reindex(names).to_numpy()
    ev = key_net.events
    rater_col = "client_person" if "client_person" in ev else "client"
    rated = ev[ev["satisfaction"].notna()] if "satisfaction" in ev else ev.iloc[:0]
    nr = rated.groupby("provider", observed=True)[rater_col].nunique()
    out["n_raters"] = nr.reindex(names).fillna(0).astype(int).to_numpy()
    # leniency as a client: rating minus the provider's mean from everybody
    if len(rated):
        pm = rated.groupby("provider", observed=True)["satisfaction"].transform("mean")
        dev = (rated["satisfaction"] - pm).groupby(rated["client"], observed=True).mean()
        nc = rated.groupby("client", observed=True)[
            "provider_person" if "provider_person" in rated else "provider"].nunique()
        out["client_leniency"] = dev.reindex(names).to_numpy()
        small_c = nc.reindex(names).fillna(0).to_numpy() < min_group_size
        out.loc[small_c, "client_leniency"] = np.nan
    else:
        out["client_leniency"] = np.nan
    small = out["n_raters"].to_numpy() < min_group_size
    out.loc[small, ["served_quality", "served_low", "served_high"]] = np.nan
    e = key_net.edges
    g = e.groupby("provider")
    out["delay_median"] = g["delay_median"].median().reindex(names).to_numpy()
    breach_w = (e["sla_breach_rate"] * e["sla_n"]).groupby(e["provider"]).sum()
    sla_n = g["sla_n"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sla_breach_rate"] = (breach_w / sla_n.where(sla_n > 0)).reindex(names).to_numpy()
    out["n_clients"] = g.size().reindex(names).fillna(0).astype(int).to_numpy()
    comp = f["compliance"]
    if comp is not None and level == "unit":
        cov = comp.coverage.set_index("provider")
        out["share_without_agreement"] = (1 - cov["share_clients"]).reindex(names).to_numpy()
        od = comp.agreements.groupby("provider")["overdue"].sum()
        out["overdue_reviews"] = od.reindex(names).fillna(0).astype(int).to_numpy()
    else:
        out["share_without_agreement"] = np.nan
        out["overdue_reviews"] = 0
    # bottlenecks
    b = f["bottlenecks_unit"] if level == "unit" else f["bottlenecks"]
    b = b.set_index("node")
    out["bottleneck_score"] = b["score"].reindex(names).to_numpy()
    flagged = b["is_bottleneck"].reindex(names).fillna(False).to_numpy(dtype=bool).copy()
    if level == "unit":   # a flagged member makes its unit part of a bottleneck
        pb = f["bottlenecks"]
        flagged |= np.isin(names, unit_of.reindex(pb.loc[pb.is_bottleneck, "node"]).to_numpy())
    out["in_bottleneck"] = flagged
    # conflicts and spirals, counted on the person level and mapped to this level
    cyc = f["cycles"]
    out["n_conflict_cycles"] = _count(names, [set(group_of.reindex(list(c)).dropna())
                                              for c in cyc["cycle"]])
    sp = f["spirals"]
    for col, kinds in (("n_spirals", ("spiral", "one_sided")),
                       ("n_chronic", ("mutual_degradation",))):
        s = sp[sp["kind"].isin(kinds)] if len(sp) else sp
        out[col] = _count(names, [set(group_of.reindex([a, bb]).dropna())
                                  for a, bb in zip(s.get("a", []), s.get("b", []))])
    # members who serve nobody internally (within-unit service counts)
    n_out = net.nodes.set_index("node")["n_out"]
    idle = [[m for m in members.get(u, []) if n_out.get(m, 0) == 0] for u in names]
    out["idle_members"] = [len(x) for x in idle]
    out["idle_share"] = out["idle_members"] / out["n_members"].where(out["n_members"] > 0)
    out["trend"] = _trend(key_net, names, freq, min_group_size, rater_col)
    lo, hi = net.scale
    comps = np.vstack([
        (out["served_quality"] - lo) / (hi - lo),
        1 - out["sla_breach_rate"],
        1 - out["share_without_agreement"],
        1 / (1 + out["overdue_reviews"]),
        1 / (1 + out["n_conflict_cycles"] + out["n_spirals"] + out["n_chronic"]),
        1 - out["idle_share"],
        1 - out["in_bottleneck"].astype(float)]).astype(float)
    with np.errstate(invalid="ignore"):
        out["score"] = 100 * np.nanmean(comps, axis=0)
    flags, evid = _flags(out, net)
    out["flags"], out["flag_evidence"] = flags, evid
    out = out.sort_values(["score", "unit"], kind="mergesort").reset_index(drop=True)
    if level == "person":
        out = out.rename(columns={"unit": "person"})
        out.insert(1, "unit", unit_of.reindex(out["person"]).to_numpy())
    out.attrs["params"] = dict(level=level, individuals=individuals,
                               min_group_size=min_group_size, freq=freq,
                               as_of=str(f["as_of"]))
    return out


def _count(names, groups):
    c = pd.Series(0, index=names)
    for gset in groups:
        for x in gset:
            if x in c.index:
                c[x] += 1
    return c.to_numpy()


def _trend(key_net, names, freq, min_group_size, rater_col):
    """Served quality in the last complete period minus the one before, net of the
    organisation-wide change (a company-wide bad or good period moves nobody's trend)."""
    if not key_net.has_time or "satisfaction" not in key_net.events:
        return np.full(len(names), np.nan)
    ev = key_net.events[key_net.events["satisfaction"].notna()]
    per = ev["requested_at"].dt.to_period(freq.rstrip("S") or "Q")
    periods = np.sort(per.unique())
    complete = len(periods) and key_net.span[1] >= periods[-1].end_time.floor("D")
    use = periods if complete else periods[:-1]
    if len(use) < 2:
        return np.full(len(names), np.nan)
    last, prev = use[-1], use[-2]

    def mean(pp):
        s = ev[per == pp]
        m = s.groupby("provider", observed=True)["satisfaction"].mean()
        n = s.groupby("provider", observed=True)[rater_col].nunique()
        return m.where(n >= min_group_size), s["satisfaction"].mean()

    (m1, o1), (m0, o0) = mean(last), mean(prev)
    return ((m1 - m0) - (o1 - o0)).reindex(names).to_numpy()


def _flags(out, net):
    flags, evid = [], []
    for r in out.itertuples(index=False):
        f, e = [], []
        if np.isfinite(r.served_high) and r.served_high < net.threshold:
            f.append("low_served_quality")
            e.append(f"served quality {r.served_quality:.2f} "
                     f"[{r.served_low:.2f}, {r.served_high:.2f}]")
        if np.isfinite(r.sla_breach_rate) and r.sla_breach_rate > 0.3:
            f.append("late")
            e.append(f"{r.sla_breach_rate:.0%} late")
        if r.in_bottleneck:
            f.append("bottleneck")
            e.append(f"bottleneck score {r.bottleneck_score:.2f}")
        if r.n_conflict_cycles:
            f.append("conflict_cycle")
            e.append(f"{r.n_conflict_cycles} conflict cycle(s)")
        if r.n_spirals:
            f.append("spiral")
            e.append(f"{r.n_spirals} retaliation spiral(s)")
        if r.n_chronic:
            f.append("chronic_conflict")
            e.append(f"{r.n_chronic} chronic conflict(s)")
        if np.isfinite(r.share_without_agreement) and r.share_without_agreement > 0:
            f.append("no_agreement")
            e.append(f"{r.share_without_agreement:.0%} of client relations without agreement")
        if r.overdue_reviews:
            f.append("overdue_review")
            e.append(f"{r.overdue_reviews} overdue review(s)")
        if r.idle_members:
            f.append("idle_members")
            e.append(f"{r.idle_members} of {r.n_members} members serve nobody")
        if np.isfinite(r.trend) and r.trend < -0.3:
            f.append("declining")
            e.append(f"served quality {r.trend:+.2f} vs the previous period")
        if np.isfinite(r.client_leniency) and r.client_leniency < -0.5:
            f.append("harsh_rater")
            e.append(f"rates {r.client_leniency:+.2f} below others")
        flags.append("; ".join(f))
        evid.append("; ".join(e))
    return flags, evid
