"""Key performance indicators computed from the time series alone.

Both engines call :func:`compute_kpis` at the end of ``Engine.run``, so a KPI
means the same thing whatever engine produced it. The result is a long table
with columns ``scenario, replication, kpi, value`` (one row per replication and
KPI; ``value`` is float64).

KPI names (stable: scripts, tests and the README rely on them)
---------------------------------------------------------------
``backlog_on_<YYYY-MM-DD>``
    Claimants awaiting assessment at the end of each of the scenario's
    ``report_dates`` (national count).
``peak_backlog``
    Largest end-of-day backlog over the run (national count).
``peak_backlog_date``
    Date of that peak (the first day it is reached), as **days since
    1970-01-01** so that the table stays numeric; convert with
    ``pandas.Timestamp(0) + pandas.to_timedelta(value, "D")``.
``decision_days_p50_<YYYYQn>``, ``decision_days_p90_<YYYYQn>``
    Median and 90th percentile of days from referral to the initial DWP
    decision, for claimants referred in quarter ``YYYYQn`` and decided during
    the run (from ``decisions_by_wait``; linear interpolation inside each
    weekly bin, the open-ended last bin treated as 7 days wide). Reported for
    every calendar quarter from the one containing ``start_date`` to the one
    containing ``end_date``: the initial stock's quarters are left out because
    only the part of those cohorts still waiting on the start date is seen.
    NaN when a quarter has no decisions. Late quarters are right-censored
    (claimants not yet decided at ``end_date`` are missing), so their
    percentiles understate the eventual waits.
``decision_days_mean``
    Mean days from referral to decision over all initial decisions made during
    the run (initial stock included): ``sum(decision_wait_days_mean *
    decisions) / sum(decisions)``.
``decisions_total``
    Initial DWP decisions made during the run.
``assessments_<provider>_<YYYY-YY>``
    Assessments (paper and face-to-face) completed by a provider in a contract
    year running 1 Sep to 31 Aug (``2014-15`` = 1 Sep 2014 - 31 Aug 2015). Every
    provider of the scenario and every contract year overlapping the run is
    reported (zero when the provider was not working); the first and last
    years are partial when the run starts or ends inside them.
``assessments_total``
    All assessments completed during the run.
``appeals_lodged_total``, ``appeals_heard_total``, ``appeals_overturned_total``
    Appeals reaching the tribunal, heard, and overturned during the run.
``cost_total``, ``cost_<component>_total``
    GBP over the run, all components and each of
    :data:`wca_sim.results.COST_COMPONENTS`.
``cost_per_assessment``
    Provider payments (``provider_paper + provider_f2f``) divided by
    ``assessments_total`` (GBP per assessment; NaN when there were none).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from .results import COST_COMPONENTS, WAIT_BIN_DAYS
from .scenario import Scenario

EPOCH = np.datetime64("1970-01-01", "ns")

#: Percentiles of referral-to-decision time reported per referral quarter.
DECISION_PERCENTILES: tuple[int, ...] = (50, 90)


def quarter_label(date: dt.date | pd.Timestamp) -> str:
    """Calendar quarter of a date, e.g. ``"2013Q4"``."""
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"


def contract_year_label(date: dt.date | pd.Timestamp) -> str:
    """Contract year (1 Sep - 31 Aug) containing a date, e.g. ``"2014-15"``."""
    first = date.year if date.month >= 9 else date.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def report_quarters(scenario: Scenario) -> list[str]:
    """Referral quarters for which decision-time percentiles are reported."""
    periods = pd.period_range(scenario.start_date, scenario.end_date, freq="Q")
    return [str(p) for p in periods]


def contract_years(scenario: Scenario) -> list[str]:
    """Contract years overlapping the scenario's horizon, in order."""
    labels: list[str] = []
    for year in range(scenario.start_date.year - 1, scenario.end_date.year + 1):
        start, end = dt.date(year, 9, 1), dt.date(year + 1, 8, 31)
        if start <= scenario.end_date and end >= scenario.start_date:
            labels.append(contract_year_label(start))
    return labels


def kpi_names(scenario: Scenario) -> list[str]:
    """The KPI names :func:`compute_kpis` reports for a scenario, in table order."""
    names = [f"backlog_on_{d.isoformat()}" for d in scenario.report_dates]
    names += ["peak_backlog", "peak_backlog_date"]
    for quarter in report_quarters(scenario):
        names += [f"decision_days_p{p}_{quarter}" for p in DECISION_PERCENTILES]
    names += ["decision_days_mean", "decisions_total"]
    for provider in scenario.provider_names:
        names += [f"assessments_{provider}_{year}" for year in contract_years(scenario)]
    names += ["assessments_total", "appeals_lodged_total", "appeals_heard_total", "appeals_overturned_total"]
    names += ["cost_total"] + [f"cost_{c}_total" for c in COST_COMPONENTS] + ["cost_per_assessment"]
    return names


