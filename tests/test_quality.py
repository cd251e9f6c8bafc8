"""service_quality: shrinkage by hand, credible sign, survey gaps, NPS, r_wg, privacy."""

import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import _shrink
from icnet.errors import ParameterError


def test_shrinkage_by_hand():
    # two providers, known variance components: check the posterior formula
    n = np.array([10.0, 1.0, 50.0])
    mean = np.array([2.0, 5.0, 4.0])
    sd = np.array([1.0, np.nan, 1.0])
    g = np.array([0, 0, 1])
    out = _shrink.shrink(n, mean, sd, g, (1, 5))
    c = out.attrs["components"]
    s2 = (10 * _shrink._PRIOR_DF * 0 + (_shrink._PRIOR_DF * c["sigma2"] + 9 * 1.0)
          / (_shrink._PRIOR_DF + 9))
    w0 = c["tau2"] / (c["tau2"] + s2 / 10)
    assert out["weight"][0] == pytest.approx(w0)
    assert out["shrunk"][0] == pytest.approx(w0 * 2 + (1 - w0) * out["provider_shrunk"][0])
    # the one-rating edge is pulled much harder toward its provider
    assert out["weight"][1] < out["weight"][0]


def test_one_rating_does_not_outrank_two_hundred():
    rng = np.random.default_rng(0)
    rows = [("x", "big", s) for s in np.clip(np.round(rng.normal(4.6, 0.5, 200)), 1, 5)]
    rows += [("y", "one", 5.0)] + [("y", f"c{i}", float(np.clip(np.round(rng.normal(3, 1)),
                                                                1, 5)))
                                   for i in range(5) for _ in range(10)]
    net = icnet.from_events(pd.DataFrame(rows, columns=["provider", "client", "satisfaction"]))
    e = icnet.service_quality(net, individuals=True).edges.set_index("client")
    assert e.loc["one", "satisfaction_mean"] > e.loc["big", "satisfaction_mean"]
    assert e.loc["one", "satisfaction_shrunk"] < e.loc["big", "satisfaction_shrunk"]
    assert e.loc["one", "sign"] == "uncertain" and e.loc["big", "sign"] == "good"
    # x is rated by one client only: shown with min_group_size=1, suppressed by default
    p = icnet.service_quality(net, min_group_size=1).providers.set_index("provider")
    assert p.loc["x", "satisfaction_shrunk"] > p.loc["y", "satisfaction_shrunk"]
    p5 = icnet.service_quality(net).providers.set_index("provider")
    assert p5.loc["x", "suppressed"] and np.isnan(p5.loc["x", "satisfaction_shrunk"])
    assert p5.loc["y", "n_raters"] == 6 and not p5.loc["y", "suppressed"]


def test_interval_coverage_close_to_nominal():
    """Generated data with known true edge means: 95 % intervals cover ~95 %."""
    covered, total = 0, 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n_p, k = 8, 6
        mu = rng.normal(3.2, 0.4, n_p)
        theta = mu[:, None] + rng.normal(0, 0.3, (n_p, k))
        rows = []
        for p in range(n_p):
            for c in range(k):
                m = int(rng.integers(2, 30))
                rows += [(f"p{p}", f"c{c}", v) for v in rng.normal(theta[p, c], 0.8, m)]
        df = pd.DataFrame(rows, columns=["provider", "client", "satisfaction"])
        e = icnet.from_events(df, scale=(-10, 20)).edges
        t = theta[e["provider"].str[1:].astype(int), e["client"].str[1:].astype(int)]
        covered += int(((e.satisfaction_low <= t) & (t <= e.satisfaction_high)).sum())
        total += len(e)
    assert 0.90 <= covered / total <= 0.99


