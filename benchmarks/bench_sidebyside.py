"""Side by side, same data: icnet vs pm4py (hand-over of work) and vs networkx-only code.

Run: ``python benchmarks/bench_sidebyside.py [--sizes 10000 1000000] [--people 2000 20000]
[--repeat 3] [--cap 180] [--pm4py-cap 300] [--results benchmarks/RESULTS.md]``
(needs the ``bench`` extra: ``pip install -e .[bench]``, which brings pm4py).

Part 1 — hand-over of work. A generated process log (case, activity, resource,
timestamp; rows shuffled; timestamps strictly increasing within a case) is
converted both ways: ``pm4py.format_dataframe`` + ``pm4py.discover_handover_of_work_network
(beta=0)`` and ``icnet.from_process_log`` + ``net.edges``. pm4py's values are *shares*:
each directly-following pair of steps of a case counts once, a resource following
itself included, divided by the number of such pairs (n_events - n_cases). They are
multiplied back by that total to get counts, the self-pairs are dropped (icnet does not
count a resource handing work to itself) and the edge sets and counts are checked to be
identical. Each tool runs in a forked child process, stopped after ``--pm4py-cap``
seconds.

Part 2 — networkx-only baselines for the bottleneck and cycle measures, at the unit and
person level of generated organisations (``icnet.synth.organisation``, 250 events per
person), all starting from the same aggregated edge table ``net.edges``:

- ``structural_betweenness`` (demand-weighted, exact, toward an added sink behind the
  external-facing nodes) vs ``nx.betweenness_centrality_subset`` on the same weighted
  graph, reversed, from the sink: one call per distinct source weight (the fastest exact
  way with networkx's public API); and the unweighted variant (``weights=1``) vs one call;
- ``dependence`` vs ``nx.pagerank`` with the same personalization (tolerance tightened to
  icnet's l1 1e-12), the walk mass arriving through edges taken from its result;
- ``conflict_cycles`` vs ``nx.simple_cycles(length_bound=4)`` on the bad-relation graph
  (``icnet.analysis.conflicts.bad_edges``; both timings include it).

Values must agree to 1e-9 (relative for betweenness, absolute for the dependence
shares); cycle sets must be identical. Each networkx baseline runs in a forked child
stopped after ``--cap`` seconds ("> cap"). Times are medians of ``--repeat`` runs (one
run when the first already takes more than cap / repeat). The "Side by side" section of
``--results`` is replaced (the rest of the file is kept).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
import warnings

import networkx as nx
import numpy as np
import pandas as pd

import icnet
from _results import write_section
from icnet import synth
from icnet.analysis.bottlenecks import dependence, structural_betweenness
from icnet.analysis.conflicts import bad_edges

SINK = "\0sink"
ALPHA = 0.85


# ------------------------------------------------------------------ harness

class Capped(Exception):
    pass


def _child(conn, fn):
    try:
        t = time.perf_counter()
        out = fn()
        conn.send(("ok", time.perf_counter() - t, out))
    except TimeoutError as exc:                        # a baseline's own deadline
        conn.send(("capped", time.perf_counter() - t, str(exc)))
    except BaseException as exc:                       # report anything to the parent
        conn.send(("error", 0.0, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def in_child(fn, cap):
    """Run ``fn()`` in a forked child; (seconds, result), or raise Capped after ``cap`` s.

    A baseline may stop itself at its own deadline (TimeoutError with a progress note);
    otherwise the child is killed ``cap`` + 30 s after the start.
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn))
    proc.start()
    child.close()
    if not parent.poll(cap + 30):
        proc.kill()
        proc.join()
        raise Capped("")
    status, seconds, out = parent.recv()
    proc.join()
    if status == "capped":
        raise Capped(out)
    if status != "ok":
        raise RuntimeError(out)
    return seconds, out


def timed(fn, repeat, cap=None):
    """Median seconds over ``repeat`` runs and the last result; in a child when ``cap``.

    One run only when the first already takes more than ``cap / repeat``.
    """
    times, out = [], None
    for i in range(repeat):
        if cap is None:
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        else:
            s, out = in_child(fn, cap)
            times.append(s)
            if i == 0 and s * repeat > cap:
                break
    return statistics.median(times), len(times), out


