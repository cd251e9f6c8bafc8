"""The ``icnet`` command line.

Subcommands
-----------
``icnet analyze EVENTS [--people F] [--ratings F] [--agreements F] [--level unit] --out DIR``
    Read the tables, run every analysis and write ``report.html``, the result
    tables as CSV and the figures as PNG into ``DIR``. With ``--engine dask`` the
    events (a Parquet dataset, CSV or Parquet file) are read and analysed on a Dask
    cluster (``--scheduler ADDRESS``, or ``--workers N`` local worker processes);
    only per-provider and per-pair summaries reach this process.
``icnet demo --out DIR``
    The same on the bundled ``planta`` sample.
``icnet generate --people N --seed S --out DIR``
    Write a synthetic organisation with planted patterns and its ``truth.json``.
``icnet validate EVENTS [--people F] …``
    Check input files and list every problem with row numbers.

Exit codes
----------
0
    success (``validate``: every table is valid).
1
    an unexpected internal error (run again with ``--debug`` for the traceback
    and report it).
2
    invalid input or usage: a missing file, a bad column or value, an empty
    table, an unknown option (``validate``: at least one problem found).
3
    a configured budget would be exceeded (e.g. too many permutations).
130 / 143
    interrupted by Ctrl-C / terminated (SIGTERM); outputs are written into a
    temporary folder and moved in place at the end, so an interrupted run
    leaves the previous outputs (or new tables without a report), never a
    half-written file.

Output folders
--------------
``--out`` must not hold any input file. Each run writes ``icnet-manifest.json``
listing its files and removes the files of its own earlier run that it did not
write again. ``icnet generate`` refuses a folder holding other files unless
``--force``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_INVALID, EXIT_BUDGET = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT / SIGTERM, as shells do
_MAX_PEOPLE, _MAX_DAYS = 1_000_000, 36_500  # generate budget

_EPILOG = """\
examples:
  icnet demo --out icnet-demo
  icnet analyze events.csv --people people.csv --agreements agreements.csv --out results
  icnet analyze tickets.parquet --columns map.json --level unit --out results
  icnet analyze events_dataset/ --people people.csv --engine dask --workers 2 --out results
  icnet validate events.csv --people people.csv
  icnet generate --people 500 --seed 1 --out synthetic

