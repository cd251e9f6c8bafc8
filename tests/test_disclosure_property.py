"""#20 acceptance: on generated organisations with small groups, no suppressed value is
recoverable from the unit-level API tables or from a report's tables (independent attacker)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import icnet
from test_disclosure import _recoverable


def _generated(seed, n_units, max_people):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_people + 1, n_units)
    people = pd.DataFrame([(f"U{u}p{i}", f"U{u}") for u in range(n_units)
                           for i in range(sizes[u])], columns=["person", "unit"])
    ids = people["person"].to_numpy()
    n = int(rng.integers(60, 240))
    prov = rng.choice(ids, n)
    cli = rng.choice(ids, n)
    keep = prov != cli
    sat = rng.integers(1, 6, n).astype(float)
    ev = pd.DataFrame({"provider": prov[keep], "client": cli[keep], "satisfaction": sat[keep]})
    return icnet.from_events(ev, people=people)


def _small(found, rel):
    """Only the small groups are protected: a complementary cell may be recomputable."""
    small = set(zip(rel.loc[rel["n_raters"] < 5, "provider"], rel.loc[rel["n_raters"] < 5,
                                                                       "client"]))
    return {k: v for k, v in found.items() if k in small}


def _org_row(rel, net_units):
    tot = net_units.edges.eval("satisfaction_n * satisfaction_mean").sum()
    cnt = net_units.edges["satisfaction_n"].sum()
    return (pd.Series("org", index=rel.index),
            pd.DataFrame({"satisfaction_n": [cnt], "satisfaction_mean": [tot / cnt]},
                         index=["org"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 6), max_people=st.integers(1, 9))
def test_unit_tables_never_reveal_a_small_group(seed, n_units, max_people):
    net = _generated(seed, n_units, max_people)
    q = icnet.service_quality(net, level="unit")
    e = q.edges
    if not len(e):
        return
    found = _recoverable(e, [(e["provider"], q.units.set_index("unit")),
                             _org_row(e, net.by("unit"))])
    assert _small(found, e) == {}
    assert q.audit["safe"].all()


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_units=st.integers(2, 5))
def test_report_tables_never_reveal_a_small_group(tmp_path, seed, n_units):
    net = _generated(seed, n_units, 8)
    out = tmp_path / f"r{seed}_{n_units}"
    icnet.report(net, out / "report.html", tables=True)
    e = pd.read_csv(out / "edges.csv")
    if not len(e):
        return
    h = pd.read_csv(out / "health.csv").set_index("unit")
    exact = icnet.service_quality(net, level="unit", min_group_size=1,
                                  protection=0.0).units.set_index("unit")
    shown = h["served_quality"].notna().reindex(exact.index).fillna(False)
    margins = exact[["satisfaction_n", "satisfaction_mean"]].where(shown, np.nan)
    found = _recoverable(e, [(e["provider"], margins), _org_row(e, net.by("unit"))])
    assert _small(found, e) == {}