def _fmt_s(s):
    return "—" if s is None else (f"{s:.3f}" if s < 10 else f"{s:.1f}")


def _ratio(a, b):
    return "—" if a is None or b is None or b <= 0 else f"{a / b:,.1f}×"


# ------------------------------------------------------------------ part 1: hand-over

def handover_log(n_events: int, seed: int = 0) -> pd.DataFrame:
    """A process log of ``about n_events`` rows: case, activity, resource, timestamp.

    Cases of 2–14 steps; the resource of each step is a short random move (±1..±6, a
    uniform jump 10 % of the time, the same resource again 15 % of the time) from the
    previous one on a ring of ``n_events // 500`` resources (at least 20); gaps of
    5 minutes to a few days, so timestamps never tie within a case. Rows are shuffled.
    """
    rng = np.random.default_rng(seed)
    n_res = max(20, n_events // 500)
    n_cases = max(1, int(round(n_events / 6)))
    length = np.minimum(2 + rng.poisson(4, n_cases), 14)
    length[-1] += max(0, n_events - int(length.sum()))           # exact total when short
    while length.sum() > n_events and (length > 2).any():        # trim to the total
        over = int(length.sum()) - n_events
        i = np.flatnonzero(length > 2)[:over]
        length[i] -= 1
    n = int(length.sum())
    case = np.repeat(np.arange(n_cases), length)
    first = np.r_[0, np.cumsum(length)[:-1]]
    is_first = np.zeros(n, bool)
    is_first[first] = True
    move = rng.integers(1, 7, n) * rng.choice([-1, 1], n)
    jump = rng.random(n) < 0.10
    move[jump] = rng.integers(0, n_res, int(jump.sum()))
    move[rng.random(n) < 0.15] = 0
    move[is_first] = rng.integers(0, n_res, n_cases)
    pos = np.cumsum(move)
    pos -= np.repeat(pos[first] - move[first], length)             # restart per case
    resource = np.mod(pos, n_res)
    step = np.arange(n) - np.repeat(first, length)
    gap_min = np.where(is_first, 0, 5 + np.round(rng.exponential(600, n)))
    start_min = rng.integers(0, 365 * 24 * 60, n_cases)
    minutes = np.repeat(start_min, length) + (np.cumsum(gap_min)
                                              - np.repeat(np.cumsum(gap_min)[first], length))
    acts = np.array(["register", "check", "approve", "prepare", "repair", "deliver",
                     "invoice", "close"], dtype=object)
    activity = acts[(step + rng.integers(0, 2, n)) % len(acts)]
    w = len(str(n_cases))
    log = pd.DataFrame({
        "case": np.char.add("C", np.char.zfill(case.astype(str), w)).astype(object),
        "activity": activity,
        "resource": np.char.add("R", np.char.zfill(resource.astype(str), 4)).astype(object),
        "timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta(minutes, unit="min"),
    })
    return log.iloc[rng.permutation(n)].reset_index(drop=True)


def _quiet_pm4py():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py
    return pm4py


def pm4py_handover(log):
    """pm4py.format_dataframe + discover_handover_of_work_network(beta=0): (times, shares)."""
    pm4py = _quiet_pm4py()
    t = time.perf_counter()
    df = pm4py.format_dataframe(log.copy(), case_id="case", activity_key="activity",
                                timestamp_key="timestamp")
    t_fmt = time.perf_counter() - t
    sna = pm4py.discover_handover_of_work_network(
        df, beta=0, resource_key="resource", timestamp_key="time:timestamp",
        case_id_key="case:concept:name")
    return {"format": t_fmt, "total": time.perf_counter() - t}, dict(sna.connections)


def icnet_handover(log):
    t = time.perf_counter()
    net = icnet.from_process_log(log)
    t_build = time.perf_counter() - t
    e = net.edges
    counts = dict(zip(zip(e["provider"], e["client"]), e["n_events"].astype(int)))
    return {"build": t_build, "total": time.perf_counter() - t}, counts


def compare_handover(log, shares, counts):
    """Rescale pm4py's shares to counts and check them against icnet's, exactly."""
    n_cases = log["case"].nunique()
    pairs = len(log) - n_cases                        # pm4py's divisor (beta=0)
    raw = {k: v * pairs for k, v in shares.items()}
    off = max((abs(v - round(v)) for v in raw.values()), default=0.0)
    pm = {k: int(round(v)) for k, v in raw.items()}
    self_pairs = sum(v for (a, b), v in pm.items() if a == b)
    pm_hand = {k: v for k, v in pm.items() if k[0] != k[1]}
    same_set = set(pm_hand) == set(counts)
    same_counts = same_set and all(pm_hand[k] == counts[k] for k in counts)
    diff = sorted(set(pm_hand) ^ set(counts))[:5] + \
        [k for k in counts if k in pm_hand and pm_hand[k] != counts[k]][:5]
    return dict(pairs=pairs, rescale_error=off, self_pairs=self_pairs, edges=len(counts),
                handovers=int(sum(counts.values())), same_set=same_set,
                same_counts=same_counts, total_ok=sum(pm.values()) == pairs,
                examples=diff)


def run_handover(n_events, repeat, cap, seed=0):
    log = handover_log(n_events, seed)
    print(f"\nprocess log: {len(log):,} events, {log['case'].nunique():,} cases, "
          f"{log['resource'].nunique():,} resources", flush=True)
    ic_med, ic_n, (ic_parts, counts) = timed(lambda: icnet_handover(log), repeat)
    print(f"  icnet from_process_log + edges: median {ic_med:.2f} s (n={ic_n}; "
          f"from_process_log {ic_parts['build']:.2f} s)", flush=True)
    row = dict(events=len(log), cases=log["case"].nunique(),
               resources=log["resource"].nunique(), icnet=ic_med, icnet_n=ic_n,
               pm4py=None, pm4py_n=0, pm4py_format=None, capped=False, check=None)
    times, fmt = [], []
    shares = None
    try:
        for i in range(repeat):
            _, (parts, shares) = in_child(lambda: pm4py_handover(log), cap)
            times.append(parts["total"])
            fmt.append(parts["format"])
            print(f"  pm4py run {i + 1}: {parts['total']:.2f} s "
                  f"(format_dataframe {parts['format']:.2f} s)", flush=True)
            if parts["total"] * repeat > cap:
                break
    except Capped:
        row["capped"] = True
        print(f"  pm4py: stopped after {cap:.0f} s", flush=True)
    if times:
        row.update(pm4py=statistics.median(times), pm4py_n=len(times),
                   pm4py_format=statistics.median(fmt))
        chk = compare_handover(log, shares, counts)
        row["check"] = chk
        print(f"  agreement: edge sets {'identical' if chk['same_set'] else 'DIFFER'}, "
              f"counts {'identical' if chk['same_counts'] else 'DIFFER'} "
              f"({chk['edges']:,} edges, {chk['handovers']:,} hand-overs; pm4py also "
              f"counts {chk['self_pairs']:,} self-pairs; total pairs {chk['pairs']:,} "
              f"{'ok' if chk['total_ok'] else 'MISMATCH'}; max rescale error "
              f"{chk['rescale_error']:.1e}) {chk['examples'] or ''}", flush=True)
        print(f"  ratio pm4py / icnet: {row['pm4py'] / ic_med:.1f}×", flush=True)
    return row


def edge_cases(n_events, seed=0):
    """Where the two definitions could part: tied timestamps, rows without an activity.

    Returns plain-language findings (each measured here, on a log of ``n_events``).
    """
    log = handover_log(n_events, seed)
    out = []
    tied = log.assign(timestamp=log["timestamp"].dt.floor("D"))
    n_tied = int(tied.duplicated(["case", "timestamp"]).sum())
    chk = compare_handover(tied, pm4py_handover(tied)[1], icnet_handover(tied)[1])
    out.append(f"Timestamps floored to the day ({n_tied:,} of {len(log):,} steps tie with "
               "another step of their case): edge sets and counts "
               f"{'identical' if chk['same_counts'] else 'DIFFER'} — both order tied steps "
               "by their row in the input.")
    gap = log.copy()
    gap.loc[gap.sample(frac=0.01, random_state=seed).index, "activity"] = None
    kept = gap.dropna(subset=["activity"])
    shares = pm4py_handover(gap)[1]
    raw = compare_handover(kept, shares, icnet_handover(gap)[1])
    drop = compare_handover(kept, shares, icnet_handover(kept)[1])
    out.append(f"1 % of the rows without an activity: counts "
               f"{'identical' if raw['same_counts'] else 'differ'} on the same log "
               f"({raw['handovers']:,} hand-overs in icnet); "
               f"{'identical' if drop['same_counts'] else 'still different'} once those rows "
               "are removed before icnet reads the log. `pm4py.format_dataframe` drops rows "
               "with an empty case, activity or timestamp; `from_process_log` needs only the "
               "resource and time of a step to know who handed work to whom, so it keeps "
               "them (`service` is then empty)."
               + (" A definitional difference, not a bug." if drop["same_counts"] else
                  " UNEXPLAINED: the difference is not only those rows."))
    for line in out:
        print("  " + line, flush=True)
    return out


# ------------------------------------------------------------------ part 2: networkx

def _lengths(e, length="delay_median"):
    """Edge lengths exactly as icnet prepares them (NaN → median, floor 1e-9)."""
    L = e[length].to_numpy(float)
    L = np.where(np.isfinite(L), L, np.nanmedian(L) if np.isfinite(L).any() else 1.0)
    return np.maximum(L, 1e-9)


def _external(net):
    ext = net.nodes.set_index("node")["external_facing"].astype(bool)
    if not ext.any():
        raise RuntimeError("no external-facing node: the baselines assume some are marked")
    return ext[ext].index.tolist()


def _source_weights(e):
    return e.groupby("provider", sort=False)["n_events"].sum()


def nx_sink_graph_reversed(e, ext):
    """client → provider graph with lengths, plus SINK → each external-facing node."""
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(e["client"], e["provider"], _lengths(e)), weight="length")
    G.add_weighted_edges_from(((SINK, x, 0.0) for x in ext), weight="length")
    return G


