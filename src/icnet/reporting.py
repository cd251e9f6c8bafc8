"""The self-contained HTML report (figures embedded, no external request).

``icnet.report`` is :func:`report` (the module is called ``reporting`` so that
it does not shadow the function).
"""

from __future__ import annotations

import base64
import io as _io
import os
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from . import _validate
from .analysis.spirals import KIND_WORDS
from .errors import ParameterError
from .privacy import MIN_GROUP_SIZE, _gate_spirals, check_individuals, suppress

__all__ = ["report"]

#: Files written beside the HTML with ``tables=True`` (plus ``spiral_<a>_<b>.png``).
TABLES = ["edges", "nodes", "bottlenecks", "conflict_cycles", "spirals", "health", "actions"]
FIGURES = ["network_map", "satisfaction_heatmap", "bottleneck_components", "health_trend"]

_SPIRAL_KINDS = ["spiral", "one_sided", "joint_shift", "chronic_conflict"]


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight",
                metadata={"Software": None})   # no version stamp: byte-identical output
    plt.close(fig)
    return buf.getvalue()


def _html_table(df: pd.DataFrame, max_rows: int = 30) -> str:
    shown = df.head(max_rows).copy()
    for c in shown.columns:
        col = shown[c]
        if pd.api.types.is_float_dtype(col):
            shown[c] = col.map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        elif pd.api.types.is_datetime64_any_dtype(col):
            shown[c] = col.dt.strftime("%Y-%m-%d").fillna("")
        elif col.dtype == object:
            shown[c] = col.map(lambda v: " → ".join(map(str, v)) if isinstance(v, tuple)
                               else ("" if v is None or (isinstance(v, float) and np.isnan(v))
                                     else v))
    html = ('<div class="table-wrap">'
            + shown.to_html(index=False, escape=True, border=0, na_rep="") + "</div>")
    if len(df) > max_rows:
        html += (f'<p class="note">{len(df) - max_rows} more rows: write the tables with '
                 'tables=True.</p>')
    return html


def _fname(x) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "-", str(x)).strip("-") or "x"


def _date(t) -> str:
    t = pd.Timestamp(t)
    return f"{t.day} {t:%B %Y}"


