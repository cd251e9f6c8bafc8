"""Experiment: peers = units (as main); Holm budget families = units merged by structural
equivalence of their client-unit profiles (cosine, average linkage, cut CUT). Events alone."""
import os, sys, warnings, numpy as np, pandas as pd, icnet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from events13_dev import nets, SC, NULL
from scipy.cluster.hierarchy import linkage, fcluster
import icnet.analysis.bottlenecks as B
CUT = float(sys.argv[3]); MAP = {}
orig = B._families
def fam(service, unit):
    f = orig(service, unit)
    return np.array([("unit-cluster: " + MAP[u]) if u in MAP else x for x, u in zip(f, unit)], dtype=object)
B._families = fam
def clusters(net):
    e = net._edges
    u = net.nodes.set_index("node")["unit"]
    pu = e["provider"].map(u).to_numpy(object); cu = e["client"].map(u).to_numpy(object)
    m = pd.crosstab(pu, cu, values=e["n_events"], aggfunc="sum").fillna(0)
    m = m.reindex(columns=sorted(set(m.columns) | set(m.index)), fill_value=0)
    M = m.to_numpy(float).copy()
    M[np.arange(len(M)), m.columns.get_indexer(m.index)] = 0
    M = M / np.maximum(M.sum(1, keepdims=True), 1)
    lab = fcluster(linkage(M, "average", metric="cosine"), CUT, criterion="distance")
    return dict(zip(m.index, map(str, lab)))
rows = []
for n in [int(x) for x in sys.argv[2].split(",")]:
    for name in SC:
        for ev, people, t, ag in nets(name, n, int(sys.argv[1])):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                net = icnet.from_events(ev, people=people)
                MAP.clear(); MAP.update(clusters(net))
                b = icnet.bottlenecks(net)
            fl = set(b.loc[b["is_bottleneck"], "node"].astype(str))
            top = set(b["node"].astype(str).head(max(1, len(t))))
            rows.append(dict(scenario=name, n=n, null=name in NULL, any_flag=bool(fl),
                             hit=bool(t) and t <= fl, topk=bool(t) and t <= fl and t <= top,
                             G=len(set(MAP.values()))))
df = pd.DataFrame(rows)
print(df.groupby(["scenario", "n"], sort=False)[["any_flag", "hit", "topk", "G"]].mean().to_string())
print("null any flag", df[df.null].any_flag.mean())
