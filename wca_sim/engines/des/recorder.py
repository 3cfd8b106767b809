"""Daily time series of one replication, and the Dataset of a batch of replications.

Actors add their flows (referrals, assessments, exits, costs, ...) into the
day's row as they happen; the recorder process, last in each day's pipeline,
reads the stocks (backlog, awaiting decision, MR, lodging, tribunal) from the
claimant store's counters and the workforce headcounts. Everything is kept at
simulated scale and divided by ``scale`` when the Dataset is built.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...calendar import referral_quarters, wait_weeks
from ...results import COST_COMPONENTS, EXITS, TIMESERIES_SCHEMA, timeseries_coords
from ...scenario.model import ASSESSMENT_KINDS, OUTCOMES, REFERRAL_TYPES, Scenario
from .claimants import (
    AWAITING,
    IN_SERVICE,
    LODGING,
    MR,
    NEW_CLAIM,
    TRIBUNAL,
    WAITING,
    ClaimantStore,
)

COST_INDEX = {name: i for i, name in enumerate(COST_COMPONENTS)}

# Variables that are not counts and so are not divided by scale.
_NOT_SCALED = {"decision_wait_days_mean"}


def _sizes(scenario: Scenario) -> dict[str, int]:
    return {
        "referral_type": len(REFERRAL_TYPES),
        "provider": len(scenario.provider_names),
        "region": len(scenario.region_names),
        "kind": len(ASSESSMENT_KINDS),
        "outcome": len(OUTCOMES),
        "exit": len(EXITS),
        "component": len(COST_COMPONENTS),
        "referral_quarter": len(referral_quarters(scenario)),
        "wait_week": wait_weeks(scenario),
    }


class DailyRecorder:
    """The time series of one replication, at simulated scale.

    Attributes are arrays named as in :data:`TIMESERIES_SCHEMA`, shaped
    ``(days, *extra dims)`` (``decisions_by_wait`` has no day axis).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.days = scenario.days
        sizes = _sizes(scenario)
        self.n_wait_bins = sizes["wait_week"]
        for name, dims in TIMESERIES_SCHEMA.items():
            shape = tuple(sizes[d] for d in dims)
            if name != "decisions_by_wait":
                shape = (self.days,) + shape
            setattr(self, name, np.zeros(shape, dtype=np.float64))
        self.decision_wait_days_mean[:] = np.nan
        self.initial_stock = 0.0
        self.benefit_rate = scenario.costs.assessment_rate_per_week.daily(scenario.start_date, self.days) / 7.0

    def add_cost(self, day: int, component: str, amount: float) -> None:
        """Add GBP to a cost component on a day."""
        self.cost[day, COST_INDEX[component]] += amount

    def snapshot(self, day: int, store: ClaimantStore, fte: np.ndarray, fte_effective: np.ndarray) -> None:
        """Record the end-of-day stocks from the store's counters and the workforce."""
        counts = store.counts
        by_type = counts[WAITING] + counts[IN_SERVICE]
        self.backlog[day] = by_type.sum()
        self.backlog_by_type[day] = by_type
        self.backlog_by_provider[day] = store.backlog_rp.sum(axis=0)
        self.backlog_by_region[day] = store.backlog_rp.sum(axis=1)
        self.awaiting_decision[day] = counts[AWAITING].sum()
        self.mr_pending[day] = counts[MR].sum()
        self.appeals_pending_lodging[day] = counts[LODGING].sum()
        self.tribunal_backlog[day] = counts[TRIBUNAL].sum()
        self.hcp_fte[day] = fte
        self.hcp_fte_effective[day] = fte_effective
        # Assessment-rate benefit for new claimants between referral and decision.
        waiting_new = by_type[NEW_CLAIM] + counts[AWAITING, NEW_CLAIM]
        self.add_cost(day, "benefit_waiting", waiting_new * self.benefit_rate[day])

    def arrays(self) -> dict[str, np.ndarray]:
        """Variables at national scale."""
        scale = self.scenario.scale
        out = {}
        for name in TIMESERIES_SCHEMA:
            value = getattr(self, name)
            out[name] = value if name in _NOT_SCALED else value / scale
        out["initial_stock"] = np.float64(self.initial_stock / scale)
        return out


def build_dataset(scenario: Scenario, replications: list[int], recorders: list[DailyRecorder]) -> xr.Dataset:
    """Stack recorders into a Dataset with dims (scenario=1, replication, date, ...)."""
    coords = timeseries_coords(scenario, replications)
    per_rep = [rec.arrays() for rec in recorders]
    data_vars = {}
    for name, dims in TIMESERIES_SCHEMA.items():
        full_dims = ("scenario", "replication") + (() if name == "decisions_by_wait" else ("date",)) + dims
        stacked = np.stack([arrays[name] for arrays in per_rep])[None, ...]
        data_vars[name] = (full_dims, stacked.astype(np.float64))
    data_vars["initial_stock"] = (
        ("scenario", "replication"),
        np.array([[arrays["initial_stock"] for arrays in per_rep]], dtype=np.float64),
    )
    return xr.Dataset(data_vars, coords=coords)
