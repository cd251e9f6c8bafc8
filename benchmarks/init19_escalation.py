"""init19 (#18): does an *escalating* exchange template name the initiator more often?

A retaliation spiral escalates: each side answers a little harder than it was served
("worse and worse"; Andersson & Pearson 1999's incivility spiral, Glasl 1982's escalation
stages). The shipped phase of the alternation (``spirals._turn_phase``) gives every turn
the same effect size (delta 1.2). init15 found that most wrong initiators are pairs whose
initiator's first turn shows no evidence: with a constant template "the partner began one
turn later" fits as well or better. Under an escalating template the first turn is
expected to be mild and the partner's answer harder, so a hard first visible turn fits
"the partner answered" better than "the partner began".

This script recomputes the phase posterior on pairs captured by ``init15_capture.py``
(development seeds n*1000+500+i) with per-turn effect sizes and scores each variant, with
and without the onsets' vote, against the generator's initiator — after the detector ran,
as ``init15_diagnose.py`` does (the library reads no truth); it first prints the kind the
detector gave every planted pair (what a missed spiral was reported as):

    PYTHONPATH=src python benchmarks/init19_escalation.py CAPTURE.pkl OUT.csv

Variants (each a set of per-turn sequences delta_0, delta_1, ..., marginalised with equal
prior weight over the sequences, the turn length and the number of turns as the shipped
templates are):

- ``const1.2``: every turn 1.2 (the shipped templates; must reproduce ``cur``);
- ``lin{a}_{b}``: delta_k = min(a + b k, 2.4);
- ``mix``: the constant template and ``lin0.6_0.3`` together (escalation as one hypothesis
  among two, not imposed).
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from icnet.analysis import spirals as sp  # noqa: E402

_spec = importlib.util.spec_from_file_location("init15_diagnose",
                                               ROOT / "benchmarks" / "init15_diagnose.py")
i15 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(i15)

MAX_TURNS = 12


def _lin(a, b, cap=2.4):
    return tuple(min(a + b * k, cap) for k in range(MAX_TURNS))


VARIANTS = {
    "const1.2": [_lin(1.2, 0.0)],
    "lin0.6_0.3": [_lin(0.6, 0.3)],
    "lin0.8_0.2": [_lin(0.8, 0.2)],
    "lin1.0_0.2": [_lin(1.0, 0.2)],
    "lin0.6_0.2": [_lin(0.6, 0.2)],
    "mix": [_lin(1.2, 0.0), _lin(0.6, 0.3)],
    "mix3": [_lin(1.2, 0.0), _lin(0.8, 0.2), _lin(0.6, 0.3)],
}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("out")
    args = ap.parse_args(argv)
    with open(args.capture, "rb") as fh:
        recs = pickle.load(fh)
    kinds = pd.DataFrame([{k: r[k] for k in ("scenario", "n_people", "kind")} for r in recs])
    print("kind of every planted pair (development seeds; the scoreboard's recall counts "
          "'spiral')")
    print(pd.crosstab([kinds.scenario, kinds.n_people], kinds.kind).to_string(), "\n")
    recs = [r for r in recs if r["hit"] and "u" in r]
    rows = []
    for r in recs:
        row = r["row"]
        pg = (row["page_ab"], row["page_ba"])
        rows.append(dict(scenario=r["scenario"], n_people=r["n_people"], seed=r["seed"],
                         a=r["a"], b=r["b"], true_dir=r["init_true_dir"],
                         spiral_c=bool(np.isfinite(r["initiator_p"])),
                         cur=0 if r["initiator"] == r["a"] else 1,
                         scored_ok=str(r["initiator"]) == str((r["a"], r["b"])[r["init_true_dir"]]),
                         vote=int(row["prov_first"]) if row["prov_first"] >= 0
                         else int(pg[0] > pg[1])))
    d = pd.DataFrame(rows)
    vote = np.where(d.vote == 0, 1.0, -1.0) * sp._ONSET_VOTE
    inp = i15.phase_inputs(recs)
    for name, seqs in VARIANTS.items():
        p = i15.turn_phase_variant(*inp, sequences=seqs, max_turns=MAX_TURNS)
        pc = np.clip(p, 1e-12, 1 - 1e-12)
        d[f"p_{name}"] = p
        d[name] = np.where(np.isfinite(p), p < 0.5, d.cur).astype(int)
        d[name + "+v"] = np.where(np.isfinite(p), np.log(pc / (1 - pc)) + vote < 0,
                                  d.cur).astype(int)
    d.to_csv(args.out, index=False)
    c = d[d.spiral_c]
    key = [c.scenario, c.n_people]
    res = {"n": c.groupby(key).size(), "cur": (c.cur == c.true_dir).groupby(key).mean()}
    for name in VARIANTS:
        for s in ("", "+v"):
            res[name + s] = (c[name + s] == c.true_dir).groupby(key).mean()
    print("share right of the found change-test spirals (development seeds)")
    print(pd.DataFrame(res).round(3).T.to_string())
    tot = {k: int((c[k] == c.true_dir).sum()) for k in ["cur"] + [n + s for n in VARIANTS
                                                                   for s in ("", "+v")]}
    print("\nright of", len(c), "in all:", tot)


if __name__ == "__main__":
    main()
