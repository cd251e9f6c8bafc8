"""side15 development runs (#18): the local test of the weaker side (spirals._local) on
development seeds (n*1000+500+i), against the same code with it switched off (= main).

For each organisation: the validity suite's spiral record (icnet.validity.scoreboard,
the same scoring as benchmarks/validity.py), and for each planted pair the decision's
internal columns (whole-series p per direction ``pg_*``, local p ``pl_*``, the combined
``pc_*``), read by wrapping spirals._finish (the detector never reads the truth; this
script compares afterwards). A missed pair "weak side alone" = one direction's
whole-series p <= 0.05 and the other's > 0.05.

Run: PYTHONPATH=src python benchmarks/side15_dev.py VARIANT SIZE NSEEDS SCEN1,SCEN2 OUT.csv
VARIANT: main (local test off), local (on, onset window ± max_onset_gap_days), localNN
(± NN days); a suffix "e" (locale, local21e) also restricts the end to ± the gap;
"npc..." instead of "local...": the minimum-p combination of the whole-series and local
statistics (one p per direction) instead of Simes of the two p's

An experiment record: the variants were module switches at ebfe71a (``git checkout
ebfe71a -- src`` to re-run them); since the merge the library has only the kept one
(npc14e: ± 14 days for onset and end, minimum p), so on main every VARIANT runs it.
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd

import icnet  # noqa: F401
from icnet.analysis import spirals as S
from icnet.validity import generate, scoreboard as sb

variant, size, nseeds, scens, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4].split(","), sys.argv[5]
S._LOCAL_TEST = variant != "main"
S._LOCAL_NPC = variant.startswith("npc")
_v = variant.replace("npc", "local")
S._LOCAL_END = _v.startswith("local") and _v.endswith("e")
_gap = _v[5:].rstrip("e") if _v.startswith("local") else ""
S._LOCAL_GAP = float(_gap) if _gap else None
cap = {}
orig = S._finish


def fin(net, table, t0, alpha, params):
    cap["table"] = table.copy()
    cap["ids"] = net.node_ids.to_numpy(dtype=object)
    return orig(net, table, t0, alpha, params)


S._finish = fin
rows, pairs = [], []
for scen in scens:
    for i in range(nseeds):
        seed = size * 1000 + 500 + i
        data = generate(scen, n_people=size, seed=seed)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = sb.score_organisation(data, detectors=["spirals"], seed=seed)
        rec["variant"] = variant
        rows.append(rec)
        truth = data.truth.get("spirals")
        if truth is None or not len(truth) or "table" not in cap:
            continue
        tab, ids = cap["table"], cap["ids"]
        tab = tab[tab.tested]
        N = len(ids)
        key = {tuple(sorted((str(ids[p // N]), str(ids[p % N])))): j
               for j, p in enumerate(tab.pair.to_numpy())}
        for r in truth.itertuples():
            j = key.get(tuple(sorted((str(r.a), str(r.b)))))
            if j is None:
                pairs.append(dict(scenario=scen, n_people=size, seed=seed, variant=variant,
                                  tested=False))
                continue
            tr = tab.iloc[j]
            pairs.append(dict(scenario=scen, n_people=size, seed=seed, variant=variant,
                              tested=True, **{c: tr[c] for c in (
                                  "pg_ab", "pg_ba", "pl_ab", "pl_ba", "pc_ab", "pc_ba",
                                  "pc_pool", "p_turn")}))
        print(scen, seed, f"{time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
pd.concat(rows, ignore_index=True).to_csv(out, index=False)
pd.DataFrame(pairs).to_csv(out.replace(".csv", "_pairs.csv"), index=False)
