"""Purity of the structural-equivalence unit clusters (client-unit profiles, cosine, average
linkage) against the units' function (unit name without its number), 2 deep_chain dev organisations."""
import os, sys, warnings, numpy as np, pandas as pd, icnet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from events13_dev import nets
from scipy.cluster.hierarchy import linkage, fcluster
from scipy.spatial.distance import pdist
for n in (150, 600):
  for ev, people, t, ag in nets("deep_chain", n, 40)[:2]:
    net = icnet.from_events(ev, people=people)
    e = net._edges
    u = net.nodes.set_index("node")["unit"]
    pu = e["provider"].map(u).to_numpy(object); cu = e["client"].map(u).to_numpy(object)
    m = pd.crosstab(pu, cu, values=e["n_events"], aggfunc="sum").fillna(0)
    m = m.reindex(columns=sorted(set(m.columns) | set(m.index)), fill_value=0)
    M = m.to_numpy(float).copy()
    idx = m.columns.get_indexer(m.index)
    M[np.arange(len(M)), idx] = 0
    M = M / np.maximum(M.sum(1, keepdims=True), 1)
    for cut in (0.3, 0.5, 0.7):
        lab = fcluster(linkage(M, "average", metric="cosine"), cut, criterion="distance")
        func = pd.Series(m.index).str.replace(r"\d+$", "", regex=True)
        # purity
        df = pd.DataFrame({"f": func, "c": lab})
        pur = df.groupby("c")["f"].agg(lambda s: s.value_counts().iloc[0] / len(s))
        nf = df.groupby("f")["c"].nunique()
        print(n, cut, "clusters", len(pur), "units", len(df), "impure clusters", (pur < 1).sum(), "funcs split", (nf > 1).sum())
