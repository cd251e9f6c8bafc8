"""retaliation_spirals and spiral_timeline: method pieces by hand, acceptance on synth."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import synth
from icnet.analysis.spirals import (_bh, _exclusive_decayed, _gpd_tail,
                                    _shifted_exposure, event_quality)
from icnet.errors import BudgetExceededError, ParameterError


def test_exclusive_decay_by_hand():
    t = np.array([0.0, 1.0, 3.0, 0.0, 2.0])
    f = np.array([1.0, 0.0, 2.0, 1.0, 1.0])
    g = np.array([0, 0, 0, 1, 1])
    lam = np.log(2)  # half-life one day
    out = _exclusive_decayed(t, f, g, lam)
    np.testing.assert_allclose(out, [0, 1 * 0.5, 1 * 0.125, 0, 0.25])


def test_exclusive_decay_is_per_group_and_strict():
    # a group with late times before a group with early ones: a running sum over all groups
    # minus the group's base loses every digit of the second group (the bug this guards)
    lam = np.log(2) / 7
    t = np.r_[np.linspace(300, 360, 50), 0.0, 1.0, 1.0, 2.0]
    g = np.r_[np.zeros(50, int), np.ones(4, int)]
    out = _exclusive_decayed(t, np.ones(len(t)), g, lam)
    h = 2 ** (-1 / 7)          # one day of decay
    # by hand: strict past, so the two events at t=1 do not see each other
    np.testing.assert_allclose(out[-4:], [0, h, h, h ** 2 + 2 * h], rtol=1e-12)


def test_shifted_exposure_without_shift_is_the_exposure():
    rng = np.random.default_rng(1)
    G, lam = 3, np.log(2) / 5
    W = np.array([50.0, 80.0, 30.0])
    sg = np.repeat([0, 1, 2], 6)
    srel = np.sort(rng.uniform(0, 1, 18)) * W[sg]
    srel = np.concatenate([np.sort(srel[sg == k]) for k in range(G)])
    ss = rng.uniform(0, 2, 18)
    rg = np.repeat([0, 1, 2], 5)
    rrel = rng.uniform(0, 1, 15) * W[rg]
    X = _shifted_exposure(np.zeros((1, G)), sg, srel, ss, rg, rrel, W, lam, G)[0]
    # direct double sum
    ref = [(ss * np.exp(-lam * (rrel[i] - srel)) * ((sg == rg[i]) & (srel < rrel[i]))).sum()
           for i in range(15)]
    np.testing.assert_allclose(X, ref, rtol=1e-10)
    # a shift by the whole window is no shift; a shift moves events circularly
    X2 = _shifted_exposure(np.array([[0.0, 0.0, W[2] / 2]]), sg, srel, ss, rg, rrel, W, lam, G)[0]
    np.testing.assert_allclose(X2[:10], X[:10])
    moved = (srel[12:] + W[2] / 2) % W[2]
    ref2 = [(ss[12:] * np.exp(-lam * (rrel[i] - moved)) * (moved < rrel[i])).sum()
            for i in range(10, 15)]
    np.testing.assert_allclose(X2[10:], ref2, rtol=1e-10)


def test_gpd_tail_on_an_exponential_null():
    rng = np.random.default_rng(0)
    null = rng.exponential(1.0, size=(4999, 3))
    v = np.array([5.0, 8.0, 0.5])
    p = _gpd_tail(v, null, 500)
    # exponential tail: P(X >= v) = exp(-v); the fit recovers it within Monte Carlo error
    np.testing.assert_allclose(p[:2], np.exp(-v[:2]), rtol=0.35)
    # a heavy (Pareto) null gives a heavier tail than the exponential would
    heavy = rng.pareto(2.0, size=(4999, 1))
    assert _gpd_tail(np.array([30.0]), heavy, 500)[0] > 30.0 ** -2 / 3


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


@pytest.fixture(scope="module")
def acceptance():
    """The issue's acceptance run: 10 generated organisations (150 people), default n_perm.

    ``icnet.synth``'s spirals trade bad rounds four days apart and degrade both sides'
    ordinary service within days of each other: no turns show, so the default (the turn
    test) reports them as ``joint_shift``; their order, initiator and onset are those of
    the sensitive screen (``turn_taking=False``), measured here."""
    found, missed, fp, chronic_kinds, clean_flag, clean_tests = [], 0, 0, [], 0, 0
    clean_spiral, default_kinds = 0, []
    for seed in range(10):
        org = synth.organisation(n_people=150, seed=seed)
        net = org.network()
        s = icnet.retaliation_spirals(net, seed=seed, turn_taking=False)
        d = icnet.retaliation_spirals(net, seed=seed).set_index(["a", "b"])["kind"]
        truth = {(x["a"], x["b"]): x for x in org.truth.spirals}
        default_kinds += [d.get(k, "untested") for k in truth]
        sp = s[s.kind == "spiral"]
        for r in sp.itertuples():
            if (r.a, r.b) in truth:
                t = truth[(r.a, r.b)]
                found.append((r.initiator == t["initiator"],
                              abs((r.start - pd.Timestamp(t["onset"])).total_seconds()) / 86400))
            else:
                fp += 1
        missed += sum(k not in set(zip(sp.a, sp.b)) for k in truth)
        for a, b in org.truth.chronic:
            k = tuple(sorted((a, b)))
            chronic_kinds += s.loc[(s.a == k[0]) & (s.b == k[1]), "kind"].tolist()
        clean = synth.organisation(n_people=150, seed=seed, plant="none").network()
        sc = icnet.retaliation_spirals(clean, seed=seed)
        tested = sc[sc.kind != "insufficient"]
        clean_flag += int((tested.q <= 0.05).sum())
        clean_spiral += int(tested.kind.isin(["spiral", "one_sided"]).sum())
        clean_tests += len(tested)
    return dict(found=found, missed=missed, fp=fp, chronic=chronic_kinds,
                clean_flag=clean_flag, clean_spiral=clean_spiral, clean_tests=clean_tests,
                default_kinds=default_kinds)


def test_acceptance_precision_and_chronic(acceptance):
    tp = len(acceptance["found"])
    assert tp > 0 and tp / (tp + acceptance["fp"]) >= 0.8
    # chronic conflicts are never spirals (they are chronic_conflict when tested)
    assert "spiral" not in acceptance["chronic"]
    assert "chronic_conflict" in acceptance["chronic"]


def test_acceptance_onset(acceptance):
    assert np.median([e for _, e in acceptance["found"]]) <= 14


def test_acceptance_recall(acceptance):
    tp = len(acceptance["found"])
    assert tp / (tp + acceptance["missed"]) >= 0.8


def test_acceptance_default_reports_the_planted_pairs(acceptance):
    # by default (turn test) the fast-turn spirals are not lost: each planted pair is
    # reported, as a joint drop (no turns show) or a spiral
    kinds = acceptance["default_kinds"]
    assert sum(k in ("spiral", "joint_shift") for k in kinds) >= 0.8 * len(kinds), kinds


@pytest.mark.xfail(reason="initiator right for 6 of 18 found synth spirals (init9's phase of "
                          "the alternation; 7 of 18 before): icnet.synth's rounds are 4 days "
                          "apart, shorter than the week-long turns the phase looks for; the "
                          "issue's 0.8 is not met", strict=True)
def test_acceptance_initiator(acceptance):
    assert np.mean([ok for ok, _ in acceptance["found"]]) >= 0.8


def test_acceptance_pattern_free_within_nominal_rate(acceptance):
    # pattern-free data with a shared shock month: discoveries within the nominal rate,
    # both at q <= 0.05 and at the classification's default alpha (0.10)
    assert acceptance["clean_flag"] <= max(1, 0.05 * acceptance["clean_tests"])
    assert acceptance["clean_spiral"] <= max(1, 0.10 * acceptance["clean_tests"])


def test_alpha_only_moves_the_classification():
    net = synth.organisation(n_people=150, seed=1).network()
    lo = icnet.retaliation_spirals(net, seed=1)
    hi = icnet.retaliation_spirals(net, seed=1, alpha=0.10)
    pd.testing.assert_series_equal(lo["q"].reset_index(drop=True),
                                   hi.set_index(["a", "b"]).loc[list(zip(lo.a, lo.b)), "q"]
                                   .reset_index(drop=True))
    flagged = {"spiral", "one_sided", "joint_shift"}
    assert set(zip(lo.a[lo.kind.isin(flagged)], lo.b[lo.kind.isin(flagged)])) <= \
        set(zip(hi.a[hi.kind.isin(flagged)], hi.b[hi.kind.isin(flagged)]))
    assert lo.attrs["params"]["alpha"] == 0.05
    # what alpha = 0.10 adds is flagged as a candidate at the default
    new = set(zip(hi.a[hi.kind.isin(flagged)], hi.b[hi.kind.isin(flagged)])) - \
        set(zip(lo.a[lo.kind.isin(flagged)], lo.b[lo.kind.isin(flagged)]))
    cand = set(zip(lo.a[lo.candidate], lo.b[lo.candidate]))
    assert new <= cand


def test_calibration_under_the_null_with_many_tests():
    """Pattern-free organisations with the evidence bar lowered (hundreds of tested pairs, many
    with a single bad event): the p-values stay uniform in the tail and BH holds. The moment-
    matched normal tail used before failed this (15 of 346 pairs at q <= 0.05)."""
    pv, flagged, flagged10, tested = [], 0, 0, 0
    for seed in range(10):
        clean = synth.organisation(n_people=150, seed=seed, plant="none").network()
        s = icnet.retaliation_spirals(clean, seed=seed, n_perm=199, min_bad=1, min_events=5)
        s = s[s.kind != "insufficient"]
        flagged += int((s.q <= 0.05).sum())
        flagged10 += int(s.kind.isin(["spiral", "one_sided"]).sum())    # default alpha 0.10
        tested += len(s)
        pv += s["p_ab"].dropna().tolist() + s["p_ba"].dropna().tolist()
    pv = np.array(pv)
    assert tested > 300
    assert flagged <= 2 and flagged10 <= 3
    assert np.mean(pv <= 0.05) <= 0.075
    assert np.mean(pv <= 0.01) <= 0.025


def test_planta_story():
    net = icnet.datasets.load("planta")
    truth = icnet.datasets.load("planta", as_tables=True)["truth"]
    s = icnet.retaliation_spirals(net, n_perm=199, individuals=True, turn_taking=False)
    sp = truth["spirals"][0]
    row = s[(s.a == sp["a"]) & (s.b == sp["b"])].iloc[0]
    assert row["kind"] == "spiral" and row["initiator"] == sp["initiator"]
    assert abs((row["start"] - pd.Timestamp(sp["onset"])).days) <= 14
    # #18: planta's exchange (turns 3-4 days apart, both sides' ordinary services degrading
    # together) is concurrent at min_lag_days: the turn test (the default) calls it a
    # joint_shift, dated within the bound too
    assert row["concurrence"] >= 0
    t = icnet.retaliation_spirals(net, n_perm=199)
    r2 = t[(t.a == sp["a"]) & (t.b == sp["b"])].iloc[0]
    assert r2["kind"] == "joint_shift", r2["reason"]
    assert abs((r2["start"] - pd.Timestamp(sp["onset"])).days) <= 14
    a, b = sorted(truth["chronic"][0])
    assert s[(s.a == a) & (s.b == b)]["kind"].item() == "chronic_conflict"
    assert s["q"].dropna().is_monotonic_increasing


def test_planta_unit_spiral_start():
    # #18 (onset6): at unit level Calidad's drop is weak (0.18 SD) over ~1,600 events a
    # year; the textbook Page interval (h = 5) let a noise cluster start it on 1 April
    # (planted 1 May); h grown with the window's events: 12 May. Since the control's
    # garrote at unit level (recall6 + lead) only Produccion's answer is significant
    # between the units (the planted spiral is one pair of people among dozens), so the
    # unit pair is found as `one_sided` or `spiral`; the unit pair that a hard 2.5-SE gate
    # made a false `spiral` (Mantenimiento-Produccion: a one-sided avoidance from June,
    # 'started' by Produccion in January) is not one
    net = icnet.datasets.load("planta")
    sp = icnet.datasets.load("planta", as_tables=True)["truth"]["spirals"][0]
    s = icnet.retaliation_spirals(net, level="unit", n_perm=199)
    row = s[(s.a == "Calidad") & (s.b == "Produccion")].iloc[0]
    assert row["kind"] in ("spiral", "one_sided")
    assert abs((row["start"] - pd.Timestamp(sp["onset"]).normalize()).days) <= 14, row.start
    other = s[(s.a == "Mantenimiento") & (s.b == "Produccion")]
    assert not (other["kind"] == "spiral").any()


def test_same_seed_same_result_and_insufficient_pairs():
    net = icnet.datasets.toy()
    a = icnet.retaliation_spirals(net, n_perm=49)
    b = icnet.retaliation_spirals(net, n_perm=49)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["kind"]) <= {"spiral", "one_sided", "joint_shift", "chronic_conflict", "none",
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
    with pytest.raises(ParameterError, match="'half_life_days' parameter .* is too short"):
        icnet.retaliation_spirals(net, half_life_days=0.05)
    with pytest.raises(ParameterError, match="needs the individual service events"):
        icnet.retaliation_spirals(icnet.ServiceNetwork.from_edges(
            {"provider": ["a"], "client": ["b"]}))


# ------------------------------------------------------------------ the change test (#18)

from icnet.analysis import _change  # noqa: E402


def test_drawdown_by_hand():
    # a lasting drop: CUSUM of the centred series peaks before the drop, falls to the end
    x = np.r_[np.ones(10), -np.ones(10)]
    (c, m), on, end = _change.drawdown(x, np.array([0]), np.array([20]))
    assert np.isclose(c[0], 10 / np.sqrt(20)) and on[0] == 10 and end[0] == 19
    # a short episode in a longer series: located by the MOSUM window (w = 5 events)
    y = np.zeros(60)
    y[30:35] = -3.0
    (c, m), on, end = _change.drawdown(y, np.array([0]), np.array([60]))
    assert (on[0], end[0]) == (30, 34)   # the CUSUM drawdown spans the episode too
    assert np.isclose(m[0], (15 - 5 * 15 / 60) / np.sqrt(5))


def test_drop_test_is_calibrated_and_per_group():
    rng = np.random.default_rng(3)
    G = 400
    size = rng.integers(10, 80, G)
    start = np.r_[0, np.cumsum(size)[:-1]]
    x = rng.normal(size=size.sum())
    p, se, used = _change.drop_test(x, start, size, np.arange(G), seed=7)
    assert np.mean(p <= 0.05) <= 0.08 and np.mean(p <= 0.2) >= 0.1
    # sequential: most null groups stop at the first batch
    assert np.median(used) < 100
    # a group's p does not depend on which other groups are tested
    p1, _, _ = _change.drop_test(x[start[5]:start[5] + size[5]], np.array([0]),
                                 size[5:6], np.array([5]), seed=7)
    assert p1[0] == p[5]
    # a planted drop is found far beyond the permutations' resolution (tail bound)
    z = rng.normal(size=80)
    z[40:] -= 2.0
    pz, sez, _ = _change.drop_test(z, np.array([0]), np.array([80]), [1], seed=7)
    assert pz[0] < 1e-4 and np.isnan(sez[0])


def _smooth_control(rng, size, sd=0.25, width=8):
    """Per group of ``size`` rows: a control's estimation noise, shared by neighbouring
    rows — a moving sum of ``width`` normal draws, scaled to SD ``sd`` (like the time-local
    means of a side's other services)."""
    out = []
    for n in size:
        e = rng.normal(size=n + width)
        out.append(np.convolve(e, np.ones(width), "valid")[:n] * sd / np.sqrt(width))
    return np.concatenate(out)


def test_drop_test_given_the_control_keeps_its_noise_in_the_null():
    # perm17 (#18): the controlled values x = raw - c carry the control's own noise c,
    # autocorrelated over neighbouring rows; permuting x breaks that and the test is
    # anti-conservative (~2x at 0.05 here); permuting the raw values and subtracting c in
    # place (offset=c) is the permutation null given the control: calibrated
    rng = np.random.default_rng(11)
    G = 600
    size = rng.integers(60, 160, G)
    start = np.r_[0, np.cumsum(size)[:-1]]
    raw = rng.normal(size=size.sum())
    c = _smooth_control(rng, size)
    x = raw - c
    p0, _, _ = _change.drop_test(x, start, size, np.arange(G), seed=5)
    p1, _, _ = _change.drop_test(x, start, size, np.arange(G), seed=5, offset=c)
    assert np.mean(p0 <= 0.05) > 0.08               # the failure this fixes
    assert np.mean(p1 <= 0.05) <= 0.07 and np.mean(p1 <= 0.2) >= 0.14
    # the local (windowed) test the same way (side15), combined with the whole series
    lo, hi = size // 3, size // 3 + 10
    q0, *_ = _change.local_drop_test(x, start, size, lo, hi, np.arange(G), seed=5,
                                     max_perm=199, combine=True)
    q1, *_ = _change.local_drop_test(x, start, size, lo, hi, np.arange(G), seed=5,
                                     max_perm=199, combine=True, offset=c)
    assert np.mean(q0 <= 0.05) > 0.08
    assert np.mean(q1 <= 0.05) <= 0.07
    # a planted drop is still found given the control
    z = raw[:120].copy()
    z[60:] -= 1.0
    pz, _, _ = _change.drop_test(z - c[:120], np.array([0]), np.array([120]), [3], seed=5,
                                 offset=c[:120])
    assert pz[0] < 0.01


def test_person_period_control_removes_a_persons_bad_month():
    rng = np.random.default_rng(0)
    n = 6000
    p = rng.integers(0, 20, n)
    c = (p + rng.integers(1, 20, n)) % 20
    t = rng.uniform(0, 120, n)
    z = rng.normal(size=n)
    bad = (p == 3) & (t >= 56) & (t < 84)      # person 3 serves everybody worse that month
    z[bad] -= 1.5
    zc = _change.person_period_control(p, c, t, z)
    assert z[bad].mean() < -1.0 and abs(zc[bad].mean()) < 0.35


def _pair_org(kind, seed=0, sat=True):
    """20 people in a ring of partners (both ways, ~2 requests a week each way); the
    pair P00-P01 gets ``kind`` from day 150: P00 first, P01 six days later."""
    rng = np.random.default_rng(seed)
    ev = _ring(rng)
    q = rng.normal(size=len(ev))
    ab = (ev.provider == "P00") & (ev.client == "P01")
    ba = (ev.provider == "P01") & (ev.client == "P00")
    if kind == "lockin":
        q[ab & (ev.t >= 150)] -= 1.5
        q[ba & (ev.t >= 156)] -= 1.5
    elif kind == "joint":
        q[(ab | ba) & (ev.t >= 150) & (ev.t < 250)] -= 1.5
    elif kind == "chronic":
        q[ab | ba] -= 1.5
    return _ring_network(ev, q, rng, sat)


def _ring(rng, pair_rate=100, rate=100):
    """Events of a ring of 20 people, each serving its next two both ways (Poisson(``rate``)
    a year per direction; ``pair_rate`` for P00-P01), times ``t`` in days."""
    rows = []
    for i in range(20):
        for j in (i + 1, i + 2):
            a, b = f"P{i:02d}", f"P{j % 20:02d}"
            for pr, cl in ((a, b), (b, a)):
                n = rng.poisson(pair_rate if (a, b) == ("P00", "P01") else rate)
                rows.append(pd.DataFrame({"provider": pr, "client": cl,
                                          "t": rng.uniform(0, 365, n)}))
    return pd.concat(rows, ignore_index=True)


def _ring_network(ev, q, rng, sat=True, people=None):
    """The ring's network, event quality ``q`` in delays (and ratings when ``sat``)."""
    ev["requested_at"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(ev.pop("t"), "D")
    ev["delay_hours"] = np.exp(2 - 0.5 * q + rng.normal(0, 0.3, len(ev)))
    if sat:
        ev["satisfaction"] = np.clip(np.round(3.5 + 0.9 * q), 1, 5)
    return icnet.from_events(ev, people=people)


@pytest.mark.parametrize("sat", [True, False])
def test_lock_in_drop_found_both_ways(sat):
    s = icnet.retaliation_spirals(_pair_org("lockin", sat=sat), n_perm=99)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind in ("spiral", "joint_shift"), row.reason
    assert row.q <= 0.05 and row.p_change_ab <= 0.05 and row.p_change_ba <= 0.05
    assert abs((row.onset_ab - pd.Timestamp("2025-05-31")).days) <= 30
    assert not s.kind[1:].isin(["spiral", "joint_shift"]).any()


@pytest.mark.parametrize("sat", [True, pytest.param(False, marks=pytest.mark.xfail(
    strict=True, reason="control7: with delays only this seed's pair is joint_shift (onsets "
    "6 days apart not ordered); over seeds 0-5 spiral with initiator P00 in 3 of 6 (fixed "
    "28-day control: 4 of 6); the suite's delay_only recall rose 0.63/0.59 -> 0.67/0.63"))])
def test_lock_in_spiral_order_and_initiator(sat):
    # onsets located by Page's CUSUM near the drop (was xfail: onset error 2-5 weeks); the
    # change test's order and initiator, so without the turn test (its own tests below)
    s = icnet.retaliation_spirals(_pair_org("lockin", sat=sat), n_perm=99, turn_taking=False)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind == "spiral" and row.initiator == "P00", row.reason
    assert abs((row.start - pd.Timestamp("2025-05-31")).days) <= 14


def _validity_timing(scenario, seeds):
    """Initiator right and onset errors (days) of the found planted spirals."""
    from icnet.validity import generate

    ok, err = [], []
    for seed in seeds:
        d = generate(scenario, n_people=150, seed=seed)
        s = icnet.retaliation_spirals(d.network(), seed=seed, n_perm=199)
        for t in d.truth["spirals"].itertuples():
            r = s[s.a.isin([t.a, t.b]) & s.b.isin([t.a, t.b])]
            if len(r) and r.kind.iloc[0] == "spiral":
                ok.append(r.initiator.iloc[0] == t.initiator)
                err.append(abs((r.start.iloc[0] - t.onset) / pd.Timedelta(days=1)))
    return np.array(ok), np.array(err)


@pytest.mark.parametrize("scenario", ["episodic", "delay_only"])
def test_validity_episode_onset(scenario):
    # #18: the onset of an episode from Page's CUSUM near the drop; the drawdown's
    # least-squares segment drifted into the noise before it (median onset error
    # 21-30 days on these organisations before). Seeds apart from the scoreboard's;
    # issue bound: median onset error <= 14 days of the found spirals
    ok, err = _validity_timing(scenario, range(7000, 7004))
    assert len(err) >= 4
    assert np.median(err) <= 14, err


def test_chronic_is_never_a_spiral():
    s = icnet.retaliation_spirals(_pair_org("chronic", seed=2), n_perm=99)
    assert s.loc[(s.a == "P00") & (s.b == "P01"), "kind"].item() == "chronic_conflict"
    assert "spiral" not in set(s.kind)


def test_joint_shift_is_never_a_spiral():
    # by default (the turn test since 0.2); without it a misplaced change point (onset
    # error > lag) can order a joint drop
    s = icnet.retaliation_spirals(_pair_org("joint", seed=1), n_perm=99, individuals=True)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind == "joint_shift" and row.concurrence > 0, row.reason


def _common_cause_org(seed):
    """A ring of 20 people; the pair P00-P01 shares a project: a weekly AR(1) latent
    (persistence 0.85) lowers both directions' service at the same time, all year."""
    rng = np.random.default_rng(seed)
    ev = _ring(rng, pair_rate=150)
    q = rng.normal(size=len(ev))
    pair = ev.provider.isin(["P00", "P01"]) & ev.client.isin(["P00", "P01"])
    w = np.zeros(53)
    e = rng.normal(0, 0.7, 53)
    for k in range(1, 53):
        w[k] = 0.85 * w[k - 1] + e[k]
    q[pair] -= np.maximum(0, 1.3 * w[(ev.t[pair] // 7).astype(int)])
    return _ring_network(ev, q, rng)


def test_common_cause_is_a_joint_shift_not_a_spiral():
    """#18: both directions bad at the same time (a shared latent) satisfied the onset and
    chain orders by chance (10 of the 11 dropped pairs of these 12 organisations were
    ``spiral`` by default); with ``turn_taking`` the turn test calls them joint shifts
    (the earlier concurrence-sign check still called seed 0's pair, concurrence -0.03,
    a spiral)."""
    rows = []
    for seed in range(12):
        s = icnet.retaliation_spirals(_common_cause_org(seed), n_perm=99, seed=seed,
                                      individuals=True)
        rows.append(s[(s.a == "P00") & (s.b == "P01")].iloc[0])
    kinds = [r.kind for r in rows]
    assert sum(k in ("spiral", "joint_shift") for k in kinds) >= 10
    # a valid test at 0.05 passes about 1 null pair in 20: with turn7's statistics seed
    # 11's pair has p_turn 0.044 (0 of 12 with spec6's four statistics; P(>= 1 of 12) is
    # 0.46 for any valid test). The calibration is checked on 400 pairs above, and the
    # validity suite's common-cause organisations get no false spiral (0 of 20 per size)
    assert sum(k == "spiral" for k in kinds) <= 1, kinds
    assert rows[0].kind == "joint_shift" and rows[0].concurrence < 0    # the old check's miss
    for r in rows:
        if r.kind == "joint_shift":
            assert r.p_turn > 0.05 and "shared cause" in r.reason and "no turns" in r.reason
    # without the turn test (the default before 0.2) the old behaviour
    s = icnet.retaliation_spirals(_common_cause_org(1), n_perm=99, seed=1, turn_taking=False)
    assert s.loc[(s.a == "P00") & (s.b == "P01"), "kind"].item() == "spiral"


def test_concurrence_matches_a_direct_computation():
    from icnet.analysis.spirals import _concurrence
    rng = np.random.default_rng(3)
    G, n = 3, 120
    gid = np.repeat(np.arange(G), n)
    T_ = np.concatenate([np.sort(rng.uniform(0, 100, n)) for _ in range(G)])
    D_ = rng.integers(0, 2, G * n)
    latent = np.sin(T_ / 4.0)
    # pair 0 concurrent (shared latent), pair 1 turn-taking (opposite), pair 2 independent
    sign = np.where(D_ == 0, 1.0, np.select([gid == 0, gid == 1], [1.0, -1.0], 0.0))
    X_ = sign * latent + rng.normal(0, 0.3, G * n)
    X_[5] = np.nan
    lo, hi, h = np.array([10.0, 0.0, 20.0]), np.array([90.0, 100.0, 80.0]), 2.0
    r = _concurrence(gid, D_, T_, X_, G, lo, hi, h)
    ref = []
    for g in range(G):
        m = (gid == g) & np.isfinite(X_) & (T_ >= lo[g]) & (T_ <= hi[g])
        y = X_.copy()
        for d in (0, 1):
            y[m & (D_ == d)] -= X_[m & (D_ == d)].mean()
        ys, ls = [], []
        for i in np.flatnonzero(m):
            part = m & (D_ != D_[i]) & (np.abs(T_ - T_[i]) <= h)
            if part.any():
                ys.append(y[i])
                ls.append(y[part].mean())
        ys, ls = np.array(ys), np.array(ls)
        ref.append((ys * ls).sum() / np.sqrt((ys ** 2).sum() * (ls ** 2).sum()))
    np.testing.assert_allclose(r, ref, rtol=1e-10)
    assert r[0] > 0.5 and r[1] < -0.5 and abs(r[2]) < 0.3


def test_columns_reasons_candidate_and_reciprocity():
    s = icnet.retaliation_spirals(icnet.datasets.load("planta"), n_perm=99)
    assert s["candidate"].dtype == bool and s["reason"].notna().all()
    ins = s[s.kind == "insufficient"]
    assert len(ins) and ins["reason"].str.contains("min_events=10").all()
    assert ins["p"].isna().all()
    r = s.attrs["reciprocity"]
    assert {"estimate", "se", "z", "p", "n_directions"} <= set(r) and r["se"] > 0
    with pytest.raises(ParameterError, match="candidate_alpha"):
        icnet.retaliation_spirals(icnet.datasets.load("planta"), candidate_alpha=0.01)


# ---------------------------------------------- speed and the decision's stability (#18)


def test_bucketed_permutations_equal_a_sort_of_the_whole_series():
    """The padded per-bucket permutations (the fast path) are the permutations of a sort
    of all groups' rows by (group, hashed uniform), and give the same two statistics."""
    rng = np.random.default_rng(11)
    size = np.array([10, 13, 31, 64, 65, 200])
    start = np.r_[0, np.cumsum(size)[:-1]]
    x = rng.normal(size=size.sum())
    g = np.repeat(np.arange(len(size)), size)
    xc = x - (np.bincount(g, weights=x) / size)[g]
    keys = np.arange(len(size), dtype=np.uint64) * 7 + 3
    row = np.arange(len(x)) - start[g]
    for perm in (0, 1, 57):
        u = _change.uniforms(5, keys[g], perm, row) + g          # the reference
        tc, tm = _change._stats(xc[np.argsort(u)], start, size)
        for wd in np.unique(_change._bucket_width(size)):
            sel = np.flatnonzero(_change._bucket_width(size) == wd)
            bc, bm = _change._perm_stats(xc, start[sel], size[sel], keys[sel], int(wd), 5,
                                         perm, 1, 1e6)
            np.testing.assert_allclose(bc[0], tc[sel], atol=1e-9)
            np.testing.assert_allclose(bm[0], tm[sel], atol=1e-9)


def test_column_major_permutation_statistics_are_bit_identical(monkeypatch):
    """speed10: rows of width <= 64 get their cumulative sums, running maxima and MOSUM
    windows on column-major prefix sums; the same additions in the same order as numpy's
    accumulate along the rows (the path of wider rows), so exactly the same statistics,
    also for groups shorter than the MOSUM window (w = n) mixed with longer ones."""
    rng = np.random.default_rng(3)
    size = np.array([2, 3, 4, 5, 7, 8, 11, 16, 20, 33, 47, 64])
    start = np.r_[0, np.cumsum(size)[:-1]]
    x = rng.normal(size=size.sum()) * 1e3
    g = np.repeat(np.arange(len(size)), size)
    xc = x - (np.bincount(g, weights=x) / size)[g]
    keys = np.arange(len(size), dtype=np.uint64) * 11 + 1
    for wd in np.unique(_change._bucket_width(size)):
        sel = np.flatnonzero(_change._bucket_width(size) == wd)
        args = (xc, start[sel], size[sel], keys[sel], int(wd), 9, 4, 37, 500.0)
        cols = _change._perm_stats(*args)
        monkeypatch.setattr(_change, "_COLS_MAX", 0)            # numpy's accumulate
        rows = _change._perm_stats(*args)
        monkeypatch.undo()
        assert np.array_equal(cols[0], rows[0]) and np.array_equal(cols[1], rows[1])


def test_fast_searches_equal_numpy():
    """speed10: the coupling's shift search from the stimulus side and the hash-table
    isin give numpy's answers (ties, empty arrays, unsorted queries)."""
    from icnet.analysis.spirals import _isin, _search_sorted
    rng = np.random.default_rng(8)
    for _ in range(200):
        a = np.sort(rng.integers(0, 15, rng.integers(0, 12)).astype(float))
        v = rng.integers(-2, 18, rng.integers(0, 60)).astype(float)
        for q in (np.sort(v), v):
            assert np.array_equal(_search_sorted(a, q), np.searchsorted(a, q))
        x, vals = rng.integers(0, 40, 80), rng.integers(0, 40, rng.integers(0, 30))
        assert np.array_equal(_isin(x, vals), np.isin(x, vals))


def test_sorted_hash_permutations_equal_the_argsort_even_with_ties(monkeypatch):
    """_perm_stats sorts the hashes with the column packed in their low bits (speed9);
    where two hashes of a row agree in every higher bit, that order could differ from the
    argsort's, so those rows are argsorted: forced here by hashes with 3 high bits
    only, the statistics equal those of the argsort of the full hashes."""
    rng = np.random.default_rng(5)
    size = np.array([5, 9, 16, 40, 64, 100, 128])
    start = np.r_[0, np.cumsum(size)[:-1]]
    x = rng.normal(size=size.sum())
    g = np.repeat(np.arange(len(size)), size)
    xc = x - (np.bincount(g, weights=x) / size)[g]
    keys = np.arange(len(size), dtype=np.uint64) * 11 + 1
    real = _change._hashes

    def coarse(seed, key, perm, row):      # 3 random high bits, distinct low 7 bits
        h = real(seed, key, perm, row) >> np.uint64(61) << np.uint64(61)
        low = (np.asarray(row, np.uint64) * np.uint64(37) + np.asarray(perm, np.uint64) *
               np.uint64(11) + np.asarray(key, np.uint64)) & np.uint64(127)
        return h | low

    for hashes in (real, coarse):
        monkeypatch.setattr(_change, "_hashes", hashes)
        for wd in np.unique(_change._bucket_width(size)):
            sel = np.flatnonzero(_change._bucket_width(size) == wd)
            bc, bm = _change._perm_stats(xc, start[sel], size[sel], keys[sel], int(wd), 3,
                                         0, 7, 300)      # small budget: group chunks too
            for j, gi in enumerate(sel):
                col = np.arange(size[gi])
                h = hashes(3, keys[gi], np.arange(7, dtype=np.uint64)[:, None], col[None])
                for b in range(7):                        # the reference: argsort
                    v = xc[start[gi] + np.argsort(h[b], kind="stable")]
                    tc, tm = _change._stats(v, np.array([0]), size[gi:gi + 1])
                    # (_stats sums in another order: equal to rounding)
                    np.testing.assert_allclose([bc[b, j], bm[b, j]], [tc[0], tm[0]],
                                               rtol=1e-12, atol=1e-12)


def test_order_by_code_then_time_is_the_lexsort():
    """speed9: the radix path (16-bit codes) gives np.lexsort's permutation, ties in time
    kept in row order; wider codes fall back to lexsort."""
    from icnet.analysis.spirals import _order_by
    rng = np.random.default_rng(8)
    for n, k in ((2000, 5), (50_000, 20_000), (3000, 70_000)):
        code = rng.integers(0, k, n)
        t = np.round(rng.uniform(0, 30, n), 0)                  # many ties
        assert np.array_equal(_order_by(code, t), np.lexsort((t, code)))


def test_refinement_adds_permutations_only_near_a_level():
    rng = np.random.default_rng(4)
    G = 300
    size = rng.integers(15, 60, G)
    start = np.r_[0, np.cumsum(size)[:-1]]
    x = rng.normal(size=size.sum())
    p0, se0, u0 = _change.drop_test(x, start, size, np.arange(G), seed=3, max_perm=199)
    p1, se1, u1 = _change.drop_test(x, start, size, np.arange(G), seed=3, max_perm=199,
                                    levels=(0.05, 0.10))
    assert u0.max() <= 199
    more = u1 > u0
    assert more.any() and u1.max() <= 4 * 199
    # only groups whose p was within 2.58 MC errors of a level got more permutations
    near = (np.abs(p0[:, None] - np.array([0.05, 0.10])) < 2.576 * se0[:, None]).any(axis=1)
    assert not (more & ~near).any()
    # and they end settled or at the cap; the others are untouched
    settled = ~(np.abs(p1[:, None] - np.array([0.05, 0.10])) <
                2.576 * se1[:, None]).any(axis=1)
    assert (settled | (u1 == 4 * 199))[more].all()
    assert np.array_equal(p1[~more], p0[~more])
    # the refined p of a group does not depend on the other groups either
    j = np.flatnonzero(more)[0]
    pj, _, uj = _change.drop_test(x[start[j]:start[j] + size[j]], np.array([0]),
                                  size[j:j + 1], np.array([j]), seed=3, max_perm=199,
                                  levels=(0.05, 0.10))
    assert pj[0] == p1[j] and uj[0] == u1[j]


def test_kind_is_stable_across_permutation_seeds():
    """The issue's bar: ``kind`` identical across 5 permutation seeds for >= 98 % of the
    tested pairs (the Monte Carlo error never decides a pair's kind)."""
    net = synth.organisation(n_people=150, seed=2).network()
    kinds = [icnet.retaliation_spirals(net, seed=s).set_index(["a", "b"])["kind"]
             for s in range(5)]
    k = pd.concat(kinds, axis=1)
    k = k[k.iloc[:, 0] != "insufficient"]
    assert len(k) > 50
    assert (k.nunique(axis=1) == 1).mean() >= 0.98


def test_every_pair_with_enough_evidence_is_tested_and_others_say_why():
    net = synth.organisation(n_people=150, seed=3).network()
    s = icnet.retaliation_spirals(net, n_perm=99)
    enough = (s["n_ab"] >= 10) & (s["n_ba"] >= 10)
    assert (s.loc[enough, "kind"] != "insufficient").all()
    assert s.attrs["n_tested"] == int(enough.sum())
    ins = s[~enough]
    assert (ins["kind"] == "insufficient").all()
    assert all(f"({x} a→b, {y} b→a; min_events=10)" in r
               for x, y, r in zip(ins.n_ab, ins.n_ba, ins.reason))
    # the p-value's Monte Carlo error is reported where permutations gave p (0 only where
    # every permutation reached the observed drop of both directions: p = 1 exactly; two
    # pairs of this organisation since control7's time-local control)
    perm = s[(s.kind != "insufficient") & s["p_mc_se"].notna()]
    assert len(perm) and ((perm["p_mc_se"] > 0) | (perm["p"] == 1)).all()
    assert (perm["p_mc_se"] > 0).mean() > 0.9


def test_control_gate_keeps_only_period_means_beyond_their_noise():
    from icnet.analysis._change import loo_side
    # provider 0 serves client 1 (the pair) and clients 2, 3 in one period: its mean to
    # the others is 0.1 over 40 events of SD ~1 (z-score ~0.6): noise, gated to 0
    rng = np.random.default_rng(0)
    z = np.r_[0.0, 0.1 + rng.normal(0, 1, 40) - 0.0]
    z[1:] += 0.1 - z[1:].mean()
    who = np.zeros(41, int)
    other = np.r_[1, np.full(20, 2), np.full(20, 3)]
    t = np.zeros(41)
    assert loo_side(who, other, t, z)[0] == pytest.approx(4.0 / 43)
    assert loo_side(who, other, t, z, gate=2.0)[0] == 0.0
    # a real effect (mean -1 over the same 40 events, z-score ~6) is kept, shrunk by the
    # nonnegative garrote's factor 1 - gate^2 / z^2 (no jump at the gate)
    z2 = z - 1.1
    x = z2[1:]
    zscore2 = x.sum() ** 2 / (40 * x.var(ddof=1))
    full = loo_side(who, other, t, z2)[0]
    assert loo_side(who, other, t, z2, gate=2.0)[0] == pytest.approx(
        full * (1 - 4.0 / zscore2))
    assert 0.85 * full > loo_side(who, other, t, z2, gate=2.0)[0] > full  # both negative


def test_unit_level_pairs_without_a_spiral_do_not_drop():
    """#18 (recall6): at unit level the noise of the control's period means, shared by a
    pair's dozens of events a period, made unrelated unit pairs `one_sided` (validity
    suite between_units, 150 people: precision 0.24 over 10 seeds; this organisation had
    5 false findings). Gated, only the planted pair is a finding."""
    from icnet.validity.scenarios import generate
    d = generate("between_units", n_people=150, seed=150000)
    s = icnet.retaliation_spirals(d.network(), level="unit", seed=150000, n_perm=199)
    t = d.truth["spirals"].iloc[0]
    found = s[s.kind.isin(["spiral", "one_sided", "joint_shift"])]
    assert {tuple(sorted(x)) for x in zip(found.a, found.b)} == {tuple(sorted((t.a, t.b)))}
    assert s.attrs["n_tested"] > 20


def test_delays_only_log_gives_no_numpy_warning():
    """A log whose satisfaction is never recorded: no residual for it, and no numpy
    'Degrees of freedom <= 0' RuntimeWarning leaking from the quality model."""
    import warnings
    org = synth.organisation(n_people=60, seed=3)
    ev = org.events.assign(satisfaction=np.nan)
    net = icnet.from_events(ev, people=org.people)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        q = event_quality(net)
        icnet.retaliation_spirals(net, n_perm=19, min_events=5)
    assert q["z_satisfaction"].isna().all() and q["z"].notna().any()


def test_page_onset_of_a_dense_series_is_not_an_early_noise_cluster():
    # #18 (onset6): a unit pair has thousands of events a year, and with the textbook
    # decision interval (h = 5, in-control ARL ~940 events) three very bad events before
    # the drop signal on their own; h grows with the window's events (same ARL per event)
    from icnet.analysis import _change

    rng = np.random.default_rng(0)
    n = 2000
    t = np.sort(rng.uniform(0, 365, n))
    x = rng.normal(0, 1, n)
    x[np.flatnonzero((t > 95) & (t < 97))[:3]] = -2.4      # noise: three bad events
    x[t >= 120] -= 0.8                                      # the drop, to the end
    args = (x, t, np.array([0]), np.array([n]), np.array([np.searchsorted(t, 125)]),
            np.array([n - 1]))
    on, _ = _change.page_onset(*args)
    assert abs(t[on[0]] - 120) <= 7, t[on[0]]
    on5, _ = _change.page_onset(*args, arl_factor=0.0)      # the fixed h = 5
    assert t[on5[0]] < 100


def test_decision_interval_is_the_textbook_one_for_person_pairs():
    from icnet.analysis._change import _decision_interval

    h = _decision_interval(np.array([10, 100, 200, 600, 2000]))
    assert (h[:3] == 5.0).all() and 5.5 < h[3] < h[4] < 8
    # Siegmund's approximation at h = 5 (k = 0.5): 2 (e^b - b - 1), b = h + 1.166
    b = 5 + 1.166
    assert _decision_interval(np.array([2 * (np.exp(b) - b - 1) / 4.5 * 1.01]))[0] > 5


def _mild_first_org(seed, first_loss=1.5):
    """The ring; from day 150 P01 serves P00 a little worse for a week (the first move),
    P00 answers more sharply, P01 harder still, P00 again; then both stay bad."""
    rng = np.random.default_rng(seed)
    ev = _ring(rng)
    q = rng.normal(size=len(ev))
    ab = ((ev.provider == "P00") & (ev.client == "P01")).to_numpy()
    ba = ((ev.provider == "P01") & (ev.client == "P00")).to_numpy()
    for k, (side, loss) in enumerate([(ba, first_loss), (ab, 2.0), (ba, 2.5), (ab, 3.0)]):
        q[side & (ev.t >= 150 + 7 * k).to_numpy() & (ev.t < 157 + 7 * k).to_numpy()] -= loss
    q[(ab | ba) & (ev.t >= 178).to_numpy()] -= 1.5
    return _ring_network(ev, q, rng)


def test_initiator_is_the_milder_first_mover():
    # #18 (onset6): the first move of an escalation is its mildest turn and starts no
    # drop of its own; the partner's sharper answer starts the earlier Page onset. The
    # first move is weighed as a likelihood ratio (a shift of half the side's drop) with
    # the prior odds drop_partner / drop_side (each reply harsher): main named P01 in 3
    # of these 8 organisations
    right = 0
    for seed in range(8):
        # the change test's initiator rule, without the turn test
        s = icnet.retaliation_spirals(_mild_first_org(seed), n_perm=99, turn_taking=False)
        row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
        assert row.kind == "spiral", row.reason
        right += row.initiator == "P01"
    assert right >= 5, right


# ---------------------------------------------------------------------------------------
# the turn test (#18, specificity): direction-label permutations

def _sim_pairs(kind, G, rng, turns, start=None):
    """G simulated pairs, rows sorted by (pair, time), ~3 events a week per direction,
    unit noise: ``common`` = both directions read one weekly AR(1) latent (a common
    cause, loss max(0, 1.2 x)); otherwise direction ``d`` loses ``turns(t, d, s)`` from a
    start ``s`` (fixed, or drawn per pair in 30..90 when ``start`` is None)."""
    gid, D, T, X = [], [], [], []
    for g in range(G):
        lat = np.zeros(53)
        e = rng.normal(0, 0.6, 53)
        for w in range(1, 53):
            lat[w] = 0.8 * lat[w - 1] + e[w]
        s = rng.uniform(30, 90) if start is None else start
        for d in (0, 1):
            t = np.sort(rng.uniform(0, 365, rng.poisson(150)))
            loss = np.maximum(0, 1.2 * lat[(t // 7).astype(int)]) if kind == "common" \
                else turns(t, d, s)
            gid += [g] * len(t)
            D += [d] * len(t)
            T += list(t)
            X += list(-loss + rng.normal(0, 1, len(t)))
    gid, D, T, X = (np.asarray(v) for v in (gid, D, T, X))
    o = np.lexsort((T, gid))
    return gid[o], D[o].astype(np.int64), T[o], X[o]


def _turn_pairs(kind, G, rng):
    """``turns``: six alternating weekly bad turns from day 100 (2 SD), otherwise noise;
    ``common``: the common cause (:func:`_sim_pairs`)."""
    def turns(t, d, s):
        k = np.floor((t - s) / 7)
        return np.where((t >= s) & (t < s + 42) & (k % 2 == d), 2.0, 0.0)
    return _sim_pairs(kind, G, rng, turns, start=100.0)


def test_turn_test_is_valid_under_a_common_cause_and_finds_turns():
    from icnet.analysis.spirals import _turn_test

    rng = np.random.default_rng(5)
    G = 120
    res = {}
    for kind in ("common", "turns"):
        gid, D, T, X = _turn_pairs(kind, G, rng)
        p, used = _turn_test(gid, D, T, X, G, np.ones(G, bool), np.arange(G), seed=3,
                             window=45.0, n_perm=199)
        assert np.isfinite(p).all() and (used == 199).all()
        res[kind] = p
    # valid: P(p <= a) <= a (+ 3 binomial SE) under the common cause, for several a
    for a in (0.05, 0.1, 0.25, 0.5):
        assert np.mean(res["common"] <= a) <= a + 3 * np.sqrt(a * (1 - a) / G), a
    assert 0.3 < np.mean(res["common"] <= 0.5)            # not degenerate either
    # power: measured 0.59 at 0.05 on 400 such pairs (999 permutations)
    assert np.mean(res["turns"] <= 0.05) >= 0.4


def _lockin_pairs(kind, G, rng):
    """Pairs like the validity suite's lock-in (``lockin``): four alternating weekly bad
    turns (1.4 -> 2.8 SD) from a day in 30..90, then both sides bad (1.6 SD) to the end;
    ``common``: the common cause (:func:`_sim_pairs`)."""
    def turns(t, d, s):
        k = np.floor((t - s) / 7)
        sev = np.linspace(1.4, 2.8, 4)[np.clip(k, 0, 3).astype(int)]
        loss = np.where((t >= s) & (t < s + 28) & (k % 2 == d), sev, 0.0)
        return loss + np.where(t >= s + 28, 1.6, 0.0)
    return _sim_pairs(kind, G, rng, turns)


def test_turn_test_finds_lock_in_turns():
    # #18 (turn7): the alternation statistic at the pooled onset. Measured on 200 such
    # pairs (199 permutations): P(p <= 0.01) 0.065 -> 0.195, P(p <= 0.05) 0.485 -> 0.565
    # (main's four statistics -> this), under the common cause 0.005 / 0.04
    from icnet.analysis.spirals import _turn_test

    rng = np.random.default_rng(11)
    G = 120
    res = {}
    for kind in ("common", "lockin"):
        gid, D, T, X = _lockin_pairs(kind, G, rng)
        res[kind], _ = _turn_test(gid, D, T, X, G, np.ones(G, bool), np.arange(G), seed=3,
                                  window=45.0, n_perm=199)
    for a in (0.01, 0.05, 0.1, 0.5):
        assert np.mean(res["common"] <= a) <= a + 3 * np.sqrt(a * (1 - a) / G), a
    assert np.mean(res["lockin"] <= 0.01) >= 0.13, np.mean(res["lockin"] <= 0.01)
    assert np.mean(res["lockin"] <= 0.05) >= 0.5, np.mean(res["lockin"] <= 0.05)


@pytest.mark.parametrize("seed", [0, 6])
def test_alternating_pair_found_by_the_alternation_scan(seed):
    # #18 (turn10): joint_shift before the scan (p_turn 0.24 / 0.068 with the local
    # statistics), spirals with it (0.005 / 0.003). The initiator is not the turn test's
    # (seed 6 names P01), so it is not asserted here
    s = icnet.retaliation_spirals(_alternating_org(seed), n_perm=99, seed=seed)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind == "spiral" and row.p_turn <= 0.01, row.reason
    assert (s.kind == "spiral").sum() == 1


def test_turn_test_is_per_pair_and_deterministic():
    from icnet.analysis.spirals import _turn_test

    gid, D, T, X = _turn_pairs("turns", 12, np.random.default_rng(8))
    kw = dict(window=45.0, n_perm=99)
    p1, _ = _turn_test(gid, D, T, X, 12, np.ones(12, bool), np.arange(12), seed=1, **kw)
    p2, _ = _turn_test(gid, D, T, X, 12, np.ones(12, bool), np.arange(12), seed=1, **kw)
    np.testing.assert_array_equal(p1, p2)
    # a pair's p does not depend on which other pairs are tested (hashed per pair)
    some = np.zeros(12, bool)
    some[[2, 5, 9]] = True
    p3, _ = _turn_test(gid, D, T, X, 12, some, np.arange(12), seed=1, **kw)
    np.testing.assert_array_equal(p3[some], p1[some])
    assert np.isnan(p3[~some]).all()
    p4, _ = _turn_test(gid, D, T, X, 12, np.ones(12, bool), np.arange(12), seed=2, **kw)
    assert not np.array_equal(p4, p1) and np.abs(p4 - p1).mean() < 0.1


def _joint_unequal_pairs(G, rng):
    """Two joint bad periods (17 days each, 80 days apart) hitting direction 0 by 2.2 SD
    and direction 1 by half that: a common cause read with unequal strength."""
    def joint(t, d, s):
        bad = ((t >= s) & (t < s + 17)) | ((t >= s + 80) & (t < s + 97))
        return np.where(bad, 2.2 if d == 0 else 1.1, 0.0)
    return _sim_pairs("joint", G, rng, joint)


def test_turn_scan_finds_more_turns_and_keeps_unequal_joint_periods_out():
    # #18 (turn10): the alternation scan (_turn_scan) as the turn test's statistic.
    # Measured on 200 pairs each (199 permutations): six weekly turns P(p <= 0.05)
    # 0.650 -> 0.835, lock-in turns 0.545 -> 0.620; two joint bad periods of unequal
    # strength (not a spiral) 0.105 -> 0.055 (the local statistics took the stronger
    # side's drop for a turn); the common cause 0.045 -> 0.030. On these 120 pairs:
    # turns 0.592 -> 0.792, joint 0.100 -> 0.050
    from icnet.analysis.spirals import _turn_test

    G = 120
    res = {}
    for i, (kind, make) in enumerate([("turns", lambda r: _turn_pairs("turns", G, r)),
                                      ("joint", lambda r: _joint_unequal_pairs(G, r))]):
        gid, D, T, X = make(np.random.default_rng(100 + i))
        res[kind], _ = _turn_test(gid, D, T, X, G, np.ones(G, bool), np.arange(G), seed=3,
                                  window=45.0, n_perm=199)
    assert np.mean(res["turns"] <= 0.05) >= 0.7, np.mean(res["turns"] <= 0.05)
    a = 0.05
    assert np.mean(res["joint"] <= a) <= a + 3 * np.sqrt(a * (1 - a) / G), \
        np.mean(res["joint"] <= a)


def _alternating_org(seed, people=None):
    """The ring; P00 and P01 take six alternating weekly bad turns from day 150 (P00
    first, 2.5 SD), then both stay bad (1.5 SD): a lock-in spiral."""
    rng = np.random.default_rng(seed)
    ev = _ring(rng, pair_rate=150)
    q = rng.normal(size=len(ev))
    ab = ((ev.provider == "P00") & (ev.client == "P01")).to_numpy()
    ba = ((ev.provider == "P01") & (ev.client == "P00")).to_numpy()
    t = ev.t.to_numpy()
    k = np.floor((t - 150) / 7)
    turn = (t >= 150) & (t < 192)
    q[ab & turn & (k % 2 == 0)] -= 2.5
    q[ba & turn & (k % 2 == 1)] -= 2.5
    q[(ab | ba) & (t >= 192)] -= 1.5
    return _ring_network(ev, q, rng, people=people)


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_alternating_pair_is_a_spiral_with_the_turn_test(seed):
    # measured on seeds 0-7: with the alternation scan (turn10) 8 of 8 such pairs are
    # spirals, p_turn 0.001-0.016 (before it 6 of 8; seeds 0 and 6 were joint_shift,
    # p_turn 0.24 / 0.068: test_alternating_pair_found_by_the_alternation_scan)
    s = icnet.retaliation_spirals(_alternating_org(seed), n_perm=99, seed=seed)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind == "spiral" and row.initiator == "P00" and row.p_turn <= 0.02, row.reason
    assert (s.kind == "spiral").sum() == 1
    # the screen without the turn test: its column NaN, the same spiral
    d = icnet.retaliation_spirals(_alternating_org(seed), n_perm=99, seed=seed,
                                  turn_taking=False)
    assert d["p_turn"].isna().all()
    assert d.loc[(d.a == "P00") & (d.b == "P01"), "kind"].item() == "spiral"


def test_first_move_needs_a_bad_turn():
    # the prior odds of a much larger drop (10 against 1) passed the first-move threshold
    # although none of the partner's events in the half-life was below -0.5 SD: the move
    # had no event to date it by (start = inf crashed retaliation_spirals on a 600-person
    # joint_bad_periods organisation of the validity suite, seed 600010)
    from icnet.analysis.spirals import _provoked
    T = np.r_[np.arange(10, 90, 8.0), 95.0, 97.0, 99.0, np.arange(101, 200, 5.0)]
    D = np.ones(len(T), int)
    X = np.zeros(len(T))
    X[(T >= 93) & (T < 100)] = -0.1
    X[T > 100] = -1.0
    T, D, X = np.r_[T, 100.0], np.r_[D, 0], np.r_[X, -2.0]
    o = np.argsort(T, kind="stable")
    T, D, X = T[o], D[o], X[o]
    out = {"page_ab": np.array([100.0]), "page_ba": np.array([101.0]),
           "drop_ab": np.array([10.0]), "drop_ba": np.array([1.0])}
    first, when = _provoked(X, T, D, np.zeros(len(T), int), out, 1, lam=np.log(2) / 7)
    assert first[0] == -1 and np.isnan(when[0])
    # with a real bad turn (-1.5, about 3 SD of the partner's series) it is a first move
    X[(T >= 93) & (T < 100)] = -1.5
    first, when = _provoked(X, T, D, np.zeros(len(T), int), out, 1, lam=np.log(2) / 7)
    assert first[0] == 1 and when[0] == 95.0


# ---------------------------------------------------------------- the control (control7)

def test_local_side_removes_a_unit_month_for_a_person_without_other_partners():
    """#18 point 2 (control7): a person who serves only its partner has no "others" in
    the month; its unit's time-local mean (both directions of the pair left out) stands
    in. The pair's own drop never enters: a spiral's bad turns hit only the pair."""
    from icnet.analysis._change import local_side
    rng = np.random.default_rng(0)
    n = 4000
    who = rng.integers(2, 12, n)                  # unit 0: people 0 (A), 2-11
    other = rng.integers(20, 40, n)               # their clients, unit 1
    t = rng.uniform(0, 120, n)
    z = rng.normal(0, 1, n)
    who[:60], other[:60] = 0, 1                   # A serves only B (unit 1)
    month = (t >= 40) & (t < 70)                  # straddles the 28-day grid (56)
    z[month] -= 1.6                               # the unit's bad month, A's included
    unit = np.zeros(n, np.int64)
    m = local_side(who, other, t, z, who_unit=unit, other_unit=unit + 1, prior=10.0)
    a_in = (who == 0) & (t >= 44) & (t < 66)
    assert m[a_in].mean() == pytest.approx(-1.6, abs=0.25)
    # without units A's leave-the-pair-out mean has nothing to stand on
    assert local_side(who, other, t, z, prior=10.0)[a_in].mean() == 0.0
    # the fixed 28-day periods removed only part of it for the others (mean over the
    # month's events), the time-local window nearly all
    from icnet.analysis._change import loo_side
    rest_grid = (z - loo_side(who, other, t, z))[month & (who > 1)].mean()
    rest_local = (z - local_side(who, other, t, z))[month & (who > 1)].mean()
    assert rest_local > rest_grid and abs(rest_local) < 0.5
    # a drop of the pair alone (A -> B) does not move the pair's control (it enters the
    # unit-mates' controls, diluted among the unit's events)
    z2 = z.copy()
    z2[:60][t[:60] >= 40] -= 2.0
    m2 = local_side(who, other, t, z2, who_unit=unit, other_unit=unit + 1, prior=10.0)
    np.testing.assert_allclose(m2[:60], m[:60], atol=1e-12)
    assert np.abs(m2[60:] - m[60:]).max() < 0.02


def _unit_month_org(seed):
    """A ring of 20 people in 10 units (P00: U0, P01: U1, ...); P00 and P01 exchange
    ~100 services a year each way but have few other partners (3 a year each way). Unit
    U0 has a bad month on days 70-100 and U1 on days 84-114 (their service -1.6 SD and
    the ratings they give -1.4): an ordered mutual drop of the pair that is no spiral."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(20):
        for j in (i + 1, i + 2):
            a, b = f"P{i:02d}", f"P{j % 20:02d}"
            lam = 100 if (a, b) == ("P00", "P01") else 3 if {a, b} & {"P00", "P01"} else 100
            for pr, cl in ((a, b), (b, a)):
                rows.append(pd.DataFrame({"provider": pr, "client": cl,
                                          "t": rng.uniform(0, 365, rng.poisson(lam))}))
    ev = pd.concat(rows, ignore_index=True)
    unit = {f"P{i:02d}": f"U{(i + 1) // 2 % 10}" for i in range(20)}
    q = rng.normal(size=len(ev))
    shift = np.zeros(len(ev))
    t = ev.t.to_numpy()
    up, uc = ev.provider.map(unit).to_numpy(), ev.client.map(unit).to_numpy()
    for u, s0 in (("U0", 70), ("U1", 84)):
        month = (t >= s0) & (t < s0 + 30)
        q[month & (up == u)] -= 1.6
        shift[month & (uc == u)] -= 1.4
    ev["requested_at"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(ev.pop("t"), "D")
    ev["delay_hours"] = np.exp(2 - 0.5 * q + rng.normal(0, 0.3, len(ev)))
    ev["satisfaction"] = np.clip(np.round(3.5 + 0.9 * (q + shift)), 1, 5)
    people = pd.DataFrame({"person": list(unit), "unit": list(unit.values())})
    return icnet.from_events(ev, people=people)


def test_units_bad_months_straddling_periods_are_not_a_finding():
    """#18 point 2 (control7): measured on seeds 0-5, the fixed 28-day person × period
    control called P00-P01 `spiral` once and `one_sided` twice; the time-local control
    shrunk towards the unit's mean: no finding."""
    kinds = []
    for seed in range(6):
        s = icnet.retaliation_spirals(_unit_month_org(seed), n_perm=99, seed=seed)
        kinds.append(s.loc[(s.a == "P00") & (s.b == "P01"), "kind"].item())
    assert not set(kinds) & {"spiral", "one_sided", "joint_shift"}, kinds


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_alternating_pair_in_one_unit_is_still_a_spiral(seed):
    """The unit's mean leaves both directions of the pair out: a spiral inside a unit
    (P00 and P01 with unit-mates P02-P04) is not controlled away."""
    people = pd.DataFrame({"person": [f"P{i:02d}" for i in range(20)],
                           "unit": [f"U{i // 5}" for i in range(20)]})
    s = icnet.retaliation_spirals(_alternating_org(seed, people), n_perm=99, seed=seed)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind == "spiral" and row.initiator == "P00", row.reason
    assert (s.kind == "spiral").sum() == 1


def test_local_control_matches_its_definition_event_by_event():
    """control7: the vectorised control (sorts, cumulative sums, binary searches) equals
    a direct computation of its definition, people without a unit included."""
    from icnet.analysis._change import local_control
    rng = np.random.default_rng(1)
    n, h, k = 3000, 14.0, 10.0
    p = rng.integers(0, 30, n)
    c = (p + rng.integers(1, 30, n)) % 30
    t = rng.uniform(0, 200, n)
    z = rng.normal(size=n)
    z[::17] = np.nan
    u = rng.integers(0, 4, 30)
    u[5] = -1
    ok = np.isfinite(z)
    zz = np.where(ok, z, 0.0)

    def side(who, oth, wu, i):
        win = (t >= t[i] - h) & (t < t[i] + h) & ok
        m = (who == who[i]) & (oth != oth[i]) & win
        mu = 0.0
        if wu[i] >= 0:
            pair = ((who == who[i]) & (oth == oth[i])) | ((who == oth[i]) & (oth == who[i]))
            x = zz[(wu == wu[i]) & win & ~pair]
            if len(x) >= 2:
                z2 = x.sum() ** 2 / (len(x) * x.var(ddof=1))
                mu = x.mean() * min(1.0, max(0.0, 1 - 4.0 / z2))
        return mu + (zz[m].sum() - m.sum() * mu) / (m.sum() + k)

    got = local_control(p, c, t, z, unit=u, prior=k)
    ref = [z[i] - side(p, c, u[p], i) - side(c, p, u[c], i) if ok[i] else np.nan
           for i in range(300)]
    np.testing.assert_allclose(got[:300], ref, atol=1e-12)


def _answer_org(answer, seed=0):
    """A ring of 20 people (P00-P01 ~6 requests a week each way); P00 serves P01 badly in
    ten 6-day spells at irregular times. With ``answer``, P01 answers each within a
    week (a 6-day bad spell 6 days after the spell's start); without, P01 has ten bad
    spells of its own, 18 days after each of P00's — never answered by P00 and not
    answers themselves (the validity suite's ``one_sided`` shape, in its two halves)."""
    rng = np.random.default_rng(seed)
    ev = _ring(rng, pair_rate=300)
    q = rng.normal(size=len(ev))
    ab = ((ev.provider == "P00") & (ev.client == "P01")).to_numpy()
    ba = ((ev.provider == "P01") & (ev.client == "P00")).to_numpy()
    t = ev.t.to_numpy()
    spells = 15.0 + 32.0 * np.arange(10) + rng.uniform(0, 8, 10)
    for s in spells:
        q[ab & (t >= s) & (t < s + 6)] -= 2.5
        lag = 6.0 if answer else 18.0
        q[ba & (t >= s + lag) & (t < s + lag + 6)] -= 2.5
    return _ring_network(ev, q, rng), spells[0]


def test_one_directional_answering_is_one_sided_with_the_answered_initiator():
    """#18: P01 answers P00's bad spells, P00 never answers P01's: ``one_sided`` with P00
    (the answered side) as initiator and the start at its first answered spell. On main
    the pair was ``none`` (the coupling counted only when significant both ways). Ten
    answered spells give lead-lag p of 0.0002-0.003 here, and the pair is one of ~35
    tested by the coupling (BH), so the power is about 2 in 3 (one-sided p of the
    direction and its q in the reason)."""
    found = 0
    for seed in (0, 1, 2):
        net, first = _answer_org(True, seed)
        s = icnet.retaliation_spirals(net, n_perm=199, seed=seed)
        row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
        if row.kind != "one_sided":
            assert row.kind == "none", row.reason
            continue
        found += 1
        assert row.initiator == "P00" and "P01 answers P00" in row.reason, row.reason
        start = (row.start - pd.Timestamp("2025-01-01")) / pd.Timedelta(days=1)
        assert abs(start - first) <= 14, (start, first)
        again = icnet.retaliation_spirals(net, n_perm=199, seed=seed)
        pd.testing.assert_frame_equal(s, again)                 # same input and seed
    assert found >= 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unanswered_spells_are_not_a_one_sided_answer(seed):
    """The same spells with no answering: P01's lone spells never follow P00's within the
    coupling's memory, so no side answers the other (whatever the change test says of
    the drops themselves)."""
    net, _ = _answer_org(False, seed)
    s = icnet.retaliation_spirals(net, n_perm=199, seed=seed)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    assert row.kind != "spiral" and "answers" not in row.reason, row.reason


def _answer_pairs(kind, G, rng):
    """G pairs (rows sorted by pair, then time; ~3 events a week each way) whose quality
    follows weekly AR(1) latents (persistence 0.8): one per direction ("independent") or
    one shared by both ("common": a joint project, bad at the same time)."""
    rows = []
    for g in range(G):
        shared = np.zeros(53)
        lat = np.zeros((2, 53))
        e = rng.normal(0, 0.6, (3, 53))
        for k in range(1, 53):
            shared[k] = 0.8 * shared[k - 1] + e[2, k]
            lat[:, k] = 0.8 * lat[:, k - 1] + e[:2, k]
        for d in (0, 1):
            t = np.sort(rng.uniform(0, 365, rng.poisson(150)))
            w = (t // 7).astype(int)
            x = rng.normal(size=len(t)) - np.maximum(
                0, 1.3 * (shared[w] if kind == "common" else lat[d, w]))
            rows.append(pd.DataFrame({"g": g, "d": d, "t": t, "z": x}))
    ev = pd.concat(rows).sort_values(["g", "t"], kind="mergesort")
    return ev.g.to_numpy(), ev.d.to_numpy(), ev.t.to_numpy(), ev.z.to_numpy()


@pytest.mark.parametrize("kind", ["independent", "common"])
def test_answer_test_is_valid_without_answering(kind):
    """The answer test's direction p (lead-lag asymmetry under the burst jitter) is
    roughly uniform when nobody answers: independent bursty sides, and a cause shared by
    both sides (which excites both ways at once: the forward statistic alone would reject,
    the asymmetry must not)."""
    from icnet.analysis.spirals import _answer_test

    G = 150
    gid, d, t, z = _answer_pairs(kind, G, np.random.default_rng(3))
    sev = np.where(z < -1.5, -z - 1.5, 0.0)
    first = np.r_[0, np.flatnonzero(np.diff(gid)) + 1]
    last = np.r_[first[1:] - 1, len(t) - 1]
    W = t[last] - t[first] + 1.0 / 1440
    R = t - t[first][gid]
    lam = np.log(2) / 7.0
    s = (d == 0) & (sev > 0)
    p_t, p_d = _answer_test(gid[s], R[s], sev[s], gid, R, sev, d == 1, np.arange(G), W, lam,
                            G, resp=1, n_perm=199, seed=11)
    assert np.mean(p_d <= 0.05) <= 0.09 and np.mean(p_d <= 0.01) <= 0.03
    assert 0.35 <= np.mean(p_d <= 0.5) <= 0.65
    if kind == "common":                      # the shared cause does excite forward
        assert np.mean(p_t <= 0.05) > np.mean(p_d <= 0.05)


def test_one_sided_answers_at_600_people_survive_the_family():
    """#18 (onesided9): in the validity suite's ``one_sided`` organisation at 600 people
    (seed 0, 12 planted pairs) main's answer test found 2: the planted pairs' direction
    p of 0.002-0.1 did not survive BH over the ~18 coupling pairs, 6 of which had 3-7 bad
    events a way and no signal. With the adaptive group BH (pairs with 6 bad events each
    way and the rest; the grouping independent of the jitter), 5, all with the right
    initiator, and no false finding."""
    from icnet.validity import generate
    from icnet.validity.scoreboard import score_organisation

    data = generate("one_sided", n_people=600, seed=0)
    r = score_organisation(data, detectors=["spirals"], seed=0).iloc[0]
    assert r["n_hit"] >= 4 and r["n_false"] == 0, r.to_dict()
    assert r["n_initiator_ok"] == r["n_hit"], r.to_dict()


def test_answered_spells_by_hand():
    """First answered bad event (in a burst when there is one) and the answered spells,
    per pair and stimulus side; no bad event at all (a small Dask partition) is no answer."""
    from icnet.analysis.spirals import _answered

    gid = np.array([0, 0, 0, 0, 1, 1])
    d = np.array([0, 0, 1, 0, 0, 1])
    t = np.array([1.0, 2.0, 4.0, 30.0, 3.0, 5.0])
    first_ab, first_ba, n_ab, n_ba = _answered(gid, d, t, np.ones(6, bool), 2)
    np.testing.assert_array_equal(first_ab, [1.0, 3.0])     # 30 unanswered; 3 alone
    np.testing.assert_array_equal(n_ab, [1, 1])
    assert np.isnan(first_ba).all() and (n_ba == 0).all()
    none = _answered(gid, d, t, np.zeros(6, bool), 2)
    assert np.isnan(none[0]).all() and (none[2] == 0).all()


# ------------------------------------------------- who moved first, and when (init8)

def _escalating_pairs(G, rng, gap=7.0, rate=3.0):
    """G simulated pairs (rows sorted by pair and time): each direction ~``rate`` events
    a week over a year, N(0, 1); from a random day the initiator (a random side) has a
    bad week (−1.4), the partner answers ``gap`` days later (−1.87), the initiator again
    (−2.33), the partner (−2.8), then both stay 1.6 worse (the validity suite's lock-in
    turns). Returns (x, t, d, gid, initiator side, start day)."""
    X, T, D, gid = [], [], [], []
    init = rng.integers(0, 2, G)
    start = rng.uniform(60, 250, G)
    loss = np.linspace(1.4, 2.8, 4)
    for g in range(G):
        for d in (0, 1):
            n = rng.poisson(rate * 52)
            t = np.sort(rng.uniform(0, 365, n))
            x = rng.normal(size=n)
            for k in ((0, 2) if d == init[g] else (1, 3)):
                x[(t >= start[g] + gap * k) & (t < start[g] + gap * (k + 1))] -= loss[k]
            x[t >= start[g] + 4 * gap] -= 1.6
            X.append(x), T.append(t), D.append(np.full(n, d)), gid.append(np.full(n, g))
    X, T, D, gid = map(np.concatenate, (X, T, D, gid))
    o = np.lexsort((T, gid))
    return X[o], T[o], D[o], gid[o], init, start


def _onsets(X, T, D, gid, G):
    """Each direction's drawdown segment and Page onset (as _pair_tests computes them)."""
    from icnet.analysis import _change
    grp = gid * 2 + D
    o = np.lexsort((T, grp))
    x, t, gr = X[o], T[o], grp[o]
    gstart = np.flatnonzero(np.r_[True, gr[1:] != gr[:-1]])
    gsize = np.diff(np.r_[gstart, len(gr)])
    _, on, en = _change.drawdown(x, gstart, gsize)
    on_p, _ = _change.page_onset(x, t, gstart, gsize, on, en)
    out = {"onset_ab": t[on][0::2], "onset_ba": t[on][1::2], "stop_ab": t[en][0::2],
           "stop_ba": t[en][1::2]}
    return out, t[on_p].reshape(G, 2)


def test_first_mover_beats_the_onsets_order_one_week_apart():
    # #18 (init8): the initiator's first turn is the mildest and is followed by a normal
    # week, so its own change point is placed a turn late about half the time and the
    # order of two independently placed onsets a week apart is close to a coin flip
    # (main's rule: the earlier Page onset). The exchange model weighs the first turn
    # against "the partner began a week later": right more often, and its probability
    # is calibrated (mean confidence ≈ share right). Measured on 3 x 200 pairs: Page
    # order right 0.53 / 0.58 / 0.59, the model 0.62 / 0.67 / 0.65, mean confidence 0.64
    from icnet.analysis.spirals import _first_mover
    G = 400
    X, T, D, gid, init, start = _escalating_pairs(G, np.random.default_rng(7))
    out, page = _onsets(X, T, D, gid, G)
    p0, st = _first_mover(X, T, D, gid, G, out, np.ones(G, bool))
    page_right = (np.where(page[:, 0] <= page[:, 1], 0, 1) == init).mean()
    right = np.where(p0 >= 0.5, 0, 1) == init
    conf = np.maximum(p0, 1 - p0)
    assert right.mean() >= page_right + 0.04, (right.mean(), page_right)
    assert abs(conf.mean() - right.mean()) <= 0.06, (conf.mean(), right.mean())
    assert right[conf >= 0.8].mean() >= 0.8
    # the start: the exchange's first day, not its bulk
    assert np.median(np.abs(st - start)) <= 5.0, np.median(np.abs(st - start))


def test_first_mover_is_per_pair_and_deterministic():
    # a pair's result depends on its own events only (the Dask path partitions pairs),
    # whatever other pairs are computed with it, and the same input gives the same output
    from icnet.analysis.spirals import _first_mover
    G = 30
    X, T, D, gid, init, start = _escalating_pairs(G, np.random.default_rng(3))
    out, _ = _onsets(X, T, D, gid, G)
    every = np.ones(G, bool)
    p0, st = _first_mover(X, T, D, gid, G, out, every)
    p1, s1 = _first_mover(X, T, D, gid, G, out, every)
    np.testing.assert_array_equal(p0, p1)
    np.testing.assert_array_equal(st, s1)
    some = np.zeros(G, bool)
    some[[2, 11, 29]] = True
    q0, qs = _first_mover(X, T, D, gid, G, out, some)
    np.testing.assert_allclose(q0[some], p0[some], rtol=1e-12)
    np.testing.assert_allclose(qs[some], st[some])
    assert np.isnan(q0[~some]).all() and np.isnan(qs[~some]).all()
    # the same pairs in smaller chunks
    q2, s2 = _first_mover(X, T, D, gid, G, out, every, chunk=7)
    np.testing.assert_allclose(q2, p0, rtol=1e-12)
    np.testing.assert_allclose(s2, st)


def _alternating_pairs(G, rng, turns, tail, gap=7.0, rate=3.0):
    """Like :func:`_escalating_pairs` with ``turns`` alternating weekly turns (loss 1.4 →
    2.8) and, when ``tail`` > 0, both sides ``tail`` worse after them (a lock-in)."""
    X, T, D, gid = [], [], [], []
    init = rng.integers(0, 2, G)
    start = rng.uniform(60, 250, G)
    loss = np.linspace(1.4, 2.8, turns)
    for g in range(G):
        for d in (0, 1):
            n = rng.poisson(rate * 52)
            t = np.sort(rng.uniform(0, 365, n))
            x = rng.normal(size=n)
            for k in range(turns):
                if (k % 2 == 0) == (d == init[g]):
                    x[(t >= start[g] + gap * k) & (t < start[g] + gap * (k + 1))] -= loss[k]
            x[t >= start[g] + turns * gap] -= tail
            X.append(x), T.append(t), D.append(np.full(n, d)), gid.append(np.full(n, g))
    X, T, D, gid = map(np.concatenate, (X, T, D, gid))
    o = np.lexsort((T, gid))
    return X[o], T[o], D[o], gid[o], init, start


@pytest.mark.parametrize("turns,tail", [(4, 1.6), (3, 1.6), (5, 0.0), (6, 0.0)])
def test_turn_phase_beats_the_exchange_model(turns, tail):
    # #18 (init9): who moved first from the phase of the whole alternation (every turn
    # must fall in its side's weeks), not only the first turn against "the partner began
    # a week later". Either parity of the number of turns (who had the last word is
    # left open), with and without a lock-in. Measured on 300 pairs, seeds 7 / 8: the
    # exchange model (main's initiator) right 0.61-0.69, the phase 0.66-0.72; the
    # tempered probability is calibrated (mean confidence 0.68 against 0.70 right)
    from icnet.analysis.spirals import _PHASE_TEMPER, _first_mover, _turn_phase
    G = 300
    X, T, D, gid, init, start = _alternating_pairs(G, np.random.default_rng(7), turns, tail)
    out, page = _onsets(X, T, D, gid, G)
    every = np.ones(G, bool)
    p0, st = _first_mover(X, T, D, gid, G, out, every)
    # near the exchange model's start, the earlier Page onset where it never begins
    ph = _turn_phase(X, T, D, gid, G, out, every, np.where(np.isfinite(st), st,
                                                           page.min(axis=1)))
    main_right = (np.where(p0 >= 0.5, 0, 1) == init).mean()
    right = np.where(ph >= 0.5, 0, 1) == init
    assert right.mean() >= main_right + 0.02, (right.mean(), main_right)
    ph = np.clip(ph, 1e-12, 1 - 1e-12)
    conf = 1 / (1 + np.exp(-_PHASE_TEMPER * np.abs(np.log(ph / (1 - ph)))))
    assert abs(conf.mean() - right.mean()) <= 0.06, (conf.mean(), right.mean())


def test_turn_phase_is_per_pair_and_deterministic():
    # a pair's phase depends on its own events and start only (the Dask path partitions
    # pairs), in any chunking, and the same input gives the same output
    from icnet.analysis.spirals import _turn_phase
    G = 30
    X, T, D, gid, init, start = _escalating_pairs(G, np.random.default_rng(3))
    out, _ = _onsets(X, T, D, gid, G)
    every = np.ones(G, bool)
    p0 = _turn_phase(X, T, D, gid, G, out, every, start)
    np.testing.assert_array_equal(p0, _turn_phase(X, T, D, gid, G, out, every, start))
    some = np.zeros(G, bool)
    some[[2, 11, 29]] = True
    q0 = _turn_phase(X, T, D, gid, G, out, some, start)
    np.testing.assert_allclose(q0[some], p0[some], rtol=1e-12)
    assert np.isnan(q0[~some]).all()
    np.testing.assert_allclose(_turn_phase(X, T, D, gid, G, out, every, start, chunk=7),
                               p0, rtol=1e-12)
    # a start that is not known (NaN) gives no phase
    nan_start = start.copy()
    nan_start[5] = np.nan
    q1 = _turn_phase(X, T, D, gid, G, out, every, nan_start)
    assert np.isnan(q1[5]) and np.isfinite(np.delete(q1, 5)).all()
    # swapping the two directions swaps the first mover
    sw = _turn_phase(X, T, 1 - D, gid, G, {"onset_ab": out["onset_ba"],
                                           "onset_ba": out["onset_ab"],
                                           "stop_ab": out["stop_ba"],
                                           "stop_ba": out["stop_ab"]}, every, start)
    np.testing.assert_allclose(sw, 1 - p0, atol=1e-9)


def test_slow_escalation_is_dated_by_its_first_turns():
    # #18 (init8): a slow escalation's first turns (0.6-0.9 SD, three weeks each) start
    # no Page segment of their own, so main dated it by the first turn that signalled,
    # 6-7 weeks late (median onset error 43 / 45 days on the suite). The exchange
    # model's start is the posterior median of "the exchange has begun". Seeds apart
    # from the scoreboard's (7000-7005: main 63.5 days, this 18.8); the issue's bound
    # (14 days) is not met here: the first turn (0.6 SD) is often below the noise and
    # the exchange is dated from the partner's answer, three weeks later
    ok, err = _validity_timing("slow_escalation", range(7000, 7004))
    assert len(err) >= 8
    assert np.median(err) <= 25, err


def test_slow_escalation_onset_from_the_alternation_posterior():
    # #18 (onset12): the spiral's start is the median of the alternation's start
    # posterior (_turn_phase) where its 80 % interval is at most 21 days. A development
    # seed apart from the scoreboard's (150500): the found planted slow escalations
    # were dated 15.3, 24.8 and 3.6 days off by the exchange model (median 15.3, above
    # the issue's 14-day bound); the posterior dates the first 0.1 day off (its interval
    # 1 day), the other two keep the exchange model's start (intervals of 22 days)
    ok, err = _validity_timing("slow_escalation", [150500])
    assert len(err) == 3
    assert np.median(err) <= 14, err
    assert np.min(err) <= 1, err


def test_turn_phase_start_posterior():
    # #18 (onset12): the start posterior of _turn_phase. P(first mover) is unchanged by
    # starts=True; the quantiles are ordered grid days within the window around the
    # centre, per pair in any chunking; alternations of 4 weekly turns planted on day
    # ``start`` and looked for around start + 10 days are dated there (the centre's
    # offset is not kept; measured: median error 1.8 days, 0.75 within a week; the
    # centre itself is 10 days off)
    from icnet.analysis.spirals import _turn_phase
    G = 60
    X, T, D, gid, init, start = _alternating_pairs(G, np.random.default_rng(11), 4, 1.6)
    out, _ = _onsets(X, T, D, gid, G)
    every = np.ones(G, bool)
    center = start + 10.0
    p0 = _turn_phase(X, T, D, gid, G, out, every, center)
    p1, med, lo, hi = _turn_phase(X, T, D, gid, G, out, every, center, starts=True)
    np.testing.assert_array_equal(p0, p1)
    assert np.isfinite(med).all()
    assert (lo <= med).all() and (med <= hi).all()
    assert (np.abs(med - np.floor(center)) <= 28).all() and (med == np.round(med)).all()
    err = np.abs(med - start)
    assert np.median(err) <= 3 and np.mean(err <= 7) >= 0.7, err
    assert np.median(np.abs(center - start)) == 10
    c = _turn_phase(X, T, D, gid, G, out, every, center, starts=True, chunk=7)
    for a, b in zip(c, (p1, med, lo, hi)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    some = np.zeros(G, bool)
    some[[3, 40]] = True
    q = _turn_phase(X, T, D, gid, G, out, some, center, starts=True)
    np.testing.assert_array_equal(q[1][some], med[some])
    assert np.isnan(q[1][~some]).all() and np.isnan(q[3][~some]).all()


def test_pooled_drop_adds_the_two_directions_evidence():
    # #18 (recall8): with turn_taking=True the pair's mutual-drop discovery adds the
    # pooled series (both directions standardised, merged in time) to the two
    # directions' change tests (Simes over three p's)
    from icnet.analysis.spirals import _pooled_drop

    rng = np.random.default_rng(4)
    G = 200

    def pairs(shift):
        x, tt, gr = [], [], []
        for g in range(G):
            for d in (0, 1):
                t = np.sort(rng.uniform(0, 365, 60))
                v = rng.normal(size=60) - shift * ((t >= 150) & (t < 200))
                x += list(v)
                tt += list(t)
                gr += [2 * g + d] * 60
        x, tt, gr = np.asarray(x), np.asarray(tt), np.asarray(gr)
        gstart = np.arange(0, len(x), 60)
        return x, tt, gr, gstart, np.full(2 * G, 60)

    x, tt, gr, gs, gz = pairs(0.0)
    p0 = _pooled_drop(x, tt, gr, gs, gz, np.arange(G), G, seed=1, max_perm=199)
    assert np.isfinite(p0).all()
    assert np.mean(p0 <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / G)   # valid
    # a pair's p does not depend on the other pairs (hashed by the pair's code)
    one = _pooled_drop(x[:120], tt[:120], gr[:120], gs[:2], gz[:2], np.arange(1), 1,
                       seed=1, max_perm=199)
    assert one[0] == p0[0]
    # a moderate drop in both directions at once: the pooled series sees it more often
    # than the weaker direction on its own
    from icnet.analysis import _change

    x, tt, gr, gs, gz = pairs(0.7)
    p1 = _pooled_drop(x, tt, gr, gs, gz, np.arange(G), G, seed=1, max_perm=199)
    pd_, _, _ = _change.drop_test(x, gs, gz, np.arange(2 * G), seed=1, max_perm=199)
    assert np.median(p1) < np.median(np.maximum(pd_[0::2], pd_[1::2]))
    assert np.mean(p1 <= 0.01) > np.mean(np.maximum(pd_[0::2], pd_[1::2]) <= 0.01)


def test_mutual_drop_of_delays_only_spiral_is_found_with_the_pooled_series():
    # #18 (recall8): a planted delay-only spiral whose two directions dropped (p 0.003
    # and 0.001) but whose two-direction Simes q was 0.15 among ~100 tested pairs: it was
    # `none` with turn_taking=True; the pooled series makes it a discovery (q <= 0.05)
    from icnet.validity import generate

    data = generate("delay_only", n_people=150, seed=150006)
    s = icnet.retaliation_spirals(data.network(), seed=150006, n_perm=199,
                                  turn_taking=True)
    pair = s[s.a.isin(["W0037", "W0107"]) & s.b.isin(["W0037", "W0107"])].iloc[0]
    assert pair.kind == "spiral" and pair.q <= 0.05, pair.reason
    assert max(pair.p_change_ab, pair.p_change_ba) <= 0.05


def _two_service_delays(seed=0, n_prov=20, n_cli=30, n=12000):
    """A delays-only log: every provider gives a 4-hour and a 3-day service (log-normal
    delays, provider speed N(0, 0.25), noise sd 0.5 in log units) and the relation
    p0 -> c0 has 12 slow services (loss 2 SD: delay x e^1.0). Returns the network and the
    masks of that relation's slow and ordinary events."""
    rng = np.random.default_rng(seed)
    prov = rng.integers(0, n_prov, n)
    cli = rng.integers(0, n_cli, n)
    svc = rng.integers(0, 2, n)
    t = rng.uniform(0, 365, n)
    rel = (prov == 0) & (cli == 0)
    slow = rel & (np.cumsum(rel) <= 12)
    speed = rng.normal(0, 0.25, n_prov)
    logd = np.log(np.where(svc == 0, 4.0, 72.0)) + speed[prov] + rng.normal(0, 0.5, n) + \
        1.0 * slow
    ev = pd.DataFrame({"event_id": [f"E{i}" for i in range(n)],
                       "provider": [f"p{i}" for i in prov], "client": [f"c{i}" for i in cli],
                       "service": np.where(svc == 0, "fast", "slow"),
                       "requested_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(t, "D"),
                       "delay_hours": np.exp(logd), "slowed": slow, "rel": rel})
    net = icnet.from_events(ev.drop(columns=["slowed", "rel"]))
    back = ev.set_index("event_id").loc[net.events["event_id"].astype(str)]
    return net, back["slowed"].to_numpy(), (back["rel"] & ~back["slowed"]).to_numpy()


def test_delay_only_quality_reads_each_service_against_its_own_delays():
    """#18 (delay9): without ratings an event's quality is its delay against what its
    provider usually takes *for that service*. A provider of a 4-hour and a 3-day service
    mixed in one provider effect hid a planted drop (within-relation separation of the
    slow services 0.9 SD on main, against the ideal 2.0 = 1.0 / 0.5); the provider x
    service cell keeps >= 90 % of the ideal. A rank/probit transform would not either
    (it caps the slow services' scores: 2.20 against 2.90 SD on the validity suite's
    delay_only organisations, docs/methods/spirals-record.md)."""
    net, slowed, usual = _two_service_delays()
    z = event_quality(net)["z"].to_numpy()
    sep = (z[usual].mean() - z[slowed].mean()) / z[usual].std()
    assert sep >= 0.9 * 2.0, sep


def test_day_window_sums_by_hand():
    # spec14: the specificity check's window sums over (key, day) rows, by hand
    from icnet.analysis.spirals import _day_window_sums
    key = np.array([0, 0, 0, 1, 1, 2])
    day = np.array([1, 5, 9, 2, 6, 3])
    n = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 1.0])
    s = np.array([1.0, -2.0, 4.0, 3.0, -1.0, 7.0])
    nw, sw, na, sa = _day_window_sums(key, day, n, s, np.array([0, 1, 2, 0]),
                                      np.array([4, 0, 4, 0]), np.array([10, 3, 8, 5]))
    np.testing.assert_allclose(nw, [3, 3, 0, 1])
    np.testing.assert_allclose(sw, [2.0, 3.0, 0.0, 1.0])
    np.testing.assert_allclose(na, [4, 4, 1, 4])
    np.testing.assert_allclose(sa, [3.0, 2.0, 7.0, 3.0])


def test_provider_days_sums_finite_residuals_per_provider_and_day():
    from icnet.analysis.spirals import _provider_days
    p = np.array([1, 0, 1, 1, 0])
    t = np.array([0.2, 3.9, 0.7, 2.5, 3.1])
    z = np.array([1.0, 2.0, np.nan, -1.0, 0.5])
    got = _provider_days(p, t, z)
    assert got[["p", "day"]].to_numpy().tolist() == [[0, 3], [1, 0], [1, 2]]
    np.testing.assert_allclose(got["n"], [2, 1, 1])
    np.testing.assert_allclose(got["s"], [2.5, 1.0, -1.0])


def test_overload_spiral_is_a_joint_shift():
    # spec14 (issue 18): on a development overload_episodes organisation (each overloaded
    # provider's service to *everyone* drops for 2–3 weeks) main calls this pair a
    # `spiral`: two real, ordered drops. W0386's drop was shared by its other clients
    # (specificity z = -3.2), so it is not targeted at W0291: a joint_shift
    from icnet.validity import generate
    d = generate("overload_episodes", n_people=600, seed=600505)
    res = icnet.retaliation_spirals(d.network(), seed=600505, n_perm=199, individuals=True)
    row = res[(res["a"] == "W0291") & (res["b"] == "W0386")].iloc[0]
    assert row["kind"] == "joint_shift"
    assert row["specificity_z"] < -3.0 and "not targeted" in row["reason"]
    assert not (res["kind"] == "spiral").any()


def test_planted_spiral_with_a_weak_drop_to_others_stays_a_spiral():
    # spec14: the planted spiral of the development seeds whose side served its other
    # clients worst in its drop window (z = -2.17) is above the threshold (-2.7): it
    # stays a spiral
    from icnet.validity import generate
    d = generate("episodic", n_people=600, seed=600504)
    res = icnet.retaliation_spirals(d.network(), seed=600504, n_perm=199, individuals=True)
    row = res[(res["a"] == "W0273") & (res["b"] == "W0514")].iloc[0]
    assert -2.7 < row["specificity_z"] < -2.0
    assert row["kind"] == "spiral" and "not targeted" not in row["reason"]


def test_two_episode_spiral_matches_drops_episode_by_episode():
    """episodes14 (#18): in a pair with two episodes (each started by the other side)
    each direction's largest drop sat in a different episode, months apart, and the pair
    was ``one_sided`` ("only W0129's service dropped") before; the second drop of each
    direction (the change test on its series with the first drop cut out) matches the
    partner's. A development organisation of the validity suite (not a scoreboard seed)."""
    from icnet.validity.scenarios import generate
    d = generate("episodic_two", n_people=150, seed=150501)
    s = icnet.retaliation_spirals(d.network(), seed=150501, n_perm=199, individuals=True)
    row = s[s.a.isin(["W0129", "W0130"]) & s.b.isin(["W0129", "W0130"])].iloc[0]
    assert row.kind == "spiral", row.reason
    assert row.initiator == "W0129"
    # the two drops are one exchange (their onsets weeks, not months, apart)
    assert abs((row.onset_ab - row.onset_ba) / pd.Timedelta(days=1)) <= 45


def test_two_joint_bad_periods_stay_no_spiral():
    """episodes14: matching second drops must not pair two *joint* bad periods into an
    ordered exchange: each boosted pair of this development organisation is bad both ways
    at the same time, twice; none is a spiral (they are joint shifts or none)."""
    from icnet.validity.scenarios import generate
    d = generate("joint_bad_periods", n_people=150, seed=150501)
    s = icnet.retaliation_spirals(d.network(), seed=150501, n_perm=199)
    assert "spiral" not in set(s.kind)
    assert (s.kind == "joint_shift").sum() >= 2


def _two_sided_pairs(rng, G, *, shift_a, shift_b, b_from, b_to, n=60):
    """G pairs, 60 events a year each way: a→b drops by ``shift_a`` SD from day 150 to
    200, b→a by ``shift_b`` SD from ``b_from`` to ``b_to`` (the layout of _pair_tests:
    rows sorted by pair-direction, then time)."""
    x, tt = [], []
    for g in range(G):
        for d, (s, lo, hi) in enumerate(((shift_a, 150, 200), (shift_b, b_from, b_to))):
            t = np.sort(rng.uniform(0, 365, n))
            x.append(rng.normal(size=n) - s * ((t >= lo) & (t < hi)))
            tt.append(t)
    x, tt = np.concatenate(x), np.concatenate(tt)
    gstart = np.arange(0, len(x), n)
    gsize = np.full(2 * G, n)
    gkey = np.arange(2 * G)
    return x, tt, gstart, gsize, gkey


def _local_tests(x, tt, gstart, gsize, gkey, G):
    from icnet.analysis import _change
    from icnet.analysis.spirals import _local

    _, on, en = _change.drawdown(x, gstart, gsize)
    keys = gkey.astype(np.int64)
    pg, se, _ = _change.drop_test(x, gstart, gsize, keys, seed=3, max_perm=199)
    on2, en2, pc, _, pl = _local(x, tt, gstart, gsize, gkey, keys, on, en, pg, se,
                                 (0.05, 0.10), seed=5, gap=14.0, max_perm=199)
    return pg, pc, pl, on, on2


def _answered_weeks(rng, G, loss_a, loss_b, lag_b=7.0, n=100):
    """G pairs, 100 events a year each way: three bad weeks of a→b a fortnight apart
    (loss ``loss_a`` SD) and b→a's three answers ``lag_b`` days after each (``loss_b``)."""
    x, tt = [], []
    for _ in range(G):
        st = rng.uniform(60, 280)
        for loss, off in ((loss_a, 0.0), (loss_b, lag_b)):
            t = np.sort(rng.uniform(0, 365, n))
            v = rng.normal(size=n)
            for k in range(3):
                v -= loss * ((t >= st + off + 14 * k) & (t < st + off + 14 * k + 7))
            x.append(v)
            tt.append(t)
    x, tt = np.concatenate(x), np.concatenate(tt)
    return x, tt, np.arange(0, len(x), n), np.full(2 * G, n), np.arange(2 * G)


def test_local_test_finds_the_weaker_side_where_the_partner_dropped():
    # side15 (#18): a→b's bad weeks clear, b→a's answers a week later milder: tested
    # where a→b dropped (a window from a→b's series alone) together with its
    # whole-series statistics (minimum p), b→a's drop is found in pairs where its
    # whole-series test alone (which searches every onset) does not find it
    rng = np.random.default_rng(11)
    G = 150
    x, tt, gs, gz, gk = _answered_weeks(rng, G, 2.5, 1.3)
    pg, pc, pl, on, on2 = _local_tests(x, tt, gs, gz, gk, G)
    b = np.arange(1, 2 * G, 2)
    only_local = (pg[b] > 0.05) & (pc[b] <= 0.05)
    assert only_local.sum() >= 5
    assert np.mean(pc[b] <= 0.05) > np.mean(pg[b] <= 0.05)
    # where the local statistic found it, the weaker side's drop is located in the
    # exchange (its onset within the window of a→b's onset)
    k = b[only_local & (pl[b] < pg[b])]
    assert len(k) >= 3
    assert (np.abs(tt[on2[k]] - tt[on[k - 1]]) <= 14.0).all()


def test_local_test_does_not_count_a_partner_drop_outside_the_window():
    # the same b→a drop placed 120 days after a→b's (outside the ± 14-day windows): the
    # local test does not see it (its rate of p <= 0.05 is the null's) and b→a's drop is
    # not moved there
    rng = np.random.default_rng(12)
    G = 200
    x, tt, gs, gz, gk = _two_sided_pairs(rng, G, shift_a=2.0, shift_b=0.8, b_from=320,
                                         b_to=365)
    pg, pc, pl, on, on2 = _local_tests(x, tt, gs, gz, gk, G)
    b = np.arange(1, 2 * G, 2)
    assert np.mean(pl[b] <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / G)
    # b→a's drop is not moved to a segment outside the window
    moved = b[on2[b] != on[b]]
    assert (np.abs(tt[on2[moved]] - tt[on[moved - 1]]) <= 14.0).all()
    far = np.abs(tt[on2[b]] - tt[on[b - 1]]) > 45.0
    assert np.mean(far) > 0.3               # (the whole-series drop, where it was found)
    # and without any drop of b→a the local test keeps its level
    x, tt, gs, gz, gk = _two_sided_pairs(rng, G, shift_a=2.0, shift_b=0.0, b_from=0,
                                         b_to=0)
    pg, pc, pl, _, _ = _local_tests(x, tt, gs, gz, gk, G)
    assert np.mean(pl[b] <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / G)
    assert np.mean(pc[b] <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / G)


def test_local_drop_test_is_per_group_and_by_hand():
    from icnet.analysis import _change

    x = np.r_[np.zeros(20), -np.ones(10), np.zeros(10)]
    # the drop begins at row 20: found with a window holding it, not with one before it
    p, on, en, used = _change.local_drop_test(x, np.array([0]), np.array([40]),
                                              np.array([18]), np.array([22]),
                                              np.array([7]), seed=1)
    assert p[0] < 0.01 and (on[0], en[0]) == (20, 29) and used[0] > 0
    p2, on2, _, _ = _change.local_drop_test(x, np.array([0]), np.array([40]),
                                            np.array([0]), np.array([5]), np.array([7]),
                                            seed=1)
    assert p2[0] > p[0] and on2[0] <= 5
    # a group's p does not depend on the other groups (hashed by its key); an empty
    # window gives p = 1
    rng = np.random.default_rng(2)
    y = np.r_[x, rng.normal(size=30)]
    pp, _, _, _ = _change.local_drop_test(y, np.array([0, 40]), np.array([40, 30]),
                                          np.array([18, 5]), np.array([22, 4]),
                                          np.array([7, 8]), seed=1)
    assert pp[0] == p[0] and pp[1] == 1.0


def test_local_drop_tests_whole_series_statistics_are_drawdowns():
    # side15's combined test recomputes the whole-series CUSUM and MOSUM statistics from
    # prefix sums (_change._whole_stats) next to the windowed one; they must be the
    # change test's own (_change.drawdown), or the minimum p would combine other tests
    from icnet.analysis import _change

    rng = np.random.default_rng(4)
    gsize = np.array([9, 40, 73, 120])
    gstart = np.r_[0, np.cumsum(gsize)[:-1]]
    x = rng.normal(size=gsize.sum()) - 1.5 * (rng.uniform(size=gsize.sum()) < 0.2)
    (tc, tm), _, _ = _change.drawdown(x, gstart, gsize)
    wd = int(gsize.max())
    g = np.repeat(np.arange(len(gsize)), gsize)
    xc = x - (np.bincount(g, weights=x) / gsize)[g]
    col = np.arange(wd)
    valid = col[None, :] < gsize[:, None]
    X = np.where(valid, xc[np.where(valid, gstart[:, None] + col[None, :], 0)], 0.0)
    S = np.concatenate([np.zeros((len(gsize), 1)), np.cumsum(X, axis=1)], axis=1)
    wc, wm = _change._whole_stats(S, gsize)
    np.testing.assert_allclose(wc, tc, rtol=1e-12)
    np.testing.assert_allclose(wm, tm, rtol=1e-12)


def _overload_org(targeted, seed=0):
    """The ring (:func:`_ring`) with ~40 services a year per relation (the validity
    suite has ~25) and 150 for P00-P01; from day 150 for eight weeks P00 serves P01 2 SD worse
    — and, unless ``targeted``, every other client too (an overloaded or absent
    provider, whose few other services in those weeks the time-local control only
    partly removes). P01's service does not change."""
    rng = np.random.default_rng(seed)
    ev = _ring(rng, pair_rate=150, rate=40)
    q = rng.normal(size=len(ev))
    hit = (ev.provider == "P00") & (ev.t >= 150) & (ev.t < 206)
    if targeted:
        hit &= ev.client == "P01"
    q[hit] -= 2.0
    return _ring_network(ev, q, rng)


@pytest.mark.parametrize("seed", range(8))
def test_a_drop_shared_by_the_providers_other_clients_is_not_one_sided(seed):
    # onesided16 (#18): a provider whose service to *everyone* dropped for eight weeks
    # (overload, absence) was "one-sided retaliation" against its partner on main (seed
    # 1: specificity z = -4.4, `one_sided`). Where the specificity check (spec14) sees the
    # drop in its service to the others, the pair is not `one_sided`, and where the drop
    # is significant (q <= 0.05) the reason says why; where the check cannot see it (few
    # other services in the drop's window: seed 4, z = -1.8) nothing is claimed
    s = icnet.retaliation_spirals(_overload_org(False, seed), seed=seed, n_perm=199,
                                  individuals=True)
    row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
    if row.specificity_z < -3.0:
        assert row.kind != "one_sided", row.reason
        if row.kind == "none" and row.q <= 0.05:
            assert "not targeted at P01" in row.reason, row.reason


@pytest.mark.parametrize("seed", range(6))
def test_a_drop_targeted_at_one_client_is_not_called_untargeted(seed):
    # the same drop toward P01 alone: the rule must not fire (a guard: loosened to
    # z < -1 and a share of 0.2 it fires on seed 0, whose drop to the others is z = -2.7,
    # 0.64 against 1.56 to P01, by chance); whatever the pair is called, it is not "not
    # targeted", nor are P00's other pairs
    s = icnet.retaliation_spirals(_overload_org(True, seed), seed=seed, n_perm=199)
    p00 = s[(s.a == "P00") | (s.b == "P00")]
    assert not p00.reason.str.contains("not targeted").any(), p00.reason.tolist()


def _bench_module(name):
    """A script of benchmarks/ imported as a module (its generators are reused here)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_change_test_is_calibrated_on_dense_null_relations():
    # perm17 (#18): the time-local control's own noise (means of the sides' other services
    # within +-14 days, shared by neighbouring events) is autocorrelated; permuting the
    # controlled values made the change test anti-conservative on dense relations (0.098 of
    # these null directions at p <= 0.05 on main, ~100 services a year per relation;
    # benchmarks/change_null16.txt). The permutations now draw the raw qualities and keep
    # the control in place
    mod = _bench_module("change_null16")
    ps = []
    for seed in range(15):
        s = icnet.retaliation_spirals(mod.ring(seed, 100), seed=seed, n_perm=199)
        t = s[s["kind"] != "insufficient"]
        ps.append(np.r_[t["p_change_ab"].to_numpy(), t["p_change_ba"].to_numpy()])
    p = np.concatenate(ps)
    p = p[np.isfinite(p)]
    assert len(p) > 1000
    assert (p <= 0.05).mean() <= 0.07


def _joint_reasons(p_turn, ordered, untargeted, q_turn=None, params=None):
    """The reasons _reasons gives joint shifts (by hand): one pair per p_turn, drops 1 day
    apart, everything else neutral."""
    from icnet.analysis.spirals import _reasons
    k = len(p_turn)
    f = np.zeros(k)
    return _reasons(np.array(["joint_shift"] * k), np.zeros(k, bool), f, f, f + 1, f + 2,
                    f + 1, np.zeros(k, int), np.zeros(k, int), np.array(["A"] * k),
                    np.array(["B"] * k),
                    params or {"turn_taking": True, "alpha": 0.05, "candidate_alpha": 0.1},
                    np.zeros(k, bool), np.zeros(k, int), np.array([None] * k),
                    np.zeros(k, bool), f, np.asarray(p_turn, float),
                    ordered=np.asarray(ordered), untargeted=np.asarray(untargeted),
                    q_turn=None if q_turn is None else np.asarray(q_turn, float))


def test_joint_shift_reason_reads_the_turn_decision_not_the_nominal_p():
    # a turn test at p=0.03 that did not survive the BH over its family (q=0.08 > 0.05)
    # did not show turns: the reason of a pair without order must say so too (it used to
    # read p <= 0.05 as "turns shown" and left the turns out), and it gives the q the
    # decision used
    r = _joint_reasons([0.03, 0.03], [False, True], [False, False], q_turn=[0.08, 0.08])
    assert "no order" in r[0] and "no turns taken (turn test p=0.03, q=0.08)" in r[0], r[0]
    assert "no turns taken (turn test p=0.03, q=0.08)" in r[1] and "no order" not in r[1]


def test_joint_shift_reasons_agree_with_the_decision_on_a_ring():
    # end to end: every joint shift whose reason says "no turns taken" has a turn-test q
    # above alpha, and none whose q is at most alpha says it
    import re
    mod = _bench_module("turn_null18")
    s = icnet.retaliation_spirals(mod.joint_ring(3, 100), seed=3, n_perm=199)
    j = s[s["kind"] == "joint_shift"]
    assert len(j) >= 3
    for r in j["reason"]:
        m = re.search(r"turn test p=([0-9.e-]+), q=([0-9.e-]+)\)", r)
        if "no turns taken" in r:
            assert m is not None and float(m.group(2)) > 0.05, r


def test_joint_shift_reason_names_the_rule_that_failed():
    # onesided16: a joint shift whose drops were not in order read "no turns taken (turn
    # test p=0.003)" — a significant turn test given as the reason it was not a spiral.
    # The reason names what failed: no order, no turns, or both (by hand on _reasons)
    r = _joint_reasons([0.003, 0.21, 0.95], [False, True, False], [False] * 3,
                       q_turn=[0.009, 0.21, 0.95])
    assert "no order" in r[0] and "no turns taken" not in r[0], r[0]
    assert "no turns taken (turn test p=0.21, q=0.21)" in r[1] and "no order" not in r[1], r[1]
    assert "no order" in r[2] and "no turns taken (turn test p=0.95, q=0.95)" in r[2], r[2]
    r = _joint_reasons([0.003], [True], [True], params={"turn_taking": True})
    assert "not targeted" in r[0] and "no turns" not in r[0], r[0]


def _episode_in_a_long_drop():
    """Provider 0 serves client 1 daily, 1 SD worse from day 100 to day 300 (a long drop
    segment), and its three other clients every fourth day each, 2 SD worse only from day
    100 to day 121 (a three-week overload): noise-free residuals, one tested pair (0, 1)."""
    from icnet.analysis.spirals import _provider_days
    n = 5
    t_y = np.arange(365) + 0.5
    t_o = np.concatenate([np.arange(k, 365, 4) + 0.25 for k in range(3)])
    c_o = np.repeat([2, 3, 4], [len(np.arange(k, 365, 4)) for k in range(3)])
    z_y = np.where((t_y >= 100) & (t_y < 301), -1.0, 0.0)
    z_o = np.where((t_o >= 100) & (t_o < 122), -2.0, 0.0)
    p = np.zeros(len(t_y) + len(t_o), np.int64)
    c = np.r_[np.ones(len(t_y), np.int64), c_o]
    t, z = np.r_[t_y, t_o], np.r_[z_y, z_o]
    pair, d = np.minimum(p, c) * n + np.maximum(p, c), (p > c).astype(np.int64)
    table = pd.DataFrame({"pair": [1], "tested": [True], "onset_ab": [100.0],
                          "stop_ab": [300.0], "page_ab": [100.0], "onset_ba": [np.nan],
                          "stop_ba": [np.nan], "page_ba": [np.nan]})
    return pair, d, t, z, table, _provider_days(p, t, z), n


def test_specificity_short_window_sees_an_episode_the_long_segment_dilutes():
    # spec18 (#18): the drop window of spec14 is the drop's segment, onset to stop; a
    # provider's three-week overload inside a 200-day segment is diluted there (the
    # drop to the others -0.23, z = -1.9: "targeted"), as on the validity suite's
    # overload organisations (spec16's diagnosis). The 22 days from the Page onset (and
    # from the segment's, here the same day) see it (-2.0 against the rest, z = -8.0): the
    # drop was not targeted at client 1
    from icnet.analysis.spirals import _nontargeted, _specificity
    tab = _specificity(*_episode_in_a_long_drop())
    assert -2.7 < tab["zoth_ab"].iloc[0] < 0          # the segment: within the threshold
    assert tab["zoth2_ab"].iloc[0] < -5                # the short window: clear
    np.testing.assert_allclose(tab["doth2_ab"].iloc[0], -2.0, atol=1e-12)
    np.testing.assert_allclose(tab["zoth3_ab"], tab["zoth2_ab"])
    z, nonspec, checkable, n_oth = _nontargeted(tab, 1)
    assert nonspec[0, 0] and not nonspec[1, 0]
    assert z[0] == tab["zoth2_ab"].iloc[0]
    # the check could see it (a drop as deep as the one to client 1 would be z < -2.7 with
    # the others' ~16 services in a short window); b→a has no drop: no count, not checkable
    assert checkable[0, 0] and n_oth[0, 0] >= 10
    assert not checkable[1, 0] and np.isnan(n_oth[1, 0])
    # the segment's evidence alone does not call it untargeted
    z1, nonspec1, *_ = _nontargeted(tab.drop(columns=[c for c in tab if c[-4:-3] in "23"
                                                      and c[:2] in ("zo", "do", "dy")]), 1)
    assert not nonspec1.any()
    # a table without the check's reach (made before it was recorded) claims nothing
    old = tab.drop(columns=[c for c in tab if c.startswith(("zcap", "noth"))])
    assert _nontargeted(old, 1)[2].all()


@pytest.mark.parametrize("seed", range(3))
def test_one_sided_drop_of_a_side_that_serves_no_one_else_says_the_check_is_blind(seed):
    # blind19 (#18): P00 serves only P01 and its service drops for eight weeks — an
    # overload and a targeted drop look the same, and the specificity check has nothing
    # to compare with: the one_sided reason says so. With P00's other clients served as
    # usual (a targeted drop the check can see) it says nothing of the kind
    for alone in (True, False):
        rng = np.random.default_rng(seed)
        ev = _ring(rng, pair_rate=150, rate=40)
        if alone:
            ev = ev[~((ev.provider == "P00") & (ev.client != "P01"))].reset_index(drop=True)
        q = rng.normal(size=len(ev))
        q[((ev.provider == "P00") & (ev.client == "P01") & (ev.t >= 150) &
           (ev.t < 206)).to_numpy()] -= 2.0
        s = icnet.retaliation_spirals(_ring_network(ev, q, rng), seed=seed, n_perm=199)
        row = s[(s.a == "P00") & (s.b == "P01")].iloc[0]
        assert row.kind == "one_sided", row.reason
        blind = ("whether P00's drop was targeted at P01 cannot be checked: P00 served no "
                 "other client in those weeks (an overload is not excluded)")
        assert (blind in row.reason) == alone, row.reason
        assert not s.reason[s.kind != "one_sided"].str.contains("cannot be checked").any()


def test_specificity_short_windows_start_at_the_page_and_the_segment_onsets():
    # the Page window follows the Page onset (the segment's window does not); without a
    # Page onset (NaN) it starts at the segment's onset
    from icnet.analysis.spirals import _specificity
    pair, d, t, z, table, summary, n = _episode_in_a_long_drop()
    a = _specificity(pair, d, t, z, table, summary, n)
    b = _specificity(pair, d, t, z, table.assign(page_ab=np.nan), summary, n)
    np.testing.assert_allclose(a["zoth2_ab"], b["zoth2_ab"])
    assert np.isnan(a["zoth2_ba"].iloc[0]) and np.isnan(a["dy2_ba"].iloc[0])
    # a Page onset 60 days after the episode: its window misses it, the segment onset's sees it
    c = _specificity(pair, d, t, z, table.assign(page_ab=160.0), summary, n)
    assert abs(c["zoth2_ab"].iloc[0]) < 1 and c["zoth3_ab"].iloc[0] < -5
    np.testing.assert_allclose(c["zoth3_ab"], a["zoth3_ab"])
