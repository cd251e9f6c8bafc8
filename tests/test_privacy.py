"""Privacy: suppression and keyed pseudonyms."""

import numpy as np
import pandas as pd
import pytest

from icnet import privacy
from icnet.errors import ParameterError


def test_suppress():
    df = pd.DataFrame({"n": [4, 5], "x": [1.0, 2.0]})
    out = privacy.suppress(df, "n", ["x"])
    assert out["x"].isna().tolist() == [True, False]
    assert out["suppressed"].tolist() == [True, False]
    assert df["x"].notna().all()                       # input untouched
    with pytest.raises(ParameterError, match="no column 'm'"):
        privacy.suppress(df, "m", ["x"])


def test_pseudonymize_is_keyed_and_stable():
    df = pd.DataFrame({"provider": ["ana", "luis"], "client": ["luis", None]})
    a = privacy.pseudonymize(df, ["provider", "client"], key="k1")
    b = privacy.pseudonymize(df, ["provider", "client"], key="k1")
    c = privacy.pseudonymize(df, ["provider", "client"], key="k2")
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[0, "client"] == a.loc[1, "provider"]  # same id, same pseudonym
    assert a.loc[0, "provider"] != c.loc[0, "provider"]
    assert pd.isna(a.loc[1, "client"])
    assert "ana" not in a.to_csv()
    with pytest.raises(ParameterError, match="non-empty secret key"):
        privacy.pseudonymize(df, ["provider"], key="")


