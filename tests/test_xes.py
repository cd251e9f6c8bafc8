"""XES and ticketing-export readers (issue #22 point 1)."""
import gzip
import os

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet._xes import read_tickets, read_xes

BPIC = os.path.join(os.path.dirname(__file__), "..", "data", "samples", "bpic2013",
                    "bpic2013_incidents.xes.gz")

XES = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <global scope="event"><string key="org:group" value="UNKNOWN"/></global>
  <float key="meta" value="1.0"><float key="nested" value="2.0"/></float>
  <trace>
    <string key="concept:name" value="A"/>
    <string key="impact" value="High"/>
    <event>
      <string key="org:group" value="G1"/><string key="concept:name" value="Queued"/>
      <date key="time:timestamp" value="2012-05-01T09:00:00+02:00"/>
      <int key="n" value="3"/><boolean key="ok" value="true"/>
    </event>
    <event>
      <string key="org:group" value="G2"><string key="nested" value="x"/></string>
      <date key="time:timestamp" value="2012-05-01T10:00:00.500+02:00"/>
      <float key="cost" value="1.5"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="B"/>
    <event><string key="org:group" value="G1"/>
      <date key="time:timestamp" value="2012-05-02T09:00:00Z"/></event>
  </trace>
</log>"""


@pytest.fixture
def xes_file(tmp_path):
    p = tmp_path / "t.xes"
    p.write_text(XES, encoding="utf-8")
    return p


def test_read_xes_types_missing_and_trace_attributes(xes_file):
    df = read_xes(xes_file)
    assert df["case"].tolist() == ["A", "A", "B"]
    assert df["org:group"].tolist() == ["G1", "G2", "G1"]
    assert df["case:impact"].tolist()[:2] == ["High", "High"] and pd.isna(df["case:impact"][2])
    ts = df["time:timestamp"]
    assert str(ts.dt.tz) == "UTC"
    assert ts[0] == pd.Timestamp("2012-05-01T07:00:00Z")
    assert ts[1] == pd.Timestamp("2012-05-01T08:00:00.5Z")
    assert df["n"].tolist()[0] == 3 and np.isnan(df["n"][1])
    assert df["cost"][1] == 1.5 and df["ok"][0] is True or df["ok"][0] == True  # noqa: E712
    assert "nested" not in df and "meta" not in df        # nested/meta attributes not read
    assert pd.isna(df["concept:name"][1])                 # missing, not invented


def test_read_xes_gz_same_as_plain(xes_file, tmp_path):
    gz = tmp_path / "t.xes.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(XES)
    pd.testing.assert_frame_equal(read_xes(gz), read_xes(xes_file))


def test_read_xes_errors(tmp_path):
    bad = tmp_path / "bad.xes"
    bad.write_text("<log><trace>", encoding="utf-8")
    with pytest.raises(icnet.SchemaError, match="not a readable XES"):
        read_xes(bad)
    empty = tmp_path / "empty.xes"
    empty.write_text("<log/>", encoding="utf-8")
    with pytest.raises(icnet.SchemaError, match="no <trace>"):
        read_xes(empty)
    with pytest.raises(icnet.ParameterError):
        read_xes(tmp_path / "nope.xes")


@pytest.mark.skipif(not os.path.isfile(BPIC), reason="BPIC 2013 sample not present")
def test_read_bpic2013_counts():
    df = read_xes(BPIC)
    # the published sizes of the BPI Challenge 2013 incident log
    assert len(df) == 65533 and df["case"].nunique() == 7554
    assert df["time:timestamp"].notna().all() and df["org:group"].notna().all()


def test_read_tickets_audit_shape_carries_state_forward():
    audit = pd.DataFrame({
        "number": ["I2", "I1", "I1", "I1", "I1", "I1"],
        "sys_created_on": ["2024-03-01 08:00", "2024-03-01 09:00", "2024-03-01 09:00",
                           "2024-03-01 11:00", "2024-03-01 12:00", "2024-03-04 10:00"],
        "fieldname": ["state", "state", "assignment_group", "assignment_group",
                      "short_description", "state"],
        "newvalue": ["New", "New", "Desk", "Network", "text", "Resolved"]})
    t = read_tickets(audit, case="number", timestamp="sys_created_on", field="fieldname",
                     new="newvalue")
    assert t["case"].tolist() == ["I1"] * 4 + ["I2"]          # other fields dropped
    assert t["status"].tolist() == ["New", "New", "New", "Resolved", "New"]
    assert pd.isna(t["group"][0])                             # not yet assigned
    assert t["group"].tolist()[1:4] == ["Desk", "Network", "Network"]
    assert pd.isna(t["resource"]).all()                       # not in the export: missing


def test_read_tickets_wide_shape_and_errors():
    wide = {"key": ["J1", "J1", "J1"], "when": ["2024-01-01T09:00Z", "2024-01-01T10:00Z",
                                                 "2024-01-02T10:00Z"],
            "status": ["Open", "Open", "Done"], "team": ["A", "B", "B"]}
    t = read_tickets(wide, case="key", timestamp="when", status="status", group="team")
    assert t["changed"].tolist() == ["opened", "group", "status"]
    with pytest.raises(icnet.SchemaError, match="missing column"):
        read_tickets(wide, case="key", timestamp="time", status="status")
    with pytest.raises(icnet.ParameterError):
        read_tickets(wide, case="key", timestamp="when")
    bad = dict(wide, when=["2024-01-01", "soon", "2024-01-02"])
    with pytest.raises(icnet.SchemaError, match="rows \\[1\\]"):
        read_tickets(bad, case="key", timestamp="when", status="status")


def test_from_process_log_reads_xes_files(xes_file):
    net = icnet.from_process_log(xes_file, activity="concept:name", resource="org:group",
                                 timestamp="time:timestamp")
    assert net.n_events == 1
    e = net.edges.iloc[0]
    assert (e["provider"], e["client"], e["delay_mean"]) == ("G1", "G2", pytest.approx(1 + 0.5 / 3600))


def test_bundled_bpic2013_is_the_data_samples_file():
    import filecmp
    import hashlib

    root = os.path.join(os.path.dirname(__file__), "..")
    src = os.path.join(root, "data", "samples", "bpic2013")
    pkg = os.path.join(root, "src", "icnet", "_data", "bpic2013")
    for name in ("bpic2013_incidents.xes.gz", "README.md"):
        assert filecmp.cmp(os.path.join(src, name), os.path.join(pkg, name), shallow=False)
    sums = dict(line.split()[::-1] for line in open(os.path.join(src, "SHA256SUMS"))
                if line.strip())
    with open(os.path.join(src, "bpic2013_incidents.xes.gz"), "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sums["bpic2013_incidents.xes.gz"]
    assert os.path.getsize(os.path.join(pkg, "bpic2013_incidents.xes.gz")) < 2_000_000
