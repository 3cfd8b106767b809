"""The daily loop of the fast engine for one batch (chunk) of replications.

Each day, in this order: contract starts and hiring; referrals (new claims, IB
reassessments, existing repeats, repeats from prognosis timers, released
deferred repeats); closures while waiting; service on working days (with
did-not-attend and rebooking); incidents and attrition; initial decisions;
MR decisions; appeals reaching and leaving the tribunal; prognosis timers.
All state arrays have replications first. Recorded series are in simulated
(scaled) units; :mod:`.output` converts them to national counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...calendar import oldest_initial_age
from ...scenario import Scenario
from ...streams import generator
from .downstream import Downstream, Rounder, shift_kernel
from .draws import BlockDraws, Layout, binomial, poisson
from .inputs import Inputs
from .queues import ProviderQueues
from .workforce import Workforce

#: Recorded daily series and their extra dims: "G" regions, "P" providers, "3" referral types.
SERIES: dict[str, tuple] = {
    "referrals": (3,), "backlog_by_region": ("G",), "backlog_by_type": (3,), "backlog_by_provider": ("P",),
    "assessments": ("P", 2), "did_not_attend": ("P",), "decisions": (3,), "decision_wait_days_mean": (),
    "closed_while_waiting": (), "awaiting_decision": (), "mr_requested": (), "mr_pending": (),
    "appeals_pending_lodging": (), "appeals_lodged": (), "tribunal_backlog": (), "appeals_heard": (),
    "appeals_overturned": (), "appeals_withdrawn": (), "exits": (10,), "hcp_fte": ("P",),
    "hcp_fte_effective": ("P",), "incidents": (), "cost": (6,),
}


def register(layout: Layout, inp: Inputs) -> None:
    """Reserve every normal the loop draws, by stream."""
    layout.add("arrivals", "arrivals", (3, inp.G))
    layout.add("prognosis", "defer_existing", (inp.G,))
    ProviderQueues.register(layout, inp.G)
    layout.add("attendance", "dna", (inp.G,))
    layout.add("attendance", "rebook", (inp.G,))
    Workforce.register(layout, inp.P)
    Downstream.register(layout, inp)


def by_provider(x: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Sum (R, G) over the regions of each provider -> (R, P).

    Elementwise, not a matrix product: BLAS may sum in an order that depends on
    the number of replications, which would make results depend on the batch.
    """
    return (x[:, :, None] * onehot[None]).sum(1)


class Recorder:
    """Daily series of a batch, shape (R, T, *dims)."""

    def __init__(self, inp: Inputs, R: int) -> None:
        size = {"G": inp.G, "P": inp.P}
        self.data = {
            name: np.zeros((R, inp.T) + tuple(size.get(d, d) for d in dims)) for name, dims in SERIES.items()
        }

    def __setitem__(self, key: tuple[str, int], value: np.ndarray) -> None:
        name, t = key
        self.data[name][:, t] = value


def _initial_state(sc: Scenario, inp: Inputs, seed: int, replications: Sequence[int], q: ProviderQueues,
                   ds: Downstream, wait0: list) -> np.ndarray:
    """Place the start-date stock; returns initial stock per replication (scaled units)."""
    R, s = len(replications), sc.scale
    init = sc.initial_state
    gens = [generator(seed, int(r), "initial_state") for r in replications]
    stock = np.zeros(R)
    types = {"new_claim": 0, "ib_reassessment": 1, "repeat": 2}
    for entry in init.provider_queue:
        n = int(round(entry.count * s))
        if n == 0:
            continue
        by_region = np.stack([g.multinomial(n, inp.region_share / inp.region_share.sum()) for g in gens])
        lo, hi = entry.min_age_days, entry.max_age_days
        bins = max(int(round(hi - lo)), 1)
        ages = lo + (np.arange(bins) + 0.5) * (hi - lo) / bins
        for age in ages:
            amount = np.zeros((R, inp.G, 3))
            amount[:, :, types[entry.referral_type]] = by_region / bins
            q.add_fresh(-int(np.ceil(age)), amount, inp.paper_share[0])
        stock += n
    n_await = float(round(init.awaiting_decision * s))
    if n_await:
        amount = np.zeros((R, 3))
        amount[:, 0] = n_await
        ds.decide.add(0, amount, inp.k_decision)
        ds.decide_ref.add(0, np.full(R, -n_await * init.awaiting_decision_max_age_days / 2), inp.k_decision)
        ds.awaiting += n_await
        ds.awaiting_new += n_await
        wait0.append((n_await, init.awaiting_decision_max_age_days))
    n_mr = float(round(init.mr_pending * s))
    if n_mr:
        ds.mr.add(0, np.full(R, n_mr), inp.k_mr)
        ds.mr_pending += n_mr
    n_trib = float(round(init.tribunal_backlog * s))
    ds.init_tribunal(n_trib, int(np.ceil(init.tribunal_max_age_days)))
    q.start_head()
    return stock + n_await + n_mr + n_trib


