"""Break-even search: the smallest (or largest) parameter value meeting a KPI target often enough.

Question: "the smallest value of X such that KPI <= threshold in at least a
share p of replications" (e.g. the successor's monthly hiring that keeps the
backlog on 31 Aug 2015 under 300k in 90% of runs).

Method (per-replication crossings, then an order-statistic quantile):

1. Evaluate a grid of ``points`` values of X in ``bounds``, ``reps``
   replications each, with common random numbers (replication r is the same
   "world" at every X), through :func:`~.core.sweep` (so any backend, resumable).
2. For each replication r find its own break-even ``x_r``: the smallest grid
   value from which the condition holds at every larger grid value, linearly
   interpolated between that grid value and the one below it on
   ``KPI_r(x) - threshold``. (For "largest", mirror it.) Replications meeting
   the target everywhere are censored at the lower bound; those never meeting
   it at +infinity (beyond the range).
3. The answer is the p-quantile of the ``x_r``: the ``ceil(p R)``-th smallest.
   Its confidence interval is the distribution-free order-statistic interval
   for a quantile: order statistics ``l, u`` with
   ``P(Binomial(R, p) in [l, u)) >= confidence``.
4. Refine: a new grid spanning the interval (plus one old grid step each
   side) is evaluated and steps 2-3 are repeated on all values so far,
   ``refine`` times; this removes most of the interpolation error.

The interval covers Monte Carlo uncertainty of the quantile (finite R). It
assumes the KPI of one replication is monotone in X over the range, which
common random numbers make nearly true for capacity-like parameters; the
per-x share curve with Clopper-Pearson intervals is returned to check it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .core import sweep


@dataclass
class BreakEven:
    """Result of :func:`breakeven`.

    Attributes
    ----------
    value
        The estimated break-even value (NaN if not reached inside the bounds).
    ci_low, ci_high
        Confidence interval of ``value`` (``inf`` when a side falls outside the bounds).
    confidence
        Level of that interval.
    crossings
        Per-replication break-even values ``x_r`` (``-inf``/``inf`` when censored).
    curve
        Per evaluated x: ``share`` of replications meeting the target and its
        Clopper-Pearson interval ``share_low``, ``share_high``.
    """

    param: str
    kpi: str
    threshold: float
    share: float
    find: str
    value: float
    ci_low: float
    ci_high: float
    confidence: float
    crossings: np.ndarray
    curve: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One readable sentence."""
        sign = {"smallest": "smallest", "largest": "largest"}[self.find]
        if not np.isfinite(self.value):
            return (f"No value of {self.param} in the range keeps {self.kpi} within {self.threshold:g} "
                    f"in {self.share:.0%} of replications. " + " ".join(self.notes))
        return (f"The {sign} {self.param} keeping {self.kpi} within {self.threshold:g} in {self.share:.0%} of "
                f"replications is {self.value:.6g} ({self.confidence:.0%} CI {self.ci_low:.6g} to {self.ci_high:.6g}, "
                f"{len(self.crossings)} replications).")


def breakeven(
    base: Any,
    param: str,
    bounds: tuple[float, float],
    kpi: str,
    threshold: float,
    *,
    share: float = 0.9,
    find: str = "smallest",
    sense: str = "<=",
    reps: int = 100,
    points: int = 9,
    refine: int = 2,
    confidence: float = 0.95,
    integer: bool = False,
    out: str | Path | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    **sweep_kwargs: Any,
) -> BreakEven:
    """Find the smallest (or largest) value of ``param`` with ``kpi sense threshold`` in at least ``share`` of replications.

    Parameters
    ----------
    base
        Base scenario (as for :func:`~.core.sweep`).
    param
        Dotted key of the parameter searched.
    bounds
        Search range ``(low, high)``.
    kpi, threshold, sense
        The target: ``kpi <= threshold`` (``sense="<="``) or ``>=``.
    share
        Required share p of replications meeting the target.
    find
        ``"smallest"`` (target met from some X upwards) or ``"largest"`` (met up to some X).
    reps, points, refine
        Replications, grid points per stage, refinement stages.
    confidence
        Level of the interval on the answer.
    integer
        Search whole numbers only.
    out
        Folder for the stages' sweeps (``stage-0``, ``stage-1``, ...): resumable.
    **sweep_kwargs
        Passed to :func:`~.core.sweep` (``engine``, ``model``, ``seed``, ``workers``, ``client``, ...).
        ``crn`` is forced on.
    """
    if find not in ("smallest", "largest"):
        raise ValueError("find must be 'smallest' or 'largest'")
    if sense not in ("<=", ">="):
        raise ValueError("sense must be '<=' or '>='")
    if not 0 < share < 1:
        raise ValueError("share must be strictly between 0 and 1")
    low, high = float(bounds[0]), float(bounds[1])
    if not high > low:
        raise ValueError(f"bounds need low < high, got {bounds}")
    sweep_kwargs["crn"] = True
    values: dict[float, np.ndarray] = {}  # x -> KPI per replication
    lo, hi = low, high
    result: BreakEven | None = None
    for stage in range(refine + 1):
        grid = np.linspace(lo, hi, points)
        if integer:
            grid = np.unique(np.round(grid))
        new = [float(x) for x in grid if float(x) not in values]
        if new:
            ds = sweep(base, {param: new}, design="grid", points=len(new), reps=reps,
                       out=Path(out) / f"stage-{stage}" if out is not None else None,
                       progress=progress, **sweep_kwargs)
            kpi_values = ds["kpis"].sel(kpi=kpi).to_numpy()
            for i, x in enumerate(ds[param].to_numpy()):
                values[float(x)] = kpi_values[i]
        result = _estimate(values, param, kpi, threshold, share, find, sense, confidence, low, high)
        xs = np.array(sorted(values))
        step = (hi - lo) / max(points - 1, 1)
        new_lo = result.ci_low if np.isfinite(result.ci_low) else lo
        new_hi = result.ci_high if np.isfinite(result.ci_high) else hi
        new_lo, new_hi = max(low, new_lo - step), min(high, new_hi + step)
        if new_hi - new_lo <= 0 or (integer and new_hi - new_lo < 2) or len(xs) == 0:
            break
        lo, hi = new_lo, new_hi
    assert result is not None
    return result


