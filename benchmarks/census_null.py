"""Calibration of dyad_census's "more mutual than chance" under random badness (issue #21).

    python benchmarks/census_null.py threshold 4.0 200 60   # mode, value, organisations, people
    python benchmarks/census_null.py relabel 0.2 200 60
    python benchmarks/census_null.py threshold 4.0 800 60 400   # organisations 400..1199
    python benchmarks/census_null.py threshold 4.0 800 60 0 /tmp/p.csv   # + p-values per org

``threshold T``: validity-suite ``baseline`` organisations read with the neutral point moved
to T (``from_events(threshold=T)``), so that many relations are credibly "bad" while badness
stays independent between the two directions of a pair (relation and provider quality are
drawn per relation / per provider). The suite's own baseline (neutral 3) has almost no bad
relation (m = 0 in 85 % of 60-people organisations), where the test cannot reject at all.
``relabel f``: "bad" put on a random share f of the relations that could be judged (>= 5
events) of the same organisations: the exact null.

Prints P(p <= 0.01 / 0.05 / 0.10) with Wilson 95 % intervals and the Kolmogorov-Smirnov
distance to the uniform for three p-values of the mutual count: the service-graph null over
all relations (icnet before #21 point 3 was re-measured), over the relations with >= 5
events (the default now), and the randomised p over the latter (a U(0,1) draw spreads the
probability of the observed count; exactly uniform under the null, Lancaster 1961).
"""
import sys
import time
import warnings

import numpy as np
from scipy import stats

import icnet
from icnet.analysis import conflicts as C
from icnet.validity import scenarios
from icnet.validity.scoreboard import wilson

warnings.filterwarnings("ignore")
mode, value, R, n_people = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
offset = int(sys.argv[5]) if len(sys.argv) > 5 else 0     # first organisation (seed 700 + it)
rows, t0 = {"all": [], "eligible": [], "randomised": [], "providers": [],
            "providers, detectability": [], "detectability (CB, library)": [],
            "providers, randomised": [], "detectability (CB), randomised": [],
            "detectability (CB, log events)": []}, time.time()


