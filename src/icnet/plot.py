"""Figures: the unit map, the satisfaction matrix, bottleneck components, a spiral, trends,
and the validity scoreboard's bounds.

Every function returns the matplotlib Axes it drew on, takes ``ax=`` to draw
into an existing figure (a new figure is made only when ``ax`` is None), never
sets a backend and never calls ``plt.show()``. ``import icnet`` does not import
this module (nor matplotlib); ``icnet.plot`` does on first use.

Survey-derived colours and numbers (satisfaction) are hidden for relations
rated by fewer than ``min_group_size`` distinct people, as everywhere in icnet
(:func:`icnet.privacy.suppress`).

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
from .analysis import _ratings
from .errors import ParameterError
from .privacy import MIN_GROUP_SIZE, SURVEY_EDGE_COLUMNS, suppress

__all__ = ["network_map", "satisfaction_heatmap", "bottleneck_components", "spiral_timeline",
           "health_trend", "scoreboard"]

_SURVEY_COLUMNS = SURVEY_EDGE_COLUMNS    # means, SDs, intervals, a rater's SD, n_eff, lfsr


def _axes(ax, size=(7, 5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _lit(text) -> str:
    """``text`` shown literally: a ``$`` in a name must not start matplotlib mathtext
    (a unit called ``$$`` crashed the report)."""
    return str(text).replace("$", r"\$")


def _at_level(net, level):
    net = _validate.network(net)
    return _validate.level(net, level)


def _raters(net) -> pd.Series:
    """Distinct raters behind each relation's satisfaction, indexed by (provider, client).

    At unit level the raters are the client people; at person level the client
    itself (one rater). A network built from an edge list has no rater ids: the
    number of ratings (``satisfaction_n``) stands in for it.
    """
    e = net._edges
    idx = pd.MultiIndex.from_arrays([e["provider"].astype(object), e["client"].astype(object)])
    s = _ratings.summary(net) if net.has_events else None
    if s is None:
        return pd.Series(e["satisfaction_n"].fillna(0).to_numpy(float), index=idx)
    return s.relations["n_raters"].reindex(idx).fillna(0).astype(float)


def suppressed_edges(net, *, min_group_size: int = MIN_GROUP_SIZE) -> pd.DataFrame:
    """``net.edges`` with its survey figures blanked where fewer than ``min_group_size`` rated.

    Adds ``n_raters`` (distinct client people who rated the relation) and
    ``suppressed`` (bool); ``sign`` becomes ``"suppressed"`` on those rows.
    Used by the map, the matrix and the report's ``edges.csv``.

    Examples
    --------
    >>> import icnet
    >>> e = suppressed_edges(icnet.datasets.toy().by("unit"), min_group_size=3)
    >>> int(e["suppressed"].sum()), bool(e.loc[e.suppressed, "satisfaction_mean"].isna().all())
    (8, True)
    """
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    e = net._edges.copy()
    e["n_raters"] = _raters(net).to_numpy()
    out = suppress(e, "n_raters", _SURVEY_COLUMNS, min_group_size=min_group_size)
    out["sign"] = out["sign"].astype(object).where(~out["suppressed"], "suppressed")
    return out


def _layout(nodes, edges, seed):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    start = nx.circular_layout(sorted(nodes))
    if g.number_of_edges() == 0 or len(nodes) < 3:
        return start
    rng = np.random.default_rng(seed)
    jitter = rng.normal(0.0, 0.05, size=(len(start), 2))
    start = {n: p + j for (n, p), j in zip(sorted(start.items()), jitter)}
    alone = sorted(n for n in nodes if g.degree(n) == 0)   # kept on the circle, not flung out
    return nx.spring_layout(g, pos=start, fixed=alone or None, seed=seed,
                            k=2.2 / np.sqrt(len(nodes)), iterations=200)


def _check_table(name, df, columns):
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"The '{name}' parameter must be a DataFrame; "
                             f"got {type(df).__name__}.")
    missing = [c for c in columns if c not in df]
    if missing:
        raise ParameterError(f"The '{name}' table lacks column(s) {missing}; pass the table "
                             f"returned by icnet.{name} (or icnet.conflict_cycles).")


def network_map(net, *, level: str | None = "unit", bottlenecks=None, cycles=None, ax=None,
                seed: int = 0, min_events: int = 1, min_group_size: int = MIN_GROUP_SIZE,
                max_edges: int | None = None):
    """The map of who serves whom: nodes sized by demand, relations coloured by satisfaction.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str or None, default "unit"
        Aggregate to this level first (None keeps the network's level).
    bottlenecks : DataFrame, optional
        From :func:`icnet.bottlenecks` at the same level (columns ``node``,
        ``is_bottleneck``); flagged nodes get a thick red ring.
    cycles : DataFrame, optional
        From :func:`icnet.conflict_cycles` at the same level (column ``edges``,
        tuples of ``(provider, client)``); those relations are drawn dashed.
        Pairs that are not relations of the map are ignored.
    ax : matplotlib Axes, optional
    seed : int, default 0
        Seed of the spring layout (same seed → same picture).
    min_events : int, default 1
        Relations with fewer events are not drawn.
    min_group_size : int, default 5
        Relations rated by fewer distinct people are drawn grey (satisfaction
        suppressed).
    max_edges : int, optional
        Draw at most this many relations, the busiest first (default
        :math:`\\max(80, 6n)` for *n* nodes, at most 400: a bounded, readable
        picture).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` holds one marker per node (its area ∝ √demand);
        one arrow patch per drawn relation is in ``ax.patches`` (width ∝
        √events, colour = shrunk satisfaction on the rating scale, grey when
        suppressed or unrated); one text label per node (beyond 40 nodes only
        the flagged and the 20 busiest); a colour bar and a legend of the
        highlights. The layout uses every relation with ``min_events``, drawn
        or not; nodes without any stay on the starting circle.

    Raises
    ------
    ParameterError
        Not a network; bad ``min_events``, ``min_group_size`` or ``max_edges``;
        ``bottlenecks``/``cycles`` not the tables of those functions.

    See Also
    --------
    icnet.bottlenecks, icnet.conflict_cycles, satisfaction_heatmap

    Notes
    -----
    Demand of node *i* is :math:`n^{in}_i + n^{out}_i` (events received and
    given); marker area :math:`f\\,(200 + 1800\\sqrt{d_i/\\max d})` pt² with
    :math:`f=\\min(1, 15/n)`. Arrow width
    :math:`0.8 + 5\\sqrt{n_{ij}/\\max n}`. The layout is a Fruchterman–Reingold
    spring layout started from the circular layout of the sorted node ids
    jittered by ``numpy.random.default_rng(seed)`` (SD 0.05), so it depends
    only on the relations and ``seed``. The colour scale is
    diverging around ``net.threshold`` (red below, green above).

    References
    ----------
    Fruchterman, T. M. J. & Reingold, E. M. (1991). Graph drawing by
    force-directed placement. *Software: Practice and Experience* 21(11),
    1129–1164.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = network_map(icnet.datasets.toy(), min_group_size=1)
    >>> len(ax.collections[0].get_offsets()), len(ax.patches)
    (5, 10)
    """
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    u = _at_level(net, level)
    _validate.in_range("min_events", min_events, low=1, integer=True)
    if max_edges is not None:
        _validate.in_range("max_edges", max_edges, low=1, integer=True)
    _validate.in_range("seed", seed, low=0, integer=True)
    e = suppressed_edges(u, min_group_size=min_group_size)
    e = e_all = e[e["n_events"] >= min_events]
    if max_edges is None:
        max_edges = min(400, max(80, 6 * len(u.node_ids)))
    n_hidden = max(len(e) - max_edges, 0)
    if n_hidden:
        e = e.sort_values(["n_events", "provider", "client"], ascending=[False, True, True],
                          kind="mergesort").head(max_edges)
    flagged = set()
    if bottlenecks is not None:
        _check_table("bottlenecks", bottlenecks, ["node", "is_bottleneck"])
        flagged = set(bottlenecks.loc[bottlenecks["is_bottleneck"].astype(bool), "node"])
    cyc_edges = set()
    if cycles is not None:
        _check_table("conflict_cycles", cycles, ["edges"])
        for edges in cycles["edges"]:     # a handful of cycles
            cyc_edges |= {tuple(x) for x in edges}

    nodes = [str(n) for n in u.node_ids]
    prov, cli = e["provider"].astype(str).to_numpy(), e["client"].astype(str).to_numpy()
    every = e_all[["provider", "client"]].astype(str).to_numpy()
    pos = _layout(nodes, map(tuple, every), seed)          # all relations shape the layout
    n = len(nodes)
    ax = _axes(ax, (9, 7) if n <= 15 else (12, 9.5))
    vol = u.nodes.set_index("node")[["n_in", "n_out"]].sum(axis=1)
    vol.index = vol.index.astype(str)
    vol = vol.reindex(nodes).fillna(0).to_numpy(float)
    f = min(1.0, 15 / max(n, 1))                          # smaller markers for many nodes
    size = f * (200 + 1800 * np.sqrt(vol / max(vol.max(), 1)))
    radius = dict(zip(nodes, np.sqrt(size) / 2))          # points
    xy = np.array([pos[n] for n in nodes])
    ring = np.array([n in flagged for n in nodes])
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c="#e3e9ef", zorder=3,
               edgecolors=np.where(ring, "#c62828", "#455a64").tolist(),
               linewidths=np.where(ring, 3.5, 1.0))

    lo, hi = u.scale
    thr = u.threshold if lo < u.threshold < hi else (lo + hi) / 2
    cmap = mpl.colormaps["RdYlGn"]
    norm = mpl.colors.TwoSlopeNorm(vcenter=thr, vmin=lo, vmax=hi)
    s = e["satisfaction_shrunk"].to_numpy(float)
    colors = np.where(np.isfinite(s)[:, None], cmap(norm(np.nan_to_num(s, nan=thr))),
                      np.array([0.62, 0.62, 0.62, 1.0]))
    width = 0.8 + 5 * np.sqrt(e["n_events"].to_numpy(float) / max(e["n_events"].max(), 1)) \
        if len(e) else np.zeros(0)
    dashed = np.array([(p, c) in cyc_edges for p, c in zip(prov, cli)], dtype=bool)
    for k in range(len(e)):               # one artist per relation (bounded by max_edges)
        ax.add_patch(FancyArrowPatch(
            pos[prov[k]], pos[cli[k]], arrowstyle="-|>", mutation_scale=11,
            connectionstyle="arc3,rad=0.13", lw=width[k], color=colors[k],
            linestyle="--" if dashed[k] else "-", shrinkA=radius[prov[k]] + 1,
            shrinkB=radius[cli[k]] + 2, zorder=2, alpha=0.9))
    labelled = set(nodes)
    if n > 40:                  # label the flagged and the 20 busiest nodes only
        busiest = np.argsort(-vol, kind="stable")[:20]
        labelled = flagged | {nodes[i] for i in busiest}
    for n, (x, y) in zip(nodes, xy):
        if n not in labelled:
            continue
        ax.annotate(_lit(n), (x, y), xytext=(0, -radius[n] - 2), textcoords="offset points",
                    ha="center", va="top", fontsize=8, zorder=5,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    ax.figure.colorbar(sm, ax=ax, fraction=0.035, pad=0.01,
                       label="satisfaction received (shrunk); grey = too few raters")
    handles = [Line2D([], [], marker="o", ls="", mfc="#e3e9ef", mec="#c62828", mew=3, ms=10,
                      label="bottleneck"),
               Line2D([], [], color="k", ls="--", label="conflict cycle")]
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    title = f"Who serves whom ({u.level} level): node size = demand, arrow width = volume"
    if n_hidden:
        title += f"\n(the {max_edges} busiest relations; {n_hidden} smaller ones not drawn)"
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    ax.margins(0.1)
    return ax


def satisfaction_heatmap(net, *, level: str | None = "unit",
                         min_group_size: int = MIN_GROUP_SIZE, ax=None):
    """The provider × client satisfaction matrix (shrunk), small groups marked as suppressed.

    Parameters
    ----------
    net : ServiceNetwork or networkx.DiGraph
    level : str or None, default "unit"
        Aggregate to this level first (None keeps the network's level).
    min_group_size : int, default 5
        Cells rated by fewer distinct people are blanked and marked "×".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the *n* × *n* matrix (rows = providers, columns
        = clients, sorted node ids) as a masked array: suppressed cells and
        pairs without a rated relation are masked. Up to 40 nodes suppressed
        cells carry an "×" text (beyond, a light-grey layer, ``ax.images[1]``);
        shown cells their value (one decimal) up to 25 nodes. Tick labels are
        the node ids (every k-th beyond 60 nodes). The figure is at most
        13 × 11.5 inches.

    Raises
    ------
    ParameterError
        Not a network; bad ``min_group_size``.

    See Also
    --------
    network_map, icnet.service_quality, icnet.privacy.suppress

    Notes
    -----
    Cell :math:`(i, j)` is :math:`\\hat\\theta_{ij}`, the empirical-Bayes shrunk
    mean satisfaction of the service *i* gives *j* (``net.edges``,
    ``satisfaction_shrunk``). It is shown only when
    :math:`r_{ij} \\ge` ``min_group_size``, :math:`r_{ij}` the number of
    distinct people who rated it. Colours are diverging around
    ``net.threshold``. The diagonal (work within a unit) is not shown.

    References
    ----------
    Sweeney, L. (2002). k-anonymity: a model for protecting privacy.
    *Int. J. Uncertainty, Fuzziness and Knowledge-Based Systems* 10(5), 557–570.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = satisfaction_heatmap(icnet.datasets.toy(), min_group_size=1)
    >>> ax.images[0].get_array().shape
    (5, 5)
    """
    import matplotlib as mpl

    u = _at_level(net, level)
    e = suppressed_edges(u, min_group_size=min_group_size)
    ids = [str(n) for n in u.node_ids]
    e = e.assign(provider=e["provider"].astype(str), client=e["client"].astype(str))
    M = e.pivot(index="provider", columns="client", values="satisfaction_shrunk") \
        .reindex(index=ids, columns=ids).to_numpy(float)
    S = e.assign(suppressed=e["suppressed"].astype(float)) \
        .pivot(index="provider", columns="client", values="suppressed") \
        .reindex(index=ids, columns=ids).fillna(0).to_numpy(float) > 0
    small = S & (e.pivot(index="provider", columns="client", values="satisfaction_n")
                 .reindex(index=ids, columns=ids).fillna(0).to_numpy(float) > 0)
    data = np.ma.masked_array(M, mask=~np.isfinite(M) | S)
    n = len(ids)
    ax = _axes(ax, (min(2.2 + 0.5 * n, 13), min(1.6 + 0.45 * n, 11.5)))
    lo, hi = u.scale
    thr = u.threshold if lo < u.threshold < hi else (lo + hi) / 2
    im = ax.imshow(data, cmap=mpl.colormaps["RdYlGn"],
                   norm=mpl.colors.TwoSlopeNorm(vcenter=thr, vmin=lo, vmax=hi))
    fs = 8 if n <= 15 else 6
    if n <= 40:
        for i, j in zip(*np.nonzero(small)):
            ax.text(j, i, "×", ha="center", va="center", color="0.45", fontsize=fs + 1)
    else:                       # too many cells for marks: suppressed cells in light grey
        ax.imshow(np.ma.masked_array(np.ones(small.shape), mask=~small),
                  cmap=mpl.colors.ListedColormap(["#d5d5d5"]), zorder=0)
    if n <= 25:
        for i, j in zip(*np.nonzero(~data.mask)):
            ax.text(j, i, f"{data[i, j]:.1f}", ha="center", va="center", fontsize=fs - 1)
    step = 1 if n <= 60 else int(np.ceil(n / 60))
    ax.set_xticks(range(0, n, step), [_lit(i) for i in ids[::step]], rotation=60, ha="right",
                  fontsize=fs if n <= 40 else 4)
    ax.set_yticks(range(0, n, step), [_lit(i) for i in ids[::step]],
                  fontsize=fs if n <= 40 else 4)
    ax.set_xlabel("client")
    ax.set_ylabel("provider")
    mark = "×" if n <= 40 else "grey"
    ax.set_title(f"Satisfaction, provider → client\n({mark} = fewer than {min_group_size} "
                 "raters, not shown)", fontsize=10)
    ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="shrunk mean satisfaction")
    return ax


_COMPONENTS = ["dependence", "structural", "delay_excess", "delay_trend", "backlog_growth",
               "waiting_share"]


def bottleneck_components(data, *, top: int = 10, level: str | None = "unit", ax=None):
    """Each bottleneck component, as a percentile rank, for the top providers.

    Parameters
    ----------
    data : DataFrame or ServiceNetwork
        The table of :func:`icnet.bottlenecks` (in its order), or a network
        (then ``icnet.bottlenecks(data, level=level)`` is run).
    top : int, default 10
        Number of providers shown (the first rows of the table).
    level : str or None, default "unit"
        Only used when ``data`` is a network.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per component (``ax.containers``, in the order
        dependence, structural, delay excess, delay trend, backlog growth,
        waiting share), each with ``min(top, rows)`` bars; y tick labels are
        the providers, "⚑" marking the flagged ones.

    Raises
    ------
    ParameterError
        Bad ``top``; a table without the component columns.

    See Also
    --------
    icnet.bottlenecks, network_map

    Notes
    -----
    Components have different units (share, events, robust z, log ratio, …),
    so each is shown as its percentile rank among all providers of the table:
    :math:`r_k(i) = \\operatorname{rank}(x_{ik}) / n` (average ties; NaN → 0).

    References
    ----------
    See :func:`icnet.bottlenecks`.

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
    _check_table("bottlenecks", data, ["node", "is_bottleneck"] + _COMPONENTS)
    b = data.head(top)
    ranks = data[_COMPONENTS].rank(pct=True).loc[b.index].fillna(0)
    ax = _axes(ax, (8, 1.2 + 0.75 * len(b)))
    y = np.arange(len(b))
    h = 0.8 / len(_COMPONENTS)
    for k, comp in enumerate(_COMPONENTS):
        ax.barh(y + k * h, ranks[comp].to_numpy(), height=h, label=comp.replace("_", " "))
    ax.set_yticks(y + 0.4 - h / 2, [f"{_lit(n)}{' ⚑' if f else ''}" for n, f in
                                    zip(b["node"], b["is_bottleneck"])], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("percentile rank among providers (1 = highest)")
    ax.set_title("Bottleneck components (⚑ = flagged)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


def spiral_timeline(net, a, b, *, level: str | None = None, onset=None,
                    window_days: float = 14.0, ax=None, spiral=None,
                    individuals: bool = False, min_group_size: int = MIN_GROUP_SIZE):
    """Both directions' service quality over time, bad services, the chain and its onset.

    Parameters
    ----------
    net : ServiceNetwork
        With events.
    a, b : str
        The two nodes (at ``level``).
    level : str, optional
        Aggregate first (``"unit"``: all exchanges between two units).
    onset : timestamp, optional
        Where to draw the onset line (e.g. ``start`` of
        :func:`icnet.retaliation_spirals`); default: the first bad service of
        the longest alternating chain.
    window_days : float, default 14
        Width of the centred rolling mean drawn for each direction.
    ax : matplotlib Axes, optional
    spiral : mapping, optional
        A row of :func:`icnet.retaliation_spirals` (``start``, ``end``,
        ``rounds``): the figure then shows *that* spiral — its span shaded,
        the onset at its ``start`` and the legend ``"retaliation spiral (k
        rounds)"`` (or its ``kind``'s words, e.g. ``"joint drop without turns (k
        rounds)"``) with the table's ``rounds`` — instead of the longest chain
        of this timeline, so the figure and the table give the same count
        (the detector's chains only count very bad turns that do not improve;
        the timeline's chain counts every change of side).
    individuals, min_group_size
        As in :func:`icnet.spiral_timeline`: a direction rated by fewer than
        ``min_group_size`` people (always at person level) draws no residuals
        unless ``individuals=True``.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter per direction (each event's quality residual), a rolling
        mean line per direction, bad services as crosses in the colour of the
        side that gave them, the longest escalation chain as a red line, and a
        dotted vertical line at the onset. Legend labels:
        ``"a → b"``, ``"b → a"``, ``"bad service"``, ``"escalation chain (k
        turns)"`` or, with ``spiral``, ``"retaliation spiral (k rounds)"``,
        ``"onset"`` (the last two only when there is a chain).

    Raises
    ------
    ParameterError
        No events; ``a`` or ``b`` not a node; bad ``window_days``.

    See Also
    --------
    icnet.spiral_timeline : the table drawn here.
    icnet.retaliation_spirals

    Notes
    -----
    The residual :math:`z` removes the provider's, the client's and the
    period's usual quality (see :func:`icnet.retaliation_spirals`); a service
    is bad when :math:`z < -1.5`. Bad services of the two sides separated by
    at most 21 days form a chain; its turns count the changes of side.

    References
    ----------
    Andersson, L. M. & Pearson, C. M. (1999). Tit for tat? The spiraling
    effect of incivility in the workplace. *Academy of Management Review*
    24(3), 452–471.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = spiral_timeline(icnet.datasets.toy(), "ana", "dario", individuals=True)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:2]
    ['ana → dario', 'dario → ana']
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .analysis.spirals import KIND_WORDS, spiral_timeline as table

    _validate.in_range("window_days", window_days, low=0, low_inclusive=False)
    tl = table(net, a, b, level=level, individuals=individuals, min_group_size=min_group_size)
    ax = _axes(ax, (10, 4.2))
    colors = {"a→b": "#1565c0", "b→a": "#ef6c00"}
    names = {"a→b": f"{_lit(a)} → {_lit(b)}", "b→a": f"{_lit(b)} → {_lit(a)}"}
    dense = len(tl) > 400
    handles = []
    for d in ("a→b", "b→a"):
        s = tl[tl["direction"] == d]
        ax.scatter(s["requested_at"], s["z"], s=5 if dense else 12, color=colors[d],
                   alpha=0.25 if dense else 0.5, linewidths=0)
        if len(s) > 1:
            roll = s.set_index("requested_at")["z"].rolling(f"{window_days}D", center=True,
                                                            min_periods=3).mean()
            ax.plot(roll.index, roll.to_numpy(), color=colors[d], lw=1.8)
        handles.append(Line2D([], [], color=colors[d], marker="o", ms=4, lw=1.8,
                              label=names[d]))
    bad = tl[tl["is_bad"]]
    ax.scatter(bad["requested_at"], bad["z"], marker="x", s=36, linewidths=1.6,
               color=bad["direction"].map(colors).tolist(), zorder=4)
    handles.append(Line2D([], [], color="0.2", marker="x", ls="", ms=6, label="bad service"))
    turns = tl[tl["turn"] > 0]
    chain_start = None
    if spiral is not None:
        start, end = pd.Timestamp(spiral["start"]), pd.Timestamp(spiral["end"])
        if pd.notna(start) and pd.notna(end):
            ax.axvspan(start, end, color="#b71c1c", alpha=0.08, lw=0)
            what = KIND_WORDS.get(spiral.get("kind"), KIND_WORDS["spiral"])
            handles.append(Patch(color="#b71c1c", alpha=0.2,
                                 label=f"{what} ({int(spiral['rounds'])} rounds)"))
            chain_start = start
        turns = turns.iloc[:0]                                   # no second count
    if len(turns):
        chain_id = (turns["turn"] == 1).cumsum()
        longest = turns.groupby(chain_id)["turn"].transform("max")
        best = chain_id[longest == longest.max()].iloc[0]     # first of the longest
        ch = turns[chain_id == best]
        if ch["turn"].max() >= 2:
            ax.plot(ch["requested_at"], ch["z"], color="#b71c1c", lw=1.0, alpha=0.8, zorder=3)
            handles.append(Line2D([], [], color="#b71c1c", lw=1.0,
                                  label=f"escalation chain ({int(ch['turn'].max())} turns)"))
            chain_start = ch["requested_at"].iloc[0]
    onset = chain_start if onset is None else pd.Timestamp(onset)
    if onset is not None:
        ax.axvline(onset, color="k", ls=":", lw=1.3)
        handles.append(Line2D([], [], color="k", ls=":", lw=1.3, label="onset"))
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_ylabel("service quality residual (SD)")
    ax.set_title(f"Exchanges between {_lit(a)} and {_lit(b)}", fontsize=10)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
              frameon=False)
    return ax


def _period_label(t: pd.Timestamp, freq: str) -> str:
    f = freq.upper()
    if f.startswith("Q"):
        return f"{t.year} Q{t.quarter}"
    if f.startswith("M"):
        return f"{t:%Y-%m}"
    if f.startswith(("Y", "A")):
        return f"{t.year}"
    return f"{t:%Y-%m-%d}"


def health_trend(net, *, freq: str = "QS", ax=None, min_group_size: int = MIN_GROUP_SIZE):
    """Served quality per unit and period: the survey component of unit health, over time.

    Parameters
    ----------
    net : ServiceNetwork
        With dated, rated events. A person-level network with a people table
        is aggregated to units; otherwise its own nodes are drawn.
    freq : str, default "QS"
        Pandas offset alias of the periods (``"QS"`` quarters, ``"MS"``
        months, ``"W-MON"`` weeks…).
    ax : matplotlib Axes, optional
    min_group_size : int, default 5
        A unit's point is left out for a period in which fewer distinct people
        rated its service.

    Returns
    -------
    matplotlib.axes.Axes
        One line per unit (``ax.get_lines()``, labelled by unit, in sorted
        order), x tick labels the periods (``"2025 Q1"``, ``"2025-01"``…).
        Without dated ratings: no line and a title saying so.

    Raises
    ------
    ParameterError
        Not a network; bad ``freq`` or ``min_group_size``.

    See Also
    --------
    icnet.health : the scorecard (its ``trend`` column is the change between
        the last two periods, corrected for the organisation's own change).

    Notes
    -----
    Point :math:`(u, t)` is :math:`\\bar y_{ut}`, the mean satisfaction of
    the service unit *u* gave to other units in period *t* (work within a
    unit excluded), shown when :math:`r_{ut} \\ge` ``min_group_size``
    distinct raters.

    References
    ----------
    Kaplan, R. S. & Norton, D. P. (1992). The balanced scorecard. *Harvard
    Business Review* 70(1), 71–79.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import icnet
    >>> ax = health_trend(icnet.datasets.toy(), min_group_size=1)
    >>> len(ax.get_lines())
    5
    """
    net = _validate.network(net)
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    off = _validate.offset(freq, text_only=True)      # text: it also names the periods
    u = net.by("unit") if net.level == "person" and net.people is not None else net
    ax = _axes(ax, (9, 4.5))
    got = _ratings.by_period(u, off) if u.has_time else None
    if got is None or not len(got[0]):
        ax.set_title("No dated satisfaction ratings: no trend to show", fontsize=10)
        return ax
    t, starts = got
    starts = starts[:int(t["k"].max()) + 1]
    m = pd.DataFrame({"period": t["k"].to_numpy(), "unit": t["provider"].astype(str),
                      "y": t["mean"].to_numpy(float), "n": t["n_raters"].to_numpy()})
    m = suppress(m, "n", ["y"], min_group_size=min_group_size)
    M = m.pivot(index="period", columns="unit", values="y").reindex(range(len(starts)))
    for unit in sorted(M.columns):
        ax.plot(M.index, M[unit].to_numpy(), marker="o", ms=3.5, label=_lit(unit))
    step = max(1, len(starts) // 12)
    ax.set_xticks(range(0, len(starts), step),
                  [_period_label(s, freq) for s in starts[::step]], fontsize=8)
    ax.set_ylabel("mean satisfaction of the service given")
    ax.set_title(f"Served quality per unit and period (gaps: fewer than {min_group_size} "
                 "raters)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


_BOUND = r"^\s*(>=|<=|==)\s*([0-9]*\.?[0-9]+)\s*$"
_BOARD_COLUMNS = ["detector", "scenario", "n_people", "metric", "value", "low", "high",
                  "bound", "passed"]


def scoreboard(board, *, detectors=None, which: str = "at least", ax=None):
    """The bounded rows of a validity scoreboard: each measured share with its 95 %
    interval, against its bound.

    Parameters
    ----------
    board : DataFrame
        The table of :func:`icnet.validity.scoreboard.scoreboard` (columns
        ``detector``, ``scenario``, ``n_people``, ``metric``, ``value``, ``low``,
        ``high``, ``bound``, ``passed``).
    detectors : list of str, optional
        Only these detectors' rows (default: all).
    which : {"at least", "at most"}, default "at least"
        Rows whose bound is a floor (``>= v``: recall, precision, initiator, coverage,
        power) or a ceiling (``<= v`` and ``== 0``: false findings). Only bounds on a
        share (v ≤ 1) are drawn; a bound in days or on an absolute error is not.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Rows top to bottom in the board's order, y tick labels "detector · scenario ·
        people · metric"; one error bar container for the rows that meet their bound
        (blue, label "bound met") and one for those that do not (red, "not met"), each
        only when it has rows (``ax.containers``); the bounds are black ticks.

    Raises
    ------
    ParameterError
        A table without the scoreboard's columns, an unknown ``which``, or no row to draw.

    See Also
    --------
    icnet.validity.scoreboard.scoreboard

    Notes
    -----
    The intervals are the scoreboard's (Wilson score intervals for shares, Poisson for
    rates; Morris, White & Crowther 2019 on reporting Monte Carlo uncertainty): a point
    missing its bound by less than its interval's half-width is within sampling error of
    it, one whose whole interval lies on the wrong side is not.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> board = pd.DataFrame({"detector": ["spirals", "spirals"],
    ...                       "scenario": ["lock_in", "baseline"], "n_people": [150, 150],
    ...                       "metric": ["recall", "orgs with false spiral"],
    ...                       "value": [0.78, 0.0], "low": [0.72, 0.0], "high": [0.84, 0.06],
    ...                       "bound": [">= 0.9", "<= 0.05"], "passed": ["NO", "yes"]})
    >>> ax = scoreboard(board)
    >>> [c.get_label() for c in ax.containers], [t.get_text() for t in ax.get_yticklabels()]
    (['not met'], ['spirals · lock_in · 150 · recall'])
    """
    if not isinstance(board, pd.DataFrame):
        raise ParameterError("The 'board' parameter must be the DataFrame of "
                             "icnet.validity.scoreboard.scoreboard(records); got "
                             f"{type(board).__name__}.")
    missing = [c for c in _BOARD_COLUMNS if c not in board]
    if missing:
        raise ParameterError(f"The 'board' table lacks column(s) {missing}; pass the table "
                             "returned by icnet.validity.scoreboard.scoreboard(records).")
    if which not in ("at least", "at most"):
        raise ParameterError(f"which must be 'at least' or 'at most'; got {which!r}.")
    b = board
    if detectors is not None:
        b = b[b["detector"].isin(list(detectors))]
    parsed = b["bound"].astype(str).str.extract(_BOUND)
    v = pd.to_numeric(parsed[1], errors="coerce")
    keep = (parsed[0] == ">=") if which == "at least" else parsed[0].isin(["<=", "=="])
    keep &= (v <= 1) & b["value"].notna()
    b, v = b[keep.to_numpy()], v[keep.to_numpy()].to_numpy(float)
    if not len(b):
        raise ParameterError(f"No row of the board has a share bound of the kind {which!r}"
                             + (f" for detectors {list(detectors)}" if detectors else "")
                             + "; check the detectors' names and the 'bound' column.")
    ax = _axes(ax, (8, 1.0 + 0.2 * len(b)))
    y = np.arange(len(b))
    val = b["value"].to_numpy(float)
    lo = np.fmin(np.nan_to_num(b["low"].to_numpy(float), nan=val), val)
    hi = np.fmax(np.nan_to_num(b["high"].to_numpy(float), nan=val), val)
    miss = b["passed"].astype(str).str.lower().eq("no").to_numpy()
    for m, colour, label in ((~miss, "tab:blue", "bound met"), (miss, "tab:red", "not met")):
        if m.any():
            ax.errorbar(val[m], y[m], xerr=[val[m] - lo[m], hi[m] - val[m]], fmt="o", ms=4,
                        color=colour, elinewidth=1.2, capsize=2, label=label)
    ax.scatter(v, y, marker="|", s=120, color="black", zorder=3, label="bound")
    ax.set_yticks(y, [_lit(f"{r.detector} · {r.scenario} · {r.n_people} · {r.metric}")
                      for r in b.itertuples()], fontsize=7)
    ax.invert_yaxis()
    left = 0.0 if which == "at most" else max(0.0, min(lo.min(), v.min()) - 0.05)
    right = 1.01 if which == "at least" else min(1.01, max(hi.max(), v.max()) + 0.02)
    ax.set_xlim(left, right)
    ax.set_xlabel("measured share (95 % interval); | = bound; red = bound not met")
    ax.set_title(f"Validity scoreboard: bounds of the kind \"{which}\"", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax
