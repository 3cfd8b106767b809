"""After assessment: decisions, reconsideration, appeals, the tribunal queue and prognosis timers.

Delays (rework, decision, MR, lodging) are day kernels applied to the flows in
expected proportions (:class:`Pipeline`); the branching at each step
(outcome, MR request, revision, appeal, overturn, prognosis period, repeat
deferral) is drawn as binomial counts on whole claimants (:class:`Rounder`
turns the real-valued flow leaving a delay into whole claimants, carrying the
fraction). The tribunal is one national FIFO queue of cohorts by lodging day
with a daily hearing capacity; withdrawals are drawn as a total and spread
in proportion.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .draws import BlockDraws, Layout, binomial, poisson
from .inputs import Inputs


class Pipeline:
    """Amounts scheduled to leave a delay on each future day, shape (R, days, *dims)."""

    def __init__(self, R: int, days: int, dims: tuple[int, ...] = ()) -> None:
        self.due = np.zeros((R, days) + dims)

    def add(self, t: int, amount: np.ndarray, kernel: np.ndarray) -> None:
        """``amount`` (R, *dims) enters on day ``t`` and leaves over ``t + k`` with weights ``kernel``."""
        end = min(t + len(kernel), self.due.shape[1])
        if end <= t:
            return
        k = kernel[: end - t].reshape((1, -1) + (1,) * (amount.ndim - 1))
        self.due[:, t:end] += amount[:, None] * k


class Rounder:
    """Whole claimants from a real-valued flow: floor of the running total, fraction carried."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.frac = np.zeros(shape)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        total = self.frac + x
        whole = np.floor(total + 1e-9)
        self.frac = total - whole
        return np.maximum(whole, 0.0)


def shift_kernel(kernel: np.ndarray, days: int) -> np.ndarray:
    """``kernel`` delayed by ``days`` whole days."""
    return np.concatenate([np.zeros(days), kernel])


