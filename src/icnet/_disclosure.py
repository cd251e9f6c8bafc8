"""Complementary (secondary) cell suppression and its exact audit.

Small-group suppression alone does not hold against differencing: a
provider's published mean × count minus its published relations gives the
one hidden relation exactly. This module models a *release* — every survey
aggregate published by one call or one report — as linear sums over *cells*
(the finest groups the tables are built from, e.g. the relations), and

* :func:`audit` computes, for each primarily suppressed (sensitive) cell, the
  exact interval of its hidden mean that an attacker can derive from the
  published figures: two linear programmes per cell (Fellegi 1972; Cox 1980)
  solved with HiGHS through :func:`scipy.optimize.linprog`, each cell's
  ratings being known to lie on the rating scale and — conservatively — every
  cell's count being known to the attacker;
* :func:`protect` hides more cells (complementary suppression) until every
  sensitive cell's interval is at least ``protection`` × the scale width wide,
  greedily, the way tau-Argus's modular and sdcTable's ``SIMPLEHEURISTIC``
  methods do (Hundepool et al. 2012, ch. 4; Meindl & Kowarik, sdcTable):
  within a published group that pins a sensitive cell, the published cell with
  the fewest ratings is hidden; a group with no published cell left is
  hidden itself.

Cells that are hidden only to protect others (secondary suppressions) are
not themselves sensitive: their figures concern at least ``min_group_size``
raters.

References
----------
Cox, L. H. (1980). Suppression methodology and statistical disclosure
control. *JASA* 75, 377–385.
Fellegi, I. P. (1972). On the question of statistical confidentiality.
*JASA* 67, 7–18.
Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4.
Meindl, B. & Kowarik, A. sdcTable: methods for statistical disclosure
control in tabular data (R package, CRAN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from .errors import DisclosureError

#: Default protection: a hidden group's mean must stay uncertain over at least
#: this share of the rating scale (1 point on a 1–5 scale: an integer rating is
#: then never pinned down).
PROTECTION = 0.25     # the same as icnet.privacy.PROTECTION


@dataclass
class Release:
    """Cells and the published groups built from them (one call or one report).

    Parameters
    ----------
    cells : DataFrame
        One row per cell: ``n`` (ratings), ``total`` (sum of ratings),
        ``sensitive`` (primarily suppressed: too few raters) and ``hidden``
        (not published; at least every sensitive cell). Extra columns (ids)
        are kept.
    groups : dict of name -> (gid, hidden)
        For a published table of aggregates over cells: ``gid`` gives each
        cell's group (``-1``: in none), ``hidden`` flags groups not
        published (boolean array, one per group).
    scale : (low, high)
    """

    cells: pd.DataFrame
    groups: dict = field(default_factory=dict)
    scale: tuple = (1.0, 5.0)

    def constraints(self):
        """Published equations over the hidden cells: (matrix, rhs, hidden cell index)."""
        c = self.cells
        hid = np.flatnonzero(c["hidden"].to_numpy(bool))
        col = np.full(len(c), -1)
        col[hid] = np.arange(len(hid))
        tot = np.nan_to_num(c["total"].to_numpy(float))
        rows, cols, rhs = [], [], []
        r0 = 0
        for gid, ghidden in self.groups.values():
            gid = np.asarray(gid)
            ghidden = np.asarray(ghidden, bool)
            ok = (gid >= 0)
            ok[ok] = ~ghidden[gid[ok]]                 # cells in a published group
            if not ok.any():
                continue
            g = gid[ok]
            k = len(ghidden)
            b = np.bincount(g, weights=tot[ok], minlength=k)     # the published sums
            h = ok & (col >= 0)
            vis = np.bincount(gid[ok & (col < 0)], weights=tot[ok & (col < 0)], minlength=k)
            used = np.unique(gid[h])
            remap = np.full(k, -1)
            remap[used] = r0 + np.arange(len(used))
            rows.append(remap[gid[h]])
            cols.append(col[h])
            rhs.append((b - vis)[used])
            r0 += len(used)
        if r0 == 0:
            return sparse.csr_matrix((0, len(hid))), np.zeros(0), hid
        a = sparse.csr_matrix((np.ones(sum(len(x) for x in rows)),
                               (np.concatenate(rows), np.concatenate(cols))),
                              shape=(r0, len(hid)))
        return a, np.concatenate(rhs), hid


def audit(release: Release, *, protection: float = PROTECTION) -> pd.DataFrame:
    """The interval an attacker can derive for every sensitive cell's hidden mean.

    Returns the cells' table restricted to sensitive cells with ``low``,
    ``high`` (bounds of the hidden mean given everything published),
    ``width`` and ``safe`` (``width >= protection × scale width``). Cells
    linked by no published equation get the whole scale without solving.
    """
    lo, hi = map(float, release.scale)
    c = release.cells
    a, b, hid = release.constraints()
    n = c["n"].to_numpy(float)[hid]
    sens = c["sensitive"].to_numpy(bool)[hid]
    low = np.full(len(hid), lo)
    high = np.full(len(hid), hi)
    exact = np.ones(len(hid), bool)
    need = protection * (hi - lo) - 1e-9
    if a.shape[0]:
        # certificate without LP: hidden "twins" (cells in exactly the same published
        # groups) can trade ratings with each other without changing any published sum
        x = np.nan_to_num(c["total"].to_numpy(float)[hid])
        up, down = hi * n - x, x - lo * n
        sig = np.unique(_sig_rows(a), return_inverse=True)[1].ravel()
        s_up = np.bincount(sig, weights=up)[sig] - up
        s_down = np.bincount(sig, weights=down)[sig] - down
        with np.errstate(invalid="ignore", divide="ignore"):
            w_up = np.minimum(up, s_down) / np.maximum(n, 1)
            w_down = np.minimum(down, s_up) / np.maximum(n, 1)
        twin_ok = (w_up + w_down) >= need
        mean = x / np.maximum(n, 1)
        low = np.where(twin_ok, mean - w_down, low)
        high = np.where(twin_ok, mean + w_up, high)
        exact &= ~twin_ok
        # components of hidden cells linked by equations: solved separately
        m = len(hid)
        adj = sparse.bmat([[None, a.T], [a, None]], format="csr")
        _, lab = connected_components(adj, directed=False)
        cell_lab = lab[:m]
        row_lab = lab[m:]
        linked = np.zeros(m, bool)
        linked[np.unique(a.indices)] = True
        at = a.T.tocsr()
        for comp in np.unique(cell_lab[linked & sens & ~twin_ok]):
            cj = np.flatnonzero(cell_lab == comp)
            ri = np.flatnonzero(row_lab == comp)
            if len(cj) > MAX_EXACT:
                # too large to solve exactly for every cell: an inner bound instead, with
                # only the cells sharing a small published group with the cell free and the
                # others fixed at their true values (any feasible move is one the attacker
                # cannot rule out, so the true interval is at least this wide)
                for j in cj[sens[cj] & ~twin_ok[cj]]:
                    low[j], high[j] = _local_bounds(j, a, at, b, x, n, lo, hi)
                    exact[j] = False
                continue
            sub = a[ri][:, cj].toarray()
            bounds = np.column_stack([lo * n[cj], hi * n[cj]])
            for k in np.flatnonzero(sens[cj] & ~twin_ok[cj]):
                obj = np.zeros(len(cj))
                obj[k] = 1.0
                r1 = linprog(obj, A_eq=sub, b_eq=b[ri], bounds=bounds, method="highs")
                r2 = linprog(-obj, A_eq=sub, b_eq=b[ri], bounds=bounds, method="highs")
                if r1.status == 0 and r2.status == 0:
                    nk = max(n[cj[k]], 1.0)
                    low[cj[k]] = max(lo, r1.fun / nk)
                    high[cj[k]] = min(hi, -r2.fun / nk)
                else:                                   # inconsistent: treat as pinned
                    low[cj[k]] = high[cj[k]] = np.nan
    out = c.iloc[hid[sens]].copy()
    out["low"] = low[sens]
    out["high"] = high[sens]
    out["width"] = np.nan_to_num(out["high"] - out["low"], nan=0.0)
    out["exact"] = exact[sens]
    out["safe"] = out["width"].to_numpy() >= need
    return out.reset_index(drop=True)


def _sig_rows(a):
    """Each hidden cell's published groups (a column of ``a``) as one hashable key."""
    t = a.T.tocsr()
    t.sort_indices()
    return np.asarray([hash(t.indices[t.indptr[i]:t.indptr[i + 1]].tobytes())
                       for i in range(t.shape[0])], dtype=np.int64)