def report(net, path, *, level: str = "unit", tables: bool = False, individuals: bool = False,
           min_group_size: int = MIN_GROUP_SIZE, seed=0, title: str | None = None,
           as_of=None) -> Path:
    """Write one self-contained HTML report of every analysis.

    Parameters
    ----------
    net : ServiceNetwork
        Person level with a people table gives every section; without one, the
        unit health and actions sections say they need it.
    path : str or path-like
        The HTML file to write (its folder is created).
    level : {"unit", "person"}, default "unit"
        Level of the map, the matrix and the tables. ``"person"`` needs
        ``individuals=True``.
    tables : bool, default False
        Also write the result tables as CSV and the figures as PNG beside the
        HTML: ``edges.csv``, ``nodes.csv``, ``bottlenecks.csv``,
        ``conflict_cycles.csv``, ``spirals.csv``, ``health.csv``,
        ``actions.csv``, ``network_map.png``, ``satisfaction_heatmap.png``,
        ``bottleneck_components.png``, ``health_trend.png`` and
        ``spiral_<a>_<b>.png`` for the top spiral (when it can be shown).
    individuals : bool, default False
        Name people (person-level spirals, cycles, actions and the timeline of
        the top spiral); off by default, then findings about people are
        reported by their units.
    min_group_size : int, default 5
        Survey figures (satisfaction) backed by fewer distinct raters are
        suppressed everywhere: the map, the matrix, the tables and the CSVs.
    seed : int, default 0
        Layout and permutation-test seed.
    title : str, optional
    as_of : timestamp, optional
        "Today" for agreement reviews (default: the end of the data).

    Returns
    -------
    pathlib.Path
        The HTML file. Same input and seed → byte-identical file (and CSVs).

    Raises
    ------
    ParameterError
        Not a network; bad ``level``, ``min_group_size``, ``title`` or
        ``path``; ``level="person"`` without ``individuals=True``.

    See Also
    --------
    icnet.health.findings : every analysis run once (what the report shows).
    icnet.plot : the figures.
    icnet.privacy.suppress : the small-group rule.

    Notes
    -----
    Sections: executive summary (sentences generated from the numbers), who
    serves whom (map and matrix), bottlenecks, conflict cycles, retaliation
    spirals and chronic conflicts, unit health, recommended actions. Figures
    are PNG embedded as ``data:`` URIs; the page loads nothing from elsewhere
    and runs no script; every user string is HTML-escaped (jinja2
    autoescape).

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
    from .analysis.health import FLAGS, findings, health

    net = _validate.network(net)
    _validate.one_of("level", level, ["unit", "person"])
    _validate.in_range("min_group_size", min_group_size, low=1, integer=True)
    _validate.rng(seed)
    individuals = check_individuals(individuals)
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"The 'path' parameter must be a file path (str or Path); "
                             f"got {type(path).__name__}.")
    if title is not None and not isinstance(title, str):
        raise ParameterError(f"The 'title' parameter must be a str or None; got {title!r}.")
    if level == "person" and not individuals:
        raise ParameterError("A person-level report names people: pass individuals=True "
                             "(privacy), or use level='unit'.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    f = findings(net, min_group_size=min_group_size, as_of=as_of, seed=seed)
    missing = list(f.get("missing", []))
    has_people = net.level == "person" and net.people is not None
    units_ok = has_people and f["units"] is not f["net"]
    by_unit = level == "unit" and units_ok
    unit_of = net.nodes.set_index("node")["unit"] if units_ok else None
    if has_people:
        h = health(net, min_group_size=min_group_size, as_of=as_of, seed=seed, _found=f,
                   level=level, individuals=individuals)
        act = actions(net, min_group_size=min_group_size, as_of=as_of, seed=seed, _found=f,
                      level=level, individuals=individuals)
    else:
        h = act = pd.DataFrame()
    hv = f.get("handovers")            # a process log's hand-over findings (issue #22)
    if hv is not None and not has_people:
        act = _handover_actions(hv)
    view = f["units"] if level == "unit" else f["net"]

    # bottlenecks: the API's unit level already flags a unit with a flagged member
    b_unit = f["bottlenecks_unit"]
    member_flag = pd.DataFrame()
    if units_ok and len(f["bottlenecks"]):
        pb = f["bottlenecks"]
        member_flag = pb[pb["is_bottleneck"]].assign(unit=lambda d: d["node"].map(unit_of))
    b_view = b_unit if level == "unit" else f["bottlenecks"]
    if level != "unit":
        member_flag = pd.DataFrame()

    cyc = _cycles(view, f, unit_of, by_unit, individuals, min_group_size)
    # the map and the matrix are drawn by unit whenever there are units: readable
    fig_view = f["units"] if units_ok else view
    cyc_map = cyc if fig_view is view else _cycles(fig_view, f, unit_of, True, individuals,
                                                   min_group_size)
    b_map = b_unit if fig_view is f["units"] else b_view
    sp = f["spirals"] if individuals else _gate_spirals(
        f["net"], f["spirals"], individuals=False, min_group_size=min_group_size)
    spir = _spirals(sp, unit_of, by_unit and not individuals)
    recip_note = _reciprocity_note(net, seed) if net.has_time and net.has_events and \
        "retaliation_spirals" not in missing and getattr(net, "_on_cluster", None) is None \
        else ""
    if getattr(net, "_on_cluster", None) is not None:
        # reciprocity_test reads every event: not on a Dask network's driver (docs/scaling.md)
        recip_note = ("The organisation-level reciprocity test is not run on a Dask cluster "
                      "(it needs the events in memory); run icnet.reciprocity_test on a pandas "
                      "network of the events.")

    edges = plot.suppressed_edges(view, min_group_size=min_group_size)
    if not individuals:     # differencing: complementary suppression across the release
        view, edges, h, act, cyc, fig_view = _check_release(view, edges, h, act, cyc,
                                                            fig_view)
        cyc_map = cyc if fig_view is view else cyc_map
    figures, spiral_note = {}, ""
    with matplotlib.rc_context({"svg.hashsalt": "icnet", "figure.max_open_warning": 0}):
        figures["network_map"] = _png(plot.network_map(
            fig_view, level=None, bottlenecks=b_map, cycles=cyc_map, seed=seed,
            min_group_size=min_group_size).figure)
        figures["satisfaction_heatmap"] = _png(plot.satisfaction_heatmap(
            fig_view, level=None, min_group_size=min_group_size).figure)
        if len(b_view):
            figures["bottleneck_components"] = _png(plot.bottleneck_components(b_view).figure)
        if net.has_events and net.has_time:
            figures["health_trend"] = _png(plot.health_trend(
                net, min_group_size=min_group_size).figure)
        top = spir[spir["kind"].isin(["spiral", "one_sided", "joint_shift"])] \
            if len(spir) else spir
        if len(top) and net.has_events and net.has_time:
            r = top.iloc[0]
            if individuals or not by_unit:
                a, b, lvl = r["a"], r["b"], None
                spiral_note = (f"Every exchange between {a} and {b}; the shaded span is the "
                               f"{KIND_WORDS[r['kind']]} of the table ({int(r['rounds'])} "
                               "rounds), the dotted line its onset.")
            else:
                a, b, lvl = r["a"], r["b"], "unit"
                n = edges.set_index(["provider", "client"])["n_raters"]
                ok = a != b and min(n.get((a, b), 0), n.get((b, a), 0)) >= min_group_size
                spiral_note = (f"All exchanges between {a} and {b} (people not named); the "
                               f"shaded span is the {KIND_WORDS[r['kind']]} of the table "
                               f"between two of their members ({int(r['rounds'])} rounds), "
                               "the dotted line its onset." if ok else
                               f"The timeline of {a} and {b} is not shown: fewer than "
                               f"{min_group_size} people rate one of the two directions.")
                if not ok:
                    a = None
            if a is not None:
                figures[f"spiral_{_fname(a)}_{_fname(b)}"] = _png(plot.spiral_timeline(
                    net, a, b, level=lvl, spiral=r, individuals=individuals,
                    min_group_size=min_group_size).figure)

    h_cols = [c for c in ["person", "unit", "score", "flags", "served_quality", "n_raters",
                          "trend", "delay_median", "sla_breach_rate", "agreement_breach_rate",
                          "n_agreements", "overdue_reviews", "share_without_agreement",
                          "in_bottleneck", "idle_members"] if c in h]
    b_cols = [c for c in ["node"] + (["unit"] if level == "person" else []) + [
        "score", "is_bottleneck", "reason", "mechanism", "dependence", "delay_median",
        "delay_excess", "p_adjusted", "delay_ratio_agreed", "delay_trend", "backlog_growth",
        "redundancy", "n_events"] if c in b_view]
    html_tables = {
        "bottlenecks": _html_table(b_view[b_cols], max_rows=10) if len(b_view) else "",
        "cycles": _html_table(cyc.drop(columns=["edges"])) if len(cyc) else "",
        "spirals": _html_table(spir) if len(spir) else "",
        "health": _html_table(h[h_cols]) if len(h) else "",
        "actions": _html_table(group_actions(act).drop(columns=["rule", "n_targets"],
                                                        errors="ignore"), max_rows=50)
        if len(act) else "",
    }
    hv_tables = _handover_tables(hv)
    html_tables.update({k: _html_table(v, max_rows=15) if len(v) else ""
                        for k, v in hv_tables.items()})
    used_flags = sorted({x for fl in (h["flags"] if len(h) else []) for x in fl.split("; ") if x})
    meta = _meta(net)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string((resources.files("icnet") / "templates" / "report.html.j2")
                          .read_text(encoding="utf-8"))
    html = tpl.render(
        title=title or "Internal-customer network report", meta=meta,
        summary=_summary(b_view, member_flag, cyc, spir, h, act, individuals, FLAGS)
        + _handover_lines(hv),
        hours_basis=hv.hours_basis if hv is not None else "",
        handover_flags=_handover_flag_words(hv_tables),
        figures={k: base64.b64encode(v).decode() for k, v in figures.items()},
        spiral_figure=next((k for k in figures if k.startswith("spiral_")), None),
        spiral_note=spiral_note, reciprocity_note=recip_note, tables=html_tables,
        min_group_size=min_group_size,
        individuals=individuals, version=__version__, missing=missing,
        has_people=has_people, level=level,
        map_level="unit" if fig_view is f["units"] and units_ok else view.level,
        flags=[(k, FLAGS.get(k, "")) for k in used_flags])
    from ._files import atomic_write, write_csv  # atomic files, formula cells neutralised

    if tables:  # tables first, the report last: a report never sits beside older tables
        out = path.parent
        results = {"edges": edges, "nodes": view.nodes, "bottlenecks": b_view,
                   "conflict_cycles": cyc, "spirals": spir, "health": h, "actions": act}
        for name in TABLES:
            write_csv(results[name], out / f"{name}.csv")
        for name, t in hv_tables.items():     # only for a network with a process log
            write_csv(t, out / f"{name}.csv")
        for k, v in figures.items():
            with atomic_write(out / f"{k}.png", "wb") as fh:
                fh.write(v)
    with atomic_write(path) as fh:
        fh.write(html)
    return path


_SERVED = re.compile(r"served quality -?[0-9.]+ \[-?[0-9.]+, -?[0-9.]+\]")


def _check_release(view, edges, h, act, cyc, fig_view):
    """Complementary suppression and audit of the report's survey figures (#20).

    ``edges.csv`` (relations), ``health.csv`` (units' served quality) and the
    figures drawn from them form one release: more relations or units are
    hidden until the audit (:func:`icnet.privacy.audit`) finds no small group
    whose mean could be narrowed by differencing; the evidence texts of hidden
    units lose their numbers and conflict cycles through hidden relations
    lose their mean. Raises :class:`~icnet.errors.DisclosureError` if the
    audit still fails.
    """
    from ._disclosure import protect_report
    from .errors import DisclosureError

    same = fig_view is view
    view, edges, h2, pairs, audit = protect_report(view, edges, h)
    if not audit["safe"].all():
        raise DisclosureError("report: the disclosure audit found a small group whose "
                              "mean can be recomputed; report this as an icnet bug.")
    from .privacy import _hide_counts
    edges = _hide_counts(edges)       # counts of hidden relations are hidden too
    if len(h):
        gone = h2["served_quality"].isna() & h["served_quality"].notna()
        if gone.any():
            key = h.columns[0]
            hidden_units = set(h2.loc[gone, key])
            h2.loc[gone, "flag_evidence"] = h2.loc[gone, "flag_evidence"].astype(str) \
                .str.replace(_SERVED, "served quality hidden (protects a small group)",
                             regex=True)
            if len(act) and "evidence" in act:
                act = act.copy()
                t = act["target"].isin(hidden_units)
                act.loc[t, "evidence"] = act.loc[t, "evidence"].astype(str).str.replace(
                    _SERVED, "served quality hidden (protects a small group)", regex=True)
    if len(cyc) and pairs:
        through = np.array([any(tuple(x) in pairs for x in es) for es in cyc["edges"]],
                           dtype=bool)
        cyc = cyc.copy()
        cyc.loc[through, ["satisfaction_mean", "severity"]] = np.nan
    return view, edges, h2, act, cyc, (view if same else fig_view)


def _common_ends(texts: list[str]) -> tuple[str, str]:
    """The longest common word-boundary prefix and suffix of ``texts``."""
    pre = os.path.commonprefix(texts)
    suf = os.path.commonprefix([t[::-1] for t in texts])[::-1]
    shortest = min(len(t) for t in texts)
    if len(pre) + len(suf) > shortest:            # overlap: keep the prefix
        suf = suf[len(pre) + len(suf) - shortest:]
    while pre and pre[-1].isalnum():              # never cut inside a word
        pre = pre[:-1]
    while suf and suf[0].isalnum():
        suf = suf[1:]
    return pre, suf


def group_actions(act: pd.DataFrame, *, min_rows: int = 3) -> pd.DataFrame:
    """Actions of one rule that repeat for many targets, as one line listing them.

    Rows sharing ``rule``, ``priority``, ``owner_role`` and ``reason`` that
    occur at least ``min_rows`` times become one row: ``target`` lists the
    targets (``"; "``-joined), ``action`` keeps the text they share with
    "…" where it differs, and ``evidence`` gives each target's own part
    (what differed in the action, then its evidence). Other rows are kept as
    they are; ``n_targets`` counts the targets of each row. The row stands
    where the rule's first row stood. Only the report's rendering groups:
    ``actions.csv`` and :func:`icnet.actions` keep one row per target.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"priority": [2, 2, 2], "owner_role": "area head",
    ...     "target": ["A", "B", "C"], "reason": "no agreement", "rule": "no_agreement",
    ...     "action": [f"Agree with {x}; review every 90 days." for x in ["X", "Y; Z", "W"]],
    ...     "evidence": ["50%", "20%", "10%"]})
    >>> g = group_actions(a)
    >>> g.loc[0, "target"], g.loc[0, "action"]
    ('A; B; C', 'Agree with …; review every 90 days.')
    >>> g.loc[0, "evidence"]
    'A: X (50%) · B: Y; Z (20%) · C: W (10%)'
    """
    if not len(act) or "rule" not in act:
        return act.assign(n_targets=1) if len(act.columns) else act
    key = ["rule", "priority", "owner_role", "reason"]
    act = act.reset_index(drop=True)
    size = act.groupby(key, sort=False)["target"].transform("size")
    rows = []
    done = set()
    for i, r in act.iterrows():                 # a few dozen rows: rendering, not a hot path
        k = tuple(r[key])
        if size[i] < min_rows:
            rows.append({**r.to_dict(), "n_targets": 1})
            continue
        if k in done:
            continue
        done.add(k)
        grp = act[(act[key] == pd.Series(k, index=key)).all(axis=1)]
        texts = grp["action"].astype(str).tolist()
        pre, suf = _common_ends(texts)
        mid = [t[len(pre):len(t) - len(suf)].strip(" ,;") for t in texts]
        detail = [f"{t}: " + (f"{m} ({ev})" if m else str(ev))
                  for t, m, ev in zip(grp["target"], mid, grp["evidence"])]
        rows.append({**r.to_dict(), "target": "; ".join(map(str, grp["target"])),
                     "action": (pre + "…" + suf) if any(mid) else texts[0],
                     "evidence": " · ".join(detail), "n_targets": len(grp)})
    return pd.DataFrame(rows, columns=list(act.columns) + ["n_targets"])


def _meta(net) -> str:
    n_ev = net.n_events
    who = "people" if net.level == "person" else f"{net.level}s"
    text = f"{n_ev:,} service events between {len(net.node_ids)} {who}"
    if net.level == "person" and net.people is not None and "unit" in net.people:
        text += f" in {net.people['unit'].nunique()} units"
    if net.has_time:
        first, last = net.span
        if not pd.isna(first):  # an empty window has no span
            text += f", {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if getattr(net, "_on_cluster", None) is not None:
        text += " (analysed on a Dask cluster)"
    return text


def _cycles(view, f, unit_of, by_unit, individuals, min_group_size) -> pd.DataFrame:
    """Conflict cycles of the view as the API gives them: at unit level
    ``conflict_cycles(net, level="unit")``, which also carries the units of the
    people's cycles (``between = "people"``)."""
    cols = ["cycle", "between", "length", "severity", "n_events", "satisfaction_mean",
            "edges"]
    from .plot import suppressed_edges

    cu = f["cycles_unit"] if view is f["units"] else f["cycles"]
    if not len(cu):
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("cycle", "between", "edges")
                                          else float) for c in cols})
    if "between" not in cu:
        cu = cu.assign(between="people" if view.level == "person" else f"{view.level}s")
    nr = suppressed_edges(view, min_group_size=1).set_index(["provider", "client"])
    # a unit-level row of a people's cycle: its raters are the cycle's people
    own = view.level == "person"
    raters = [min(nr["n_raters"].get(tuple(x), 0) for x in edges) if own or b != "people"
              else n for edges, b, n in zip(cu["edges"], cu["between"], cu["length"])]
    # severity = the weakest step's shortfall (a function of its raters' ratings) x volume
    out = suppress(cu.reindex(columns=cols).assign(n_raters=raters), "n_raters",
                   ["satisfaction_mean", "severity"], min_group_size=min_group_size)
    if not individuals:      # a step between two people is one person's ratings
        out["severity"] = out["severity"].where(out["between"] != "people")
    return out.drop(columns=["n_raters", "suppressed"]).reset_index(drop=True)[cols]


