"""events13 experiments (issue #19): units grouped by structural equivalence — similar
profiles of the client units they serve (Lorrain & White 1971; Burt 1976; cosine distance,
average linkage, cut at CUT) — as bottleneck peers, as the slow budget's families, and the
clusters' purity against the units' function. Events alone (service, satisfaction and
agreements dropped; see events13_dev.py). None was adopted: docs/methods/bottlenecks.md,
"Events alone (events13)"; printed tables in bottlenecks_events13.txt §3, §4 and §6.

    PYTHONPATH=src python benchmarks/events13_structural.py peers 40 150 0.5
    PYTHONPATH=src python benchmarks/events13_structural.py families 40 600 0.5
    PYTHONPATH=src python benchmarks/events13_structural.py purity
"""
import os
import sys
import warnings

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage

import icnet
import icnet.analysis.bottlenecks as B

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from events13_dev import NULL, SC, nets  # noqa: E402


def unit_profiles(net):
    """Each provider unit's share of its events to each client unit (its own unit out)."""
    e = net.edges
    unit = net.nodes.set_index("node")["unit"]
    m = pd.crosstab(e["provider"].map(unit).to_numpy(object),
                    e["client"].map(unit).to_numpy(object),
                    values=e["n_events"], aggfunc="sum").fillna(0)
    m = m.reindex(columns=sorted(set(m.columns) | set(m.index)), fill_value=0)
    M = m.to_numpy(float).copy()
    M[np.arange(len(M)), m.columns.get_indexer(m.index)] = 0
    return m.index, M / np.maximum(M.sum(1, keepdims=True), 1)


def unit_clusters(net, cut):
    """Unit → cluster label (str), from the units' client profiles."""
    units, M = unit_profiles(net)
    lab = fcluster(linkage(M, "average", metric="cosine"), cut, criterion="distance")
    return pd.Series(lab, index=units).astype(str)


def _score(mode, seeds, sizes, cut):
    orig = B._families
    clusters = {}

    def families(service, unit):      # the budget's families: clusters of units
        f = orig(service, unit)
        return np.array([f"unit-cluster: {clusters[u]}" if u in clusters else x
                         for x, u in zip(f, unit)], dtype=object)

    rows = []
    for n in sizes:
        for name in SC:
            for ev, people, t, _ in nets(name, n, seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    net = icnet.from_events(ev, people=people)
                    cl = unit_clusters(net, cut)
                    if mode == "peers":      # merged units as the peers
                        name_of = cl.groupby(cl).transform(lambda s: "+".join(sorted(s.index)))
                        p2 = people.assign(unit=people["unit"].map(name_of)
                                           .fillna(people["unit"]))
                        b = icnet.bottlenecks(icnet.from_events(ev, people=p2))
                    else:                    # units as peers, clusters as families
                        clusters.clear()
                        clusters.update(cl.to_dict())
                        B._families = families
                        try:
                            b = icnet.bottlenecks(net)
                        finally:
                            B._families = orig
                fl = set(b.loc[b["is_bottleneck"], "node"].astype(str))
                top = set(b["node"].astype(str).head(max(1, len(t))))
                rows.append(dict(scenario=name, n=n, null=name in NULL, any_flag=bool(fl),
                                 hit=bool(t) and t <= fl,
                                 topk=bool(t) and t <= fl and t <= top, G=cl.nunique()))
    df = pd.DataFrame(rows)
    cols = ["any_flag", "hit", "topk"] + (["G"] if mode == "families" else [])
    print(df.groupby(["scenario", "n"], sort=False)[cols].mean().to_string())
    print("null any flag", df[df.null].any_flag.mean())


def _purity():
    for n in (150, 600):
        for ev, people, _, _ in nets("deep_chain", n, 40)[:2]:
            net = icnet.from_events(ev, people=people)
            units, M = unit_profiles(net)
            func = pd.Series(units).str.replace(r"\d+$", "", regex=True)
            for cut in (0.3, 0.5, 0.7):
                lab = fcluster(linkage(M, "average", metric="cosine"), cut,
                               criterion="distance")
                df = pd.DataFrame({"f": func, "c": lab})
                pur = df.groupby("c")["f"].agg(lambda s: s.value_counts().iloc[0] / len(s))
                nf = df.groupby("f")["c"].nunique()
                print(n, cut, "clusters", len(pur), "units", len(df), "impure clusters",
                      (pur < 1).sum(), "funcs split", (nf > 1).sum())


if __name__ == "__main__":
    if sys.argv[1] == "purity":
        _purity()
    else:
        _score(sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")],
               float(sys.argv[4]))