#: Groups with no table of their own (the mean every shrunk value is pulled toward).
DERIVED = {"organisation", "unit organisation"}

#: Largest linked set of hidden cells solved exactly (two LPs per sensitive cell).
MAX_EXACT = 300
#: Hops of the local inner bound (1: the cells sharing a group with the cell).
HOPS = 1
#: Hidden cells freed per published group in the local inner bound.
MAX_LOCAL = 200


def _local_bounds(j, a, at, b, x, n, lo, hi):
    """Inner bound of cell ``j``'s hidden mean: only its small groups' cells may move."""
    # free j's groups' cells, then (second hop) the groups of those cells, fewest
    # constraints first, up to MAX_LOCAL cells per group and 2 * MAX_LOCAL in all
    deg = np.diff(at.indptr)
    free = {j}
    frontier = [j]
    for _ in range(HOPS):
        nxt = []
        for c in frontier:
            for r in at.indices[at.indptr[c]:at.indptr[c + 1]]:
                members = a.indices[a.indptr[r]:a.indptr[r + 1]]
                members = members[np.argsort(deg[members], kind="stable")][:MAX_LOCAL]
                new = [m for m in members.tolist() if m not in free]
                free.update(new)
                nxt += [m for m in new if deg[m] > 1]
                if len(free) >= 2 * MAX_LOCAL:
                    break
            if len(free) >= 2 * MAX_LOCAL:
                break
        frontier = nxt
    free = np.array(sorted(free))
    if len(free) == 1:
        return x[j] / max(n[j], 1), x[j] / max(n[j], 1)
    sub = a[:, free]
    used = np.flatnonzero(sub.getnnz(axis=1))
    sub = sub[used].toarray()
    rhs = sub @ x[free]                    # the other cells stay at their true values
    bounds = np.column_stack([lo * n[free], hi * n[free]])
    k = int(np.flatnonzero(free == j)[0])
    obj = np.zeros(len(free))
    obj[k] = 1.0
    r1 = linprog(obj, A_eq=sub, b_eq=rhs, bounds=bounds, method="highs")
    r2 = linprog(-obj, A_eq=sub, b_eq=rhs, bounds=bounds, method="highs")
    if r1.status != 0 or r2.status != 0:
        return x[j] / max(n[j], 1), x[j] / max(n[j], 1)
    nk = max(n[j], 1.0)
    return max(lo, r1.fun / nk), min(hi, -r2.fun / nk)


