"""reciprocity_test: the organisation-level test of negative reciprocity (#18 point 4)."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet.analysis.reciprocity import _decayed
from icnet.errors import ParameterError
from icnet.validity import generate

T0 = pd.Timestamp("2025-01-01")


def _coupled(rho, *, n_pairs=40, rate=40, seed=0, half_life=14.0):
    """Pairs whose event quality q = rho · (decayed mean of the partner's recent q) + N(0, 1),
    recorded as delays only (log delay = −0.5 q): a known reciprocity coupling."""
    rng = np.random.default_rng(seed)
    lam = np.log(2) / half_life
    rows = []
    for k in range(n_pairs):
        a, b = f"A{k:03d}", f"B{k:03d}"
        n = rng.poisson(2 * rate)
        t = np.sort(rng.uniform(0, 365, n))
        d = rng.integers(0, 2, n)
        num = np.zeros(2)
        den = np.zeros(2)
        last = 0.0
        for ti, di in zip(t, d):             # test data only: a loop is fine here
            f = np.exp(-lam * (ti - last))
            num, den, last = num * f, den * f, ti
            m = num[1 - di] / (den[1 - di] + 1.0)     # what the partner gave recently
            q = rho * m + rng.normal()
            num[di] += q
            den[di] += 1.0
            prov, cli = (a, b) if di == 0 else (b, a)
            rows.append((prov, cli, T0 + pd.Timedelta(days=float(ti)),
                         24.0 * np.exp(-0.5 * q)))
    ev = pd.DataFrame(rows, columns=["provider", "client", "requested_at", "delay_hours"])
    return icnet.from_events(ev)


def test_decayed_sums_by_hand():
    lam = np.log(2)                      # half-life one day
    num, den = _decayed(np.array([0, 0, 1]), np.array([0.0, 1.0, 0.0]),
                        np.array([2.0, 4.0, 8.0]), np.array([0, 0, 1, 2]),
                        np.array([1.0, 2.0, 0.0, 5.0]), lam)
    # target (0, t=1): only the t=0 source (strict past), one day old
    # (0, t=2): both; (1, t=0): the same-time source is not before; key 2: nothing
    np.testing.assert_allclose(num, [1.0, 2 * 0.25 + 4 * 0.5, 0, 0])
    np.testing.assert_allclose(den, [0.5, 0.25 + 0.5, 0, 0])


def test_known_coupling_is_recovered_with_its_sign():
    r = icnet.reciprocity_test(_coupled(0.6), n_perm=49, seed=1).set_index("term")
    rec = r.loc["reciprocity"]
    assert rec.estimate > 0 and rec.estimate / rec.se > 3
    assert rec.ci_low < 0.6 * 1.1 and rec.p < 0.001 and rec.p_perm <= 0.02
    assert rec.n_pairs == 40


def test_no_coupling_gives_no_finding():
    r = icnet.reciprocity_test(_coupled(0.0, seed=3), n_perm=49, seed=1).iloc[0]
    assert abs(r.estimate) < 3 * r.se and r.p > 0.01


def test_negative_coupling_is_not_negative_reciprocity():
    r = icnet.reciprocity_test(_coupled(-0.6, seed=4), n_perm=19, seed=1).iloc[0]
    assert r.estimate < 0 and r.p > 0.5 and r.p_perm > 0.5


def test_null_calibration_on_a_quick_slice():
    """Under independently built baseline organisations, p <= 0.05 is rare."""
    ps = [icnet.reciprocity_test(generate("baseline", n_people=150, seed=s).network(),
                                 n_perm=0).loc[0, "p"] for s in range(6)]
    assert sum(p <= 0.05 for p in ps) <= 1, ps
    assert np.all((np.array(ps) > 0) & (np.array(ps) < 1))


def test_table_shape_and_params():
    r = icnet.reciprocity_test(_coupled(0.3, n_pairs=10), n_perm=0)
    assert list(r["term"]) == ["reciprocity", "concurrent", "inertia", "received_from_others",
                               "partner_to_others"]
    assert list(r.columns) == ["term", "estimate", "se", "t", "p", "ci_low", "ci_high",
                               "p_perm", "n_events", "n_pairs"]
    assert np.isnan(r.loc[0, "p_perm"]) and r.attrs["params"]["half_life_days"] == 10.0


def test_too_few_pairs_gives_nan_not_an_error():
    r = icnet.reciprocity_test(_coupled(0.3, n_pairs=1), n_perm=9)
    assert np.isnan(r.loc[0, "estimate"]) and r.loc[0, "n_pairs"] <= 1


@pytest.mark.parametrize("kw,match", [
    (dict(half_life_days=0), "half_life_days"),
    (dict(half_life_days=0.1), "half_life_days.*too short"),
    (dict(min_events=1), "min_events"),
    (dict(n_perm=-1), "n_perm"),
    (dict(n_perm=2.5), "n_perm"),
    (dict(prior=0), "prior"),
    (dict(min_shift_days=-1), "min_shift_days"),
    (dict(concurrent_days=-1), "concurrent_days"),
    (dict(seed=-3), "seed"),
])
def test_bad_parameters(kw, match):
    with pytest.raises(ParameterError, match=match):
        icnet.reciprocity_test(_coupled(0.0, n_pairs=3), **kw)


def test_needs_events_with_time():
    edges = pd.DataFrame({"provider": ["a", "b"], "client": ["b", "a"],
                          "satisfaction": [3.0, 4.0], "n_events": [5, 5]})
    with pytest.raises(ParameterError, match="events"):
        icnet.reciprocity_test(icnet.from_edges(edges))


def test_deterministic_and_order_free():
    net = _coupled(0.3, n_pairs=15)
    a = icnet.reciprocity_test(net, n_perm=29, seed=5)
    b = icnet.reciprocity_test(net, n_perm=29, seed=5)
    pd.testing.assert_frame_equal(a, b)
    ev = net.events.sample(frac=1.0, random_state=0)
    cols = ["provider", "client", "requested_at", "delay_hours"]
    ev = ev[cols].astype({"provider": str, "client": str})
    c = icnet.reciprocity_test(icnet.from_events(ev), n_perm=29, seed=5)
    np.testing.assert_allclose(c["estimate"], a["estimate"], rtol=1e-9, atol=1e-12)
    # another seed changes only the permutation p
    d = icnet.reciprocity_test(net, n_perm=29, seed=6)
    np.testing.assert_allclose(d["estimate"], a["estimate"])


def test_concurrent_window_by_hand():
    from icnet.analysis.reciprocity import _window
    s, k = _window(np.array([0, 0, 0, 1]), np.array([1.0, 4.0, 9.0, 4.0]),
                   np.array([1.0, 2.0, 4.0, 8.0]), np.array([0, 0, 1, 2]),
                   np.array([5.0, 2.0, 4.0, 4.0]), 3.0)
    # open window (t − 3, t + 3): key 0 at t=5 sees t=4 only (t=9 is 4 away; t=1 is 4 away)
    np.testing.assert_allclose(s, [2.0, 1.0 + 2.0, 8.0, 0.0])
    np.testing.assert_allclose(k, [1, 2, 1, 0])
