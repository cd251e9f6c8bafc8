"""Ticket logs (#22): reading + the whole hand-over analysis of a generated ticket log,
side by side with pm4py where it has the same measure.

Run: ``python benchmarks/bench_tickets.py [--events 1000000] [--out benchmarks/RESULTS.md]``.

Part 1 — a generated ticket log (``icnet.analysis.handovers.simulate_tickets``: 150 teams,
30 % 2nd line, 5 planted ping-pong pairs, 3 slow teams; about 8 rows per ticket) written as
a ticketing-tool export (CSV: case, timestamp, status, group, resource), then each step timed
once in this process: ``read_tickets`` (CSV → log), ``visits`` in working hours
(Mon–Fri 09–17, Europe/Brussels), ``pingpong``, ``reassignments``, ``escalations`` (by team
and by line), ``holding_times``, ``handover_actions``, ``sla_clocks``,
``from_process_log(resource=group, calendar=...)``, ``handover_summary(net)`` and the
findings it feeds (ping-pong conflicts, holding-time bottlenecks, hand-over health). The
planted pairs found are printed.

Part 2 — side by side with pm4py (optional, AGPL, ``pip install -e '.[bench]'``), same data:
(a) the team hand-over-of-work network: ``pm4py.discover_handover_of_work_network(beta=0)``
vs ``icnet.from_process_log`` (pm4py gives shares of all directly-following event pairs,
rescaled to counts; self-pairs dropped); (b) ping-pong: pm4py has no ping-pong measure; its
closest, ``discover_subcontracting_network(n=2)`` (A … B … A, van der Aalst et al. 2005), is
run on the visit sequence (consecutive rows of one team collapsed, so A, B, A = a bounce) and
rescaled to counts; (c) reading XES: ``pm4py.read_xes`` vs ``icnet._xes.read_xes`` on the
bundled BPIC 2013 incident log (65,533 events) and on the generated log written as XES
(capped at 200,000 events to keep the run short).

Machines here are shared (2 cores, several jobs): read the numbers as orders of magnitude.
Only this script's section of RESULTS.md is replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import platform
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import icnet
from icnet._xes import read_tickets, read_xes
from icnet.analysis import handovers as h
from icnet.worktime import WorkCalendar, sla_clocks

sys.path.insert(0, os.path.dirname(__file__))
from _results import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BPIC = ROOT / "data" / "samples" / "bpic2013" / "bpic2013_incidents.xes.gz"


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _timed(rows, name, fn):
    t = time.perf_counter()
    out = fn()
    rows.append((name, time.perf_counter() - t, _peak_gib()))
    print(f"  {name:<48} {rows[-1][1]:8.2f} s   peak {rows[-1][2]:.2f} GiB", flush=True)
    return out


def _quiet_pm4py():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py
    return pm4py


def write_xes(log: pd.DataFrame, path: str) -> None:
    """A plain XES writer for the benchmark (string attributes + time:timestamp)."""
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8" ?>\n'
                 '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n')
        ts = log["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "+00:00"
        prev = None
        for c, g, s, r, t in zip(log["case"], log["group"], log["status"], log["resource"],
                                 ts):
            if c != prev:
                if prev is not None:
                    fh.write("</trace>\n")
                fh.write(f'<trace><string key="concept:name" value="{c}"/>\n')
                prev = c
            fh.write(f'<event><string key="org:group" value="{g}"/>'
                     f'<string key="concept:name" value="{s}"/>'
                     f'<string key="org:resource" value="{r}"/>'
                     f'<date key="time:timestamp" value="{t}"/></event>\n')
        fh.write("</trace>\n</log>\n")


def part1(n_events: int, tmp: str):
    n_cases = max(100, n_events // 8)
    pairs = [("T0", "T1"), ("T2", "T3"), ("T4", "T5"), ("T6", "T7"), ("T8", "T9")]
    gen = h.simulate_tickets(n_cases=n_cases, n_teams=150, pingpong=pairs, bounce=0.4,
                             slow=["T10", "T11", "T12"], seed=0)
    path = os.path.join(tmp, "tickets.csv")
    gen.to_csv(path, index=False)
    print(f"generated ticket log: {len(gen):,} rows, {n_cases:,} tickets "
          f"({os.path.getsize(path) / 2**20:.0f} MiB CSV)", flush=True)
    cal = WorkCalendar(tz="Europe/Brussels")
    rows = []
    t0 = time.perf_counter()
    log = _timed(rows, "read_tickets (CSV export → log)",
                 lambda: read_tickets(path, case="case", timestamp="timestamp",
                                      status="status", group="group", resource="resource"))
    v = _timed(rows, "visits (working hours)", lambda: h.visits(log, calendar=cal))
    pp = _timed(rows, "pingpong", lambda: h.pingpong(v))
    _timed(rows, "reassignments", lambda: h.reassignments(v))
    _timed(rows, "escalations (by team)", lambda: h.escalations(v))
    _timed(rows, "escalations (by line)", lambda: h.escalations(v, by="line"))
    ht = _timed(rows, "holding_times", lambda: h.holding_times(v))
    _timed(rows, "handover_actions (all tests again)", lambda: h.handover_actions(v))
    _timed(rows, "sla_clocks (working hours)",
           lambda: sla_clocks(log, status="status", calendar=cal))
    net = _timed(rows, "from_process_log (teams, working hours)",
                 lambda: icnet.from_process_log(log, activity="status", resource="group",
                                                calendar=cal))
    hs = _timed(rows, "handover_summary (net with its log: every measure once)",
                lambda: h.handover_summary(net))
    from icnet.analysis.bottlenecks import holding_bottlenecks
    from icnet.analysis.conflicts import pingpong_conflicts
    from icnet.analysis.health import handover_health

    _timed(rows, "pingpong_conflicts + holding_bottlenecks + handover_health",
           lambda: (pingpong_conflicts(hs), holding_bottlenecks(hs), handover_health(hs)))
    total = time.perf_counter() - t0
    truth = set(gen.attrs["truth"]["pingpong"])
    found = set(zip(pp.loc[pp["flagged"], "team_a"], pp.loc[pp["flagged"], "team_b"]))
    slow_found = set(ht.loc[ht["slow"], "team"])
    info = dict(rows=len(gen), cases=n_cases, visits=len(v), total=total,
                planted=len(truth), found=len(truth & found), extra=len(found - truth),
                slow_truth=gen.attrs["truth"]["slow"], slow_found=sorted(slow_found),
                edges=len(net.edges), handovers=net.n_events)
    print(f"  whole analysis: {total:.1f} s; planted pairs found {info['found']}/"
          f"{info['planted']}, other flagged pairs {info['extra']}; slow teams "
          f"{sorted(slow_found)} (planted {info['slow_truth']})", flush=True)
    return gen, log, v, pp, net, rows, info


def part2(gen, log, v, pp, net, tmp, max_xes: int):
    try:
        pm4py = _quiet_pm4py()
    except ImportError:
        print("pm4py not installed: part 2 skipped")
        return None
    out = {"pm4py": pm4py.__version__}
    # (a) hand-over of work between teams
    df = log.rename(columns={"status": "activity"})
    t = time.perf_counter()
    f = pm4py.format_dataframe(df.copy(), case_id="case", activity_key="activity",
                               timestamp_key="timestamp")
    sna = pm4py.discover_handover_of_work_network(
        f, beta=0, resource_key="group", timestamp_key="time:timestamp",
        case_id_key="case:concept:name")
    out["pm_handover_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n2 = icnet.from_process_log(log, activity="status", resource="group")
    e = n2.edges
    out["ic_handover_s"] = time.perf_counter() - t
    pairs = len(log) - log["case"].nunique()
    pm = {k: int(round(val * pairs)) for k, val in sna.connections.items() if k[0] != k[1]}
    ic = dict(zip(zip(e["provider"], e["client"]), e["n_events"].astype(int)))
    out["handover_same"] = pm == ic
    out["handover_edges"] = len(ic)
    print(f"  hand-over network: pm4py {out['pm_handover_s']:.1f} s, icnet "
          f"{out['ic_handover_s']:.1f} s, identical counts: {out['handover_same']} "
          f"({len(ic):,} edges)", flush=True)
    # (b) subcontracting n=2 on the visit sequence vs icnet's bounces
    vis = pd.DataFrame({"case": v["case"], "group": v["team"], "activity": "visit",
                        "timestamp": v["start"].dt.tz_localize(None)
                        + pd.to_timedelta(v["pos"], unit="us")})
    t = time.perf_counter()
    fv = pm4py.format_dataframe(vis, case_id="case", activity_key="activity",
                                timestamp_key="timestamp")
    sub = pm4py.discover_subcontracting_network(
        fv, n=2, resource_key="group", timestamp_key="time:timestamp",
        case_id_key="case:concept:name")
    out["pm_sub_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pp2 = h.pingpong(h.visits(log))
    out["ic_pp_s"] = time.perf_counter() - t
    ncase = vis["case"].nunique()
    sub_counts = {k: int(round(val * ncase)) for k, val in sub.connections.items()}
    ic_b = dict(zip(zip(pp2["team_a"], pp2["team_b"]), pp2["bounces"].astype(int)))
    same = [k for k in ic_b if sub_counts.get(k) == ic_b[k]]
    out.update(sub_pairs=len(sub_counts), ic_pairs=len(ic_b), sub_agree=len(same),
               sub_total=sum(sub_counts.values()), ic_total=sum(ic_b.values()))
    print(f"  ping-pong: pm4py subcontracting(n=2) {out['pm_sub_s']:.1f} s, {len(sub_counts)} "
          f"pairs, {out['sub_total']:,} A-B-A counted; icnet pingpong {out['ic_pp_s']:.1f} s "
          f"(visits included), {len(ic_b)} pairs, {out['ic_total']:,} bounces; pairs with the "
          f"same count: {len(same)}", flush=True)
    # (c) reading XES
    xs = []
    t = time.perf_counter()
    a = read_xes(BPIC)
    ti = time.perf_counter() - t
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        b = pm4py.read_xes(str(BPIC))
        tp = time.perf_counter() - t
    same = (len(a) == len(b) and (a["case"].to_numpy() == b["case:concept:name"].to_numpy()).all()
            and (a["org:group"].to_numpy() == b["org:group"].to_numpy()).all()
            and (a["time:timestamp"].dt.tz_convert("UTC").to_numpy()
                 == pd.to_datetime(b["time:timestamp"], utc=True).to_numpy()).all())
    xs.append(("BPIC 2013 incidents", len(a), ti, tp, same))
    sub_log = gen[gen["case"].isin(gen["case"].unique()[: max(1, max_xes // 8)])]
    xp = os.path.join(tmp, "gen.xes.gz")
    write_xes(sub_log, xp)
    t = time.perf_counter()
    a = read_xes(xp)
    ti = time.perf_counter() - t
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        b = pm4py.read_xes(xp)
        tp = time.perf_counter() - t
    same = len(a) == len(b) and (a["org:group"].to_numpy() == b["org:group"].to_numpy()).all()
    xs.append(("generated", len(a), ti, tp, same))
    for name, n, ti, tp, s in xs:
        print(f"  read XES {name} ({n:,} events): icnet {ti:.1f} s, pm4py {tp:.1f} s, "
              f"same rows: {s}", flush=True)
    out["xes"] = xs
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--max-xes", type=int, default=200_000)
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gen, log, v, pp, net, rows, info = part1(args.events, tmp)
        side = part2(gen, log, v, pp, net, tmp, args.max_xes)
    lines = ["## Ticket logs (#22)", "",
             f"`python benchmarks/bench_tickets.py --events {args.events} --max-xes {args.max_xes}` on {platform.node() and 'this machine'} "
             f"({os.cpu_count()} cores, shared; Python {platform.python_version()}, pandas "
             f"{pd.__version__}). Generated ticket log: {info['rows']:,} rows, {info['cases']:,} "
             f"tickets, {info['visits']:,} team visits, 150 teams; read from a CSV export.", "",
             "| step | seconds | peak RSS (GiB) |", "|---|---:|---:|"]
    lines += [f"| {n} | {s:.2f} | {g:.2f} |" for n, s, g in rows]
    lines += [f"| **whole analysis** | **{info['total']:.1f}** | |", "",
              f"Planted ping-pong pairs found: {info['found']}/{info['planted']} (other flagged "
              f"pairs: {info['extra']}); slow teams flagged {info['slow_found']} (planted "
              f"{info['slow_truth']}).", ""]
    if side:
        lines += [f"Side by side with pm4py {side['pm4py']} (same log):", "",
                  "| measure | pm4py (s) | icnet (s) | agreement |", "|---|---:|---:|---|",
                  f"| team hand-over network | {side['pm_handover_s']:.1f} | "
                  f"{side['ic_handover_s']:.1f} | identical counts on {side['handover_edges']:,} "
                  f"edges: {side['handover_same']} |",
                  f"| ping-pong A→B→A (pm4py: subcontracting n=2 on the visit sequence) | "
                  f"{side['pm_sub_s']:.1f} | {side['ic_pp_s']:.1f} | pm4py {side['sub_pairs']} "
                  f"pairs / {side['sub_total']:,} counted; icnet {side['ic_pairs']} pairs / "
                  f"{side['ic_total']:,} bounces; same count on {side['sub_agree']} pairs |"]
        for name, n, ti, tp, s in side["xes"]:
            lines.append(f"| read XES, {name} ({n:,} events) | {tp:.1f} | {ti:.1f} | "
                         f"same rows: {s} |")
        lines += ["", "pm4py has no ping-pong measure (nor a null model for it); its "
                  "subcontracting metric is the closest count and counts each resource's "
                  "patterns only at its first occurrence (see the pm4py note in "
                  "docs/methods/handovers.md), hence the lower counts."]
    write_section(args.out, "\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
