"""After assessment: decisions, reconsideration, appeals, the tribunal and prognosis timers.

Delays are applied to the flows in expected proportions: the gamma decision
and MR delays through discretised day kernels (:class:`Pipeline`, time-major
so a day's additions are one contiguous slice), report rework as a fixed
shift before the decision delay, and the exponential lodging delay exactly as
a memoryless pool (after the first day a constant share ``1 - exp(-1/mean)``
of the pool leaves each day). The branching at each step (outcome, MR request,
revision, appeal, overturn, prognosis period, repeat deferral) is drawn as
binomial counts on whole claimants (:class:`Rounder` turns the real-valued
flow leaving a delay into whole claimants, carrying the fraction). The
tribunal queue is one national pool per replication: nothing it reports
depends on the order of hearing, so it is a count with a daily hearing
capacity and a withdrawal hazard.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from .draws import BlockDraws, Layout, binomial, poisson
from .inputs import Inputs


class Pipeline:
    """Amounts scheduled to leave a delay on each future day, shape (days, *dims, R) (float32)."""

    def __init__(self, R: int, days: int, kernel: np.ndarray, dims: tuple[int, ...] = ()) -> None:
        self.kernel = kernel.astype(np.float32).reshape((-1,) + (1,) * (len(dims) + 1))
        self.due = np.zeros((days + len(kernel),) + dims + (R,), dtype=np.float32)

    def add(self, t: int, amount: np.ndarray) -> None:
        """``amount`` (*dims, R) enters on day ``t`` and leaves over ``t + k`` with the kernel's weights."""
        self.due[t : t + len(self.kernel)] += self.kernel * amount.astype(np.float32)[None]

    def out(self, t: int) -> np.ndarray:
        return self.due[t].astype(np.float64)