def protect(release: Release, *, protection: float = PROTECTION,
            max_rounds: int = 10_000) -> Release:
    """Hide more cells (or groups) until :func:`audit` finds every sensitive cell safe.

    Greedy complementary suppression; returns a new :class:`Release` whose
    cells carry ``secondary`` (hidden only to protect others) and whose
    groups' ``hidden`` flags include the hidden groups.
    """
    cells = release.cells.copy()
    cells["hidden"] = cells["hidden"].to_numpy(bool) | cells["sensitive"].to_numpy(bool)
    primary = cells["hidden"].to_numpy(bool).copy()
    groups = {k: (np.asarray(g), np.asarray(h, bool).copy())
              for k, (g, h) in release.groups.items()}
    rel = Release(cells, groups, release.scale)
    n = cells["n"].to_numpy(float)
    for _ in range(max_rounds):
        au = audit(rel, protection=protection)
        bad = au.index[~au["safe"].to_numpy()]
        if not len(bad):
            break
        hidden = cells["hidden"].to_numpy(bool).copy()
        sens_idx = np.flatnonzero(cells["sensitive"].to_numpy(bool) & hidden)
        opened = set()
        for j in sens_idx[bad]:            # every unsafe cell of this round at once
            # the published group around j with the fewest hidden cells: open it up
            best = None
            for name, (gid, gh) in groups.items():
                g = gid[j]
                if g < 0 or gh[g]:
                    continue
                members = np.flatnonzero(gid == g)
                vis = members[~hidden[members]]
                key = (len(vis) == 0, int((hidden[members]).sum()))
                if best is None or key < best[0]:
                    best = (key, name, g, vis)
            if best is None:           # its groups were hidden earlier this round
                continue
            _, name, g, vis = best
            if (name, g) in opened:    # already opened up this round
                continue
            opened.add((name, g))
            if name in DERIVED and not len(vis):
                # the organisation mean is published only through the other figures:
                # hiding it means hiding every figure (a degenerate release)
                for _, gh in groups.values():
                    gh[:] = True
                hidden[:] = True
                break
            if len(vis):
                pick = vis[np.lexsort((vis, n[vis]))][0]   # fewest ratings, then first
                hidden[pick] = True
            else:
                groups[name][1][g] = True
        if not opened:
            raise DisclosureError("disclosure control: an unsafe small group could not be "
                                  "protected; report this as an icnet bug.")
        cells["hidden"] = hidden
    else:
        raise DisclosureError(f"disclosure control did not converge in {max_rounds} rounds.")
    cells["secondary"] = cells["hidden"].to_numpy(bool) & ~primary
    return Release(cells, groups, release.scale)


