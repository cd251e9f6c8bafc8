"""Fuzzing the readers and from_events: only icnet errors (or a clean result) come out.

HR pipelines run unattended on messy exports: wrong types, mixed timestamp formats
and time zones, NaNs, empty strings, unicode and numeric ids, duplicated columns,
huge and negative values, empty tables. Whatever the input, icnet either returns a
network or raises an :class:`icnet.errors.IcnetError` — never a KeyError/TypeError
from inside pandas — and with ``errors="drop"`` rows in = rows kept + rows dropped.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icnet
from icnet import io
from icnet._engine import id_strings
from icnet.errors import IcnetError

IDS = st.one_of(st.sampled_from(["a", "b", "c", "  a ", "", "Ñoño", "部门", "1", "1.0"]),
                st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
                st.none(), st.booleans())
TIMES = st.one_of(
    st.sampled_from(["2025-01-01", "2025-01-01T10:00:00Z", "2025-01-01 10:00+05:30",
                     "01/02/2025", "2025-13-45", "yesterday", "", "2025-03-30T02:30:00",
                     "1e10", "NaT", "1901-01-02", "2199-12-30T23:00:00"]),   # 299 years
    st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                 max_value=pd.Timestamp("2200-01-01").to_pydatetime()),
    st.integers(-10**12, 10**12), st.none(), st.floats())
NUMS = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                 st.sampled_from(["3", "4,5", "x", "", " 2 ", "1e309", "-0"]), st.none(),
                 st.booleans())
FLAGS = st.one_of(st.booleans(), st.sampled_from(["yes", "no", "sí", "maybe", "", "1"]),
                  st.none(), st.integers(-1, 2))

COLUMNS = {"provider": IDS, "client": IDS, "event_id": IDS, "requested_at": TIMES,
           "delivered_at": TIMES, "delay_hours": NUMS, "satisfaction": NUMS,
           "service": IDS, "expected_hours": NUMS, "reopened": FLAGS, "extra": NUMS}


@st.composite
def frames(draw, columns=COLUMNS, required=("provider", "client")):
    n = draw(st.integers(0, 25))
    chosen = [c for c in columns if c in required or draw(st.booleans())]
    if draw(st.integers(0, 9)) == 0 and chosen:           # sometimes drop a required one
        chosen = chosen[1:]
    data = {c: draw(st.lists(columns[c], min_size=n, max_size=n)) for c in chosen}
    df = pd.DataFrame(data, dtype=object) if data else pd.DataFrame(index=range(n))
    if draw(st.integers(0, 14)) == 0 and len(df.columns):  # duplicated column names
        df = pd.concat([df, df.iloc[:, :1]], axis=1)
    if draw(st.booleans()):                                  # let pandas infer types
        df = df.infer_objects()
    return df


def _only_icnet_errors(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except IcnetError:
        return None


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames(), errors=st.sampled_from(["raise", "drop"]))
def test_from_events_never_leaks_a_pandas_error(df, errors):
    net = _only_icnet_errors(lambda: icnet.from_events(df, errors=errors))
    if net is None:
        return
    kept = int(net.edges["n_events"].sum())
    assert kept + len(net.dropped) == len(df)
    assert kept == len(net.events)
    net.nodes  # noqa: B018 - computing must not fail either
    if net.has_time:
        _only_icnet_errors(lambda: net.periods("MS"))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames({"person": IDS, "unit": IDS, "manager": IDS, "role": IDS,
                  "external_facing": FLAGS}, required=("person", "unit")))
def test_read_people_fuzz(df):
    t = _only_icnet_errors(lambda: io.read_people(df, errors="drop"))
    if t is not None:
        assert len(t.data) + len(t.dropped) == len(df)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames({"rater": IDS, "provider": IDS, "perception": NUMS, "expectation": NUMS,
                  "recommend": NUMS, "dimension": IDS, "period": IDS, "answered_at": TIMES},
                 required=("rater", "provider", "perception")))
def test_read_ratings_fuzz(df):
    t = _only_icnet_errors(lambda: io.read_ratings(df, errors="drop"))
    if t is not None:
        assert len(t.data) + len(t.dropped) == len(df)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames({"provider": IDS, "client": IDS, "service": IDS, "max_delay_hours": NUMS,
                  "min_satisfaction": NUMS, "review_every": st.one_of(
                      st.sampled_from(["90D", "12W", "soon", "", "-5D", "0D"]), NUMS),
                  "last_review": TIMES}))
def test_read_agreements_fuzz(df):
    t = _only_icnet_errors(lambda: io.read_agreements(df, errors="drop"))
    if t is not None:
        assert len(t.data) + len(t.dropped) == len(df)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames())
def test_validate_never_raises(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = io.validate(df)
    assert list(out.columns) == ["table", "reason", "n_rows", "message"]


def test_csv_with_messy_values_round_trips(tmp_path):
    f = tmp_path / "messy.csv"
    f.write_text("provider,client,requested_at,satisfaction\n"
                 "Ñoño,部门,2025-01-01T10:00:00+02:00,4\n"
                 " a ,b,2025-01-02,\n"
                 "a,b,not a date,3\n", encoding="utf-8")
    net = icnet.from_events(f, errors="drop")
    assert sorted(net.node_ids) == ["a", "b", "Ñoño", "部门"]
    assert net.dropped["row"].tolist() == [2]


def test_float_ids_with_infinity_are_kept_as_read():
    # found by the fuzzer: a float id column with inf crashed converting ids to integers
    df = pd.DataFrame({"rater": [np.nan, "a"], "provider": [0.0, np.inf], "perception": [0, 0],
                       "answered_at": ["2025-01-01", "2025-01-01"]})
    t = io.read_ratings(df, errors="drop")
    assert len(t.data) + len(t.dropped) == 2
    assert id_strings(pd.Series([0.0, np.inf])).tolist() == ["0.0", "inf"]
    ids = id_strings(pd.Series([1.0, 2.0, np.nan]))
    assert ids.tolist()[:2] == ["1", "2"] and pd.isna(ids.iloc[2])    # integral floats: no ".0"


# --------------------------------------------------------------------------- issue #20 cases
# Placeholder and out-of-range dates, relative words, day/month dates, missing spellings,
# NFC/NFD names, formula-like and '$' names; files with ragged rows, other separators,
# encodings and broken compression; from_edges counts and rates; reading options.

IDS20 = st.one_of(IDS, st.sampled_from(["N/A", "NULL", "None", "-", "nan", "José",
                                        "Jose\u0301", "=1+1", "@x", "$$", "+", "NA"]))
TIMES20 = st.one_of(TIMES, st.sampled_from(
    ["9999-12-31", "2999-01-01", "1900-01-01", "now", "Today", "13/02/2025",
     "02/13/2025", "01/03/2025 10:00", "31.12.2025", "0001-01-01", "2262-04-12",
     "9999-12-31T23:59:59Z", "10000-01-01"]),
    st.datetimes(min_value=pd.Timestamp("1700-01-01").to_pydatetime()))
COLUMNS20 = dict(COLUMNS, provider=IDS20, client=IDS20, requested_at=TIMES20,
                 delivered_at=TIMES20)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames(COLUMNS20), errors=st.sampled_from(["raise", "drop"]),
       opts=st.sampled_from([{}, {"dayfirst": True}, {"dayfirst": False},
                             {"date_format": "%d/%m/%Y"}, {"na_values": []}]))
def test_issue20_values_never_leak_or_wrap(df, errors, opts):
    net = _only_icnet_errors(lambda: icnet.from_events(df, errors=errors, **opts))
    if net is None:
        return
    kept = int(net.edges["n_events"].sum())
    assert kept + len(net.dropped) == len(df)
    for col in ("requested_at", "delivered_at"):
        if col in net.events:
            years = net.events[col].dropna().dt.year
            assert ((years >= 1901) & (years < 2200)).all()   # never wrapped to 1816


ROW = st.lists(st.sampled_from(["a", "b", "c", "", "4", "4,5", '"x,y"', "N/A", "2025-01-01",
                                "01/02/2025", "é", "=1"]), min_size=0, max_size=5)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(ROW, max_size=8), sep=st.sampled_from([",", ";", "\t"]),
       trailing=st.booleans(), enc=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
       gz=st.sampled_from([None, "ok", "cut"]),
       header=st.sampled_from([["provider", "client"], ["provider", "client", "satisfaction"],
                               ["provider", "client", "client"],
                               ["provider", "client", "requested_at"]]))
def test_csv_files_never_leak(tmp_path_factory, rows, sep, trailing, enc, gz, header):
    import gzip

    lines = [sep.join(header)] + [sep.join(r) + (sep if trailing else "") for r in rows]
    data = ("\n".join(lines) + "\n").encode(enc)
    d = tmp_path_factory.mktemp("csvfuzz")
    if gz:
        data = gzip.compress(data)
        if gz == "cut":
            data = data[: max(1, len(data) // 2)]
        f = d / "ev.csv.gz"
    else:
        f = d / "ev.csv"
    f.write_bytes(data)
    for kw in ({}, {"sep": sep}, {"sep": sep, "encoding": enc, "decimal": ","}):
        _only_icnet_errors(lambda: icnet.from_events(str(f), errors="drop", **kw))
        _only_icnet_errors(lambda: io.validate(str(f), **kw))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(n=st.lists(st.one_of(st.floats(), st.integers(-10**30, 10**30),
                            st.sampled_from(["1e20", "x", "", "-0"])), min_size=2, max_size=2),
       rate=st.lists(st.floats(-2, 7), min_size=2, max_size=2),
       m=st.lists(st.floats(0, 6), min_size=2, max_size=2))
def test_from_edges_never_wraps(n, rate, m):
    e = {"provider": ["IT", "HR"], "client": ["HR", "IT"], "n_events": n,
         "sla_breach_rate": rate, "satisfaction_mean": m}
    net = _only_icnet_errors(lambda: icnet.ServiceNetwork.from_edges(e, level="unit"))
    if net is not None:
        assert (net.edges["n_events"] >= 0).all()
        assert net.edges["sla_breach_rate"].between(0, 1).all()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(tz=st.one_of(st.text(max_size=12), st.integers(), st.none(),
                    st.sampled_from(["UTC", "Europe/Madrid", "Mars/Olympus", "+25:00"])),
       freq=st.one_of(st.text(max_size=5), st.sampled_from(["1min", "s", "MS", "QS", "W"])),
       opt=st.sampled_from([{"sep": ""}, {"encoding": "x"}, {"decimal": 1}, {"sheet": 2.5},
                            {"dayfirst": "no"}, {"date_format": 3}, {"na_values": "NA"},
                            {"nope": 1}, {}]))
def test_parameters_never_leak(tz, freq, opt):
    ev = {"provider": ["a", "b"], "client": ["b", "a"],
          "requested_at": ["2025-01-01", "2025-06-01"]}
    net = _only_icnet_errors(lambda: icnet.from_events(ev, tz=tz, **opt))
    _only_icnet_errors(lambda: io.validate(ev, tz=tz))
    if net is not None:
        _only_icnet_errors(lambda: net.periods(freq))


_TOY = icnet.datasets.toy()
_SWITCH = st.one_of(st.booleans(), st.sampled_from(["no", "yes", "", "False", "0"]), st.none(),
                    st.integers(-2, 2), st.floats(allow_nan=True), st.just(np.bool_(False)))
_GROUP = st.one_of(st.integers(-3, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(["5", "", None, True]))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(individuals=_SWITCH, mgs=_GROUP,
       which=st.sampled_from(["timeline", "pairs", "bad", "nx", "share", "cycles", "balance"]))
def test_privacy_switches_never_leak(individuals, mgs, which):
    """#20: the gated outputs take only a real bool and a positive integer group size;
    anything else is a ParameterError, and a truthy string never turns individuals on."""
    from icnet.analysis import conflicts
    kw = dict(individuals=individuals, min_group_size=mgs)
    call = {"timeline": lambda: icnet.spiral_timeline(_TOY, "ana", "dario", **kw),
            "pairs": lambda: conflicts.signed_pairs(_TOY, **kw),
            "bad": lambda: conflicts.bad_edges(_TOY, **kw),
            "nx": lambda: _TOY.to_networkx(**kw),
            "share": lambda: icnet.privacy.suppress_edges(_TOY, **kw),
            "cycles": lambda: icnet.conflict_cycles(_TOY, **kw),
            "balance": lambda: icnet.balance(_TOY, n_perm=0, **kw)}[which]
    out = _only_icnet_errors(call)
    if out is not None and not isinstance(individuals, (bool, np.bool_)):
        raise AssertionError(f"individuals={individuals!r} was accepted")
