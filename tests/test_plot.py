"""Figures: check what was drawn (Agg backend set in conftest.py)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import icnet
from icnet import plot


@pytest.fixture(scope="module")
def planta():
    return icnet.datasets.load("planta")


def test_network_map_draws_every_node_and_relation(planta):
    u = planta.by("unit")
    b = icnet.bottlenecks(u).assign(is_bottleneck=lambda d: d.node == "Informatica")
    ax = plot.network_map(planta, bottlenecks=b)
    assert len(ax.collections[0].get_offsets()) == len(u.node_ids) == 10
    assert len(ax.patches) == len(u.edges)
    widths = ax.collections[0].get_linewidths()
    assert sorted(widths)[-1] == 3.5 and sorted(widths)[-2] == 1.0   # one red ring
    assert {t.get_text() for t in ax.texts} >= set(u.node_ids)
    plt.close(ax.figure)


def test_network_map_dashes_cycle_edges():
    net = icnet.datasets.toy()
    c = icnet.conflict_cycles(net, level="unit")
    ax = plot.network_map(net, cycles=c)
    dashed = [p for p in ax.patches if p.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == 2
    plt.close(ax.figure)


def test_heatmap_cells_and_suppression():
    net = icnet.datasets.toy()
    ax = plot.satisfaction_heatmap(net, min_group_size=1)
    arr = ax.images[0].get_array()
    assert arr.shape == (5, 5) and (~arr.mask).sum() == len(net.by("unit").edges)
    plt.close(ax.figure)
    ax = plot.satisfaction_heatmap(net, min_group_size=4)   # toy units have ≤ 3 raters
    assert ax.images[0].get_array().mask.all()
    assert any(t.get_text() == "×" for t in ax.texts)
    plt.close(ax.figure)


def test_bottleneck_components(planta):
    ax = plot.bottleneck_components(icnet.bottlenecks(planta), top=5)
    assert len(ax.containers) == 6 and all(len(c) == 5 for c in ax.containers)
    assert any("⚑" in t.get_text() for t in ax.get_yticklabels())
    plt.close(ax.figure)


def test_spiral_timeline_marks_onset(planta):
    ax = plot.spiral_timeline(planta, "P0009", "P0070")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["P0009 → P0070", "P0070 → P0009"] and "onset" in labels
    onset = [l for l in ax.get_lines() if l.get_linestyle() == ":"][0]
    x = onset.get_xdata()[0]
    if isinstance(x, (int, float, np.floating)):
        import matplotlib.dates as mdates
        x = mdates.num2date(x).replace(tzinfo=None)
    assert abs((pd.Timestamp(x) - pd.Timestamp("2025-05-01 10:00")).days) <= 14
    plt.close(ax.figure)


def test_health_trend_lines(planta):
    ax = plot.health_trend(planta)
    assert len(ax.get_lines()) == 10
    plt.close(ax.figure)


def test_draws_into_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = plot.satisfaction_heatmap(icnet.datasets.toy(), ax=axes[1], min_group_size=1)
    assert out is axes[1] and len(axes[0].images) == 0
    plt.close(fig)