def _logit_fit(x, y, steps=25):
    """Logistic regression of y on (1, x) by Newton's method: the fitted probabilities."""
    X = np.column_stack([np.ones(len(x)), x])
    b = np.zeros(2)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ b))
        H = X.T @ (X * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        b = b + np.linalg.solve(H, X.T @ (y - p))
    return np.clip(1 / (1 + np.exp(-X @ b)), 1e-6, 1 - 1e-6)


def _weighted_provider_null(es, ed, n, k_p, w, n_null, rng):
    """Like conflicts._provider_null, but each provider's k_p bad relations drawn with
    probabilities proportional to w (successive sampling: exponential keys / w)."""
    pa, pb = C._reciprocal(es, ed, n)
    E = len(es)
    start = np.searchsorted(np.sort(es), es)
    keep = k_p[es] + start
    t = rng.exponential(size=(n_null, E)) / w[None, :]
    order = np.argsort(es[None, :] + t / (1 + t), axis=1)
    pos = np.empty((n_null, E), np.int64)
    np.put_along_axis(pos, order, np.arange(E)[None, :], axis=1)
    chosen = pos < keep[None, :]
    return (chosen[:, pa] & chosen[:, pb]).sum(axis=1)
ms, Ms = [], []
for s in range(offset, offset + R):
    d = scenarios.generate("baseline", n_people=n_people, seed=700 + s)
    rng = np.random.default_rng(s)
    if mode == "threshold":
        net = d.network(threshold=value)
    else:
        net = d.network()
    ids = net.node_ids
    n = len(ids)
    e = net.edges[(net.edges["provider"] != net.edges["client"]).to_numpy()]
    es = ids.get_indexer(e["provider"].to_numpy(dtype=object)).astype(np.int64)
    ed = ids.get_indexer(e["client"].to_numpy(dtype=object)).astype(np.int64)
    ok = e["n_events"].to_numpy(float) >= 5
    if mode == "threshold":
        bad = C._bad_edges(net, 5, 0.5)
        bad = bad[(bad["provider"] != bad["client"]).to_numpy()]
        bs = ids.get_indexer(bad["provider"].to_numpy(dtype=object)).astype(np.int64)
        bd = ids.get_indexer(bad["client"].to_numpy(dtype=object)).astype(np.int64)
    else:
        idx = np.flatnonzero(ok)
        pick = rng.choice(idx, int(round(value * len(idx))), replace=False)
        bs, bd = es[pick], ed[pick]
    m = len(bs)
    M = int(C._mutual(bs[None], bd[None], n)[0])
    ms.append(m)
    Ms.append(M)
    for name, sel in (("all", np.ones(len(es), bool)), ("eligible", ok)):
        _, _, gt, eq, _, _ = C._relabel_test(es[sel], ed[sel], n, m, M, 199, rng)
        rows[name].append(gt + 0.5 * eq)
        if name == "eligible":
            rows["randomised"].append(gt + rng.random() * eq)
            chosen = np.zeros(n * n, bool)
            chosen[bs * n + bd] = True
            k_p = np.bincount(es[ok], weights=chosen[es[ok] * n + ed[ok]], minlength=n)
            draws = C._provider_null(es[ok], ed[ok], n, k_p.astype(np.int64), 999, rng)
            gt, eq = (draws > M).sum() / 1000, ((draws == M).sum() + 1) / 1000
            rows["providers"].append(gt + 0.5 * eq)
            prov_gt_eq = gt, eq
            # detectability: each relation's chance of being called bad from its number of
            # events (logistic fit over the judged relations), odds as sampling weights
            y = chosen[es[ok] * n + ed[ok]].astype(float)
            lx = np.log(e["n_events"].to_numpy(float)[ok])
            pi = _logit_fit(lx - lx.mean(), y) if 0 < y.sum() < len(y) else np.full(len(y), 0.5)
            draws = _weighted_provider_null(es[ok], ed[ok], n, k_p.astype(np.int64),
                                            pi / (1 - pi), 999, rng)
            gt, eq = (draws > M).sum() / 1000, ((draws == M).sum() + 1) / 1000
            rows["providers, detectability"].append(gt + 0.5 * eq)
            # census7: the library's null="detectability" (exact conditional Bernoulli,
            # conditional-logistic slope on -n_events^(-1/2) within providers)
            draws, _ = C._detectability_null(es[ok], ed[ok], e["n_events"].to_numpy(float)[ok],
                                             y.astype(bool), n, 999, rng)
            gt, eq = (draws > M).sum() / 1000, ((draws == M).sum() + 1) / 1000
            rows["detectability (CB, library)"].append(gt + 0.5 * eq)
            # Monte Carlo randomised p-values (#{>} + U (#{=} + 1)) / (n + 1): exactly
            # uniform when the null holds (the observed network exchangeable with the draws)
            rows["providers, randomised"].append(prov_gt_eq[0] + rng.random() * prov_gt_eq[1])
            rows["detectability (CB), randomised"].append(gt + rng.random() * eq)
            # the same with weights n^b (logit linear in log events) instead of the
            # library's standard-error scale -n^(-1/2)
            draws, _ = C._detectability_null(es[ok], ed[ok], e["n_events"].to_numpy(float)[ok],
                                             y.astype(bool), n, 999, rng, covariate="log")
            gt, eq = (draws > M).sum() / 1000, ((draws == M).sum() + 1) / 1000
            rows["detectability (CB, log events)"].append(gt + 0.5 * eq)
ms = np.array(ms)
if len(sys.argv) > 6:       # per-organisation p-values, for pooling runs (census7)
    import pandas as pd
    pd.DataFrame({k: np.array(v) for k, v in rows.items()}).assign(
        m=ms, M=Ms, org=np.arange(offset, offset + R)).to_csv(sys.argv[6], index=False)
print(f"{mode} {value}: {R} organisations of {n_people} people, bad relations m mean "
      f"{ms.mean():.1f} (min {ms.min()}, max {ms.max()}), mutual M mean {np.mean(Ms):.2f}, "
      f"{time.time() - t0:.0f} s")
print("| null | P(p <= 0.01) | P(p <= 0.05) | P(p <= 0.10) | KS D (p) |")
print("|---|---|---|---|---|")
for name, ps in rows.items():
    ps = np.array(ps)
    cells = []
    for a in (0.01, 0.05, 0.10):
        k = int((ps <= a).sum())
        lo, hi = wilson(k, R)
        cells.append(f"{k / R:.3f} [{lo:.3f}, {hi:.3f}]")
    ks = stats.kstest(ps, "uniform")
    print(f"| {name} | " + " | ".join(cells) + f" | {ks.statistic:.3f} ({ks.pvalue:.2g}) |")