def _reciprocity_note(net, seed, n_perm=99) -> str:
    """One sentence on the organisation-level test (icnet.reciprocity_test), or "".

    It quotes the regression's estimate and SE (the size of the return in kind) and the
    permutation p of the turn test (the calibrated answer: a cause shared by both
    sides of a pair makes the model p small as well, docs/methods/spirals-record.md §5)."""
    from .analysis.reciprocity import reciprocity_test

    res = reciprocity_test(net, n_perm=n_perm, seed=seed)
    r, used = res.iloc[0], res.attrs.get("n_perm_used", n_perm)
    if not np.isfinite(r["se"]):
        return ""
    found = r["p_perm"] <= 0.05 and r["estimate"] > 0
    together = r["p"] <= 0.05 and r["estimate"] > 0
    return (f"Organisation-level test: across {int(r['n_pairs'])} pairs who serve each other "
            f"({int(r['n_events'])} services), a service follows the quality its client "
            f"recently gave the provider by {r['estimate']:.2f} SD per SD (SE {r['se']:.2f}); "
            f"turn-taking test p = {r['p_perm']:.2g} ({used} relabellings): "
            + ("bad service received is returned in kind, in turns (negative reciprocity)."
               if found else
               "the two sides' quality moves together but without turns, which a cause "
               "shared by both sides explains as well as retaliation." if together else
               "no measurable return of bad service in kind across the organisation."))


