"""Benchmark: ``icnet.from_events(engine="dask")`` on a 200,000-person, ~50 M-event log.

Run: ``python benchmarks/bench_dask.py [--divisions 10] [--people 20000] [--data DIR]``.

1. Generates a group of ``--divisions`` companies with ``icnet.synth.organisation``
   (``--people`` each, ``events_per_person=250``, seed = division number), one at a
   time so generation never holds more than one division (~5 M events) in memory.
   Ids, units and event ids get a ``D<k>-`` prefix (200,000 distinct people). Each
   division is written as 5 Parquet files of ~1 M rows into one dataset directory.
2. Builds the network from the whole dataset with ``engine="dask"`` on a
   ``LocalCluster(n_workers=2, threads_per_worker=1)`` (worker processes), with
   the people table, and times it; then ``conflict_cycles`` on the result.
3. Compares Dask with pandas on the first division alone (~5 M events, 20,000
   people): ``from_events`` + edges, median of ``--repeat`` runs each, and checks
   that the edge tables are identical.

With ``--spirals`` it only measures ``retaliation_spirals`` on one division (generated
alone if the dataset is not there): the pandas path (events in memory) against the Dask
path (per partition of pairs on the cluster, events never on the driver), time and peak
RSS of the driver, and writes the "Dask: retaliation spirals" section.

Memory: peak RSS of this process plus every child process (the cluster's nanny and
worker processes), sampled every 0.1 s. Appends (or replaces) the "Dask" section
of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

import icnet
from _results import write_section
from icnet import synth

HEADER = "## Dask: logs that do not fit one machine (`benchmarks/bench_dask.py`)"


@contextmanager
def local_cluster():
    """The benchmark's cluster: 2 worker processes of one thread each, quiet logs."""
    import logging

    import distributed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        yield client


