"""Issue #20 "no silent corruption" / "only icnet errors" and issue #23 points 1-3:
one test per finding of the hostile review (reading side)."""

import gzip
import unicodedata
import warnings

import pandas as pd
import pytest

import icnet
from icnet import io
from icnet.errors import (BudgetExceededError, IcnetError, IcnetWarning, ParameterError,
                          SchemaError)

EV = {"provider": ["a", "b", "a"], "client": ["b", "a", "c"]}


def _ev(**cols):
    d = dict(EV)
    d.update(cols)
    return d


# --------------------------------------------------------------------------- dates

def test_open_sentinel_in_delivered_at_is_open_not_1816():
    with pytest.warns(IcnetWarning, match="placeholder dates"):
        t = io.read_events(_ev(requested_at=["2025-01-01"] * 3,
                               delivered_at=["2025-01-02", "9999-12-31", "1900-01-01"]))
    d = t.data["delivered_at"]
    assert d.iloc[0] == pd.Timestamp("2025-01-02")
    assert d.iloc[1:].isna().all()              # open, never 1816-03-29
    assert len(t.data) == 3


def test_sentinel_in_requested_at_is_out_of_range():
    ev = _ev(requested_at=["2025-01-01", "2999-01-01", "2025-01-03"])
    with pytest.raises(SchemaError, match="'requested_at' has 1 placeholder or out-of-range"):
        io.read_events(ev)
    t = io.read_events(ev, errors="drop")
    assert t.dropped["reason"].tolist() == ["out_of_range"]
    assert t.data["requested_at"].min().year == 2025


def test_year_9999_datetime_column_never_wraps():
    ts = pd.Series(pd.to_datetime(["2025-01-01", "9999-12-31", "2025-01-03"]))
    assert str(ts.dtype) != "datetime64[ns]"      # pandas 3 keeps it in µs/s
    t = io.read_events(_ev(requested_at=ts), errors="drop")
    assert t.dropped["reason"].tolist() == ["out_of_range"]
    assert (t.data["requested_at"].dt.year == 2025).all()


def test_year_9999_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    f = tmp_path / "ev.parquet"
    pd.DataFrame(_ev(requested_at=pd.to_datetime(["2025-01-01"] * 2 + ["9999-12-31"])
                     .as_unit("us"))).to_parquet(f)
    t = io.read_events(str(f), errors="drop")
    assert t.dropped["reason"].tolist() == ["out_of_range"]


@pytest.mark.parametrize("word", ["now", "today", "yesterday", "NOW", "hoy"])
def test_relative_words_refused(word):
    with pytest.raises(SchemaError, match="relative words"):
        io.read_events(_ev(requested_at=["2025-01-01", word, "2025-01-02"]))
    t = io.read_events(_ev(requested_at=["2025-01-01", word, "2025-01-02"]), errors="drop")
    assert t.dropped["reason"].tolist() == ["relative_date"]


def test_ambiguous_day_month_refused_with_both_readings_and_fix():
    ev = _ev(requested_at=["01/03/2025 09:00", "13/02/2025 10:00", "02/03/2025 11:00"],
             delivered_at=["02/03/2025 08:00", "14/02/2025 09:00", "03/03/2025 12:00"])
    with pytest.raises(SchemaError) as err:
        io.read_events(ev, errors="drop")          # a column-level problem: always raised
    msg = str(err.value)
    assert "'requested_at'" in msg and "dayfirst=True" in msg and "date_format" in msg
    assert "1 March 2025" in msg and "3 January 2025" in msg


def test_dayfirst_and_date_format_resolve_it():
    ev = _ev(requested_at=["01/03/2025 09:00", "13/02/2025 10:00", "02/03/2025 11:00"],
             delivered_at=["02/03/2025 08:00", "14/02/2025 09:00", "03/03/2025 12:00"])
    a = io.read_events(ev, dayfirst=True).data
    assert a["requested_at"].tolist()[:2] == [pd.Timestamp("2025-03-01 09:00"),
                                              pd.Timestamp("2025-02-13 10:00")]
    assert a["delay_hours"].tolist() == [23.0, 23.0, 25.0]     # not 743 hours
    b = io.read_events(ev, date_format="%d/%m/%Y %H:%M").data
    assert b["requested_at"].equals(a["requested_at"])
    # month-first: 13/02 is not a date → a bad row, reported
    with pytest.raises(SchemaError, match="not timestamps"):
        io.read_events(ev, dayfirst=False)


