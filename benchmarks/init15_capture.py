"""init15 (#18): capture, on development seeds, what the spiral detector saw for every
planted pair — the per-pair table of ``_finish`` (onsets, drops, the exchange model's and
the alternation phase's posteriors, the onsets' vote) and the pair's events (direction,
time, controlled quality, the standardised u of ``_exchange_u``) — with the generator's
truth (initiator, planted onset) beside it, for ``init15_diagnose.py`` to score rules on.

The detector runs as the scoreboard calls it (``retaliation_spirals(net, level=...,
seed=seed, n_perm=199)``); its private functions are only wrapped to copy their inputs.
The truth is read here, after the detector ran, never by it.

    PYTHONPATH=src python benchmarks/init15_capture.py OUT.pkl --seeds 20 --sizes 150,600

Seeds n_people·1000 + 500 + i (development: the scoreboard uses n_people·1000 + 0..59).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import icnet  # noqa: E402
from icnet.analysis import spirals as sp  # noqa: E402
from icnet.validity import generate  # noqa: E402

SCEN = ("lock_in", "slow_escalation", "episodic", "episodic_two", "delay_only",
        "between_units", "one_sided")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sizes", default="150,600")
    ap.add_argument("--only", default=",".join(SCEN))
    ap.add_argument("--offset", type=int, default=500)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    keep = {}
    o_finish, o_pair, o_phase = sp._finish, sp._pair_tests, sp._turn_phase

    def finish(net, table, t0, alpha, params):
        keep["table"], keep["t0"] = table, t0
        keep["ids"] = net.node_ids.to_numpy(dtype=object)
        return o_finish(net, table, t0, alpha, params)

    def pair_tests(pair, d, t, z, bad, prov_bad, tested, **kw):
        keep["tested"] = np.asarray(tested).copy()
        return o_pair(pair, d, t, z, bad, prov_bad, tested, **kw)

    def turn_phase(X_, T_, D_, gid, G, out, cand, center, **kw):
        keep["ev"] = (X_.copy(), T_.copy(), D_.copy(), gid.copy(), G,
                      {k: np.asarray(v).copy() for k, v in out.items()})
        keep["center"] = np.asarray(center).copy()
        return o_phase(X_, T_, D_, gid, G, out, cand, center, **kw)

    sp._finish, sp._pair_tests, sp._turn_phase = finish, pair_tests, turn_phase
    recs = []
    t_start = time.perf_counter()
    for n_people in [int(x) for x in args.sizes.split(",")]:
        for name in args.only.split(","):
            for i in range(args.seeds):
                seed = n_people * 1000 + args.offset + i
                data = generate(name, n_people=n_people, seed=seed)
                truth = data.truth.get("spirals")
                level = "unit" if truth is not None and len(truth) and \
                    (truth["level"] == "unit").all() else None
                keep.clear()
                res = icnet.retaliation_spirals(data.network(), level=level, seed=seed,
                                                n_perm=199)
                tab, t0, ids = keep["table"], keep["t0"], keep["ids"]
                n = len(ids)
                code = {v: k for k, v in enumerate(ids)}
                X_, T_, D_, gid, G, out = keep["ev"]
                tested = keep["tested"]
                fin = np.isfinite(X_)
                g, dd, tt, u = sp._exchange_u(X_, T_, D_, gid, G, out, fin)
                for r in truth.itertuples():
                    lo, hi = sorted((code[r.a], code[r.b]))
                    pc = lo * n + hi
                    tr = tab[tab["pair"] == pc]
                    m = res[res["a"].isin([r.a, r.b]) & res["b"].isin([r.a, r.b])]
                    kind = m["kind"].iloc[0] if len(m) else "absent"
                    rec = dict(scenario=name, n_people=n_people, seed=seed,
                               a=ids[lo], b=ids[hi], kind=kind,
                               hit=bool(len(m)) and kind in r.accept.split("|"),
                               init_true_dir=0 if code[r.initiator] == lo else 1,
                               truth_onset=(r.onset - t0) / pd.Timedelta(days=1),
                               initiator=m["initiator"].iloc[0] if len(m) else None,
                               initiator_p=float(m["initiator_p"].iloc[0]) if len(m)
                               else np.nan,
                               row=tr.iloc[0].to_dict() if len(tr) else None)
                    j = np.searchsorted(tested, pc)
                    if j < len(tested) and tested[j] == pc:
                        e = gid == j
                        rec["events"] = pd.DataFrame({"d": D_[e], "t": T_[e], "x": X_[e]})
                        f = g == j
                        rec["u"] = pd.DataFrame({"d": dd[f], "t": tt[f], "u": u[f]})
                        rec["center"] = float(keep["center"][j])
                        rec["out"] = {k: v[j] for k, v in out.items()
                                      if np.ndim(v) == 1 and len(v) == G}
                    recs.append(rec)
            print(f"{name} {n_people}: {time.perf_counter() - t_start:.0f} s",
                  file=sys.stderr, flush=True)
            with open(args.out, "wb") as fh:
                pickle.dump(recs, fh)
    with open(args.out, "wb") as fh:
        pickle.dump(recs, fh)


if __name__ == "__main__":
    main()