def simulate(sc: Scenario, inp: Inputs, seed: int, replications: Sequence[int], block: int = 64):
    """Run one batch. Returns (Recorder, served-cell table of the queues, initial waits, initial stock)."""
    R = len(replications)
    layout = Layout()
    register(layout, inp)
    draws = BlockDraws(layout, seed, replications, block=block)
    q = ProviderQueues(inp, R, int(np.ceil(oldest_initial_age(sc))))
    ds = Downstream(inp, R)
    wf = Workforce(inp, R)
    rec = Recorder(inp, R)
    wait0: list = []
    stock = _initial_state(sc, inp, seed, replications, q, ds, wait0)
    round_f2f = Rounder((R, inp.G))
    onehots = np.eye(inp.P)[inp.holder]               # (T, G, P)
    k_rework = [shift_kernel(inp.k_decision, int(d)) for d in inp.rework_days]
    zeros_gp = np.zeros((R, inp.P))
    for t in range(inp.T):
        draws.set_day(t)
        wf.start_of_day(t, draws)
        holder, M = inp.holder[t], onehots[t]

        # ---- referrals
        z = draws.z("arrivals")
        amount = poisson(np.broadcast_to(inp.lam_new[t], (R, 3, inp.G)), z).transpose(0, 2, 1).copy()
        if inp.deferral[t]:
            deferred = binomial(amount[:, :, 2], inp.share_deferred, draws.z("defer_existing"))
            ds.deferred_total += deferred.sum(-1)
            amount[:, :, 2] -= deferred
        amount[:, :, 2] += ds.repeats_due(t, draws)[:, None] * inp.region_share[None, :]
        q.add_fresh(t, amount, inp.paper_share[t])
        rec["referrals", t] = amount.sum(1)

        # ---- closure while waiting
        closed = q.close(draws).sum((1, 2))

        # ---- assessment
        f2f_att_p, paper_p, dna_p = zeros_gp, zeros_gp, zeros_gp
        if inp.working[t]:
            eff = wf.effective(t)
            waiting = q.N.sum(-1)
            per_provider = by_provider(waiting, M)
            share = np.divide(waiting, per_provider[:, holder], out=np.zeros_like(waiting), where=waiting > 0)
            cap = eff[:, holder] * share * inp.active[t][holder]
            served, f2f_ref, paper_ref = q.serve(t, cap, inp.work[holder], 1.0 - inp.dna[holder])
            f2f_ty = served[..., 3:6] + served[..., 6:9]
            f2f = f2f_ty.sum(-1)
            dna = binomial(round_f2f(f2f), inp.dna[holder], draws.z("dna"))
            dna = np.minimum(dna, f2f)
            rebooked = binomial(dna, inp.rebook[holder], draws.z("rebook"))
            ty = np.divide(f2f_ty, f2f[..., None], out=np.zeros_like(f2f_ty), where=f2f[..., None] > 0)
            ref_mean = np.divide(f2f_ref, f2f, out=np.zeros_like(f2f), where=f2f > 0)
            q.add_rebooked(t, rebooked[..., None] * ty, ref_mean)
            attended_ty = f2f_ty - dna[..., None] * ty
            assessed_ty = served[..., 0:3] + attended_ty                    # (R, G, 3)
            att_share = np.divide(f2f - dna, f2f, out=np.zeros_like(f2f), where=f2f > 0)
            ref_sum = paper_ref + f2f_ref * att_share
            paper_p = by_provider(served[..., 0:3].sum(-1), M)
            f2f_att_p = by_provider(f2f - dna, M)
            dna_p = by_provider(dna, M)
            for p in np.unique(holder):
                in_p = holder == p
                a = assessed_ty[:, in_p].sum(1)
                rsum = ref_sum[:, in_p].sum(1)
                rr = inp.rework_rate[p]
                ds.decide.add(t, a * (1 - rr), inp.k_decision)
                ds.decide.add(t, a * rr, k_rework[p])
                ds.decide_ref.add(t, rsum * (1 - rr), inp.k_decision)
                ds.decide_ref.add(t, rsum * rr, k_rework[p])
                ds.awaiting += a.sum(-1)
                ds.awaiting_new += a[:, 0]
            exits_dna = (dna - rebooked).sum(-1)
        else:
            exits_dna = np.zeros(R)
        rec["assessments", t] = np.stack([paper_p, f2f_att_p], axis=-1)
        rec["did_not_attend", t] = dna_p
        incidents = wf.end_of_day(t, f2f_att_p, draws)

        # ---- decisions, MR, tribunal
        dec = ds.decisions(t, draws)
        mr = ds.reconsiderations(t, draws)
        tri = ds.tribunal(t, draws)
        over_sg = binomial(tri["overturned"], inp.overturn_sg, draws.z("appeal")[:, 5])
        ds.awards(t, dec["sg"] + mr["revised_sg"] + over_sg,
                  dec["wrag"] + mr["revised"] - mr["revised_sg"] + tri["overturned"] - over_sg, draws)

        # ---- record
        rec["backlog_by_region", t] = q.N.sum(-1)
        rec["backlog_by_type", t] = q.N.sum(1)
        rec["backlog_by_provider", t] = by_provider(q.N.sum(-1), M)
        rec["decisions", t] = np.stack([dec["sg"], dec["wrag"], dec["ffw"]], axis=-1)
        rec["decision_wait_days_mean", t] = dec["wait"]
        rec["closed_while_waiting", t] = closed
        rec["awaiting_decision", t] = ds.awaiting
        rec["mr_requested", t] = dec["mr"]
        rec["mr_pending", t] = ds.mr_pending
        rec["appeals_pending_lodging", t] = ds.pending_lodging
        rec["appeals_lodged", t] = tri["lodged"]
        rec["tribunal_backlog", t] = ds.t_N
        rec["appeals_heard", t] = tri["heard"]
        rec["appeals_overturned", t] = tri["overturned"]
        rec["appeals_withdrawn", t] = tri["withdrawn"]
        rec["exits", t] = np.stack([
            closed, exits_dna, dec["sg"], dec["wrag"], dec["ffw_accepted"], mr["ffw_after_mr"], mr["revised"],
            tri["withdrawn"], tri["upheld"], tri["overturned"]], axis=-1)
        rec["hcp_fte", t] = wf.headcount()
        rec["hcp_fte_effective", t] = wf.effective(t)
        rec["incidents", t] = incidents.sum(-1)
        price = inp.price[t]
        waiting_new = q.N[..., 0].sum(-1) + ds.awaiting_new
        rec["cost", t] = np.stack([
            (paper_p * price[:, 0]).sum(-1), (f2f_att_p * price[:, 1]).sum(-1), (tri["heard"] + tri["withdrawn"]) * inp.tribunal_cost[t],
            dec["decided"] * inp.dwp_decision[t], mr["decided"] * inp.dwp_mr[t], waiting_new * inp.benefit_per_day[t],
        ], axis=-1)
    return rec, q, wait0, stock
