"""Bottlenecks: who the organisation waits on, and the lead time to the external customer.

See docs/methods/bottlenecks.md for the formulas and references.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve
from scipy.stats import t as student_t

from .. import _validate
from ._survival import km_median

__all__ = ["bottlenecks", "critical_path", "dependence", "structural_betweenness",
           "holding_bottlenecks"]

def _edge_arrays(net):
    e = net._edges
    idx = net.node_ids
    p = idx.get_indexer(e["provider"].to_numpy(dtype=object))
    c = idx.get_indexer(e["client"].to_numpy(dtype=object))
    return e, p, c, len(idx)


def _external(net, n_out):
    ext = net.nodes["external_facing"].to_numpy(dtype=bool)
    if not ext.any():
        ext = n_out == 0   # nobody marked: those who serve nobody face the outside
        if not ext.any():
            ext = np.ones(len(n_out), dtype=bool)
    return ext


def dependence(net, *, alpha: float = 0.85, tol: float = 1e-12, max_iter: int = 1000
               ) -> pd.Series:
    """Share of the service reaching external-facing nodes that depends on each provider.

    A personalised PageRank on the client → provider dependence graph
    (weights = events), restarting at external-facing nodes (uniformly at
    every node when none is marked). The score of a provider is the walk mass
    that *arrives* at it through dependence edges, normalised to sum to 1.

    Parameters
    ----------
    net : ServiceNetwork
    alpha : float, default 0.85
        Probability of following a dependence rather than restarting.

    Returns
    -------
    Series indexed by node.

    Examples
    --------
    >>> import icnet
    >>> d = dependence(icnet.datasets.toy().by("unit"))
    >>> d.idxmax()
    'Produccion'
    """
    net = _validate.network(net)
    _validate.in_range("alpha", alpha, low=0, high=1, high_inclusive=False)
    e, p, c, n = _edge_arrays(net)
    w = e["n_events"].to_numpy(float)
    # row-stochastic client → provider matrix
    out = np.bincount(c, weights=w, minlength=n)
    P = sparse.csr_matrix((w / np.where(out[c] > 0, out[c], 1), (c, p)), shape=(n, n))
    ext = _external(net, np.bincount(p, weights=w, minlength=n))
    r = ext / ext.sum()
    dangling = out == 0
    pi = r.copy()
    for _ in range(max_iter):
        new = alpha * (P.T @ pi) + (alpha * pi[dangling].sum() + (1 - alpha)) * r
        if np.abs(new - pi).sum() < tol:
            pi = new
            break
        pi = new
    arrive = alpha * (P.T @ pi)
    tot = arrive.sum()
    return pd.Series(arrive / tot if tot > 0 else arrive, index=net.node_ids, name="dependence")


def structural_betweenness(net, *, weights=None, length: str = "delay_median",
                           rtol: float = 1e-12) -> pd.Series:
    """Demand-weighted betweenness toward an added external-customer sink (exact).

    Service flows ``provider → client``; every external-facing node hands it to
    a sink *T* (length 0). For each source *s* with weight :math:`w_s`, the
    shortest paths (by ``length``, hours) from *s* to *T* are counted;
    :math:`B(v)=\\sum_{s\\ne v} w_s\\,\\sigma_{sT}(v)/\\sigma_{sT}`. With one
    target this needs one Dijkstra from *T* on the reversed graph and two
    sparse triangular solves on the shortest-path DAG (path counts and flows),
    so it is exact at any size — no sampling.

    Parameters
    ----------
    net : ServiceNetwork
    weights : array, optional
        Source weights (default: events each node provides).
    length : str or None, default "delay_median"
        Edge column used as length (NaN → the median over edges); None counts
        hops (what :func:`bottlenecks` uses, so a slower provider is never
        routed around and its structural value does not fall when it slows).

    Returns
    -------
    Series indexed by node (sink excluded).

    Examples
    --------
    >>> import icnet
    >>> b = structural_betweenness(icnet.datasets.toy().by("unit"), weights=None)
    >>> b.round(1).to_dict()["Produccion"] > 0
    True
    """
    net = _validate.network(net)
    e, p, c, n = _edge_arrays(net)
    L = e[length].to_numpy(float) if (length is not None and length in e) else \
        np.ones(len(e))
    L = np.where(np.isfinite(L), L, np.nanmedian(L) if np.isfinite(L).any() else 1.0)
    L = np.maximum(L, 1e-9)
    if weights is None:
        weights = np.bincount(p, weights=e["n_events"].to_numpy(float), minlength=n)
    w = np.asarray(weights, float)
    ext = _external(net, np.bincount(p, minlength=n))
    T = n
    src = np.r_[p, np.flatnonzero(ext)]
    dst = np.r_[c, np.full(ext.sum(), T)]
    ln = np.r_[L, np.zeros(ext.sum())]
    # distances to T: Dijkstra from T on the reversed graph (zero lengths kept via tiny eps)
    Grev = sparse.csr_matrix((ln + 1e-300, (dst, src)), shape=(n + 1, n + 1))
    dist = csgraph.dijkstra(Grev, directed=True, indices=T)
    # DAG edges u -> x on some shortest path to T: d(u) == len(u,x) + d(x)
    du, dx = dist[src], dist[dst]
    fin = np.isfinite(du) & np.isfinite(dx)
    with np.errstate(invalid="ignore"):
        on = fin & (np.abs(du - (ln + dx)) <= rtol * np.maximum(1.0, np.abs(du)))
    u, x = src[on], dst[on]
    N = n + 1
    # sigma(u) = number of shortest paths u -> T: (I - A) sigma = e_T, A[u, x] = 1
    A = sparse.csr_matrix((np.ones(len(u)), (u, x)), shape=(N, N))
    eT = np.zeros(N)
    eT[T] = 1.0
    sigma = spsolve((sparse.identity(N, format="csr") - A).tocsc(), eT)
    # flow F(v) = w_v + sum_u F(u) sigma(v)/sigma(u) over DAG edges u -> v
    frac = np.where(sigma[u] > 0, sigma[x] / np.where(sigma[u] > 0, sigma[u], 1), 0.0)
    M = sparse.csr_matrix((frac, (x, u)), shape=(N, N))
    wv = np.r_[np.where(np.isfinite(dist[:n]), w, 0.0), 0.0]
    F = spsolve((sparse.identity(N, format="csr") - M).tocsc(), wv)
    B = np.maximum(F[:n] - wv[:n], 0.0)
    return pd.Series(B, index=net.node_ids, name="structural")


_MONTH = pd.Timedelta(days=30.4375)


def share_text(x: float) -> str:
    """A share as a percentage with two significant digits, so that the small
    shares of one person among thousands do not print as 0%.

    >>> [share_text(v) for v in (0.2234, 0.046, 0.00031, 1.0)]
    ['22%', '4.6%', '0.031%', '100%']
    """
    s = f"{100 * x:.2g}"
    return (f"{100 * x:.0f}" if "e" in s else s) + "%"


def _provider_part(ev, t0, n_months, as_of):
    """What the bottleneck measures need from the events, per provider.

    ``ev`` holds every event of the providers it contains (all events, or one
    partition of providers on a Dask cluster: see
    :meth:`icnet.ServiceNetwork._per_provider`); ``t0``, ``n_months`` and
    ``as_of`` are the whole log's first request, number of 30.44-day months and
    end. Returns ``(months, providers, demand)``: arrivals and completions per
    provider code ``p`` and month ``m``; per provider its summed delay
    (``wait``), Kaplan–Meier median delay (open requests censored at their age
    at ``as_of``), the SD of its log delays, the KM median of the first and
    last third of the span, median delay/agreed ratio and modal service; and
    the events per ``(p, c, s)`` = (provider, client, service).
    """
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    months = pd.DataFrame({"p": np.zeros(0, np.int64), "m": np.zeros(0, np.int64),
                           "arr": np.zeros(0, np.int64), "comp": np.zeros(0, np.int64)})
    prov = pd.DataFrame({"p": np.unique(p)})
    at = pd.Index(prov["p"])
    P = int(p.max(initial=-1)) + 1
    month = None
    if "requested_at" in ev and t0 is not None:
        month = ((ev["requested_at"] - t0) / _MONTH).to_numpy().astype(np.int64)
        size = P * n_months
        arr = np.bincount(p * n_months + month, minlength=size)
        if "delivered_at" in ev or "delay_hours" in ev:
            if "delivered_at" in ev:
                d = ev["delivered_at"]
                done = d.notna().to_numpy()
                dmf = ((d[done] - t0) / _MONTH).to_numpy(dtype=float)
            else:      # request month + delay, in float months (no Timedelta overflow)
                dh = ev["delay_hours"].to_numpy(float)
                done = ~np.isnan(dh)
                dmf = month[done] + ((ev["requested_at"][done] - t0) / _MONTH).to_numpy(
                    dtype=float) % 1 + dh[done] / (_MONTH / pd.Timedelta(hours=1))
            dm = np.clip(np.nan_to_num(dmf, nan=0, posinf=n_months - 1),
                         0, n_months - 1).astype(np.int64)
            comp = np.bincount(p[done] * n_months + dm, minlength=size)
        else:
            comp = arr
        key = np.flatnonzero((arr > 0) | (comp > 0))
        months = pd.DataFrame({"p": key // n_months, "m": key % n_months,
                               "arr": arr[key], "comp": comp[key]})
    for col in ("wait", "delay_median", "reached", "sd_log", "n_obs", "n_open",
                "med0", "med2", "n0", "n2", "delay_ratio"):
        prov[col] = np.nan
    if "delay_hours" in ev:
        dl = ev["delay_hours"].to_numpy(float)
        ok = ~np.isnan(dl)
        prov["wait"] = np.bincount(p[ok], weights=dl[ok], minlength=P)[at]
        t = dl.copy()
        if "requested_at" in ev and as_of is not None:      # open: censored at their age
            req = ev["requested_at"]
            ns = req.to_numpy().astype("datetime64[ns]").astype(np.int64).astype(float)
            age = np.where(req.isna().to_numpy(), np.nan,
                           (pd.Timestamp(as_of).value - ns) / 3.6e12)
            t = np.where(ok, dl, np.maximum(age, 0.0))
        km = km_median(p, t, ok, P)
        prov["delay_median"] = km["median"].to_numpy()[at]
        prov["reached"] = km["reached"].to_numpy()[at]
        prov["n_obs"] = np.bincount(p[ok], minlength=P)[at]
        prov["n_open"] = np.bincount(p, weights=(np.isnan(dl) & ~np.isnan(t)).astype(float),
                                     minlength=P)[at]
        lg = np.log1p(dl[ok])
        sd = pd.Series(lg).groupby(p[ok]).std()
        prov["sd_log"] = sd.reindex(at).to_numpy()
        if "expected_hours" in ev:
            ex = ev["expected_hours"].to_numpy(float)
            k = ok & ~np.isnan(ex) & (ex > 0)
            r = pd.Series(dl[k] / ex[k]).groupby(p[k]).median()
            prov["delay_ratio"] = r.reindex(at).to_numpy()
        if month is not None:
            third = np.minimum(month * 3 // n_months, 2)
            g3 = p * 3 + third
            k3 = km_median(g3, t, ok, P * 3)
            for j in (0, 2):
                prov[f"med{j}"] = k3["median"].to_numpy()[at * 3 + j]
                prov[f"n{j}"] = k3["n"].to_numpy()[at * 3 + j]
    demand = pd.DataFrame({"p": np.zeros(0, np.int64), "c": np.zeros(0, np.int64),
                           "s": pd.Series(dtype=object), "n": np.zeros(0, np.int64)})
    prov["service"] = ""
    if "service" in ev:
        svc = ev["service"].astype(object)
        modal = svc.groupby(p).agg(lambda s: s.value_counts().index[0]
                                   if s.notna().any() else "")
        prov["service"] = modal.reindex(at).to_numpy(dtype=object)
        k = pd.DataFrame({"p": p, "c": ev["client"].cat.codes.to_numpy().astype(np.int64),
                          "s": svc.fillna("").to_numpy()})
        demand = k.groupby(["p", "c", "s"], sort=False).size().rename("n").reset_index()
    return months, prov, demand


def _event_measures(net, n):
    """Per node (arrays of length ``n``): throughput balance, backlog growth, KM
    median delay and its sampling SD (log scale), delay trend (log ratio, last
    vs first third) and its SD, waiting share, delay/agreed ratio, modal
    service, redundancy, open requests; plus the event columns used."""
    out = {k: np.full(n, np.nan) for k in ("balance", "growth", "trend", "se_trend", "med",
                                            "se_med", "ratio", "red", "n_open")}
    out["wait"] = np.zeros(n)
    out["service"] = np.full(n, "", dtype=object)
    out["used"] = []
    if not net.has_events or net.n_events == 0:
        return out
    cols = net.event_columns
    out["used"] = [c for c in ("requested_at", "delivered_at", "delay_hours", "expected_hours",
                               "service") if c in cols]
    t0, n_months, as_of = None, 1, None
    if "requested_at" in cols:
        t0, last = net._request_range()
        n_months = int((pd.Timestamp(last).value - pd.Timestamp(t0).value) / _MONTH.value) + 1
        as_of = net.span[1]
    months, prov, demand = net._per_provider(
        _provider_part, ["delay_hours", "expected_hours", "delivered_at", "service"],
        t0=t0, n_months=n_months, as_of=as_of)
    pc = prov["p"].to_numpy()
    lm = np.log1p(prov["delay_median"].to_numpy(float))
    out["med"][pc] = prov["delay_median"].to_numpy(float)
    # SD of a median ≈ 1.2533 σ / √n (asymptotic, normal on the log scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = 1.2533 * prov["sd_log"].to_numpy(float) / np.sqrt(prov["n_obs"].to_numpy(float))
        m0, m2 = np.log1p(prov["med0"].to_numpy(float)), np.log1p(prov["med2"].to_numpy(float))
        n0, n2 = prov["n0"].to_numpy(float), prov["n2"].to_numpy(float)
        sdl = prov["sd_log"].to_numpy(float)
        se_tr = 1.2533 * sdl * np.sqrt(1 / n0 + 1 / n2)
        # one delivered request has no SD of its own: the providers' typical one
        typical = np.nanmedian(sdl) if np.isfinite(sdl).any() else np.nan
        se = np.where(np.isfinite(se), se, 1.2533 * typical /
                      np.sqrt(np.maximum(prov["n_obs"].to_numpy(float), 1)))
    out["se_med"][pc] = np.where(np.isfinite(lm), se, np.nan)
    both = (n0 >= _MIN_THIRD) & (n2 >= _MIN_THIRD)
    out["trend"][pc] = np.where(both, m2 - m0, np.nan)
    out["se_trend"][pc] = np.where(both, se_tr, np.nan)
    out["ratio"][pc] = prov["delay_ratio"].to_numpy(float)
    out["n_open"][pc] = prov["n_open"].to_numpy(float)
    out["service"][pc] = prov["service"].to_numpy(dtype=object)
    if t0 is not None:
        M = n_months
        idx = months["p"].to_numpy() * M + months["m"].to_numpy()
        arr = np.bincount(idx, weights=months["arr"].to_numpy(), minlength=n * M)
        comp = np.bincount(idx, weights=months["comp"].to_numpy(), minlength=n * M)
        arr, comp = arr.reshape(n, M), comp.reshape(n, M)
        backlog = np.cumsum(arr - comp, axis=1)           # open at each month end
        mean_arr = arr.mean(axis=1)
        if M >= 3:
            tt = np.arange(M) - (M - 1) / 2
            slope = (backlog * tt).sum(axis=1) / (tt ** 2).sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                out["growth"] = np.where(mean_arr > 0, slope / np.maximum(mean_arr, 1e-9),
                                         np.nan)
        tot_c = comp.sum(axis=1)
        out["balance"] = np.where(tot_c > 0, arr.sum(axis=1) / np.maximum(tot_c, 1), np.nan)
    if "delay_hours" in cols:
        wait = np.zeros(n)
        wait[pc] = prov["wait"].to_numpy(float)
        out["wait"] = wait / wait.sum() if wait.sum() > 0 else wait
    if "service" in cols and len(demand):
        # share of a provider's demand from (client, service) pairs with another provider
        alts = demand.groupby(["c", "s"])["p"].transform("nunique")
        g = demand.assign(alt=(alts > 1) * demand["n"]).groupby("p")[["alt", "n"]].sum()
        out["red"][g.index.to_numpy()] = (g["alt"] / g["n"]).to_numpy()
    return out


_MIN_THIRD = 5      # requests in the first and in the last third for a trend
_W_SLOW, _W_TREND = 1.6, 0.4   # weights of the two tests in the (weighted) Holm family
_MIN_PEERS = 3      # a peer group: the provider and at least 2 others (centre)


def _mad(x):
    x = x[np.isfinite(x)]
    return 1.4826 * np.median(np.abs(x - np.median(x))) if len(x) else np.nan


def _labels(a):
    """Service or unit labels as text, missing (NaN, None, "") as "" (one vectorised
    cast; numeric codes are labels)."""
    return pd.Series(np.asarray(a, dtype=object)).astype("string").fillna("").to_numpy(object)


def _peer_groups(service, unit, ok):
    """Peer group per provider: same service, else same unit, else all (the provider and
    ≥ 2 others)."""
    service, unit = _labels(service), _labels(unit)
    n_svc = pd.Series(service[ok & (service != "")]).value_counts()
    n_unit = pd.Series(unit[ok & (unit != "")]).value_counts()
    k_svc = pd.Series(service).map(n_svc).fillna(0).to_numpy()
    k_unit = pd.Series(unit).map(n_unit).fillna(0).to_numpy()
    use_svc = (service != "") & (k_svc >= _MIN_PEERS)
    use_unit = ~use_svc & (unit != "") & (k_unit >= _MIN_PEERS)
    return np.where(use_svc, "service: " + service.astype(str),
                    np.where(use_unit, "unit: " + unit.astype(str), "all")).astype(object)


def _loo_median(x, g):
    """Median of the *other* members of each one's group (leave-one-out),
    vectorised: NaN for a group of one."""
    x = np.asarray(x, float)
    g = np.asarray(g)
    order = np.lexsort((x, g))
    xs, gs = x[order], g[order]
    start = np.r_[0, np.flatnonzero(gs[1:] != gs[:-1]) + 1]
    size = np.diff(np.r_[start, len(xs)])
    first = np.repeat(start, size)
    k = np.repeat(size, size)
    j = np.arange(len(xs)) - first                  # position within the group
    r = k - 1

    def pick(m):
        m = np.clip(m, 0, None)
        return xs[np.clip(first + np.where(m < j, m, m + 1), 0, len(xs) - 1)]

    odd = r % 2 == 1
    out = np.where(odd, pick((r - 1) // 2), (pick(r // 2 - 1) + pick(r // 2)) / 2)
    out = np.where(r > 0, out, np.nan)
    res = np.empty(len(x))
    res[order] = out
    return res


_MEDIAN_VAR = np.array([np.inf, 1.0, 0.5, 0.449, 0.361, 0.287, 0.246, 0.210])


def _median_var(m):
    """Variance of the median of ``m`` standard normal values (exact for m ≤ 7,
    else π/(2m))."""
    m = np.asarray(m, dtype=np.int64)
    return np.where(m < len(_MEDIAN_VAR), _MEDIAN_VAR[np.clip(m, 0, len(_MEDIAN_VAR) - 1)],
                    np.pi / (2 * np.maximum(m, 1)))


def _robust_sd(d, n_groups):
    """Leave-one-out SD of ``d`` per value, after setting aside values beyond 3.5
    robust SDs (1.4826 MAD), and its degrees of freedom.

    The SD of the values kept is nearly as efficient as the SD and unmoved by a
    few bottlenecks; each value's own scale leaves it out (an externally
    studentised excess, so a slow provider does not widen its own yardstick).
    Degrees of freedom: values kept minus ``n_groups`` (minus one when the value
    itself was kept)."""
    d = np.asarray(d, float)
    fin = np.isfinite(d)
    mad = 1.4826 * np.median(np.abs(d[fin])) if fin.any() else np.nan
    if not np.isfinite(mad) or mad <= 0:
        return np.full(len(d), mad), np.full(len(d), max(fin.sum() - n_groups, 1.0))
    keep = fin & (np.abs(d) <= 3.5 * mad)
    ss = np.sum(d[keep] ** 2)
    dof = np.maximum(keep.sum() - n_groups - keep, 1).astype(float)
    own = np.where(keep, np.nan_to_num(d) ** 2, 0.0)
    return np.sqrt(np.maximum(ss - own, 0) / dof), dof


def _peer_z(x, se, group, ok):
    """Standardised excess of ``x`` (log delay) over its peers, and the degrees of
    freedom of its scale.

    Each provider is compared with the median of its *other* peers (leave-one-
    out, so a slow provider does not pull its own reference): peers are its
    group (``group`` ≠ ``"all"``: same service or unit, the provider and at least 2
    others), else all providers. The scale is *pooled* over every provider compared the same way
    (grouped ones together, the others together), so a group of 5 cannot
    produce the huge z of a robust z among 3: the SD of the other providers'
    excesses after setting aside the ones beyond 3.5 × 1.4826 MAD (see
    :func:`_robust_sd`). The provider's own sampling variance ``se²`` is added
    to the scale².
    """
    n = len(x)
    z = np.full(n, np.nan)
    k = np.zeros(n)
    dof = np.full(n, np.nan)
    fin = ok & np.isfinite(x)
    if fin.sum() < 3:
        return z, k, dof
    d = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    # a median of m others varies by _median_var(m) σ²: d / f has the same spread
    # whatever the group's size, so excesses of groups of any size can be pooled
    f = np.ones(n)
    d[fin] = x[fin] - _loo_median(x[fin], np.zeros(fin.sum(), int))
    f[fin] = np.sqrt(1 + _median_var(np.array([fin.sum() - 1]))[0])
    scale[fin], dof[fin] = _robust_sd(d[fin] / f[fin], 1)
    k[:] = fin.sum() - 1
    grouped = fin & (group != "all")
    if grouped.any():
        gg = group[grouped].astype(str)
        dg = x[grouped] - _loo_median(x[grouped], gg)
        kg = pd.Series(gg).map(pd.Series(gg).value_counts()).to_numpy() - 1
        fg = np.sqrt(1 + _median_var(kg))
        n_groups = len(np.unique(gg))
        pooled, pdof = _robust_sd(dg / fg, n_groups)
        if (pdof >= 2).all() and np.isfinite(pooled).all() and (pooled > 0).all():
            d[grouped] = dg
            f[grouped] = fg
            scale[grouped] = pooled
            dof[grouped] = pdof
            k[grouped] = kg
    bad = fin & (~np.isfinite(scale) | (scale <= 0))
    scale[bad] = np.nanstd(x[fin]) if np.nanstd(x[fin]) > 0 else 1.0
    s = np.where(np.isfinite(se), se, 0.0)
    z[fin] = d[fin] / np.sqrt((f[fin] * scale[fin]) ** 2 + s[fin] ** 2)
    return z, k, dof


def _families(service, unit):
    """The family of each provider in the slow tests' error budget: its (modal)
    service, else its unit, else one family for everybody."""
    service, unit = _labels(service), _labels(unit)
    return np.where(service != "", "service: " + service.astype(str),
                    np.where(unit != "", "unit: " + unit.astype(str), "all")).astype(object)


def _slow_weights(family, tested):
    """Holm weights of the slow tests: the budget is split evenly over the
    families (services, else units) and within a family evenly over its
    tested providers, :math:`w_i = W\\,m/(G\\,n_{g(i)})` for ``m`` tested
    providers in ``G`` families, the family of ``i`` holding ``n_g(i)``.

    Each service is one question to the organisation — is one of its
    providers slower than its peers? — whatever its head count, so the three
    providers of a small service are not crowded out by a large one's sixty,
    and the only provider of a service carries its service's whole share. The
    weights come from the labels and head counts alone, fixed before any delay
    is looked at, so Holm's weighted procedure keeps its family-wise guarantee
    (Holm 1979; Benjamini & Hochberg 1997; Genovese, Roeder & Wasserman 2006;
    families of hypotheses as the unit of the budget: Benjamini & Bogomolov
    2014). They average ``_W_SLOW`` over the tested providers.
    """
    w = np.full(len(family), _W_SLOW)
    if tested.any():
        f = pd.Series(np.asarray(family, dtype=object)[tested].astype(str))
        n_g = f.map(f.value_counts()).to_numpy(float)
        w[tested] = _W_SLOW * tested.sum() / (f.nunique() * n_g)
    return w


def _holm(p, alpha, weights=None):
    """Holm (1979) step-down adjusted p-values, optionally weighted (NaN stays NaN,
    not counted).

    Weighted: ordered by :math:`p_i/w_i`, the k-th is rejected when
    :math:`p_{(k)} \\le \\alpha\\, w_{(k)} / \\sum_{j\\ge k} w_{(j)}` (and all
    before it were); with equal weights this is Holm's procedure."""
    p = np.asarray(p, float)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, float)
    adj = np.full(len(p), np.nan)
    fin = np.flatnonzero(np.isfinite(p) & (w > 0))
    m = len(fin)
    if not m:
        return adj
    q = p[fin] / w[fin]
    order = fin[np.argsort(q, kind="mergesort")]
    rest = np.cumsum(w[order][::-1])[::-1]          # Σ of the weights from k on
    stepped = np.maximum.accumulate(rest * p[order] / w[order])
    adj[order] = np.minimum(stepped, 1.0)
    return adj


_COLUMNS = ["node", "unit", "score", "is_bottleneck", "reason", "mechanism", "dependence",
            "criticality", "structural", "delay_median", "delay_excess", "p_slow",
            "delay_trend", "p_trend", "p_adjusted", "backlog_growth", "throughput_balance",
            "waiting_share", "delay_ratio_agreed", "redundancy", "n_events", "n_open",
            "n_clients", "peer_group", "n_peers", "flagged_members", "rank", "utilisation"]


def bottlenecks(net, *, level: str | None = None, alpha: float = 0.85, fwer: float = 0.05,
                min_events: int = 20, _person: pd.DataFrame | None = None) -> pd.DataFrame:
    """Providers the organisation waits on: slow or slowing relative to their peers
    and the organisation, with family-wise error control; ranked by criticality.

    Works with events alone (provider, client, requested_at, delay or
    delivery): agreements, services and ratings are used when present, and
    ``attrs["used"]`` says which event columns were used.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str, optional
        Aggregate first (``"unit"``). At unit level on a network of people a
        unit is also flagged when one of its people is (``flagged_members``;
        its ``score`` is then at least their best score) — what the report
        shows.
    alpha : float, default 0.85
        Continuation probability of the dependence walk.
    fwer : float, default 0.05
        Family-wise error rate of the flag rule (Holm over every eligible
        provider's two one-sided tests).
    min_events : int, default 20
        Fewer events provided: never flagged (not tested).

    Returns
    -------
    DataFrame
        One row per provider, flagged ones first, then by ``score``
        (descending, ties by node): ``node``; ``unit``; ``score`` (0–1:
        :math:`\\sqrt{r_{crit}\\,(1-e^{-s/2})}`, see Notes); ``is_bottleneck``;
        ``reason`` (plain words); ``mechanism`` (``"slow"``, ``"slowing"``,
        ``"overloaded"`` (slowing while its backlog grows), ``"members"``,
        ``"+"``-joined; ``""`` when not flagged); ``dependence`` (share of the
        dependence of the external-facing nodes reaching it, sums to 1 — the one
        dependence figure, also in reports and actions); ``criticality``
        (hours of waiting on it per unit of customer-facing work:
        ``dependence × delay_median``); ``structural`` (demand-weighted
        betweenness toward the external customer by hops, events);
        ``delay_median`` (Kaplan–Meier median delay, hours, open requests
        censored); ``delay_excess`` (z vs peers, log scale, shrunk scale);
        ``p_slow`` (one-sided p of ``delay_excess``); ``delay_trend`` (log
        ratio of the KM median delay in the last vs first third of the span,
        minus the organisation's, so an organisation-wide slowdown is 0);
        ``p_trend``; ``p_adjusted`` (Holm-adjusted, the smaller of the two);
        ``backlog_growth`` (per month, share of monthly arrivals);
        ``throughput_balance`` (arrivals / completions, was ``utilisation``);
        ``waiting_share`` (share of all waiting hours); ``delay_ratio_agreed``
        (median delay / agreed delay); ``redundancy`` (share of demand with an
        alternative provider of the same service); ``n_events``; ``n_open``;
        ``n_clients``; ``peer_group`` (``"service: x"``, ``"unit: x"`` or
        ``"all"``); ``n_peers``; ``flagged_members`` (unit level: its flagged
        people, ``"; "``-joined); ``rank``; ``utilisation`` (deprecated alias of
        ``throughput_balance``).

        ``attrs``: ``params``, ``used`` (event columns used), ``rule`` (the
        flag rule in words).

    Notes
    -----
    Delays are Kaplan–Meier medians with open requests right-censored at their
    age (when more than half are open, the longest follow-up: a lower bound).
    Peers: providers of the same service when there are at least 2 others, else
    of the same unit, else all. ``delay_excess``
    :math:`z_i=d_i/\\sqrt{f_i^2 s_{-i}^2+se_i^2}` with :math:`d_i` the log
    median delay minus the median of the *other* peers, :math:`s_{-i}` the
    pooled robust SD of every other provider's :math:`d/f` (groups pooled;
    values beyond 3.5 MAD set aside), :math:`f_i^2 = 1 +` the variance of a
    median of the peers (so groups of any size share one scale) and
    :math:`se_i = 1.2533\\,\\sigma_i/\\sqrt{n_i}`; p from Student's t with the
    pooled degrees of freedom. Without peers but with agreed delays, delay /
    agreed delay is compared with all providers'. ``delay_trend`` is tested
    the same way against all providers. Flag rule: a provider with
    ≥ ``min_events`` events whose work reaches the external customer
    (dependence > 0) is flagged when the Holm-adjusted one-sided p-value of
    either test is ≤ ``fwer`` (weighted Holm 1979: slow tests 1.6 on
    average — split evenly over services (else units), then evenly over each
    service's providers —, trend tests 0.4) — so on an organisation without
    bottlenecks the chance of any flag is about ``fwer``. Criticality is the
    dependence (a damped Leontief total-requirements share, see
    :func:`dependence`) times the median delay: slowing a provider never lowers
    it. Score :math:`\\sqrt{r_{crit}(1-e^{-s/2})}` with :math:`r_{crit}` the
    percentile rank of criticality and :math:`s` the larger of the two
    z-statistics (≥ 0); it orders providers, the flag uses the Holm-adjusted
    p-values.

    References
    ----------
    Leontief, W. (1936). Quantitative input and output relations in the economic
    system of the United States. *Rev. Economics and Statistics* 18, 105–125.
    Haveliwala, T. (2002). Topic-sensitive PageRank. *WWW '02*.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian J. Statistics* 6, 65–70.
    Benjamini, Y. & Hochberg, Y. (1997). Multiple hypotheses testing with
    weights. *Scandinavian J. Statistics* 24, 407–418.
    Benjamini, Y. & Bogomolov, M. (2014). Selective inference on multiple
    families of hypotheses. *J. Royal Statistical Society B* 76, 297–318.
    Genovese, C. R., Roeder, K. & Wasserman, L. (2006). False discovery
    control with p-value weighting. *Biometrika* 93, 509–524.
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
    observations. *JASA* 53, 457–481.
    Rousseeuw, P. J. & Croux, C. (1993). Alternatives to the median absolute
    deviation. *JASA* 88, 1273–1283.
    Little, J. D. C. (1961). A proof for the queuing formula L = λW. *Operations
    Research* 9, 383–387.

    Examples
    --------
    >>> import icnet
    >>> b = icnet.bottlenecks(icnet.datasets.toy(), level="unit")
    >>> list(b.columns[:4]), b.attrs["used"][:2]
    (['node', 'unit', 'score', 'is_bottleneck'], ['requested_at', 'delivered_at'])
    """
    net0 = _validate.network(net)
    net = _validate.level(net0, level)
    _validate.in_range("alpha", alpha, low=0, high=1)
    _validate.in_range("fwer", fwer, low=0, high=1, low_inclusive=False)
    _validate.in_range("min_events", min_events, low=0, integer=True)
    params = dict(level=net.level, alpha=alpha, fwer=fwer, min_events=min_events)
    e, p, c, n = _edge_arrays(net)
    n_ev = np.bincount(p, weights=e["n_events"].to_numpy(float), minlength=n)
    n_cl = np.bincount(p, minlength=n)
    dep = dependence(net, alpha=alpha).to_numpy()
    struct = structural_betweenness(net, length=None).to_numpy()
    m = _event_measures(net, n)
    med, se_med = m["med"], m["se_med"]
    if not m["used"] or "delay_hours" not in m["used"]:     # edges only: their medians
        med = np.full(n, np.nan)
        dm = e.groupby(p)["delay_median"].median() if "delay_median" in e else pd.Series()
        med[dm.index.to_numpy()] = dm.to_numpy()
    unit = net.nodes["unit"].to_numpy(dtype=object)
    provides = n_ev > 0
    group = _peer_groups(m["service"], unit, provides)
    z, k, dof = _peer_z(np.log1p(med), se_med, group, provides)
    # no peers but an agreed delay: delay / agreed delay vs all providers' (the
    # agreement puts different services on one scale)
    ratio = m["ratio"]
    has_r = provides & np.isfinite(ratio) & (ratio > 0)
    lone = (group == "all") & has_r
    if lone.any() and has_r.sum() >= 5:
        zr, kr, dr = _peer_z(np.log(np.where(has_r, ratio, np.nan)), se_med,
                             np.full(n, "all", dtype=object), has_r)
        z[lone], k[lone], dof[lone] = zr[lone], kr[lone], dr[lone]
        group = np.where(lone, "all (delay / agreed delay)", group).astype(object)
    tr = m["trend"]
    fin_tr = provides & np.isfinite(tr)
    rel = np.full(n, np.nan)
    if fin_tr.any():
        w = n_ev[fin_tr]
        o = np.argsort(tr[fin_tr])
        cw = np.cumsum(w[o])
        org = tr[fin_tr][o][np.searchsorted(cw, cw[-1] / 2)]   # event-weighted median
        rel[fin_tr] = tr[fin_tr] - org
    zt, _, dof_t = _peer_z(rel, m["se_trend"], np.full(n, "all", dtype=object), fin_tr)
    eligible = provides & (n_ev >= min_events) & (dep > 0)
    # one-sided p from Student's t with the scale's degrees of freedom
    with np.errstate(invalid="ignore"):
        p_slow = np.where(eligible & np.isfinite(z), student_t.sf(z, np.fmax(dof, 1)), np.nan)
        p_tr = np.where(eligible & np.isfinite(zt), student_t.sf(zt, np.fmax(dof_t, 1)),
                        np.nan)
    # weighted Holm: the slow tests carry 4/5 of the error budget, the trend tests
    # (whose real signals are strong, see the backlog rows of the docs) 1/5; the slow
    # budget is split evenly over services, then over their providers (_slow_weights)
    adj = _holm(np.r_[p_slow, p_tr], fwer,
                np.r_[_slow_weights(_families(m["service"], unit),
                                    eligible & np.isfinite(p_slow)),
                      np.full(n, _W_TREND)])
    adj_s, adj_t = adj[:n], adj[n:]
    slow = adj_s <= fwer
    slowing = adj_t <= fwer
    growing = np.nan_to_num(m["growth"]) > 0
    mech = np.where(slow, "slow", "").astype(object)
    tmech = np.where(slowing, np.where(growing, "overloaded", "slowing"), "")
    mech = np.array(["+".join(x for x in (a, b) if x) for a, b in zip(mech, tmech)],
                    dtype=object)
    crit = dep * np.nan_to_num(med, nan=0.0)
    df = pd.DataFrame({
        "node": net.node_ids.to_numpy(dtype=object), "unit": unit,
        "is_bottleneck": slow | slowing, "mechanism": mech,
        "dependence": dep, "criticality": crit, "structural": struct, "delay_median": med,
        "delay_excess": z, "p_slow": p_slow, "delay_trend": rel, "p_trend": p_tr,
        "p_adjusted": np.fmin(adj_s, adj_t), "backlog_growth": m["growth"],
        "throughput_balance": m["balance"], "waiting_share": m["wait"],
        "delay_ratio_agreed": m["ratio"], "redundancy": m["red"],
        "n_events": n_ev.astype("int64"), "n_open": np.nan_to_num(m["n_open"]).astype("int64"),
        "n_clients": n_cl.astype("int64"), "peer_group": group,
        "n_peers": k.astype("int64"), "flagged_members": "", "_zt": zt})
    df = df[df["n_events"] > 0].reset_index(drop=True)
    pct = df["criticality"].rank(pct=True, method="average").fillna(0.0)
    strength = np.fmax(df["delay_excess"].fillna(0), df["_zt"].fillna(0)).clip(lower=0)
    df["score"] = np.sqrt(pct * (1 - np.exp(-strength / 2)))
    df["reason"] = [_reason(r) if r.is_bottleneck else "" for r in df.itertuples()]
    if net is not net0 and net.level == "unit" and net0.level == "person" and len(df):
        df = _with_members(df, net0, _person if _person is not None else
                           bottlenecks(net0, alpha=alpha, fwer=fwer, min_events=min_events))
    df["utilisation"] = df["throughput_balance"]
    df = df.assign(_f=~df["is_bottleneck"]).sort_values(
        ["_f", "score", "node"], ascending=[True, False, True], kind="mergesort")
    df = df.reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df = df[_COLUMNS]
    df.attrs["params"] = params
    df.attrs["used"] = m["used"] or ["edges: delay_median"]
    df.attrs["rule"] = (f"flagged: >= {min_events} events, work reaching the external "
                        f"customer, and slow vs its peers or slowing vs the organisation "
                        f"with Holm-adjusted one-sided p <= {fwer}")
    return df


