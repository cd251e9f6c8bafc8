"""init15 diagnosis (#18): who started it — what each initiator rule says for every found
planted pair on development seeds, and whether the data could tell at all.

Reads the capture of ``init15_capture.py`` (the detector's per-pair table and the pair's
standardised events u, as the detector saw them) and writes one row per planted pair
that the detector found (kind in the truth's ``accept``):

    PYTHONPATH=src python benchmarks/init15_diagnose.py CAPTURE.pkl OUT.csv [--summary]

Rules (each gives the direction 0 = a→b, a < b, or 1 that moved first; the rules read
only what the detector saw):

- ``cur``: the reported initiator (the phase posterior with the onsets' vote);
- ``phase``: the alternation phase's posterior alone (``p_phase``); ``fm``: the
  exchange model's (``p_first``); ``vote``: the onsets' rule (the provoking turn, else the
  earlier Page onset); ``page``, ``draw``: the earlier Page / drawdown onset; ``chain``:
  the first move of the escalation chain; ``firstbad``: the side of the first event with
  u > 1.5 within 28 days of the exchange model's start;
- ``cp``: P(a's onset precedes b's) from each direction's own change-point posterior
  (Chib 1998): a bad segment (u ~ N(1.2, 1), else N(0, 1)) of length 7, 14, 21, 35 days
  or to the end, from a start uniform on the days within 28 days of the exchange model's
  start; P(first = 0) = Σ_{τ0<τ1} p0 p1 + ½ Σ_{τ0=τ1} p0 p1;
- ``d*``, ``c*``: the phase posterior recomputed (``turn_phase_variant``) with another
  effect size delta (``d0.8`` …; ``d1.2`` is the shipped one, identical to ``phase``) or
  with each turn's severity free, N(delta, tau²) (``c1.2_0.4`` = delta 1.2, tau 0.4);
  ``+v``: with the onsets' vote added as the shipped rule does (``d1.2+v`` = ``cur``);
  ``p_*`` their probabilities that a moved first; ``ad1``, ``ad1.5``, ``ad2`` (``+v``): the
  phase with delta per pair, 1, 1.5 or 2 times ``delta_pair`` (the mean u of each
  direction's events in its own drop segment, at most 42 days, averaged over the two; to
  the nearest of 0.6 … 2.4);

Truth columns (from the generator, for the diagnosis only): ``true_dir``, the planted
onset s and turn length L. ``A`` is the evidence of the initiator's first turn (Σ over its
events in [s, s+L) of 1.2u − 0.72: the phase templates' log-likelihood ratio), ``B`` the
same for the responder's events in [s−L, s) (a turn *before* the planted start: a template
where the responder began one turn earlier differs from the truth by exactly B − A);
``n_A``, ``n_B`` the events. ``first_bad_init``, ``first_bad_resp``: days from s of each
side's first event with u > 1 in [s − 28, s + L); ``visible`` = the initiator's came first
(NaN-safe: a side with none counts as later). ``oracle``: with the generator's own
template (its s, L and number of turns K), the log-likelihood ratio of the true first
mover against the other (same s, L, K); ``oracle_ok`` = positive. ``s_known1``,
``s_known7``: the shipped phase templates with the start window centred on the planted
onset, ±1 and ±7 days (the start known to a day, or to a turn). ``planted_init``,
``planted_resp``: days from s of the first planted bad event of the initiator's first
turn and of the responder's (the generator rebuilt, ``planted_turns``);
``planted_order``: the former came first. ``second_episode``: two episodes, and the
exchange model's start (the phase window's centre) lies > 100 days after the planted
onset — the detector dated the second episode, whose first mover is the other side.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from icnet.analysis import spirals as sp  # noqa: E402

TURN = {"slow_escalation": 21.0, "one_sided": 6.0}
TURNS = {"lock_in": 4, "slow_escalation": 8, "one_sided": 2}      # others: 6
DELTA = 1.2


def _cp_first(u, c, *, W=28, lengths=(7, 14, 21, 35, 400), delta=DELTA):
    """P(direction 0's bad segment begins before direction 1's): per-direction change-point
    posteriors over the start day (uniform on c − W .. c + W), segment lengths marginalised."""
    day0 = np.floor(c) - W
    keep = u.t >= day0
    nd = int(2 * W + 1 + max(lengths[:-1]) + 400)
    post = []
    for d in (0, 1):
        e = u[keep & (u.d == d)]
        day = np.clip(np.floor(e.t - day0).astype(int), 0, nd - 1)
        C = np.r_[0.0, np.cumsum(np.bincount(day, weights=delta * e.u - delta ** 2 / 2,
                                             minlength=nd))]
        s = np.arange(2 * W + 1)
        ll = np.stack([C[np.minimum(s + L, nd)] - C[s] for L in lengths])
        mx = ll.max()
        lp = mx + np.log(np.exp(ll - mx).sum(axis=0))
        w = np.exp(lp - lp.max())
        post.append(w / w.sum())
    p0, p1 = post
    c1 = np.cumsum(p1)
    later = 1.0 - c1                                # P(τ1 > i)
    return float((p0 * later).sum() + 0.5 * (p0 * p1).sum())


def _seg_mean(r, d, k):
    u, o = r["u"], r["out"]
    e = u[(u.d == d) & (u.t >= o["onset_" + k]) &
          (u.t <= min(o["stop_" + k], o["onset_" + k] + 42))]
    return float(e.u.mean()) if len(e) else np.nan


def _evidence(u, d, lo, hi, delta=DELTA):
    e = u[(u.d == d) & (u.t >= lo) & (u.t < hi)]
    return float((delta * e.u - delta ** 2 / 2).sum()), len(e)


def _first_bad(u, d, lo, hi, s, thr=1.0):
    e = u[(u.d == d) & (u.t >= lo) & (u.t < hi) & (u.u > thr)]
    return float(e.t.min() - s) if len(e) else np.nan


def turn_phase_variant(X_, T_, D_, gid, G, out, cand, center, *, delta: float = 1.2,
                tail: float = 1.5, turn_days=(7.0, 14.0, 21.0), max_turns: int = 12,
                window: float = 28.0, chunk: int = 512, starts: bool = False,
                tau: float = 0.0, sequences=None):
    """``spirals._turn_phase`` (main 9ce1c73) with three options for the diagnosis only:
    ``delta`` a sequence (the templates' likelihoods summed over a uniform prior on the
    effect size) and ``tau`` > 0 (each turn its own severity, N(delta, tau²) a priori,
    integrated out: the conjugate normal Bayes factor of the turn's n events with sum S,
    −½ log(1 + n tau²) + ½ [tau² (S + delta/tau²)² / (1 + n tau²) − delta²/tau²]).
    ``sequences`` (init19; instead of ``delta``, ``tau`` = 0): per-turn effect sizes, turn k
    of a template having ``seq[k]``, the likelihoods summed over the sequences as over the
    effect sizes.
    With a single delta and tau = 0 it is ``_turn_phase`` (checked: column d1.2)."""
    p0 = np.full(G, np.nan)
    qs = np.full((3, G), np.nan)                    # median, 10 %, 90 % of the start
    fin = np.isfinite(X_) & cand[gid] & np.isfinite(center[gid])
    if not fin.any():
        return (p0, *qs) if starts else p0
    g, d, t, u = sp._exchange_u(X_, T_, D_, gid, G, out, fin)
    deltas = np.atleast_1d(np.asarray(delta, float))
    L_ = np.asarray(turn_days, float)
    W = int(round(window))
    c0 = np.floor(center[g]) - W                     # day 0 of each pair's grid
    keep = t >= c0                                   # earlier events are in no turn
    g, d, t, u, c0 = g[keep], d[keep], t[keep], u[keep], c0[keep]
    day = np.floor(t - c0).astype(np.int64)
    pairs = np.flatnonzero(cand & np.isfinite(center))
    ns = 2 * W + 1
    for b0 in range(0, len(pairs), chunk):
        sel = pairs[b0:b0 + chunk]
        m = np.isin(g, sel)
        j = np.searchsorted(sel, g[m])
        nd = int(max(day[m].max(initial=0) + 1, ns + max_turns * L_.max() + 1))
        n = len(sel)
        # cumulative daily log-likelihood ratios per pair and direction: C[.., i] is the
        # sum over days < i (turns) and its tail version Ct
        idx = (j * 2 + d[m]) * nd + day[m]

        def cum(w):
            c = np.zeros((n * 2, nd + 1))
            c[:, 1:] = np.cumsum(np.bincount(idx, weights=w, minlength=n * 2 * nd)
                                 .reshape(n * 2, nd), axis=1)
            return c.reshape(n, 2, nd + 1)

        if sequences is not None:                    # turn k's effect size seq[k]
            C_ = {v: cum(v * u[m] - v * v / 2) for v in sorted({x for q in sequences
                                                                for x in q})}
            Cs = [("seq", [C_[v] for v in q]) for q in sequences]
        elif tau > 0:                                # each turn its own severity
            Cu, Cn = cum(u[m]), cum(np.ones(int(m.sum())))
            Cs = [("conj", Cu, Cn, dl) for dl in deltas]
        else:
            Cs = [("seq", [cum(dl * u[m] - dl ** 2 / 2)] * max_turns) for dl in deltas]
        Ct = cum(tail * u[m] - tail ** 2 / 2)
        rows = np.arange(n)[:, None]
        t2 = tau * tau

        def turn(M, side, lo, hi, k):
            if M[0] == "seq":
                return M[1][k][rows, side, hi[None, :]] - M[1][k][rows, side, lo[None, :]]
            S_ = M[1][rows, side, hi[None, :]] - M[1][rows, side, lo[None, :]]
            N_ = M[2][rows, side, hi[None, :]] - M[2][rows, side, lo[None, :]]
            mu = M[3]
            return -0.5 * np.log1p(N_ * t2) + \
                0.5 * (t2 * (S_ + mu / t2) ** 2 / (1 + N_ * t2) - mu * mu / t2)
        ct_end = Ct[:, :, nd].sum(axis=1)[:, None]  # (n, 1)
        s = np.arange(ns)
        lse = np.full((n, 2), -np.inf)
        ls = np.full((n, ns), -np.inf)              # log p(s, data), both first movers
        for f in (0, 1):
            terms = []
            for M in Cs:
                for L in L_:
                    acc = np.zeros((n, ns))
                    for k in range(max_turns):
                        side = f if k % 2 == 0 else 1 - f
                        lo = np.minimum(s + int(k * L), nd)
                        hi = np.minimum(s + int((k + 1) * L), nd)
                        acc = acc + turn(M, side, lo, hi, k)
                        if k >= 1:                   # K = k + 1 turns, without / with tail
                            tl = ct_end - Ct[rows, 0, hi[None, :]] - Ct[rows, 1, hi[None, :]]
                            terms += [acc, acc + tl]
            a = np.stack(terms, axis=2)              # (n, ns, hypotheses)
            mx = a.max(axis=(1, 2))
            lse[:, f] = mx + np.log(np.exp(a - mx[:, None, None]).sum(axis=(1, 2)))
            if starts:
                ls = np.logaddexp(ls, mx[:, None] + np.log(
                    np.exp(a - mx[:, None, None]).sum(axis=2)))
        p0[sel] = 1.0 / (1.0 + np.exp(np.clip(lse[:, 1] - lse[:, 0], -700, 700)))
        if starts:
            w = np.exp(ls - ls.max(axis=1, keepdims=True))
            cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
            day0 = np.floor(center[sel]) - W
            seen = np.isin(sel, g)                   # pairs with an event in the grid
            for i, level in enumerate((0.5, 0.1, 0.9)):
                qs[i, sel[seen]] = (day0 + (cdf < level - 1e-12).sum(axis=1))[seen]
    return (p0, *qs) if starts else p0


def _phase_variant(recs, **kw):
    """The phase posterior recomputed on the captured pairs (one call, pairs vectorised)."""
    return turn_phase_variant(*phase_inputs(recs), **kw)


def phase_inputs(recs):
    """The phase's inputs (X, T, D, gid, G, out, cand, center) of the captured pairs, the
    pairs stacked in order."""
    X, T, D, gid, cen = [], [], [], [], []
    keys = ("onset_ab", "onset_ba", "stop_ab", "stop_ba")
    out = {k: [] for k in keys}
    for j, r in enumerate(recs):
        e = r["events"]
        X.append(e.x.to_numpy()), T.append(e.t.to_numpy()), D.append(e.d.to_numpy())
        gid.append(np.full(len(e), j))
        cen.append(r["center"])
        for k in keys:
            out[k].append(r["out"][k])
    G = len(recs)
    out = {k: np.asarray(v, float) for k, v in out.items()}
    return (np.concatenate(X), np.concatenate(T), np.concatenate(D).astype(np.int64),
            np.concatenate(gid), G, out, np.isfinite(np.asarray(cen)),
            np.asarray(cen, float))


def planted_turns(recs):
    """The generator's own turns (for the diagnosis only): per planted pair of the
    ``_rounds`` mechanisms, the first planted bad event of the initiator's first turn
    and of the responder's first turn, in days from the planted onset (the scenario is
    rebuilt with ``_rounds`` wrapped; it draws no random numbers, so the organisation is
    the same). A turn with no event in its week acts on the actor's next service, which
    can come after the partner's turn began: then the data show the responder first."""
    from icnet.validity import scenarios as scn
    orig = scn._rounds
    got = {}

    def rounds(org, i_ab, i_ba, start, round_days, severities, first="a"):
        a, b = org.person[org.rp[i_ab]], org.person[org.rc[i_ab]]
        key = tuple(sorted((a, b)))
        if key not in got:                      # the first episode only
            tk = []
            for k in range(2):
                rel = (i_ab if (k % 2 == 0) == (first == "a") else i_ba)
                lo, hi = start + k * round_days, start + (k + 1) * round_days
                hit = (org.rel == rel) & (org.t >= lo) & (org.t < hi)
                if not hit.any():
                    nxt = np.flatnonzero((org.rel == rel) & (org.t >= lo))[:1]
                    tk.append(float(org.t[nxt[0]] - start) if len(nxt) else np.nan)
                else:
                    tk.append(float(org.t[hit].min() - start))
            got[key] = tk
        return orig(org, i_ab, i_ba, start, round_days, severities, first)

    scn._rounds = rounds
    try:
        for sc, n, seed in sorted({(r["scenario"], r["n_people"], r["seed"]) for r in recs}):
            if sc in ("between_units", "one_sided"):
                continue
            got.clear()
            scn.generate(sc, n_people=n, seed=seed)
            for key, tk in got.items():
                yield (sc, n, seed) + key, tk
    finally:
        scn._rounds = orig


