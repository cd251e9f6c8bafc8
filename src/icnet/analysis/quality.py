"""Service quality: credible satisfaction per relation, provider and unit; survey gaps; NPS.

See docs/methods/quality.md for the formulas and references.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special   # ndtri/stdtrit = stats.norm/t.ppf, lighter to import

from .. import _shrink, _validate
from .._result import Result
from . import _ratings
from ..errors import ParameterError
from ..privacy import MIN_GROUP_SIZE, check_individuals, suppress

__all__ = ["QualityResult", "service_quality"]


@dataclass(frozen=True, repr=False)
class QualityResult(Result):
    """The tables of :func:`service_quality`.

    ``.to_frame()`` returns ``edges`` (``.to_frame("name")`` another table,
    ``.tables`` their names); in Jupyter it displays as HTML tables.

    Attributes
    ----------
    edges : DataFrame
        One row per relation: ``provider``, ``client``, ``n_events``,
        ``satisfaction_n``, ``satisfaction_mean``, ``satisfaction_shrunk``,
        ``satisfaction_low``, ``satisfaction_high``, ``sign``, ``weight``
        (the data's share in the shrunk value), ``lfsr`` (local false sign
        rate), ``n_eff`` (effective number of independent ratings),
        ``sla_breach_rate``,
        ``n_raters`` (distinct people who rated it; for a network built from
        an edge list, which has no raters, its ``satisfaction_n``: an upper
        bound). Relations rated by fewer than ``min_group_size`` people
        (at person level: unless ``individuals=True``) have their
        satisfaction columns, ``lfsr``, ``n_eff`` and ``weight`` blanked,
        their counts (``satisfaction_n``, ``n_raters``) NaN (in every table),
        ``sign = "suppressed"`` and
        ``suppressed = True``; ``suppressed_by`` says why (``"small group"``,
        ``"complementary"``: hidden so that no small group can be recomputed
        from the other tables, or ``""``).
    providers : DataFrame
        One row per provider: ``provider``, ``n_clients``, ``satisfaction_n``,
        ``satisfaction_mean``, ``satisfaction_shrunk``, ``satisfaction_low``,
        ``satisfaction_high``, ``sign``, ``n_bad_relations``, ``n_raters``,
        ``suppressed`` (the same blanking below ``min_group_size`` raters).
    units : DataFrame
        The same per provider unit (from ``net.by("unit")``; empty without a
        people table).
    dimensions : DataFrame
        Survey: ``provider``, ``dimension``, ``n_raters``, ``perception``,
        ``expectation``, ``gap`` (perception − expectation), ``gap_low``,
        ``gap_high`` (t interval), ``suppressed``.
    nps : DataFrame
        ``provider``, ``n_raters``, ``promoters``, ``detractors`` (shares),
        ``nps`` (−100..100), ``nps_low``, ``nps_high``, ``suppressed``.
    agreement : DataFrame
        Rater agreement per provider: ``provider``, ``n_raters``, ``r_wg``
        (James, Demaree & Wolf 1984), ``suppressed``; ``attrs["icc1"]`` holds
        ICC(1) across providers.
    audit : DataFrame or None
        The disclosure audit of this call's tables (see
        :func:`icnet.privacy.audit`); ``None`` with ``individuals=True``. Not
        one of :attr:`tables`: it is for checking, not for publishing.
    """

    _main = "edges"

    edges: pd.DataFrame
    providers: pd.DataFrame
    units: pd.DataFrame
    dimensions: pd.DataFrame
    nps: pd.DataFrame
    agreement: pd.DataFrame
    audit: pd.DataFrame | None = field(default=None, repr=False, compare=False,
                                       metadata={"table": False})


def service_quality(net, *, level: str | None = None, threshold: float | None = None,
                    min_group_size: int = MIN_GROUP_SIZE, ci: float = 0.95,
                    adjust_leniency: bool = False, leniency_prior: float = 10.0,
                    individuals: bool = False, protection: float | None = None
                    ) -> QualityResult:
    """Credible satisfaction per relation, provider and unit, and survey results.

    Raw means of three ratings are not evidence, and thirty ratings from one
    person are not thirty people. Ratings are modelled within raters within
    relations within providers; every relation's satisfaction is shrunk toward
    its provider's value, and every provider's toward the organisation's
    (empirical Bayes, Efron & Morris 1975), with an interval that holds on
    average and, at least 90 %, for each relation not far from its provider
    (Armstrong, Kolesár & Plagborg-Møller 2022); a relation is ``bad`` only when
    its whole interval lies below ``threshold`` and its local false sign rate is
    at most (1 − ``ci``)/2 (Stephens 2017). The provider rows are the
    values the relations are shrunk toward.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str, optional
        Aggregate first (e.g. ``"unit"``).
    threshold : float, optional
        Neutral satisfaction (default: the network's, the middle of the scale).
    min_group_size : int, default 5
        Survey figures backed by fewer distinct raters are suppressed.
    ci : float, default 0.95
        Interval coverage.
    adjust_leniency : bool, default False
        Remove each client's rating style first (social-relations-model style
        client effect): :math:`y' = y - \\hat b_c`, with
        :math:`\\hat b_c = \\frac{n_c}{n_c+k}\\,\\overline{(y - \\bar y_{p})}_c` the
        client's mean deviation from the providers' means, shrunk with
        ``leniency_prior`` = k pseudo-ratings. Matters when a few very harsh or
        lenient raters dominate some providers' ratings.
    leniency_prior : float, default 10
    individuals : bool, default False
        Person-level relations are one person's own ratings: without
        ``individuals=True`` a relation rated by fewer than ``min_group_size``
        people is suppressed at person level too (as above it).
    protection : float, optional
        Complementary suppression: more relations (or providers) are hidden
        until no suppressed group's mean can be narrowed, from the published
        tables of this call, to less than ``protection`` × the scale width
        (default 0.25: one point on a 1–5 scale). Hidden for that reason:
        ``suppressed = True`` with ``sign = "suppressed"`` and
        ``suppressed_by = "complementary"`` (``"small group"`` for the first
        kind). The result's ``audit`` holds the audit (see
        :func:`icnet.privacy.audit`). Not applied with ``individuals=True``.

    Returns
    -------
    QualityResult

    See Also
    --------
    agreement_compliance, icnet.privacy.suppress

    Notes
    -----
    Edge *e* of provider *p* with ratings :math:`y_{ei}`: :math:`\\hat\\theta_e =
    w_e \\bar y_e + (1-w_e)\\hat\\mu_p`, :math:`w_e = \\tau^2/(\\tau^2+V_e)` with
    :math:`V_e = f_p(\\sigma_w^2/n_e + \\sigma_{r,e}^2\\sum_j n_{ej}^2/n_e^2)` for
    :math:`n_{ej}` ratings by rater *j*. Above person level the estimand is the
    service the relation gave (the mean over its events of the served person's
    expected rating, rating style averaged out): :math:`\bar y_e` is then
    post-stratified by client person and :math:`V_e` counts rating noise, the
    raters' style and the people who did not rate (docs/methods/quality.md);
    variance components by the method of moments. NPS = %promoters (9–10) −
    %detractors (0–6) with the multinomial variance. r_wg = 1 − s²/σ²_EU with
    σ²_EU = (A² − 1)/12 for an A-point scale.

    References
    ----------
    Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its
    generalizations. *JASA* 70, 311–319.
    Stephens, M. (2017). False discovery rates: a new deal. *Biostatistics* 18, 275–294.
    Parasuraman, A., Zeithaml, V. & Berry, L. (1988). SERVQUAL. *J. Retailing* 64, 12–40.
    James, L. R., Demaree, R. G. & Wolf, G. (1984). Estimating within-group
    interrater reliability. *J. Applied Psychology* 69, 85–98.

    Examples
    --------
    >>> import icnet
    >>> net = icnet.datasets.toy()          # 12 people: units of 2 or 3
    >>> q = icnet.service_quality(net, level="unit", min_group_size=2)
    >>> q.edges.query("sign == 'bad'")[["provider", "client"]].values.tolist()
    [['Calidad', 'Produccion'], ['Produccion', 'Calidad']]
    >>> q5 = icnet.service_quality(net, level="unit")     # default: 5 raters at least
    >>> int(q5.units["suppressed"].sum()), int(q5.edges["suppressed"].sum())
    (3, 10)
    """
    individuals = check_individuals(individuals)
    net = _validate.network(net)
    net = _validate.level(net, level)
    _validate.in_range("ci", ci, low=0.5, high=1, high_inclusive=False)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    thr = net.threshold if threshold is None else \
        _validate.in_range("threshold", threshold, low=net.scale[0], high=net.scale[1])
    params = {"level": net.level, "threshold": thr, "min_group_size": min_group_size,
              "ci": ci, "adjust_leniency": adjust_leniency, "individuals": individuals}
    if adjust_leniency:
        net = _without_leniency(net, leniency_prior)
    edges = _edge_quality(net._edges, net, thr, ci)
    providers = _provider_quality(edges, net, thr, ci)
    edges = edges.drop(columns=["_mu", "_mu_var"])
    units = pd.DataFrame(columns=providers.columns)
    if net.level == "person" and net.people is not None:
        u = net.by("unit")
        units = _provider_quality(_edge_quality(u._edges, u, thr, ci), u, thr, ci)
    elif net.level != "person":
        units = providers.copy()
    # privacy: figures of a group rated by fewer than min_group_size distinct people are
    # blanked (a person-level relation is one person's own rating: individual data)
    if net.level != "person" or not individuals:
        edges = _suppress(edges, min_group_size)
    providers = _suppress(providers, min_group_size)
    if len(units):
        units = _suppress(units, min_group_size)
    dims, nps, agree = _survey(net, min_group_size, ci)
    audit = None
    if not individuals:     # differencing: complementary suppression across the tables
        from .._disclosure import protect_quality
        edges, providers, units, audit = protect_quality(
            net, edges, providers, units, protection=protection)
        # the audit assumed the counts known (conservative); published, they are hidden
        from ..privacy import _hide_counts
        edges, providers, units = (_hide_counts(df) for df in (edges, providers, units))
    out = QualityResult(edges, providers, units.rename(columns={"provider": "unit"}),
                        dims, nps, agree, audit=audit)
    for df in (out.edges, out.providers, out.units, out.dimensions, out.nps, out.agreement):
        df.attrs["params"] = params
    return out


def _without_leniency(net, k):
    """The same network with each client's mean rating deviation (shrunk) removed."""
    _validate.in_range("leniency_prior", k, low=0)
    if not net.has_events or "satisfaction" not in net.events:
        raise ParameterError("adjust_leniency needs events with satisfaction ratings.")
    ev = net.events.copy()
    y = ev["satisfaction"].to_numpy(float)
    ok = np.isfinite(y)
    p = ev["provider"].cat.codes.to_numpy()
    c = ev["client"].cat.codes.to_numpy()
    n = len(net.node_ids)
    pm = np.bincount(p[ok], weights=y[ok], minlength=n) / np.maximum(
        np.bincount(p[ok], minlength=n), 1)
    dev = np.bincount(c[ok], weights=(y - pm[p])[ok], minlength=n)
    cnt = np.bincount(c[ok], minlength=n)
    b = dev / np.maximum(cnt, 1) * cnt / (cnt + k) if k > 0 else dev / np.maximum(cnt, 1)
    lo, hi = net.scale
    ev["satisfaction"] = np.where(ok, np.clip(y - b[c], lo, hi), np.nan)
    return net._replace(events=ev)


