"""Figures: check what was drawn (Agg backend set in conftest.py)."""

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import plot


@pytest.fixture(scope="module")
def planta():
    return icnet.datasets.load("planta")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def four_raters():
    """Units Hub (4 people), Four (4 people), Six (6 people), two months of events.

    Hub serves Four (rated by Four's 4 people) and Six (6 raters); Four serves Hub
    (rated by Hub's 4 people); Six serves Four (4 raters). Relations rated by 4 people must be
    hidden at min_group_size=5 and shown at 4.
    """
    hub = [f"h{i}" for i in range(4)]
    four = [f"f{i}" for i in range(4)]
    six = [f"s{i}" for i in range(6)]
    rows = []
    t0 = pd.Timestamp("2025-01-06 09:00")
    k = 0
    for rep in range(6):
        for i, c in enumerate(four):
            rows.append((hub[i], c, [1, 2, 1, 2, 2, 1][rep]))
        for i, c in enumerate(six):
            rows.append((hub[i % 4], c, [4, 5, 4, 4, 5, 4][rep]))
        for i, c in enumerate(hub):
            rows.append((four[i], c, [2, 1, 2, 2, 1, 1][(rep + i) % 6]))
        for i, c in enumerate(four):
            rows.append((six[i], c, 4))
    ev = pd.DataFrame(rows, columns=["provider", "client", "satisfaction"])
    k = np.arange(len(ev))
    ev["requested_at"] = t0 + pd.to_timedelta(k * 7, unit="h")
    ev["delivered_at"] = ev["requested_at"] + pd.to_timedelta(4 + k % 5, unit="h")
    people = pd.DataFrame({"person": hub + four + six,
                           "unit": ["Hub"] * 4 + ["Four"] * 4 + ["Six"] * 6})
    return icnet.from_events(ev, people=people)


# ---------------------------------------------------------------- network_map

def test_network_map_draws_every_node_and_relation(planta):
    u = planta.by("unit")
    b = icnet.bottlenecks(u).assign(is_bottleneck=lambda d: d.node == "Informatica")
    ax = plot.network_map(planta, bottlenecks=b)
    assert len(ax.collections[0].get_offsets()) == len(u.node_ids) == 10
    assert len(ax.patches) == len(u.edges)
    widths = ax.collections[0].get_linewidths()
    assert sorted(widths)[-1] == 3.5 and sorted(widths)[-2] == 1.0   # one red ring
    assert {t.get_text() for t in ax.texts} == set(u.node_ids)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["bottleneck",
                                                                    "conflict cycle"]
    assert len(ax.figure.axes) == 2                                  # the colour bar
    assert "satisfaction" in ax.figure.axes[1].get_ylabel()


def test_network_map_dashes_cycle_edges():
    net = icnet.datasets.toy()
    c = icnet.conflict_cycles(net, level="unit")
    ax = plot.network_map(net, cycles=c, min_group_size=1)
    dashed = [p for p in ax.patches if p.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == 2


def test_network_map_greys_small_groups_and_is_deterministic():
    net = icnet.datasets.toy()
    grey = (0.62, 0.62, 0.62, 1.0)
    ax = plot.network_map(net, min_group_size=1)
    assert not any(np.allclose(p.get_edgecolor()[:3], grey[:3]) for p in ax.patches)
    xy = ax.collections[0].get_offsets().copy()
    ax2 = plot.network_map(net, min_group_size=50)          # nobody has 50 raters
    assert all(np.allclose(p.get_edgecolor()[:3], grey[:3]) for p in ax2.patches)
    assert np.allclose(xy, ax2.collections[0].get_offsets())  # same seed, same layout
    ax3 = plot.network_map(net, min_group_size=1, seed=1)
    assert not np.allclose(xy, ax3.collections[0].get_offsets())


def test_network_map_bounds_edges_and_min_events():
    net = icnet.datasets.toy()
    ax = plot.network_map(net, max_edges=3, min_group_size=1)
    assert len(ax.patches) == 3 and "3 busiest" in ax.get_title()
    ax = plot.network_map(net, min_events=60, min_group_size=1)
    assert len(ax.patches) == (net.by("unit").edges["n_events"] >= 60).sum() == 5


def test_network_map_layout_for_forty_units():
    rng = np.random.default_rng(1)
    units = [f"U{i:02d}" for i in range(40)]
    p, c = rng.integers(0, 40, 400), rng.integers(0, 40, 400)
    keep = p != c
    ev = pd.DataFrame({"provider": np.array(units)[p[keep]], "client": np.array(units)[c[keep]],
                       "satisfaction": rng.integers(1, 6, keep.sum())})
    ax = plot.network_map(icnet.from_events(ev), level=None, min_group_size=1)
    xy = ax.collections[0].get_offsets()
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) + np.eye(40)
    assert len(xy) == 40 and d.min() > 0.02                 # no two nodes on top of each other


