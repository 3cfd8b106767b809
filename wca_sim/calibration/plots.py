"""Figures of a calibration: model series against the published points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from .targets import Target  # noqa: E402


def _band(ax: Any, da: xr.DataArray, label: str, color: str) -> None:
    """Median and 90% band across replications of a (replication, date) series."""
    values = da.transpose("replication", "date").values
    dates = pd.to_datetime(da["date"].values)
    lo, med, hi = np.nanquantile(values, [0.05, 0.5, 0.95], axis=0)
    ax.fill_between(dates, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax.plot(dates, med, color=color, label=f"{label} (model median, 90% band)")


def _point(ax: Any, t: Target, color: str, label: str, per: float = 1.0) -> None:
    low, high = t.interval
    when = pd.Timestamp(t.date or t.start + (t.end - t.start) / 2)
    centre = t.central * per
    err_low = centre - (low * per if np.isfinite(low) else centre)
    err_high = (high * per if np.isfinite(high) else centre) - centre
    marker = "^" if np.isinf(high) else ("v" if np.isinf(low) else "o")
    ax.errorbar([when], [centre], yerr=[[max(err_low, 0) + t.scale * per], [max(err_high, 0) + t.scale * per]],
                fmt=marker, color=color, capsize=4, label=label)


def plot_fit_series(results: Any, targets: Sequence[Target], scenario: str | None = None) -> dict[str, Any]:
    """Backlog and appeal series of a run with the published figures they are fitted to.

    Returns
    -------
    dict
        ``{"backlog": Figure, "appeals": Figure}``.
    """
    ts = results.timeseries
    name = scenario or str(ts["scenario"].values[0])
    ds = ts.sel(scenario=name)
    by_fig = {t.figure: t for t in targets}
    figs: dict[str, Any] = {}

    fig, ax = plt.subplots(figsize=(9, 4.8))
    _band(ax, ds["backlog"], "all referral types", "C0")
    for i, rtype in enumerate(ds["referral_type"].values):
        _band(ax, ds["backlog_by_type"].sel(referral_type=rtype), str(rtype).replace("_", " "), f"C{i + 1}")
    colours = {"wca_backlog_apr2014_total": "C0", "wca_backlog_apr2014_new_claims": "C1",
               "wca_backlog_apr2014_ib": "C2", "wca_backlog_apr2014_repeat": "C3", "wca_backlog_jun2014_minister": "k"}
    for key, colour in colours.items():
        if key in by_fig:
            _point(ax, by_fig[key], colour, f"published: {key}")
    ax.set_title(f"Backlog awaiting assessment: {name} against published figures")
    ax.set_ylabel("claimants (national)")
    ax.set_xlabel("date")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    figs["backlog"] = fig

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    monthly = {v: ds[v].resample(date="MS").sum() for v in ("mr_requested", "appeals_lodged", "appeals_heard")}
    for i, (var, da) in enumerate(monthly.items()):
        _band(ax1, da, var.replace("_", " ") + " a month", f"C{i}")
    if "mr_registrations_peak_mar2017" in by_fig:
        _point(ax1, by_fig["mr_registrations_peak_mar2017"], "C0", "published: MR registrations Mar 2017")
    if "mr_decisions_oct2013_apr2016" in by_fig:
        t = by_fig["mr_decisions_oct2013_apr2016"]
        months = (t.end - t.start).days / (365.25 / 12)
        _point(ax1, t, "k", "published: MR decisions Oct 2013-Apr 2016, a month on average", per=1 / months)
    ax1.set_ylabel("per month (national)")
    ax1.set_title(f"Reconsiderations and appeals: {name}")
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    _band(ax2, ds["tribunal_backlog"], "ESA appeals waiting for a hearing", "C4")
    _band(ax2, ds["mr_pending"], "MRs in progress", "C5")
    ax2.set_ylabel("claimants (national)")
    ax2.set_xlabel("date")
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    figs["appeals"] = fig
    return figs