class Rounder:
    """Whole claimants from a real-valued flow: floor of the running total, fraction carried."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.frac = np.zeros(shape)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        total = self.frac + x
        whole = np.floor(total + 1e-6)
        self.frac = total - whole
        return np.maximum(whole, 0.0)


class Downstream:
    """State after the provider queue for ``R`` replications."""

    def __init__(self, inp: Inputs, R: int) -> None:
        self.inp = inp
        T = inp.T
        self.decide = Pipeline(R, T + 1, inp.k_decision, (4,))     # 3 referral types + referral-day sum
        self.rd = int(inp.rework_days.max(initial=0))
        self.rework = np.zeros((T + self.rd + 1, 4, R))
        self.mr = Pipeline(R, T + 1, inp.k_mr)
        self.lodge_k0 = float(inp.k_lodge[0])
        self.lodge_q = 1.0 - math.exp(-1.0 / inp.lodging_mean) if inp.lodging_mean > 0 else 1.0
        self.lodge_new = np.zeros(R)
        self.round_decide = Rounder((3, R))
        self.round_mr = Rounder((R,))
        self.round_heard = Rounder((R,))
        self.timers = np.zeros((T + 1, R))
        self.deferred_total = np.zeros(R)
        self.awaiting = np.zeros(R)
        self.awaiting_new = np.zeros(R)
        self.mr_pending = np.zeros(R)
        self.pending_lodging = np.zeros(R)
        self.t_N = np.zeros(R)

    @staticmethod
    def register(layout: Layout, inp: Inputs) -> None:
        layout.add("decision", "outcome", (2, 3))
        layout.add("reconsideration", "mr", (3,))
        layout.add("appeal", "appeal", (6,))
        layout.add("prognosis", "prog_sg", (len(inp.prog_sg[0]),))
        layout.add("prognosis", "prog_wrag", (len(inp.prog_wrag[0]),))
        layout.add("prognosis", "defer", (1,))

    def assessed(self, t: int, plain: np.ndarray, reworked: list[tuple[int, np.ndarray]]) -> None:
        """Today's assessments entering the decision delay, (4, R): 3 types + referral-day sum.

        ``reworked`` lists ``(rework_days, amount)``: reports returned for rework reach the
        decision delay ``rework_days`` later.
        """
        total = plain.copy()
        for rd, amount in reworked:
            self.rework[t + rd] += amount
            total += amount
        self.decide.add(t, plain + self.rework[t])
        self.awaiting += total[0] + total[1] + total[2]
        self.awaiting_new += total[0]

    # ------------------------------------------------------------ decisions

    def decisions(self, t: int, draws: BlockDraws) -> dict[str, np.ndarray]:
        """Initial decisions leaving the decision delay today, by outcome; FFW routed to MR or appeal."""
        inp = self.inp
        due = self.decide.out(t)
        n = self.round_decide(due[:3])               # (3, R)
        z = draws.z("outcome")
        sg = binomial(n, inp.sg[t][:, None], z[0])
        rest_share = np.divide(inp.wrag[t], 1.0 - inp.sg[t], out=np.zeros(3), where=inp.sg[t] < 1)
        wrag = binomial(n - sg, rest_share[:, None], z[1])
        ffw = (n - sg - wrag).sum(0)
        decided = n.sum(0)
        self.awaiting -= decided
        self.awaiting_new -= n[0]
        if t >= inp.mr_start:
            mr = binomial(ffw, inp.mr_request[t], draws.z("mr")[0])
            appealed = np.zeros_like(ffw)
            self.mr.add(t, mr)
            self.mr_pending += mr
        else:
            mr = np.zeros_like(ffw)
            appealed = binomial(ffw, inp.appeal_before[t], draws.z("appeal")[0])
            self.lodge_new += appealed
        total = due[:3].sum(0)
        ref = np.divide(due[3], total, out=np.zeros_like(total), where=total > 1e-9)
        wait = np.where(total > 1e-9, t - ref, np.nan)
        return {"sg": sg.sum(0), "wrag": wrag.sum(0), "ffw": ffw, "decided": decided, "mr": mr,
                "ffw_accepted": ffw - mr - appealed, "wait": wait}

    def reconsiderations(self, t: int, draws: BlockDraws) -> dict[str, np.ndarray]:
        inp = self.inp
        m = np.minimum(self.round_mr(self.mr.out(t)), np.maximum(self.mr_pending, 0))
        self.mr_pending -= m
        z = draws.z("mr")
        revised = binomial(m, inp.mr_revision[t], z[1])
        revised_sg = binomial(revised, inp.mr_sg, z[2])
        appealed = binomial(m - revised, inp.appeal_after[t], draws.z("appeal")[1])
        self.lodge_new += appealed
        return {"decided": m, "revised": revised, "revised_sg": revised_sg, "appealed": appealed,
                "ffw_after_mr": m - revised - appealed}

    # ------------------------------------------------------------- tribunal

    def tribunal(self, t: int, draws: BlockDraws) -> dict[str, np.ndarray]:
        inp = self.inp
        z = draws.z("appeal")
        # exponential lodging: today's appeals leave with the first-day mass, the pool at a constant rate
        old = self.pending_lodging
        lodged = self.lodge_q * old + self.lodge_k0 * self.lodge_new
        self.pending_lodging = old + self.lodge_new - lodged
        self.lodge_new = np.zeros_like(old)
        self.t_N += lodged
        withdrawn = np.minimum(poisson(self.t_N * inp.withdraw_q, z[2]), self.t_N)
        self.t_N -= withdrawn
        heard = np.zeros_like(lodged)
        if inp.hearings[t] > 0:
            c = inp.hearings[t]
            cap = np.floor(c) + (ndtr(z[3].astype(np.float64)) < c - np.floor(c))
            heard = np.minimum(cap, self.t_N)
            self.t_N -= heard
        whole = self.round_heard(heard)
        overturned = binomial(whole, inp.overturn[t], z[4])
        return {"lodged": lodged, "withdrawn": withdrawn, "heard": heard, "overturned": overturned,
                "upheld": heard - overturned}

    # ---------------------------------------------------- prognosis / repeats

    def awards(self, t: int, sg: np.ndarray, wrag: np.ndarray, draws: BlockDraws) -> None:
        """Start prognosis timers for today's SG and WRAG awards (whole claimants)."""
        for n, key, (offsets, probs) in ((sg, "prog_sg", self.inp.prog_sg), (wrag, "prog_wrag", self.inp.prog_wrag)):
            z = draws.z(key)
            left = n.copy()
            mass = 1.0
            for j, (off, pr) in enumerate(zip(offsets, probs)):
                share = 1.0 if j == len(offsets) - 1 else (pr / mass if mass > 0 else 0.0)
                k = left if share >= 1.0 else binomial(left, share, z[j])
                left = left - k
                mass -= pr
                if t + off < self.inp.T:
                    self.timers[t + off] += k

    def repeats_due(self, t: int, draws: BlockDraws) -> np.ndarray:
        """Repeat referrals from timers today after deferral, plus deferred repeats released today (R,)."""
        inp = self.inp
        n = self.timers[t]
        if inp.deferral[t]:
            deferred = binomial(n, inp.share_deferred, draws.z("defer")[0])
            self.deferred_total += deferred
            n = n - deferred
        return n + self.deferred_total * inp.release[t]