# ---------------------------------------------------------------- heatmap

def test_heatmap_cells_and_suppression():
    net = icnet.datasets.toy()
    ax = plot.satisfaction_heatmap(net, min_group_size=1)
    arr = ax.images[0].get_array()
    u = net.by("unit")
    assert arr.shape == (5, 5) and (~arr.mask).sum() == len(u.edges)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(u.node_ids)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(u.node_ids)
    assert not any(t.get_text() == "×" for t in ax.texts)
    ax = plot.satisfaction_heatmap(net, min_group_size=4)   # toy units have ≤ 3 raters
    assert ax.images[0].get_array().mask.all()
    assert sum(t.get_text() == "×" for t in ax.texts) == len(u.edges)


def test_heatmap_hides_a_group_of_four_raters():
    net = four_raters()
    ax = plot.satisfaction_heatmap(net, min_group_size=5)
    ids = list(net.by("unit").node_ids)
    arr = ax.images[0].get_array()
    hub, four, six = ids.index("Hub"), ids.index("Four"), ids.index("Six")
    assert arr.mask[hub, four] and arr.mask[four, hub] and arr.mask[six, four]  # 4 raters
    assert not arr.mask[hub, six]                            # 6 raters: shown
    assert sum(t.get_text() == "×" for t in ax.texts) == 3
    arr4 = plot.satisfaction_heatmap(net, min_group_size=4).images[0].get_array()
    assert not arr4.mask[hub, four] and arr4[hub, four] < 2.5


def test_suppressed_edges_table():
    e = plot.suppressed_edges(four_raters().by("unit"), min_group_size=5)
    row = e.set_index(["provider", "client"])
    assert row.loc[("Hub", "Four"), "n_raters"] == 4
    assert row.loc[("Hub", "Four"), "sign"] == "suppressed"
    assert np.isnan(row.loc[("Hub", "Four"), "satisfaction_shrunk"])
    assert row.loc[("Hub", "Six"), "satisfaction_mean"] == pytest.approx(13 / 3)


# ---------------------------------------------------------------- components

def test_bottleneck_components(planta):
    b = icnet.bottlenecks(planta)
    ax = plot.bottleneck_components(b, top=5)
    assert len(ax.containers) == 6 and all(len(c) == 5 for c in ax.containers)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == f"{b.loc[0, 'node']} ⚑" and sum("⚑" in x for x in labels) == \
        b.head(5)["is_bottleneck"].sum()
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "dependence"
    widths = [r.get_width() for r in ax.containers[0]]
    assert widths[0] == pytest.approx(b["dependence"].rank(pct=True).iloc[0])


# ---------------------------------------------------------------- spiral

def _x(v):
    if isinstance(v, (int, float, np.floating)):
        return pd.Timestamp(mdates.num2date(v).replace(tzinfo=None))
    return pd.Timestamp(v)


def test_spiral_timeline_marks_onset_and_chain(planta):
    ax = plot.spiral_timeline(planta, "P0009", "P0070", individuals=True)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["P0009 → P0070", "P0070 → P0009", "bad service"]
    assert labels[-1] == "onset" and labels[-2].startswith("escalation chain (")
    onset = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(onset) == 1
    assert abs((_x(onset[0].get_xdata()[0]) - pd.Timestamp("2025-05-01 10:00")).days) <= 3
    tl = icnet.spiral_timeline(planta, "P0009", "P0070", individuals=True)
    pts = sum(len(c.get_offsets()) for c in ax.collections[:2])
    assert pts == len(tl) and len(ax.collections[2].get_offsets()) == tl["is_bad"].sum()