def group_codes(keys: pd.Series, names) -> np.ndarray:
    """Codes of ``keys`` in ``names`` (``-1`` where absent or missing)."""
    idx = pd.Index(pd.Series(names, dtype=object))
    return idx.get_indexer(pd.Series(keys, dtype=object))


_SAT = ["satisfaction_mean", "satisfaction_shrunk", "satisfaction_low", "satisfaction_high",
        "lfsr", "n_eff", "weight"]


def _reason(df, secondary):
    by = np.where(df["suppressed"].to_numpy(bool), "small group", "")
    by = np.where(secondary, "complementary", by)
    return pd.Series(by, index=df.index, dtype=object)


def _hide(df, secondary, cols=_SAT):
    """Blank ``cols`` where ``secondary``; flag ``suppressed`` and ``suppressed_by``."""
    out = df.copy()
    secondary = np.asarray(secondary, bool)
    by = _reason(out, secondary & ~out["suppressed"].to_numpy(bool))
    for c in cols:
        if c in out:
            out[c] = out[c].astype(float).where(~secondary, np.nan)
    out["suppressed"] = out["suppressed"].to_numpy(bool) | secondary
    if "sign" in out:
        sign = out["sign"].astype(object)     # nothing to hide without ratings: unrated
        out["sign"] = sign.where(~out["suppressed"] | (sign == "unrated"), "suppressed")
    out["suppressed_by"] = by
    return out


def quality_release(net, edges, providers, units) -> Release:
    """The release of one ``service_quality`` call: relations as cells.

    Published groups: the providers; above person level the organisation (the
    mean every shrunk value is pulled toward); at person level the units (their
    relations to other units). A person-level call whose relations are all
    hidden uses :func:`people_release` instead.
    """
    e = net._edges
    n = e["satisfaction_n"].fillna(0).to_numpy(float)
    cells = _cells(e, n, e["satisfaction_mean"], edges)
    groups = {
        "providers": (group_codes(cells["provider"], providers["provider"]),
                      providers["suppressed"].to_numpy(bool)),
    }
    if net.level != "person":
        # the organisation mean every shrunk value is pulled toward (conservatively
        # published; at person level left out: every relation is hidden there and the
        # mean is observable only by inverting the shrinkage of the published rows)
        groups["organisation"] = (np.where(n > 0, 0, -1), np.array([False]))
    if net.level == "person" and net.people is not None and len(units) \
            and "unit" in net.nodes:
        unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                            index=net.nodes["node"].to_numpy(dtype=object))
        up = cells["provider"].map(unit_of)
        uc = cells["client"].map(unit_of)
        between = (up.notna() & uc.notna() & (up != uc)).to_numpy()
        gid = np.where(between, group_codes(up, units["provider"]), -1)
        groups["units"] = (gid, units["suppressed"].to_numpy(bool))
    return Release(cells, groups, tuple(net.scale))


def people_release(net, edges, providers, units) -> Release:
    """Person level with every relation hidden: people as cells, units as groups.

    A cell is a person's service to other units (what the unit rows add up);
    a published person row is — conservatively — taken to publish that cell
    exactly (it does when the person serves no one in their own unit).
    Hiding a cell hides the person's row.
    """
    e = net._edges
    unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                        index=net.nodes["node"].to_numpy(dtype=object))
    up = e["provider"].map(unit_of)
    uc = e["client"].map(unit_of)
    between = (up.notna() & uc.notna() & (up != uc)).to_numpy()
    n = e["satisfaction_n"].fillna(0).to_numpy(float)
    tot = np.where(n > 0, n * np.nan_to_num(e["satisfaction_mean"].to_numpy(float)), 0.0)
    code = group_codes(e["provider"], providers["provider"])
    k = len(providers)
    ok = between & (code >= 0)
    cn = np.bincount(code[ok], weights=n[ok], minlength=k)
    ct = np.bincount(code[ok], weights=tot[ok], minlength=k)
    sens = providers["suppressed"].to_numpy(bool) & (cn > 0)
    cells = pd.DataFrame({"provider": providers["provider"].to_numpy(dtype=object),
                          "client": "(other units)", "n": cn, "total": ct,
                          "n_raters": providers["n_raters"].to_numpy(),
                          "sensitive": sens, "hidden": providers["suppressed"].to_numpy(bool)})
    gid = group_codes(cells["provider"].map(unit_of), units["provider"])
    groups = {"units": (np.where(cn > 0, gid, -1), units["suppressed"].to_numpy(bool))}
    return Release(cells, groups, tuple(net.scale))


