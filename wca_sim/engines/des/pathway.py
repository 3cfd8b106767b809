"""After the assessment: DWP decisions, mandatory reconsideration, appeals and the tribunal queue.

Each stage is vectorised over the claimants falling due on the day (from
:class:`~wca_sim.engines.des.context.DayBuckets`). Streams: ``decision``
(delays), ``reconsideration`` (requests, durations, revisions), ``appeal``
(appeal choice, lodging delays, withdrawals, hearings, overturns),
``prognosis`` (group of revised/overturned awards); outcome and prognosis
period use the claimant's own uniforms drawn at referral.
"""

from __future__ import annotations

import numpy as np

from ...calendar import quarter_index_of_days, quarter_starts
from ...results import WAIT_BIN_DAYS
from .claimants import AWAITING, LODGING, MR, NEW_CLAIM, TRIBUNAL, gamma_delay
from .context import Context
from .referrals import Referrals

SG, WRAG, FFW = 0, 1, 2
DAYS_PER_MONTH = 365.25 / 12.0


class Pathway:
    """Decisions, MR, appeals and tribunal hearings of one replication."""

    def __init__(self, ctx: Context, referrals: Referrals) -> None:
        self.ctx = ctx
        self.referrals = referrals
        sc = ctx.scenario
        dec = sc.decisions
        self.sg = np.stack([ctx.daily(dec.shares_for(t).sg) for t in ("new_claim", "ib_reassessment", "repeat")])
        self.wrag = np.stack([ctx.daily(dec.shares_for(t).wrag) for t in ("new_claim", "ib_reassessment", "repeat")])
        self.prognosis = {
            SG: (np.cumsum(dec.prognosis_sg.probabilities), np.array(dec.prognosis_sg.months)),
            WRAG: (np.cumsum(dec.prognosis_wrag.probabilities), np.array(dec.prognosis_wrag.months)),
        }
        self.rework_days = np.array([p.productivity.rework_days for p in sc.providers.values()])
        rec = sc.reconsideration
        self.mr_start = None if rec.start is None else (rec.start - sc.start_date).days
        self.mr_request = ctx.daily(rec.request_rate)
        self.mr_revision = ctx.daily(rec.revision_rate)
        app = sc.appeals
        self.appeal_before = ctx.daily(app.appeal_rate_before_mr)
        self.appeal_after = ctx.daily(app.appeal_rate_after_mr)
        self.hearings = ctx.daily(app.hearings_per_working_day) * sc.scale
        self.overturn = ctx.daily(app.overturn_rate)
        self.withdraw_rate = app.withdrawal_hazard_per_week / 7.0
        self.rng_decision = ctx.streams["decision"]
        self.rng_mr = ctx.streams["reconsideration"]
        self.rng_appeal = ctx.streams["appeal"]
        self.rng_prognosis = ctx.streams["prognosis"]
        self.tribunal_queue = np.zeros(0, dtype=np.int64)
        self.costs = sc.costs
        self.cost_tribunal = ctx.daily(sc.costs.tribunal_per_appeal)
        self.cost_decision = ctx.daily(sc.costs.dwp_per_decision)
        self.cost_mr = ctx.daily(sc.costs.dwp_per_mr)
        self.n_wait_bins = ctx.recorder.n_wait_bins
        self.quarter_starts = quarter_starts(sc)

    # ----------------------------------------------------------- decisions

    def assessed(self, day: int, ids: np.ndarray, t_end: np.ndarray) -> None:
        """Assessments completed at ``t_end``: the report goes to the decision maker."""
        ctx, store = self.ctx, self.ctx.store
        store.move(ids, AWAITING)
        if store.journeys:
            store.t_assessed[ids] = t_end
        dec = ctx.scenario.decisions
        delay = gamma_delay(self.rng_decision, dec.delay_days_mean, dec.delay_days_cv, len(ids))
        t = t_end + store.rework[ids] * self.rework_days[store.provider[ids]] + delay
        store.t_event[ids] = t
        ctx.decisions_due.add(np.floor(t).astype(np.int64), ids)

    def decide(self, day: int) -> None:
        """Initial decisions due today."""
        ctx, store, rec = self.ctx, self.ctx.store, self.ctx.recorder
        ids = ctx.decisions_due.pop(day)
        if len(ids) == 0:
            return
        t = store.t_event[ids]
        rtype = store.rtype[ids].astype(np.int64)
        u = store.u_outcome[ids]
        sg, wrag = self.sg[rtype, day], self.wrag[rtype, day]
        outcome = np.where(u < sg, SG, np.where(u < sg + wrag, WRAG, FFW))
        rec.decisions[day] += np.bincount(outcome, minlength=3)
        wait = t - store.t_ref[ids]
        rec.decision_wait_days_mean[day] = wait.mean()
        quarter = quarter_index_of_days(ctx.scenario, store.t_ref[ids], self.quarter_starts)
        week = np.minimum(np.floor(wait / WAIT_BIN_DAYS).astype(np.int64), self.n_wait_bins - 1)
        np.add.at(rec.decisions_by_wait, (quarter, np.maximum(week, 0)), 1.0)
        rec.add_cost(day, "dwp_decisions", len(ids) * self.cost_decision[day])
        if store.journeys:
            store.t_decision[ids] = t
            store.outcome[ids] = outcome
        for group, kind in ((SG, "award_sg"), (WRAG, "award_wrag")):
            mask = outcome == group
            ctx.exit(day, ids[mask], kind, t[mask])
            self._prognosis(ids[mask], t[mask], np.full(int(mask.sum()), group))
        ffw = outcome == FFW
        ids, t = ids[ffw], t[ffw]
        if len(ids) == 0:
            return
        if self.mr_start is not None and day >= self.mr_start:
            request = self.rng_mr.random(len(ids)) < self.mr_request[day]
            ctx.exit(day, ids[~request], "ffw_accepted", t[~request])
            mr_ids, t_mr = ids[request], t[request]
            if len(mr_ids):
                store.move(mr_ids, MR)
                rec.mr_requested[day] += len(mr_ids)
                self._start_mr(mr_ids, t_mr)
        else:
            appeal = self.rng_appeal.random(len(ids)) < self.appeal_before[day]
            ctx.exit(day, ids[~appeal], "ffw_accepted", t[~appeal])
            self._lodge(ids[appeal], t[appeal])

    def _prognosis(self, ids: np.ndarray, t_award: np.ndarray, group: np.ndarray) -> None:
        """Start prognosis timers: a repeat referral falls due months after the award."""
        if len(ids) == 0:
            return
        u = self.ctx.store.u_prognosis[ids]
        months = np.empty(len(ids))
        for g, (cum, values) in self.prognosis.items():
            mask = group == g
            months[mask] = values[np.minimum(np.searchsorted(cum, u[mask], side="right"), len(values) - 1)]
        self.referrals.schedule_repeats(t_award + months * DAYS_PER_MONTH)

    # ----------------------------------------------------------- MR

    def _start_mr(self, ids: np.ndarray, t_request: np.ndarray) -> None:
        rec = self.ctx.scenario.reconsideration
        t = t_request + gamma_delay(self.rng_mr, rec.duration_days_mean, rec.duration_days_cv, len(ids))
        self.ctx.store.t_event[ids] = t
        self.ctx.mr_due.add(np.floor(t).astype(np.int64), ids)

    def reconsider(self, day: int) -> None:
        """MR decisions due today."""
        ctx, store = self.ctx, self.ctx.store
        ids = ctx.mr_due.pop(day)
        if len(ids) == 0:
            return
        t = store.t_event[ids]
        ctx.recorder.add_cost(day, "dwp_mr", len(ids) * self.cost_mr[day])
        if store.journeys:
            store.t_mr[ids] = t
        revised = self.rng_mr.random(len(ids)) < self.mr_revision[day]
        rev_ids, t_rev = ids[revised], t[revised]
        ctx.exit(day, rev_ids, "mr_revised", t_rev)
        to_sg = self.rng_prognosis.random(len(rev_ids)) < ctx.scenario.reconsideration.revised_to_sg_share
        self._prognosis(rev_ids, t_rev, np.where(to_sg, SG, WRAG))
        ids, t = ids[~revised], t[~revised]
        appeal = self.rng_appeal.random(len(ids)) < self.appeal_after[day]
        ctx.exit(day, ids[~appeal], "ffw_after_mr", t[~appeal])
        self._lodge(ids[appeal], t[appeal])

    # ----------------------------------------------------------- appeals

    def _lodge(self, ids: np.ndarray, t_decided: np.ndarray) -> None:
        if len(ids) == 0:
            return
        self.ctx.store.move(ids, LODGING)
        mean = self.ctx.scenario.appeals.lodging_days_mean
        t = t_decided + (self.rng_appeal.exponential(mean, len(ids)) if mean > 0 else 0.0)
        self.ctx.store.t_event[ids] = t
        self.ctx.lodging_due.add(np.floor(t).astype(np.int64), ids)

    def lodge(self, day: int) -> None:
        """Appeals reaching the tribunal today join the back of its queue."""
        ctx, store = self.ctx, self.ctx.store
        ids = ctx.lodging_due.pop(day)
        if len(ids) == 0:
            return
        t = store.t_event[ids]
        order = np.argsort(t, kind="stable")
        ids, t = ids[order], t[order]
        ctx.recorder.appeals_lodged[day] += len(ids)
        self.join_tribunal(ids, t, clock_from=t)

    def join_tribunal(self, ids: np.ndarray, t_lodged: np.ndarray, clock_from: np.ndarray) -> None:
        """Append appeals (in lodging order) to the tribunal queue and start their withdrawal clocks."""
        ctx, store = self.ctx, self.ctx.store
        store.move(ids, TRIBUNAL)
        if store.journeys:
            store.t_lodged[ids] = t_lodged
        self.tribunal_queue = np.concatenate([self.tribunal_queue, ids])
        if self.withdraw_rate > 0:
            t_w = clock_from + self.rng_appeal.exponential(1.0 / self.withdraw_rate, len(ids))
            store.t_event[ids] = t_w
            ctx.withdrawals_due.add(np.floor(t_w).astype(np.int64), ids)

    def hear(self, day: int) -> None:
        """Hearings (working days only), then withdrawals due today."""
        ctx, store, rec = self.ctx, self.ctx.store, self.ctx.recorder
        if ctx.calendar.is_working[day] and len(self.tribunal_queue):
            capacity = self.hearings[day]
            n = int(capacity) + int(self.rng_appeal.random() < capacity - int(capacity))
            queue = self.tribunal_queue
            alive = np.flatnonzero(store.stage[queue] == TRIBUNAL)
            heard = queue[alive[:n]]
            self.tribunal_queue = queue[alive[n:]]
            if len(heard):
                t = np.full(len(heard), day + 0.5)
                rec.appeals_heard[day] += len(heard)
                rec.add_cost(day, "tribunal", len(heard) * self.cost_tribunal[day])
                if store.journeys:
                    store.t_hearing[heard] = t
                over = self.rng_appeal.random(len(heard)) < self.overturn[day]
                rec.appeals_overturned[day] += int(over.sum())
                ctx.exit(day, heard[over], "appeal_overturned", t[over])
                to_sg = self.rng_prognosis.random(int(over.sum())) < ctx.scenario.appeals.overturned_to_sg_share
                self._prognosis(heard[over], t[over], np.where(to_sg, SG, WRAG))
                ctx.exit(day, heard[~over], "appeal_upheld", t[~over])
        due = ctx.withdrawals_due.pop(day)
        if len(due):
            due = due[store.stage[due] == TRIBUNAL]
            rec.appeals_withdrawn[day] += len(due)
            rec.add_cost(day, "tribunal", len(due) * self.cost_tribunal[day])
            ctx.exit(day, due, "appeal_withdrawn", store.t_event[due])

    # ----------------------------------------------------------- initial stock

    def initial_stock(self) -> int:
        """Claimants awaiting a decision, in MR and waiting for the tribunal on the start date."""
        ctx, store = self.ctx, self.ctx.store
        sc, rng = ctx.scenario, ctx.streams["initial_state"]
        init = sc.initial_state
        total = 0
        # Awaiting a decision: decision delays drawn afresh from the start date.
        n = int(round(init.awaiting_decision * sc.scale))
        if n:
            age = np.sort(rng.uniform(0.0, init.awaiting_decision_max_age_days, n))[::-1]
            ids = self._add_initial(n, -age, AWAITING)
            dec = sc.decisions
            t = gamma_delay(rng, dec.delay_days_mean, dec.delay_days_cv, n)
            store.t_event[ids] = t
            ctx.decisions_due.add(np.floor(t).astype(np.int64), ids)
            total += n
        n = int(round(init.mr_pending * sc.scale))
        if n:
            ids = self._add_initial(n, np.full(n, np.nan), MR)
            rec = sc.reconsideration
            t = gamma_delay(rng, rec.duration_days_mean, rec.duration_days_cv, n)
            store.t_event[ids] = t
            ctx.mr_due.add(np.floor(t).astype(np.int64), ids)
            total += n
        n = int(round(init.tribunal_backlog * sc.scale))
        if n:
            age = np.sort(rng.uniform(0.0, init.tribunal_max_age_days, n))[::-1]
            ids = self._add_initial(n, np.full(n, np.nan), LODGING)
            # Withdrawal clocks are memoryless, so they run from the start date.
            self.join_tribunal(ids, -age, clock_from=np.zeros(n))
            total += n
        return total

    def _add_initial(self, n: int, t_ref: np.ndarray, stage: int) -> np.ndarray:
        attrs, region, provider = self.referrals.initial_attributes(n)
        store = self.ctx.store
        ids = store.add(t_ref, np.full(n, NEW_CLAIM, dtype=np.int8), region, provider, stage)
        store.u_outcome[ids] = attrs.u_outcome
        store.u_prognosis[ids] = attrs.u_prognosis
        return ids
