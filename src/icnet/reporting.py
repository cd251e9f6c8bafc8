"""The self-contained HTML report (figures embedded, no external request).

``icnet.report`` is :func:`report` (the module is called ``reporting`` so it
does not shadow the function).
"""

from __future__ import annotations

import base64
import io as _io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from . import _validate
from .privacy import MIN_GROUP_SIZE

__all__ = ["report"]

_FIGURES = ["network_map", "satisfaction_heatmap", "bottleneck_components", "health_trend"]


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight",
                metadata={"Software": None})   # no version stamp: byte-identical output
    plt.close(fig)
    return buf.getvalue()


def _table(df: pd.DataFrame, max_rows: int = 30) -> str:
    if df is None or len(df) == 0:
        return '<p class="empty">Nothing to report.</p>'
    shown = df.head(max_rows).copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
    html = shown.to_html(index=False, escape=True, border=0, na_rep="")
    if len(df) > max_rows:
        html += f'<p class="note">{len(df) - max_rows} more rows in the CSV tables.</p>'
    return html


def report(net, path, *, level: str = "unit", tables: bool = False, individuals: bool = False,
           min_group_size: int = MIN_GROUP_SIZE, seed=0, title: str | None = None,
           as_of=None) -> Path:
    """Write one self-contained HTML report of every analysis.

    Parameters
    ----------
    net : ServiceNetwork (person level with a people table gives every section)
    path : str or path
        The HTML file to write (its folder is created).
    level : {"unit", "person"}, default "unit"
        Level of the map, the matrix and the tables. ``"person"`` needs
        ``individuals=True``.
    tables : bool, default False
        Also write the result tables as CSV and the figures as PNG beside the
        HTML: ``edges.csv``, ``nodes.csv``, ``bottlenecks.csv``,
        ``conflict_cycles.csv``, ``spirals.csv``, ``health.csv``,
        ``actions.csv`` and ``<figure>.png``.
    individuals : bool, default False
        Name people (person-level spirals, cycles, actions); off by default.
    min_group_size : int, default 5
        Survey-derived figures about fewer raters are suppressed.
    seed : int
    title : str, optional
    as_of : timestamp, optional
        "Today" for review deadlines (default: end of the data).

    Returns
    -------
    pathlib.Path
        The HTML file. Same input and seed → byte-identical file.

    Examples
    --------
    >>> import tempfile, pathlib, icnet
    >>> p = icnet.report(icnet.datasets.toy(), pathlib.Path(tempfile.mkdtemp()) / "r.html",
    ...                  min_group_size=1)
    >>> "Executive summary" in p.read_text(encoding="utf-8")
    True
    """
    import jinja2
    import matplotlib

    from . import __version__, plot
    from .analysis.actions import actions
    from .analysis.health import findings, health

    net = _validate.network(net)
    _validate.one_of("level", level, ["unit", "person"])
    if level == "person" and not individuals:
        from .errors import ParameterError
        raise ParameterError("A person-level report needs individuals=True (privacy).")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    f = findings(net, min_group_size=min_group_size, as_of=as_of, seed=seed)
    has_people = net.people is not None and net.level == "person"
    h = health(net, min_group_size=min_group_size, as_of=as_of, seed=seed, _found=f) \
        if has_people else pd.DataFrame()
    act = actions(net, individuals=individuals, min_group_size=min_group_size, as_of=as_of,
                  seed=seed, _found=f) if has_people else pd.DataFrame()
    view = f["units"] if level == "unit" else f["net"]
    b_view = f["bottlenecks_unit"] if level == "unit" else f["bottlenecks"]
    b_view = b_view.copy()
    if level == "unit" and has_people:   # a unit with a flagged member is marked too
        unit_of = net.nodes.set_index("node")["unit"]
        pf = set(unit_of.reindex(f["bottlenecks"].loc[f["bottlenecks"].is_bottleneck, "node"]))
        b_view["is_bottleneck"] = b_view["is_bottleneck"] | b_view["node"].isin(pf)
    c_view = f["cycles_unit"] if level == "unit" else f["cycles"]
    spir = f["spirals"]
    spir = spir[spir["kind"].isin(["spiral", "one_sided", "mutual_degradation"])] \
        if len(spir) else spir
    if not individuals and len(spir) and has_people:
        unit_of = net.nodes.set_index("node")["unit"]
        spir = spir.assign(a=spir["a"].map(unit_of), b=spir["b"].map(unit_of),
                           initiator=spir["initiator"].map(unit_of))
    spir_cols = [c for c in ["a", "b", "kind", "initiator", "start", "end", "rounds", "effect",
                             "q"] if c in spir]
    figures = {}
    with matplotlib.rc_context({"svg.hashsalt": "icnet", "figure.max_open_warning": 0}):
        figures["network_map"] = _png(plot.network_map(view, level=None, bottlenecks=b_view,
                                                       cycles=c_view, seed=seed).figure)
        figures["satisfaction_heatmap"] = _png(plot.satisfaction_heatmap(
            view, level=None, min_group_size=min_group_size).figure)
        figures["bottleneck_components"] = _png(plot.bottleneck_components(b_view).figure)
        figures["health_trend"] = _png(plot.health_trend(
            net, min_group_size=min_group_size).figure) if has_people else b""
        sp_all = f["spirals"]
        sp_top = sp_all[sp_all["kind"] == "spiral"] if len(sp_all) else sp_all
        if individuals and len(sp_top):
            r = sp_top.iloc[0]
            figures["spiral"] = _png(plot.spiral_timeline(net, r["a"], r["b"]).figure)
    tbl = {
        "bottlenecks": _table(b_view[["node", "unit", "score", "is_bottleneck", "reason",
                                      "dependence", "delay_excess", "delay_trend",
                                      "backlog_growth", "redundancy"]].head(10)),
        "cycles": _table(c_view.drop(columns=[c for c in ("person_edges",) if c in c_view
                                              and not individuals])),
        "spirals": _table(spir[spir_cols]),
        "health": _table(h.drop(columns=[c for c in ("flag_evidence",) if c in h])),
        "actions": _table(act.drop(columns=["rule"]) if len(act) else act, max_rows=50),
    }
    summary = _summary(net, f, b_view, c_view, spir, h, act, individuals)
    first, last = (net.span if net.has_time else (None, None))
    meta = (f"{len(net.events) if net.has_events else net.edges['n_events'].sum():,} service "
            f"events between {len(net.node_ids)} people" if net.level == "person" else
            f"{len(net.node_ids)} nodes")
    if first is not None:
        meta += f", {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string((resources.files("icnet") / "templates" / "report.html.j2")
                          .read_text(encoding="utf-8"))
    html = tpl.render(
        title=title or "Internal-customer network report", meta=meta, summary=summary,
        figures={k: base64.b64encode(v).decode() for k, v in figures.items()},
        tables=tbl, min_group_size=min_group_size, individuals=individuals,
        version=__version__,
        has={"cycles": len(c_view) > 0, "spirals": len(spir) > 0, "actions": len(act) > 0})
    path.write_text(html, encoding="utf-8")
    if tables:
        out = path.parent
        opts = dict(index=False, lineterminator="\n")
        view.edges.to_csv(out / "edges.csv", **opts)
        view.nodes.to_csv(out / "nodes.csv", **opts)
        b_view.to_csv(out / "bottlenecks.csv", **opts)
        c_view.to_csv(out / "conflict_cycles.csv", **opts)
        spir.to_csv(out / "spirals.csv", **opts)
        h.to_csv(out / "health.csv", **opts)
        act.to_csv(out / "actions.csv", **opts)
        for k, v in figures.items():
            if v:
                (out / f"{k}.png").write_bytes(v)
    return path