def _reason(r) -> str:
    parts = [f"{share_text(r.dependence)} of the dependence of the external-facing "
             f"units reaches it"]
    if "slow" in r.mechanism.split("+"):
        parts.append(f"median delay {r.delay_median:.3g} h, {r.delay_excess:+.1f} SD vs "
                     f"its peers ({r.peer_group})")
    if "slowing" in r.mechanism or "overloaded" in r.mechanism:
        parts.append(f"delays grew {np.exp(r.delay_trend):.1f}× more than the "
                     "organisation's from the first to the last third")
    if "overloaded" in r.mechanism:
        parts.append("backlog growing")
    return "; ".join(parts)


def _with_members(df, person_net, pb):
    """A unit with a flagged member is flagged too (``mechanism`` gains
    ``"members"``, ``score`` is at least its flagged members' best); its
    ``reason`` keeps the unit's own figures."""
    unit_of = person_net.nodes.set_index("node")["unit"]
    fl = pb[pb["is_bottleneck"]]
    if not len(fl):
        return df
    members = fl.assign(u=fl["node"].map(unit_of).to_numpy()).groupby("u")["node"] \
        .agg(lambda s: "; ".join(sorted(map(str, s))))
    has = df["node"].map(members)
    hit = has.notna().to_numpy()
    df = df.copy()
    df["flagged_members"] = has.fillna("").to_numpy(dtype=object)
    n_m = has.fillna("").map(lambda s: len(s.split("; ")) if s else 0)
    df["mechanism"] = [("+".join(x for x in (mm, "members") if x)) if h else mm
                       for mm, h in zip(df["mechanism"], hit)]
    own = df["is_bottleneck"].to_numpy(dtype=bool)
    text = [f"{share_text(d)} of the dependence of the external-facing units reaches it; "
            f"{k} of its people flagged as bottleneck" for d, k in zip(df["dependence"], n_m)]
    df["reason"] = [r + (f"; {k} of its people flagged as bottleneck" if o else "")
                    if h and o else (t if h else r)
                    for r, t, h, o, k in zip(df["reason"], text, hit, own, n_m)]
    df["is_bottleneck"] = own | hit
    top = fl.assign(u=fl["node"].map(unit_of).to_numpy()).groupby("u")["score"].max()
    df["score"] = np.fmax(df["score"].to_numpy(float),
                          df["node"].map(top).to_numpy(dtype=float))
    return df


def critical_path(net, *, level: str | None = None, length: str = "delay_median"
                  ) -> pd.DataFrame:
    """The longest expected lead-time chain to the external customer.

    Strongly connected components (mutual service) are condensed into one
    node each (their internal delay is not counted twice); on the resulting
    DAG, the longest path by ``length`` (hours) ending at an external-facing
    node is found by dynamic programming in topological order.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str, optional
    length : str, default "delay_median"

    Returns
    -------
    DataFrame
        One row per step: ``step`` (0 = start), ``component`` (the nodes of
        the condensed component, ``"; "``-joined), ``node`` (a representative:
        the member on the chain), ``hours`` (delay of the hand-over into this
        step), ``cumulative_hours``. ``attrs["total_hours"]`` holds the total.

    Examples
    --------
    >>> import icnet
    >>> cp = icnet.critical_path(icnet.datasets.toy(), level="unit")
    >>> cp["node"].iloc[-1] in ("Ventas",)
    True
    """
    import networkx as nx

    net = _validate.network(net)
    net = _validate.level(net, level)
    e, p, c, n = _edge_arrays(net)
    L = e[length].to_numpy(float) if length in e else np.ones(len(e))
    L = np.where(np.isfinite(L), L, np.nanmedian(L) if np.isfinite(L).any() else 0.0)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(p.tolist(), c.tolist(), L.tolist()))
    cond = nx.condensation(g)
    mapping = cond.graph["mapping"]
    best = {}
    for u, v, d in g.edges(data=True):
        cu, cv = mapping[u], mapping[v]
        if cu != cv and d["weight"] > best.get((cu, cv), (-1,))[0]:
            best[(cu, cv)] = (d["weight"], u, v)
    ext = _external(net, np.bincount(p, minlength=n))
    order = list(nx.topological_sort(cond))
    dist = {k: 0.0 for k in order}
    back = {k: None for k in order}
    for k in order:
        for _, m in cond.out_edges(k):
            w = best[(k, m)][0]
            if dist[k] + w > dist[m] or (dist[k] + w == dist[m] and back[m] is not None
                                         and k < back[m]):
                dist[m], back[m] = dist[k] + w, k
    ends = [k for k in order if any(ext[x] for x in cond.nodes[k]["members"])]
    ids = net.node_ids.to_numpy(dtype=object)
    if not ends:
        return pd.DataFrame(columns=["step", "component", "node", "hours", "cumulative_hours"])
    end = max(ends, key=lambda k: (dist[k], -k))
    chain = [end]
    while back[chain[-1]] is not None:
        chain.append(back[chain[-1]])
    chain = chain[::-1]
    rows = []
    for i, k in enumerate(chain):
        members = sorted(ids[list(cond.nodes[k]["members"])])
        if i == 0:
            h, rep = 0.0, ids[best[(k, chain[1])][1]] if len(chain) > 1 else members[0]
        else:
            h, _, v = best[(chain[i - 1], k)]
            rep = ids[v]
        rows.append({"step": i, "component": "; ".join(members), "node": rep, "hours": h})
    out = pd.DataFrame(rows)
    out["cumulative_hours"] = out["hours"].cumsum()
    out.attrs["total_hours"] = float(out["cumulative_hours"].iloc[-1])
    out.attrs["params"] = {"level": net.level, "length": length}
    return out


