"""Provider queues as cohorts by ready day, one queue per region, vectorised over replications.

Cell ``Q[r, g, i, c]`` holds the claimants of region ``g`` who became ready for
assessment on day ``i - off``. Components ``c``: paper (3 referral types),
face-to-face first booking (3), rebooked non-attenders (3), and the sum of
referral days of the rebooked (3) so their waits are kept. The region's queue
belongs to the provider serving the region (hand-over policy ``transfer``).

Closure while waiting is drawn as one count per (replication, region, type)
per day and spread over the cells in proportion: cells are stored divided by a
running survival factor ``F[r, g, type]``, so a day's closures cost O(R G)
rather than O(R G cells). Service takes cells in ready order within a sliding
window from the queue head, serving a fraction of the last cell reached
(fluid service); served amounts are recorded per cell for the waiting-time
distribution.
"""

from __future__ import annotations

import numpy as np

from .draws import BlockDraws, Layout, poisson
from .inputs import Inputs

N_COMP = 12
WINDOW = 6


class ProviderQueues:
    """Cohort queues of ``R`` replications x ``G`` regions."""

    def __init__(self, inp: Inputs, R: int, max_age: int) -> None:
        self.inp = inp
        self.off = int(max_age) + 2
        self.L = self.off + inp.T + inp.scrutiny + 2 * inp.lead + 2
        self.Q = np.zeros((R, inp.G, self.L, N_COMP), dtype=np.float32)
        # served per cell: attended amount (paper, f2f, rebooked), wait sums (same), referral-day sum (rebooked)
        self.S = np.zeros((R, inp.G, self.L, 7), dtype=np.float32)
        self.F = np.ones((R, inp.G, 3))
        self.N = np.zeros((R, inp.G, 3))
        self.head = np.zeros((R, inp.G), dtype=np.int64)
        self._win = np.arange(WINDOW)
        # referral-day offset of each cell for fresh paper / f2f claimants
        self.ref_paper = np.arange(self.L) - self.off - inp.scrutiny
        self.ref_f2f = self.ref_paper - inp.lead

    @staticmethod
    def register(layout: Layout, G: int) -> None:
        layout.add("claimant", "closures", (G, 3))

    # ---------------------------------------------------------------- arrivals

    def add_fresh(self, day: int, amount: np.ndarray, paper_share: np.ndarray) -> None:
        """Referrals of day ``day`` (``amount`` (R, G, 3)), split by route in expected proportions."""
        inp = self.inp
        paper = amount * paper_share
        i = day + self.off + inp.scrutiny
        self.Q[:, :, i, 0:3] += (paper / self.F).astype(np.float32)
        self.Q[:, :, i + inp.lead, 3:6] += ((amount - paper) / self.F).astype(np.float32)
        self.N += amount

    def add_rebooked(self, t: int, amount: np.ndarray, ref_mean: np.ndarray) -> None:
        """Rebooked non-attenders ``amount`` (R, G, 3) with mean referral day ``ref_mean`` (R, G)."""
        i = t + self.off + self.inp.lead
        self.Q[:, :, i, 6:9] += (amount / self.F).astype(np.float32)
        self.Q[:, :, i, 9:12] += (amount * ref_mean[..., None] / self.F).astype(np.float32)
        self.N += amount

    def start_head(self) -> None:
        """Point every queue's head at its oldest non-empty cell."""
        filled = self.Q[..., :9].sum(axis=-1) > 0
        first = np.where(filled.any(axis=-1), filled.argmax(axis=-1), self.off)
        self.head[:] = first

    # ----------------------------------------------------------------- closure

    def close(self, draws: BlockDraws) -> np.ndarray:
        """Closures while waiting today, (R, G, 3); removed proportionally from every cell."""
        closed = np.minimum(poisson(self.N * self.inp.closure_q, draws.z("closures")), self.N)
        keep = 1.0 - np.divide(closed, self.N, out=np.zeros_like(closed), where=self.N > 0)
        self.N -= closed
        emptied = (keep <= 0.0) & (closed > 0)
        self.F *= np.where(emptied, 1.0, keep)
        if emptied.any():
            self._reset(emptied, zero=True)
        tiny = self.F < 1e-25
        if tiny.any():
            self._reset(tiny, zero=False)
        return closed

    def _reset(self, mask: np.ndarray, zero: bool) -> None:
        # rare: a type emptied completely, or its survival factor is near underflow
        for r, g, k in zip(*np.nonzero(mask)):
            cols = [k, 3 + k, 6 + k, 9 + k]
            self.Q[r, g, :, cols] = 0.0 if zero else self.Q[r, g, :, cols] * np.float32(self.F[r, g, k])
            self.F[r, g, k] = 1.0

    # ----------------------------------------------------------------- service

    def serve(self, t: int, capacity: np.ndarray, work: np.ndarray, attend: np.ndarray):
        """Serve ready claimants FIFO by ready day with ``capacity`` HCP-days (R, G).

        ``work`` (G, 3): HCP-days per paper / f2f / rebooked claimant of each region's provider;
        ``attend`` (G,): expected attendance share (for the recorded waiting times).

        Returns
        -------
        served : (R, G, 12) amounts served today by component (rebooked referral-day sums in 9:12)
        f2f_ref : (R, G) sum of referral days of the f2f claimants served (fresh and rebooked)
        paper_ref : (R, G) sum of referral days of the paper claimants served
        """
        R, G = self.head.shape
        cap = capacity.astype(np.float64).copy()
        served = np.zeros((R, G, N_COMP))
        f2f_ref = np.zeros((R, G))
        paper_ref = np.zeros((R, G))
        Fx = np.concatenate([self.F] * 4, axis=-1)[:, :, None, :]
        limit = t + self.off
        for _ in range(64):
            idx = np.minimum(self.head[:, :, None] + self._win, self.L - 1)
            cells = np.take_along_axis(self.Q, idx[..., None], axis=2).astype(np.float64)
            amount = cells * Fx
            ready = idx <= limit
            w = (amount[..., 0:3].sum(-1) * work[None, :, None, 0] + amount[..., 3:6].sum(-1) * work[None, :, None, 1]
                 + amount[..., 6:9].sum(-1) * work[None, :, None, 2])
            w = np.where(ready, w, 0.0)
            before = np.cumsum(w, axis=-1) - w
            frac = np.divide(cap[..., None] - before, w, out=np.ones_like(w), where=w > 0)
            frac = np.where(ready, np.clip(frac, 0.0, 1.0), 0.0)
            if not frac.any():
                break
            taken = amount * frac[..., None]
            served += taken.sum(axis=2)
            paper_ref += (taken[..., 0:3].sum(-1) * self.ref_paper[idx]).sum(-1)
            f2f_ref += (taken[..., 3:6].sum(-1) * self.ref_f2f[idx] + taken[..., 9:12].sum(-1)).sum(-1)
            np.put_along_axis(self.Q, idx[..., None], (cells * (1.0 - frac[..., None])).astype(np.float32), axis=2)
            self._record(t, idx, taken, attend)
            cap -= np.minimum((w * frac).sum(-1), cap)
            full = ready & (frac >= 1.0)
            lead = np.cumprod(full, axis=-1).sum(-1)
            self.head += lead
            more = (cap > 1e-9) & (lead == WINDOW)
            if not more.any():
                break
        self.N -= served[..., 0:3] + served[..., 3:6] + served[..., 6:9]
        np.maximum(self.N, 0.0, out=self.N)
        return served, f2f_ref, paper_ref

    def _record(self, t: int, idx: np.ndarray, taken: np.ndarray, attend: np.ndarray) -> None:
        att = attend[None, :, None]
        a_p = taken[..., 0:3].sum(-1)
        a_f = taken[..., 3:6].sum(-1) * att
        a_r = taken[..., 6:9].sum(-1) * att
        ref_r = taken[..., 9:12].sum(-1) * att
        add = np.stack(
            [a_p, a_f, a_r, a_p * (t - self.ref_paper[idx]), a_f * (t - self.ref_f2f[idx]), a_r * t - ref_r, ref_r],
            axis=-1,
        )
        old = np.take_along_axis(self.S, idx[..., None], axis=2)
        np.put_along_axis(self.S, idx[..., None], (old + add).astype(np.float32), axis=2)