def _summary(net, f, b, c, spir, h, act, individuals):
    lines = []
    flagged = b[b["is_bottleneck"]]
    if len(flagged):
        r = flagged.iloc[0]
        lines.append(
            f"{r['node']} is the main bottleneck: {r['dependence']:.0%} of the dependence of "
            f"the units that serve the external customer reaches it, and its delays are "
            f"{np.exp(r['delay_trend']) if np.isfinite(r['delay_trend']) else 1:.1f}× longer "
            "at the end of the period than at the start.")
    else:
        lines.append("No provider is both heavily depended on and slow or overloaded.")
    sp = spir[spir["kind"] == "spiral"] if len(spir) else spir
    if len(sp):
        r = sp.iloc[0]
        lines.append(
            f"{r['a']} and {r['b']} are in a retaliation spiral: since "
            f"{pd.Timestamp(r['start']):%d %B %Y} they have taken {r['rounds']} alternating "
            "turns of bad service, each side answering the other's.")
    ch = spir[spir["kind"] == "mutual_degradation"] if len(spir) else spir
    for r in ch.head(2).itertuples():
        lines.append(f"{r.a} and {r.b} serve each other badly all the time: a chronic "
                     "conflict, not an escalation.")
    if len(c):
        lines.append(f"{len(c)} chain(s) of areas serve each other badly at every step, the "
                     f"worst {' → '.join(map(str, c.iloc[0]['cycle']))}.")
    if len(h):
        worst = h.iloc[0]
        lines.append(f"The unit most in need of attention is {worst['unit']} (health "
                     f"{worst['score']:.0f}/100: {worst['flags'] or 'no flag'}).")
        od = int(h["overdue_reviews"].sum())
        if od:
            lines.append(f"{od} agreement review(s) are overdue.")
    if len(act):
        lines.append(f"{len(act)} actions are recommended, {int((act['priority'] == 1).sum())} "
                     "of them first priority (see the last table).")
    return lines