# ------------------------------------------------------- holding-time bottlenecks (#22)

def holding_bottlenecks(handovers) -> pd.DataFrame:
    """Teams where cases wait, from a process log's holding times (no ratings needed).

    The ``slow`` teams of :func:`icnet.holding_times` (cases wait there
    longer than elsewhere: one-sided Mann–Whitney U, Benjamini–Hochberg, a
    median above the overall median and enough visits) in the columns of
    :func:`bottlenecks`, with the holding time in the hours of the summary's
    calendar (working hours when a :class:`~icnet.worktime.WorkCalendar` was
    given). Dependence on the team is not measured from a log (``NaN``).

    Parameters
    ----------
    handovers : HandoverSummary or DataFrame
        :func:`icnet.handover_summary` (or the output of :func:`icnet.holding_times`).

    Returns
    -------
    DataFrame
        One row per team: ``node``, ``score`` (``prob_longer``, the
        probability that a visit here lasts longer than one elsewhere),
        ``is_bottleneck`` (the ``slow`` flag), ``reason`` (words with the
        numbers), ``mechanism`` (``"holding"`` when flagged), ``dependence``
        (NaN), ``delay_median`` (median holding hours per visit),
        ``delay_p90``, ``waiting_share`` (share of all holding hours),
        ``p_adjusted`` (the BH q-value), ``n_events`` (visits), ``hours_basis``,
        ``rank``. Flagged first, then by median (descending).

    See Also
    --------
    icnet.holding_times, icnet.handover_summary, bottlenecks

    Examples
    --------
    >>> from icnet.analysis.handovers import simulate_tickets, handover_summary
    >>> log = simulate_tickets(n_cases=600, n_teams=6, slow=["T2"], seed=0)
    >>> b = holding_bottlenecks(handover_summary(log))
    >>> b.loc[0, "node"], bool(b.loc[0, "is_bottleneck"])
    ('T2', True)
    """
    ht = getattr(handovers, "holding_times", handovers)
    if not isinstance(ht, pd.DataFrame) or "slow" not in ht:
        from ..errors import ParameterError

        raise ParameterError("holding_bottlenecks needs icnet.handover_summary(...) or the "
                             "table of icnet.holding_times(...).")
    basis = str(ht["hours_basis"].iloc[0]) if len(ht) and "hours_basis" in ht else \
        "wall-clock"
    overall = float(ht.attrs.get("overall_median_hours", np.nan))
    slow = ht["slow"].to_numpy(bool)
    out = pd.DataFrame({
        "node": ht["team"].to_numpy(dtype=object), "score": ht["prob_longer"].to_numpy(float),
        "is_bottleneck": slow,
        "reason": [f"cases wait here: median {m:.1f} {basis} h per visit vs {overall:.1f} h "
                   f"overall ({n} visits, P(longer) = {pl:.2f}, q = {q:.2g})" if s else ""
                   for s, m, n, pl, q in zip(slow, ht["median_hours"], ht["visits"],
                                             ht["prob_longer"], ht["q_value"])],
        "mechanism": np.where(slow, "holding", ""), "dependence": np.nan,
        "delay_median": ht["median_hours"].to_numpy(float),
        "delay_p90": ht["p90_hours"].to_numpy(float),
        "waiting_share": ht["share_of_hours"].to_numpy(float),
        "p_adjusted": ht["q_value"].to_numpy(float),
        "n_events": ht["visits"].to_numpy(np.int64), "hours_basis": basis})
    out = out.sort_values(["is_bottleneck", "delay_median", "node"],
                          ascending=[False, False, True], kind="mergesort")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs.update(params={"source": "holding_times", "overall_median_hours": overall},
                     used=dict(getattr(handovers, "used", ht.attrs.get("used", {}))),
                     rule="slow in holding_times: q <= alpha, >= min_visits visits, median "
                          "above the overall median")
    return out
