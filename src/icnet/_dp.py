"""Differentially private survey aggregates for repeated releases (OpenDP Laplace).

Suppression protects one release; windows and periods released again and again
can be differenced. Here each provider's mean satisfaction is released with
user-level ε-differential privacy (Dwork, McSherry, Nissim & Smith 2006): the
unit of privacy is one rater (a client person) and everything they rated.

Mechanism
---------
1. Each rater's ratings of a provider are averaged and clamped to the scale;
   each rater keeps at most ``max_providers`` providers (those they rated most,
   ties by name): contribution bounding.
2. Per provider: the sum of the raters' centred means (value − scale middle) and
   the number of raters. Adding or removing one rater changes the sums by at
   most ``max_providers × (high − low) / 2`` in L1 and the counts by at most
   ``max_providers``.
3. Laplace noise calibrated by OpenDP (``make_laplace``) with ε/2 for the sums
   and ε/2 for the counts; OpenDP's ``map`` checks the ε spent. The mean is the
   middle plus noisy sum / noisy count, clipped to the scale (post-processing).

The noise comes from OpenDP's cryptographically secure generator: results are
*not* reproducible by a seed, on purpose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import BudgetExceededError, ParameterError


class Budget:
    """A privacy-loss budget: total ε, spent by each DP release (basic composition).

    Examples
    --------
    >>> b = Budget(1.0)
    >>> b.spend(0.4); b.spend(0.4); round(b.remaining, 2)
    0.2
    >>> b.spend(0.5)
    Traceback (most recent call last):
    ...
    icnet.errors.BudgetExceededError: privacy budget exceeded: spending ε=0.5 after 0.8 of 1 ...
    """

    def __init__(self, epsilon: float):
        _check_eps("epsilon", epsilon)
        self.epsilon = float(epsilon)
        self.spent = 0.0
        self.log: list[tuple[str, float]] = []

    @property
    def remaining(self) -> float:
        return self.epsilon - self.spent

    def spend(self, epsilon: float, what: str = "release") -> None:
        _check_eps("epsilon", epsilon)
        if self.spent + epsilon > self.epsilon + 1e-12:
            raise BudgetExceededError(
                f"privacy budget exceeded: spending ε={epsilon:g} after {self.spent:g} of "
                f"{self.epsilon:g} (sequential composition adds the ε of every release). "
                "Release fewer windows, a smaller epsilon each, or start a new Budget only "
                "for a disjoint population.")
        self.spent += float(epsilon)
        self.log.append((what, float(epsilon)))

    def __repr__(self) -> str:
        return f"Budget(epsilon={self.epsilon:g}, spent={self.spent:g})"


def _check_eps(name, eps):
    import numbers
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not np.isfinite(eps) \
            or eps <= 0:
        raise ParameterError(f"The '{name}' parameter must be a finite number > 0; got "
                             f"{eps!r}.")


def _laplace(values: np.ndarray, sensitivity: float, epsilon: float) -> np.ndarray:
    try:
        import opendp.prelude as dp
    except ImportError:                         # pragma: no cover - optional extra
        raise ImportError("dp_quality needs OpenDP: pip install 'icnet[privacy]' "
                          "(or pip install opendp).") from None
    dp.enable_features("contrib")
    meas = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=float, nan=False)),
                             dp.l1_distance(T=float), scale=sensitivity / epsilon)
    spent = meas.map(float(sensitivity))
    if spent > epsilon * (1 + 1e-9):            # pragma: no cover - OpenDP's own check
        raise RuntimeError(f"OpenDP reports ε={spent} > {epsilon}")
    return np.asarray(meas([float(v) for v in values]), dtype=float)


def dp_quality(net, *, epsilon: float, level: str | None = "unit", budget: Budget | None = None,
               max_providers: int = 5) -> pd.DataFrame:
    """See :func:`icnet.privacy.dp_quality`."""
    from . import _validate
    from .analysis._ratings import rater_column

    _check_eps("epsilon", epsilon)
    _validate.in_range("max_providers", max_providers, low=1, integer=True)
    if budget is not None and not isinstance(budget, Budget):
        raise ParameterError("The 'budget' parameter must be an icnet.privacy.Budget or None; "
                             f"got {type(budget).__name__}.")
    net = _validate.network(net)
    net = _validate.level(net, level)
    if not net.has_events or "satisfaction" not in net.events:
        raise ParameterError("dp_quality needs events with satisfaction ratings (and the "
                             "people who gave them).")
    ev = net.events
    rater = rater_column(ev.columns)
    lo, hi = map(float, net.scale)
    mid = (lo + hi) / 2
    d = pd.DataFrame({"provider": ev["provider"].astype(object).to_numpy(),
                      "rater": ev[rater].astype(object).to_numpy(),
                      "y": ev["satisfaction"].to_numpy(float)})
    d = d[np.isfinite(d["y"])]
    per = d.groupby(["rater", "provider"], sort=True)["y"].agg(["mean", "size"]).reset_index()
    per = per.sort_values(["rater", "size", "provider"], ascending=[True, False, True],
                          kind="mergesort")
    per = per[per.groupby("rater").cumcount() < max_providers]          # bound contributions
    per["c"] = np.clip(per["mean"].to_numpy(), lo, hi) - mid
    providers = pd.Index(sorted(map(str, net.node_ids)), dtype=object)
    code = providers.get_indexer(per["provider"].astype(str))
    k = len(providers)
    s = np.bincount(code, weights=per["c"].to_numpy(), minlength=k)
    n = np.bincount(code, minlength=k).astype(float)
    if budget is not None:
        budget.spend(epsilon, f"dp_quality(level={net.level!r})")
    half = epsilon / 2
    s_dp = _laplace(s, max_providers * (hi - lo) / 2, half)
    n_dp = _laplace(n, float(max_providers), half)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_dp >= 1, np.clip(mid + s_dp / np.maximum(n_dp, 1), lo, hi), np.nan)
    out = pd.DataFrame({"provider": providers.to_numpy(dtype=object),
                        "n_raters_dp": np.maximum(np.round(n_dp), 0).astype("int64"),
                        "satisfaction_mean_dp": mean})
    out.attrs.update(epsilon=float(epsilon), mechanism="Laplace (OpenDP make_laplace)",
                     unit_of_privacy="one rater and all their ratings",
                     max_providers=max_providers,
                     sensitivity={"sum": max_providers * (hi - lo) / 2,
                                  "count": float(max_providers)})
    return out
