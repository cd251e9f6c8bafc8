"""Bottlenecks: who the organisation waits on, and the lead time to the external customer.

See docs/methods/bottlenecks.md for the formulas and references.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve

from .. import _validate

__all__ = ["bottlenecks", "critical_path", "dependence", "structural_betweenness"]

_COLUMNS = ["node", "unit", "score", "is_bottleneck", "reason", "dependence", "structural",
            "utilisation", "backlog_growth", "delay_trend", "waiting_share", "delay_excess",
            "delay_ratio_agreed", "redundancy", "n_events", "n_clients", "delay_median",
            "rank"]


def _edge_arrays(net):
    e = net.edges
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
    length : str, default "delay_median"
        Edge column used as length (NaN → the median over edges).

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
    L = e[length].to_numpy(float) if length in e else np.ones(len(e))
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


def _provider_part(ev, t0, n_months):
    """What the bottleneck measures need from the events, per provider.

    ``ev`` holds every event of the providers it contains (all events, or one
    partition of providers on a Dask cluster: see
    :meth:`icnet.ServiceNetwork._per_provider`); ``t0`` and ``n_months`` are the
    whole log's first request and number of 30.44-day months. Returns
    ``(months, providers, demand)``: arrivals and completions per provider code
    ``p`` and month ``m``; per provider its summed delay (``wait``), median delay,
    median delay/agreed ratio, modal service and delay trend (log ratio of the
    median delay of the last third of the span to the first third); and the
    events per ``(p, c, s)`` = (provider, client, service).
    """
    p = ev["provider"].cat.codes.to_numpy().astype(np.int64)
    months = pd.DataFrame({"p": np.zeros(0, np.int64), "m": np.zeros(0, np.int64),
                           "arr": np.zeros(0, np.int64), "comp": np.zeros(0, np.int64)})
    prov = pd.DataFrame({"p": np.unique(p)})
    at = pd.Index(prov["p"])
    month = None
    if "requested_at" in ev and t0 is not None:
        month = ((ev["requested_at"] - t0) / _MONTH).to_numpy().astype(np.int64)
        size = (int(p.max(initial=-1)) + 1) * n_months
        arr = np.bincount(p * n_months + month, minlength=size)
        if "delivered_at" in ev:
            d = ev["delivered_at"]
            done = d.notna().to_numpy()
            dm = np.clip(((d[done] - t0) / _MONTH).to_numpy().astype(np.int64),
                         0, n_months - 1)
            comp = np.bincount(p[done] * n_months + dm, minlength=size)
        else:
            comp = arr
        key = np.flatnonzero((arr > 0) | (comp > 0))
        months = pd.DataFrame({"p": key // n_months, "m": key % n_months,
                               "arr": arr[key], "comp": comp[key]})
    for col in ("wait", "delay_median", "delay_ratio", "delay_trend"):
        prov[col] = np.nan
    if "delay_hours" in ev:
        dl = ev["delay_hours"].to_numpy(float)
        ok = ~np.isnan(dl)
        w = pd.Series(np.bincount(p[ok], weights=dl[ok], minlength=int(p.max(initial=-1)) + 1))
        prov["wait"] = w.reindex(at).fillna(0.0).to_numpy()
        prov["delay_median"] = pd.Series(dl[ok]).groupby(p[ok]).median().reindex(at).to_numpy()
        if "expected_hours" in ev:
            ex = ev["expected_hours"].to_numpy(float)
            k = ok & ~np.isnan(ex) & (ex > 0)
            r = pd.Series(dl[k] / ex[k]).groupby(p[k]).median()
            prov["delay_ratio"] = r.reindex(at).to_numpy()
        if month is not None:
            third = np.minimum(month * 3 // n_months, 2)
            df = pd.DataFrame({"p": p[ok], "third": third[ok], "d": np.log1p(dl[ok])})
            med = df.groupby(["p", "third"])["d"].median().unstack()
            if 0 in med and 2 in med:
                prov["delay_trend"] = (med[2] - med[0]).reindex(at).to_numpy()
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
    """Per node (arrays of length ``n``): utilisation, backlog growth, delay trend,
    waiting share, median delay, delay/agreed ratio, modal service, redundancy."""
    out = {k: np.full(n, np.nan) for k in ("util", "growth", "trend", "med", "ratio", "red")}
    out["wait"] = np.zeros(n)
    out["service"] = np.full(n, "", dtype=object)
    if not net.has_events or net.n_events == 0:
        return out
    t0, n_months = None, 1
    if "requested_at" in net.event_columns:
        t0, last = net._request_range()
        n_months = int((last - t0) / _MONTH) + 1
    months, prov, demand = net._per_provider(
        _provider_part, ["delay_hours", "expected_hours", "delivered_at", "service"],
        t0=t0, n_months=n_months)
    pc = prov["p"].to_numpy()
    out["med"][pc] = prov["delay_median"].to_numpy()
    out["ratio"][pc] = prov["delay_ratio"].to_numpy()
    out["trend"][pc] = prov["delay_trend"].to_numpy()
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
        out["util"] = np.where(tot_c > 0, arr.sum(axis=1) / np.maximum(tot_c, 1), np.nan)
    if t0 is not None and "delay_hours" in net.event_columns:
        wait = np.zeros(n)
        wait[pc] = prov["wait"].to_numpy()
        out["wait"] = wait / wait.sum() if wait.sum() > 0 else wait
    if "service" in net.event_columns and len(demand):
        # share of a provider's demand from (client, service) pairs with another provider
        alts = demand.groupby(["c", "s"])["p"].transform("nunique")
        g = demand.assign(alt=(alts > 1) * demand["n"]).groupby("p")[["alt", "n"]].sum()
        out["red"][g.index.to_numpy()] = (g["alt"] / g["n"]).to_numpy()
    return out


def _delay_excess(net, med, group):
    """Robust z of a provider's log median delay among peers of the same service."""
    n = len(med)
    if not net.has_events or "delay_hours" not in net.event_columns:
        e = net.edges
        med = np.full(n, np.nan)
        p = net.node_ids.get_indexer(e["provider"].to_numpy(dtype=object))
        dm = e.groupby(p)["delay_median"].median()
        med[dm.index.to_numpy()] = dm.to_numpy()
    lm = np.log1p(med)
    # peers = providers of the same service when there are at least 3, else everybody
    size = pd.Series(group).map(pd.Series(group).value_counts()).to_numpy()
    has = np.isfinite(lm)
    group = np.where((size >= 3) & has, group, "\0all")
    df = pd.DataFrame({"g": group, "lm": lm})
    ctr = df.groupby("g")["lm"].transform("median")
    mad = df.assign(a=(df.lm - ctr).abs()).groupby("g")["a"].transform("median") * 1.4826
    glob = 1.4826 * np.nanmedian(np.abs(lm - np.nanmedian(lm))) if has.any() else 1.0
    scale = np.where(mad > 0, mad, glob if glob > 0 else 1.0)
    z = ((df.lm - ctr) / scale).to_numpy()
    return z, med


def bottlenecks(net, *, level: str | None = None, alpha: float = 0.85,
                min_dependence: float = 0.8, min_delay_excess: float = 3.0,
                min_delay_trend: float = 0.7, min_backlog_growth: float = 0.002,
                min_events: int = 20) -> pd.DataFrame:
    """Providers the organisation waits on: dependence × slowness, every component reported.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str, optional
        Aggregate first (``"unit"``).
    alpha : float, default 0.85
        Continuation probability of the dependence walk.
    min_dependence : float, default 0.8
        Percentile rank of dependence (0–1) a provider must reach to be flagged.
    min_delay_excess : float, default 3.0
        Robust z of log median delay among peers of the same service.
    min_delay_trend : float, default 0.7
        Log ratio of median delay, last vs first third of the data
        (0.7 ≈ delays doubled).
    min_backlog_growth : float, default 0.002
        Backlog slope per month, as a share of the monthly arrivals.
    min_events : int, default 20
        Fewer events provided: never flagged.

    Returns
    -------
    DataFrame
        One row per provider, sorted by ``score`` (descending, ties by node):
        ``node``; ``unit``; ``score`` (0–1, see Notes); ``is_bottleneck``;
        ``reason`` (plain words); ``dependence`` (share, sums to 1);
        ``structural`` (demand-weighted betweenness toward the external
        customer, events); ``utilisation`` (arrivals / completions);
        ``backlog_growth`` (per month, share of monthly arrivals);
        ``delay_trend`` (log ratio); ``waiting_share`` (share of all waiting
        hours); ``delay_excess`` (robust z); ``delay_ratio_agreed`` (median
        delay / agreed delay); ``redundancy`` (share of demand with an
        alternative provider of the same service); ``n_events``;
        ``n_clients``; ``delay_median`` (hours); ``rank``.

    Notes
    -----
    Flag rule (explicit): ``is_bottleneck`` = rank(dependence) ≥
    ``min_dependence`` **and** n_events ≥ ``min_events`` **and** either
    *overloaded* (delay_trend ≥ ``min_delay_trend`` and backlog_growth ≥
    ``min_backlog_growth``) or *slow* (delay_excess ≥ ``min_delay_excess``
    and median delay 1.5 times the agreed delay, delay_ratio_agreed > 1.5).
    Score: :math:`\\sqrt{r_{dep}\\,(1-e^{-s/2})}\\,(0.75+0.25\\,r_{str})` with
    :math:`r` percentile ranks and slowness :math:`s=\\max(z/z_{min},
    trend/trend_{min}, 0)` (the delay trend counts only while the backlog grows:
    backlog_growth > 0 and utilisation > 1).

    References
    ----------
    Leontief, W. (1936). Quantitative input and output relations in the economic
    system of the United States. *Rev. Economics and Statistics* 18, 105–125.
    Haveliwala, T. (2002). Topic-sensitive PageRank. *WWW '02*.
    Brandes, U. (2001). A faster algorithm for betweenness centrality. *J. Math.
    Sociology* 25, 163–177.
    Little, J. D. C. (1961). A proof for the queuing formula L = λW. *Operations
    Research* 9, 383–387.

    Examples
    --------
    >>> import icnet
    >>> b = icnet.bottlenecks(icnet.datasets.toy(), level="unit")
    >>> b.loc[0, "node"], list(b.columns[:4])
    ('Informatica', ['node', 'unit', 'score', 'is_bottleneck'])
    """
    net = _validate.network(net)
    net = _validate.level(net, level)
    for name, v in (("min_dependence", min_dependence), ("alpha", alpha)):
        _validate.in_range(name, v, low=0, high=1)
    _validate.in_range("min_events", min_events, low=0, integer=True)
    for name, v in (("min_delay_excess", min_delay_excess), ("min_delay_trend", min_delay_trend),
                    ("min_backlog_growth", min_backlog_growth)):
        _validate.in_range(name, v)
    params = dict(level=net.level, alpha=alpha, min_dependence=min_dependence,
                  min_delay_excess=min_delay_excess, min_delay_trend=min_delay_trend,
                  min_backlog_growth=min_backlog_growth, min_events=min_events)
    e, p, c, n = _edge_arrays(net)
    n_ev = np.bincount(p, weights=e["n_events"].to_numpy(float), minlength=n)
    n_cl = np.bincount(p, minlength=n)
    dep = dependence(net, alpha=alpha).to_numpy()
    struct = structural_betweenness(net).to_numpy()
    m = _event_measures(net, n)
    util, growth, trend, wait, ratio, red = (m[k] for k in ("util", "growth", "trend", "wait",
                                                             "ratio", "red"))
    z, med = _delay_excess(net, m["med"], m["service"])
    df = pd.DataFrame({
        "node": net.node_ids.to_numpy(dtype=object), "unit": net.nodes["unit"].to_numpy(),
        "dependence": dep, "structural": struct, "utilisation": util,
        "backlog_growth": growth, "delay_trend": trend, "waiting_share": wait,
        "delay_excess": z, "delay_ratio_agreed": ratio, "redundancy": red,
        "n_events": n_ev.astype("int64"), "n_clients": n_cl.astype("int64"),
        "delay_median": med})
    df = df[df["n_events"] > 0].reset_index(drop=True)
    pct = lambda s: s.rank(pct=True, method="average").fillna(0.0)
    growing = (df["backlog_growth"].fillna(0) > 0) & (df["utilisation"].fillna(0) > 1)
    slowness = np.maximum.reduce([df["delay_excess"].fillna(0) / min_delay_excess,
                                  np.where(growing, df["delay_trend"].fillna(0), 0)
                                  / min_delay_trend, np.zeros(len(df))])
    df["score"] = np.sqrt(pct(df["dependence"]) * (1 - np.exp(-slowness / 2))) * \
        (0.75 + 0.25 * pct(df["structural"]))
    dep_ok = pct(df["dependence"]) >= min_dependence
    # overloaded: backlog building up and delays growing; or slow: far slower than
    # peers *and* than agreed
    overloaded = (df["delay_trend"] >= min_delay_trend) & \
        (df["backlog_growth"].fillna(0) >= min_backlog_growth)
    slow = (df["delay_excess"] >= min_delay_excess) & (df["delay_ratio_agreed"] > 1.5)
    flag = dep_ok & (overloaded | slow) & (df["n_events"] >= min_events)
    df["is_bottleneck"] = flag.to_numpy(dtype=bool)
    df["reason"] = [
        (f"{share_text(d)} of the dependence of the external-facing units reaches it; "
         f"delays {np.exp(tr):.1f}× longer at the end than at the start, "
         f"{ze:+.1f} robust SD vs peers; backlog growing") if f else ""
        for f, d, tr, ze in zip(flag, df["dependence"], df["delay_trend"].fillna(0),
                                df["delay_excess"].fillna(0))]
    df = df.sort_values(["score", "node"], ascending=[False, True], kind="mergesort")
    df = df.reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df = df[_COLUMNS]
    df.attrs["params"] = params
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