def diagnose(recs):
    recs = [r for r in recs if r["hit"] and "u" in r]
    rows = []
    for r in recs:
        u, row, o = r["u"], r["row"], r["out"]
        a = r["a"]
        s, f = r["truth_onset"], r["init_true_dir"]
        L = TURN.get(r["scenario"], 7.0)
        K = TURNS.get(r["scenario"], 6)
        A, nA = _evidence(u, f, s, s + L)
        B, nB = _evidence(u, 1 - f, s - L, s)
        fi = _first_bad(u, f, s - 28, s + L, s)
        fr = _first_bad(u, 1 - f, s - 28, s + L, s)
        orc = 0.0
        for k in range(K):
            side = f if k % 2 == 0 else 1 - f
            orc += _evidence(u, side, s + k * L, s + (k + 1) * L)[0] - \
                _evidence(u, 1 - side, s + k * L, s + (k + 1) * L)[0]
        c = r["center"]
        w = u[(u.t >= c - 28) & (u.t <= c + 28) & (u.u > 1.5)].sort_values("t")
        pg = (row["page_ab"], row["page_ba"])
        rows.append(dict(
            scenario=r["scenario"], n_people=r["n_people"], seed=r["seed"], a=a, b=r["b"],
            kind=r["kind"], spiral_c=bool(np.isfinite(r["initiator_p"])),
            true_dir=f, cur=0 if r["initiator"] == a else 1, cur_p=r["initiator_p"],
            scored_ok=str(r["initiator"]) == str((a, r["b"])[f]),
            p_phase=row["p_phase"], p_first=row["p_first"],
            phase=np.where(np.isfinite(row["p_phase"]), row["p_phase"] < 0.5, -1),
            fm=np.where(np.isfinite(row["p_first"]), row["p_first"] < 0.5, -1),
            vote=int(row["prov_first"]) if row["prov_first"] >= 0 else int(pg[0] > pg[1]),
            page=int(pg[0] > pg[1]), draw=int(row["onset_ab"] > row["onset_ba"]),
            chain=int(row["first_dir"]),
            firstbad=int(w.d.iloc[0]) if len(w) else -1,
            p_cp=_cp_first(u, c),
            page_gap=pg[1] - pg[0], draw_gap=row["onset_ba"] - row["onset_ab"],
            page_err_init=(pg[f] - s), page_err_resp=(pg[1 - f] - s),
            center_err=c - s, ph_start_err=row["ph_start"] - s,
            A=A, n_A=nA, B=B, n_B=nB, first_bad_init=fi, first_bad_resp=fr,
            visible=bool(np.nan_to_num(fi, nan=np.inf) < np.nan_to_num(fr, nan=np.inf)),
            oracle=orc, oracle_ok=orc > 0))
    d = pd.DataFrame(rows)
    pt = dict(planted_turns(recs))
    k = [(s_, n_, e_) + tuple(sorted((a_, b_)))
         for s_, n_, e_, a_, b_ in zip(d.scenario, d.n_people, d.seed, d.a, d.b)]
    d["planted_init"] = [pt.get(x, [np.nan, np.nan])[0] for x in k]
    d["planted_resp"] = [pt.get(x, [np.nan, np.nan])[1] for x in k]
    # the planted order is visible in time: the initiator's first planted bad event
    # came before the responder's first
    d["planted_order"] = np.where(np.isfinite(d.planted_init), d.planted_init < d.planted_resp,
                                  np.nan)
    d["cp"] = np.where(d.p_cp >= 0.5, 0, 1)
    sc = [r for r in recs]
    vote = np.where(d.vote == 0, 1.0, -1.0) * sp._ONSET_VOTE
    for name, kw in VARIANTS.items():
        p = _phase_variant(sc, **kw)
        d[f"p_{name}"] = p
        d[name] = np.where(np.isfinite(p), p < 0.5, -1).astype(int)
        pc = np.clip(p, 1e-12, 1 - 1e-12)
        lo = np.log(pc / (1 - pc)) + vote
        d[name + "+v"] = np.where(np.isfinite(p), lo < 0, -1).astype(int)
    for c in ("phase", "fm"):
        d[c] = d[c].astype(int)
    # the effect size per pair, from its own drops: the mean u of each direction's events
    # in its drop segment (onset to stop, at most 42 days), averaged over the two, times
    # 1, 1.5 or 2, rounded to the nearest of GRID (the pairs of one value in one call)
    dl = np.array([np.nanmean([_seg_mean(r, dd, k) for dd, k in ((0, "ab"), (1, "ba"))])
                   for r in sc])
    d["delta_pair"] = dl
    grid = np.array([0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 2.0, 2.4])
    for scale in (1.0, 1.5, 2.0):
        q = grid[np.abs(grid[None, :] - np.clip(scale * np.nan_to_num(dl, nan=1.0), 0.6,
                                                  2.4)[:, None]).argmin(axis=1)]
        p = np.full(len(sc), np.nan)
        for v in np.unique(q):
            i = np.flatnonzero(q == v)
            p[i] = _phase_variant([sc[j] for j in i], delta=float(v))
        pc = np.clip(p, 1e-12, 1 - 1e-12)
        name = f"ad{scale:g}"
        d[name] = np.where(np.isfinite(p), p < 0.5, -1).astype(int)
        d[name + "+v"] = np.where(np.isfinite(p), np.log(pc / (1 - pc)) + vote < 0,
                                  -1).astype(int)
    # the same templates with the start known (the planted onset ± W days): how much of
    # the error is the start's placement (one turn off names the partner)
    saved = [r["center"] for r in sc]
    for W in (1, 7):
        for r in sc:
            r["center"] = r["truth_onset"]
        p = _phase_variant(sc, window=W)
        d[f"s_known{W}"] = np.where(np.isfinite(p), p < 0.5, -1).astype(int)
    for r, c in zip(sc, saved):
        r["center"] = c
    # two episodes: the detector dated the second (opposite first mover) episode
    d["second_episode"] = (d.scenario == "episodic_two") & (d.center_err > 100)
    return d