def test_unambiguous_slash_dates_read_by_their_only_reading():
    t = io.read_events(_ev(requested_at=["13/02/2025", "25/12/2025", "01/01/2025"]))
    assert t.data["requested_at"].dt.month.tolist() == [2, 12, 1]


def test_contradicting_orders_refused():
    with pytest.raises(SchemaError, match="ambiguous"):
        io.read_events(_ev(requested_at=["13/02/2025", "02/13/2025", "01/01/2025"]))


def test_mixed_formats_in_one_column_refused():
    with pytest.raises(SchemaError, match="mixes date formats"):
        io.read_events(_ev(requested_at=["2025-03-01", "13/02/2025", "2025-03-02"]))


def test_validate_reports_ambiguous_dates():
    ev = _ev(requested_at=["01/03/2025", "02/03/2025", "03/04/2025"])
    p = io.validate(ev)
    assert len(p) == 1 and "dayfirst" in p["message"].iloc[0]
    assert io.validate(ev, dayfirst=True).empty


def test_validate_cli_reports_ambiguous_dates(tmp_path, capsys):
    f = tmp_path / "events.csv"
    pd.DataFrame(_ev(requested_at=["01/03/2025", "02/03/2025", "03/04/2025"])).to_csv(
        f, index=False)
    assert icnet.cli.main(["validate", str(f)]) == 2
    assert "dayfirst" in capsys.readouterr().out
    assert icnet.cli.main(["validate", str(f), "--dayfirst", "-q"]) == 0


def test_bad_time_zone_is_a_parameter_error_also_in_validate():
    with pytest.raises(ParameterError, match="'tz'"):
        io.read_events(_ev(requested_at=["2025-01-01"] * 3), tz="Mars/Olympus")
    p = io.validate(_ev(requested_at=["2025-01-01"] * 3), tz="Mars/Olympus")
    assert "'tz'" in p["message"].iloc[0]


# --------------------------------------------------------------------------- durations

@pytest.mark.parametrize("value", ["90", 90, "90.0"])
def test_bare_number_duration_refused(value):
    ag = {"provider": ["a"], "client": ["b"], "review_every": [value]}
    with pytest.raises(SchemaError, match="numbers without a unit"):
        io.read_agreements(ag)
    assert io.read_agreements({**ag, "review_every": ["90D"]}).data.loc[0, "review_every"] \
        == pd.Timedelta(days=90)


# --------------------------------------------------------------------------- ids

@pytest.mark.parametrize("spelling", ["N/A", "NA", "NULL", "None", "-", "nan", " n/a "])
def test_missing_spellings_are_missing_not_people(spelling):
    t = io.read_events({"provider": ["a", spelling, "b"], "client": ["b", "a", "a"]},
                       errors="drop")
    assert t.dropped["reason"].tolist() == ["missing_id"]
    assert spelling.strip() not in set(t.data["provider"].astype(str))


def test_missing_spellings_are_configurable():
    t = io.read_events({"provider": ["a", "NA", "b"], "client": ["b", "a", "a"]},
                       na_values=[])
    assert "NA" in set(t.data["provider"].astype(str))       # e.g. a unit called NA
    t = io.read_events({"provider": ["a", "??", "b"], "client": ["b", "a", "a"]},
                       na_values=["??"], errors="drop")
    assert t.dropped["reason"].tolist() == ["missing_id"]


