"""Provider queues as ring buffers of cohorts by ready day, all (region, replication) queues at once.

Queue ``q = g * R + r`` (region ``g``, replication ``r``) is a FIFO of cells,
one per ready day: cell ``a`` holds the claimants ready for assessment on day
``a - off``. Cells live in a ring ``Q[a % L, q, c]`` (float32; a cell's
components are contiguous, so reading a window is one gather of short rows,
which is then turned to ``(c, w, q)`` so every computation runs along the
long queue axis) whose slots are reused once the queue head has passed them; the ring doubles if a
head ever lags the newest cell by ``L`` days. Components ``c``: paper (3
referral types), face-to-face first booking (3), rebooked non-attenders (3),
and the mean referral day of the rebooked (one day's rebooked land in each
cell). The region's queue belongs to the provider serving the region
(hand-over policy ``transfer``).

Closures while waiting are removed from every cell in proportion: cells are
stored divided by a running survival factor ``F[type, q]``, so a day's
closures cost O(R G). Service is fluid FIFO from a fractional head (head cell
index and the fraction of it already served): only a window of ``W`` cells
from the head is read each day (more only for queues whose window is used up),
and served cells are never written back.
"""

from __future__ import annotations

import numpy as np

from ...calendar import oldest_initial_age
from .inputs import Inputs

N_COMP = 10
WINDOW = 3


def ring_cells(scenario) -> int:
    """Initial ring length (cells) of a scenario's queues: a power of two covering the initial ages,
    the cells ahead and at least 64 days' slack (a queue's head may lag its newest cell by up to that)."""
    prod = [scenario.providers[n].productivity for n in scenario.provider_names]
    ahead = max(round(p.scrutiny_days) + round(p.booking_lead_days) for p in prod)
    return 1 << int(np.ceil(np.log2(int(np.ceil(oldest_initial_age(scenario))) + 2 + ahead + 64)))


