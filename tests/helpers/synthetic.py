"""Synthetic time series that follow :data:`wca_sim.results.TIMESERIES_SCHEMA`.

Tests fill in the variables they care about with values whose KPIs are known
by hand; everything else is zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from wca_sim.results import (
    TIMESERIES_SCHEMA,
    Results,
    base_provenance,
    timeseries_coords,
)
from wca_sim.scenario import (
    Scenario,
    load_scenario,
)


def small_scenario(name: str = "run-to-aug-2015", end: str = "2014-06-30", **overrides: object) -> Scenario:
    """A built-in scenario cut to a short horizon with one report date inside it."""
    base = {"end_date": end, "report_dates": ["2014-04-30"]}
    base.update(overrides)
    return load_scenario(name).with_overrides(base)


def zero_timeseries(scenario: Scenario, replications: list[int]) -> xr.Dataset:
    """A Dataset with every schema variable present and zero (decision_wait_days_mean NaN)."""
    coords = timeseries_coords(scenario, replications)
    data_vars = {}
    for variable, extra in TIMESERIES_SCHEMA.items():
        dims = ("scenario", "replication") + (() if variable == "decisions_by_wait" else ("date",)) + extra
        shape = tuple(len(coords[d]) for d in dims)
        fill = np.nan if variable == "decision_wait_days_mean" else 0.0
        data_vars[variable] = (dims, np.full(shape, fill, dtype=np.float64))
    data_vars["initial_stock"] = (("scenario", "replication"), np.zeros((1, len(replications))))
    return xr.Dataset(data_vars, coords=coords)


def results_from_kpi_values(values: dict[str, np.ndarray], kpi: str = "x") -> Results:
    """Results holding only a KPI table: ``values[scenario][replication]`` for one KPI."""
    rows = [
        {"scenario": s, "replication": r, "kpi": kpi, "value": float(v)}
        for s, vals in values.items()
        for r, v in enumerate(vals)
    ]
    ts = xr.Dataset(coords={"scenario": list(values), "replication": np.arange(len(next(iter(values.values()))))})
    return Results(ts, pd.DataFrame(rows), scenarios={}, provenance=base_provenance("none", 0, []))