def test_nfc_and_nfd_spellings_are_one_person():
    nfc = unicodedata.normalize("NFC", "José")
    nfd = unicodedata.normalize("NFD", "José")
    assert nfc != nfd
    net = icnet.from_events({"provider": [nfc, nfd], "client": ["b", "b"]})
    assert len(net.edges) == 1 and net.edges["n_events"].iloc[0] == 2
    ppl = io.read_people({"person": [nfc, nfd], "unit": ["x", "x"]}, errors="drop")
    assert ppl.dropped["reason"].tolist() == ["duplicate_person"]


def test_list_typed_ids_are_a_schema_error():
    with pytest.raises(SchemaError, match="'provider' holds lists"):
        icnet.from_events(pd.DataFrame({"provider": [["a", "b"], "c"], "client": ["x", "y"]}))


# --------------------------------------------------------------------------- CSV shapes

def test_trailing_comma_detected_not_shifted(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("provider,client,satisfaction\na,b,4,\nb,a,2,\n")
    with pytest.raises(SchemaError, match="more fields than the header.*trailing"):
        io.read_events(str(f))


def test_rows_with_too_few_fields_detected(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("provider,client,satisfaction\na,b,4\nb,a\nc,a,3\n")
    with pytest.raises(SchemaError, match=r"fewer fields than the header.*rows 1 \(2 fields"):
        io.read_events(str(f))


def test_quoted_separators_and_blank_lines_are_fine(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text('provider,client,service\na,b,"x, y"\n\nb,a,z\n')
    assert io.read_events(str(f)).data["service"].tolist() == ["x, y", "z"]


def test_duplicate_csv_headers_refused(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("provider,client,client\na,b,c\n")
    with pytest.raises(SchemaError, match=r"duplicated column names \['client'\]"):
        io.read_events(str(f))


def test_semicolon_csv_suggests_sep_and_reads_with_it(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("provider;client;satisfaction\na;b;4,5\nb;a;2\n")
    with pytest.raises(SchemaError, match="sep=';'"):
        io.read_events(str(f))
    t = io.read_events(str(f), sep=";", decimal=",")
    assert t.data["satisfaction"].tolist() == [4.5, 2.0]


def test_decimal_comma_with_thousands(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("provider;client;delay_hours\na;b;1.234,5\nb;a;2\n")
    assert io.read_events(str(f), sep=";", decimal=",").data["delay_hours"].tolist() == \
        [1234.5, 2.0]


def test_latin1_csv_suggests_encoding_and_reads_with_it(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_bytes("provider,client\nCompañía,Señor\n".encode("latin-1"))
    with pytest.raises(SchemaError, match="encoding='latin-1'"):
        io.read_events(str(f))
    assert io.read_events(str(f), encoding="latin-1").data["provider"].tolist() == \
        ["Compañía"]


def test_corrupt_gzip_is_a_schema_error(tmp_path):
    f = tmp_path / "ev.csv.gz"
    f.write_bytes(gzip.compress(b"provider,client\n" + b"a,b\n" * 1000)[:60])
    with pytest.raises(SchemaError, match="corrupt"):
        io.read_events(str(f))
    g = tmp_path / "ev2.csv.gz"
    g.write_bytes(b"not gzip at all")
    with pytest.raises(SchemaError):
        io.read_events(str(g))


def test_bad_read_options_are_parameter_errors():
    for kw in ({"sep": ""}, {"encoding": "klingon"}, {"decimal": ";"}, {"dayfirst": "yes"},
               {"na_values": "NA"}, {"bogus": 1}):
        with pytest.raises(ParameterError):
            io.read_events(EV, **kw)


# --------------------------------------------------------------------------- Excel

def test_excel_workbook_sheet_per_table(tmp_path):
    pytest.importorskip("openpyxl")
    f = tmp_path / "hr.xlsx"
    with pd.ExcelWriter(f) as w:
        pd.DataFrame(_ev(satisfaction=[4, 2, 5])).to_excel(w, sheet_name="Events",
                                                           index=False)
        pd.DataFrame({"person": ["a", "b", "c"], "unit": ["X", "Y", "Y"]}).to_excel(
            w, sheet_name="people", index=False)
        pd.DataFrame({"note": [1]}).to_excel(w, sheet_name="readme", index=False)
    found = io.find_tables(f)
    assert sorted(found) == ["events", "people"]
    net = icnet.from_events(str(f), people=str(f))
    assert net.edges["n_events"].sum() == 3 and set(net.people["unit"]) == {"X", "Y"}
    with pytest.raises(SchemaError, match="no sheet 'nope'"):
        io.read_events(str(f), sheet="nope")
    assert len(io.read_events(str(f), sheet="Events").data) == 3


def test_excel_without_matching_sheet_needs_sheet(tmp_path):
    pytest.importorskip("openpyxl")
    f = tmp_path / "x.xlsx"
    with pd.ExcelWriter(f) as w:
        pd.DataFrame(EV).to_excel(w, sheet_name="A", index=False)
        pd.DataFrame(EV).to_excel(w, sheet_name="B", index=False)
    with pytest.raises(SchemaError, match="sheet="):
        io.read_events(str(f))
    assert len(io.read_events(str(f), sheet="B").data) == 3


# --------------------------------------------------------------------------- folders

def test_find_tables_on_samples_and_generate_output(tmp_path):
    found = io.find_tables("data/samples/planta")
    assert sorted(found) == ["agreements", "events", "people", "ratings"]
    assert icnet.cli.main(["generate", "--people", "20", "--days", "30", "-q",
                           "--out", str(tmp_path / "g")]) == 0
    found = io.find_tables(tmp_path / "g")
    assert sorted(found) == ["agreements", "events", "people", "ratings"]
    (tmp_path / "g" / "events.parquet").write_bytes(b"")
    with pytest.raises(SchemaError, match="several events tables"):
        io.find_tables(tmp_path / "g")


# --------------------------------------------------------------------------- from_edges

@pytest.mark.parametrize("col,value,fragment", [
    ("n_events", 1e20, "whole counts"),
    ("n_events", -3, "whole counts"),
    ("n_events", 2.5, "whole counts"),
    ("sla_breach_rate", 5, r"rates outside \[0, 1\]"),
    ("rework_rate", -0.1, r"rates outside \[0, 1\]"),
    ("satisfaction_n", 50, "larger than n_events"),
    ("delay_mean", -1, "negative"),
])
def test_from_edges_validates_numbers(col, value, fragment):
    e = {"provider": ["IT", "HR"], "client": ["HR", "IT"], "n_events": [10, 10],
         "satisfaction_mean": [3.0, 4.0]}
    e[col] = [value, e.get(col, [0, 0])[1] if col in e else 0]
    with pytest.raises(SchemaError, match=fragment):
        icnet.ServiceNetwork.from_edges(e, level="unit")


def test_from_edges_valid_counts_pass():
    net = icnet.ServiceNetwork.from_edges(
        {"provider": ["IT"], "client": ["HR"], "n_events": [10], "satisfaction_n": [4],
         "sla_breach_rate": [0.2]}, level="unit")
    assert net.edges["n_events"].tolist() == [10]


# --------------------------------------------------------------------------- periods

def test_periods_budget():
    net = icnet.datasets.toy()
    with pytest.raises(BudgetExceededError, match="max_periods"):
        net.periods("1min")
    assert len(net.periods("MS", max_periods=12)) >= 2
    with pytest.raises(ParameterError):
        net.periods("MS", max_periods=0)


def test_empty_window_periods_and_report(tmp_path):
    net = icnet.datasets.toy().window("2030-01-01", "2030-02-01")
    assert len(net.events) == 0
    assert net.periods("MS") == {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            icnet.report(net, tmp_path / "r.html")
    except IcnetError:
        pass                                 # a clear icnet error is fine
    else:
        assert (tmp_path / "r.html").stat().st_size > 0


@pytest.mark.parametrize("freq", [None, "0D", "-1MS", "1ns"])
def test_periods_bad_or_huge_freq_is_an_icnet_error(freq):
    with pytest.raises((ParameterError, BudgetExceededError)):
        icnet.datasets.toy().periods(freq)


@pytest.mark.parametrize("word", ["now", "today"])
def test_window_refuses_clock_words(word):
    with pytest.raises(ParameterError, match="read the clock"):
        icnet.datasets.toy().window(word)


# --- #20 point 5/6 in generation: the start date is checked, the size has a budget ----------
@pytest.mark.parametrize("start", ["9999-12-01", "now", "today", "garbage", 5, 1.5e9, None,
                                   "1850-01-01", "2199-12-01"])
def test_synth_start_refused_not_wrapped(start):
    """main: start="9999-12-01" generated events in 1816 (int64 wrap), "now" read the
    clock, 5 meant 1970 and "garbage" leaked a pandas DateParseError."""
    from icnet import synth
    with pytest.raises(ParameterError, match="'start' parameter"):
        synth.organisation(n_people=10, days=28, start=start, plant="none")


def test_synth_generation_budget():
    from icnet import synth
    with pytest.raises(BudgetExceededError, match="max_events"):
        synth.organisation(n_people=10**9)
    with pytest.raises(BudgetExceededError, match="max_events"):
        synth.organisation(n_people=100, days=365, max_events=1000)
    org = synth.organisation(n_people=10, days=28, start=pd.Timestamp("2030-06-01"),
                             plant="none")
    assert org.events["requested_at"].min() >= pd.Timestamp("2030-06-01")


# --- the fuzzer's OverflowError (test_validate_never_raises, #20), found and its kin -------
@pytest.mark.parametrize("infer", [False, True])
def test_delay_of_299_years_is_out_of_range_not_an_overflow(infer):
    """Two dates inside the accepted 1901..2199 are up to 299 years apart, more than
    datetime64[ns] spans: io.validate and from_events raised OverflowError on main."""
    import datetime as dt
    df = pd.DataFrame({"provider": ["a", "b"], "client": ["b", "a"],
                       "requested_at": [dt.datetime(1901, 6, 1), dt.datetime(2025, 1, 1)],
                       "delivered_at": [dt.datetime(2199, 6, 1), dt.datetime(2025, 1, 2)]},
                      dtype=object)
    df = df.infer_objects() if infer else df
    v = io.validate(df)
    assert v["reason"].tolist() == ["out_of_range"] and "2199-06-01" in v.loc[0, "message"]
    t = io.read_events(df, errors="drop")
    assert t.data["delay_hours"].tolist() == [24.0] and t.dropped["row"].tolist() == [0]
    with pytest.raises(SchemaError, match="more than 100 years"):
        icnet.from_events(df)


def test_review_every_longer_than_50_years_refused():
    """main: review_every='106751D' was read, then agreement_compliance raised
    OverflowError (last_review + review_every past 2262)."""
    t = icnet.datasets.toy_tables()
    ag = t["agreements"].assign(review_every="106751D")
    with pytest.raises(SchemaError, match="longer than 50 years"):
        icnet.from_events(t["events"], people=t["people"], agreements=ag)
    ok = t["agreements"].assign(review_every="18262D", last_review="2199-12-31")
    net = icnet.from_events(t["events"], people=t["people"], agreements=ok)
    for as_of in ("1901-01-01", "2199-12-31"):     # 349 years apart: counted in seconds
        a = icnet.agreement_compliance(net, as_of=as_of).agreements
        assert (a["days_overdue"] == 0).all() and not a["overdue"].any()


@pytest.mark.parametrize("value", [10**18, 1.5, True, "9999-12-31", "1700-01-01", pd.NaT,
                                   "today"])
def test_date_parameters_are_dates_in_range(value):
    """main: as_of=10**18 was read as nanoseconds since 1970 (2001-09-09), '9999-12-31'
    raised OutOfBoundsDatetime and '1700-01-01' an OverflowError."""
    net = icnet.datasets.toy()
    with pytest.raises(ParameterError, match="'as_of' parameter"):
        icnet.agreement_compliance(net, as_of=value)
    with pytest.raises(ParameterError, match="'start' parameter"):
        net.window(value, None)