class Downstream:
    """State after the provider queue for ``R`` replications."""

    def __init__(self, inp: Inputs, R: int) -> None:
        self.inp = inp
        T = inp.T
        span = T + 1
        self.decide = Pipeline(R, span, (3,))
        self.decide_ref = Pipeline(R, span)
        self.mr = Pipeline(R, span)
        self.lodge = Pipeline(R, span)
        self.round_decide = Rounder((R, 3))
        self.round_mr = Rounder((R,))
        self.round_heard = Rounder((R,))
        self.timers = np.zeros((R, span))
        self.deferred_total = np.zeros(R)
        self.awaiting = np.zeros(R)
        self.awaiting_new = np.zeros(R)
        self.mr_pending = np.zeros(R)
        self.pending_lodging = np.zeros(R)
        # tribunal cohorts by lodging day, stored divided by a survival factor (withdrawals)
        self.t_off = 0
        self.TQ = np.zeros((R, 1))
        self.TF = np.ones(R)
        self.t_head = np.zeros(R, dtype=np.int64)
        self.t_N = np.zeros(R)

    @staticmethod
    def register(layout: Layout, inp: Inputs) -> None:
        layout.add("decision", "outcome", (2, 3))
        layout.add("reconsideration", "mr", (3,))
        layout.add("appeal", "appeal", (6,))
        layout.add("prognosis", "prog_sg", (len(inp.prog_sg[0]),))
        layout.add("prognosis", "prog_wrag", (len(inp.prog_wrag[0]),))
        layout.add("prognosis", "defer", (1,))

    def init_tribunal(self, count: float, max_age: int) -> None:
        """Initial appeals, ages uniform up to ``max_age`` days, oldest first."""
        R = self.TQ.shape[0]
        self.t_off = max_age + 1
        self.TQ = np.zeros((R, self.t_off + self.inp.T + 1))
        if count > 0:
            ages = max(max_age, 1)
            self.TQ[:, self.t_off - ages : self.t_off] = count / ages
        self.t_N[:] = count
        self.t_head[:] = self.t_off - max(max_age, 1)

    # ------------------------------------------------------------ decisions

    def decisions(self, t: int, draws: BlockDraws) -> dict[str, np.ndarray]:
        """Initial decisions leaving the decision delay today, by outcome; FFW routed to MR or appeal."""
        inp = self.inp
        n = self.round_decide(self.decide.due[:, t])            # (R, 3)
        z = draws.z("outcome")
        sg = binomial(n, inp.sg[t], z[:, 0])
        rest_share = np.divide(inp.wrag[t], 1.0 - inp.sg[t], out=np.zeros(3), where=inp.sg[t] < 1)
        wrag = binomial(n - sg, rest_share, z[:, 1])
        ffw = (n - sg - wrag).sum(-1)
        decided = n.sum(-1)
        self.awaiting -= decided
        self.awaiting_new -= n[:, 0]
        za = draws.z("appeal")
        if t >= inp.mr_start:
            mr = binomial(ffw, inp.mr_request[t], draws.z("mr")[:, 0])
            appealed = np.zeros_like(ffw)
            self.mr.add(t, mr, inp.k_mr)
            self.mr_pending += mr
        else:
            mr = np.zeros_like(ffw)
            appealed = binomial(ffw, inp.appeal_before[t], za[:, 0])
            self.lodge.add(t, appealed, inp.k_lodge)
            self.pending_lodging += appealed
        due = self.decide.due[:, t]
        ref = self.decide_ref.due[:, t]
        total = due.sum(-1)
        wait = np.where(total > 1e-9, t - np.divide(ref, total, out=np.zeros_like(ref), where=total > 0), np.nan)
        return {"sg": sg.sum(-1), "wrag": wrag.sum(-1), "ffw": ffw, "decided": decided, "mr": mr,
                "appealed_direct": appealed, "ffw_accepted": ffw - mr - appealed, "wait": wait, "by_type": n}

    def reconsiderations(self, t: int, draws: BlockDraws) -> dict[str, np.ndarray]:
        inp = self.inp
        m = np.minimum(self.round_mr(self.mr.due[:, t]), np.maximum(self.mr_pending, 0))
        self.mr_pending -= m
        z = draws.z("mr")
        revised = binomial(m, inp.mr_revision[t], z[:, 1])
        revised_sg = binomial(revised, inp.mr_sg, z[:, 2])
        appealed = binomial(m - revised, inp.appeal_after[t], draws.z("appeal")[:, 1])
        self.lodge.add(t, appealed, inp.k_lodge)
        self.pending_lodging += appealed
        return {"decided": m, "revised": revised, "revised_sg": revised_sg, "appealed": appealed,
                "ffw_after_mr": m - revised - appealed}

    # ------------------------------------------------------------- tribunal

    def tribunal(self, t: int, draws: BlockDraws) -> dict[str, np.ndarray]:
        inp = self.inp
        z = draws.z("appeal")
        lodged = np.minimum(self.lodge.due[:, t], self.pending_lodging)
        self.pending_lodging -= lodged
        self.TQ[:, t + self.t_off] += lodged / self.TF
        self.t_N += lodged
        withdrawn = np.minimum(poisson(self.t_N * inp.withdraw_q, z[:, 2]), self.t_N)
        keep = 1.0 - np.divide(withdrawn, self.t_N, out=np.zeros_like(withdrawn), where=self.t_N > 0)
        self.t_N -= withdrawn
        gone = keep <= 0
        if gone.any():
            self.TQ[gone] = 0.0
            self.TF[gone] = 1.0
        self.TF *= np.where(gone, 1.0, keep)
        heard = np.zeros_like(lodged)
        if inp.hearings[t] > 0:
            c = inp.hearings[t]
            cap = np.floor(c) + (ndtr(z[:, 3].astype(np.float64)) < c - np.floor(c))
            heard = self._hear(t, cap)
        whole = self.round_heard(heard)
        overturned = binomial(whole, inp.overturn[t], z[:, 4])
        return {"lodged": lodged, "withdrawn": withdrawn, "heard": heard, "overturned": overturned,
                "upheld": heard - overturned}

    def _hear(self, t: int, cap: np.ndarray) -> np.ndarray:
        R = self.TQ.shape[0]
        rows = np.arange(R)
        heard = np.zeros(R)
        cap = np.minimum(cap, self.t_N)
        limit = t + self.t_off
        for _ in range(400):
            open_ = (cap - heard > 1e-9) & (self.t_head <= limit)
            if not open_.any():
                break
            r = rows[open_]
            h = self.t_head[r]
            amount = self.TQ[r, h] * self.TF[r]
            take = np.minimum(amount, cap[r] - heard[r])
            heard[r] += take
            rest = amount - take
            self.TQ[r, h] = np.where(rest > 1e-9, rest / self.TF[r], 0.0)
            self.t_head[r] += rest <= 1e-9
        self.t_N -= heard
        np.maximum(self.t_N, 0.0, out=self.t_N)
        return heard

    # ---------------------------------------------------- prognosis / repeats

    def awards(self, t: int, sg: np.ndarray, wrag: np.ndarray, draws: BlockDraws) -> None:
        """Start prognosis timers for today's SG and WRAG awards (whole claimants)."""
        for n, key, (offsets, probs) in ((sg, "prog_sg", self.inp.prog_sg), (wrag, "prog_wrag", self.inp.prog_wrag)):
            z = draws.z(key)
            left = n.copy()
            mass = 1.0
            for j, (off, pr) in enumerate(zip(offsets, probs)):
                share = 1.0 if j == len(offsets) - 1 else (pr / mass if mass > 0 else 0.0)
                k = binomial(left, min(share, 1.0), z[:, j])
                left -= k
                mass -= pr
                if t + off < self.inp.T:
                    self.timers[:, t + off] += k

    def repeats_due(self, t: int, draws: BlockDraws) -> np.ndarray:
        """Repeat referrals from timers today after deferral, plus deferred repeats released today (R,)."""
        inp = self.inp
        n = self.timers[:, t]
        if inp.deferral[t]:
            deferred = binomial(n, inp.share_deferred, draws.z("defer")[:, 0])
            self.deferred_total += deferred
            n = n - deferred
        return n + self.deferred_total * inp.release[t]
