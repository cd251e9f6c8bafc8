"""Experiment: peers = units merged by structural equivalence of their client-unit profiles
(Lorrain & White 1971; cosine, average linkage, cut CUT), events alone."""
import os, sys, warnings, numpy as np, pandas as pd, icnet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from events13_dev import nets, SC, NULL
from scipy.cluster.hierarchy import linkage, fcluster
CUT = float(sys.argv[3])
def merged(net, people):
    e = net._edges
    u = net.nodes.set_index("node")["unit"]
    pu = e["provider"].map(u).to_numpy(object); cu = e["client"].map(u).to_numpy(object)
    m = pd.crosstab(pu, cu, values=e["n_events"], aggfunc="sum").fillna(0)
    m = m.reindex(columns=sorted(set(m.columns) | set(m.index)), fill_value=0)
    M = m.to_numpy(float).copy()
    M[np.arange(len(M)), m.columns.get_indexer(m.index)] = 0
    M = M / np.maximum(M.sum(1, keepdims=True), 1)
    lab = fcluster(linkage(M, "average", metric="cosine"), CUT, criterion="distance")
    cl = pd.Series(lab, index=m.index).astype(str)
    name = cl.groupby(cl).transform(lambda s: "+".join(sorted(s.index)))
    p2 = people.copy()
    p2["unit"] = p2["unit"].map(name).fillna(p2["unit"])
    return p2
rows = []
for n in [int(x) for x in sys.argv[2].split(",")]:
    for name in SC:
        for ev, people, t, ag in nets(name, n, int(sys.argv[1])):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                net = icnet.from_events(ev, people=people)
                b = icnet.bottlenecks(icnet.from_events(ev, people=merged(net, people)))
            fl = set(b.loc[b["is_bottleneck"], "node"].astype(str))
            top = set(b["node"].astype(str).head(max(1, len(t))))
            rows.append(dict(scenario=name, n=n, null=name in NULL, any_flag=bool(fl),
                             hit=bool(t) and t <= fl, topk=bool(t) and t <= fl and t <= top))
df = pd.DataFrame(rows)
print(df.groupby(["scenario", "n"], sort=False)[["any_flag", "hit", "topk"]].mean().to_string())
print("null any flag", df[df.null].any_flag.mean())