def nx_structural(e, ext, weighted=True, deadline=None):
    """Demand-weighted betweenness toward the sink with networkx only (exact).

    On the reversed graph, shortest paths from SINK to s are those from s to the sink,
    so ``betweenness_centrality_subset(sources=[SINK], targets=S)`` sums
    sigma_sT(v)/sigma_sT over s in S. Sources are grouped by weight: one call per
    distinct weight.
    """
    G = nx_sink_graph_reversed(e, ext)
    if weighted:
        w = _source_weights(e)
        groups = w.groupby(w.to_numpy()).groups
    else:
        groups = {1.0: [x for x in G if x != SINK]}
    out = dict.fromkeys(G, 0.0)
    t0 = time.perf_counter()
    for i, (wt, members) in enumerate(groups.items()):
        now = time.perf_counter()
        if deadline is not None and now > deadline:
            raise TimeoutError(f"{i:,} of {len(groups):,} calls in {now - t0:.0f} s: about "
                               f"{(now - t0) * len(groups) / max(i, 1):,.0f} s for all")
        b = nx.betweenness_centrality_subset(G, [SINK], list(members), normalized=False,
                                             weight="length")
        for k, v in b.items():
            out[k] += wt * v
    out.pop(SINK)
    return out


def nx_dependence(e, ext, nodes, alpha=ALPHA):
    """Personalized PageRank on client → provider (weights = events), networkx only."""
    D = nx.DiGraph()
    D.add_nodes_from(nodes)
    D.add_weighted_edges_from(zip(e["client"], e["provider"], e["n_events"].astype(float)))
    pers = {x: 1.0 for x in ext}
    pr = nx.pagerank(D, alpha=alpha, personalization=pers, tol=1e-12 / len(D),
                     max_iter=100_000, weight="weight")
    dangling = sum(pr[x] for x in D if D.out_degree(x, weight="weight") == 0)
    base = alpha * dangling + 1 - alpha
    arrive = {x: pr[x] - (base / len(ext) if x in pers else 0.0) for x in D}
    tot = sum(arrive.values())
    return {x: v / tot for x, v in arrive.items()}