def _spirals(sp, unit_of, by_unit) -> pd.DataFrame:
    cols = ["a", "b", "kind", "initiator", "initiator_p", "start", "end", "rounds", "effect",
            "q"]
    if not len(sp):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    sp = sp[sp["kind"].isin(_SPIRAL_KINDS)].copy()
    if by_unit and unit_of is not None:
        for c in ("a", "b", "initiator"):
            if c in sp:
                sp[c] = sp[c].map(lambda x: unit_of.get(x, x) if isinstance(x, str) else x)
    order = sp["kind"].map({k: i for i, k in enumerate(_SPIRAL_KINDS)})
    sp = sp.assign(_o=order).sort_values(["_o", "q", "a", "b"], kind="mergesort")
    return sp.reindex(columns=cols).reset_index(drop=True)


# initiator_p from which the story states who moved first: on development seeds (init15,
# benchmarks/init15_diagnosis.csv) found spirals given >= 0.8 were right 0.87, the rest 0.64
_SURE_FIRST = 0.8


def _first_mover(r) -> str:
    """Who moved first, stated only as surely as ``initiator_p`` says."""
    who = r.get("initiator")
    if who is None or (not isinstance(who, str) and pd.isna(who)):
        return "who moved first is not clear from the data"
    p = r.get("initiator_p", np.nan)
    p = float(p) if p is not None and pd.notna(p) else np.nan
    if not np.isfinite(p):
        return f"{who} moved first"
    if p >= _SURE_FIRST:
        return f"{who} moved first (probability {p:.2f})"
    return f"who moved first is not clear from the data ({who} with probability {p:.2f})"


