"""Balance p-value under random signs on the validity suite's service graphs (issue #21).

    python benchmarks/balance_null.py 100 99      # organisations, permutations each
"""
import sys, time, warnings, numpy as np, pandas as pd
warnings.filterwarnings("ignore")
import icnet
from icnet.validity import scenarios
R = int(sys.argv[1]); n_perm = int(sys.argv[2])
ps, t0 = [], time.time()
for s in range(R):
    d = scenarios.generate("baseline", n_people=60, seed=500 + s)
    e = d.network().edges
    a, b = e["provider"].astype(str).to_numpy(), e["client"].astype(str).to_numpy()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs = pd.DataFrame({"a": lo, "b": hi}).drop_duplicates().reset_index(drop=True)
    rng = np.random.default_rng(s)
    pairs["sign"] = np.where(rng.random(len(pairs)) < 0.3, -1, 1)
    r = icnet.balance(None, edges=pairs, n_perm=n_perm, seed=s, time_limit=5)
    ps.append(r.p_value)
ps = np.array(ps)
from scipy import stats
print(f"R={R} n_perm={n_perm} relations~{len(pairs)} t={time.time()-t0:.0f}s")
for q in (0.05, 0.1, 0.25, 0.5):
    print(f"P(p <= {q}) = {np.mean(ps <= q):.3f}")
print("KS vs U(0,1):", stats.kstest(ps, "uniform"))
