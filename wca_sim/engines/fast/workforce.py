"""HCP workforce of every provider, vectorised over replications: hiring, training, attrition, transfers.

Headcount is held as trained FTE plus trainee cohorts by start day (a ring of
``max(training_days) + 1`` days); effective FTE weighs a cohort of age ``a``
days by ``min(1, a / training_days)``. Leavers (attrition and incident
leavers) are drawn as a total per provider and removed from trained staff and
every cohort in proportion (see docs/model.md, "Fast engine approximations").
"""

from __future__ import annotations

import numpy as np

from .draws import BlockDraws, Layout, binomial, poisson
from .inputs import Inputs


class Workforce:
    """FTE state of ``R`` replications x ``P`` providers (scaled units)."""

    def __init__(self, inp: Inputs, R: int) -> None:
        self.inp = inp
        self.ring = int(np.ceil(inp.training.max())) + 1 if inp.P else 1
        self.trained = np.zeros((R, inp.P))
        self.trainees = np.zeros((R, inp.P, self.ring))
        # recruits decided today start hiring_lead days later
        self.starters = np.zeros((R, inp.T + int(inp.hiring_lead.max(initial=0)) + 1, inp.P))
        self.incident_leavers = np.zeros((R, inp.P))

    @staticmethod
    def register(layout: Layout, P: int) -> None:
        """Reserve the normals this module uses."""
        layout.add("workforce", "wf_hires", (P,))
        layout.add("workforce", "wf_attrition", (P,))
        layout.add("workforce", "wf_transfer", (P,))
        layout.add("workforce", "wf_incidents", (P,))
        layout.add("workforce", "wf_incident_leavers", (P,))

    def headcount(self) -> np.ndarray:
        return self.trained + self.trainees.sum(axis=2)

    def effective(self, t: int) -> np.ndarray:
        """Effective FTE (trainees weighted by their ramp), shape (R, P)."""
        age = (t - np.arange(self.ring)) % self.ring  # age in days of the cohort in each ring slot
        weight = np.minimum(1.0, age[None, :] / np.maximum(self.inp.training[:, None], 1e-9))
        return self.trained + (self.trainees * weight[None]).sum(-1)

    def start_of_day(self, t: int, draws: BlockDraws) -> None:
        """Contract starts (initial FTE, transfers), recruits starting, graduation, recruitment decisions."""
        inp = self.inp
        for p in np.nonzero(inp.start_day == t)[0]:
            self.trained[:, p] += inp.fte_start[p]
            src = inp.transfer_from[p]
            if src >= 0:
                head = self.headcount()[:, src]
                moved = binomial(head, inp.transfer_share[p], draws.z("wf_transfer")[:, p])
                self._remove(src, np.divide(moved, head, out=np.zeros_like(head), where=head > 0))
                self.trained[:, p] += moved
        # staff not transferred leave after the contract's last day (after transfers out of it)
        for p in np.nonzero(inp.end_day == t - 1)[0]:
            self.trained[:, p] = 0.0
            self.trainees[:, p, :] = 0.0
        slot = t % self.ring
        # the cohort in this slot is ``ring`` days old: it has finished training
        self.trained += self.trainees[:, :, slot]
        self.trainees[:, :, slot] = self.starters[:, t, :]
        decided = poisson(np.broadcast_to(inp.hires[t], self.trained.shape), draws.z("wf_hires"))
        start = t + inp.hiring_lead
        for p in range(inp.P):
            if start[p] <= inp.end_day[p]:
                self.starters[:, start[p], p] += decided[:, p]

    def end_of_day(self, t: int, f2f_attended: np.ndarray, draws: BlockDraws) -> np.ndarray:
        """Incidents from today's f2f assessments, attrition, contract ends. Returns incidents (R, P)."""
        inp = self.inp
        incidents = poisson(f2f_attended * inp.incident_p, draws.z("wf_incidents"))
        head = self.headcount()
        leavers = poisson(head * inp.attrition_q[t], draws.z("wf_attrition")) + self.incident_leavers
        leavers = np.minimum(leavers, head)
        for p in range(inp.P):
            self._remove(p, np.divide(leavers[:, p], head[:, p], out=np.zeros(head.shape[0]), where=head[:, p] > 0))
        # incident leavers leave the next day
        self.incident_leavers = poisson(incidents * inp.leavers_per_incident, draws.z("wf_incident_leavers"))
        return incidents

    def _remove(self, p: int, share: np.ndarray) -> None:
        keep = 1.0 - np.clip(share, 0.0, 1.0)
        self.trained[:, p] *= keep
        self.trainees[:, p, :] *= keep[:, None]
