"""Small organisations to learn, test and document icnet with.

``toy()`` builds a 12-person company in code (every doctest uses it);
``load(name)`` returns a bundled sample from ``data/samples/``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = ["toy", "toy_tables", "load", "available"]

_PEOPLE = [
    # person, unit, role, external_facing
    ("ana", "Produccion", "head", False), ("beto", "Produccion", "operator", False),
    ("carla", "Produccion", "operator", False), ("dario", "Calidad", "head", False),
    ("elena", "Calidad", "staff", False), ("fede", "Mantenimiento", "head", False),
    ("gabi", "Mantenimiento", "staff", False), ("hugo", "Informatica", "head", False),
    ("ines", "Informatica", "staff", False), ("juan", "Ventas", "head", True),
    ("karla", "Ventas", "staff", True), ("luis", "Ventas", "staff", True),
]
_UNITS = {
    # provider unit -> [(client unit, events per person pair, mean satisfaction, mean delay h)]
    "Produccion": [("Ventas", 14, 4.1, 30), ("Calidad", 12, 1.8, 20),
                   ("Produccion", 4, 4.2, 6)],
    "Calidad": [("Produccion", 12, 1.7, 16), ("Ventas", 6, 4.0, 10)],
    "Mantenimiento": [("Produccion", 10, 3.9, 12)],
    "Informatica": [("Produccion", 6, 2.9, 70), ("Ventas", 6, 3.0, 80),
                    ("Calidad", 6, 3.1, 60), ("Mantenimiento", 5, 3.2, 65)],
    "Ventas": [("Produccion", 8, 3.8, 8)],
}
_SERVICE = {"Produccion": "material", "Calidad": "quality", "Mantenimiento": "maintenance",
            "Informatica": "it", "Ventas": "information"}


def toy_tables() -> dict[str, pd.DataFrame]:
    """The raw tables behind :func:`toy` (``events``, ``people``, ``agreements``).

    Examples
    --------
    >>> sorted(toy_tables())
    ['agreements', 'events', 'people']
    """
    rng = np.random.default_rng(20250101)
    people = pd.DataFrame(_PEOPLE, columns=["person", "unit", "role", "external_facing"])
    heads = people[people["role"] == "head"].set_index("unit")["person"]
    people["manager"] = people["unit"].map(heads)
    people.loc[people["role"] == "head", "manager"] = np.nan
    by_unit = people.groupby("unit")["person"].apply(list)
    rows = []
    for pu, clients in _UNITS.items():
        for cu, rate, sat, delay in clients:
            for i, prov in enumerate(by_unit[pu]):
                # one main client per provider keeps the toy readable
                cli = by_unit[cu][(i + (pu == cu)) % len(by_unit[cu])]
                rows.append((prov, cli, rate, sat, delay, _SERVICE[pu]))
    start = np.datetime64("2025-01-01T08:00")
    ev = []
    for prov, cli, rate, sat, delay, service in rows:
        n = int(rate * 4)
        t = start + np.sort(rng.integers(0, 180 * 24 * 60, n)).astype("timedelta64[m]")
        d = np.round(rng.gamma(2.0, delay / 2.0, n), 1)
        s = np.clip(np.round(rng.normal(sat, 0.6, n)), 1, 5)
        s[rng.random(n) < 0.2] = np.nan
        ev.append(pd.DataFrame({
            "provider": prov, "client": cli, "requested_at": t,
            "delivered_at": t + (d * 60).astype("timedelta64[m]"), "satisfaction": s,
            "service": service, "reopened": rng.random(n) < 0.05}))
    events = pd.concat(ev, ignore_index=True).sort_values(
        ["requested_at", "provider", "client"], kind="mergesort").reset_index(drop=True)
    events.insert(0, "event_id", [f"T{i:04d}" for i in range(len(events))])
    agreements = pd.DataFrame({
        "provider": ["Informatica", "Produccion", "Mantenimiento"],
        "client": ["Produccion", "Ventas", "Produccion"],
        "service": ["it", "material", "maintenance"],
        "max_delay_hours": [48.0, 48.0, 24.0], "min_satisfaction": [3.5, 3.5, 3.5],
        "review_every": ["90D", "180D", "90D"],
        "last_review": pd.to_datetime(["2024-11-15", "2025-02-01", "2025-05-01"])})
    return {"events": events, "people": people, "agreements": agreements}


def toy():
    """A 12-person, 5-unit company over six months (built in code).

    Produccion and Calidad serve each other badly (a conflict), Informatica
    is slow for everybody, Ventas serves the external customer.

    Returns
    -------
    ServiceNetwork

    Examples
    --------
    >>> net = toy()
    >>> net.nodes["unit"].nunique(), net.level
    (5, 'person')
    """
    from .network import from_events

    t = toy_tables()
    return from_events(t["events"], people=t["people"], agreements=t["agreements"])


def available() -> list[str]:
    """Names of the bundled samples.

    Examples
    --------
    >>> "planta" in available()
    True
    """
    root = resources.files("icnet") / "_data"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def load(name: str = "planta", *, as_tables: bool = False):
    """Load a bundled sample organisation.

    Parameters
    ----------
    name : str, default "planta"
        See :func:`available`. ``"planta"``: a ~150-person manufacturing
        company over one year (see ``data/samples/planta/README.md``).
        ``"krackhardt"``: Krackhardt's (1987) 21 high-tech managers — tables
        ``advice`` (asker → adviser), ``friendship``, ``reports_to`` and
        ``attributes``; ``"highland_tribes"``: Read's (1954) signed tribe
        network, table ``highland_tribes`` (``a``, ``b``, ``sign``). Their
        sources are in each folder's README.md under ``data/samples/``.
        ``"bpic2013"``: the BPI Challenge 2013 incident log of Volvo IT
        Belgium (Steeman 2013, 4TU.ResearchData; 65,533 events of 7,554
        incidents, read from XES): table ``incidents`` (one row per event,
        see :func:`icnet._xes.read_xes`); as a network, the support teams'
        (``org:group``) hand-overs from :func:`icnet.from_process_log`.
    as_tables : bool, default False
        Return the raw tables (dict of DataFrames, plus ``truth`` when the
        sample has one) instead of a :class:`~icnet.ServiceNetwork`. The two
        published networks have no service events: load them with
        ``as_tables=True``.

    Returns
    -------
    ServiceNetwork or dict

    Raises
    ------
    ParameterError
        Unknown sample; a sample without events and ``as_tables=False``.

    Examples
    --------
    >>> net = load("planta")
    >>> net.level, net.nodes["unit"].nunique()
    ('person', 10)
    >>> k = load("krackhardt", as_tables=True)
    >>> sorted(k), len(k["advice"])
    (['advice', 'attributes', 'friendship', 'reports_to'], 190)
    """
    import json

    names = available()
    if name not in names:
        raise ParameterError(
            f"Unknown sample {name!r}; available samples are {names}.")
    root = resources.files("icnet") / "_data" / name
    if name == "bpic2013":
        return _load_bpic2013(root, as_tables)
    tables = {}
    for t in ("events", "people", "ratings", "agreements"):
        f = root / f"{t}.csv"
        if f.is_file():
            with f.open("r", encoding="utf-8") as fh:
                tables[t] = pd.read_csv(fh, dtype=str, keep_default_na=False,
                                        na_values=[""])
    if not tables:                    # a published network: its own tables, '#' notes
        for f in sorted(root.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".csv"):
                with f.open("r", encoding="utf-8") as fh:
                    tables[f.name[:-4]] = pd.read_csv(fh, comment="#")
        if not as_tables:
            raise ParameterError(
                f"The sample {name!r} has no service events (tables: {sorted(tables)}): "
                f"load it with icnet.datasets.load({name!r}, as_tables=True) and build the "
                "network you need (e.g. icnet.from_edges); see data/samples/"
                f"{name}/README.md.")
    if as_tables:
        truth = root / "truth.json"
        if truth.is_file():
            tables["truth"] = json.loads(truth.read_text(encoding="utf-8"))
        return tables
    from .network import from_events

    return from_events(tables["events"], people=tables.get("people"),
                       ratings=tables.get("ratings"), agreements=tables.get("agreements"))


def _load_bpic2013(root, as_tables: bool):
    """The BPI Challenge 2013 incident log (XES) as a table or a team hand-over network."""
    from ._xes import read_xes

    with resources.as_file(root / "bpic2013_incidents.xes.gz") as path:
        log = read_xes(path)
    if as_tables:
        return {"incidents": log}
    from .network import from_process_log

    return from_process_log(log, case="case", activity="lifecycle:transition",
                            resource="org:group", timestamp="time:timestamp")
