"""HCP workforce of every provider, vectorised over replications: hiring, training, attrition, transfers.

Headcount is trained FTE plus trainee cohorts by start day. A cohort of age
``a`` days counts ``a / training_days`` towards effective FTE until it
graduates at age ``ceil(training_days)``, so effective FTE is
``trained + S1 / training_days`` with ``S0`` trainees and ``S1`` the sum of
their ages (both updated in O(R P) a day). Leavers (attrition and incident
leavers, one Poisson count per provider and day) and transfers are taken from
trained staff and every cohort in proportion: cohorts are stored divided by a
survival factor, so this too costs O(R P) (see docs/model.md, "Fast engine
approximations").
"""

from __future__ import annotations

import numpy as np

from .draws import BlockDraws, Layout, binomial, poisson
from .inputs import Inputs


class Workforce:
    """FTE state of ``P`` providers x ``R`` replications (scaled units; replications last)."""

    def __init__(self, inp: Inputs, R: int) -> None:
        self.inp = inp
        P = inp.P
        self.grad = np.maximum(np.ceil(inp.training).astype(np.int64), 1)   # graduation age (days)
        self.ring = int(self.grad.max(initial=1)) + 1
        self.trained = np.zeros((P, R))
        self.cohort = np.zeros((self.ring, P, R))       # starters by start day (slot = day % ring), / factor
        self.factor = np.ones((P, R))
        self.S0 = np.zeros((P, R))
        self.S1 = np.zeros((P, R))
        self.starters = np.zeros((inp.T + int(inp.hiring_lead.max(initial=0)) + 1, P, R))
        self.incidents_prev = np.zeros((P, R))
        self.cols = np.arange(P)
        self.training = np.maximum(inp.training, 1e-9)[:, None]
        self.attrition_q = inp.attrition_q[:, :, None]
        self.incident_p = inp.incident_p[:, None]
        self.leavers_per_incident = inp.leavers_per_incident[:, None]

    @staticmethod
    def register(layout: Layout, inp: Inputs) -> None:
        """Reserve the normals and exact counts this module uses."""
        layout.add_poisson("workforce", "wf_hires", inp.hires)
        layout.add("workforce", "wf_leavers", (inp.P,))
        layout.add("workforce", "wf_transfer", (inp.P,))
        layout.add("workforce", "wf_incidents", (inp.P,))

    def headcount(self) -> np.ndarray:
        return self.trained + self.S0

    def effective(self) -> np.ndarray:
        """Effective FTE (trainees weighted by their ramp), shape (P, R)."""
        return self.trained + self.S1 / self.training

    def start_of_day(self, t: int, draws: BlockDraws) -> None:
        """Ageing and graduation, contract starts (initial FTE, transfers), contract ends, recruits."""
        inp = self.inp
        self.S1 += self.S0
        # cohorts reaching their graduation age join the trained staff
        slot = (t - self.grad) % self.ring
        grads = self.cohort[slot, self.cols] * self.factor                    # (P, R)
        self.cohort[slot, self.cols] = 0.0
        self.trained += grads
        self.S0 -= grads
        self.S1 -= grads * self.grad[:, None]
        np.maximum(self.S0, 0.0, out=self.S0)
        np.maximum(self.S1, 0.0, out=self.S1)
        for p in np.nonzero(inp.start_day == t)[0]:
            self.trained[p] += inp.fte_start[p]
            src = inp.transfer_from[p]
            if src >= 0:
                head = self.headcount()[src]
                moved = binomial(head, inp.transfer_share[p], draws.z("wf_transfer")[p])
                self._remove(src, np.divide(moved, head, out=np.zeros_like(head), where=head > 0))
                self.trained[p] += moved
        # staff not transferred leave after the contract's last day (after transfers out of it)
        for p in np.nonzero(inp.end_day == t - 1)[0]:
            self.trained[p] = 0.0
            self.cohort[:, p] = 0.0
            self.S0[p] = 0.0
            self.S1[p] = 0.0
            self.factor[p] = 1.0
        new = self.starters[t]
        self.cohort[t % self.ring] = new / self.factor
        self.S0 += new
        decided = draws.counts("wf_hires")
        start = t + inp.hiring_lead
        ok = start <= inp.end_day
        if ok.any():
            self.starters[start[ok], self.cols[ok]] += decided[ok]

    def end_of_day(self, t: int, f2f_attended: np.ndarray, draws: BlockDraws) -> np.ndarray:
        """Incidents from today's f2f assessments; leavers (attrition + yesterday's incident leavers).

        Returns incidents (P, R).
        """
        incidents = poisson(f2f_attended * self.incident_p, draws.z("wf_incidents"))
        head = self.headcount()
        mean = head * self.attrition_q[t] + self.incidents_prev * self.leavers_per_incident
        leavers = np.minimum(poisson(mean, draws.z("wf_leavers")), head)
        self._remove_all(np.divide(leavers, head, out=np.zeros_like(head), where=head > 0))
        self.incidents_prev = incidents
        return incidents

    def _remove_all(self, share: np.ndarray) -> None:
        keep = 1.0 - np.clip(share, 0.0, 1.0)
        self.trained *= keep
        self.S0 *= keep
        self.S1 *= keep
        self.factor *= keep
        low = self.factor < 1e-12
        if low.any():  # rare: renormalise stored cohorts (or clear an emptied provider)
            for p, r in zip(*np.nonzero(low)):
                self.cohort[:, p, r] *= self.factor[p, r]
                self.factor[p, r] = 1.0

    def _remove(self, p: int, share: np.ndarray) -> None:
        full = np.zeros(self.trained.shape)
        full[p] = share
        self._remove_all(full)
