"""The fast engine: the model of docs/model.md as a daily step vectorised over replications (NumPy).

How it works
------------
A batch (chunk) of ``R`` replications is simulated together, one day at a
time; every operation of a day acts on the whole batch, so a simulated day
costs a fixed number (a few hundred) of NumPy calls whatever ``R`` is. State
arrays keep the replications on their last, contiguous axis ((type, region,
R), (provider, R), (R,)), so the many sums over types, regions and providers
are long-vector additions; results for replication ``r`` never depend on the
other replications in the batch (no reduction runs across replications; a
lone replication is run twice side by side because NumPy sums a
one-replication array in a different order). Provider queues are ring
buffers of cohorts by ready day with a fractional head, served fluid FIFO from
a short window (:mod:`.queues`); workforce per provider (:mod:`.workforce`);
decisions, reconsideration, appeals, the tribunal and prognosis timers
(:mod:`.downstream`); the daily loop (:mod:`.simulate`); random numbers per
replication and named stream, drawn in blocks of 256 days (:mod:`.draws`);
recording and the Results Dataset (:mod:`.output`). Replications run in
chunks (up to 1,000) sized to keep the simulation state under
``memory_budget``; the output arrays of all replications are allocated once
and filled in place.

Approximations (also in docs/model.md, "Fast engine approximations")
--------------------------------------------------------------------
1. Daily step: capacity is ``hcp_fte_effective x working-day x rate``
   (real-valued HCP-days) and is spent on ready cohorts FIFO by ready day;
   the last cohort reached is served in part (fluid service). Service-time
   variability (``service_time_cv``) is not represented: with pre-emptive
   resume it changes no mean throughput, only day-to-day jitter.
   Readiness is by calendar day (a claimant ready during day d can be served
   from day d if it is a working day).
2. A provider's capacity is split over its regions in proportion to all
   claimants waiting there (real-valued split; DES rounds to whole servers).
3. Referral counts are Poisson per referral type and day for the whole
   country, placed in regions in expected proportions (``referral_share``);
   routes (paper / f2f), regions of repeat referrals generated in the run and
   the ages of the initial stock are split in expected proportions too (the
   initial stock's regions are multinomial).
4. Closures while waiting: one count per referral type and day for the whole
   country, Poisson(N q) capped at N (q <= 0.5%/day, so equal to
   Binomial(N, q) to O(q)), spread over regions and queue cells in
   proportion to the number of that type waiting.
5. Delays are applied to flows in expected proportions: the gamma decision
   and MR delays through discretised day kernels, rework as a shift of
   ``rework_days`` before the decision delay, the exponential lodging delay
   exactly (memoryless pool). The branching after them (outcomes, MR request
   and revision, appeal, overturn, prognosis period, deferral) is drawn on
   whole claimants (fractions carried). The tribunal queue is a count: no
   output depends on the order in which appeals are heard.
6. Did-not-attend and rebooking are drawn per provider and day on whole
   claimants and spread over the provider's regions in proportion to their
   face-to-face assessments; rebooked claimants rejoin ``booking_lead_days``
   later with their region's mean referral day.
7. Workforce leavers (attrition, plus yesterday's incidents times
   ``leavers_per_incident``: one Poisson count per provider and day) and
   transfers are taken from trained staff and trainee cohorts in proportion;
   FTE is real-valued (the DES rounds servers to whole HCPs). A trainee
   cohort counts ``age / training_days`` until it graduates at age
   ``ceil(training_days)``.
8. Random numbers: per replication and stream, standard normals in blocks of
   256 days (and exact Poisson counts for recruitment, whose means do not
   depend on the state). Counts use exact inversion below mean
   (Poisson) / variance (binomial) 3 and the Cornish-Fisher rounded normal
   quantile above it (total-variation distance <= 0.9%) (:mod:`.draws`).
9. ``decisions_by_wait`` places each day's assessments of each route (paper,
   f2f first booking, rebooked) of a replication at their mean referral
   day, convolves with the decision-delay/rework kernel (rework at the
   providers' mean rate) and, unlike the DES, also counts decisions that
   would fall after ``end_date`` for claimants assessed before it.

Refused (:func:`.support.check`): ``handover_policy = "run_off"``, providers
with different scrutiny or booking lead days, and ``journeys=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...results import Results, base_provenance
from ...scenario import Scenario
from .. import EngineBase, UnsupportedScenario
from .inputs import build_inputs
from .output import Recorder, allocate, decisions_by_wait, to_dataset
from .queues import ring_cells
from .simulate import simulate
from .support import check as _check

#: Bytes of simulation state per replication per region and ring cell (queues) ...
_BYTES_PER_CELL = 10 * 4
#: ... and per replication and day (day buffers, pipelines, timers, waiting-time points).
_BYTES_PER_DAY = 100


def _kpis(timeseries: xr.Dataset, scenario: Scenario) -> pd.DataFrame:
    try:
        from ...kpis import compute_kpis
    except ImportError:  # kpis module not present yet
        return pd.DataFrame(columns=["scenario", "replication", "kpi", "value"])
    return compute_kpis(timeseries, {scenario.name: scenario})


class FastEngine(EngineBase):
    """Vectorised NumPy engine (``engine="fast"``).

    Parameters
    ----------
    chunk_size
        Replications simulated together; None picks the largest (up to 1,000)
        that keeps the batch's state under ``memory_budget`` bytes. Results do
        not depend on it.
    memory_budget
        Bytes of simulation state per chunk when ``chunk_size`` is None (the
        output arrays, ~0.64 MB per replication at national scale over the
        built-in horizon, come on top).
    block
        Days of random numbers drawn at a time per replication and stream. It
        fixes the order in which a replication's generators are read, so keep
        the default to reproduce results.
    """

    name = "fast"

    def __init__(self, chunk_size: int | None = None, memory_budget: float = 400e6, block: int = 256) -> None:
        self.chunk_size = chunk_size
        self.memory_budget = memory_budget
        self.block = block

    def check(self, scenario: Scenario) -> None:
        """Raise :class:`UnsupportedScenario` if the scenario cannot be represented."""
        _check(scenario)

    def chunk_for(self, scenario: Scenario) -> int:
        """Replications per chunk for ``scenario`` (state kept under ``memory_budget``)."""
        if self.chunk_size:
            return int(self.chunk_size)
        per_rep = len(scenario.regions) * ring_cells(scenario) * _BYTES_PER_CELL + scenario.days * _BYTES_PER_DAY
        return int(max(2, min(1000, self.memory_budget // per_rep)))

    def run(
        self,
        scenario: Scenario,
        replications: Sequence[int],
        seed: int,
        *,
        journeys: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Results:
        """Simulate ``scenario`` for each replication id (see :class:`wca_sim.engines.Engine`).

        Raises
        ------
        UnsupportedScenario
            If the scenario cannot be represented, or ``journeys=True`` (no per-claimant records).
        """
        if journeys:
            raise UnsupportedScenario("fast engine: per-claimant journeys are not available; use engine='des'")
        _check(scenario)
        reps = [int(r) for r in replications]
        inp = build_inputs(scenario)
        chunk = self.chunk_for(scenario)
        out = allocate(scenario, len(reps))
        stock = np.zeros(len(reps))
        for start in range(0, len(reps), chunk):
            batch = reps[start : start + chunk]
            n = len(batch)
            if n == 1:
                # A lone replication runs twice side by side: with one replication NumPy would sum
                # over regions along the contiguous axis (pairwise), changing the last bits.
                target, r0, batch = allocate(scenario, 2), 0, batch * 2
            else:
                target, r0 = out, start
            rec = Recorder(scenario, target, r0, len(batch))
            wait0, stocks = simulate(scenario, inp, seed, batch, rec, block=self.block)
            target["decisions_by_wait"][0, r0 : r0 + len(batch)] = (
                decisions_by_wait(scenario, inp, rec.points, wait0) / scenario.scale)
            if n == 1:
                for name, values in target.items():
                    out[name][0, start] = values[0, 0]
            stock[start : start + n] = stocks[:n]
            del rec, target
            if progress is not None:
                progress(n)
        timeseries = to_dataset(scenario, reps, out, stock)
        return Results(
            timeseries=timeseries,
            kpis=_kpis(timeseries, scenario),
            scenarios={scenario.name: scenario},
            provenance=base_provenance("fast", seed, reps),
        )


__all__ = ["FastEngine"]
