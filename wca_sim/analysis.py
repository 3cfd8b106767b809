"""Summaries, confidence intervals and paired comparisons of Results.

This module sees only :class:`~wca_sim.results.Results` (KPI table and time
series), never an engine.

Confidence intervals are Student-t intervals on independent replications:
``mean +/- t_{(1+level)/2, n-1} * s / sqrt(n)``. Scenario comparisons are
paired by replication id: replication ``r`` of every scenario uses the same
random streams (common random numbers), so the per-replication differences
``scenario - reference`` cancel much of the noise, and their t-interval is the
CI of the mean difference.

Which way is better (:data:`DIRECTIONS`, first matching prefix wins):

================================  =========  ====================================
KPI (prefix)                      better     why
================================  =========  ====================================
``backlog_on_``, ``peak_backlog`` lower      fewer people waiting
``peak_backlog_date``             (none)     a date
``decision_days_``                lower      shorter waits for a decision
``cost_``                         lower      cheaper (incl. ``cost_per_assessment``)
``assessments_total``             higher     more assessments delivered
``assessments_<provider>_``       (none)     who delivers is not good or bad
``appeals_``, ``decisions_total`` (none)     volumes, not goals
================================  =========  ====================================

``share_better`` is the share of paired replications in which the scenario is
strictly better than the reference (ties count as not better); NaN for KPIs
without a direction.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from .results import Results

#: (KPI prefix, "lower" | "higher" | None); the first matching prefix decides.
DIRECTIONS: tuple[tuple[str, str | None], ...] = (
    ("peak_backlog_date", None),
    ("backlog_on_", "lower"),
    ("peak_backlog", "lower"),
    ("decision_days_", "lower"),
    ("cost_", "lower"),
    ("assessments_total", "higher"),
    ("assessments_", None),
    ("appeals_", None),
    ("decisions_total", None),
)


def direction(kpi: str) -> str | None:
    """"lower" or "higher" when that is better for ``kpi``; None when neither is."""
    for prefix, better in DIRECTIONS:
        if kpi.startswith(prefix):
            return better
    return None


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, int]:
    """Mean, sample std, CI low, CI high and n of the finite values (Student t).

    The CI is NaN with fewer than two values; with zero spread it collapses to the mean.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return np.nan, np.nan, np.nan, np.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, np.nan, np.nan, np.nan, n
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * std / np.sqrt(n)
    return mean, std, mean - half, mean + half, n


def _kpi_order(kpis: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(kpis["kpi"]))


def summarise(results: Results, level: float = 0.95, kpis: list[str] | None = None) -> pd.DataFrame:
    """Per scenario and KPI: n, mean, std, t-interval and percentiles over replications.

    Parameters
    ----------
    results
        Results of a run.
    level
        Confidence level of the interval.
    kpis
        Restrict to these KPIs (default all).

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, kpi, n, mean, std, ci_low, ci_high, p5, p50, p95``; NaN values
        (e.g. a quarter without decisions) are left out of n.
    """
    table = results.kpis if kpis is None else results.kpis[results.kpis["kpi"].isin(kpis)]
    order = kpis or _kpi_order(table)
    rows = []
    for scenario in dict.fromkeys(table["scenario"]):
        sub = table[table["scenario"] == scenario]
        grouped = {k: g["value"].to_numpy() for k, g in sub.groupby("kpi", sort=False)}
        for kpi in order:
            if kpi not in grouped:
                continue
            values = grouped[kpi]
            mean, std, low, high, n = t_interval(values, level)
            finite = values[np.isfinite(values)]
            p5, p50, p95 = np.percentile(finite, [5, 50, 95]) if n else (np.nan,) * 3
            rows.append(
                {"scenario": scenario, "kpi": kpi, "n": n, "mean": mean, "std": std,
                 "ci_low": low, "ci_high": high, "p5": p5, "p50": p50, "p95": p95}
            )
    return pd.DataFrame(rows, columns=["scenario", "kpi", "n", "mean", "std", "ci_low", "ci_high", "p5", "p50", "p95"])


def paired_differences(results: Results, reference: str) -> pd.DataFrame:
    """Per-replication differences ``scenario - reference`` for every KPI and other scenario.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, replication, kpi, value, reference_value, difference``; only
        replications present (and finite) in both.
    """
    table = results.kpis
    if reference not in set(table["scenario"]):
        raise ValueError(f"reference {reference!r} is not in the results; scenarios: {', '.join(dict.fromkeys(table['scenario']))}")
    ref = table[table["scenario"] == reference][["replication", "kpi", "value"]].rename(columns={"value": "reference_value"})
    others = table[table["scenario"] != reference]
    merged = others.merge(ref, on=["replication", "kpi"], how="inner", sort=False)
    merged = merged[np.isfinite(merged["value"]) & np.isfinite(merged["reference_value"])]
    merged = merged.assign(difference=merged["value"] - merged["reference_value"])
    return merged.reset_index(drop=True)


