"""The SimPy engine: one process per actor, each waking once a day in a fixed pipeline order.

Day ``d``'s pipeline (processes are started in this order and all yield
``env.timeout(1)``, so SimPy runs them in the same order every day):

1. referrals (exogenous and generated repeats) join provider queues;
2. workforces (transfers in, leavers, starters, training);
3. hand-overs of queues between providers;
4. assessment, one process per provider (FIFO multi-server shift, completions,
   did-not-attend, incidents);
5. closures while waiting;
6. DWP decisions; 7. mandatory reconsiderations; 8. appeals lodged;
9. tribunal hearings and withdrawals;
10. the recorder (end-of-day stocks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import simpy

from ...calendar import WorkingCalendar
from ...kpis import compute_kpis
from ...results import EXITS, Results, base_provenance
from ...scenario.model import ASSESSMENT_KINDS, OUTCOMES, REFERRAL_TYPES, Scenario
from ...streams import Streams
from .. import EngineBase, UnsupportedScenario
from .claimants import WAITING, ClaimantStore
from .context import Context
from .handover import Handover
from .pathway import Pathway
from .pool import AssessmentPool
from .recorder import DailyRecorder, build_dataset
from .referrals import Referrals
from .workforce import Workforce


class AuditError(AssertionError):
    """The stock counters disagree with the claimant records."""


class Replication:
    """One replication of one scenario.

    Parameters
    ----------
    scenario
        The scenario.
    seed, replication
        Root seed and replication id (streams ``(seed, replication, name)``).
    journeys
        Keep the per-claimant dates for journey records.
    audit
        Recount the stocks from the claimant records every day and raise
        :class:`AuditError` on any disagreement with the counters (slow; for tests).
    """

    def __init__(self, scenario: Scenario, seed: int, replication: int, *, journeys: bool = False,
                 audit: bool = False) -> None:
        self.scenario = scenario
        self.replication = replication
        self.audit = audit
        days = scenario.days
        expected = self._expected_records(scenario)
        ctx = Context(
            scenario=scenario,
            calendar=WorkingCalendar.for_scenario(scenario),
            store=ClaimantStore(len(scenario.regions), len(scenario.providers), expected, journeys),
            recorder=DailyRecorder(scenario),
            streams=Streams(seed, replication),
            days=days,
            provider_index={name: i for i, name in enumerate(scenario.providers)},
            region_index={name: i for i, name in enumerate(scenario.regions)},
        )
        self.ctx = ctx
        self.workforces = {name: Workforce(ctx, name, p) for name, p in scenario.providers.items()}
        self.pools = {name: AssessmentPool(ctx, name, p) for name, p in scenario.providers.items()}
        self.referrals = Referrals(ctx, self.pools)
        self.handover = Handover(ctx, self.pools, self.referrals.serving)
        self.pathway = Pathway(ctx, self.referrals)
        ctx.assessed = self.pathway.assessed
        ctx.requeue = self.handover.requeue
        stock = self.referrals.initial_queue() + self.pathway.initial_stock()
        ctx.recorder.initial_stock = float(stock)

    @staticmethod
    def _expected_records(scenario: Scenario) -> int:
        d = scenario.demand
        per_day = sum(
            s.daily(scenario.start_date, scenario.days).sum()
            for s in (d.new_claims_per_month, d.ib_reassessments_per_month, d.existing_repeats_per_month)
        ) * 12 / 365.25
        init = scenario.initial_state
        stock = sum(q.count for q in init.provider_queue) + init.awaiting_decision + init.mr_pending + init.tribunal_backlog
        return int((per_day * 1.3 + stock) * scenario.scale) + 1024

    # ------------------------------------------------------------ actors

    def _daily(self, env: simpy.Environment, step: Callable[[int], None]):
        days = self.ctx.days
        while env.now < days:
            step(int(env.now))
            yield env.timeout(1)

    def _workforce_step(self, day: int) -> None:
        for wf in self.workforces.values():
            wf.begin_day(day, self.workforces)
        for name, wf in self.workforces.items():
            pool = self.pools[name]
            incidents, pool.incidents_today = pool.incidents_today, 0
            wf.step(day, incidents)

    def _assessment_step(self, name: str) -> Callable[[int], None]:
        pool, wf, ctx = self.pools[name], self.workforces[name], self.ctx

        def step(day: int) -> None:
            closed, t_close = pool.step(day, wf.servers)
            if len(closed):
                ctx.recorder.closed_while_waiting[day] += len(closed)
                ctx.exit(day, closed, "closed_while_waiting", t_close)
            ctx.recorder.incidents[day] += pool.incidents_today

        return step

    def _closure_step(self, day: int) -> None:
        ctx, store = self.ctx, self.ctx.store
        ids = ctx.closures_due.pop(day)
        if len(ids) == 0:
            return
        ids = ids[store.stage[ids] == WAITING]
        if len(ids) == 0:
            return
        names = ctx.provider_names
        provider = store.provider[ids]
        for p in np.unique(provider):
            self.pools[names[p]].mark_closed(ids[provider == p])
        ctx.recorder.closed_while_waiting[day] += len(ids)
        ctx.exit(day, ids, "closed_while_waiting", store.t_close[ids])

    def _record_step(self, day: int) -> None:
        ctx = self.ctx
        fte = np.array([wf.headcount for wf in self.workforces.values()])
        effective = np.array([wf.effective for wf in self.workforces.values()])
        ctx.recorder.snapshot(day, ctx.store, fte, effective)
        if self.audit:
            counts, rp = ctx.store.recount()
            if not (np.array_equal(counts, ctx.store.counts) and np.array_equal(rp, ctx.store.backlog_rp)):
                raise AuditError(f"day {day}: stock counters disagree with the claimant records")

    def run(self) -> DailyRecorder:
        """Simulate the whole horizon; returns the recorder."""
        env = simpy.Environment()
        steps: list[Callable[[int], None]] = [self.referrals.step, self._workforce_step, self.handover.step]
        steps += [self._assessment_step(name) for name in self.pools]
        steps += [self._closure_step, self.pathway.decide, self.pathway.reconsider, self.pathway.lodge,
                  self.pathway.hear, self._record_step]
        for step in steps:
            env.process(self._daily(env, step))
        env.run(until=self.ctx.days)
        return self.ctx.recorder

    # ------------------------------------------------------------ journeys

    def journeys(self) -> pd.DataFrame:
        """One row per referral episode (requires ``journeys=True``)."""
        store, sc = self.ctx.store, self.scenario
        n = store.n
        origin = np.datetime64(sc.start_date, "ns")

        def date(column: np.ndarray) -> np.ndarray:
            values = column[:n]
            out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            ok = np.isfinite(values)
            out[ok] = origin + (values[ok] * 86_400e9).round().astype("timedelta64[ns]")
            return out

        def labels(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
            return pd.Categorical.from_codes(codes[:n].astype(np.int64), categories=list(names))

        provider = store.provider[:n].astype(np.int64)
        return pd.DataFrame(
            {
                "scenario": sc.name,
                "replication": self.replication,
                "claimant_id": np.arange(n, dtype=np.int64),
                "referral_type": labels(store.rtype, REFERRAL_TYPES),
                "region": labels(store.region, sc.region_names),
                "provider": pd.Categorical.from_codes(provider, categories=list(sc.provider_names)),
                "route": labels(store.route, ASSESSMENT_KINDS),
                "referral_date": date(store.t_ref),
                "assessment_start_date": date(store.t_start),
                "assessed_date": date(store.t_assessed),
                "decision_date": date(store.t_decision),
                "outcome": labels(store.outcome, OUTCOMES),
                "mr_date": date(store.t_mr),
                "appeal_lodged_date": date(store.t_lodged),
                "hearing_date": date(store.t_hearing),
                "exit": labels(store.exit_kind, EXITS),
                "exit_date": date(store.t_exit),
            }
        )


class DesEngine(EngineBase):
    """The SimPy discrete-event engine: individual claimants through the whole pathway."""

    name = "des"

    def check(self, scenario: Scenario) -> None:
        """Refuse only what cannot be simulated at all."""
        init = scenario.initial_state
        stock = sum(q.count for q in init.provider_queue) + init.awaiting_decision + init.mr_pending + init.tribunal_backlog
        d = scenario.demand
        demand = max(
            s.daily(scenario.start_date, scenario.days).max()
            for s in (d.new_claims_per_month, d.ib_reassessments_per_month, d.existing_repeats_per_month)
        )
        if stock * scenario.scale < 0.5 and demand * scenario.scale * 12 / 365.25 * scenario.days < 1:
            raise UnsupportedScenario(
                f"scale {scenario.scale} leaves no claimant to simulate (initial stock and referrals round to zero)"
            )

    def run(
        self,
        scenario: Scenario,
        replications: Sequence[int],
        seed: int,
        *,
        journeys: bool = False,
        progress: Callable[[int], None] | None = None,
        audit: bool = False,
    ) -> Results:
        """Simulate each replication in turn; see :class:`wca_sim.engines.Engine`.

        ``audit=True`` recounts the stocks from the claimant records every day
        (slow; used by the conservation tests).
        """
        self.check(scenario)
        reps = [int(r) for r in replications]
        recorders, frames = [], []
        for r in reps:
            sim = Replication(scenario, seed, r, journeys=journeys, audit=audit)
            recorders.append(sim.run())
            if journeys:
                frames.append(sim.journeys())
            del sim
            if progress is not None:
                progress(1)
        timeseries = build_dataset(scenario, reps, recorders)
        kpis = compute_kpis(timeseries, {scenario.name: scenario})
        return Results(
            timeseries=timeseries,
            kpis=kpis,
            scenarios={scenario.name: scenario},
            provenance=base_provenance(self.name, seed, reps),
            journeys=pd.concat(frames, ignore_index=True) if journeys else None,
        )

