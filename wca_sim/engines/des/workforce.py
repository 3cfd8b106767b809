"""A provider's HCP workforce: starting staff, transfers, hiring with lead time and a training ramp, attrition.

Headcounts are whole simulated HCPs (FTE at simulated scale). Each day:
transfers in (on the provider's first day, taken from ``transfer_from``
before that provider's staff leave), staff leaving after the contract end,
attrition (binomial, with the uplift after an exit is announced), extra
leavers caused by yesterday's incidents, recruits starting, trainees
finishing their ramp. All draws come from the ``workforce`` stream.
"""

from __future__ import annotations

import numpy as np

from ...scenario.model import Provider
from .context import Context


class Workforce:
    """Headcount and effective FTE of one provider."""

    def __init__(self, ctx: Context, name: str, provider: Provider) -> None:
        self.ctx = ctx
        self.name = name
        self.provider = provider
        wf = provider.workforce
        self.wf = wf
        start = ctx.scenario.start_date
        self.first_day = max((provider.contract_start - start).days, 0)
        self.last_day = (provider.contract_end - start).days
        self.rng = ctx.streams["workforce"]
        days = ctx.days
        scale = ctx.scenario.scale
        # Recruitment decisions, drawn for the whole horizon up front; a recruit
        # starts hiring_lead_days later if that is within the contract.
        rate = ctx.daily(wf.hires_per_month) * 12.0 / 365.25 * scale
        rate[: self.first_day] = 0.0
        decisions = self.rng.poisson(rate)
        self.recruits_start = np.zeros(days, dtype=np.int64)
        lead = int(round(wf.hiring_lead_days))
        for day in np.flatnonzero(decisions):
            begin = day + lead
            if begin < days and begin <= self.last_day:
                self.recruits_start[begin] += decisions[day]
        monthly = 1.0 - (1.0 - wf.attrition_per_month) ** (12.0 / 365.25)
        self.p_leave = np.full(days, monthly)
        if provider.exit_announced is not None:
            uplift_from = max((provider.exit_announced - start).days, 0)
            self.p_leave[uplift_from : self.last_day + 1] *= wf.attrition_uplift_after_exit
        self.p_leave = np.clip(self.p_leave, 0.0, 1.0)
        self.trained = 0
        self.cohorts: list[list[int]] = []  # [start day, count] of trainees
        self.headcount = 0.0
        self.effective = 0.0
        self.incident_leavers_due = 0

    def begin_day(self, day: int, others: dict[str, Workforce]) -> None:
        """Staff at the start of the contract (and transfers in), before anyone leaves that day."""
        if day != self.first_day or day > self.last_day:
            return
        # Unbiased rounding of the scaled FTE to whole simulated HCPs.
        scaled = self.wf.fte_at_start * self.ctx.scenario.scale
        self.trained = int(scaled) + int(self.rng.random() < scaled - int(scaled))
        source = others.get(self.wf.transfer_from) if self.wf.transfer_from else None
        if source is not None and self.wf.transfer_share > 0:
            moved = int(self.rng.binomial(source.trained, self.wf.transfer_share))
            source.trained -= moved
            for cohort in source.cohorts:
                k = int(self.rng.binomial(cohort[1], self.wf.transfer_share))
                cohort[1] -= k
                moved += k
            self.trained += moved  # transferred staff are fully trained

    def step(self, day: int, incidents_yesterday: int) -> None:
        """Leavers, starters and training for the day; updates headcount and effective FTE."""
        if day > self.last_day or day < self.first_day:
            self.trained, self.cohorts = 0, []
            self.headcount = self.effective = 0.0
            return
        rng = self.rng
        p = self.p_leave[day]
        if p > 0:
            self.trained -= int(rng.binomial(self.trained, p))
            for cohort in self.cohorts:
                cohort[1] -= int(rng.binomial(cohort[1], p))
        if incidents_yesterday and self.wf.leavers_per_incident > 0:
            leavers = int(rng.poisson(incidents_yesterday * self.wf.leavers_per_incident))
            self.trained -= min(leavers, self.trained)
        starting = int(self.recruits_start[day])
        training = self.wf.training_days
        if starting:
            if training <= 0:
                self.trained += starting
            else:
                self.cohorts.append([day, starting])
        effective = float(self.trained)
        keep = []
        for cohort in self.cohorts:
            progress = (day - cohort[0]) / training
            if progress >= 1.0:
                self.trained += cohort[1]
                effective += cohort[1]
            elif cohort[1] > 0:
                effective += cohort[1] * progress
                keep.append(cohort)
        self.cohorts = keep
        self.headcount = float(self.trained + sum(c[1] for c in keep))
        self.effective = effective

    @property
    def servers(self) -> int:
        """Whole HCPs assessing today."""
        return int(round(self.effective))