VARIANTS = {"d1.2": dict(delta=1.2), "d0.8": dict(delta=0.8), "d1.6": dict(delta=1.6),
            "d2.0": dict(delta=2.0), "c1.2_0.4": dict(delta=1.2, tau=0.4),
            "c1.2_0.8": dict(delta=1.2, tau=0.8), "c1.6_0.6": dict(delta=1.6, tau=0.6),
            "c1.2_1.2": dict(delta=1.2, tau=1.2)}
RULES = ("cur", "phase", "fm", "vote", "page", "draw", "chain", "firstbad", "cp") + \
    tuple(k + s for k in VARIANTS for s in ("", "+v")) + \
    tuple(f"ad{x}{s}" for x in ("1", "1.5", "2") for s in ("", "+v")) + ("s_known1", "s_known7")


def summary(d):
    print("initiator right of every found planted pair, as the scoreboard scores it "
          "(any kind; the rows below are the change-test spirals only)")
    print(d.groupby(["scenario", "n_people"]).agg(
        found=("seed", "size"), right=("scored_ok", "sum"), share=("scored_ok", "mean"),
        change_test=("spiral_c", "sum")).round(3).to_string())
    d = d[d.spiral_c]
    key = [d.scenario, d.n_people]
    res = {r: (d[r] == d.true_dir).groupby(key).mean() for r in RULES}
    res["n"] = d.groupby(key).size()
    for c in ("visible", "oracle_ok"):
        res[c] = d[c].groupby(key).mean()
    res["A>B"] = (d.A > d.B).groupby(key).mean()
    res["A>0"] = (d.A > 0).groupby(key).mean()
    for name, m in (("cur|A>0", d.A > 0), ("cur|A<=0", d.A <= 0)):
        res[name] = (d.cur == d.true_dir)[m].groupby([d.scenario[m], d.n_people[m]]).mean()
    if "planted_order" in d:
        res["planted_order"] = d.planted_order.groupby(key).mean()
    res["second_episode"] = d.second_episode.groupby(key).mean()
    # best case given the data: right wherever the first turn shows (A > 0), a coin
    # flip where it does not
    res["bound"] = ((d.A > 0) + 0.5 * (d.A <= 0)).groupby(key).mean()
    print("share right of found change-test spirals")
    print(pd.DataFrame(res).round(2).T.to_string())
    wrong = d[d.cur != d.true_dir]
    ok = d[d.cur == d.true_dir]
    print("\ncurrent rule wrong vs right: means")
    cols = ["A", "n_A", "B", "n_B", "visible", "oracle_ok", "cur_p"]
    print(pd.DataFrame({"wrong": wrong[cols].mean(), "right": ok[cols].mean()}).round(2))
    print("\nwrong pairs: visible / oracle_ok / A>B, by mechanism")
    print(wrong.groupby(["scenario", "n_people"]).agg(
        n=("seed", "size"), visible=("visible", "mean"), oracle_ok=("oracle_ok", "mean"),
        AgtB=("A", lambda x: float((x > wrong.loc[x.index, "B"]).mean()))).round(2))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("out")
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args(argv)
    if args.summary:
        return summary(pd.read_csv(args.out))
    with open(args.capture, "rb") as fh:
        recs = pickle.load(fh)
    d = diagnose(recs)
    d.to_csv(args.out, index=False)
    summary(d)


if __name__ == "__main__":
    main()