def nx_cycles(net, max_length=4):
    """Conflict cycles with networkx only: simple_cycles on the bad-relation graph."""
    bad = bad_edges(net)
    G = nx.DiGraph(zip(bad["provider"], bad["client"]))
    out = set()
    for cyc in nx.simple_cycles(G, length_bound=max_length):
        if len(cyc) >= 2:
            i = cyc.index(min(cyc))
            out.add(tuple(cyc[i:] + cyc[:i]))
    return out


def _max_rel(a: pd.Series, b: dict):
    bb = pd.Series(b).reindex(a.index).fillna(0.0).to_numpy()
    aa = a.to_numpy()
    scale = np.maximum(np.abs(aa), np.abs(bb))
    rel = np.where(scale > 0, np.abs(aa - bb) / np.where(scale > 0, scale, 1), 0.0)
    return float(rel.max()), float(np.abs(aa - bb).max())


def _betweenness_check(b_ic, b_nx, net, weights):
    """Agreement text and flag; explains differences that are only tie tolerance.

    icnet counts two routes as equally short when their lengths differ by at most 1e-12
    (relative): delays of the same duration computed by different arithmetic (e.g. a
    median of an even number of values) can differ in the last bit. networkx compares
    path lengths exactly. When the default disagrees, icnet is re-run with rtol=1e-16
    (exact comparison, as networkx) to show whether that is the whole difference.
    """
    rel, _ = _max_rel(b_ic, b_nx)
    if rel <= 1e-9:
        return f"max rel diff {rel:.1e}", True
    n_diff = int((np.abs(b_ic.to_numpy() - pd.Series(b_nx).reindex(b_ic.index).fillna(0.0)
                         .to_numpy()) > 1e-9 * np.abs(b_ic.to_numpy()).clip(1)).sum())
    exact = structural_betweenness(net, weights=weights, rtol=1e-16)
    rel_x, _ = _max_rel(exact, b_nx)
    same = rel_x <= 1e-9
    return (f"max rel diff {rel:.1e} at {n_diff} node(s): near-ties (≤ 1e-12 relative) "
            f"icnet counts as ties; with rtol=1e-16 (exact, as networkx) max rel diff "
            f"{rel_x:.1e}" + ("" if same else " — UNEXPLAINED"), same)