def compare(
    results: Results, reference: str | None = None, level: float = 0.95, kpis: list[str] | None = None
) -> pd.DataFrame:
    """Paired differences of every scenario against a reference, per KPI.

    Parameters
    ----------
    results
        Results with at least two scenarios run with the same seed (common random numbers).
    reference
        Scenario to compare against; default the first scenario.
    level
        Confidence level.
    kpis
        Restrict to these KPIs (default all).

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, reference, kpi, n, reference_mean, scenario_mean, mean_difference,
        std_difference, ci_low, ci_high, half_width, better, share_better``.
        ``mean_difference`` is scenario minus reference; ``better`` is the direction from
        :data:`DIRECTIONS` ("lower", "higher" or "" when neither); ``share_better`` the share
        of replications where the scenario is strictly better (NaN without a direction).
    """
    names = list(dict.fromkeys(results.kpis["scenario"]))
    reference = reference or names[0]
    diffs = paired_differences(results, reference)
    if kpis is not None:
        diffs = diffs[diffs["kpi"].isin(kpis)]
    order = kpis or _kpi_order(results.kpis)
    rows = []
    for scenario in [n for n in names if n != reference]:
        sub = diffs[diffs["scenario"] == scenario]
        grouped = dict(tuple(sub.groupby("kpi", sort=False)))
        for kpi in order:
            if kpi not in grouped:
                continue
            g = grouped[kpi]
            d = g["difference"].to_numpy()
            mean, std, low, high, n = t_interval(d, level)
            better = direction(kpi)
            if better == "lower":
                share = float(np.mean(d < 0))
            elif better == "higher":
                share = float(np.mean(d > 0))
            else:
                share = np.nan
            rows.append(
                {"scenario": scenario, "reference": reference, "kpi": kpi, "n": n,
                 "reference_mean": float(g["reference_value"].mean()), "scenario_mean": float(g["value"].mean()),
                 "mean_difference": mean, "std_difference": std, "ci_low": low, "ci_high": high,
                 "half_width": (high - low) / 2, "better": better or "", "share_better": share}
            )
    columns = ["scenario", "reference", "kpi", "n", "reference_mean", "scenario_mean", "mean_difference",
               "std_difference", "ci_low", "ci_high", "half_width", "better", "share_better"]
    return pd.DataFrame(rows, columns=columns)


def precision_half_widths(
    results: Results, kpis: list[str], reference: str, level: float = 0.95
) -> dict[str, dict[str, float]]:
    """CI half-widths used by precision mode: ``{kpi: {scenario: half_width}}``.

    With several scenarios: the paired-difference half-width of each non-reference
    scenario. With one scenario: the half-width of the KPI's own CI. Infinite when it
    cannot be computed yet (fewer than two finite replications).

    Raises
    ------
    KeyError
        If a KPI is not in the results.
    """
    known = set(results.kpis["kpi"])
    missing = [k for k in kpis if k not in known]
    if missing:
        raise KeyError(f"unknown KPI(s) {', '.join(missing)}; known KPIs include: {', '.join(sorted(known)[:12])} ...")
    names = list(dict.fromkeys(results.kpis["scenario"]))
    out: dict[str, dict[str, float]] = {k: {} for k in kpis}
    if len(names) == 1:
        table = summarise(results, level, kpis)
        for _, row in table.iterrows():
            out[row["kpi"]][row["scenario"]] = _finite_or_inf((row["ci_high"] - row["ci_low"]) / 2)
    else:
        table = compare(results, reference, level, kpis)
        for _, row in table.iterrows():
            out[row["kpi"]][row["scenario"]] = _finite_or_inf(row["half_width"])
    for kpi in kpis:
        for scenario in names:
            if scenario != reference or len(names) == 1:
                out[kpi].setdefault(scenario, float("inf"))
    return out


def _finite_or_inf(value: float) -> float:
    return float(value) if np.isfinite(value) else float("inf")


def timeseries_bands(results: Results, variable: str, sum_over: tuple[str, ...] = ()) -> xr.Dataset:
    """Median and 50%/90% bands across replications, per date and scenario.

    Parameters
    ----------
    results
        Results of a run.
    variable
        A dated variable of :data:`wca_sim.results.TIMESERIES_SCHEMA` (e.g. ``"backlog"``).
    sum_over
        Category dims to sum over first (e.g. ``("kind",)`` for assessments).

    Returns
    -------
    xarray.Dataset
        Variables ``median``, ``lower_50``, ``upper_50`` (25th/75th percentiles),
        ``lower_90``, ``upper_90`` (5th/95th), dims ``(scenario, date[, category])``.
    """
    data = results.timeseries[variable]
    if "date" not in data.dims:
        raise ValueError(f"{variable!r} has no date dim; bands are per date")
    for dim in sum_over:
        data = data.sum(dim, skipna=True, min_count=1)
    with warnings.catch_warnings():
        # Categories padded in from other scenarios are all-NaN: their bands are NaN, as they should be.
        warnings.filterwarnings("ignore", message="All-NaN slice encountered", category=RuntimeWarning)
        q = data.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim="replication", skipna=True)
    bands = xr.Dataset(
        {
            "lower_90": q.sel(quantile=0.05, drop=True),
            "lower_50": q.sel(quantile=0.25, drop=True),
            "median": q.sel(quantile=0.5, drop=True),
            "upper_50": q.sel(quantile=0.75, drop=True),
            "upper_90": q.sel(quantile=0.95, drop=True),
        }
    )
    bands.attrs["variable"] = variable
    bands.attrs["replications"] = int(results.timeseries.sizes["replication"])
    return bands
