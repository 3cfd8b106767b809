"""Results: labelled time series, a KPI table and provenance, whatever engine made them.

``Results.timeseries`` is an :class:`xarray.Dataset` with dims
``(scenario, replication, date[, category])``. Counts are at national scale
(simulated counts divided by the scenario's ``scale``). The variables and their
extra dims are listed in :data:`TIMESERIES_SCHEMA`; every engine produces all
of them, so :mod:`wca_sim.kpis`, :mod:`wca_sim.analysis` and
:mod:`wca_sim.plots` never need to know which engine ran.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .scenario import Scenario, dump_scenario, load_scenario

#: Flow out of the system for one referral episode. Every referral (and every
#: claimant of the initial stock) ends in exactly one of these, or is still in
#: one of :data:`STAGES`.
EXITS: tuple[str, ...] = (
    "closed_while_waiting",   # closed before assessment (waiting hazard)
    "closed_dna",             # did not attend and not rebooked
    "award_sg",               # initial decision: Support Group
    "award_wrag",             # initial decision: Work-Related Activity Group
    "ffw_accepted",           # Fit for Work, no MR requested and no appeal
    "ffw_after_mr",           # MR not revised, no appeal
    "mr_revised",             # MR revised the decision to an award
    "appeal_withdrawn",       # appeal withdrawn or struck out before a hearing
    "appeal_upheld",          # tribunal upheld the FFW decision
    "appeal_overturned",      # tribunal overturned the FFW decision
)

#: Stocks in progress at the end of a day.
STAGES: tuple[str, ...] = (
    "backlog",                  # awaiting assessment (incl. rebooked non-attenders and those being assessed)
    "awaiting_decision",        # assessed, waiting for the DWP decision (incl. report rework)
    "mr_pending",               # mandatory reconsideration in progress
    "appeals_pending_lodging",  # decided to appeal, appeal not yet at the tribunal
    "tribunal_backlog",         # appeal waiting for a hearing
)

COST_COMPONENTS: tuple[str, ...] = (
    "provider_paper",
    "provider_f2f",
    "tribunal",
    "dwp_decisions",
    "dwp_mr",
    "benefit_waiting",
)

#: Width of the waiting-time bins of ``decisions_by_wait``, in days.
WAIT_BIN_DAYS = 7

#: Time-series variables and their dims after (scenario, replication, date).
#: ``decisions_by_wait`` is the one variable without a date dim: decisions made
#: during the run, by quarter of referral and completed weeks from referral to decision.
TIMESERIES_SCHEMA: dict[str, tuple[str, ...]] = {
    "referrals": ("referral_type",),            # new referrals that day
    "backlog": (),                              # end of day
    "backlog_by_provider": ("provider",),
    "backlog_by_region": ("region",),
    "backlog_by_type": ("referral_type",),
    "assessments": ("provider", "kind"),        # completed that day; kind in ASSESSMENT_KINDS
    "did_not_attend": ("provider",),            # missed appointments that day
    "decisions": ("outcome",),                  # initial DWP decisions that day
    "decision_wait_days_mean": (),              # mean days referral -> decision of that day's decisions (NaN if none)
    "closed_while_waiting": (),                 # that day
    "awaiting_decision": (),                    # end of day
    "mr_requested": (),                         # that day
    "mr_pending": (),                           # end of day
    "appeals_pending_lodging": (),              # end of day
    "appeals_lodged": (),                       # reached the tribunal that day
    "tribunal_backlog": (),                     # end of day
    "appeals_heard": (),                        # that day
    "appeals_overturned": (),                   # that day
    "appeals_withdrawn": (),                    # that day
    "exits": ("exit",),                         # referral episodes ending that day, by exit
    "hcp_fte": ("provider",),                   # headcount FTE (incl. in training), end of day
    "hcp_fte_effective": ("provider",),         # FTE weighted by training ramp
    "incidents": (),                            # incidents of abuse that day
    "cost": ("component",),                     # GBP that day
    "decisions_by_wait": ("referral_quarter", "wait_week"),
}

#: Variables with no date dim.
UNDATED = ("decisions_by_wait", "initial_stock")


def timeseries_coords(scenario: Scenario, replications: Sequence[int]) -> dict[str, Any]:
    """Coordinates of a one-scenario time-series Dataset; every engine builds its Dataset on these."""
    from .calendar import referral_quarters, wait_weeks
    from .scenario import ASSESSMENT_KINDS, OUTCOMES, REFERRAL_TYPES

    return {
        "scenario": [scenario.name],
        "replication": np.asarray(replications, dtype=np.int64),
        "date": pd.date_range(scenario.start_date, scenario.end_date, freq="D").values.astype("datetime64[ns]"),
        "referral_type": list(REFERRAL_TYPES),
        "provider": list(scenario.provider_names),
        "region": list(scenario.region_names),
        "kind": list(ASSESSMENT_KINDS),
        "outcome": list(OUTCOMES),
        "exit": list(EXITS),
        "component": list(COST_COMPONENTS),
        "referral_quarter": referral_quarters(scenario),
        "wait_week": np.arange(wait_weeks(scenario), dtype=np.int64),
    }


@dataclass
class Results:
    """The output of :func:`wca_sim.run` for one or more scenarios.

    Attributes
    ----------
    timeseries
        Dataset with the variables of :data:`TIMESERIES_SCHEMA` plus
        ``initial_stock`` (dims scenario, replication: claimants in progress on
        the start date, national scale).
    kpis
        Long table with columns ``scenario, replication, kpi, value``.
    scenarios
        The resolved scenarios by name.
    provenance
        Package version, engine, root seed, replications, command, timestamps.
    journeys
        Optional per-claimant records (DES only), columns documented in
        ``docs/model.md``; None when not requested.
    """

    timeseries: xr.Dataset
    kpis: pd.DataFrame
    scenarios: dict[str, Scenario]
    provenance: dict[str, Any] = field(default_factory=dict)
    journeys: pd.DataFrame | None = None

    @property
    def scenario_names(self) -> list[str]:
        return [str(s) for s in self.timeseries["scenario"].values]

    @property
    def replications(self) -> list[int]:
        return [int(r) for r in self.timeseries["replication"].values]

    @classmethod
    def concat(cls, parts: list[Results] | tuple[Results, ...]) -> Results:
        """Merge Results along replication (same scenario) and scenario.

        Scenarios keep the order in which they first appear in ``parts``;
        within a scenario, replications are sorted by id, so the outcome does
        not depend on the order in which batches were produced. Category
        coordinates that differ between scenarios (providers, regions, dates,
        referral quarters, wait weeks) are unioned and the gaps filled with NaN.

        Raises
        ------
        ValueError
            If a replication of a scenario appears twice, or one scenario name
            maps to two different Scenarios.
        """
        if not parts:
            raise ValueError("nothing to concatenate")
        order: list[str] = []
        by_scenario: dict[str, list[Results]] = {}
        scenarios: dict[str, Scenario] = {}
        for part in parts:
            for name, scenario in part.scenarios.items():
                if name in scenarios and scenarios[name] != scenario:
                    raise ValueError(f"two different scenarios are both named {name!r}")
                scenarios[name] = scenario
            for name in part.scenario_names:
                if name not in by_scenario:
                    order.append(name)
                    by_scenario[name] = []
                by_scenario[name].append(part)

        datasets, kpi_frames, journey_frames = [], [], []
        for name in order:
            pieces = [p.timeseries.sel(scenario=[name]) for p in by_scenario[name]]
            ds = pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim="replication", join="exact")
            reps = ds["replication"].values
            if len(np.unique(reps)) != len(reps):
                raise ValueError(f"scenario {name!r}: a replication appears more than once")
            datasets.append(ds.sortby("replication"))
            kpis = pd.concat([p.kpis[p.kpis["scenario"] == name] for p in by_scenario[name]], ignore_index=True)
            kpi_frames.append(kpis.sort_values("replication", kind="mergesort"))
            for p in by_scenario[name]:
                if p.journeys is not None:
                    journey_frames.append(p.journeys)
        timeseries = xr.concat(_align_categories(datasets), dim="scenario", join="exact") if len(datasets) > 1 else datasets[0]
        provenance = dict(parts[0].provenance)
        provenance["replications"] = sorted({r for p in parts for r in p.replications})
        return cls(
            timeseries=timeseries,
            kpis=pd.concat(kpi_frames, ignore_index=True),
            scenarios={name: scenarios[name] for name in order if name in scenarios},
            provenance=provenance,
            journeys=pd.concat(journey_frames, ignore_index=True) if journey_frames else None,
        )

    # ----------------------------------------------------------- save / load

    def save(self, directory: str | Path) -> Path:
        """Write ``timeseries.nc``, ``kpis.csv``, ``scenario-<name>.toml``,
        ``provenance.json`` (and ``journeys.parquet`` when present) into ``directory``.

        Files are written to a temporary sibling folder and moved into place
        at the end, so a failure leaves nothing half-written.
        """
        from .io_util import atomic_directory

        with atomic_directory(directory) as tmp:
            write_results_files(self, tmp)
        return Path(directory)


#: Coordinates whose union is sorted when scenarios differ; the others keep first-appearance order.
_SORTED_COORDS = ("date", "referral_quarter", "wait_week")


def _align_categories(datasets: list[xr.Dataset]) -> list[xr.Dataset]:
    """Reindex datasets of different scenarios onto common category coordinates."""
    dims = [d for d in datasets[0].dims if d not in ("scenario", "replication")]
    for ds in datasets[1:]:
        dims += [d for d in ds.dims if d not in dims and d not in ("scenario", "replication")]
    target: dict[str, list] = {}
    for dim in dims:
        values: list = []
        seen = set()
        for ds in datasets:
            if dim in ds.coords:
                for v in ds[dim].values.tolist():
                    if v not in seen:
                        seen.add(v)
                        values.append(v)
        same = all(dim in ds.coords and ds[dim].values.tolist() == values for ds in datasets)
        if not same:
            target[dim] = sorted(values) if dim in _SORTED_COORDS else values
    if not target:
        return datasets
    out = []
    for ds in datasets:
        index = {}
        for dim, values in target.items():
            if dim == "date":
                index[dim] = np.array(values, dtype="datetime64[ns]")
            else:
                # np.array picks a width that fits every label (a dataset's own
                # fixed-width string dtype could truncate longer labels).
                index[dim] = np.array(values)
        out.append(ds.reindex(index))
    return out


def _netcdf_engine() -> str:
    """The NetCDF backend: netCDF4 (a declared dependency)."""
    return "netcdf4"


def write_results_files(results: Results, folder: Path) -> None:
    """Write the files of a Results into an existing folder (no atomicity)."""
    folder.mkdir(parents=True, exist_ok=True)
    results.timeseries.to_netcdf(folder / "timeseries.nc", engine=_netcdf_engine())
    results.kpis.to_csv(folder / "kpis.csv", index=False)
    for name, scenario in results.scenarios.items():
        (folder / f"scenario-{name}.toml").write_text(dump_scenario(scenario), encoding="utf-8")
    (folder / "provenance.json").write_text(json.dumps(results.provenance, indent=2, default=str), encoding="utf-8")
    if results.journeys is not None:
        results.journeys.to_parquet(folder / "journeys.parquet", index=False)


def load_results(directory: str | Path) -> Results:
    """Read a folder written by :meth:`Results.save`.

    Raises
    ------
    FileNotFoundError
        If a required file is missing.
    """
    folder = Path(directory)
    with xr.open_dataset(folder / "timeseries.nc", engine=_netcdf_engine()) as ds:
        timeseries = ds.load()
    kpis = pd.read_csv(folder / "kpis.csv", dtype={"scenario": str, "kpi": str})
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    # Scenario files are read for the scenarios of the time series, in its
    # order, so stray files left in the folder by an earlier save are ignored.
    scenarios = {}
    names = [str(s) for s in timeseries["scenario"].values] if "scenario" in timeseries.coords else []
    for name in names:
        path = folder / f"scenario-{name}.toml"
        if path.exists():
            scenarios[name] = load_scenario(path)
    # Strings come back from NetCDF as object arrays; make them fixed-width
    # unicode again so the Dataset is the one that was saved.
    for coord in list(timeseries.coords):
        if timeseries[coord].dtype == object:
            timeseries[coord] = timeseries[coord].astype(str)
    journeys_path = folder / "journeys.parquet"
    journeys = pd.read_parquet(journeys_path) if journeys_path.exists() else None
    return Results(timeseries=timeseries, kpis=kpis, scenarios=scenarios, provenance=provenance, journeys=journeys)


def base_provenance(engine: str, seed: int, replications: list[int], command: str | None = None) -> dict[str, Any]:
    """Provenance common to every run."""
    from . import __version__

    return {
        "package": "wca_sim",
        "version": __version__,
        "engine": engine,
        "seed": seed,
        "replications": replications,
        "command": command,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
