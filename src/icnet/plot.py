"""Figures: the unit map, the satisfaction matrix, bottleneck components, a spiral, trends.

Every function returns the matplotlib Axes it drew on, takes ``ax=`` to draw
into an existing figure, and never calls ``plt.show()``. ``import icnet``
does not import this module (nor matplotlib); ``icnet.plot`` does on first use.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import icnet
>>> ax = icnet.plot.satisfaction_heatmap(icnet.datasets.toy(), min_group_size=1)
>>> ax.get_xlabel()
'client'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _validate
from .privacy import MIN_GROUP_SIZE

__all__ = ["network_map", "satisfaction_heatmap", "bottleneck_components", "spiral_timeline",
           "health_trend"]


def _axes(ax, size=(7, 5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _unit_net(net, level):
    net = _validate.network(net)
    return _validate.level(net, level) if level else net


def _layout(nodes, edges, seed):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_weighted_edges_from((p, c, 1.0) for p, c in edges)
    if len(nodes) <= 40 and g.number_of_edges():
        start = nx.circular_layout(sorted(nodes))
        return nx.spring_layout(g, pos=start, seed=seed, k=2.0 / np.sqrt(max(len(nodes), 1)),
                                iterations=200)
    return nx.circular_layout(sorted(nodes))


def network_map(net, *, level: str | None = "unit", bottlenecks=None, cycles=None, ax=None,
                seed: int = 0, min_events: int = 1):
    """The map of who serves whom: nodes sized by demand, edges coloured by satisfaction.

    Parameters
    ----------
    net : ServiceNetwork
    level : str or None, default "unit"
    bottlenecks : DataFrame, optional
        From :func:`icnet.bottlenecks` (same level); flagged nodes get a red ring.
    cycles : DataFrame, optional
        From :func:`icnet.conflict_cycles` (same level); their edges are drawn dashed.
    ax : matplotlib Axes, optional
    seed : int
        Layout seed (deterministic).
    min_events : int, default 1
        Hide relations with fewer events.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` holds one marker per node; one arrow patch per
        relation is in ``ax.patches``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = network_map(icnet.datasets.toy())
    >>> len(ax.collections[0].get_offsets()), len(ax.patches)
    (5, 10)
    """
    import matplotlib as mpl
    from matplotlib.patches import FancyArrowPatch

    u = _unit_net(net, level)
    e = u.edges[u.edges["n_events"] >= min_events]
    nodes = list(u.node_ids)
    pos = _layout(nodes, zip(e["provider"], e["client"]), seed)
    ax = _axes(ax, (8, 6.5))
    vol = u.nodes.set_index("node")[["n_in", "n_out"]].sum(axis=1).reindex(nodes).fillna(0)
    size = 200 + 1800 * (vol / max(vol.max(), 1)) ** 0.5
    flagged = set()
    if bottlenecks is not None and len(bottlenecks):
        flagged = set(bottlenecks.loc[bottlenecks["is_bottleneck"], "node"])
    xy = np.array([pos[n] for n in nodes])
    ax.scatter(xy[:, 0], xy[:, 1], s=size.to_numpy(), c="#dfe6ee", zorder=3,
               edgecolors=["#c62828" if n in flagged else "#455a64" for n in nodes],
               linewidths=[3.5 if n in flagged else 1.0 for n in nodes])
    cyc_edges = set()
    if cycles is not None and len(cycles):
        for edges in cycles["edges"]:
            cyc_edges |= set(edges)
    lo, hi = u.scale
    cmap = mpl.colormaps["RdYlGn"]
    norm = mpl.colors.Normalize(lo, hi)
    wmax = max(e["n_events"].max(), 1) if len(e) else 1
    for r in e.itertuples():
        s = r.satisfaction_shrunk
        color = cmap(norm(s)) if np.isfinite(s) else (0.6, 0.6, 0.6, 1)
        arrow = FancyArrowPatch(pos[r.provider], pos[r.client], arrowstyle="-|>",
                                mutation_scale=12, connectionstyle="arc3,rad=0.12",
                                lw=0.8 + 5 * np.sqrt(r.n_events / wmax), color=color,
                                linestyle="--" if (r.provider, r.client) in cyc_edges else "-",
                                shrinkA=14, shrinkB=14, zorder=2, alpha=0.9)
        ax.add_patch(arrow)
    for n, (x, y) in zip(nodes, xy):
        ax.text(x, y, str(n), ha="center", va="center", fontsize=8, zorder=4)
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    ax.figure.colorbar(sm, ax=ax, fraction=0.04, pad=0.02, label="satisfaction (shrunk)")
    handles = [mpl.lines.Line2D([], [], marker="o", ls="", mfc="#dfe6ee", mec="#c62828",
                                mew=3, ms=10, label="bottleneck"),
               mpl.lines.Line2D([], [], color="k", ls="--", label="conflict cycle")]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    ax.set_title(f"Who serves whom ({u.level} level): size = demand, colour = satisfaction")
    ax.set_axis_off()
    ax.margins(0.12)
    return ax


def satisfaction_heatmap(net, *, level: str | None = "unit",
                         min_group_size: int = MIN_GROUP_SIZE, ax=None):
    """The provider × client satisfaction matrix (shrunk), small groups marked as suppressed.

    Parameters
    ----------
    net : ServiceNetwork
    level : str or None, default "unit"
    min_group_size : int, default 5
        Cells rated by fewer distinct people are blanked and marked "×".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the matrix (a masked array: suppressed and
        empty cells are masked); suppressed cells carry an "×" text.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = satisfaction_heatmap(icnet.datasets.toy(), min_group_size=1)
    >>> ax.images[0].get_array().shape
    (5, 5)
    """
    import matplotlib as mpl

    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    u = _unit_net(net, level)
    e = u.edges
    ids = list(u.node_ids)
    M = e.pivot(index="provider", columns="client", values="satisfaction_shrunk") \
        .reindex(index=ids, columns=ids)
    ev = u.events
    rater = "client_person" if ev is not None and "client_person" in ev else "client"
    if ev is not None and "satisfaction" in ev:
        r = ev[ev["satisfaction"].notna()]
        nr = r.groupby(["provider", "client"], observed=True)[rater].nunique()
        N = nr.unstack().reindex(index=ids, columns=ids).fillna(0)
    else:
        N = pd.DataFrame(np.inf, index=ids, columns=ids)
    small = (N.to_numpy() < min_group_size) & M.notna().to_numpy()
    data = np.ma.masked_array(M.to_numpy(float), mask=~np.isfinite(M.to_numpy(float)) | small)
    ax = _axes(ax, (1.2 + 0.55 * len(ids), 1 + 0.5 * len(ids)))
    lo, hi = u.scale
    im = ax.imshow(data, cmap=mpl.colormaps["RdYlGn"], vmin=lo, vmax=hi)
    for i in range(len(ids)):
        for j in range(len(ids)):
            if small[i, j]:
                ax.text(j, i, "×", ha="center", va="center", color="0.4", fontsize=9)
            elif not data.mask[i, j]:
                ax.text(j, i, f"{data[i, j]:.1f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(ids)), ids, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(ids)), ids, fontsize=8)
    ax.set_xlabel("client")
    ax.set_ylabel("provider")
    ax.set_title(f"Satisfaction, provider → client (× = fewer than {min_group_size} raters)")
    ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    return ax


_COMPONENTS = ["dependence", "structural", "delay_excess", "delay_trend", "backlog_growth",
               "waiting_share"]


def bottleneck_components(data, *, top: int = 10, level: str | None = "unit", ax=None):
    """Each bottleneck component (as a percentile rank) for the top providers.

    Parameters
    ----------
    data : DataFrame from :func:`icnet.bottlenecks`, or a ServiceNetwork
    top : int, default 10
    level : str, default "unit" (when ``data`` is a network)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per component (``ax.containers``), ``top`` bars each.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = bottleneck_components(icnet.datasets.toy(), top=3)
    >>> len(ax.containers), len(ax.containers[0])
    (6, 3)
    """
    if not isinstance(data, pd.DataFrame):
        from .analysis.bottlenecks import bottlenecks

        data = bottlenecks(data, level=level)
    _validate.in_range("top", top, low=1, integer=True)
    b = data.head(top)
    ranks = data[_COMPONENTS].rank(pct=True).loc[b.index].fillna(0)
    ax = _axes(ax, (8, 0.5 + 0.45 * len(b) * 1.6))
    y = np.arange(len(b))
    h = 0.8 / len(_COMPONENTS)
    for k, comp in enumerate(_COMPONENTS):
        ax.barh(y + k * h, ranks[comp].to_numpy(), height=h, label=comp.replace("_", " "))
    ax.set_yticks(y + 0.4 - h / 2, [f"{n}{' ⚑' if f else ''}" for n, f in
                                    zip(b["node"], b["is_bottleneck"])], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("percentile rank among providers (1 = most)")
    ax.set_title("Bottleneck components (⚑ = flagged)")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def spiral_timeline(net, a, b, *, ax=None, level: str | None = None):
    """Both directions' service quality over time, bad turns and the onset marked.

    Returns
    -------
    matplotlib.axes.Axes
        Two scatter collections (one per direction); bad events drawn again as
        crosses; a vertical line at the onset (first alternating bad turn).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = spiral_timeline(icnet.datasets.toy(), "ana", "dario")
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:2]
    ['ana → dario', 'dario → ana']
    """
    from .analysis.spirals import spiral_timeline as table

    tl = table(net, a, b, level=level)
    ax = _axes(ax, (9, 4))
    colors = {"a→b": "#1565c0", "b→a": "#ef6c00"}
    names = {"a→b": f"{a} → {b}", "b→a": f"{b} → {a}"}
    for d in ("a→b", "b→a"):
        s = tl[tl["direction"] == d]
        ax.scatter(s["requested_at"], s["z"], s=12, color=colors[d], alpha=0.6, label=names[d])
    bad = tl[tl["is_bad"]]
    ax.scatter(bad["requested_at"], bad["z"], marker="x", s=40, color="#b71c1c",
               label="bad service")
    turns = tl[tl["turn"] > 0]
    if len(turns):
        ax.plot(turns["requested_at"], turns["z"], color="#b71c1c", lw=0.8, alpha=0.5)
        onset = turns.loc[turns["turn"] == 1, "requested_at"]
        chain = turns[turns["turn"] >= 3]
        if len(chain):
            onset = turns.loc[(turns["turn"] == 1) &
                              (turns["requested_at"] <= chain["requested_at"].iloc[0]),
                              "requested_at"]
        if len(onset):
            ax.axvline(onset.iloc[-1], color="k", ls=":", lw=1.2, label="onset")
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_ylabel("service quality residual (SD)")
    ax.set_title(f"Exchanges between {a} and {b}")
    ax.legend(fontsize=8, loc="lower left")
    return ax


def health_trend(net, *, freq: str = "QS", ax=None, min_group_size: int = MIN_GROUP_SIZE):
    """Served satisfaction per unit over periods (suppressed where too few raters).

    Returns
    -------
    matplotlib.axes.Axes
        One line per unit (``ax.get_lines()``), labelled by unit.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = health_trend(icnet.datasets.toy(), min_group_size=1)
    >>> len(ax.get_lines())
    5
    """
    u = _unit_net(net, "unit")
    ev = u.events
    ax = _axes(ax, (8, 4.5))
    if ev is None or "satisfaction" not in ev or "requested_at" not in ev:
        ax.set_title("no dated satisfaction data: no trend to show")
        return ax
    r = ev[ev["satisfaction"].notna()]
    per = r["requested_at"].dt.to_period(freq.rstrip("S") or "Q").dt.start_time
    rater = "client_person" if "client_person" in r else "client"
    g = r.groupby([per.rename("period"), r["provider"].astype(object).rename("unit")])
    m = g["satisfaction"].mean().where(g[rater].nunique() >= min_group_size).unstack()
    for unit in m.columns:
        ax.plot(m.index, m[unit], marker="o", ms=3, label=str(unit))
    ax.set_ylabel("mean satisfaction of the service given")
    ax.set_title("Served quality per unit")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return ax