def run_measures(org_label, level, net, repeat, cap):
    rows = []
    e = net.edges
    ext = _external(net)
    nodes = net.node_ids.tolist()
    info = dict(org=org_label, level=level, nodes=len(nodes), edges=len(e))
    print(f"\n{org_label} / {level}: {len(nodes):,} nodes, {len(e):,} relations, "
          f"{len(ext):,} external-facing", flush=True)

    def add(measure, ic, nxr, check, ok):
        rows.append(dict(info, measure=measure, icnet=ic[0], icnet_n=ic[1], nx=nxr[0],
                         nx_n=nxr[1], capped=nxr[0] is None, check=check, ok=ok))
        print(f"  {measure:<46} icnet {_fmt_s(ic[0]):>8} s  networkx "
              f"{'> cap' if nxr[0] is None else _fmt_s(nxr[0]) + ' s':>10}  "
              f"ratio {_ratio(nxr[0], ic[0]):>8}  {check}", flush=True)

    def baseline(fn):
        try:
            s, n, out = timed(fn, repeat, cap=cap)
            return (s, n, ""), out
        except Capped as exc:
            return (None, 0, str(exc)), None

    # betweenness toward the sink, demand-weighted (icnet's default)
    s, n, b_ic = timed(lambda: structural_betweenness(net), repeat)
    nxr, b_nx = baseline(lambda: nx_structural(e, ext, weighted=True,
                                               deadline=time.perf_counter() + cap))
    n_groups = _source_weights(e).nunique()
    if b_nx is not None:
        check, ok = _betweenness_check(b_ic, b_nx, net, None)
    else:
        check, ok = f"not checked (baseline stopped: {nxr[2] or 'killed'})", None
    add(f"structural_betweenness ({n_groups:,} subset calls)", (s, n), nxr, check, ok)

    # the same with unit source weights: one networkx call
    ones = np.ones(len(nodes))
    s, n, b1_ic = timed(lambda: structural_betweenness(net, weights=ones), repeat)
    nxr, b1_nx = baseline(lambda: nx_structural(e, ext, weighted=False))
    if b1_nx is not None:
        check, ok = _betweenness_check(b1_ic, b1_nx, net, ones)
    else:
        check, ok = "not checked (baseline stopped)", None
    add("structural_betweenness, weights=1 (1 call)", (s, n), nxr, check, ok)

    # personalised PageRank dependence
    s, n, d_ic = timed(lambda: dependence(net), repeat)
    nxr, d_nx = baseline(lambda: nx_dependence(e, ext, nodes))
    if d_nx is not None:
        rel, ab = _max_rel(d_ic, d_nx)
        check, ok = f"max abs diff {ab:.1e} (shares)", ab <= 1e-9
    else:
        check, ok = "not checked (baseline stopped)", None
    add("dependence (personalised PageRank)", (s, n), nxr, check, ok)

    # conflict cycles, length ≤ 4
    s, n, c_ic = timed(lambda: icnet.conflict_cycles(net, max_cycles=10**7), repeat)
    nxr, c_nx = baseline(lambda: nx_cycles(net))
    ic_set = set(c_ic["cycle"])
    if c_nx is not None:
        same = ic_set == c_nx
        check = (f"{len(ic_set):,} cycles, sets {'identical' if same else 'DIFFER'}"
                 f"{'' if same else f' (icnet only {len(ic_set - c_nx)}, networkx only {len(c_nx - ic_set)})'}")
        ok = same and not c_ic.attrs["truncated"]
    else:
        check, ok = f"{len(ic_set):,} cycles (icnet); baseline stopped", None
    add(f"conflict_cycles ({c_ic.attrs['n_bad_edges']:,} bad relations)", (s, n), nxr,
        check, ok)
    return rows


