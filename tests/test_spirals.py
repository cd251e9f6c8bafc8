"""retaliation_spirals and spiral_timeline: method pieces by hand, acceptance on synth."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.spirals import _bh, _exclusive_decayed, event_quality
from icnet.errors import BudgetExceededError, ParameterError


def test_exclusive_decay_by_hand():
    t = np.array([0.0, 1.0, 3.0, 0.0, 2.0])
    f = np.array([1.0, 0.0, 2.0, 1.0, 1.0])
    g = np.array([0, 0, 0, 1, 1])
    lam = np.log(2)  # half-life one day
    out = _exclusive_decayed(t, f, g, lam)
    np.testing.assert_allclose(out, [0, 1 * 0.5, 1 * 0.125, 0, 0.25])


def test_benjamini_hochberg_matches_reference():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # by hand: sorted 0.005, 0.01, 0.03, 0.04, 0.5 → ×5/rank → 0.025, 0.025, 0.05, 0.05, 0.5
    np.testing.assert_allclose(_bh(p), [0.025, 0.05, 0.05, 0.025, 0.5])


def test_residuals_remove_provider_and_period_effects():
    rng = np.random.default_rng(0)
    n = 4000
    prov = rng.integers(0, 10, n)
    t = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 120, n), "D")
    shock = (t >= "2025-03-03") & (t < "2025-03-10")   # one calendar week (Mon–Sun)
    sat = np.clip(np.round(3 + 0.2 * prov - 1.0 * shock + rng.normal(0, 0.5, n)), 1, 5)
    net = icnet.from_events({"provider": [f"p{i}" for i in prov],
                             "client": [f"c{i}" for i in rng.integers(0, 20, n)],
                             "requested_at": t, "satisfaction": sat})
    z = event_quality(net)
    prov_sorted = net.events["provider"].astype(str).str[1:].astype(int)
    assert abs(np.corrcoef(z["z_satisfaction"], prov_sorted)[0, 1]) < 0.05
    in_shock = net.events["requested_at"].between("2025-03-03", "2025-03-09 23:59")
    assert abs(z.loc[in_shock.to_numpy(), "z"].mean()) < 0.1


def test_acceptance_on_planted_organisations():
    tp = fp = fn = init_ok = chronic_as_spiral = 0
    onset_err, clean_flag, clean_tests = [], 0, 0
    for seed in range(10):
        org = synth.organisation(n_people=150, seed=seed)
        s = icnet.retaliation_spirals(org.network(), n_perm=199, seed=seed)
        truth = {(x["a"], x["b"]): x for x in org.truth.spirals}
        found = s[s.kind == "spiral"]
        for r in found.itertuples():
            if (r.a, r.b) in truth:
                tp += 1
                t = truth[(r.a, r.b)]
                init_ok += r.initiator == t["initiator"]
                onset_err.append(abs((r.start - pd.Timestamp(t["onset"])).days))
            else:
                fp += 1
        fn += sum(k not in set(zip(found.a, found.b)) for k in truth)
        for a, b in org.truth.chronic:
            k = tuple(sorted((a, b)))
            chronic_as_spiral += bool(((s.a == k[0]) & (s.b == k[1]) &
                                       (s.kind == "spiral")).any())
        clean = synth.organisation(n_people=150, seed=seed, plant="none").network()
        sc = icnet.retaliation_spirals(clean, n_perm=199, seed=seed)
        tested = sc[sc.kind != "insufficient"]
        clean_flag += int((tested.q <= 0.05).sum())
        clean_tests += len(tested)
    assert tp / (tp + fn) >= 0.8
    assert tp / (tp + fp) >= 0.8
    assert init_ok / tp >= 0.8
    assert np.median(onset_err) <= 14
    assert chronic_as_spiral == 0
    # pattern-free data with a shared shock month: discoveries within the nominal rate
    assert clean_flag <= max(1, 0.05 * clean_tests)


def test_planta_story():
    net = icnet.datasets.load("planta")
    truth = icnet.datasets.load("planta", as_tables=True)["truth"]
    s = icnet.retaliation_spirals(net, n_perm=199)
    sp = truth["spirals"][0]
    row = s[(s.a == sp["a"]) & (s.b == sp["b"])].iloc[0]
    assert row["kind"] == "spiral" and row["initiator"] == sp["initiator"]
    assert abs((row["start"] - pd.Timestamp(sp["onset"])).days) <= 14
    a, b = sorted(truth["chronic"][0])
    assert s[(s.a == a) & (s.b == b)]["kind"].item() == "mutual_degradation"
    assert s["q"].dropna().is_monotonic_increasing


def test_same_seed_same_result_and_insufficient_pairs():
    net = icnet.datasets.toy()
    a = icnet.retaliation_spirals(net, n_perm=49)
    b = icnet.retaliation_spirals(net, n_perm=49)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["kind"]) <= {"spiral", "one_sided", "mutual_degradation", "none",
                              "insufficient"}


def test_timeline():
    tl = icnet.spiral_timeline(icnet.datasets.load("planta"), "P0009", "P0070")
    assert tl["requested_at"].is_monotonic_increasing
    assert set(tl["direction"]) == {"a→b", "b→a"}
    assert (tl.loc[tl.is_bad, "turn"] > 0).all() and (tl.loc[~tl.is_bad, "turn"] == 0).all()
    with pytest.raises(ParameterError, match="is not a node"):
        icnet.spiral_timeline(icnet.datasets.toy(), "ana", "nobody")


def test_budget_and_parameters():
    net = icnet.datasets.load("planta")
    with pytest.raises(BudgetExceededError, match="Lower n_perm"):
        icnet.retaliation_spirals(net, max_work=1000)
    with pytest.raises(ParameterError, match="'n_perm' parameter must be >= 19"):
        icnet.retaliation_spirals(net, n_perm=5)
    with pytest.raises(ParameterError, match="needs the individual service events"):
        icnet.retaliation_spirals(icnet.ServiceNetwork.from_edges(
            {"provider": ["a"], "client": ["b"]}))