class ProviderQueues:
    """Cohort queues of ``G`` regions x ``R`` replications, flattened to ``G * R`` queues."""

    #: Smallest ring length (cells); tests raise it to check that growing the ring changes nothing.
    min_ring = 0

    def __init__(self, inp: Inputs, R: int, max_age: int) -> None:
        self.inp = inp
        self.R, self.G = R, inp.G
        self.RG = R * inp.G
        self.off = int(max_age) + 2
        self.scr, self.lead = inp.scrutiny, inp.lead
        self.ahead = inp.scrutiny + inp.lead
        self.L = max(1 << int(np.ceil(np.log2(self.off + self.ahead + 64))), self.min_ring)  # ring_cells(scenario)
        self.Q = np.empty((self.L, self.RG, N_COMP), dtype=np.float32)
        self.Q.fill(0.0)   # touch every page now, in one sequential pass, rather than a slot a day
        self.F = np.ones((3, self.RG))
        self.N = np.zeros((3, self.RG))
        self.head = np.full(self.RG, self.off, dtype=np.int64)   # an empty queue's head: today's cell
        self.phi = np.zeros(self.RG, dtype=np.float32)
        self.rg = np.arange(self.RG)

    # ---------------------------------------------------------------- arrivals

    def start_day(self, t: int) -> None:
        """Clear the ring slot of the newest cell written today (its old content has been served)."""
        if t == 0:
            return
        front = t + self.off + self.ahead
        if front - self.L >= int(self.head.min()):
            self._grow(front)
        self.Q[front % self.L] = 0.0

    def _grow(self, front: int) -> None:
        # rare: some head lags the newest cell by the whole ring; double it, keeping live cells in place
        old, L = self.Q, self.L
        while front - self.L >= int(self.head.min()):
            self.L *= 2
        self.Q = np.zeros((self.L, self.RG, N_COMP), dtype=np.float32)
        for a in range(int(self.head.min()), front):
            self.Q[a % self.L] = old[a % L]

    def add_fresh(self, day: int, amount: np.ndarray, paper_share: np.ndarray) -> None:
        """Referrals of day ``day`` (``amount`` (3, RG)), split by route in expected proportions."""
        paper = amount * paper_share
        a = day + self.off + self.scr
        self.Q[a % self.L, :, 0:3] += (paper / self.F).T
        self.Q[(a + self.lead) % self.L, :, 3:6] += ((amount - paper) / self.F).T
        self.N += amount

    def add_rebooked(self, t: int, amount: np.ndarray, ref_mean: np.ndarray) -> None:
        """Rebooked non-attenders ``amount`` (3, RG) with mean referral day ``ref_mean`` (RG,)."""
        a = (t + self.off + self.lead) % self.L
        self.Q[a, :, 6:9] += (amount / self.F).T
        self.Q[a, :, 9] = ref_mean
        self.N += amount

    def add_stock(self, days: np.ndarray, amount: np.ndarray, paper_share: np.ndarray) -> None:
        """Initial stock: ``amount`` (3, RG) referred on each of ``days`` (<= 0), routes in expected shares.

        Called before the first day (no closures yet, so ``F`` is 1); also sets the queue heads.
        """
        paper = (amount * paper_share).T.astype(np.float32)                  # (RG, 3)
        f2f = (amount.T - paper).astype(np.float32)
        a = days + self.off + self.scr                                        # cells, inside the ring (no wrap)
        lo = int(a.min())
        n = np.bincount(a - lo).astype(np.float32)[:, None, None]            # referral days per cell
        hi = lo + len(n)
        self.Q[lo:hi, :, 0:3] += n * paper[None]
        self.Q[lo + self.lead : hi + self.lead, :, 3:6] += n * f2f[None]
        self.N += amount * len(days)
        has = amount.sum(0) > 0
        self.head[:] = np.where(has, np.minimum(self.head, lo), self.head)

    # ----------------------------------------------------------------- closure

    def close(self, closed: np.ndarray) -> None:
        """Remove ``closed`` (3, RG) claimants, in proportion from every cell of the queue."""
        keep = 1.0 - np.divide(closed, self.N, out=np.zeros_like(closed), where=self.N > 0)
        self.N -= closed
        np.maximum(self.N, 0.0, out=self.N)
        self.F *= keep
        bad = self.F < 1e-30
        if bad.any():
            self._reset(bad)

    def _reset(self, mask: np.ndarray) -> None:
        # rare: a type emptied completely (F = 0) or its survival factor is near underflow
        for k, q in zip(*np.nonzero(mask)):
            cols = [k, 3 + k, 6 + k]
            self.Q[:, q, cols] *= np.float32(self.F[k, q])
            self.F[k, q] = 1.0

    # ----------------------------------------------------------------- service

    def serve(self, t: int, capacity: np.ndarray, w_paper: np.ndarray, w_f2f: np.ndarray, window: int = WINDOW):
        """Serve ready claimants FIFO by ready day with ``capacity`` HCP-days (RG,).

        ``w_paper``/``w_f2f`` (RG,): HCP-days per paper / f2f claimant of each queue's provider.
        Each pass reads ``window`` cells of every queue still being served: the first pass all
        queues, later passes only those that used up their window with capacity left (a queue's
        result never depends on the others'). Three cells measured fastest for the built-in
        scenarios (two leaves too many queues for a second pass; four reads too much).

        Returns
        -------
        served : (9, RG) claimants served today: paper, f2f first booking, rebooked (3 types each)
        refs : (3, RG) sums of referral days of the served paper, f2f first-booking and rebooked claimants
        """
        F32 = self.F.astype(np.float32)
        Fx = np.concatenate([F32, F32, F32])                                   # (9, RG)
        wp, wf = w_paper.astype(np.float32), w_f2f.astype(np.float32)
        coef = np.concatenate([F32 * wp, F32 * wf, F32 * wf])                  # (9, RG)
        served = np.zeros((9, self.RG))
        refs = np.zeros((3, self.RG))
        cap = capacity.astype(np.float32)
        qi = None
        while True:
            live = self._pass(t, qi, cap, coef, Fx, served, refs, window)
            if qi is not None:
                live = qi[live]
            else:
                live = np.nonzero(live)[0]
            if not live.size:
                break
            qi = live
        self.N -= served[0:3] + served[3:6] + served[6:9]
        np.maximum(self.N, 0.0, out=self.N)
        return served, refs

    def _pass(self, t: int, qi: np.ndarray | None, cap: np.ndarray, coef: np.ndarray, Fx: np.ndarray,
              served: np.ndarray, refs: np.ndarray, W: int) -> np.ndarray:
        """One window of service for queues ``qi`` (None: all); updates state in place.

        Returns a mask over ``qi`` of the queues to serve further (window used up, capacity left).
        """
        L, RG = self.L, self.RG
        wv = np.arange(W)[:, None]
        sel = slice(None) if qi is None else qi
        head, phi, c_q = self.head[sel], self.phi[sel], cap[sel]
        rg = self.rg[sel]
        idx = head + wv                                                        # (W, n) absolute cells
        cells = np.ascontiguousarray(self.Q.reshape(L * RG, N_COMP).take((idx % L) * RG + rg, axis=0)
                                     .transpose(2, 0, 1))                      # (C, W, n)
        ready = idx <= t + self.off
        rem = ready.astype(np.float32)
        rem[0] -= phi * rem[0]
        c9 = cells[:9]
        wrem = (c9 * coef[:, None, sel]).sum(0) * rem                          # work left in each cell (W, n)
        before = np.empty_like(wrem)
        before[0] = 0.0
        for w in range(1, W):
            before[w] = before[w - 1] + wrem[w - 1]
        frac = np.divide(c_q - before, wrem, out=np.ones_like(wrem), where=wrem > 0)
        np.clip(frac, 0.0, 1.0, out=frac)
        frac *= ready
        s = frac * rem                                                         # share of each whole cell served
        amt = c9 * (s * Fx[:, None, sel])                                      # (9, W, n) claimants
        served[:, sel] += amt.sum(axis=1)
        route = amt.reshape(3, 3, W, -1).sum(1)                                # (paper/f2f/rebooked, W, n)
        base = (head - self.off - self.scr).astype(np.float64)
        wv32 = wv.astype(np.float32)
        refs[0, sel] += route[0].sum(0) * base + (route[0] * wv32).sum(0)
        refs[1, sel] += route[1].sum(0) * (base - self.lead) + (route[1] * wv32).sum(0)
        refs[2, sel] += (route[2] * cells[9]).sum(0)
        c_q = np.maximum(c_q - (wrem * frac).sum(0), 0.0)
        cap[sel] = c_q
        full = ready & (frac >= 1.0)
        lead = full[0].copy()
        nfull = lead.astype(np.int64)
        for w in range(1, W):
            lead &= full[w]
            nfull += lead
        part = s[np.minimum(nfull, W - 1), np.arange(s.shape[1])]
        self.phi[sel] = np.where(nfull == 0, phi + part, np.where(nfull < W, part, 0.0))
        self.head[sel] = head + nfull
        return (nfull == W) & (c_q > 1e-6)