def _summary(b, member_flag, cyc, spir, h, act, individuals, flag_words) -> list[str]:
    """Plain sentences generated from the numbers, most important first."""
    from .analysis.bottlenecks import share_text
    lines = []
    flagged = b[b["is_bottleneck"]] if len(b) else b
    if len(flagged):
        r = flagged.iloc[0]
        m = member_flag[member_flag["unit"] == r["node"]] if len(member_flag) else member_flag
        src = m.iloc[0] if len(m) else r
        ratio = src.get("delay_ratio_agreed", np.nan)
        trend = src.get("delay_trend", np.nan)
        whose = "whose" if len(m) else "its"
        parts = []
        if np.isfinite(ratio) and ratio > 1:
            parts.append(f"{whose} requests take {ratio:.1f}× the agreed time")
        if np.isfinite(trend) and trend > 0.2:
            parts.append(f"{whose if not parts else 'and its'} delays grew "
                         f"{np.exp(trend):.1f}× more than the organisation's from the "
                         "first to the last third of the period")
        text = (f"{r['node']} is the main bottleneck: {share_text(r['dependence'])} of the "
                "service reaching the external customer depends on it")
        if len(m):
            text += "; one of its people is the bottleneck" + (", " if parts else "")
        elif parts:
            text += ", and "
        text += " ".join(parts)
        lines.append(text + ".")
        if len(flagged) > 1:
            lines.append("Also flagged as bottleneck(s): "
                         + ", ".join(map(str, flagged["node"].iloc[1:4])) + ".")
    else:
        lines.append("No provider is both heavily depended on and slow or overloaded: "
                     "no bottleneck.")
    def names(r):
        return f"{r['a']} and {r['b']}"

    for r in spir[spir["kind"] == "spiral"].head(2).to_dict("records"):
        lines.append(
            f"{names(r)} are in a retaliation spiral"
            f"{'' if individuals else ' (between two of their people)'}: starting "
            f"{_date(r['start'])}, they took {int(r['rounds'])} alternating "
            f"round{'' if int(r['rounds']) == 1 else 's'} of bad "
            f"service until {_date(r['end'])}, each answering the other's; "
            f"{_first_mover(r)}.")
    for r in spir[spir["kind"] == "joint_shift"].head(2).to_dict("records"):
        lines.append(
            f"{names(r)} serve each other worse since {_date(r['start'])}, both ways at "
            f"once{'' if individuals else ' (two of their people)'}: no turns show, so it "
            "may be a shared cause (a joint project, workload, a process change) rather than "
            "retaliation; ask both sides what changed.")
    # one_sided is either one direction's drop (the change test: its service to the
    # partner, not to its other clients) or one side's bad service answered by the
    # other's (the answer test); the sentence holds for both, the reason says which
    for r in spir[spir["kind"] == "one_sided"].head(1).to_dict("records"):
        lines.append(f"{names(r)}: service got worse in one direction only, from "
                     f"{_date(r['start'])}, and not both ways — not a spiral; the area "
                     "head of the side that serves worse should ask why.")
    for r in spir[spir["kind"] == "chronic_conflict"].head(2).to_dict("records"):
        lines.append(f"{names(r)} serve each other badly all the time"
                     f"{'' if individuals else ' (two of their people)'}: a chronic "
                     "conflict, not an escalation.")
    if len(cyc):
        c = cyc.iloc[0]
        chain = " → ".join(map(str, tuple(c["cycle"]) + (c["cycle"][0],)))
        lines.append(f"{len(cyc)} chain(s) of service are bad at every step; the worst: "
                     f"{chain}" + (" (between people of these units)."
                                   if c["between"] == "people" and not individuals else "."))
    if len(h):
        w = h.iloc[0]
        fl = [flag_words.get(x, x) for x in str(w["flags"]).split("; ") if x]
        name = w["person"] if "person" in h else w["unit"]
        lines.append(f"Most in need of attention: {name} (health {w['score']:.0f}/100"
                     + (": " + "; ".join(fl[:3]) if fl else "") + ").")
        od = int(h["overdue_reviews"].sum()) if "overdue_reviews" in h else 0
        if od:
            lines.append(f"{od} agreement review(s) are overdue.")
    if len(act):
        lines.append(f"{len(act)} action(s) are recommended, "
                     f"{int((act['priority'] == 1).sum())} of them first priority "
                     "(see the last table).")
    return lines