map.json maps your column names onto icnet's, e.g. {"solicitante": "client",
"area_que_atiende": "provider", "fecha": "requested_at"}. Exit codes: 0 ok,
1 internal error, 2 invalid input or usage, 3 budget exceeded.
"""


class _Progress:
    """Step messages on stderr, only when stderr is a terminal and not --quiet."""

    def __init__(self, quiet: bool):
        self.on = (not quiet) and sys.stderr.isatty()

    @contextmanager
    def step(self, what: str):
        t = time.perf_counter()
        if self.on:
            print(f"icnet: {what} …", end="", file=sys.stderr, flush=True)
        yield
        if self.on:
            print(f" done ({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    import icnet

    p = argparse.ArgumentParser(
        prog="icnet", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="icnet: internal-customer network analysis (who serves whom, how well, "
                    "how fast; bottlenecks, conflict cycles, retaliation spirals, actions).",
        epilog=_EPILOG)
    p.add_argument("--version", action="version", version=f"icnet {icnet.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp, *, tables=True):
        if tables:
            sp.add_argument("--people", help="people table: person, unit, [manager, role, "
                                             "external_facing]")
            sp.add_argument("--ratings", help="survey ratings: rater, provider, perception, …")
            sp.add_argument("--agreements", help="service agreements: provider, client, "
                                                 "max_delay_hours, …")
            sp.add_argument("--columns", metavar="MAP.json",
                            help='JSON object mapping your column names onto icnet\'s, e.g. '
                                 '{"solicitante": "client"}')
            sp.add_argument("--scale", default="1,5", metavar="LOW,HIGH",
                            help="satisfaction scale (default 1,5)")
            sp.add_argument("--tz", default="UTC",
                            help="time zone of naive timestamps (default UTC)")
            sp.add_argument("--sep", help="CSV field separator (default: ',' or tab for "
                                          ".tsv; e.g. ';' for European Excel exports)")
            sp.add_argument("--encoding", help="CSV text encoding (default utf-8; e.g. "
                                               "latin-1, cp1252)")
            sp.add_argument("--decimal", help="CSV decimal mark (default '.'; e.g. ',')")
            sp.add_argument("--sheet", help="Excel workbooks: the sheet to read (default: "
                                            "the sheet named like the table, or the only one)")
            sp.add_argument("--dayfirst", action="store_true", default=None,
                            help="read dates such as 01/03/2025 day first (1 March)")
            sp.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                            help="read dates such as 01/03/2025 month first (3 January)")
            sp.add_argument("--date-format", metavar="FORMAT",
                            help="strftime format of every date, e.g. %%d/%%m/%%Y")
        sp.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
        sp.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    def outputs(sp):
        sp.add_argument("--out", required=True, metavar="DIR", help="output folder")
        sp.add_argument("--level", default="unit",
                        help="level= of the analyses and the report, as in the API: unit "
                             "(default; people summarised by unit) or person (needs "
                             "--individuals)")
        sp.add_argument("--individuals", action="store_true",
                        help="include person-level rows (off by default: privacy)")
        sp.add_argument("--min-group-size", type=int, default=5, metavar="N",
                        help="suppress survey figures about fewer than N raters (default 5)")
        sp.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    a = sub.add_parser("analyze", help="analyse your tables and write the report",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    a.add_argument("events", help="service events (CSV, Parquet or Excel): provider, "
                                  "client, …; or a folder of tables named events, people, "
                                  "ratings, agreements (or an Excel workbook with such sheets)")
    common(a)
    outputs(a)
    a.add_argument("--errors", choices=["raise", "drop"], default="raise",
                   help="raise at the first invalid row (default) or drop invalid rows "
                        "(listed in dropped.csv)")
    a.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                   help="pandas (default: the events in memory) or dask (the events stay on "
                        "a Dask cluster; needs pip install \"icnet[dask]\")")
    a.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --engine dask: a running dask.distributed scheduler "
                        "(default: start local workers)")
    a.add_argument("--workers", type=int, default=2, metavar="N",
                   help="with --engine dask and no --scheduler: local worker processes "
                        "(default 2, one thread each)")

    d = sub.add_parser("demo", help="run the whole analysis on the bundled 'planta' sample")
    common(d, tables=False)
    outputs(d)

    g = sub.add_parser("generate", help="write a synthetic organisation with planted patterns")
    g.add_argument("--people", type=int, default=150, help="number of people (default 150)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--days", type=int, default=365)
    g.add_argument("--plant", choices=["default", "none"], default="default",
                   help="plant the default patterns, or none (pattern-free data)")
    g.add_argument("--format", choices=["csv", "parquet"], default="csv")
    g.add_argument("--out", required=True, metavar="DIR")
    g.add_argument("--force", action="store_true",
                   help="overwrite files already in --out (refused by default)")
    g.add_argument("--quiet", "-q", action="store_true")
    g.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    v = sub.add_parser("validate", help="check input files and list every problem")
    v.add_argument("events", nargs="?", help="service events file")
    common(v)
    return p


def _scale(text: str):
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise _Usage(f"--scale must look like 1,5; got {text!r}") from None
    return low, high


def _columns(path):
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            m = json.load(fh)
    except FileNotFoundError:
        raise _Usage(f"--columns file {path!r} does not exist") from None
    except json.JSONDecodeError as err:
        raise _Usage(f"--columns file {path!r} is not valid JSON ({err})") from None
    if not isinstance(m, dict):
        raise _Usage(f"--columns file {path!r} must hold a JSON object "
                     '{"your_name": "icnet_name"}')
    return m


class _Usage(Exception):
    pass


@contextmanager
def _cluster(args):
    """With ``--engine dask``: a client of ``--scheduler``, or of ``--workers`` local
    worker processes (one thread each) started here and closed at the end."""
    if args.engine != "dask":
        yield None
        return
    if args.workers < 1:
        raise _Usage("--workers must be at least 1")
    try:
        import distributed
    except ImportError:
        raise _Usage('--engine dask needs Dask: pip install "icnet[dask]"') from None
    if args.scheduler:
        try:
            client = distributed.Client(args.scheduler, timeout="30s")
        except OSError as err:
            raise _Usage(f"cannot reach the Dask scheduler {args.scheduler!r} ({err})") \
                from None
        with client:
            yield client
        return
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                  dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _read_options(args) -> dict:
    """The reading options given on the command line (only those set)."""
    keys = ("sep", "encoding", "decimal", "sheet", "dayfirst", "date_format")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _analyze(args, net, prog: _Progress, inputs=()) -> None:
    import icnet

    from ._files import OutputFolder, write_csv

    out = Path(args.out)
    # checked before the analysis; written into a temporary folder, then moved in place
    folder = OutputFolder(out, inputs=inputs)
    with folder, prog.step("analysing and writing the report"):
        icnet.report(net, folder.tmp / "report.html", tables=True, level=args.level,
                     individuals=args.individuals, min_group_size=args.min_group_size,
                     seed=args.seed)
        if len(net.dropped):
            from icnet.privacy import publishable_dropped     # no survey answers (#20)
            write_csv(publishable_dropped(net.dropped, individuals=args.individuals),
                      folder.tmp / "dropped.csv")
    if not args.quiet:
        print(f"icnet: wrote {out / 'report.html'} and the result tables in {out}/")


def _run(args, prog: _Progress) -> int:
    import icnet

    if args.command == "analyze":
        if args.engine == "pandas" and (args.scheduler or args.workers != 2):
            raise _Usage("--scheduler and --workers go with --engine dask")
        tables = _tables(args)
        inputs = [v for v in tables.values() if isinstance(v, (str, Path))]
        inputs += [args.events, args.columns]
        from ._files import OutputFolder

        OutputFolder(args.out, inputs=inputs)  # refuse a bad --out before any work
        ropts = _read_options(args)
        with _cluster(args):
            with prog.step("reading and validating the tables"):
                kw = dict(scale=_scale(args.scale), columns=_columns(args.columns),
                          errors=args.errors, tz=args.tz, engine=args.engine)
                if ropts:
                    kw.update(ropts)
                net = icnet.from_events(
                    tables["events"], people=tables.get("people"),
                    ratings=tables.get("ratings"), agreements=tables.get("agreements"), **kw)
            _analyze(args, net, prog, inputs=inputs)
        return EXIT_OK
    if args.command == "demo":
        with prog.step("loading the 'planta' sample"):
            net = icnet.datasets.load("planta")
        _analyze(args, net, prog)
        return EXIT_OK
    if args.command == "generate":
        if args.people < 2:
            raise _Usage("--people must be at least 2")
        if args.days < 1:
            raise _Usage("--days must be at least 1")
        if args.people > _MAX_PEOPLE or args.days > _MAX_DAYS:
            from .errors import BudgetExceededError

            raise BudgetExceededError(
                f"generate is limited to {_MAX_PEOPLE:,} people and {_MAX_DAYS:,} days "
                f"(asked {args.people:,} and {args.days:,}); larger organisations do not fit "
                "one machine's memory. Generate several smaller ones.")
        from . import synth

        with prog.step(f"generating {args.people} people over {args.days} days"):
            org = synth.organisation(n_people=args.people, days=args.days, seed=args.seed,
                                     plant=None if args.plant == "default" else "none")
        from ._files import OutputFolder

        with prog.step(f"writing {args.format} files"), \
                OutputFolder(args.out, overwrite=args.force, last="truth.json") as folder:
            synth.write(org, folder.tmp, format=args.format, progress=prog.on)
        if not args.quiet:
            print(f"icnet: wrote {len(org.events)} events, {len(org.people)} people and "
                  f"truth.json to {args.out}/")
        return EXIT_OK
    if args.command == "validate":
        if not any([args.events, args.people, args.ratings, args.agreements]):
            raise _Usage("give at least one file to validate")
        tables = _tables(args)
        problems = icnet.io.validate(tables.get("events"), tables.get("people"),
                                     tables.get("ratings"), tables.get("agreements"),
                                     columns=_columns(args.columns), scale=_scale(args.scale),
                                     tz=args.tz, **_read_options(args))
        if problems.empty:
            if not args.quiet:
                print("icnet: no problems found")
            return EXIT_OK
        for rec in problems.itertuples():
            print(f"{rec.table}: {rec.message}")
        print(f"icnet: {len(problems)} problem(s) found; row numbers count data rows from 0 "
              "(file line = row + 2)", file=sys.stderr)
        return EXIT_INVALID
    raise _Usage("choose a command: analyze, demo, generate or validate (see icnet --help)")


def _tables(args) -> dict:
    """The tables of ``analyze``/``validate``: a folder or workbook of named tables in
    the events argument (see :func:`icnet.io.find_tables`), completed by the options."""
    import icnet

    found = {}
    ev = getattr(args, "events", None)
    if ev is not None and (Path(ev).is_dir() or str(ev).lower().endswith((".xlsx", ".xlsm"))):
        found = icnet.io.find_tables(ev, sheet=getattr(args, "sheet", None))
        if "events" not in found and Path(ev).is_dir():
            # no table named events: the folder is the events, as a Parquet dataset
            if not any(Path(ev).rglob("*.parquet")) and not any(Path(ev).rglob("*.pq")):
                raise _Usage(f"{ev!r} holds no events table: name it events.csv, "
                             "events.parquet or events.xlsx (or give a Parquet dataset)")
            found = {"events": ev}
        elif "events" not in found and getattr(args, "command", "") == "analyze":
            raise _Usage(f"{ev!r} holds no events table: name a sheet 'events' or pass "
                         "--sheet")
    elif ev is not None:
        found["events"] = ev
    for k in ("people", "ratings", "agreements"):
        if getattr(args, k, None) is not None:
            found[k] = getattr(args, k)
    return found


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so temporary files are cleaned up."""