# blanked for a suppressed group: the means and intervals, and what is computed from the
# ratings beside them (lfsr: how sure the hidden mean's side of the threshold is, #20;
# n_eff and weight: how the ratings split over the raters)
_SAT_COLS = ["satisfaction_mean", "satisfaction_shrunk", "satisfaction_low",
             "satisfaction_high", "lfsr", "n_eff", "weight"]


def _suppress(df, min_group_size):
    out = suppress(df, "n_raters", _SAT_COLS, min_group_size=min_group_size)
    sign = out["sign"].astype(object)     # nothing to hide without ratings: stays unrated
    out["sign"] = sign.where(~out["suppressed"] | (sign == "unrated"), "suppressed")
    return out


def _raters(net, by):
    """Distinct rating people behind each provider (``by="provider"``) or relation."""
    s = _ratings.summary(net)
    if s is None:
        return None
    return (s.providers if by == "provider" else s.relations)["n_raters"]


def _edge_quality(e, net, thr, ci):
    from .._engine import shrink_edges
    sh = shrink_edges(e, net, level=ci, threshold=thr)
    out = e[["provider", "client", "n_events", "satisfaction_n", "satisfaction_mean"]].copy()
    out["satisfaction_shrunk"] = sh["shrunk"].to_numpy()
    out["satisfaction_low"] = sh["low"].to_numpy()
    out["satisfaction_high"] = sh["high"].to_numpy()
    out["sign"] = _shrink.sign(sh["low"], sh["high"], e["satisfaction_n"], thr,
                               p_below=sh["p_below"].to_numpy(),
                               lfsr_max=(1 - ci) / 2)
    out["weight"] = sh["weight"].to_numpy()
    out["lfsr"] = sh["lfsr"].to_numpy()
    out["n_eff"] = sh["n_eff"].to_numpy()
    # what each relation is shrunk toward (its provider's value), for _provider_quality
    out["_mu"] = sh["provider_shrunk"].to_numpy()
    out["_mu_var"] = sh["provider_var"].to_numpy()
    out["sla_breach_rate"] = e["sla_breach_rate"].to_numpy()
    r = _raters(net, "relation")
    if r is None and "satisfaction_raters" in e and e["satisfaction_raters"].notna().all():
        r = e.set_index(["provider", "client"])["satisfaction_raters"]
    out["n_raters"] = (e["satisfaction_n"].fillna(0).to_numpy().astype("int64") if r is None
                       else r.reindex(pd.MultiIndex.from_arrays(
                           [e["provider"].to_numpy(dtype=object),
                            e["client"].to_numpy(dtype=object)])).fillna(0)
                       .to_numpy().astype("int64"))
    return out.reset_index(drop=True)


