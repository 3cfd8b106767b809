"""Fit uncertain scenario parameters to published figures.

Method (documented in docs/model.md, "Calibration"):

1. Each parameter ``key: (low, high)`` is mapped to ``[0, 1]``.
2. For a parameter vector the scenario is run with ``reps`` replications of
   the (fast) engine, always with the same root seed, so the objective is a
   smooth, deterministic function of the parameters (common random numbers).
3. Residuals are standardised errors: for each fitted target, the distance of
   the model mean from the published interval in units of the figure's
   tolerance (``targets.toml``), times ``sqrt(weight)``. Zero inside the interval.
4. :func:`scipy.optimize.least_squares` (trust-region reflective, bounded,
   finite differences with a step of ``diff_step`` of each range) minimises the
   sum of squares, starting from the scenario's own values.
5. The best point is confirmed with a second engine (the DES by default, at
   ``confirm_scale``): its validation table against every target is the fit
   report, with plots of the backlog and appeal series against the published points.

Parameter keys are dotted scenario keys, plus two forms for values that are
not plain numbers: an index into a list (``initial_state.provider_queue.0.count``)
and ``KEY:scale``, which multiplies every value of a schedule (or a number) by
the fitted factor, keeping its shape.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..scenario import Scenario, ScenarioError, dump_scenario, load_scenario, scenario_from_dict, scenario_to_dict
from .targets import Target, load_targets
from .validate import format_table, validation_table


#: The parameters fitted for the built-in baseline (``wca-sim calibrate`` without ``--param``):
#: the ones with no public figure that the targets constrain. Ranges are the plausible
#: ranges stated in docs/model.md.
DEFAULT_PARAMS: dict[str, tuple[float, float]] = {
    "initial_state.provider_queue.0.count": (150e3, 450e3),
    "initial_state.provider_queue.1.count": (100e3, 400e3),
    "initial_state.provider_queue.2.count": (10e3, 120e3),
    "demand.ib_reassessments_per_month:scale": (0.3, 1.5),
    "demand.existing_repeats_per_month:scale": (0.5, 1.5),
    "providers.atos.workforce.fte_at_start": (350.0, 700.0),
    "reconsideration.request_rate:scale": (0.5, 2.0),
    "appeals.appeal_rate_after_mr:scale": (0.4, 3.0),
    "appeals.hearings_per_working_day:scale": (0.2, 1.2),
    "providers.maximus.workforce.hires_per_month:scale": (0.5, 2.5),
    "demand.repeat_deferral.release_days": (180.0, 900.0),
    "demand.repeat_deferral.share_deferred": (0.3, 0.9),
}


def get_parameter(scenario: Scenario, key: str) -> float:
    """Current value of a calibration key (for ``KEY:scale`` this is 1)."""
    if key.endswith(":scale"):
        return 1.0
    node: Any = scenario_to_dict(scenario)
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, dict):
        raise ScenarioError(f"{key} is a table or schedule; fit it as '{key}:scale'")
    return float(node)


def set_parameters(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """A new Scenario with calibration keys set (see the module docstring for key forms).

    Raises
    ------
    wca_sim.scenario.ScenarioError
        Unknown key or invalid value.
    """
    data = scenario_to_dict(scenario)
    for key, value in values.items():
        scale = key.endswith(":scale")
        parts = key.removesuffix(":scale").split(".")
        node: Any = data
        try:
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node[part]
            last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
            current = node[last]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ScenarioError(f"unknown calibration key {key!r}", source="calibration") from None
        if scale:
            node[last] = _scaled(current, float(value))
        else:
            node[last] = float(value)
    return scenario_from_dict(data, source="calibration")


def _scaled(current: Any, factor: float) -> Any:
    if isinstance(current, dict) and "points" in current:
        out = copy.deepcopy(current)
        out["points"] = [[d, v * factor] for d, v in current["points"]]
        return out
    return float(current) * factor


class _Budget(Exception):
    """Raised inside the objective when the evaluation budget is spent."""


@dataclass
class Calibration:
    """What :func:`calibrate` found.

    Attributes
    ----------
    scenario
        The calibrated scenario.
    values
        Fitted value of each parameter key.
    start
        Starting values.
    bounds
        Ranges searched.
    fit_table
        Validation table of the fitting engine at the best point.
    confirm_table
        Validation table of the confirming engine (None when not confirmed).
    history
        One row per evaluation: parameter values and the objective.
    """

    scenario: Scenario
    values: dict[str, float]
    start: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    fit_table: pd.DataFrame
    confirm_table: pd.DataFrame | None = None
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    info: dict[str, Any] = field(default_factory=dict)
    confirm_results: Any = None


def residuals(results: Any, targets: Sequence[Target], scenario: str | None = None) -> np.ndarray:
    """Weighted standardised errors of the fitted targets (``fit = true``)."""
    out = []
    for t in targets:
        if not t.fit:
            continue
        values = t.model_values(getattr(results, "timeseries", results), scenario)
        values = values[np.isfinite(values)]
        err = t.error(float(values.mean())) if values.size else 10.0  # no value: a large, finite penalty
        out.append(math.sqrt(t.weight) * err)
    return np.asarray(out, dtype=float)


def calibrate(
    scenario: Scenario | str | Path,
    targets: Sequence[Target] | None = None,
    params: Mapping[str, tuple[float, float]] | None = None,
    *,
    engine: str = "fast",
    reps: int = 8,
    seed: int = 0,
    scale: float | None = None,
    max_evals: int = 60,
    diff_step: float = 0.05,
    confirm_engine: str | None = "des",
    confirm_reps: int = 4,
    confirm_scale: float | None = 0.05,
    out: str | Path | None = None,
    progress: Callable[[int, float], None] | None = None,
    checkpoint: str | Path | None = None,
) -> Calibration:
    """Fit ``params`` of ``scenario`` to ``targets``, then confirm with a second engine.

    Parameters
    ----------
    scenario
        Scenario to calibrate (object, built-in name or TOML path).
    targets
        Targets (default: the shipped figures and mapping); only ``fit = true`` ones are fitted.
    params
        ``{key: (low, high)}``; keys as in :func:`set_parameters`. Start values are the
        scenario's (clipped into the range).
    engine, reps, seed, scale
        Engine and replications of each objective evaluation (same seed every time).
    max_evals
        Cap on objective evaluations (including finite-difference ones).
    diff_step
        Finite-difference step as a fraction of each range (large enough to see
        past Monte Carlo rounding).
    confirm_engine, confirm_reps, confirm_scale
        Second engine run at the best point; None skips it.
    out
        Folder for the calibrated scenario (``scenario-<name>.toml``), ``fit.json``,
        ``fit_table.csv``, ``confirm_table.csv``, ``fit_report.md`` and ``figures/``.
    progress
        Called as ``progress(evaluations, objective)`` after each evaluation.
    checkpoint
        CSV file rewritten after each evaluation with the history so far.

    Returns
    -------
    Calibration
    """
    from scipy.optimize import least_squares

    from ..runner import run

    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    original_scale = base.scale
    if scale is not None:
        base = base.with_overrides({"scale": scale})
    targets = list(targets) if targets is not None else load_targets()
    if not params:
        raise ValueError("params must name at least one parameter with its (low, high) range")
    keys = list(params)
    lows = np.array([float(params[k][0]) for k in keys])
    highs = np.array([float(params[k][1]) for k in keys])
    if np.any(highs <= lows):
        raise ValueError("each parameter range needs low < high")
    start = {k: get_parameter(base, k) for k in keys}
    x0 = np.clip((np.array([start[k] for k in keys]) - lows) / (highs - lows), 0.0, 1.0)

    history: list[dict[str, float]] = []
    cache: dict[tuple[float, ...], np.ndarray] = {}

    def values_of(x: np.ndarray) -> dict[str, float]:
        return {k: float(lo + xi * (hi - lo)) for k, xi, lo, hi in zip(keys, x, lows, highs)}

    def objective(x: np.ndarray) -> np.ndarray:
        key = tuple(np.round(x, 12))
        if key not in cache:
            if len(history) >= max_evals:
                raise _Budget()
            values = values_of(np.clip(x, 0.0, 1.0))
            res = run(set_parameters(base, values), reps=reps, seed=seed, engine=engine, progress=False)
            cache[key] = residuals(res, targets)
            history.append({**values, "objective": float(np.sum(cache[key] ** 2))})
            if checkpoint is not None:  # so a long fit can be inspected or salvaged while it runs
                pd.DataFrame(history).to_csv(checkpoint, index=False)
            if progress is not None:
                progress(len(history), history[-1]["objective"])
        return cache[key]

    # scipy's max_nfev does not count finite-difference evaluations, so the budget is kept here.
    try:
        fit = least_squares(objective, x0, bounds=(0.0, 1.0), diff_step=diff_step, x_scale=1.0, method="trf")
        status, message = int(fit.status), str(fit.message)
    except _Budget:
        status, message = 0, f"stopped after {max_evals} evaluations (the budget)"
    # The optimiser's x is its best; history may hold a better finite-difference point.
    hist = pd.DataFrame(history)
    best_row = hist["objective"].idxmin()
    best = {k: float(hist.loc[best_row, k]) for k in keys}
    calibrated = set_parameters(base, best)
    fit_results = run(calibrated, reps=reps, seed=seed, engine=engine, progress=False)
    if scale is not None:  # the file keeps the scenario's own scale
        calibrated = calibrated.with_overrides({"scale": original_scale})
    fit_table = validation_table(fit_results, targets)
    confirm_table, confirm_results = None, None
    if confirm_engine:
        confirm_results = run(calibrated, reps=confirm_reps, seed=seed, engine=confirm_engine,
                              scale=confirm_scale, progress=False)
        confirm_table = validation_table(confirm_results, targets)
    info = {
        "method": "scipy.optimize.least_squares (trf, bounded), standardised errors, common random numbers",
        "engine": engine, "reps": reps, "seed": seed, "evaluations": len(history),
        "objective_start": float(hist["objective"].iloc[0]), "objective_best": float(hist["objective"].min()),
        "optimizer_status": status, "optimizer_message": message,
        "confirm_engine": confirm_engine, "confirm_reps": confirm_reps, "confirm_scale": confirm_scale,
    }
    result = Calibration(
        scenario=calibrated, values=best, start=start, bounds={k: (float(a), float(b)) for k, a, b in zip(keys, lows, highs)},
        fit_table=fit_table, confirm_table=confirm_table, history=hist, info=info, confirm_results=confirm_results,
    )
    if out is not None:
        write_calibration(result, out, fit_results)
    return result


def write_calibration(cal: Calibration, out: str | Path, fit_results: Any = None) -> Path:
    """Write the calibrated scenario, tables, ``fit.json``, ``fit_report.md`` and figures into ``out``."""
    from ..io_util import atomic_directory

    with atomic_directory(out) as tmp:
        (tmp / f"scenario-{cal.scenario.name}.toml").write_text(dump_scenario(cal.scenario), encoding="utf-8")
        cal.fit_table.to_csv(tmp / "fit_table.csv", index=False)
        cal.history.to_csv(tmp / "history.csv", index=False)
        if cal.confirm_table is not None:
            cal.confirm_table.to_csv(tmp / "confirm_table.csv", index=False)
        (tmp / "fit.json").write_text(json.dumps(
            {"values": cal.values, "start": cal.start, "bounds": cal.bounds, "info": cal.info}, indent=2, default=str),
            encoding="utf-8")
        figures = []
        series_results = cal.confirm_results if cal.confirm_results is not None else fit_results
        if series_results is not None:
            from .plots import plot_fit_series

            (tmp / "figures").mkdir(exist_ok=True)
            for name, fig in plot_fit_series(series_results, load_targets()).items():
                fig.savefig(tmp / "figures" / f"{name}.png", dpi=110, bbox_inches="tight")
                figures.append(f"figures/{name}.png")
                import matplotlib.pyplot as plt

                plt.close(fig)
        (tmp / "fit_report.md").write_text(fit_report(cal, figures), encoding="utf-8")
    return Path(out)


def fit_report(cal: Calibration, figures: Sequence[str] = ()) -> str:
    """Markdown fit report: method, parameters, target vs model tables, figures."""
    lines = [f"# Calibration of `{cal.scenario.name}`", "", "## Method", "", cal.info.get("method", ""), "",
             f"Fitting engine `{cal.info.get('engine')}`, {cal.info.get('reps')} replications per evaluation, "
             f"seed {cal.info.get('seed')}; {cal.info.get('evaluations')} evaluations; objective (sum of squared "
             f"standardised errors) {cal.info.get('objective_start', float('nan')):.3g} at the start, "
             f"{cal.info.get('objective_best', float('nan')):.3g} at the best point.", "",
             "## Parameters", "", "| key | range | start | fitted |", "|---|---|---|---|"]
    for k, v in cal.values.items():
        lo, hi = cal.bounds[k]
        lines.append(f"| `{k}` | {lo:g} - {hi:g} | {cal.start[k]:.4g} | {v:.4g} |")
    lines += ["", f"## Targets: fitting engine (`{cal.info.get('engine')}`)", "", format_table(cal.fit_table, markdown=True)]
    if cal.confirm_table is not None:
        lines += [f"## Confirmation: `{cal.info.get('confirm_engine')}` engine, scale {cal.info.get('confirm_scale')}, "
                  f"{cal.info.get('confirm_reps')} replications", "", format_table(cal.confirm_table, markdown=True)]
    if figures:
        lines += ["## Figures", ""] + [f"![{Path(f).stem}]({f})" for f in figures] + [""]
    return "\n".join(lines)