# ------------------------------------------------------- hand-over findings (#22)

def _handover_actions(hv) -> pd.DataFrame:
    from .analysis.handovers import handover_actions

    return handover_actions(hv)


def _handover_tables(hv) -> dict:
    """The report's hand-over tables (empty dict without a process log): ping-pong pairs
    as conflict relations, slow teams as bottlenecks, per-team hand-over health."""
    if hv is None:
        return {}
    from .analysis.bottlenecks import holding_bottlenecks
    from .analysis.conflicts import pingpong_conflicts
    from .analysis.health import handover_health

    pp = pingpong_conflicts(hv)
    hb = holding_bottlenecks(hv)
    hh = handover_health(hv)
    return {
        "handover_pingpong": pp[["cycle", "bounces", "cases", "hours_lost", "severity",
                                 "q_value", "evidence"]],
        "handover_slow": hb.loc[hb["is_bottleneck"], ["node", "delay_median", "delay_p90",
                                                      "waiting_share", "n_events",
                                                      "p_adjusted", "reason"]],
        "handover_health": hh[hh["n_flags"] > 0].drop(columns=["hours_basis"]),
    }


def _handover_flag_words(hv_tables) -> list:
    from .analysis.health import HANDOVER_FLAGS

    hh = hv_tables.get("handover_health")
    if hh is None or not len(hh):
        return []
    used = {x for fl in hh["flags"] for x in str(fl).split("; ") if x}
    return [(k, w) for k, w in HANDOVER_FLAGS.items() if k in used]