# --- #20 point 3: keys are str/bytes only, checked against RFC 4231 -------------------------
# HMAC-SHA256 test vectors of RFC 4231 (Nystrom 2005), cases 1, 2, 6 and 7 (text data).
RFC4231 = [
    (b"\x0b" * 20, "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    ("Jefe", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 131, "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (b"\xaa" * 131, "This is a test using a larger than block-size key and a larger than "
     "block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


@pytest.mark.parametrize("key,data,digest", RFC4231)
def test_pseudonymize_matches_rfc4231(key, data, digest):
    df = pd.DataFrame({"provider": [data]})
    out = privacy.pseudonymize(df, ["provider"], key=key, length=64)
    assert out.loc[0, "provider"] == digest


@pytest.mark.parametrize("key", [42, 1, 64, 3.5, None, ["k"], True, bytearray(b"")])
def test_pseudonymize_refuses_non_text_keys(key):
    df = pd.DataFrame({"provider": ["ana"]})
    with pytest.raises((TypeError, ParameterError), match="key"):
        privacy.pseudonymize(df, ["provider"], key=key)


def test_int_keys_do_not_collide_with_the_empty_key():
    # the finding: bytes(42) is 42 zero bytes, so every int key 1..64 equalled b"".
    df = pd.DataFrame({"provider": ["ana"]})
    with pytest.raises(TypeError, match="str or bytes"):
        privacy.pseudonymize(df, ["provider"], key=42)
    a = privacy.pseudonymize(df, ["provider"], key="42")
    b = privacy.pseudonymize(df, ["provider"], key=b"\x00" * 42)
    assert a.loc[0, "provider"] != b.loc[0, "provider"]


# --- #20 point 2: individuals must be a real bool --------------------------------------------
@pytest.mark.parametrize("bad", ["no", "yes", 1, 0, None, "False"])
def test_individuals_must_be_bool(bad, tmp_path):
    import icnet
    net = icnet.datasets.toy()
    for call in (lambda: icnet.health(net, individuals=bad),
                 lambda: icnet.actions(net, individuals=bad),
                 lambda: icnet.report(net, tmp_path / "r.html", individuals=bad),
                 lambda: icnet.service_quality(net, individuals=bad)):
        with pytest.raises(ParameterError, match="'individuals' parameter must be True or False"):
            call()


# --- #20 point 2: dropped.csv holds no survey answers unless --individuals ------------------
def test_dropped_csv_without_survey_values(tmp_path):
    import subprocess
    import sys
    t = __import__("icnet").datasets.toy_tables()
    ev = t["events"].copy()
    ev.loc[0, "satisfaction"] = 9                       # out of scale: dropped
    ev.to_csv(tmp_path / "ev.csv", index=False)
    t["people"].to_csv(tmp_path / "pp.csv", index=False)
    for flag, out in (([], "a"), (["--individuals", "--level", "person"], "b")):
        r = subprocess.run([sys.executable, "-m", "icnet", "analyze", str(tmp_path / "ev.csv"),
                            "--people", str(tmp_path / "pp.csv"), "--errors", "drop",
                            "--out", str(tmp_path / out), "--quiet", *flag],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    a = pd.read_csv(tmp_path / "a" / "dropped.csv")
    b = pd.read_csv(tmp_path / "b" / "dropped.csv")
    assert a["reason"].tolist() == ["out_of_scale"] and "satisfaction" not in a
    assert {"provider", "client", "detail"} <= set(a.columns)
    assert b.loc[0, "satisfaction"] == 9


def test_publishable_dropped_checks():
    d = pd.DataFrame({"table": ["events"], "row": [0], "satisfaction": [9.0], "note": ["x"]})
    assert privacy.publishable_dropped(d).columns.tolist() == ["table", "row"]
    with pytest.raises(ParameterError, match="individuals"):
        privacy.publishable_dropped(d, individuals="no")
    with pytest.raises(ParameterError, match="DataFrame"):
        privacy.publishable_dropped([1])


def test_person_level_cycles_hide_ratings_unless_asked():
    import icnet
    net = icnet.datasets.toy()
    c = icnet.conflict_cycles(net)
    assert len(c) and c["satisfaction_mean"].isna().all()
    ci = icnet.conflict_cycles(net, individuals=True)
    assert ci["satisfaction_mean"].notna().all()
    assert icnet.conflict_cycles(net, level="unit",
                                 min_group_size=2)["satisfaction_mean"].notna().any()
    with pytest.raises(ParameterError, match="individuals"):
        icnet.conflict_cycles(net, individuals="no")


# --- #20 point 1: differential privacy for repeated releases (OpenDP) ------------------------
def test_dp_quality_budget_and_accuracy():
    pytest.importorskip("opendp")
    import icnet
    from icnet import _dp
    net = icnet.datasets.load("planta")
    b = privacy.Budget(1.5)
    t = privacy.dp_quality(net, epsilon=1.0, budget=b)
    assert list(t.columns) == ["provider", "n_raters_dp", "satisfaction_mean_dp"]
    assert t.attrs["epsilon"] == 1.0 and b.remaining == pytest.approx(0.5)
    assert t["satisfaction_mean_dp"].dropna().between(1, 5).all()
    with pytest.raises(icnet.errors.BudgetExceededError, match="budget exceeded"):
        privacy.dp_quality(net, epsilon=1.0, budget=b)        # a second window: refused
    assert b.spent == pytest.approx(1.0)
    # noise-free estimand vs a huge epsilon: the noise shrinks as 1/epsilon
    real = _dp._laplace
    try:
        _dp._laplace = lambda v, s, e: np.asarray(v, float)
        exact = privacy.dp_quality(net, epsilon=1.0).set_index("provider")[
            "satisfaction_mean_dp"]
    finally:
        _dp._laplace = real
    big = privacy.dp_quality(net, epsilon=1e4).set_index("provider")["satisfaction_mean_dp"]
    assert (big - exact).abs().max() < 0.05
    small = privacy.dp_quality(net, epsilon=0.2).set_index("provider")["satisfaction_mean_dp"]
    assert not np.allclose(small.fillna(0), exact.fillna(0))


def test_dp_laplace_is_calibrated_by_opendp():
    pytest.importorskip("opendp")
    from icnet import _dp
    x = _dp._laplace(np.zeros(4000), 2.0, 0.5)            # scale 4: sd = 4 * sqrt(2)
    assert abs(x.std() - 4 * np.sqrt(2)) < 0.5 and abs(x.mean()) < 0.5


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "1", True])
def test_dp_parameters(bad):
    import icnet
    with pytest.raises(ParameterError, match="epsilon"):
        privacy.dp_quality(icnet.datasets.toy(), epsilon=bad)
    with pytest.raises(ParameterError, match="epsilon"):
        privacy.Budget(bad)


# --- #20 point 2: every person-level output gated (reproducers: each leaked a rating) -------
def _toy():
    import icnet
    return icnet.datasets.toy()


def test_spiral_timeline_hides_individual_ratings_unless_asked():
    import icnet
    net = _toy()
    raw = icnet.spiral_timeline(net, "ana", "dario", individuals=True)
    assert raw["satisfaction"].notna().any() and raw["z"].notna().any()
    tl = icnet.spiral_timeline(net, "ana", "dario")          # one rater per direction
    assert tl["satisfaction"].isna().all() and tl["z"].isna().all()
    assert tl["exposure"].isna().all()
    assert tl["requested_at"].equals(raw["requested_at"])    # the events stay listed
    # units rated by 2-3 people: shown only when the group size allows it
    u = icnet.spiral_timeline(net, "Produccion", "Calidad", level="unit", min_group_size=2)
    assert u["satisfaction"].notna().any()
    assert icnet.spiral_timeline(net, "Produccion", "Calidad",
                                 level="unit")["satisfaction"].isna().all()
    with pytest.raises(ParameterError, match="individuals"):
        icnet.spiral_timeline(net, "ana", "dario", individuals="no")


def test_balance_and_signed_pairs_hide_individual_signs_unless_asked():
    import icnet
    net = _toy()
    raw = icnet.balance(net, individuals=True, n_perm=0)
    assert raw.frustrated["sign"].notna().all() and len(raw.frustrated)
    r = icnet.balance(net, n_perm=0)
    assert len(r.frustrated) == len(raw.frustrated) and r.frustrated["sign"].isna().all()
    assert r.frustration == raw.frustration                  # the index is an aggregate
    assert icnet.analysis.conflicts.signed_pairs(net)["sign"].isna().all()
    assert icnet.analysis.conflicts.signed_pairs(net, individuals=True)["sign"].notna().all()
    assert icnet.analysis.conflicts.signed_pairs(net, level="unit",
                                                 min_group_size=2)["sign"].notna().all()
    with pytest.raises(ParameterError, match="individuals"):
        icnet.balance(net, individuals=1)


def test_cycles_hide_every_survey_derived_number_of_small_groups():
    import icnet
    net = _toy()
    c = icnet.conflict_cycles(net)
    raw = icnet.conflict_cycles(net, individuals=True)
    # severity = weakest shortfall x log(1 + n_events): the shortfall is a function of one
    # person's ratings (the upper bound of their relation's mean)
    assert raw["weakest_shortfall"].notna().all()
    assert c[["satisfaction_mean", "weakest_shortfall", "severity"]].isna().all().all()
    assert c["cycle"].tolist() == raw["cycle"].tolist()      # same cycles, same order
    u = icnet.conflict_cycles(net, level="unit")             # relations rated by 2-3 people
    assert u[["satisfaction_mean", "weakest_shortfall"]].isna().all().all()
    u2 = icnet.conflict_cycles(net, level="unit", min_group_size=2)
    assert u2["satisfaction_mean"].notna().all()


def test_bad_edges_hide_individual_ratings_unless_asked():
    import icnet
    net = _toy()
    b = icnet.analysis.conflicts.bad_edges(net)
    bi = icnet.analysis.conflicts.bad_edges(net, individuals=True)
    assert bi["satisfaction_mean"].notna().any()
    assert b[privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
    assert b.loc[b["why"] == "satisfaction", "shortfall"].isna().all()
    assert b[["provider", "client", "why"]].equals(bi[["provider", "client", "why"]])


def test_to_networkx_hides_small_groups_unless_asked():
    import icnet
    net = _toy()
    g = net.to_networkx()
    d = g.edges["ana", "dario"]
    assert np.isnan(d["satisfaction_mean"]) and d["sign"] == "suppressed"
    assert np.isnan(d["within_sd"]) and d["weight"] == d["n_events"]
    assert net.to_networkx(individuals=True).edges["ana", "dario"]["satisfaction_mean"] > 1
    gu = net.by("unit").to_networkx()                        # 2-rater unit relations
    assert all(np.isnan(x) for _, _, x in gu.edges(data="satisfaction_mean"))
    gu3 = net.by("unit").to_networkx(min_group_size=3)
    assert not np.isnan(gu3.edges["Produccion", "Ventas"]["satisfaction_mean"])
    with pytest.raises(ParameterError, match="individuals"):
        net.to_networkx(individuals="yes")


def test_suppress_edges_is_the_shareable_relations_table():
    import icnet
    u = _toy().by("unit")
    assert u.edges["satisfaction_mean"].isna().all()      # 1-4 raters each: gated (#20)
    assert u.by("unit", individuals=True).edges["satisfaction_mean"].notna().all()
    e = privacy.suppress_edges(u, min_group_size=3)
    full = u.by("unit", individuals=True).edges
    small = (full["satisfaction_raters"] < 3).to_numpy()
    assert e.loc[small, privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
    assert e.loc[~small, "satisfaction_mean"].notna().all()
    assert (e.loc[small, "sign"] == "suppressed").all()


def test_counts_of_suppressed_cells_are_hidden():
    """#20 Deliver 1: 'counts of suppressed cells hidden or coarsened'. On planta a hidden unit
    relation published n_raters 3 and satisfaction_n 17 (Atencion al cliente -> Calidad)."""
    import icnet
    net = icnet.datasets.load("planta")
    q = icnet.service_quality(net, level="unit")
    for t in (q.edges, q.providers, q.units):
        hid = t["suppressed"].to_numpy(bool)
        assert t.loc[hid, ["satisfaction_n", "n_raters"]].isna().all().all()
        assert t.loc[~hid & (t["satisfaction_n"] > 0), "n_raters"].notna().all()
    assert q.edges["suppressed"].any()
    shown = icnet.service_quality(net, level="unit", individuals=True).edges
    assert shown["n_raters"].notna().all()


def test_report_csvs_hide_every_survey_figure_of_small_groups(tmp_path):
    """edges.csv blanked the means but kept within_sd (a rater's own SD), lfsr and n_eff;
    conflict_cycles.csv kept the severity of cycles between people (one person's ratings)."""
    import icnet
    net = _toy()
    icnet.report(net, tmp_path / "r.html", tables=True)
    e = pd.read_csv(tmp_path / "edges.csv")
    assert e["suppressed"].any()
    assert e.loc[e["suppressed"], privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
    c = pd.read_csv(tmp_path / "conflict_cycles.csv")
    assert c.loc[c["between"] == "people", "severity"].isna().all()
    assert c.loc[c["satisfaction_mean"].isna(), "severity"].isna().all()
    # (rows between people appear at unit level for people's cycles no unit cycle covers:
    # tests/test_conflicts.py::test_unit_level_composition_by_hand checks they are hidden)
    icnet.report(net, tmp_path / "p" / "r.html", tables=True, individuals=True,
                 min_group_size=2)
    cp = pd.read_csv(tmp_path / "p" / "conflict_cycles.csv")
    assert cp["severity"].notna().all()


# --- #20 "ungated individual data": net.by("unit").edges and retaliation_spirals ----------
def test_unit_edges_are_gated_unless_asked():
    """main showed the mean of a 1-rater unit relation (one person's answers) in
    net.by("unit").edges; now its survey columns are NaN below MIN_GROUP_SIZE raters."""
    import icnet
    net = icnet.datasets.load("planta")
    u = net.by("unit")
    full = net.by("unit", individuals=True).edges
    e = u.edges
    small = (full["satisfaction_n"] > 0) & (full["satisfaction_raters"] < privacy.MIN_GROUP_SIZE)
    assert small.any() and (~small).any()
    assert e["suppressed"].tolist() == small.tolist()
    assert e.loc[small, privacy.SURVEY_EDGE_COLUMNS].isna().all().all()
    assert (e.loc[small, "sign"] == "suppressed").all()
    assert full.loc[small, "satisfaction_mean"].notna().all()      # asked: shown
    pd.testing.assert_frame_equal(e.loc[~small, full.columns], full.loc[~small])
    # counts and service figures stay; person-level working data is not changed
    assert e["n_events"].equals(full["n_events"]) and e["delay_mean"].equals(full["delay_mean"])
    assert net.edges["satisfaction_mean"].notna().any()
    assert "suppressed" not in net.edges and net.by("unit") is u       # cached, not rebuilt
    with pytest.raises(ParameterError, match="individuals"):
        net.by("unit", individuals="no")
    # analyses still read the full table: unit quality with min_group_size=1 shows them
    q = icnet.service_quality(net, level="unit", min_group_size=1, individuals=True)
    got = q.edges.set_index(["provider", "client"])["satisfaction_mean"]
    want = full.set_index(["provider", "client"])["satisfaction_mean"]
    np.testing.assert_allclose(got.loc[want.index].to_numpy(float), want.to_numpy(float))
    # a window of a gated network is gated too
    w = u.window("2025-01-01", "2025-07-01").edges
    assert w.loc[w["suppressed"], "satisfaction_mean"].isna().all()


def test_retaliation_spirals_magnitudes_gated_unless_asked():
    """main published each person-level pair's coupling and drop sizes (SD of one
    person's ratings) without individuals=True; the decisions stay."""
    import icnet
    net = icnet.datasets.load("planta")
    s = icnet.retaliation_spirals(net, n_perm=99)
    f = icnet.retaliation_spirals(net, n_perm=99, individuals=True)
    assert len(s) and f["effect"].notna().any() and f["drop_ab"].notna().any()
    mag = [c for c in privacy.SPIRAL_SURVEY_COLUMNS if c in s]
    assert s[mag].isna().all().all()                                # person level: 1 rater
    keep = [c for c in s.columns if c not in mag + ["reason"]]
    pd.testing.assert_frame_equal(s[keep], f[keep])
    assert s.attrs["params"]["individuals"] is False and f.attrs["params"]["individuals"]
    with pytest.raises(ParameterError, match="individuals"):
        icnet.retaliation_spirals(net, n_perm=99, individuals=1)
    # reason: numbers in SD (and after effect/coupling/drop) are cut; q, p, days stay
    t = pd.DataFrame({"a": ["x"], "b": ["y"], "effect": [0.4], "drop_ab": [1.2],
                      "specificity_z": [-3.2],
                      "reason": ["dropped 1.23 SD, coupling 0.45 (q=0.01) 12 days later, "
                                 "concurrence 0.81; not targeted (specificity): a side's "
                                 "service to its other clients dropped in the same weeks "
                                 "(z=-3.2)"]})
    e = pd.DataFrame({"provider": ["x", "y"], "client": ["y", "x"], "satisfaction_n": [9, 9],
                      "satisfaction_raters": [1, 9]})
    toy = type("N", (), {"_edges": e, "level": "unit"})()
    g = privacy._gate_spirals(toy, t, individuals=False, min_group_size=5)
    assert g["reason"].item() == ("dropped (hidden) SD, coupling (hidden) (q=0.01) 12 days "
                                  "later, concurrence (hidden); not targeted (specificity): "
                                  "a side's service to its other clients dropped in the same "
                                  "weeks (z=(hidden))")
    assert np.isnan(g["effect"].item()) and t["effect"].item() == 0.4      # input untouched
    # spec14's specificity z (the side's service to its other clients) is a magnitude too
    assert np.isnan(g["specificity_z"].item()) and "specificity_z" in \
        privacy.SPIRAL_SURVEY_COLUMNS
    e["satisfaction_raters"] = [9, 9]
    assert privacy._gate_spirals(toy, t, individuals=False, min_group_size=5)["effect"].item() \
        == 0.4
    # the pair x-y is large, but x also serves z, rated by 2 people: specificity_z pools
    # x's services to all its clients, so it and its "z=" are hidden; the rest stays
    e3 = pd.DataFrame({"provider": ["x", "y", "x"], "client": ["y", "x", "z"],
                       "satisfaction_n": [9, 9, 4], "satisfaction_raters": [9, 9, 2]})
    toy3 = type("N", (), {"_edges": e3, "level": "unit"})()
    g3 = privacy._gate_spirals(toy3, t, individuals=False, min_group_size=5)
    assert np.isnan(g3["specificity_z"].item()) and g3["effect"].item() == 0.4
    assert g3["reason"].item().endswith("(z=(hidden))") and "dropped 1.23 SD" in \
        g3["reason"].item()