def test_spiral_timeline_given_onset():
    ax = plot.spiral_timeline(icnet.datasets.toy(), "Produccion", "Calidad", level="unit",
                              onset="2025-03-01", min_group_size=2)
    onset = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert _x(onset[0].get_xdata()[0]) == pd.Timestamp("2025-03-01")


# ---------------------------------------------------------------- health trend

def test_health_trend_lines(planta):
    ax = plot.health_trend(planta)
    assert len(ax.get_lines()) == 10
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"2025 Q{q}" for q in (1, 2, 3, 4)]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == \
        sorted(planta.people["unit"].unique())
    ax = plot.health_trend(planta, freq="MS")
    assert ax.get_xticklabels()[0].get_text() == "2025-01" and len(ax.get_xticks()) == 12


def test_health_trend_suppresses_small_groups():
    net = four_raters()
    ax = plot.health_trend(net, freq="MS", min_group_size=5)
    y = {ln.get_label(): ln.get_ydata() for ln in ax.get_lines()}
    assert np.isnan(y["Four"]).all() and np.isfinite(y["Hub"]).any()
    ax = plot.health_trend(net, freq="MS", min_group_size=4)
    assert np.isfinite(ax.get_lines()[0].get_ydata()).any()


# ---------------------------------------------------------------- axes handling, errors

def test_draws_into_a_given_axes_without_new_figures():
    fig, axes = plt.subplots(1, 2)
    before = len(plt.get_fignums())
    out = plot.satisfaction_heatmap(icnet.datasets.toy(), ax=axes[1], min_group_size=1)
    out2 = plot.network_map(icnet.datasets.toy(), ax=axes[0])
    assert out is axes[1] and out2 is axes[0] and len(plt.get_fignums()) == before


@pytest.mark.parametrize("call, match", [
    (lambda n: plot.network_map(n, min_events=0), "'min_events' parameter must be >= 1"),
    (lambda n: plot.network_map(n, max_edges=0), "'max_edges' parameter must be >= 1"),
    (lambda n: plot.network_map(n, seed=-1), "'seed' parameter must be >= 0"),
    (lambda n: plot.network_map(n, bottlenecks=pd.DataFrame({"node": []})),
     r"'bottlenecks' table lacks column\(s\) \['is_bottleneck'\]"),
    (lambda n: plot.network_map(n, cycles=[("a", "b")]),
     "'conflict_cycles' parameter must be a DataFrame; got list"),
    (lambda n: plot.satisfaction_heatmap(n, min_group_size=0),
     "'min_group_size' parameter must be >= 1"),
    (lambda n: plot.bottleneck_components(n, top=0), "'top' parameter must be >= 1"),
    (lambda n: plot.bottleneck_components(pd.DataFrame({"node": ["a"]})),
     "'bottlenecks' table lacks column"),
    (lambda n: plot.spiral_timeline(n, "ana", "nobody"), "'nobody' is not a node"),
    (lambda n: plot.spiral_timeline(n, "ana", "dario", window_days=0),
     "'window_days' parameter must be > 0"),
    (lambda n: plot.health_trend(n, freq="fortnight"), "'freq' parameter must be a pandas"),
    (lambda n: plot.health_trend(n, freq=3), "'freq' parameter must be a pandas"),
    (lambda n: plot.health_trend(n, min_group_size=1.5), "'min_group_size' parameter must be"),
    (lambda n: plot.network_map("net"), "Expected an icnet.ServiceNetwork"),
])
def test_error_messages(call, match):
    with pytest.raises(icnet.ParameterError, match=match):
        call(icnet.datasets.toy())


def test_health_trend_without_dates():
    ev = pd.DataFrame({"provider": ["a", "b"], "client": ["b", "a"], "satisfaction": [3, 4]})
    ax = plot.health_trend(icnet.from_events(ev))
    assert len(ax.get_lines()) == 0 and "no trend" in ax.get_title()