class PeakRSS:
    """Peak of (this process + all its children) RSS, sampled in a thread."""

    def __init__(self, every: float = 0.1):
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self.driver_peak = 0

    def _sample(self):
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                drv = me.memory_info().rss
                tot = drv + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                continue
            self.peak, self.driver_peak = max(self.peak, tot), max(self.driver_peak, drv)
            time.sleep(self.every)

    def __enter__(self):
        self.peak = self.driver_peak = 0
        self._stop.clear()
        self._t = threading.Thread(target=self._sample, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def generate(data: Path, divisions: int, people: int) -> tuple[int, pd.DataFrame]:
    """Write the divisions as one Parquet dataset; return (n events, people table)."""
    if data.exists():
        shutil.rmtree(data)
    (data / "events").mkdir(parents=True)
    n, ppl, agr = 0, [], []
    for k in range(divisions):
        t = time.perf_counter()
        org = synth.organisation(n_people=people, seed=k, events_per_person=250)
        pre = f"D{k}-"
        ev = org.events
        for c in ("provider", "client", "event_id"):
            ev[c] = pre + ev[c].astype(str)
        p = org.people.copy()
        for c in ("person", "unit", "manager"):
            p[c] = np.where(p[c].isna(), None, pre + p[c].astype(str)).astype(object)
        ppl.append(p)
        if org.agreements is not None:
            a = org.agreements.copy()
            for c in ("provider", "client"):
                a[c] = pre + a[c].astype(str)
            agr.append(a)
        for i, rows in enumerate(np.array_split(np.arange(len(ev)), 5)):
            ev.iloc[rows].to_parquet(data / "events" / f"d{k:02d}-{i}.parquet", index=False)
        n += len(ev)
        print(f"division {k}: {len(ev):,} events in {time.perf_counter() - t:.1f} s "
              f"(total {n:,})", flush=True)
        del org, ev
    people_df = pd.concat(ppl, ignore_index=True)
    people_df.to_parquet(data / "people.parquet", index=False)
    if agr:
        pd.concat(agr, ignore_index=True).to_parquet(data / "agreements.parquet", index=False)
    return n, people_df


SPIRALS_HEADER = ("## Dask: retaliation spirals per partition of pairs "
                  "(`benchmarks/bench_dask.py --spirals`)")


def spirals(args) -> int:
    """``retaliation_spirals`` on one division: pandas vs Dask (time, driver memory)."""
    import logging

    import dask
    logging.getLogger("distributed").setLevel(logging.ERROR)
    data = Path(args.data)
    d0 = data / "d0"
    if not d0.exists() or not any(d0.glob("*.parquet")):
        if not (data / "events").exists() or not any((data / "events").glob("d00-*")):
            generate(data, 1, args.people)
        d0.mkdir(exist_ok=True)
        for f in sorted((data / "events").glob("d00-*.parquet")):
            os.link(f, d0 / f.name)
    people = pd.read_parquet(data / "people.parquet")
    ppl0 = people[people["person"].str.startswith("D0-")].reset_index(drop=True)
    res = {}
    with PeakRSS() as mem:
        t = time.perf_counter()
        net = icnet.from_events(d0, people=ppl0)
        build = time.perf_counter() - t
        t = time.perf_counter()
        ref = icnet.retaliation_spirals(net, n_perm=args.n_perm)
        res["pandas"] = (len(net.events), build, time.perf_counter() - t,
                         mem.driver_peak / 2**30, mem.peak / 2**30)
    print(f"pandas: build {build:.1f} s, spirals {res['pandas'][2]:.1f} s, "
          f"driver peak {res['pandas'][3]:.2f} GiB", flush=True)
    del net
    with local_cluster():
        with PeakRSS() as mem:
            t = time.perf_counter()
            net = icnet.from_events(d0, people=ppl0, engine="dask")
            build = time.perf_counter() - t
            t = time.perf_counter()
            got = icnet.retaliation_spirals(net, n_perm=args.n_perm)
            res["dask"] = (net.n_events, build, time.perf_counter() - t,
                           mem.driver_peak / 2**30, mem.peak / 2**30)
        assert net._local is None           # the events never reached the driver
    print(f"dask: build {build:.1f} s, spirals {res['dask'][2]:.1f} s, driver peak "
          f"{res['dask'][3]:.2f} GiB, with workers {res['dask'][4]:.2f} GiB", flush=True)
    key = ["a", "b"]
    a = ref.sort_values(key).reset_index(drop=True)
    b = got.sort_values(key).reset_index(drop=True)
    same = ["a", "b", "n_ab", "n_ba", "bad_ab", "bad_ba", "rounds", "start", "initiator"]
    pd.testing.assert_frame_equal(a[same], b[same])
    d_eff = float(np.nanmax(np.abs(np.r_[a.effect_ab - b.effect_ab,
                                         a.effect_ba - b.effect_ba]), initial=0.0))
    dp = np.abs(np.r_[a.p_ab - b.p_ab, a.p_ba - b.p_ba])
    dp = dp[np.isfinite(dp)]
    agree = float((a.kind == b.kind).mean())
    n_t = ref.attrs["n_tested"]
    rows = "\n".join(
        f"| {eng} | {r[0]:,} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.2f} | {r[4]:.2f} |"
        for eng, r in res.items())
    text = f"""{SPIRALS_HEADER}

Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; dask
{dask.__version__}. One division ({args.people:,} people, `events_per_person=250`, seed 0,
5 Parquet files); `retaliation_spirals(net, n_perm={args.n_perm})` after `from_events`, pandas
(events in the driver) and Dask (`LocalCluster(n_workers=2, threads_per_worker=1)`, worker
processes; per partition of pairs, events never computed to the driver). Peak RSS sampled
every 0.1 s over build + spirals. One run each.

| engine | events | build (s) | spirals (s) | peak RSS driver (GiB) | driver + workers (GiB) |
|---|---:|---:|---:|---:|---:|
{rows}

{n_t:,} tested pairs. Same pairs, counts, rounds, onsets and initiators; largest
difference of `effect_ab`/`effect_ba` {d_eff:.1e}; p-values are another Monte Carlo draw
(mean |Δp| {dp.mean():.3f}, largest {dp.max():.3f}); `kind` agrees on {agree:.1%} of the pairs.
"""
    out = Path(args.out)
    write_section(out, text)
    print(text)
    print(f"wrote {out}")
    return 0


ANALYZE_HEADER = ("## Dask: the whole `icnet analyze --engine dask` on 50 M events "
                  "(`benchmarks/bench_dask.py --analyze`)")


def analyze(args) -> int:
    """The whole ``icnet analyze --engine dask`` on the generated dataset, in its own
    process (it starts its own 2-worker cluster): wall time, peak RSS of the command's
    process (the driver) and of the command plus its workers, and what it wrote."""
    data = Path(args.data)
    if not (data / "people.parquet").exists():
        generate(data, args.divisions, args.people)
    out_dir = Path(args.analyze_out)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    cmd = [sys.executable, "-m", "icnet", "analyze", str(data / "events"),
           "--people", str(data / "people.parquet"), "--engine", "dask", "--workers", "2",
           "--out", str(out_dir), "--quiet"]
    if (data / "agreements.parquet").exists():
        cmd[5:5] = ["--agreements", str(data / "agreements.parquet")]
    print(" ".join(cmd), flush=True)
    t = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=sys.stdout, stderr=sys.stderr)
    drv = tot = 0
    while proc.poll() is None:
        try:
            d = proc.memory_info().rss
            w = sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            continue
        drv, tot = max(drv, d), max(tot, d + w)
        time.sleep(0.2)
    sec = time.perf_counter() - t
    if proc.returncode != 0:
        print(f"icnet analyze failed with exit code {proc.returncode}")
        return 1
    edges = pd.read_csv(out_dir / "edges.csv")
    nodes = pd.read_csv(out_dir / "nodes.csv")
    spirals = pd.read_csv(out_dir / "spirals.csv")
    health = pd.read_csv(out_dir / "health.csv")
    n_events = int(pd.read_parquet(data / "events", columns=["event_id"]).shape[0])
    wrote = sorted(p.name for p in out_dir.iterdir())
    mem_total = psutil.virtual_memory().total / 2**30
    import dask
    text = f"""{ANALYZE_HEADER}

Machine: {os.cpu_count()} cores, {mem_total:.0f} GiB; Python {platform.python_version()},
pandas {pd.__version__}, dask {dask.__version__}. One run (shared, noisy machine). The
command, as a user runs it (it starts `LocalCluster(n_workers=2, threads_per_worker=1)`):

    python {" ".join(cmd[1:])}

| input events | seconds | peak RSS of the command (driver, GiB) | peak RSS driver + workers (GiB) |
|---:|---:|---:|---:|
| {n_events:,} | {sec:.0f} | {drv / 2**30:.2f} | {tot / 2**30:.2f} |

It read, validated and aggregated the log, ran every analysis of the report (quality,
agreement compliance, bottlenecks and conflict cycles at both levels, retaliation spirals,
health, actions, the figures) and wrote {len(wrote)} files: the report, {sum(x.endswith(".csv") for x in wrote)} tables
(unit-level edges: {len(edges):,}; nodes: {len(nodes):,}; spiral rows: {len(spirals):,};
health rows: {len(health):,}) and {sum(x.endswith(".png") for x in wrote)} figures. The events reached the driver only
as per-provider and per-pair summaries.
"""
    write_section(Path(args.out), text)
    print(text)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--divisions", type=int, default=10)
    ap.add_argument("--people", type=int, default=20000, help="people per division")
    ap.add_argument("--data", default="/tmp/icnet_bench_dask")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reuse", action="store_true", help="reuse an existing dataset")
    ap.add_argument("--out", default="benchmarks/RESULTS.md")
    ap.add_argument("--spirals", action="store_true",
                    help="only retaliation_spirals on one division, pandas vs Dask")
    ap.add_argument("--n-perm", type=int, default=499)
    ap.add_argument("--analyze", action="store_true",
                    help="only the whole `icnet analyze --engine dask` on the dataset")
    ap.add_argument("--analyze-out", default="/tmp/icnet_bench_analyze")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.spirals:
        return spirals(args)
    if args.analyze:
        return analyze(args)
    import logging

    import dask
    import distributed
    logging.getLogger("distributed").setLevel(logging.ERROR)

    data = Path(args.data)
    t = time.perf_counter()
    if args.reuse and (data / "people.parquet").exists():
        people = pd.read_parquet(data / "people.parquet")
        n_events = None
        gen_s = float("nan")
    else:
        n_events, people = generate(data, args.divisions, args.people)
        gen_s = time.perf_counter() - t
    size_gib = sum(f.stat().st_size for f in (data / "events").iterdir()) / 2**30
    rows = {}

    with local_cluster():
        # ---- the whole log through Dask
        with PeakRSS() as mem:
            t = time.perf_counter()
            agreements = (pd.read_parquet(data / "agreements.parquet")
                          if (data / "agreements.parquet").exists() else None)
            net = icnet.from_events(data / "events", people=people, agreements=agreements,
                                    engine="dask")
            build = time.perf_counter() - t
        n_events = net.n_events
        print(f"dask build: {n_events:,} events, {len(net.node_ids):,} nodes, "
              f"{len(net.edges):,} edges in {build:.1f} s; peak RSS driver "
              f"{mem.driver_peak / 2**30:.2f} GiB, driver+workers {mem.peak / 2**30:.2f} GiB",
              flush=True)
        rows["big"] = dict(events=n_events, nodes=len(net.node_ids), edges=len(net.edges),
                           partitions=net.events.npartitions, seconds=build,
                           driver=mem.driver_peak / 2**30, total=mem.peak / 2**30)
        t = time.perf_counter()
        cyc = icnet.conflict_cycles(net)
        rows["cycles"] = (time.perf_counter() - t, len(cyc))
        print(f"conflict_cycles: {len(cyc)} cycles in {rows['cycles'][0]:.2f} s", flush=True)
        # analyses that keep the events on the cluster (they never reach the driver)
        rows["kept"] = []
        for name, fn in (
                ('`net.by("unit")` + its edges', lambda x: len(x.by("unit").edges)),
                (f"`retaliation_spirals(n_perm={args.n_perm})`",
                 lambda x: len(icnet.retaliation_spirals(x, n_perm=args.n_perm))),
                ("`agreement_compliance`", lambda x: len(icnet.agreement_compliance(x)
                                                        .agreements)),
                ("`service_quality` (people and units)",
                 lambda x: len(icnet.service_quality(x).edges)),
                ("`bottlenecks`", lambda x: len(icnet.bottlenecks(x))),
                ('`bottlenecks(level="unit")`',
                 lambda x: len(icnet.bottlenecks(x, level="unit")))):
            with PeakRSS() as mem:
                t = time.perf_counter()
                try:
                    out_n, err = fn(net), ""
                except Exception as exc:          # report it rather than lose the run
                    out_n, err = 0, f"failed: {type(exc).__name__}: {exc}"[:200]
                sec = time.perf_counter() - t
            rows["kept"].append((name, out_n, sec, mem.driver_peak / 2**30, mem.peak / 2**30,
                                 err))
            print(f"{name}: {out_n:,} rows in {sec:.1f} s; driver peak "
                  f"{mem.driver_peak / 2**30:.2f} GiB {err}", flush=True)
        rows["local"] = net._local is None
        del net, cyc

        # ---- one division (~5 M events): Dask vs pandas
        d0 = data / "d0"
        if d0.exists():
            shutil.rmtree(d0)
        d0.mkdir()
        for f in sorted((data / "events").glob("d00-*.parquet")):
            os.link(f, d0 / f.name)
        ppl0 = people[people["person"].str.startswith("D0-")].reset_index(drop=True)
        times = {"dask": [], "pandas": []}
        peaks = {"dask": 0.0, "pandas": 0.0}
        edges = {}
        for _ in range(args.repeat):
            for eng in ("pandas", "dask"):
                with PeakRSS() as mem:
                    t = time.perf_counter()
                    n = icnet.from_events(d0, people=ppl0, engine=eng)
                    e = n.edges
                    times[eng].append(time.perf_counter() - t)
                peaks[eng] = max(peaks[eng], mem.peak / 2**30)
                edges[eng] = e
                n5 = len(n.events) if eng == "pandas" else n.n_events
                print(f"one division, {eng}: {times[eng][-1]:.1f} s", flush=True)
                del n, e
        pd.testing.assert_frame_equal(edges["pandas"], edges["dask"])
        rows["small"] = dict(events=n5, **{f"{k}_s": statistics.median(v)
                                          for k, v in times.items()},
                             **{f"{k}_gib": v for k, v in peaks.items()})

    b, s = rows["big"], rows["small"]
    gen_txt = ("generated by an earlier run (`--reuse`)" if gen_s != gen_s
               else f"generation took {gen_s:.0f} s")
    kept = "\n".join(f"| {name} on that network | | | {n:,} rows{' — ' + err if err else ''} | "
                     f"{sec:.1f} | {drv:.2f} | {tot:.2f} |"
                     for name, n, sec, drv, tot, err in rows["kept"])
    mem_total = psutil.virtual_memory().total / 2**30
    text = f"""{HEADER}

Machine: {os.cpu_count()} cores, {mem_total:.0f} GiB; Python {platform.python_version()},
pandas {pd.__version__}, dask {dask.__version__}, distributed {distributed.__version__}.
Cluster: `LocalCluster(n_workers=2, threads_per_worker=1)` (worker processes) on the same
machine. Generated by `python benchmarks/bench_dask.py` (one run for the big log; shared,
noisy machine). Memory = peak RSS of the driver process plus its nanny and worker
processes, sampled every 0.1 s.

Data: {args.divisions} divisions generated by `icnet.synth.organisation` ({args.people:,}
people each, `events_per_person=250`, seeds 0..{args.divisions - 1}, ids prefixed per
division), one division at a time, written as one Parquet dataset of
{b['partitions']} files ({size_gib:.1f} GiB on disk); {gen_txt}.

| step | events | people / nodes | edges | seconds | peak RSS driver (GiB) | peak RSS driver + workers (GiB) |
|---|---:|---:|---:|---:|---:|---:|
| `from_events(path, people=..., engine="dask")` | {b['events']:,} | {b['nodes']:,} | {b['edges']:,} | {b['seconds']:.1f} | {b['driver']:.2f} | {b['total']:.2f} |
| `conflict_cycles` on that network (edge-based) | | | {rows['cycles'][1]:,} cycles | {rows['cycles'][0]:.2f} | | |
{kept}

Events computed to the driver during these steps: {"never" if rows["local"] else "yes"}.

One division ({s['events']:,} events, {args.people:,} people), Parquet dataset of 5 files, read +
validate + aggregate (`from_events(...).edges`), median of {args.repeat}:

| engine | seconds | peak RSS incl. workers (GiB) |
|---|---:|---:|
| pandas | {s['pandas_s']:.1f} | {s['pandas_gib']:.2f} |
| dask (2 worker processes) | {s['dask_s']:.1f} | {s['dask_gib']:.2f} |

Dask / pandas time ratio at {s['events'] / 1e6:.1f} M events: {s['dask_s'] / s['pandas_s']:.2f}. The edge tables
are identical (checked with `assert_frame_equal`). Dask reads and validates the log twice
(once for the counts and ids, once to aggregate) and shuffles it by pair; it is worth it
only when the log does not fit one machine's memory.
"""
    out = Path(args.out)
    write_section(out, text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
