"""Figures for non-specialists: backlog fan charts, waits, KPI differences, workforce, tribunal.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot, so it works under the Agg backend (scripts, CI, the CLI) and displays
in Jupyter, and never touches global figure state. :func:`save_figures`
writes the standard set as PNG files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .analysis import compare, timeseries_bands
from .kpis import report_quarters
from .results import WAIT_BIN_DAYS, Results
from .scenario import Scenario

BAND_90 = 0.18
BAND_50 = 0.38
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def pretty(name: str) -> str:
    """Display form of a provider or scenario key: ``regional_north`` -> ``Regional north``."""
    text = name.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def milestones(scenario: Scenario) -> list[tuple[dt.date, str]]:
    """Contract events inside the horizon: exit announcements, provider starts and ends, region hand-overs.

    Events on the same date are merged into one label (one line each).
    """
    events: dict[dt.date, list[str]] = {}

    def add(date: dt.date | None, label: str) -> None:
        if date is not None and scenario.start_date < date <= scenario.end_date and label not in events.get(date, []):
            events.setdefault(date, []).append(label)

    for name, provider in scenario.providers.items():
        add(provider.exit_announced, f"{pretty(name)} exit announced")
        add(provider.contract_start, f"{pretty(name)} starts")
        add(provider.contract_end, f"{pretty(name)} ends")
    handovers: dict[tuple[dt.date, str], int] = {}
    for region in scenario.regions.values():
        for period in region.served_by[1:]:
            handovers[(period.start, period.provider)] = handovers.get((period.start, period.provider), 0) + 1
    for (date, provider), count in sorted(handovers.items()):
        add(date, f"{count} region{'s' if count > 1 else ''} to {pretty(provider)}")
    return [(date, "\n".join(labels)) for date, labels in sorted(events.items())]


def _date_axis(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(True, alpha=0.3)


def _mark_milestones(ax, scenario: Scenario) -> None:
    for i, (date, label) in enumerate(milestones(scenario)):
        x = np.datetime64(date, "ns")
        ax.axvline(x, color="0.3", linestyle="--", linewidth=0.9)
        # Stagger labels vertically so neighbouring events stay readable.
        y = 0.40 - 0.12 * (i % 3)
        ax.text(x, y, " " + label, transform=ax.get_xaxis_transform(), fontsize=8, va="top", ha="left",
                color="0.2", bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1})


def _band(ax, bands, colour: str, label: str, scale: float = 1.0) -> None:
    dates = bands["date"].values
    ax.fill_between(dates, bands["lower_90"].values / scale, bands["upper_90"].values / scale, color=colour,
                    alpha=BAND_90, linewidth=0, label=f"{label}: 90% range")
    ax.fill_between(dates, bands["lower_50"].values / scale, bands["upper_50"].values / scale, color=colour,
                    alpha=BAND_50, linewidth=0, label=f"{label}: 50% range")
    ax.plot(dates, bands["median"].values / scale, color=colour, linewidth=1.8, label=f"{label}: median")


def _scenario_bands(results: Results, variable: str, name: str, **kwargs):
    bands = timeseries_bands(results, variable, **kwargs).sel(scenario=name)
    scenario = results.scenarios.get(name)
    if scenario is not None:  # drop dates padded in from other scenarios' horizons
        bands = bands.sel(date=slice(np.datetime64(scenario.start_date, "ns"), np.datetime64(scenario.end_date, "ns")))
    return bands


def backlog_fan_chart(results: Results, variable: str = "backlog") -> Figure:
    """Backlog over time per scenario: median, 50% and 90% ranges, contract milestones marked."""
    names = results.scenario_names
    fig = Figure(figsize=(11, 3.4 * len(names) + 0.8), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    n = results.timeseries.sizes["replication"]
    for i, (ax, name) in enumerate(zip(axes, names)):
        _band(ax, _scenario_bands(results, variable, name), COLOURS[i % len(COLOURS)], "backlog", scale=1e3)
        if name in results.scenarios:
            _mark_milestones(ax, results.scenarios[name])
        ax.set_title(f"Scenario: {name}", loc="left", fontsize=11)
        ax.set_ylabel("Claimants waiting for\nassessment (thousands)")
        _date_axis(ax)
    # Only after every panel has its data: the shared y axis then fits all of them.
    axes[0].set_ylim(bottom=0)
    axes[0].legend(loc="lower right", fontsize=8, ncol=3)
    axes[-1].set_xlabel("Date (end of day)")
    fig.suptitle(f"WCA assessment backlog: median and ranges over {n} replication{'s' if n != 1 else ''}\n"
                 "(dashed lines: contract events)", fontsize=13)
    return fig


def decision_time_distribution(results: Results) -> Figure:
    """Share of initial decisions by weeks from referral, per scenario (claimants referred during the run)."""
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    by_wait = results.timeseries["decisions_by_wait"]
    xmax = 0.0
    for i, name in enumerate(results.scenario_names):
        counts = by_wait.sel(scenario=name)
        scenario = results.scenarios.get(name)
        if scenario is not None:
            quarters = [q for q in report_quarters(scenario) if q in set(counts["referral_quarter"].values.tolist())]
            counts = counts.sel(referral_quarter=quarters)
        per_rep = counts.sum("referral_quarter", skipna=True).transpose("replication", "wait_week").values
        totals = per_rep.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals > 0, per_rep / totals, np.nan)
        mean_share = np.nanmean(shares, axis=0) if np.isfinite(shares).any() else np.zeros(per_rep.shape[1])
        weeks = counts["wait_week"].values * WAIT_BIN_DAYS / 7
        colour = COLOURS[i % len(COLOURS)]
        ax.step(weeks, 100 * mean_share, where="post", color=colour, linewidth=1.8, label=name)
        cumulative = np.nancumsum(mean_share)
        if cumulative[-1] > 0:
            median_week = weeks[np.searchsorted(cumulative, 0.5 * cumulative[-1])]
            ax.axvline(median_week, color=colour, linestyle=":", linewidth=1.2)
            xmax = max(xmax, weeks[min(np.searchsorted(cumulative, 0.99 * cumulative[-1]) + 2, len(weeks) - 1)])
    ax.set_xlim(0, xmax or None)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Weeks from referral to DWP decision")
    ax.set_ylabel("Share of decisions (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(title="Scenario (dotted: median week)", fontsize=9)
    fig.suptitle("How long claimants referred during the run waited for a decision\n"
                 "(average over replications; decisions made before the end of the run)", fontsize=12)
    return fig


#: KPI name prefix -> (label, unit, divisor) for difference plots.
_KPI_UNITS: tuple[tuple[str, str, str, float], ...] = (
    ("backlog_on_", "Backlog on {}", "thousand claimants", 1e3),
    ("peak_backlog_date", "Date of peak backlog", "days", 1.0),
    ("peak_backlog", "Peak backlog", "thousand claimants", 1e3),
    ("decision_days_", "Referral to decision, {}", "days", 1.0),
    ("cost_per_assessment", "Provider cost per assessment", "GBP", 1.0),
    ("cost_", "Cost, {}", "GBP million", 1e6),
    ("assessments_", "Assessments, {}", "thousands", 1e3),
    ("appeals_", "Appeals {}", "thousands", 1e3),
)

DEFAULT_DIFFERENCE_KPIS = ("backlog_on_*", "peak_backlog", "decision_days_mean", "cost_total",
                           "cost_per_assessment", "appeals_lodged_total")


def kpi_label(kpi: str) -> tuple[str, str, float]:
    """Readable title, unit and divisor of a KPI for plots."""
    for prefix, label, unit, divisor in _KPI_UNITS:
        if kpi.startswith(prefix):
            rest = kpi[len(prefix):].replace("_total", "").replace("_", " ").strip()
            return (label.format(rest) if "{}" in label else label), unit, divisor
    return kpi, "", 1.0


def _select_kpis(available: list[str], patterns: tuple[str, ...]) -> list[str]:
    chosen: list[str] = []
    for pattern in patterns:
        matches = [k for k in available if (k.startswith(pattern[:-1]) if pattern.endswith("*") else k == pattern)]
        chosen += [k for k in matches if k not in chosen]
    return chosen


def kpi_differences(differences: pd.DataFrame, kpis: list[str] | tuple[str, ...] | None = None) -> Figure:
    """Mean paired difference (scenario minus reference) with its CI, one panel per KPI.

    Parameters
    ----------
    differences
        Output of :func:`wca_sim.analysis.compare`.
    kpis
        KPI names or ``prefix*`` patterns; default :data:`DEFAULT_DIFFERENCE_KPIS`.
    """
    available = list(dict.fromkeys(differences["kpi"]))
    chosen = _select_kpis(available, tuple(kpis or DEFAULT_DIFFERENCE_KPIS)) or available[:6]
    ncols = 2
    nrows = max(1, -(-len(chosen) // ncols))
    scenarios = list(dict.fromkeys(differences["scenario"]))
    fig = Figure(figsize=(11, 1.2 + nrows * (0.55 * len(scenarios) + 1.3)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    reference = differences["reference"].iloc[0] if len(differences) else "reference"
    for ax, kpi in zip(axes, chosen):
        label, unit, divisor = kpi_label(kpi)
        rows = differences[differences["kpi"] == kpi].set_index("scenario").reindex(scenarios)
        y = np.arange(len(scenarios))
        mean = rows["mean_difference"].to_numpy() / divisor
        err = np.vstack([mean - rows["ci_low"].to_numpy() / divisor, rows["ci_high"].to_numpy() / divisor - mean])
        ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="o", color="black", ecolor="0.35", capsize=4)
        ax.axvline(0, color="0.5", linewidth=1)
        ax.set_yticks(y, scenarios)
        ax.set_ylim(-0.7, len(scenarios) - 0.3)
        better = rows["better"].iloc[0] if "better" in rows and len(rows) else ""
        hint = f" ({better} is better)" if better else ""
        ax.set_title(label + hint, fontsize=10)
        ax.set_xlabel(f"Difference from {reference} ({unit})" if unit else f"Difference from {reference}")
        ax.grid(True, axis="x", alpha=0.3)
    for ax in axes[len(chosen):]:
        ax.set_visible(False)
    fig.suptitle(f"Each scenario minus {reference}: mean over paired replications with 95% confidence interval",
                 fontsize=12)
    return fig


def workforce(results: Results) -> Figure:
    """HCP headcount (FTE) by provider over time, one panel per scenario (median and 90% range)."""
    names = results.scenario_names
    fig = Figure(figsize=(11, 3.2 * len(names) + 0.8), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        bands = _scenario_bands(results, "hcp_fte", name)
        for j, provider in enumerate(bands["provider"].values):
            one = bands.sel(provider=provider)
            if not np.nanmax(np.nan_to_num(one["upper_90"].values)) > 0:
                continue  # provider absent from this scenario
            colour = COLOURS[j % len(COLOURS)]
            dates = one["date"].values
            ax.fill_between(dates, one["lower_90"].values, one["upper_90"].values, color=colour, alpha=BAND_90, linewidth=0)
            ax.plot(dates, one["median"].values, color=colour, linewidth=1.8, label=pretty(str(provider)))
        if name in results.scenarios:
            _mark_milestones(ax, results.scenarios[name])
        ax.set_title(f"Scenario: {name}", loc="left", fontsize=11)
        ax.set_ylabel("Healthcare professionals\n(full-time equivalent)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=8)
        _date_axis(ax)
    axes[0].set_ylim(bottom=0)
    axes[-1].set_xlabel("Date")
    fig.suptitle("Assessment staff by provider (median; shaded: 90% range)", fontsize=13)
    return fig


def tribunal_backlog(results: Results) -> Figure:
    """Appeals waiting for a tribunal hearing, per scenario (median and 90% range)."""
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax = fig.subplots()
    for i, name in enumerate(results.scenario_names):
        bands = _scenario_bands(results, "tribunal_backlog", name)
        colour = COLOURS[i % len(COLOURS)]
        dates = bands["date"].values
        ax.fill_between(dates, bands["lower_90"].values / 1e3, bands["upper_90"].values / 1e3, color=colour,
                        alpha=BAND_90, linewidth=0)
        ax.plot(dates, bands["median"].values / 1e3, color=colour, linewidth=1.8, label=name)
    ax.set_ylabel("Appeals waiting for a hearing (thousands)")
    ax.set_xlabel("Date (end of day)")
    ax.set_ylim(bottom=0)
    ax.legend(title="Scenario (median; shaded: 90% range)", fontsize=9)
    _date_axis(ax)
    fig.suptitle("ESA appeals waiting at the First-tier Tribunal", fontsize=13)
    return fig


def save_figures(results: Results, folder: str | Path, reference: str | None = None, dpi: int = 120) -> list[Path]:
    """Write the standard figures as ``<folder>/figures/*.png``.

    Files: ``backlog_fan.png``, ``decision_times.png``, ``workforce.png``,
    ``tribunal_backlog.png`` and, with two or more scenarios, ``kpi_differences.png``
    (against ``reference``, default the first scenario).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(folder) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "backlog_fan": backlog_fan_chart(results),
        "decision_times": decision_time_distribution(results),
        "workforce": workforce(results),
        "tribunal_backlog": tribunal_backlog(results),
    }
    if len(results.scenario_names) > 1:
        figures["kpi_differences"] = kpi_differences(compare(results, reference))
    written = []
    for name, fig in figures.items():
        path = out / f"{name}.png"
        fig.savefig(path, dpi=dpi)
        written.append(path)
    return written
