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
        sig = np.unique(a.T.tocsr().toarray() if a.shape[1] * a.shape[0] < 5e7 else
                        _sig_rows(a), axis=0, return_inverse=True)[1].ravel()
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
        for comp in np.unique(cell_lab[linked & sens & ~twin_ok]):
            cj = np.flatnonzero(cell_lab == comp)
            ri = np.flatnonzero(row_lab == comp)
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
    """Rows of ``a.T`` as hashable signatures (large releases)."""
    t = a.T.tocsr()
    keys = [hash(tuple(t.indices[t.indptr[i]:t.indptr[i + 1]])) for i in range(t.shape[0])]
    return np.asarray(keys)[:, None]


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
        j = sens_idx[bad[0]]
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
        if best is None:           # pinned by nothing published: cannot happen
            raise DisclosureError("disclosure audit: a suppressed group is pinned by no "
                                  "published figure; report this as an icnet bug.")
        _, name, g, vis = best
        if len(vis):
            pick = vis[np.lexsort((vis, n[vis]))][0]   # fewest ratings, then first
            hidden[pick] = True
            cells["hidden"] = hidden
        else:
            groups[name][1][g] = True
    else:
        raise DisclosureError(f"disclosure control did not converge in {max_rounds} rounds.")
    cells["secondary"] = cells["hidden"].to_numpy(bool) & ~primary
    return Release(cells, groups, release.scale)


def group_codes(keys: pd.Series, names) -> np.ndarray:
    """Codes of ``keys`` in ``names`` (``-1`` where absent or missing)."""
    idx = pd.Index(pd.Series(names, dtype=object))
    return idx.get_indexer(pd.Series(keys, dtype=object))


_SAT = ["satisfaction_mean", "satisfaction_shrunk", "satisfaction_low", "satisfaction_high"]


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
        out["sign"] = out["sign"].astype(object).where(~out["suppressed"], "suppressed")
    out["suppressed_by"] = by
    return out


def quality_release(net, edges, providers, units) -> Release:
    """The release of one ``service_quality`` call: relations as cells.

    Published groups: the providers, the organisation (the mean every
    shrunk value is pulled toward) and, at person level, the units (their
    relations to other units) and their organisation.
    """
    e = net.edges
    n = e["satisfaction_n"].fillna(0).to_numpy(float)
    mean = e["satisfaction_mean"].to_numpy(float)
    total = np.where(n > 0, n * np.nan_to_num(mean), 0.0)
    sens = edges["suppressed"].to_numpy(bool) & (n > 0)
    cells = pd.DataFrame({"provider": e["provider"].to_numpy(dtype=object),
                          "client": e["client"].to_numpy(dtype=object),
                          "n": n, "total": total, "n_raters": edges["n_raters"].to_numpy(),
                          "sensitive": sens, "hidden": sens.copy()})
    groups = {
        "providers": (group_codes(cells["provider"], providers["provider"]),
                      providers["suppressed"].to_numpy(bool)),
        "organisation": (np.where(n > 0, 0, -1), np.array([False])),
    }
    if net.level == "person" and net.people is not None and len(units) \
            and "unit" in net.nodes:
        unit_of = pd.Series(net.nodes["unit"].to_numpy(dtype=object),
                            index=net.nodes["node"].to_numpy(dtype=object))
        up = cells["provider"].map(unit_of)
        uc = cells["client"].map(unit_of)
        between = (up.notna() & uc.notna() & (up != uc)).to_numpy()
        gid = np.where(between, group_codes(up, units["provider"]), -1)
        groups["units"] = (gid, units["suppressed"].to_numpy(bool))
        groups["unit organisation"] = (np.where(between & (n > 0), 0, -1), np.array([False]))
    return Release(cells, groups, tuple(net.scale))


def protect_quality(net, edges, providers, units, *, protection=None):
    """Complementary suppression of ``service_quality``'s tables; returns them and the audit."""
    protection = PROTECTION if protection is None else protection
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


def report_release(view, edges, health) -> Release:
    """The survey figures of one report: ``edges.csv`` cells and ``health.csv`` margins."""
    n = edges["satisfaction_n"].fillna(0).to_numpy(float)
    raw = view.edges["satisfaction_mean"].to_numpy(float)
    total = np.where(n > 0, n * np.nan_to_num(raw), 0.0)
    sens = edges["suppressed"].to_numpy(bool) & (n > 0)
    cells = pd.DataFrame({"provider": edges["provider"].to_numpy(dtype=object),
                          "client": edges["client"].to_numpy(dtype=object),
                          "n": n, "total": total, "n_raters": edges["n_raters"].to_numpy(),
                          "sensitive": sens, "hidden": sens.copy()})
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
        ve = view.edges.copy()
        cols = [c for c in _SAT if c in ve]
        ve.loc[sec, cols] = np.nan
        ve.loc[sec, "sign"] = "suppressed"
        view = view._replace(edges=ve)
    hidden = rel.cells["hidden"].to_numpy(bool)
    pairs = set(zip(rel.cells.loc[hidden, "provider"], rel.cells.loc[hidden, "client"]))
    return view, edges, health, pairs, audit(rel, protection=protection)
