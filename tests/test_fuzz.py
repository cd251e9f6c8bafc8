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
from icnet.errors import IcnetError

IDS = st.one_of(st.sampled_from(["a", "b", "c", "  a ", "", "Ñoño", "部门", "1", "1.0"]),
                st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
                st.none(), st.booleans())
TIMES = st.one_of(
    st.sampled_from(["2025-01-01", "2025-01-01T10:00:00Z", "2025-01-01 10:00+05:30",
                     "01/02/2025", "2025-13-45", "yesterday", "", "2025-03-30T02:30:00",
                     "1e10", "NaT"]),
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
    assert io._ids(pd.Series([0.0, np.inf])).tolist() == ["0.0", "inf"]
    ids = io._ids(pd.Series([1.0, 2.0, np.nan]))
    assert ids.tolist()[:2] == ["1", "2"] and pd.isna(ids.iloc[2])    # integral floats: no ".0"
