"""Conflict cycles, the mutual-dissatisfaction dyad census, and structural balance.

See docs/methods/conflicts.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from .. import _validate
from ..errors import ParameterError

__all__ = ["conflict_cycles", "bad_edges", "dyad_census", "balance", "BalanceResult"]

_COLUMNS = ["cycle", "length", "severity", "weakest_shortfall", "n_events", "edges",
            "satisfaction_mean"]


def bad_edges(net, *, min_events: int = 5, max_breach: float = 0.5) -> pd.DataFrame:
    """The credibly bad relations: what conflict cycles are made of.

    A relation is credibly bad when it has at least ``min_events`` events and
    either its shrunk satisfaction interval lies below the neutral point
    (``sign == "bad"``) or the Wilson 95 % lower bound of its SLA breach rate
    exceeds ``max_breach``.

    Returns
    -------
    DataFrame
        The rows of ``net.edges`` that are bad, with ``shortfall`` (how far
        below neutral, in scale units, or the breach excess) and ``why``
        (``"satisfaction"`` or ``"delay"``).

    Examples
    --------
    >>> import icnet
    >>> bad_edges(icnet.datasets.toy().by("unit"))[["provider", "client", "why"]].values.tolist()
    [['Calidad', 'Produccion', 'satisfaction'], ['Informatica', 'Produccion', 'delay'], ['Produccion', 'Calidad', 'satisfaction']]
    """
    e = net.edges
    enough = e["n_events"].to_numpy() >= min_events
    sat_bad = (e["sign"] == "bad").to_numpy() & enough
    n = e["sla_n"].to_numpy(float)
    p = e["sla_breach_rate"].to_numpy(float)
    z = 1.959964
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        wilson_low = centre - half
    late_bad = (n >= min_events) & (np.nan_to_num(wilson_low, nan=0) > max_breach) & enough
    bad = sat_bad | late_bad
    out = e.loc[bad].copy()
    scale = net.scale[1] - net.scale[0]
    sat_short = (net.threshold - out["satisfaction_high"].to_numpy(float)) / scale
    late_short = np.nan_to_num(wilson_low[bad], nan=0) - max_breach
    out["shortfall"] = np.where(sat_bad[bad], sat_short, late_short)
    out["why"] = np.where(sat_bad[bad], "satisfaction", "delay")
    return out.reset_index(drop=True)


def conflict_cycles(net, *, max_length: int = 4, level: str | None = None,
                    min_events: int = 5, max_breach: float = 0.5, max_cycles: int = 5000,
                    max_paths: int = 2_000_000) -> pd.DataFrame:
    """Directed cycles of service relations that are credibly bad in every step.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
        A DiGraph needs a ``satisfaction`` edge attribute (mean) and ideally
        ``n_events``/``satisfaction_n``.
    max_length : int, default 4
        Longest cycle (2 = mutual-dissatisfaction dyads).
    level : str, optional
        Aggregate first (``"unit"``); unit-level cycles then list the
        person-level bad relations behind each step (``person_edges``).
    min_events : int, default 5
        Evidence needed for a relation to count as bad.
    max_breach : float, default 0.5
        A relation also counts as bad when the Wilson lower bound of its SLA
        breach rate exceeds this.
    max_cycles : int, default 5000
        Hard bound on cycles reported; ``attrs["truncated"]`` says if hit.
    max_paths : int, default 2,000,000
        Hard bound on open paths held while enumerating (memory guard).

    Returns
    -------
    DataFrame
        One row per cycle, sorted by ``severity`` (descending, ties by cycle):
        ``cycle`` (tuple of nodes, rotated so the smallest id comes first);
        ``length``; ``severity`` = weakest_shortfall × log(1 + n_events);
        ``weakest_shortfall`` (the smallest shortfall of its edges, see
        :func:`bad_edges`); ``n_events`` (all events on its edges); ``edges``
        (tuple of (provider, client)); ``satisfaction_mean`` (mean of the
        edges' shrunk satisfaction); plus ``person_edges`` at an aggregated
        level. ``attrs``: ``params``, ``truncated``, ``n_bad_edges``,
        ``components`` (strongly connected components of the bad-edge graph
        that were searched).

    Notes
    -----
    Cycles are enumerated one strongly connected component of the bad-edge
    graph at a time (a cycle never leaves its component), starting from each
    node *u* and extending paths only through nodes with a larger id, so each
    cycle is found exactly once; every step is vectorised over the open
    paths and the enumeration stops at ``max_cycles``/``max_paths``.

    References
    ----------
    Johnson, D. B. (1975). Finding all the elementary circuits of a directed
    graph. *SIAM J. Computing* 4, 77–84.
    Tarjan, R. (1972). Depth-first search and linear graph algorithms. *SIAM J.
    Computing* 1, 146–160.

    Examples
    --------
    >>> import icnet
    >>> icnet.conflict_cycles(icnet.datasets.toy(), level="unit").loc[0, "cycle"]
    ('Calidad', 'Produccion')
    """
    net = _validate.network(net)
    base = net
    net = _validate.level(net, level)
    _validate.in_range("max_length", max_length, low=2, integer=True)
    _validate.in_range("min_events", min_events, low=1, integer=True)
    _validate.in_range("max_cycles", max_cycles, low=1, integer=True)
    _validate.in_range("max_paths", max_paths, low=1, integer=True)
    _validate.in_range("max_breach", max_breach, low=0, high=1)
    params = dict(max_length=max_length, level=net.level, min_events=min_events,
                  max_breach=max_breach, max_cycles=max_cycles, max_paths=max_paths)
    bad = bad_edges(net, min_events=min_events, max_breach=max_breach)
    ids = net.node_ids
    p = ids.get_indexer(bad["provider"].to_numpy(dtype=object))
    c = ids.get_indexer(bad["client"].to_numpy(dtype=object))
    n = len(ids)
    cycles, truncated, n_comp = _enumerate(p, c, n, max_length, max_cycles, max_paths)
    key = p.astype(np.int64) * n + c
    order = np.argsort(key)
    key_sorted = key[order]
    rows = []
    names = ids.to_numpy(dtype=object)
    short = bad["shortfall"].to_numpy(float)
    nev = bad["n_events"].to_numpy(float)
    shr = bad["satisfaction_shrunk"].to_numpy(float)
    for cyc in cycles:
        a = np.asarray(cyc, dtype=np.int64)
        k = a * n + np.roll(a, -1)
        pos = order[np.searchsorted(key_sorted, k)]
        weakest = float(short[pos].min())
        tot = float(nev[pos].sum())
        rows.append({"cycle": tuple(names[a]), "length": len(a),
                     "severity": weakest * np.log1p(tot), "weakest_shortfall": weakest,
                     "n_events": int(tot),
                     "edges": tuple(zip(names[a], names[np.roll(a, -1)])),
                     "satisfaction_mean": float(np.nanmean(shr[pos]))
                     if np.isfinite(shr[pos]).any() else np.nan})
    out = pd.DataFrame(rows, columns=_COLUMNS)
    if len(out):
        out["_k"] = out["cycle"].map(lambda t: "\x00".join(t))
        out = out.sort_values(["severity", "_k"], ascending=[False, True], kind="mergesort")
        out = out.drop(columns="_k").reset_index(drop=True)
    if net is not base and net.level != "person" and base.level == "person":
        out["person_edges"] = _person_edges(base, net, out, min_events, max_breach) \
            if len(out) else pd.Series([], dtype=object)
    out.attrs.update(params=params, truncated=truncated, n_bad_edges=len(bad),
                     components=n_comp)
    return out


def _enumerate(p, c, n, max_length, max_cycles, max_paths):
    """Elementary cycles of length 2..max_length with the smallest node first."""
    if len(p) == 0:
        return [], False, 0
    A = sparse.csr_matrix((np.ones(len(p)), (p, c)), shape=(n, n))
    A.sum_duplicates()
    n_comp, lab = csgraph.connected_components(A, directed=True, connection="strong")
    same = lab[p] == lab[c]
    size = np.bincount(lab)
    keep = same & (size[lab[p]] > 1)
    A = sparse.csr_matrix((np.ones(keep.sum()), (p[keep], c[keep])), shape=(n, n))
    indptr, indices = A.indptr, A.indices
    edge_key = np.sort(p[keep].astype(np.int64) * n + c[keep])
    starts = np.unique(p[keep])
    cycles: list = []
    truncated = False
    searched = len(np.unique(lab[p[keep]])) if keep.any() else 0
    for u in starts:                      # loop over nodes, vectorised over paths
        paths = np.array([[u]], dtype=np.int64)
        for length in range(2, max_length + 1):
            last = paths[:, -1]
            deg = indptr[last + 1] - indptr[last]
            if deg.sum() > max_paths:
                truncated = True
                break
            rep = np.repeat(np.arange(len(paths)), deg)
            first = np.repeat(indptr[last] - (np.cumsum(deg) - deg), deg)
            nxt = indices[np.arange(deg.sum()) + first]
            ext = nxt > u
            ext &= ~(paths[rep] == nxt[:, None]).any(axis=1)
            paths = np.hstack([paths[rep[ext]], nxt[ext, None]])
            if len(paths) == 0:
                break
            # close the cycle: an edge back to u
            k = paths[:, -1] * n + u
            hit = np.isin(k, edge_key)
            for row in paths[hit]:
                cycles.append(tuple(int(x) for x in row))
                if len(cycles) >= max_cycles:
                    return cycles, True, searched
        if truncated:
            break
    return cycles, truncated, searched


def _person_edges(base, net, out, min_events, max_breach):
    """For each unit-level cycle, the person-level bad relations behind its steps."""
    pb = bad_edges(base, min_events=min_events, max_breach=max_breach)
    unit = base.nodes.set_index("node")["unit"]
    pb = pb.assign(pu=pb["provider"].map(unit).to_numpy(), cu=pb["client"].map(unit).to_numpy())
    by_pair = {k: tuple(zip(g["provider"], g["client"]))
               for k, g in pb.groupby(["pu", "cu"], sort=True)}
    return [tuple(x for step in edges for x in by_pair.get(step, ())) for edges in out["edges"]]


def dyad_census(net, *, min_events: int = 5, max_breach: float = 0.5, n_null: int = 200,
                seed=0, level: str | None = None) -> pd.DataFrame:
    """Mutual, asymmetric and null dyads of the bad-edge graph, against a degree-preserving null.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    n_null : int, default 200
        Randomised graphs (directed edge swaps keeping every node's in- and
        out-degree; ``10 × edges`` swaps each).
    seed : int or Generator

    Returns
    -------
    DataFrame
        One row per dyad type (``mutual``, ``asymmetric``, ``null``):
        ``observed``, ``expected`` (null mean), ``sd``, ``z``, ``p`` (upper
        tail, ``(1 + #null ≥ observed)/(1 + n_null)``).

    References
    ----------
    Holland, P. W. & Leinhardt, S. (1970). A method for detecting structure in
    sociometric data. *Am. J. Sociology* 76, 492–513.

    Examples
    --------
    >>> import icnet
    >>> d = dyad_census(icnet.datasets.toy(), n_null=20)
    >>> int(d.set_index("dyad").loc["mutual", "observed"])
    2
    """
    import networkx as nx

    net = _validate.level(_validate.network(net), level)
    _validate.in_range("n_null", n_null, low=1, integer=True)
    rng = _validate.rng(seed)
    bad = bad_edges(net, min_events=min_events, max_breach=max_breach)
    n = len(net.node_ids)
    pairs = set(zip(bad["provider"], bad["client"]))

    def census(edge_set):
        m = sum(1 for (a, b) in edge_set if (b, a) in edge_set) // 2
        a = len(edge_set) - 2 * m
        return m, a, n * (n - 1) // 2 - m - a

    obs = census(pairs)
    null = np.zeros((n_null, 3))
    if len(pairs) >= 2:
        g = nx.DiGraph(list(pairs))
        for i in range(n_null):
            h = g.copy()
            try:
                nx.directed_edge_swap(h, nswap=10 * len(pairs), max_tries=100 * len(pairs),
                                      seed=int(rng.integers(2**31)))
            except (nx.NetworkXError, nx.NetworkXAlgorithmError):
                pass  # too few swappable edges: the graph stays as it is
            null[i] = census(set(h.edges()))
    else:
        null[:] = obs
    exp, sd = null.mean(axis=0), null.std(axis=0, ddof=1) if n_null > 1 else np.zeros(3)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 0, (np.array(obs) - exp) / sd, np.nan)
    pv = (1 + (null >= np.array(obs)).sum(axis=0)) / (1 + n_null)
    out = pd.DataFrame({"dyad": ["mutual", "asymmetric", "null"], "observed": obs,
                        "expected": exp, "sd": sd, "z": z, "p": pv})
    out.attrs["params"] = dict(min_events=min_events, max_breach=max_breach, n_null=n_null,
                               level=net.level)
    return out


@dataclass(frozen=True)
class BalanceResult:
    """Result of :func:`balance`.

    Attributes
    ----------
    camps : DataFrame
        ``node``, ``camp`` (0 or 1).
    frustrated : DataFrame
        The signed relations that violate balance: ``a``, ``b``, ``sign``.
    frustration : int
        The line index of imbalance (number of frustrated relations).
    optimal : bool
        Proven optimal (exact MILP finished within the time limit).
    method : str
        ``"exact"`` or ``"heuristic"``.
    """

    camps: pd.DataFrame
    frustrated: pd.DataFrame
    frustration: int
    optimal: bool
    method: str


def signed_pairs(net) -> pd.DataFrame:
    """Undirected signed relations from the credible sign of each direction.

    Rule: a pair is negative when either direction is credibly bad; positive
    when at least one direction is credibly good and none is bad; pairs with
    only uncertain directions are left out.

    Examples
    --------
    >>> import icnet
    >>> sp = signed_pairs(icnet.datasets.toy().by("unit"))
    >>> sp.set_index(["a", "b"]).loc[("Calidad", "Produccion"), "sign"].item()
    -1
    """
    e = net.edges
    s = e[e["sign"].isin(["good", "bad"])][["provider", "client", "sign"]]
    a = np.where(s["provider"] < s["client"], s["provider"], s["client"])
    b = np.where(s["provider"] < s["client"], s["client"], s["provider"])
    d = pd.DataFrame({"a": a, "b": b, "neg": (s["sign"] == "bad").to_numpy()})
    g = d.groupby(["a", "b"], sort=True)["neg"].any().reset_index()
    g["sign"] = np.where(g["neg"], -1, 1)
    return g[["a", "b", "sign"]]


def balance(net, *, level: str | None = None, time_limit: float = 10.0,
            method: str = "auto", max_exact_edges: int = 3000, seed=0,
            edges: pd.DataFrame | None = None) -> BalanceResult:
    """Frustration index (line index of imbalance) and the two camps of the signed network.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str, optional
    time_limit : float, default 10
        Seconds for the exact solver (HiGHS via ``scipy.optimize.milp``).
    method : {"auto", "exact", "heuristic"}
        ``"auto"`` solves exactly up to ``max_exact_edges`` signed relations,
        otherwise uses the heuristic.
    seed : int or Generator
        For the heuristic's random restarts.
    edges : DataFrame, optional
        A signed edge list ``a``, ``b``, ``sign`` (±1) to use instead of the
        network's credible signs (e.g. a published signed network).

    Returns
    -------
    BalanceResult

    Notes
    -----
    Binary camp :math:`x_i` per node and frustration :math:`f_{ij}` per
    relation; minimise :math:`\\sum f_{ij}` subject to
    :math:`f_{ij}\\ge x_i-x_j,\\ f_{ij}\\ge x_j-x_i` for positive and
    :math:`f_{ij}\\ge x_i+x_j-1,\\ f_{ij}\\ge 1-x_i-x_j` for negative
    relations (Aref, Mason & Wilson 2018), one node fixed to break the
    symmetry. The heuristic is a multi-start greedy local search (move the
    node whose switch removes most frustration until no move helps), an
    upper bound on the index.

    References
    ----------
    Harary, F. (1953). On the notion of balance of a signed graph. *Michigan
    Math. J.* 2, 143–146.
    Aref, S., Mason, A. J. & Wilson, M. C. (2018). Computing the line index of
    balance using integer programming optimisation. *Optimization Problems in
    Graph Theory*, 65–84.

    Examples
    --------
    >>> import pandas as pd
    >>> tri = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"], "sign": [-1, -1, -1]})
    >>> balance(None, edges=tri).frustration
    1
    """
    _validate.one_of("method", method, ["auto", "exact", "heuristic"])
    _validate.in_range("time_limit", time_limit, low=0, low_inclusive=False)
    rng = _validate.rng(seed)
    if edges is None:
        net = _validate.level(_validate.network(net), level)
        edges = signed_pairs(net)
    else:
        miss = [c for c in ("a", "b", "sign") if c not in edges]
        if miss:
            raise ParameterError(f"balance: the edges table needs columns a, b, sign; "
                                 f"missing {miss}.")
    nodes = np.unique(np.r_[edges["a"].to_numpy(dtype=object), edges["b"].to_numpy(dtype=object)])
    idx = pd.Index(nodes)
    a = idx.get_indexer(edges["a"].to_numpy(dtype=object))
    b = idx.get_indexer(edges["b"].to_numpy(dtype=object))
    s = np.sign(edges["sign"].to_numpy(float)).astype(int)
    if len(nodes) == 0:
        return BalanceResult(pd.DataFrame(columns=["node", "camp"]),
                             pd.DataFrame(columns=["a", "b", "sign"]), 0, True, "exact")
    use_exact = method == "exact" or (method == "auto" and len(s) <= max_exact_edges)
    x, optimal, used = None, False, "heuristic"
    if use_exact:
        x, optimal = _milp(len(nodes), a, b, s, time_limit)
        used = "exact" if x is not None else "heuristic"
    if x is None:
        x = _local_search(len(nodes), a, b, s, rng)
    frus = _frustrated(x, a, b, s)
    camps = pd.DataFrame({"node": nodes, "camp": x.astype(int)})
    fr = edges.loc[frus, ["a", "b", "sign"]].reset_index(drop=True)
    return BalanceResult(camps, fr, int(frus.sum()), bool(optimal), used)


def _frustrated(x, a, b, s):
    same = x[a] == x[b]
    return np.where(s > 0, ~same, same)


def _milp(n, a, b, s, time_limit):
    from scipy.optimize import Bounds, LinearConstraint, milp

    m = len(s)
    # variables: x (n), f (m)
    cobj = np.r_[np.zeros(n), np.ones(m)]
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    for k in range(m):
        i, j = a[k], b[k]
        if s[k] > 0:   # f >= x_i - x_j  and  f >= x_j - x_i
            for (si, sj) in ((1, -1), (-1, 1)):
                rows += [r, r, r]; cols += [n + k, i, j]; vals += [1, -si, -sj]
                lo.append(0); hi.append(np.inf); r += 1
        else:          # f >= x_i + x_j - 1  and  f >= 1 - x_i - x_j
            rows += [r, r, r]; cols += [n + k, i, j]; vals += [1, -1, -1]
            lo.append(-1); hi.append(np.inf); r += 1
            rows += [r, r, r]; cols += [n + k, i, j]; vals += [1, 1, 1]
            lo.append(1); hi.append(np.inf); r += 1
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(r, n + m))
    lb = np.zeros(n + m)
    ub = np.ones(n + m)
    lb[0] = ub[0] = 1  # break the symmetry
    res = milp(cobj, constraints=LinearConstraint(A, lo, hi), integrality=np.ones(n + m),
               bounds=Bounds(lb, ub), options={"time_limit": float(time_limit)})
    if res.x is None:
        return None, False
    return np.round(res.x[:n]).astype(int), res.status == 0


def _local_search(n, a, b, s, rng, restarts: int = 20):
    best, best_f = None, np.inf
    for _ in range(restarts):
        x = rng.integers(0, 2, n)
        while True:
            frus = _frustrated(x, a, b, s)
            # gain of flipping node v: frustrated incident edges − satisfied incident edges
            inc = np.bincount(a, weights=np.where(frus, 1, -1), minlength=n) + \
                np.bincount(b, weights=np.where(frus, 1, -1), minlength=n)
            v = int(np.argmax(inc))
            if inc[v] <= 0:
                break
            x[v] = 1 - x[v]
        f = _frustrated(x, a, b, s).sum()
        if f < best_f:
            best, best_f = x.copy(), f
    return best