def binned_quantile(counts: np.ndarray, q: float, width: float = WAIT_BIN_DAYS) -> np.ndarray:
    """Quantile of a histogram with equal-width bins starting at 0, interpolating linearly inside bins.

    Parameters
    ----------
    counts
        Array ``(..., bins)`` of non-negative counts.
    q
        Quantile in (0, 1].
    width
        Bin width (days).

    Returns
    -------
    numpy.ndarray
        Shape ``counts.shape[:-1]``; NaN where the histogram is empty.
    """
    counts = np.nan_to_num(np.asarray(counts, dtype=np.float64))
    cum = np.cumsum(counts, axis=-1)
    total = cum[..., -1]
    target = q * total
    # First bin whose cumulative count reaches the target; it has a positive
    # count because the cumulative count before it is below the target.
    index = np.argmax(cum >= target[..., None] * (1 - 1e-12), axis=-1)
    before = np.where(index > 0, np.take_along_axis(cum, np.maximum(index - 1, 0)[..., None], -1)[..., 0], 0.0)
    in_bin = np.take_along_axis(counts, index[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((target - before) / in_bin, 0.0, 1.0)
        value = width * (index + fraction)
    return np.where(total > 0, value, np.nan)


def compute_kpis(timeseries: xr.Dataset, scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """KPIs of every scenario and replication in a time-series Dataset.

    Parameters
    ----------
    timeseries
        Dataset following :data:`wca_sim.results.TIMESERIES_SCHEMA`.
    scenarios
        The scenarios by name; each name in the ``scenario`` coordinate must be present.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, replication, kpi, value``; rows ordered by scenario (as in
        the Dataset), replication, then KPI in the order of :func:`kpi_names`.
    """
    frames = []
    for name in timeseries["scenario"].values:
        name = str(name)
        if name not in scenarios:
            raise KeyError(f"no Scenario given for scenario {name!r} of the time series")
        frames.append(_scenario_kpis(timeseries.sel(scenario=name), scenarios[name], name))
    if not frames:
        return pd.DataFrame({"scenario": [], "replication": [], "kpi": [], "value": []})
    return pd.concat(frames, ignore_index=True)


def _scenario_kpis(ds: xr.Dataset, scenario: Scenario, name: str) -> pd.DataFrame:
    replications = ds["replication"].values.astype(np.int64)
    # After concatenation with other scenarios the date axis may be longer than
    # this scenario's horizon (padded with NaN): keep only its own days.
    ds = ds.sel(date=slice(np.datetime64(scenario.start_date, "ns"), np.datetime64(scenario.end_date, "ns")))
    values: dict[str, np.ndarray] = {}

    backlog = ds["backlog"].transpose("replication", "date")
    for date in scenario.report_dates:
        values[f"backlog_on_{date.isoformat()}"] = backlog.sel(date=np.datetime64(date, "ns")).values
    backlog_values = backlog.values
    peak_index = np.nanargmax(backlog_values, axis=1)
    values["peak_backlog"] = np.nanmax(backlog_values, axis=1)
    peak_dates = ds["date"].values[peak_index]
    values["peak_backlog_date"] = (peak_dates - EPOCH) / np.timedelta64(1, "D")

    by_wait = ds["decisions_by_wait"].transpose("replication", "referral_quarter", "wait_week")
    known_quarters = {str(q): i for i, q in enumerate(by_wait["referral_quarter"].values)}
    for quarter in report_quarters(scenario):
        if quarter in known_quarters:
            counts = by_wait.values[:, known_quarters[quarter], :]
        else:
            counts = np.zeros((len(replications), 1))
        for p in DECISION_PERCENTILES:
            values[f"decision_days_p{p}_{quarter}"] = binned_quantile(counts, p / 100)

    decisions = ds["decisions"].sum("outcome").transpose("replication", "date").values
    wait_mean = ds["decision_wait_days_mean"].transpose("replication", "date").values
    total_decisions = decisions.sum(axis=1)
    weighted = np.where(decisions > 0, np.nan_to_num(wait_mean) * decisions, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values["decision_days_mean"] = np.where(total_decisions > 0, weighted / total_decisions, np.nan)
    values["decisions_total"] = total_decisions

    assessments = ds["assessments"].sum("kind", skipna=True).transpose("replication", "date", "provider")
    years = np.array([contract_year_label(pd.Timestamp(d)) for d in ds["date"].values])
    for provider in scenario.provider_names:
        series = assessments.sel(provider=provider).values
        for year in contract_years(scenario):
            values[f"assessments_{provider}_{year}"] = np.nansum(series[:, years == year], axis=1)
    assessments_total = np.nansum(assessments.values, axis=(1, 2))
    values["assessments_total"] = assessments_total

    for variable in ("appeals_lodged", "appeals_heard", "appeals_overturned"):
        values[f"{variable}_total"] = ds[variable].sum("date").values

    cost = ds["cost"].sum("date").transpose("replication", "component")
    values["cost_total"] = cost.sum("component").values
    for component in COST_COMPONENTS:
        values[f"cost_{component}_total"] = cost.sel(component=component).values
    provider_cost = values["cost_provider_paper_total"] + values["cost_provider_f2f_total"]
    with np.errstate(invalid="ignore", divide="ignore"):
        values["cost_per_assessment"] = np.where(assessments_total > 0, provider_cost / assessments_total, np.nan)

    names = kpi_names(scenario)
    assert list(values) == names, "kpi_names() and compute_kpis() disagree"
    table = np.stack([np.asarray(values[k], dtype=np.float64) for k in names], axis=1)  # (replication, kpi)
    return pd.DataFrame(
        {
            "scenario": name,
            "replication": np.repeat(replications, len(names)),
            "kpi": np.tile(np.array(names, dtype=object), len(replications)),
            "value": table.ravel(),
        }
    )