def test_spiral_timeline_draws_no_individual_ratings_unless_asked(planta):
    """#20: the figure drew each person's rating residuals without individuals=True."""
    ax = plot.spiral_timeline(planta, "P0009", "P0070")
    ys = np.concatenate([np.asarray(c.get_offsets())[:, 1] for c in ax.collections[:2]])
    assert len(ys) and np.isnan(ys).all()


def test_scoreboard_draws_each_share_bound_against_its_value():
    board = pd.DataFrame({
        "detector": ["spirals"] * 5, "scenario": ["lock_in", "lock_in", "lock_in", "baseline",
                                                  "baseline"],
        "n_people": 150, "metric": ["recall", "initiator right (of found)",
                                    "median onset error (days)", "orgs with false spiral",
                                    "share p <= 0.05"],
        "value": [0.78, 0.85, 0.5, 0.02, 0.04], "low": [0.72, 0.77, np.nan, 0.0, 0.03],
        "high": [0.84, 0.9, np.nan, 0.09, 0.05],
        "bound": [">= 0.9", ">= 0.8", "<= 14", "<= 0.05", ""],
        "passed": ["NO", "yes", "yes", "yes", ""]})
    ax = plot.scoreboard(board)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["spirals · lock_in · 150 · recall",
                      "spirals · lock_in · 150 · initiator right (of found)"]
    red = [c for c in ax.containers if c.get_label() == "not met"]
    blue = [c for c in ax.containers if c.get_label() == "bound met"]
    assert len(red[0].lines[0].get_xdata()) == 1 and len(blue[0].lines[0].get_xdata()) == 1
    assert red[0].lines[0].get_xdata()[0] == pytest.approx(0.78)
    # the bounds are drawn where they are, one per row
    assert list(ax.collections[-1].get_offsets()[:, 0]) == [0.9, 0.8]
    plt.close(ax.figure)
    ax = plot.scoreboard(board, which="at most")   # the day bound is not a share: left out
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "spirals · baseline · 150 · orgs with false spiral"]
    assert [c.get_label() for c in ax.containers] == ["bound met"]
    plt.close(ax.figure)


def test_scoreboard_errors():
    with pytest.raises(icnet.errors.ParameterError, match=r"'board' table lacks column.*"
                                                          r"validity\.scoreboard\.scoreboard"):
        plot.scoreboard(pd.DataFrame({"detector": ["x"]}))
    with pytest.raises(icnet.errors.ParameterError, match="'board' parameter must be"):
        plot.scoreboard([1, 2])
    board = pd.DataFrame({"detector": ["spirals"], "scenario": ["a"], "n_people": [1],
                          "metric": ["recall"], "value": [0.5], "low": [0.4], "high": [0.6],
                          "bound": [">= 0.9"], "passed": ["NO"]})
    with pytest.raises(icnet.errors.ParameterError, match="which"):
        plot.scoreboard(board, which="above")
    with pytest.raises(icnet.errors.ParameterError, match="No row"):
        plot.scoreboard(board, detectors=["bottlenecks"])
    with pytest.raises(icnet.errors.ParameterError, match="No row"):
        plot.scoreboard(board, which="at most")


def test_scoreboard_on_a_real_board():
    # the board of the validity suite: every failed share floor is drawn red
    from icnet.validity import generate, scoreboard as sb
    recs = pd.concat([sb.score_organisation(generate(n, n_people=150, seed=150000 + i),
                                            detectors=["bottlenecks"])
                      for n in ("deep_chain", "baseline") for i in range(2)])
    board = sb.scoreboard(recs)
    ax = plot.scoreboard(board)
    floors = board["bound"].str.startswith(">=")
    assert len(ax.get_yticklabels()) == int(floors.sum()) >= 2
    n_miss = sum(len(c.lines[0].get_xdata()) for c in ax.containers
                 if c.get_label() == "not met")
    assert n_miss == int((floors & board["passed"].eq("NO")).sum())
    plt.close(ax.figure)
    ax = plot.scoreboard(board, which="at most")
    assert len(ax.get_yticklabels()) == int(board["bound"].str.startswith("<=").sum()) >= 1
    plt.close(ax.figure)
