"""The scoreboard: every detector on every relevant scenario, scored against the truth.

:func:`score_organisation` runs the detectors on one generated organisation
and returns one *record* per detector (counts: truth items, found, hits, false
findings, tested pairs, p-values below 0.01/0.05/0.10, intervals that cover
…). :func:`scoreboard` pools records over organisations into one row per
detector × scenario × size × metric with a 95 % interval, the bound the
detector's issue sets and whether it is met.

Adapters only use public names and look new columns and kinds up with
fallbacks, because the detectors are being rewritten: a missing analysis or
column gives ``status = "n/a: <reason>"``, never an exception.

Metrics
-------
recall
    planted items found / planted items (pooled over organisations; Wilson).
precision
    findings that are planted / all findings of the detected kind (Wilson).
false per org
    mean number of false findings per organisation (exact Poisson interval).
orgs with false
    share of organisations with at least one false finding (Wilson).
p ≤ 0.01 / 0.05 / 0.10
    share of tested pairs under a null with p below the level (Wilson;
    pairs of one organisation are not independent, so the interval is too
    narrow).
coverage
    share of true values inside the detector's 95 % interval (Wilson).
orgs p <= 0.05
    organisation-level tests (``reciprocity``, ``dyad_census``): share of
    organisations with p <= 0.05 — the false-positive rate under a null or
    confounder scenario, the power under a planted mechanism (Wilson).

Examples
--------
>>> from icnet.validity import generate, scoreboard
>>> d = generate("chronic_conflict", n_people=60, seed=1)
>>> rec = scoreboard.score_organisation(d, detectors=["conflicts"])
>>> r = rec.iloc[0]
>>> r["detector"], r["scenario"], int(r["n_truth"])
('conflicts', 'chronic_conflict', 3)
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = ["ADAPTERS", "score_organisation", "scoreboard", "wilson", "poisson_interval",
           "to_markdown"]

_Z = 1.959963984540054
RETALIATION = ("spiral", "one_sided")
SURFACED = ("spiral", "joint_shift", "one_sided")   # kinds reported as a dated finding


def wilson(k, n, z=_Z):
    """Wilson score interval of k successes in n (NaN when n = 0).

    >>> [round(float(x), 3) for x in wilson(9, 10)]
    [0.596, 0.982]
    """
    k, n = float(k), float(n)
    if n <= 0:
        return (np.nan, np.nan)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def poisson_interval(total, n_orgs):
    """Exact (Garwood) 95 % interval of a Poisson mean per organisation."""
    if n_orgs <= 0:
        return (np.nan, np.nan)
    lo = 0.0 if total == 0 else stats.chi2.ppf(0.025, 2 * total) / 2
    hi = stats.chi2.ppf(0.975, 2 * total + 2) / 2
    return (lo / n_orgs, hi / n_orgs)


# ---------------------------------------------------------------------------------------
# adapters: one function per detector, (data, net, seed) -> dict of counts

def _icnet():
    import icnet
    return icnet


def _pairs(a, b):
    a = np.asarray(a, dtype=object).astype(str)
    b = np.asarray(b, dtype=object).astype(str)
    return {tuple(sorted(x)) for x in zip(a, b)}


def _spirals(data, net, seed, *, n_perm=199):
    icnet = _icnet()
    truth = data.truth.get("spirals")
    level = "person"
    if truth is not None and len(truth) and (truth["level"] == "unit").all():
        level = "unit"
    kw = {"seed": seed, "n_perm": n_perm}
    res = icnet.retaliation_spirals(net, level=None if level == "person" else "unit", **kw)
    res = getattr(res, "to_frame", lambda: res)()
    kind = res["kind"].astype(str).to_numpy() if len(res) else np.array([], dtype=str)
    tset = _pairs(truth["a"], truth["b"]) if truth is not None and len(truth) else set()
    found = {}
    for a, b, k in zip(res.get("a", []), res.get("b", []), kind):
        found[tuple(sorted((str(a), str(b))))] = k
    hit = init_ok = n_onset = 0
    onset_err = []
    # a planted pair the user still sees as a dated finding of some kind (a missed spiral
    # reported as a joint shift or one-sided drop: the report and the actions name it)
    surfaced = 0
    if truth is not None:
        for row in truth.itertuples():
            k = found.get(tuple(sorted((str(row.a), str(row.b)))))
            surfaced += k in SURFACED
            if k is not None and k in row.accept.split("|"):
                hit += 1
                r = res[(res["a"].astype(str).isin([row.a, row.b])) &
                        (res["b"].astype(str).isin([row.a, row.b]))].iloc[0]
                init_ok += str(r.get("initiator")) == str(row.initiator)
                st = r.get("start")
                if st is not None and not pd.isna(st):
                    onset_err.append(abs((pd.Timestamp(st) - row.onset) / pd.Timedelta(days=1)))
                    n_onset += 1
    spiral_false = sum(1 for pr, k in found.items() if k == "spiral" and pr not in tset)
    retal_false = sum(1 for pr, k in found.items() if k in RETALIATION and pr not in tset)
    n_found = sum(1 for k in found.values() if k in RETALIATION)
    tested = ~np.isin(kind, ["insufficient"])
    p = pd.to_numeric(res["p"], errors="coerce").to_numpy(float) if len(res) and "p" in res \
        else np.full(len(res), np.nan)
    p = p[tested & np.isfinite(p)] if len(p) else p
    # chronic conflicts / joint shifts: their kind (mutual_degradation ↔ chronic_conflict)
    return dict(level=level, n_truth=0 if truth is None else len(truth), n_hit=hit,
                n_found=n_found, n_false=retal_false, n_false_spiral=spiral_false,
                n_surfaced=surfaced, n_initiator_ok=init_ok,
                onset_err_median=float(np.median(onset_err)) if onset_err else np.nan,
                n_tested=int(len(p)),
                n_p01=int((p <= 0.01).sum()), n_p05=int((p <= 0.05).sum()),
                n_p10=int((p <= 0.10).sum()))


def _reciprocity(data, net, seed, *, n_perm=99):
    icnet = _icnet()
    truth = data.truth.get("spirals")
    level = "unit" if truth is not None and len(truth) and (truth["level"] == "unit").all() \
        else "person"
    res = icnet.reciprocity_test(net, level=None if level == "person" else "unit",
                                 n_perm=n_perm, seed=seed)
    row = res[res["term"] == "reciprocity"].iloc[0]
    # the direction-label permutation p (exact under a cause shared by both directions of
    # a pair); the model-based p is kept in the record as p_model
    p = float(row["p_perm"])
    sig = int(np.isfinite(p) and p <= 0.05)
    planted = truth is not None and len(truth) > 0
    return dict(level=level, n_truth=int(planted), n_hit=sig if planted else 0,
                n_found=sig, n_false=0 if planted else sig, n_tested=int(np.isfinite(p)),
                n_p01=int(p <= 0.01), n_p05=sig, n_p10=int(p <= 0.10),
                estimate=float(row["estimate"]), se=float(row["se"]),
                p_model=float(row["p"]))


def _bottlenecks(data, net, seed):
    icnet = _icnet()
    res = icnet.bottlenecks(net)
    res = getattr(res, "to_frame", lambda: res)()
    truth = data.truth.get("bottlenecks")
    tnodes = set() if truth is None else set(truth["node"].astype(str))
    flag = res["is_bottleneck"].fillna(False).astype(bool).to_numpy() if \
        "is_bottleneck" in res else np.zeros(len(res), bool)
    node = res["node"].astype(str).to_numpy()
    rank = res["rank"].to_numpy() if "rank" in res else np.arange(1, len(res) + 1)
    k = max(1, len(tnodes))
    in_top = sum(1 for n_, r in zip(node, rank) if n_ in tnodes and r <= k)
    rank_of = [int(r) for n_, r in zip(node, rank) if n_ in tnodes]
    return dict(level="person", n_truth=len(tnodes),
                n_hit=int(sum(1 for n_, f in zip(node, flag) if f and n_ in tnodes)),
                n_found=int(flag.sum()),
                n_false=int(sum(1 for n_, f in zip(node, flag) if f and n_ not in tnodes)),
                n_topk=int(in_top), rank_truth=float(np.median(rank_of)) if rank_of else np.nan)


def _conflicts(data, net, seed):
    icnet = _icnet()
    res = icnet.conflict_cycles(net, max_length=2)
    res = getattr(res, "to_frame", lambda: res)()
    truth = data.truth.get("conflicts")
    tset = _pairs(truth["a"], truth["b"]) if truth is not None and len(truth) else set()
    found = {tuple(sorted(map(str, c))) for c in res.get("cycle", []) if len(c) == 2}
    return dict(level="person", n_truth=len(tset), n_hit=len(found & tset),
                n_found=len(found), n_false=len(found - tset))


def _dyads(data, net, seed):
    icnet = _icnet()
    res = icnet.dyad_census(net, seed=seed, n_null=199)
    res = getattr(res, "to_frame", lambda: res)()
    row = res[res["dyad"].astype(str) == "mutual"]
    p = float(row["p_greater"].iloc[0]) if len(row) else np.nan
    return dict(level="person", n_truth=0, n_found=int(p <= 0.05), n_false=int(p <= 0.05),
                n_tested=1, n_p01=int(p <= 0.01), n_p05=int(p <= 0.05), n_p10=int(p <= 0.10))


def _quality(data, net, seed):
    icnet = _icnet()
    truth = data.truth.get("quality")
    out = {}
    thr = 3.0
    for level in ("person", "unit"):
        q = icnet.service_quality(net, level=None if level == "person" else "unit",
                                  min_group_size=1)
        e = q.edges
        thr = float(e.attrs.get("params", {}).get("threshold", thr))
        t = truth[truth["level"] == level]
        m = t.merge(e.astype({"provider": str, "client": str}), on=["provider", "client"],
                    how="left")
        lo = pd.to_numeric(m.get("satisfaction_low"), errors="coerce").to_numpy(float)
        hi = pd.to_numeric(m.get("satisfaction_high"), errors="coerce").to_numpy(float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        tv = m["true_satisfaction"].to_numpy(float)
        good = tv > thr
        sign = m.get("sign", pd.Series([""] * len(m))).astype(str).to_numpy()
        out[f"{level}_n"] = int(ok.sum())
        out[f"{level}_covered"] = int(((lo <= tv) & (tv <= hi) & ok).sum())
        out[f"{level}_good"] = int((good & ok).sum())
        out[f"{level}_false_bad"] = int((good & ok & (sign == "bad")).sum())
    return dict(level="person+unit", n_truth=out["person_n"], **out)


def _agreements(data, net, seed):
    icnet = _icnet()
    truth = data.truth.get("agreements")
    res = icnet.agreement_compliance(net)
    res = getattr(res, "to_frame", lambda: res)()
    col = next((c for c in ("breach_rate_km", "breach_rate", "breach_rate_closed")
                if c in res), None)
    if col is None:
        raise LookupError("agreement_compliance has no breach-rate column")
    m = truth.merge(res.astype({"provider": str, "client": str, "service": str}),
                    on=["provider", "client", "service"], how="left")
    est = pd.to_numeric(m[col], errors="coerce").to_numpy(float)
    err = est - m["true_breach"].to_numpy(float)
    ok = np.isfinite(err)
    return dict(level="unit", n_truth=len(truth), n_est=int(ok.sum()),
                abs_err_sum=float(np.abs(err[ok]).sum()), err_sum=float(err[ok].sum()),
                n_within=int((np.abs(err[ok]) <= 0.05).sum()))


def _pingpong(data, net, seed):
    """``icnet.pingpong`` on the scenario's ticket log at team level.

    The team holding a step is the unit of the person who did it (the
    scenario's ``people`` table); every row of the log is used, the
    requester's ``open``/``close`` steps included, as a user would pass a
    ticket log. Found = ``flagged`` pairs (q <= 0.05 after BH, >= 3 bounces),
    compared unordered with the planted pairs.
    """
    icnet = _icnet()
    if data.log is None:
        raise LookupError("the scenario has no ticket log")
    unit = data.people.set_index("person")["unit"]
    log = data.log.assign(team=data.log["resource"].map(unit))
    res = icnet.pingpong(log, case="case", team="team", timestamp="timestamp")
    res = res[res["flagged"].to_numpy(bool)]
    found = _pairs(res["team_a"], res["team_b"])
    truth = data.truth.get("pingpong")
    tset = _pairs(truth["a"], truth["b"]) if truth is not None and len(truth) else set()
    return dict(level="unit", n_truth=len(tset), n_hit=len(found & tset), n_found=len(found),
                n_false=len(found - tset), n_tested=int(res.attrs.get("n_tests", 0)))


class NotScored(LookupError):
    """An adapter that has nothing to score yet (by design, not an error): its records get
    ``status = "not scored: <reason>"``, an exception ``"n/a: <reason>"``."""


def _balance(data, net, seed):
    raise NotScored("balance has no scenario truth yet (signed camps are not planted)")


# detector -> (adapter, scenarios it is scored on: "truth:<key>" or "null" or a name list)
ADAPTERS = {
    "spirals": (_spirals, "spirals"),
    "reciprocity": (_reciprocity, ("baseline", "common_cause", "joint_bad_periods",
                                   "unit_bad_month", "org_slowdown", "shock_season",
                                   "overload_episodes", "chronic_conflict", "episodic",
                                   "lock_in", "slow_escalation", "delay_only",
                                   "between_units")),
    "bottlenecks": (_bottlenecks, "bottlenecks"),
    "conflicts": (_conflicts, "conflicts"),
    "dyad_census": (_dyads, ("baseline", "lenient_harsh", "chronic_conflict")),
    "quality": (_quality, "quality"),
    "agreements": (_agreements, "agreements"),
    "pingpong": (_pingpong, "pingpong"),
    "balance": (_balance, ("baseline",)),
}


def _applies(detector, data):
    key = ADAPTERS[detector][1]
    if isinstance(key, tuple):
        return data.name in key
    return key in data.truth or key in data.null_for


def score_organisation(data, *, detectors=None, seed=0) -> pd.DataFrame:
    """Run the detectors on one organisation: one record (row) per detector that applies.

    Columns: ``detector``, ``scenario``, ``n_people``, ``seed``, ``null``
    (nothing of this detector's kind planted), ``status`` (``ok``; ``n/a: reason`` when
    the detector raised; ``not scored: reason`` when its adapter has no truth to score),
    ``seconds`` and the adapter's counts (``n_truth``, ``n_hit``, ``n_found``,
    ``n_false``, …; NaN where they do not apply).
    """
    rows = []
    net = None
    for det in (detectors or list(ADAPTERS)):
        if not _applies(det, data):
            continue
        fn = ADAPTERS[det][0]
        t0 = time.perf_counter()
        row = dict(detector=det, scenario=data.name, n_people=data.n_people, seed=data.seed,
                   null=det in data.null_for or (det == "dyad_census"
                                                  and data.name != "chronic_conflict")
                   or (det == "reciprocity" and "spirals" not in data.truth))
        try:
            if net is None:
                net = data.network()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row.update(fn(data, net, seed))
            row["status"] = "ok"
        except NotScored as exc:
            row["status"] = f"not scored: {exc}"
        except Exception as exc:       # a missing/changed analysis is reported, not fatal
            row["status"] = f"n/a: {type(exc).__name__}: {str(exc)[:120]}"
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# pooling records into the scoreboard

_NULL_ANY_BOUND = 0.05


def _bound_any(det, scen):
    if det == "spirals" and scen in ("chronic_conflict", "joint_bad_periods"):
        return ("== 0", lambda v: v == 0)
    return ("<= 0.05", lambda v: v <= _NULL_ANY_BOUND)


def _rows(det, scen, n_people, g):
    ok = g[g["status"] == "ok"]
    n = len(ok)
    base = dict(detector=det, scenario=scen, n_people=n_people, orgs=n)
    if n == 0:
        reason = g["status"].iloc[0] if len(g) else "n/a"
        return [dict(base, metric="—", value=np.nan, low=np.nan, high=np.nan, bound="",
                     passed=reason)]
    out = []

    def add(metric, k, m, bound="", test=None, value=None, interval="wilson"):
        if value is None:
            value = k / m if m else np.nan
        lo, hi = wilson(k, m) if interval == "wilson" else poisson_interval(k, m)
        passed = "" if test is None or not np.isfinite(value) else \
            ("yes" if test(value) else "NO")
        out.append(dict(base, metric=metric, value=value, low=lo, high=hi, bound=bound,
                        passed=passed, k=k, n=m))

    S = lambda c: float(ok[c].fillna(0).sum()) if c in ok else 0.0
    null = bool(ok["null"].all())
    if det in ("spirals", "bottlenecks", "conflicts", "pingpong"):
        if not null:
            rb = {"spirals": 0.9, "bottlenecks": 0.9, "conflicts": 0.9, "pingpong": 0.9}[det]
            metric = "recall (flagged)" if det == "bottlenecks" else "recall"
            add(metric, S("n_hit"), S("n_truth"), f">= {rb}", lambda v: v >= rb)
            if det == "bottlenecks":
                add("top-k (k = planted)", S("n_topk"), S("n_truth"), ">= 0.9",
                    lambda v: v >= 0.9)
            add("precision", S("n_found") - S("n_false"), S("n_found"),
                ">= 0.9" if det == "spirals" else "", (lambda v: v >= 0.9)
                if det == "spirals" else None)
            if det == "spirals" and "n_surfaced" in ok and ok["n_surfaced"].notna().all():
                add("reported as any finding (spiral, joint_shift, one_sided)",
                    S("n_surfaced"), S("n_truth"))
            if det == "spirals":
                add("initiator right (of found)", S("n_initiator_ok"), S("n_hit"), ">= 0.8",
                    lambda v: v >= 0.8)
                med = float(ok["onset_err_median"].median()) if "onset_err_median" in ok \
                    else np.nan
                out.append(dict(base, metric="median onset error (days)", value=med,
                                low=np.nan, high=np.nan, bound="<= 14",
                                passed="" if not np.isfinite(med) else
                                ("yes" if med <= 14 else "NO")))
        add("false per org", S("n_false"), n, value=S("n_false") / n, interval="poisson")
        col = "n_false_spiral" if det == "spirals" else "n_false"
        anyf = float((ok[col].fillna(0) > 0).sum())
        if null:
            b, t = _bound_any(det, scen)
            add("orgs with false spiral" if det == "spirals" else "orgs with false",
                anyf, n, b, t)
            if det == "spirals":
                add("orgs with false spiral/one_sided",
                    float((ok["n_false"].fillna(0) > 0).sum()), n)
        else:
            add("orgs with false", float((ok["n_false"].fillna(0) > 0).sum()), n)
        if det == "spirals" and null:
            for lv, c in ((0.01, "n_p01"), (0.05, "n_p05"), (0.10, "n_p10")):
                add(f"share p <= {lv:.2f}", S(c), S("n_tested"))
    elif det == "reciprocity":
        if null:        # the organisation-level test's false-positive rate (#18 point 4)
            add("orgs p <= 0.05", S("n_p05"), n, "<= 0.05", lambda v: v <= 0.05)
        else:
            add("orgs p <= 0.05 (power)", S("n_p05"), n, ">= 0.8", lambda v: v >= 0.8)
    elif det == "dyad_census":
        if null and scen == "baseline":      # random badness: the calibrated null (#21)
            add("orgs 'more mutual' p <= 0.05", S("n_p05"), n, "<= 0.06", lambda v: v <= 0.06)
        elif null:                           # rater leniency: informational
            add("orgs 'more mutual' p <= 0.05", S("n_p05"), n)
        else:
            add("orgs 'more mutual' p <= 0.05 (power)", S("n_p05"), n)
    elif det == "quality":
        for lv in ("person", "unit"):
            add(f"coverage, {lv} relations", S(f"{lv}_covered"), S(f"{lv}_n"), ">= 0.90",
                lambda v: v >= 0.90)
            add(f"false 'bad' of truly good, {lv}", S(f"{lv}_false_bad"), S(f"{lv}_good"),
                "<= 0.01", lambda v: v <= 0.01)
    elif det == "agreements":
        m = S("n_est")
        add("|breach error| <= 0.05", S("n_within"), m, ">= 0.90", lambda v: v >= 0.90)
        out.append(dict(base, metric="mean breach error (bias)",
                        value=S("err_sum") / m if m else np.nan, low=np.nan, high=np.nan,
                        bound="|.| <= 0.02", passed="" if not m else
                        ("yes" if abs(S("err_sum") / m) <= 0.02 else "NO")))
        out.append(dict(base, metric="share of agreements estimated", value=m / S("n_truth")
                        if S("n_truth") else np.nan, low=np.nan, high=np.nan, bound="",
                        passed=""))
    return out


def scoreboard(records: pd.DataFrame) -> pd.DataFrame:
    """Pool records into the scoreboard.

    Returns
    -------
    DataFrame
        One row per detector × scenario × ``n_people`` × metric: ``orgs``
        (organisations scored), ``value``, ``low``, ``high`` (95 %),
        ``bound`` (the acceptance bound, "" if informational), ``passed``
        (``yes``/``NO``/"" or the reason the detector could not be scored),
        ``k``, ``n`` (the counts behind a share).
    """
    rows = []
    for (det, scen, n_people), g in records.groupby(["detector", "scenario", "n_people"],
                                                    sort=False):
        rows.extend(_rows(det, scen, int(n_people), g))
    out = pd.DataFrame(rows)
    order = {d: i for i, d in enumerate(ADAPTERS)}
    out["_o"] = out["detector"].map(order)
    out = out.sort_values(["_o", "scenario", "n_people"], kind="mergesort").drop(columns="_o")
    return out.reset_index(drop=True)


def to_markdown(board: pd.DataFrame) -> str:
    """The scoreboard as a Markdown table (value and 95 % interval in one cell)."""
    lines = ["| detector | scenario | people | orgs | metric | value [95 % CI] | bound | pass |",
             "|---|---|---|---|---|---|---|---|"]
    for r in board.itertuples():
        v = "n/a" if not np.isfinite(r.value) else (
            f"{r.value:.2f}" if not np.isfinite(r.low) else
            f"{r.value:.2f} [{r.low:.2f}, {r.high:.2f}]")
        if np.isfinite(r.value) and "error (days)" in r.metric:
            v = f"{r.value:.1f}"
        lines.append(f"| {r.detector} | {r.scenario} | {r.n_people} | {r.orgs} | {r.metric} "
                     f"| {v} | {r.bound} | {r.passed} |")
    return "\n".join(lines)