def _handover_lines(hv) -> list[str]:
    """Executive-summary sentences from a process log's hand-over findings."""
    if hv is None:
        return []
    from .analysis.bottlenecks import holding_bottlenecks
    from .analysis.conflicts import pingpong_conflicts

    lines = []
    basis = hv.hours_basis
    pp = pingpong_conflicts(hv)
    if len(pp):
        top = "; ".join(f"{a} ⇄ {b} ({n} bounces in {c} cases, {h:.0f} {basis} hours lost)"
                        for (a, b), n, c, h in zip(pp["cycle"].head(3), pp["bounces"],
                                                   pp["cases"], pp["hours_lost"]))
        lines.append(f"{len(pp)} team pair(s) ping-pong cases (sent straight back more "
                     f"often than their routing implies); most severe: {top}.")
    else:
        lines.append("No team pair sends cases back and forth more than its routing "
                     "implies (no ping-pong).")
    hb = holding_bottlenecks(hv)
    slow = hb[hb["is_bottleneck"]]
    if len(slow):
        overall = hb.attrs["params"]["overall_median_hours"]
        top = "; ".join(f"{t} (median {m:.1f} {basis} h per visit)"
                        for t, m in zip(slow["node"].head(3), slow["delay_median"]))
        lines.append(f"Cases wait longest in {len(slow)} team(s), against {overall:.1f} "
                     f"{basis} h overall: {top}.")
    return lines
