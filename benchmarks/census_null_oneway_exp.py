"""census7 experiment (kept for the record): the "providers" null against null="detectability"
(covariate -1/sqrt(n_events); fitted on all relations and on one-way relations only) on the
census_null.py threshold-4.0 organisations. python benchmarks/census_null_oneway_exp.py ORGS
PEOPLE [FIRST]; writes /tmp/census7_exp3_PEOPLE_FIRST.csv (copies in
benchmarks/census_null_census7_oneway_exp_*.csv)."""
import sys, warnings, time
import numpy as np, pandas as pd
from scipy import stats
from icnet.analysis import conflicts as C
from icnet.validity import scenarios
from icnet.validity.scoreboard import wilson
warnings.filterwarnings("ignore")
R = int(sys.argv[1]); npp = int(sys.argv[2]); off = int(sys.argv[3]) if len(sys.argv) > 3 else 0
orig_slope = C._detectability_slope
def strat_perm(es, ed, n, cell, y, nd, rng):
    pa, pb = C._reciprocal(es, ed, n)
    k = np.bincount(cell, y, cell.max() + 1).astype(np.int64)
    start = np.searchsorted(np.sort(cell), cell)
    keep = k[cell] + start
    order = np.argsort(cell[None, :] + rng.random((nd, len(es))), axis=1)
    pos = np.empty_like(order); np.put_along_axis(pos, order, np.arange(len(es))[None, :], axis=1)
    ch = pos < keep[None, :]
    return (ch[:, pa] & ch[:, pb]).sum(axis=1)
rows = {k: [] for k in ["providers", "cb_invsqrt", "cb_oneway"]}
bs_, t0 = [], time.time()
for s in range(off, off + R):
    d = scenarios.generate("baseline", n_people=npp, seed=700 + s)
    rng = np.random.default_rng(s)
    net = d.network(threshold=4.0)
    ids = net.node_ids; n = len(ids)
    e = net.edges[(net.edges["provider"] != net.edges["client"]).to_numpy()]
    es = ids.get_indexer(e["provider"].to_numpy(dtype=object)).astype(np.int64)
    ed = ids.get_indexer(e["client"].to_numpy(dtype=object)).astype(np.int64)
    ok = e["n_events"].to_numpy(float) >= 5
    bad = C._bad_edges(net, 5, 0.5); bad = bad[(bad["provider"] != bad["client"]).to_numpy()]
    bs = ids.get_indexer(bad["provider"].to_numpy(dtype=object)).astype(np.int64)
    bd = ids.get_indexer(bad["client"].to_numpy(dtype=object)).astype(np.int64)
    M = int(C._mutual(bs[None], bd[None], n)[0])
    es2, ed2 = es[ok], ed[ok]; ev = e["n_events"].to_numpy(float)[ok]
    y = np.isin(es2 * n + ed2, bs * n + bd)
    def mp(dr):
        return ((dr > M).sum() + 0.5 * ((dr == M).sum() + 1)) / (len(dr) + 1)
    rows["providers"].append(mp(C._provider_null(es2, ed2, n, np.bincount(bs, minlength=n), 999, rng)))
    dr, b = C._detectability_null(es2, ed2, ev, y, n, 999, rng)
    rows["cb_invsqrt"].append(mp(dr))
    dr, b = C._detectability_null(es2, ed2, ev, y, n, 999, rng, fit_one_way=True)
    rows["cb_oneway"].append(mp(dr)); bs_.append(b)
print(f"{R} orgs x {npp}, {time.time()-t0:.0f}s, b mean {np.mean(bs_):.2f}")
for k, ps in rows.items():
    ps = np.array(ps); c = []
    for a in (0.01, 0.05, 0.10):
        x = int((ps <= a).sum()); lo, hi = wilson(x, R); c.append(f"{x/R:.3f} [{lo:.3f}, {hi:.3f}]")
    ks = stats.kstest(ps, "uniform")
    print(f"| {k} | " + " | ".join(c) + f" | {ks.statistic:.3f} ({ks.pvalue:.2g}) |")
pd.DataFrame(rows).to_csv(f"/tmp/census7_exp3_{npp}_{off}.csv", index=False)