def test_toy_conflict_is_bad_and_threshold_option():
    net = icnet.datasets.toy()          # units of 2-3 people: below the default group size
    assert (icnet.service_quality(net, level="unit").edges.sign == "suppressed").all()
    q = icnet.service_quality(net, level="unit", min_group_size=1)
    bad = q.edges[q.edges.sign == "bad"]
    assert set(zip(bad.provider, bad.client)) == {("Calidad", "Produccion"),
                                                   ("Produccion", "Calidad")}
    strict = icnet.service_quality(net, level="unit", threshold=4.5, min_group_size=1)
    assert (strict.edges.sign == "bad").sum() > len(bad)
    assert strict.edges.attrs["params"]["threshold"] == 4.5
    # consistent with net.edges at the default threshold
    pd.testing.assert_series_equal(q.edges["satisfaction_shrunk"],
                                   net.by("unit", individuals=True).edges["satisfaction_shrunk"])


def _survey(n_raters, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_raters):
        for d in ("reliability", "empathy"):
            rows.append((f"r{r}", "IT", d, int(rng.integers(2, 5)), 4, int(rng.integers(0, 11))))
    return pd.DataFrame(rows, columns=["rater", "provider", "dimension", "perception",
                                       "expectation", "recommend"])


def test_gaps_nps_and_agreement_by_hand():
    ratings = _survey(8)
    net = icnet.from_events({"provider": ["IT"], "client": ["r0"]}, ratings=ratings)
    q = icnet.service_quality(net)
    d = q.dimensions.set_index("dimension").loc["reliability"]
    sub = ratings[ratings.dimension == "reliability"]
    assert d["n_raters"] == 8 and d["gap"] == pytest.approx((sub.perception - 4).mean())
    assert d["gap_low"] < d["gap"] < d["gap_high"]
    rec = ratings.groupby("rater")["recommend"].mean()
    nps = 100 * ((rec >= 9).mean() - (rec <= 6).mean())
    assert q.nps.loc[0, "nps"] == pytest.approx(nps)
    per_rater = ratings.groupby("rater")["perception"].mean()
    assert q.agreement.loc[0, "r_wg"] == pytest.approx(max(0, 1 - per_rater.var() / 2.0))


def test_four_raters_are_never_revealed():
    net = icnet.from_events({"provider": ["IT"], "client": ["r0"]}, ratings=_survey(4))
    q = icnet.service_quality(net)
    assert q.dimensions[["perception", "gap"]].isna().all().all()
    assert q.dimensions["suppressed"].all()
    assert q.nps["nps"].isna().all() and q.agreement["r_wg"].isna().all()
    q5 = icnet.service_quality(net, min_group_size=4)
    assert q5.nps["nps"].notna().all()


def test_parameter_errors():
    net = icnet.datasets.toy()
    with pytest.raises(ParameterError, match="'ci' parameter must be < 1"):
        icnet.service_quality(net, ci=1.0)
    with pytest.raises(ParameterError, match="'threshold' parameter must be <= 5"):
        icnet.service_quality(net, threshold=9)
    with pytest.raises(ParameterError, match="'min_group_size' parameter must be >= 1"):
        icnet.service_quality(net, min_group_size=0)


def test_leniency_adjustment_removes_a_harsh_rater():
    rng = np.random.default_rng(1)
    rows = []
    for p in ("x", "y"):
        for c in [f"c{i}" for i in range(6)]:
            rows += [(p, c, float(np.clip(round(rng.normal(4, .4)), 1, 5))) for _ in range(8)]
    # a very harsh client rates only provider y
    rows += [("y", "harsh", 1.0) for _ in range(30)] + [("x", "harsh", 1.0) for _ in range(2)]
    net = icnet.from_events(pd.DataFrame(rows, columns=["provider", "client", "satisfaction"]))
    # the rating means (the shrunk provider values also carry the between-relation
    # uncertainty of only 7 relations each, and pull both toward the organisation)
    raw = icnet.service_quality(net).providers.set_index("provider")["satisfaction_mean"]
    adj = icnet.service_quality(net, adjust_leniency=True).providers.set_index(
        "provider")["satisfaction_mean"]
    assert raw["y"] < raw["x"] - 0.5            # y looks worse only because of its rater
    assert abs(adj["y"] - adj["x"]) < abs(raw["y"] - raw["x"]) / 2
    with pytest.raises(ParameterError, match="needs events with satisfaction"):
        icnet.service_quality(icnet.ServiceNetwork.from_edges(
            {"provider": ["a"], "client": ["b"]}), adjust_leniency=True)