def _provider_quality(edges, net, thr, ci):
    """Provider values of the relation model: the mu_p each relation is shrunk toward
    (the provider's rating-weighted mean shrunk toward the organisation's)."""
    e = edges
    n = e["satisfaction_n"].to_numpy(float)
    m = np.nan_to_num(e["satisfaction_mean"].to_numpy(float))
    g = pd.DataFrame({"provider": e["provider"], "n": n, "s": n * m,
                      "bad": (e["sign"] == "bad").astype(int), "k": 1})
    agg = g.groupby("provider", sort=True).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        pm = agg["s"] / agg["n"]
    mu = e.groupby("provider", sort=True)[["_mu", "_mu_var"]].first().reindex(agg.index)
    mu_v, var = mu["_mu"].to_numpy(float), mu["_mu_var"].to_numpy(float)
    rated = agg["n"].to_numpy() > 0
    mu_v, var = np.where(rated, mu_v, np.nan), np.where(rated, var, np.nan)
    half = special.ndtri(0.5 + ci / 2) * np.sqrt(var)
    lo, hi = net.scale
    with np.errstate(invalid="ignore", divide="ignore"):
        p_below = special.ndtr((thr - mu_v) / np.sqrt(var))
    out = pd.DataFrame({
        "provider": agg.index.to_numpy(dtype=object), "n_clients": agg["k"].to_numpy(),
        "satisfaction_n": agg["n"].to_numpy().astype("int64"),
        "satisfaction_mean": pm.to_numpy(), "satisfaction_shrunk": mu_v,
        "satisfaction_low": np.clip(mu_v - half, lo, hi),
        "satisfaction_high": np.clip(mu_v + half, lo, hi),
        "sign": _shrink.sign(mu_v - half, mu_v + half, agg["n"], thr, p_below=p_below,
                             lfsr_max=(1 - ci) / 2),
        "n_bad_relations": agg["bad"].to_numpy()})
    r = _raters(net, "provider")
    if r is None:       # edge lists: the relations' raters (an upper bound) stand in
        r = edges.groupby("provider", sort=True)["n_raters"].sum()
    out["n_raters"] = r.reindex(out["provider"]).fillna(0).to_numpy().astype("int64")
    return out.reset_index(drop=True)


