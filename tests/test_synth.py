"""icnet.synth: determinism, schemas, and every planted pattern visible in the data."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def org():
    return synth.organisation(n_people=150, seed=3)


@pytest.fixture(scope="module")
def clean():
    return synth.organisation(n_people=150, seed=3, plant="none")


def test_same_seed_same_tables_and_truth():
    a = synth.organisation(n_people=60, days=90, seed=5)
    b = synth.organisation(n_people=60, days=90, seed=5)
    for t in ("events", "people", "ratings", "agreements"):
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))
    assert a.truth.to_json() == b.truth.to_json()
    c = synth.organisation(n_people=60, days=90, seed=6)
    assert not a.events.equals(c.events)


def test_schemas_are_canonical(org):
    assert list(org.events.columns) == ["event_id", "provider", "client", "requested_at",
                                        "delivered_at", "delay_hours", "satisfaction",
                                        "service", "expected_hours", "reopened"]
    assert org.events["event_id"].is_unique
    assert set(org.people.columns) == {"person", "unit", "manager", "role", "external_facing"}
    assert set(org.ratings["dimension"]) == {"reliability", "responsiveness", "assurance",
                                             "empathy", "tangibles"}
    assert org.ratings["recommend"].between(0, 10).all()
    net = org.network()   # the tables pass icnet's own validation
    assert net.edges["n_events"].sum() == len(org.events)


def test_structure_is_realistic(org):
    net = org.network()
    e = net.edges
    mutual = e.merge(e, left_on=["provider", "client"], right_on=["client", "provider"])
    assert 0.2 < len(mutual) / len(e) < 0.45                 # ~30 % reciprocal relations
    out = net.nodes["n_out"]
    assert out.max() > 5 * out.median()                      # heavy-tailed workloads
    units = net.by("unit")
    assert 0.05 < len(units.internal) / len(org.events) < 0.3   # within-unit service exists
    assert set(units.nodes.loc[units.nodes.external_facing, "node"]) == {
        "Ventas", "Atencion al cliente"}


def test_shock_month_lowers_everyone(org):
    ev = org.events
    s, e = (pd.Timestamp(org.truth.shock[k]) for k in ("start", "end"))
    inside = ev["requested_at"].between(s, e, inclusive="left")
    assert ev.loc[inside, "satisfaction"].mean() < ev.loc[~inside, "satisfaction"].mean() - 0.4
    assert ev.loc[inside, "delay_hours"].median() > 1.3 * ev.loc[~inside, "delay_hours"].median()


def test_bottleneck_delays_grow(org):
    b = org.truth.bottlenecks[0]["person"]
    ev = org.events[org.events.provider == b]
    early = ev[ev.requested_at < ev.requested_at.quantile(0.25)]["delay_hours"].median()
    late = ev[ev.requested_at > ev.requested_at.quantile(0.75)]["delay_hours"].median()
    assert late > 2.5 * early
    assert ev["client"].nunique() >= 20


def test_conflict_cycle_edges_are_bad_with_evidence(org):
    ev = org.events
    for cyc in org.truth.conflict_cycles:
        for a, b in zip(cyc, cyc[1:] + cyc[:1]):
            rel = ev[(ev.provider == a) & (ev.client == b)]
            assert len(rel) >= 15
            assert rel["satisfaction"].mean() < 2.5


def test_spirals_alternate_and_escalate(org):
    ev = org.events
    for sp in org.truth.spirals:
        onset = pd.Timestamp(sp["onset"])
        pair = ev[((ev.provider == sp["a"]) & (ev.client == sp["b"])) |
                  ((ev.provider == sp["b"]) & (ev.client == sp["a"]))]
        before = pair[pair.requested_at < onset]["satisfaction"].mean()
        after = pair[(pair.requested_at > onset) &
                     (pair.requested_at <= pd.Timestamp(sp["end"]))]
        assert after["satisfaction"].mean() < before - 0.8
        first = pair[pair.requested_at == onset]
        assert first["provider"].tolist() == [sp["initiator"]]
        assert 6 <= sp["rounds"] <= 12


def test_chronic_conflict_is_constant(org):
    ev = org.events
    a, b = org.truth.chronic[0]
    rel = ev[(ev.provider == a) & (ev.client == b)].sort_values("requested_at")
    half = len(rel) // 2
    m1, m2 = rel["satisfaction"].iloc[:half].mean(), rel["satisfaction"].iloc[half:].mean()
    assert m1 < 2.8 and m2 < 2.8 and abs(m1 - m2) < 0.6


def test_avoidance_demand_drops(org):
    av = org.truth.avoidance[0]
    ev = org.events[org.events.client.isin(av["clients"])]
    date = pd.Timestamp(av["date"])
    share = lambda d: (d.provider == av["provider"]).mean() / max(
        (d.provider.isin([av["provider"], av["alternative"]])).mean(), 1e-9)
    assert share(ev[ev.requested_at < date]) > 2 * share(ev[ev.requested_at >= date])


def test_idle_units_serve_nobody(org):
    assert org.truth.idle_units
    ppl = org.people.set_index("person")["unit"]
    assert not org.events["provider"].map(ppl).isin(org.truth.idle_units).any()
    assert org.events["client"].map(ppl).isin(org.truth.idle_units).any()


def test_agreements_missing_and_overdue(org):
    ag = org.agreements
    pairs = set(zip(ag.provider, ag.client))
    for p, c in org.truth.missing_agreements:
        assert (p, c) not in pairs
    end = org.events["requested_at"].max()
    for p, c in org.truth.overdue_reviews:
        row = ag[(ag.provider == p) & (ag.client == c)].iloc[0]
        assert row.last_review + pd.Timedelta(row.review_every) < end


def test_pattern_free_data_has_no_pattern(clean):
    t = clean.truth
    assert not (t.bottlenecks or t.conflict_cycles or t.spirals or t.chronic or t.avoidance
                or t.idle_units or t.missing_agreements or t.overdue_reviews)
    assert t.shock                              # the shared bad month is still there
    end = clean.events["requested_at"].max()
    ag = clean.agreements
    assert (ag.last_review + pd.to_timedelta(ag.review_every) >= end).all()


def test_plant_options_and_errors():
    org = synth.organisation(n_people=80, days=120, seed=1,
                             plant={"conflict_cycles": [4], "spirals": 0, "chronic": 0,
                                    "spiral_units": ()})
    assert [len(c) for c in org.truth.conflict_cycles] == [4]
    with pytest.raises(ParameterError, match="Unknown plant keys"):
        synth.organisation(n_people=40, plant={"dragons": 1})
    with pytest.raises(ParameterError, match="'n_people' parameter must be >= 8"):
        synth.organisation(n_people=3)
    with pytest.raises(ParameterError, match="conflict cycle length"):
        synth.organisation(n_people=60, plant={"conflict_cycles": [5]})
    with pytest.raises(ParameterError, match="Unknown unit"):
        synth.organisation(n_people=60, plant={"spiral_units": (("Marte", "Ventas"),)})


def test_write_csv_and_parquet(tmp_path):
    org = synth.organisation(n_people=30, days=60, seed=2)
    for fmt in ("csv", "parquet"):
        d = synth.write(org, tmp_path / fmt, format=fmt)
        net = icnet.from_events(d / f"events.{fmt}", people=d / f"people.{fmt}")
        assert net.edges["n_events"].sum() == len(org.events)
        assert json.loads((d / "truth.json").read_text()) == org.truth.to_dict()


def test_samples_are_packaged_identically_and_reproducible(tmp_path):
    data = ROOT / "data" / "samples" / "planta"
    pkg = ROOT / "src" / "icnet" / "_data" / "planta"
    names = sorted(p.name for p in data.iterdir())
    assert names == sorted(p.name for p in pkg.iterdir())
    for n in names:
        assert (data / n).read_bytes() == (pkg / n).read_bytes(), n
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_samples
    finally:
        sys.path.pop(0)
    out = make_samples.build("planta", tmp_path / "planta")
    for f in out.iterdir():
        assert f.read_bytes() == (data / f.name).read_bytes(), f.name


def test_load_planta():
    net = icnet.datasets.load("planta")
    assert len(net.events) > 15_000 and net.nodes["unit"].nunique() == 10
    t = icnet.datasets.load("planta", as_tables=True)
    assert t["truth"]["bottlenecks"][0]["unit"] == "Informatica"


def test_write_with_progress_bar_gives_the_same_bytes(tmp_path, capsys):
    org = synth.organisation(n_people=60, days=90, seed=1)
    a = synth.write(org, tmp_path / "a")
    b = synth.write(org, tmp_path / "b", progress=True)
    err = capsys.readouterr().err
    assert "events" in err and "100%" in err and "[" in err
    for f in a.iterdir():
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
