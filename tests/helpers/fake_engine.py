"""A tiny engine for tests of the runner: fast, deterministic, common random numbers.

Replication ``r`` draws only from ``wca_sim.streams.generator(seed, r, ...)``,
so, like the real engines, its output for ``r`` does not depend on batching or
workers, and two scenarios share the same random numbers. The backlog is a
random walk whose drift depends on the scenario's total starting FTE, so
scenarios really differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from wca_sim.engines import UnsupportedScenario
from wca_sim.kpis import compute_kpis, quarter_label
from wca_sim.results import Results, base_provenance
from wca_sim.scenario import Scenario
from wca_sim.streams import generator

from .synthetic import zero_timeseries


class FakeEngine:
    """Test engine; ``sleep`` seconds per replication make it slow on purpose."""

    name = "fake"

    def __init__(self, sleep: float = 0.0) -> None:
        self.sleep = sleep

    def check(self, scenario: Scenario) -> None:
        if "refuse" in scenario.description:
            raise UnsupportedScenario("the fake engine refuses scenarios whose description says 'refuse'")

    def supports(self, scenario: Scenario) -> bool:
        try:
            self.check(scenario)
        except UnsupportedScenario:
            return False
        return True

    def run(
        self,
        scenario: Scenario,
        replications: Sequence[int],
        seed: int,
        *,
        journeys: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Results:
        self.check(scenario)
        reps = list(replications)
        ds = zero_timeseries(scenario, reps)
        days = scenario.days
        fte = sum(p.workforce.fte_at_start for p in scenario.providers.values())
        # An announced exit raises the drift and the noise, so early-exit really differs.
        exit_factor = 1.0 if any(p.exit_announced for p in scenario.providers.values()) else 0.0
        for i, r in enumerate(reps):
            rng = generator(seed, r, "arrivals")
            noise = rng.standard_normal(days)
            steps = 100.0 - 0.1 * fte + 50.0 * exit_factor + 500.0 * (1.0 + 0.2 * exit_factor) * noise
            ds["backlog"][0, i, :] = 500_000 + np.cumsum(steps) / scenario.scale ** 0.5
            ds["appeals_lodged"][0, i, :] = rng.poisson(30.0, size=days)
            ds["assessments"][0, i, :, 0, 1] = rng.poisson(50.0, size=days)
            ds["cost"][0, i, :, 1] = ds["assessments"][0, i, :, 0, 1] * 115.0
            ds["decisions"][0, i, :, 0] = 10.0
            ds["decision_wait_days_mean"][0, i, :] = 100.0 + rng.normal(0, 5, size=days)
            quarter = list(ds["referral_quarter"].values).index(quarter_label(scenario.start_date))
            ds["decisions_by_wait"][0, i, quarter, :] = rng.poisson(20.0, size=ds.sizes["wait_week"])
            if self.sleep:
                time.sleep(self.sleep)
            if progress is not None:
                progress(1)
        kpis = compute_kpis(ds, {scenario.name: scenario})
        return Results(ds, kpis, {scenario.name: scenario}, base_provenance(self.name, seed, reps))