_DIM_COLS = ["provider", "dimension", "n_raters", "perception", "expectation", "gap",
             "gap_low", "gap_high", "suppressed"]
_NPS_COLS = ["provider", "n_raters", "promoters", "detractors", "nps", "nps_low", "nps_high",
             "suppressed"]
_AGREE_COLS = ["provider", "n_raters", "r_wg", "suppressed"]


def _survey(net, min_group_size, ci):
    r = net.ratings
    if r is None or len(r) == 0:
        return (pd.DataFrame(columns=_DIM_COLS), pd.DataFrame(columns=_NPS_COLS),
                pd.DataFrame(columns=_AGREE_COLS))
    rater = "rater_person" if "rater_person" in r else "rater"
    r = r.copy()
    if "dimension" not in r:
        r["dimension"] = "overall"
    r["dimension"] = r["dimension"].fillna("overall")
    has_exp = "expectation" in r
    r["gap"] = r["perception"] - r["expectation"] if has_exp else np.nan
    # one value per rater (averaged over periods) so raters, not answers, are the unit
    per = r.groupby(["provider", "dimension", rater], sort=True).agg(
        perception=("perception", "mean"), expectation=(
            "expectation" if has_exp else "perception", "mean"), gap=("gap", "mean"))
    g = per.groupby(["provider", "dimension"], sort=True)
    dims = g.agg(n_raters=("perception", "size"), perception=("perception", "mean"),
                 expectation=("expectation", "mean"), gap=("gap", "mean"),
                 gap_sd=("gap", "std")).reset_index()
    if not has_exp:
        dims["expectation"] = np.nan
    t = special.stdtrit(np.maximum(dims["n_raters"] - 1, 1), 0.5 + ci / 2)
    half = t * dims["gap_sd"] / np.sqrt(dims["n_raters"])
    dims["gap_low"], dims["gap_high"] = dims["gap"] - half, dims["gap"] + half
    dims = suppress(dims.drop(columns="gap_sd"), "n_raters",
                    ["perception", "expectation", "gap", "gap_low", "gap_high"],
                    min_group_size=min_group_size)[_DIM_COLS]
    # NPS
    if "recommend" in r and r["recommend"].notna().any():
        rec = r.dropna(subset=["recommend"]).groupby(["provider", rater], sort=True)[
            "recommend"].mean().reset_index()
        rec["pro"] = (rec["recommend"] >= 9).astype(float)
        rec["det"] = (rec["recommend"] <= 6).astype(float)
        a = rec.groupby("provider", sort=True).agg(n_raters=("pro", "size"),
                                                   promoters=("pro", "mean"),
                                                   detractors=("det", "mean")).reset_index()
        a["nps"] = 100 * (a["promoters"] - a["detractors"])
        var = (a["promoters"] + a["detractors"] - (a["promoters"] - a["detractors"]) ** 2)
        half = 100 * special.ndtri(0.5 + ci / 2) * np.sqrt(var / a["n_raters"])
        a["nps_low"] = np.maximum(a["nps"] - half, -100)
        a["nps_high"] = np.minimum(a["nps"] + half, 100)
        nps = suppress(a, "n_raters", ["promoters", "detractors", "nps", "nps_low",
                                       "nps_high"], min_group_size=min_group_size)[_NPS_COLS]
    else:
        nps = pd.DataFrame(columns=_NPS_COLS)
    # rater agreement r_wg on each rater's mean perception
    lo, hi = net.scale
    A = hi - lo + 1
    sig_eu = (A ** 2 - 1) / 12.0
    pr = r.groupby(["provider", rater], sort=True)["perception"].mean().reset_index()
    ag = pr.groupby("provider", sort=True)["perception"].agg(["size", "var"]).reset_index()
    agree = pd.DataFrame({"provider": ag["provider"], "n_raters": ag["size"],
                          "r_wg": np.clip(1 - ag["var"] / sig_eu, 0, 1)})
    agree = suppress(agree, "n_raters", ["r_wg"], min_group_size=min_group_size)
    agree.attrs["icc1"] = _icc1(pr, rater)
    return dims.reset_index(drop=True), nps.reset_index(drop=True), agree[_AGREE_COLS]


def _icc1(pr, rater):
    """ICC(1) of rater means across providers (one-way ANOVA; Shrout & Fleiss 1979)."""
    g = pr.groupby("provider")["perception"]
    k = g.size()
    if len(k) < 2 or (k < 2).all():
        return float("nan")
    grand = pr["perception"].mean()
    ssb = (k * (g.mean() - grand) ** 2).sum()
    ssw = ((pr["perception"] - g.transform("mean")) ** 2).sum()
    dfb, dfw = len(k) - 1, len(pr) - len(k)
    if dfw <= 0:
        return float("nan")
    msb, msw = ssb / dfb, ssw / dfw
    k0 = (len(pr) - (k ** 2).sum() / len(pr)) / dfb
    return float((msb - msw) / (msb + (k0 - 1) * msw))
