"""episodes14 diagnosis (#18): for each planted pair of a spiral scenario on development
seeds, the change test's internal columns on which the kind was decided (each direction's
p of change, drop onset/end in days from the planted onset, overlap "close", events of the
later side between the onsets, chain rounds, p_turn, pooled p), read by wrapping
spirals._finish (the detector itself never reads the truth; this script compares after).

Run: PYTHONPATH=src python benchmarks/episodes14_diagnose.py SCENARIO N SEED1,SEED2,... OUT.csv
"""
# internal columns of the decision for planted pairs: why not spiral
import sys, numpy as np, pandas as pd
from icnet.validity.scenarios import SCENARIOS
import icnet
from icnet.analysis import spirals as S
scen, n, seeds = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
cap = {}
orig = S._finish
def fin(net, table, t0, alpha, params):
    cap["table"] = table.copy(); cap["ids"] = net.node_ids.to_numpy(dtype=object)
    return orig(net, table, t0, alpha, params)
S._finish = fin
rows = []
for seed in seeds:
    sc = SCENARIOS[scen].build(n, seed)
    res = icnet.retaliation_spirals(sc.network(), seed=seed, n_perm=199)
    tab = cap["table"]; ids = cap["ids"]; N = len(ids)
    tab = tab[tab.tested]
    a = ids[tab.pair.to_numpy() // N]; b = ids[tab.pair.to_numpy() % N]
    key = {tuple(sorted((str(x), str(y)))): i for i, (x, y) in enumerate(zip(a, b))}
    kmap = {tuple(sorted((str(x), str(y)))): k for x, y, k in zip(res.a, res.b, res.kind)}
    for r in sc.truth["spirals"].itertuples():
        k = tuple(sorted((str(r.a), str(r.b))))
        i = key.get(k)
        if i is None: rows.append(dict(seed=seed, kind=kmap.get(k, "absent"))); continue
        t = tab.iloc[i]
        to = (r.onset - pd.Timestamp("2025-01-01")) / pd.Timedelta(days=1)
        c = lambda s: t[s]
        close = (c("onset_ab") <= c("stop_ba") + 45) & (c("onset_ba") <= c("stop_ab") + 45)
        rows.append(dict(seed=seed, kind=kmap[k], pc_ab=c("pc_ab"), pc_ba=c("pc_ba"),
            on_ab=c("onset_ab") - to, st_ab=c("stop_ab") - to, on_ba=c("onset_ba") - to,
            st_ba=c("stop_ba") - to, close=close, between=c("between"), contrast=c("contrast"),
            rounds=c("rounds"), p_turn=c("p_turn"), pc_pool=c("pc_pool")))
pd.DataFrame(rows).to_csv(sys.argv[4], index=False)