def _estimate(values: dict[float, np.ndarray], param: str, kpi: str, threshold: float, share: float,
              find: str, sense: str, confidence: float, low: float, high: float) -> BreakEven:
    xs = np.array(sorted(values))
    y = np.stack([values[x] for x in xs])  # (x, replication)
    margin = threshold - y if sense == "<=" else y - threshold  # >= 0 where the target is met
    if find == "largest":  # mirror: search the smallest -x
        xs, margin = -xs[::-1], margin[::-1]
    crossings = np.array([_crossing(xs, margin[:, r]) for r in range(margin.shape[1])])
    if find == "largest":
        crossings = -crossings
        xs = -xs[::-1]
        margin = margin[::-1]
    n = len(crossings)
    met = (margin >= 0).sum(axis=1)
    alpha = 1 - confidence
    curve = pd.DataFrame({
        param: xs,
        "share": met / n,
        "share_low": [stats.beta.ppf(alpha / 2, k, n - k + 1) if k > 0 else 0.0 for k in met],
        "share_high": [stats.beta.ppf(1 - alpha / 2, k + 1, n - k) if k < n else 1.0 for k in met],
    })
    # Work in the "smallest" orientation: q = the p-quantile of z (z = x or -x).
    z = np.sort(crossings if find == "smallest" else -crossings)
    k = math.ceil(share * n)  # 1-based order statistic
    l_idx = int(stats.binom.ppf(alpha / 2, n, share))          # 1-based lower order statistic
    u_idx = int(stats.binom.ppf(1 - alpha / 2, n, share)) + 1  # 1-based upper order statistic
    point = z[k - 1]
    lo_z = z[l_idx - 1] if l_idx >= 1 else -np.inf
    hi_z = z[u_idx - 1] if u_idx <= n else np.inf
    notes = []
    if find == "smallest":
        value, ci_low, ci_high = point, lo_z, hi_z
    else:
        value, ci_low, ci_high = -point, -hi_z, -lo_z
    if not np.isfinite(value):
        notes.append(f"the target is met in fewer than {share:.0%} of replications even at the "
                     f"{'upper' if find == 'smallest' else 'lower'} bound")
        value = float("nan")
    censored = int(np.sum(np.isinf(crossings)))
    if censored:
        notes.append(f"{censored} of {n} replications never cross inside the bounds")
    return BreakEven(param=param, kpi=kpi, threshold=threshold, share=share, find=find, value=float(value),
                     ci_low=float(ci_low), ci_high=float(ci_high), confidence=confidence,
                     crossings=crossings, curve=curve, notes=notes)


def _crossing(xs: np.ndarray, margin: np.ndarray) -> float:
    """Smallest x from which ``margin >= 0`` holds at every larger grid value, interpolated.

    ``-inf`` if it holds everywhere (censored below the range: reported as the
    lower bound's side), ``inf`` if it fails at the top of the range.
    """
    ok = margin >= 0
    if not ok[-1]:
        return float("inf")
    failing = np.flatnonzero(~ok)
    if failing.size == 0:
        return float(xs[0])  # met at the lowest value tried: break-even at or below it
    j = failing[-1]  # last failure; from j+1 on the target holds
    m0, m1 = margin[j], margin[j + 1]
    # Linear interpolation of the margin between the failing and the first passing value.
    t = m0 / (m0 - m1) if m0 != m1 else 1.0
    return float(xs[j] + t * (xs[j + 1] - xs[j]))