def protect_quality(net, edges, providers, units, *, protection=None):
    """Complementary suppression of ``service_quality``'s tables; returns them and the audit."""
    protection = PROTECTION if protection is None else protection
    if net.level == "person" and edges["suppressed"].all() and len(units) \
            and "unit" in net.nodes:
        rel = protect(people_release(net, edges, providers, units), protection=protection)
        sec = rel.cells["secondary"].to_numpy(bool)
        providers = _hide(providers, sec)
        units = _hide(units, rel.groups["units"][1] & ~units["suppressed"].to_numpy(bool))
        edges = _hide(edges, np.zeros(len(edges), bool))
        au = audit(rel, protection=protection)
        au.attrs.update(protection=protection, release=rel)
        return edges, providers, units, au
    rel = protect(quality_release(net, edges, providers, units), protection=protection)
    sec = rel.cells["secondary"].to_numpy(bool)
    edges = _hide(edges, sec)
    gh = rel.groups["providers"][1]
    providers = _hide(providers, gh & ~providers["suppressed"].to_numpy(bool))
    if "units" in rel.groups:
        uh = rel.groups["units"][1]
        units = _hide(units, uh & ~units["suppressed"].to_numpy(bool))
    elif len(units) and net.level != "person":
        units = _hide(units, gh & ~units["suppressed"].to_numpy(bool))
    au = audit(rel, protection=protection)
    au.attrs.update(protection=protection, release=rel)
    return edges, providers, units, au


def _cells(keys, n, mean, published) -> pd.DataFrame:
    """One row per relation: its rating count, rating total (n × the raw mean) and whether
    its group is sensitive (suppressed in ``published`` and rated) — the LP's cells."""
    total = np.where(n > 0, n * np.nan_to_num(np.asarray(mean, float)), 0.0)
    sens = published["suppressed"].to_numpy(bool) & (n > 0)
    return pd.DataFrame({"provider": keys["provider"].to_numpy(dtype=object),
                         "client": keys["client"].to_numpy(dtype=object),
                         "n": n, "total": total, "n_raters": published["n_raters"].to_numpy(),
                         "sensitive": sens, "hidden": sens.copy()})


def report_release(view, edges, health) -> Release:
    """The survey figures of one report: ``edges.csv`` cells and ``health.csv`` margins."""
    n = edges["satisfaction_n"].fillna(0).to_numpy(float)
    cells = _cells(edges, n, view._edges["satisfaction_mean"], edges)
    groups = {"organisation": (np.where(n > 0, 0, -1), np.array([False]))}
    if len(health) and "served_quality" in health:
        key = health.columns[0]
        groups["health"] = (group_codes(cells["provider"], health[key]),
                            health["served_quality"].isna().to_numpy())
    return Release(cells, groups, tuple(view.scale))


def protect_report(view, edges, health, *, protection=None):
    """Complementary suppression across a report's tables and figures.

    Returns ``(view, edges, health, hidden_pairs, audit)``: the view with the
    hidden relations' survey figures blanked (for the map and the matrix),
    ``edges.csv`` and ``health.csv`` with ``suppressed_by``, the set of hidden
    (provider, client) pairs (cycles through them lose their mean) and the
    audit.
    """
    protection = PROTECTION if protection is None else protection
    rel = protect(report_release(view, edges, health), protection=protection)
    sec = rel.cells["secondary"].to_numpy(bool)
    edges = _hide(edges, sec)
    if "health" in rel.groups and len(health):
        gh = rel.groups["health"][1] & health["served_quality"].notna().to_numpy()
        health = health.copy()
        health.loc[gh, ["served_quality", "served_low", "served_high"]] = np.nan
    if sec.any():
        ve = view._edges.copy()
        cols = [c for c in _SAT if c in ve]
        ve.loc[sec, cols] = np.nan
        ve.loc[sec, "sign"] = "suppressed"
        # a shallow copy whose cached edges are the blanked ones: the same events and
        # cached summaries (no recomputation, nothing brought from a cluster)
        import copy
        view = copy.copy(view)
        view.__dict__["_edges"] = ve
    hidden = rel.cells["hidden"].to_numpy(bool)
    pairs = set(zip(rel.cells.loc[hidden, "provider"], rel.cells.loc[hidden, "client"]))
    return view, edges, health, pairs, audit(rel, protection=protection)