def _on_sigterm(signum, frame):  # pragma: no cover - exercised in a subprocess
    raise _Terminated()


def main(argv=None) -> int:
    """Run the ``icnet`` command; return its exit code (see the module docstring).

    Examples
    --------
    >>> main(["validate", "--quiet"])
    2
    """
    from .errors import BudgetExceededError, IcnetError

    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or usage errors (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    prog = _Progress(getattr(args, "quiet", False))
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    else:  # pragma: no cover
        old_term = None
    try:
        with warnings.catch_warnings():
            if getattr(args, "quiet", False):
                warnings.simplefilter("ignore")
            return _run(args, prog)
    except _Usage as err:
        print(f"icnet {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"icnet {args.command}: interrupted; nothing new was left half-written.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"icnet {args.command}: terminated; nothing new was left half-written.",
              file=sys.stderr)
        return EXIT_TERMINATED
    except BudgetExceededError as err:
        print(f"icnet {args.command}: {err}", file=sys.stderr)
        return EXIT_BUDGET
    except (IcnetError, OSError) as err:
        if args.debug:
            raise
        print(f"icnet {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as err:  # pragma: no cover - a bug of ours
        if args.debug:
            raise
        print(f"icnet {args.command}: internal error ({type(err).__name__}: {err}). Run again "
              "with --debug for details and report it.", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