def run_org(n_people, repeat, cap, seed=0):
    t = time.perf_counter()
    org = synth.organisation(n_people=n_people, seed=seed, events_per_person=250)
    net = org.network()
    net.edges
    units = net.by("unit")
    units.edges
    label = f"{n_people:,} people ({len(org.events) / 1e6:.2f} M events)"
    print(f"\norganisation {label}: generated and aggregated in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    rows = run_measures(label, "unit", units, repeat, cap)
    rows += run_measures(label, "person", net, repeat, cap)
    return rows


# ------------------------------------------------------------------ results

def _machine():
    import scipy
    pm = "not installed"
    with contextlib.suppress(ImportError):
        pm = _quiet_pm4py().__version__
    return (f"Machine: {os.cpu_count()} cores, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
            f"Python {platform.python_version()}, numpy {np.__version__}, scipy "
            f"{scipy.__version__}, pandas {pd.__version__}, networkx {nx.__version__}, "
            f"pm4py {pm}, icnet {icnet.__version__}.")


def section(hand_rows, meas_rows, args, notes=()):
    out = ["## Side by side", "",
           _machine() + " Generated by `python benchmarks/bench_sidebyside.py"
           + (f" --sizes {' '.join(map(str, args.sizes))}" if args.sizes else "")
           + (f" --people {' '.join(map(str, args.people))}" if args.people else "")
           + f"`; medians of {args.repeat} runs (one run when the first took more than "
             f"cap / {args.repeat}); shared machine, so read ratios as orders of magnitude.",
           ""]
    if hand_rows:
        out += ["### Hand-over of work: icnet vs pm4py", "",
                "Same generated process log (rows shuffled), converted both ways: "
                "`pm4py.format_dataframe` + `pm4py.discover_handover_of_work_network(beta=0)` "
                "vs `icnet.from_process_log` + `net.edges` (which also computes delays, "
                "quantiles and the rest of the edge table). pm4py returns shares of all "
                "directly-following step pairs (n_events − n_cases), a resource following "
                "itself included: multiplied back by that total and without the self-pairs "
                "they must equal icnet's `n_events` per edge.", "",
                "| events | cases | resources | icnet (s) | pm4py (s) | of which format_dataframe "
                "| pm4py / icnet | edges | hand-overs | pm4py self-pairs | agreement |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in hand_rows:
            c = r["check"]
            pm = f"> {args.pm4py_cap:.0f}" if r["pm4py"] is None else _fmt_s(r["pm4py"])
            agree = "—" if c is None else (
                ("edge sets and counts identical" if c["same_counts"] else
                 f"DIFFER: {c['examples']}") + ("" if c["total_ok"] else "; totals differ"))
            out.append(
                f"| {r['events']:,} | {r['cases']:,} | {r['resources']:,} | "
                f"{_fmt_s(r['icnet'])} | {pm} | {_fmt_s(r['pm4py_format'])} | "
                f"{_ratio(r['pm4py'], r['icnet']) if not r['capped'] else '> ' + _ratio(args.pm4py_cap, r['icnet'])} | "
                f"{'—' if c is None else format(c['edges'], ',')} | "
                f"{'—' if c is None else format(c['handovers'], ',')} | "
                f"{'—' if c is None else format(c['self_pairs'], ',')} | {agree} |")
        out.append("")
        if notes:
            out += [f"Edge cases, on the {args.sizes[0]:,}-event log:", ""]
            out += [f"- {x}" for x in notes] + [""]
    if meas_rows:
        out += ["### Bottleneck and cycle measures: icnet vs networkx-only code", "",
                "Same aggregated edge table (`net.edges`) for both; the networkx time includes "
                "building its graph. Betweenness: `nx.betweenness_centrality_subset` on the "
                "reversed graph from the sink, one call per distinct source weight (the "
                "demand-weighted measure) or one call (weights = 1). Dependence: `nx.pagerank` "
                "with the same personalization, tol = 1e-12 / n. Cycles: `nx.simple_cycles("
                "length_bound=4)` on icnet's bad-relation graph (`bad_edges`, timed on both "
                f"sides). networkx baselines stopped after {args.cap:.0f} s are shown as "
                "\"> cap\".", "",
                "| organisation | level | nodes | relations | measure | icnet (s) | networkx (s) "
                "| networkx / icnet | agreement |",
                "|---|---|---:|---:|---|---:|---:|---:|---|"]
        for r in meas_rows:
            nxs = f"> cap ({args.cap:.0f})" if r["capped"] else _fmt_s(r["nx"])
            ratio = (f"> {args.cap / r['icnet']:,.0f}×" if r["capped"]
                     else _ratio(r["nx"], r["icnet"]))
            out.append(f"| {r['org']} | {r['level']} | {r['nodes']:,} | {r['edges']:,} | "
                       f"{r['measure']} | {_fmt_s(r['icnet'])} | {nxs} | {ratio} | "
                       f"{r['check']} |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 1_000_000],
                    help="process-log sizes in events (none: skip the pm4py part)")
    ap.add_argument("--people", type=int, nargs="*", default=[2000, 20000],
                    help="organisation sizes (none: skip the networkx part)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cap", type=float, default=180.0, help="seconds per networkx baseline")
    ap.add_argument("--pm4py-cap", type=float, default=300.0, help="seconds per pm4py run")
    ap.add_argument("--results", default="benchmarks/RESULTS.md",
                    help="file whose 'Side by side' section is replaced ('' : do not write)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(_machine(), flush=True)
    hand = [run_handover(n, args.repeat, args.pm4py_cap) for n in args.sizes]
    notes = edge_cases(min(args.sizes)) if args.sizes else []
    meas = []
    for n in args.people:
        meas += run_org(n, args.repeat, args.cap)
    text = section(hand, meas, args, notes)
    print("\n" + text)
    if args.results:
        write_section(args.results, text)
        print(f"wrote the 'Side by side' section of {args.results}")
    bad = [r for r in hand if r["check"] is not None and not r["check"]["same_counts"]]
    bad += [r for r in meas if r["ok"] is False]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
