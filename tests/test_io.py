"""icnet.io: reading, column mapping, timestamps, and one test per error message."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import io
from icnet.errors import EmptyNetworkError, ParameterError, SchemaError


def ev(**cols):
    base = {"provider": ["a", "b", "c"], "client": ["b", "c", "a"]}
    base.update(cols)
    return pd.DataFrame(base)


# --------------------------------------------------------------------------- loading

def test_dataframe_dict_csv_and_parquet_read_the_same(tmp_path, events):
    csv = tmp_path / "ev.csv"
    pq = tmp_path / "ev.parquet"
    events.to_csv(csv, index=False)
    events.to_parquet(pq)
    frames = [io.read_events(x).data for x in (events, events.to_dict("list"), csv, pq)]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0], check_dtype=False)


def test_input_is_not_modified(events):
    before = events.copy()
    icnet.from_events(events, columns={"provider": "provider"})
    pd.testing.assert_frame_equal(events, before)


def test_column_mapping_applies_to_every_table(events, people):
    m = {"provider": "de", "client": "para", "person": "quien"}
    e2 = events.rename(columns={"provider": "de", "client": "para"})
    p2 = people.rename(columns={"person": "quien"})
    net = icnet.from_events(e2, people=p2, columns={v: k for k, v in m.items()})
    assert net.edges["n_events"].sum() == len(events)
    assert net.nodes.set_index("node").loc["sal1", "external_facing"]


def test_mapping_to_unknown_column():
    with pytest.raises(ParameterError, match="unknown icnet columns \\['proveedor'\\]"):
        io.read_events(ev(), columns={"provider": "proveedor"})


def test_mapping_that_creates_a_clash():
    with pytest.raises(SchemaError, match="several columns are called \\['provider'\\]"):
        io.read_events(ev(de=["x", "y", "z"]), columns={"de": "provider"})


def test_duplicated_column_names():
    df = pd.DataFrame([["a", "b", "c"]], columns=["provider", "client", "provider"])
    with pytest.raises(SchemaError, match="duplicated column names \\['provider'\\]"):
        io.read_events(df)


def test_missing_required_column_names_the_fix():
    with pytest.raises(SchemaError, match=r"events is missing required column\(s\) "
                                          r"\['client'\].*columns=\{'your_name': 'client'\}"):
        io.read_events({"provider": ["a"]})


def test_wrong_input_type():
    with pytest.raises(ParameterError, match="must be a pandas DataFrame, a dict"):
        io.read_events(42)


def test_missing_file(tmp_path):
    with pytest.raises(SchemaError, match="does not exist"):
        io.read_events(tmp_path / "nope.csv")


def test_unreadable_file(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"provider,client\n\xff\xfe,a\n")
    with pytest.raises(SchemaError, match="could not read"):
        io.read_events(f)


def test_bad_errors_and_scale_parameters():
    with pytest.raises(ParameterError, match="'errors' parameter must be one of"):
        io.read_events(ev(), errors="ignore")
    with pytest.raises(ParameterError, match="'scale' parameter must satisfy low < high"):
        io.read_events(ev(), scale=(5, 1))
    with pytest.raises(ParameterError, match="'scale' parameter must be a pair"):
        io.read_events(ev(), scale=5)


# --------------------------------------------------------------------------- row problems

ROW_CASES = [
    # (columns, reason, message fragment)
    ({"provider": ["a", None, "c"]}, "missing_id", "column 'provider' has 1 empty ids"),
    ({"client": ["b", "b", "  "]}, "missing_id", "column 'client' has 1 empty ids"),
    ({"client": ["b", "b", "a"]}, "self_service", "rows where the client is the provider"),
    ({"requested_at": ["2025-01-01", "soon", "2025-01-02"]}, "bad_timestamp",
     "'requested_at' has 1 values that are not timestamps (rows 1: 'soon')"),
    ({"requested_at": ["2025-01-01", "", "2025-01-02"]}, "missing_timestamp",
     "'requested_at' has 1 empty request times"),
    ({"satisfaction": ["4", "muy bien", "2"]}, "not_a_number",
     "'satisfaction' has 1 values that are not finite numbers (rows 1: 'muy bien')"),
    ({"satisfaction": [4, 7, 0]}, "out_of_scale",
     "'satisfaction' has 2 values outside the scale 1..5 (rows 1, 2: 7, 0)"),
    ({"requested_at": ["2025-01-02", "2025-01-01", "2025-01-01"],
      "delivered_at": ["2025-01-01", "2025-01-02", None]}, "negative_delay",
     "'delivered_at' has 1 deliveries before their request"),
    ({"delay_hours": [1, -3, 2]}, "negative_delay", "'delay_hours' has 1 negative durations"),
    ({"expected_hours": [1, -3, 2]}, "negative_delay",
     "'expected_hours' has 1 negative durations"),
    ({"event_id": ["x", "y", "x"]}, "duplicate_event_id", "'event_id' has 1 repeated event ids"),
    ({"event_id": ["x", None, "z"]}, "missing_id", "'event_id' has 1 empty event ids"),
    ({"reopened": ["yes", "maybe", "no"]}, "bad_flag",
     "'reopened' has 1 values that are not yes/no"),
]


@pytest.mark.parametrize("cols,reason,fragment", ROW_CASES)
def test_row_problem_raises_with_rows_values_and_fix(cols, reason, fragment):
    with pytest.raises(SchemaError) as err:
        io.read_events(ev(**cols))
    msg = str(err.value)
    assert fragment in msg
    assert 'errors="drop" keeps them in net.dropped' in msg


@pytest.mark.parametrize("cols,reason,fragment", ROW_CASES)
def test_row_problem_is_dropped_with_its_reason(cols, reason, fragment):
    t = io.read_events(ev(**cols), errors="drop")
    assert t.n_in == len(t.data) + len(t.dropped)
    assert reason in set(t.dropped["reason"])
    assert set(t.dropped["table"]) == {"events"}


def test_scale_option_accepts_other_scales():
    t = io.read_events(ev(satisfaction=[0, 7, 10]), scale=(0, 10))
    assert t.data["satisfaction"].tolist() == [0, 7, 10]


def test_empty_input_raises():
    with pytest.raises(EmptyNetworkError, match="the table has no rows"):
        icnet.from_events(pd.DataFrame({"provider": [], "client": []}))


def test_all_rows_rejected_raises():
    with pytest.raises(EmptyNetworkError, match="all 2 rows were rejected"):
        icnet.from_events({"provider": ["a", "b"], "client": ["a", "b"]}, errors="drop")


def test_open_request_is_kept_not_dropped():
    t = io.read_events(ev(requested_at=["2025-01-01"] * 3,
                          delivered_at=["2025-01-02", None, ""]))
    assert len(t.data) == 3
    assert t.data["delay_hours"].isna().sum() == 2


def test_drop_keeps_row_values_and_count():
    raw = ev(satisfaction=[9, 3, 4], requested_at=["x", "2025-01-01", "2025-01-02"])
    t = io.read_events(raw, errors="drop")
    assert t.dropped["row"].tolist() == [0]
    assert t.dropped.loc[0, "reason"] == "bad_timestamp"   # first problem in check order
    assert t.dropped.loc[0, "satisfaction"] == 9
    assert t.problems[0][0] == "bad_timestamp" and len(t.problems) == 2


# --------------------------------------------------------------------------- values

def test_numeric_ids_lose_float_suffix_and_are_stripped():
    t = io.read_events({"provider": [1.0, 2.0, np.nan], "client": [" 2", "1", "3"]},
                       errors="drop")
    assert t.data["provider"].tolist() == ["1", "2"]
    assert t.data["client"].tolist() == ["2", "1"]


def test_decimal_comma_and_text_numbers():
    t = io.read_events(ev(satisfaction=["4,5", "3", None]))
    assert t.data["satisfaction"].tolist()[:2] == [4.5, 3.0]
    assert np.isnan(t.data["satisfaction"].iloc[2])


def test_delay_derived_from_timestamps():
    t = io.read_events(ev(requested_at=["2025-01-01 08:00"] * 3,
                          delivered_at=["2025-01-01 09:30", "2025-01-02 08:00", None]))
    np.testing.assert_allclose(t.data["delay_hours"], [1.5, 24.0, np.nan])


def test_given_delay_is_kept():
    t = io.read_events(ev(delay_hours=[1, 2, 3], requested_at=["2025-01-01"] * 3,
                          delivered_at=["2025-01-05"] * 3))
    assert t.data["delay_hours"].tolist() == [1, 2, 3]


def test_time_zone_rule_mixed_naive_and_aware():
    t = io.read_events(ev(requested_at=["2025-01-01T10:00:00", "2025-01-01T10:00:00+02:00",
                                        "2025-01-01T10:00:00Z"]))
    assert t.data["requested_at"].dt.strftime("%H:%M").tolist() == ["10:00", "08:00", "10:00"]
    assert t.data["requested_at"].dt.tz is None


def test_naive_timestamps_in_a_given_time_zone():
    t = io.read_events(ev(requested_at=["2025-07-01 10:00"] * 3), tz="Europe/Madrid")
    assert (t.data["requested_at"].dt.hour == 8).all()


def test_aware_datetime_column_is_converted():
    ts = pd.Series(pd.to_datetime(["2025-01-01 10:00"] * 3)).dt.tz_localize("America/Lima")
    t = io.read_events(ev(requested_at=ts))
    assert (t.data["requested_at"].dt.hour == 15).all()


def test_bare_numbers_are_not_timestamps():
    with pytest.raises(SchemaError, match="not timestamps"):
        io.read_events(ev(requested_at=[1, 2, 3]))


def test_reopened_flags():
    t = io.read_events(ev(reopened=["sí", "0", None]))
    assert t.data["reopened"].tolist() == [True, False, False]


# --------------------------------------------------------------------------- other tables

def test_people_problems():
    raw = {"person": ["a", "a", "b", None], "unit": ["X", "X", None, "Y"],
           "external_facing": ["yes", "no", "no", "perhaps"]}
    with pytest.raises(SchemaError, match="'person' has 1 empty ids"):
        io.read_people(raw)
    t = io.read_people(raw, errors="drop")
    assert t.dropped.set_index("row")["reason"].to_dict() == {
        3: "missing_id", 2: "missing_unit", 1: "duplicate_person"}
    assert t.data["person"].tolist() == ["a"]


def test_people_external_facing_defaults_to_false():
    t = io.read_people({"person": ["a"], "unit": ["X"]})
    assert t.data["external_facing"].tolist() == [False]


def test_people_bad_flag():
    with pytest.raises(SchemaError, match="'external_facing' has 1 values that are not yes/no"):
        io.read_people({"person": ["a", "b"], "unit": ["X", "X"],
                        "external_facing": ["yes", "perhaps"]})


@pytest.mark.parametrize("cols,fragment", [
    ({"perception": [4, 6]}, "'perception' has 1 values outside the scale 1..5"),
    ({"perception": [4, None]}, "'perception' has 1 empty ratings"),
    ({"expectation": [4, 0]}, "'expectation' has 1 values outside the scale 1..5"),
    ({"recommend": [4, 11]}, "'recommend' has 1 values outside the scale 0..10"),
    ({"period": ["2025Q1", "last spring"]}, "'period' has 1 values that are not periods"),
    ({"answered_at": ["2025-01-01", "ayer"]}, "'answered_at' has 1 values that are not"),
    ({"rater": ["p", "q"]}, "rows where people rate themselves"),
])
def test_ratings_problems(cols, fragment):
    base = {"rater": ["p", "r"], "provider": ["q", "q"], "perception": [4, 3]}
    base.update(cols)
    with pytest.raises(SchemaError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        io.read_ratings(base)
    t = io.read_ratings(base, errors="drop")
    assert len(t.data) == 1 and len(t.dropped) == 1


@pytest.mark.parametrize("cols,fragment", [
    ({"review_every": ["90D", "often"]}, "'review_every' has 1 values that are not durations"),
    ({"max_delay_hours": [24, -1]}, "'max_delay_hours' has 1 negative durations"),
    ({"min_satisfaction": [3, 9]}, "'min_satisfaction' has 1 values outside the scale"),
    ({"last_review": ["2025-01-01", "never"]}, "'last_review' has 1 values that are not"),
    ({"client": ["Y", "Y"]}, "repeated agreements"),
])
def test_agreements_problems(cols, fragment):
    base = {"provider": ["X", "X"], "client": ["Y", "Z"]}
    base.update(cols)
    with pytest.raises(SchemaError, match=fragment):
        io.read_agreements(base)


def test_agreements_durations():
    t = io.read_agreements({"provider": ["X", "X"], "client": ["Y", "Z"],
                            "review_every": ["90D", "12W"]})
    assert t.data["review_every"].dt.days.tolist() == [90, 84]


# --------------------------------------------------------------------------- validate

def test_validate_lists_every_problem_without_raising(tmp_path):
    f = tmp_path / "ev.csv"
    pd.DataFrame({"provider": ["a", "b", "c", "a"], "client": ["a", "c", "d", "b"],
                  "satisfaction": [3, 9, 2, 1]}).to_csv(f, index=False)
    out = io.validate(events=f, people={"person": ["a"]})
    assert out["reason"].tolist() == ["self_service", "out_of_scale", "schema"]
    assert out["n_rows"].iloc[:2].tolist() == [1.0, 1.0]
    assert "missing required column(s) ['unit']" in out["message"].iloc[2]


def test_validate_clean_input_is_empty(events, people):
    assert io.validate(events, people).empty
