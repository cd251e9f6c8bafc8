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
    assert icnet.conflict_cycles(net, level="unit")["satisfaction_mean"].notna().any()
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
