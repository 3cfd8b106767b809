"""The daily loop of the fast engine for one batch (chunk) of replications.

Each day, in this order: contract starts and hiring; referrals (new claims, IB
reassessments, existing repeats, repeats from prognosis timers, released
deferred repeats); closures while waiting; service on working days (with
did-not-attend and rebooking); incidents and attrition; initial decisions;
MR decisions; appeals reaching and leaving the tribunal; prognosis timers.
Every operation acts on a whole batch: arrays have replications first (or
second, after a day axis) and regions/providers/types as further axes, so a
simulated day costs a fixed number of NumPy calls whatever the batch size.
Recorded series are in simulated (scaled) units; :mod:`.output` scales them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...calendar import oldest_initial_age
from ...scenario import Scenario
from ...streams import generator
from .downstream import Downstream, Rounder
from .draws import BlockDraws, Layout, binomial, poisson
from .inputs import Inputs
from .output import Recorder
from .queues import ProviderQueues
from .workforce import Workforce


def by_provider(x: np.ndarray, groups: list[tuple[int, np.ndarray]], P: int) -> np.ndarray:
    """(..., G, R) summed over each provider's regions (``groups``: (provider, region indices)) -> (..., P, R).

    The sum runs over an outer axis (replications are last and R >= 2), so it adds the regions
    one after the other whatever the batch size.
    """
    out = np.zeros(x.shape[:-2] + (P, x.shape[-1]))
    for p, regions in groups:
        if regions.size:
            out[..., p, :] = x[..., regions, :].sum(-2)
    return out


def register(layout: Layout, inp: Inputs) -> None:
    """Reserve every random number the loop draws, by stream."""
    layout.add("arrivals", "arrivals", (3,))
    layout.add("claimant", "closures", (3,))
    layout.add("prognosis", "defer_existing", (1,))
    layout.add("attendance", "dna", (inp.P,))
    layout.add("attendance", "rebook", (inp.P,))
    Workforce.register(layout, inp)
    Downstream.register(layout, inp)


def _initial_state(sc: Scenario, inp: Inputs, seed: int, replications: Sequence[int], q: ProviderQueues,
                   ds: Downstream, wait0: list) -> np.ndarray:
    """Place the start-date stock; returns initial stock per replication (scaled units)."""
    R, s = len(replications), sc.scale
    init = sc.initial_state
    gens = [generator(seed, int(r), "initial_state") for r in replications]
    stock = np.zeros(R)
    types = {"new_claim": 0, "ib_reassessment": 1, "repeat": 2}
    share = inp.region_share / inp.region_share.sum()
    ps0 = np.repeat(inp.paper_share[0].T, R, axis=1)                                 # (3, G*R)
    for entry in init.provider_queue:
        n = int(round(entry.count * s))
        if n == 0:
            continue
        by_region = np.stack([g.multinomial(n, share) for g in gens], axis=-1).reshape(-1)   # (G*R,)
        lo, hi = entry.min_age_days, entry.max_age_days
        bins = max(int(round(hi - lo)), 1)
        ages = lo + (np.arange(bins) + 0.5) * (hi - lo) / bins
        amount = np.zeros((3, q.RG))
        amount[types[entry.referral_type]] = by_region / bins
        q.add_stock(-np.ceil(ages).astype(np.int64), amount, ps0)
        stock += n
    n_await = float(round(init.awaiting_decision * s))
    if n_await:
        amount = np.zeros((4, R))
        amount[0] = n_await
        amount[3] = -n_await * init.awaiting_decision_max_age_days / 2
        ds.decide.add(0, amount)
        ds.awaiting += n_await
        ds.awaiting_new += n_await
        wait0.append((n_await, init.awaiting_decision_max_age_days))
    n_mr = float(round(init.mr_pending * s))
    if n_mr:
        ds.mr.add(0, np.full(R, n_mr))
        ds.mr_pending += n_mr
    n_trib = float(round(init.tribunal_backlog * s))
    ds.t_N[:] = n_trib
    return stock + n_await + n_mr + n_trib


def simulate(sc: Scenario, inp: Inputs, seed: int, replications: Sequence[int], rec: Recorder,
             block: int = 256) -> tuple[list, np.ndarray]:
    """Run one batch, writing its series through ``rec``. Returns (initial waits, initial stock).

    Layout: every per-day array has the replications on its last (contiguous) axis, e.g.
    (type, region, R), (provider, R), (R,); queue arrays flatten (region, R) to G*R.
    """
    R, G, P = len(replications), inp.G, inp.P
    layout = Layout()
    register(layout, inp)
    draws = BlockDraws(layout, seed, replications, block=block)
    q = ProviderQueues(inp, R, int(np.ceil(oldest_initial_age(sc))))
    ds = Downstream(inp, R)
    wf = Workforce(inp, R)
    wait0: list = []
    stock = _initial_state(sc, inp, seed, replications, q, ds, wait0)
    round_f2f = Rounder((P, R))
    share_g = (inp.region_share / inp.region_share.sum())[None, :, None]   # (1, G, 1)
    rd_values = sorted({int(d) for d in inp.rework_days})
    closure_q = inp.closure_q[:, None]
    lam_national = inp.lam_new.sum(-1)[:, :, None]                      # (T, 3, 1) expected referrals a day
    dna_rate, rebook_rate = inp.dna[:, None], inp.rebook[:, None]
    zeros_pr = np.zeros((P, R))
    zeros_r = np.zeros(R)
    no_points = np.zeros((6, R))
    # per-day region -> provider structure, cached while the holders do not change
    last_holder, groups = None, None
    for t in range(inp.T):
        draws.set_day(t)
        q.start_day(t)
        wf.start_of_day(t, draws)
        holder = inp.holder[t]
        if last_holder is None or not np.array_equal(holder, last_holder):
            last_holder = holder
            groups = [(p, np.nonzero(holder == p)[0]) for p in range(P)]
            w = inp.work[holder]                                          # (G, 3)
            w_paper = np.repeat(w[:, 0], R)
            w_f2f = np.repeat(w[:, 1], R)
            rr = inp.rework_rate[holder][None, :, None]                   # (1, G, 1)
            rd_mask = [(d, (inp.rework_days[holder] == d)[None, :, None]) for d in rd_values]

        # ---- referrals: national Poisson counts by type, regions in expected proportions
        national = poisson(lam_national[t], draws.z("arrivals"))        # (3, R)
        if inp.deferral[t]:
            deferred = binomial(national[2], inp.share_deferred, draws.z("defer_existing")[0])
            ds.deferred_total += deferred
            national[2] -= deferred
        national[2] += ds.repeats_due(t, draws)
        amount = national[:, None, :] * share_g                          # (3, G, R)
        ps = np.repeat(inp.paper_share[t].T, R, axis=1)                  # (3, G*R)
        q.add_fresh(t, amount.reshape(3, G * R), ps)

        # ---- closure while waiting: national count per type, spread over regions and cells in proportion
        N = q.N.reshape(3, G, R)
        waiting_type = N.sum(1)                                           # (3, R)
        closed_t = np.minimum(poisson(waiting_type * closure_q, draws.z("closures")), waiting_type)
        ratio = np.divide(closed_t, waiting_type, out=np.zeros_like(closed_t), where=waiting_type > 0)
        q.close((N * ratio[:, None, :]).reshape(3, G * R))
        closed = closed_t.sum(0)

        # ---- assessment
        f2f_att_p, paper_p, dna_p, exits_dna, points = zeros_pr, zeros_pr, zeros_pr, zeros_r, no_points
        if inp.working[t]:
            eff = wf.effective()                                          # (P, R)
            waiting = q.N.sum(0).reshape(G, R)
            per_provider = by_provider(waiting, groups, P)
            share = np.divide(waiting, per_provider[holder], out=np.zeros_like(waiting), where=waiting > 0)
            cap = eff[holder] * share * inp.active[t][holder][:, None]
            served, refs = q.serve(t, cap.reshape(-1), w_paper, w_f2f)
            served = served.reshape(3, 3, G, R)                           # (route, type, G, R)
            refs = refs.reshape(3, G, R)
            paper_ty = served[0]
            f2f_ty = served[1] + served[2]
            f2f = f2f_ty.sum(0)                                           # (G, R)
            f2f_p = by_provider(f2f, groups, P)                                      # (P, R)
            dna_p = np.minimum(binomial(round_f2f(f2f_p), dna_rate, draws.z("dna")), f2f_p)
            reb_p = binomial(dna_p, rebook_rate, draws.z("rebook"))
            in_p = np.divide(f2f, f2f_p[holder], out=np.zeros_like(f2f), where=f2f > 0)   # region's share
            dna = dna_p[holder] * in_p
            rebooked = reb_p[holder] * in_p
            ty = np.divide(f2f_ty, f2f, out=np.zeros_like(f2f_ty), where=f2f > 0)
            ref_f2f = refs[1] + refs[2]
            ref_mean = np.divide(ref_f2f, f2f, out=np.zeros_like(f2f), where=f2f > 0)
            q.add_rebooked(t, (rebooked * ty).reshape(3, G * R), ref_mean.reshape(-1))
            att = np.divide(f2f - dna, f2f, out=np.zeros_like(f2f), where=f2f > 0)
            assessed = np.concatenate([paper_ty + f2f_ty * att, (refs[0] + ref_f2f * att)[None]])   # (4, G, R)
            plain = (assessed * (1.0 - rr)).sum(1)
            reworked = [(d, (assessed * rr * mask).sum(1)) for d, mask in rd_mask]
            ds.assessed(t, plain, reworked)
            paper = paper_ty.sum(0)
            paper_p = by_provider(paper, groups, P)
            f2f_att_p = f2f_p - dna_p
            exits_dna = (dna_p - reb_p).sum(0)
            # waiting-time points for decisions_by_wait: (amount, referral-day sum) by route
            points = np.stack([
                paper.sum(0), refs[0].sum(0),
                (served[1].sum(0) * att).sum(0), (refs[1] * att).sum(0),
                (served[2].sum(0) * att).sum(0), (refs[2] * att).sum(0)])
        else:
            ds.assessed(t, np.zeros((4, R)), [])
        incidents = wf.end_of_day(t, f2f_att_p, draws)

        # ---- decisions, MR, tribunal
        dec = ds.decisions(t, draws)
        mr = ds.reconsiderations(t, draws)
        tri = ds.tribunal(t, draws)
        over_sg = binomial(tri["overturned"], inp.overturn_sg, draws.z("appeal")[5])
        ds.awards(t, dec["sg"] + mr["revised_sg"] + over_sg,
                  dec["wrag"] + mr["revised"] - mr["revised_sg"] + tri["overturned"] - over_sg, draws)

        # ---- record
        Ng = q.N.reshape(3, G, R)
        by_region = Ng.sum(0)
        price = inp.price[t]
        waiting_new = Ng[0].sum(0) + ds.awaiting_new
        rec.day(t, {
            "referrals": national,
            "backlog_by_region": by_region,
            "backlog_by_type": Ng.sum(1),
            "backlog_by_provider": by_provider(by_region, groups, P),
            "assessments": np.stack([paper_p, f2f_att_p], axis=1),
            "did_not_attend": dna_p,
            "decisions": np.stack([dec["sg"], dec["wrag"], dec["ffw"]]),
            "decision_wait_days_mean": dec["wait"],
            "closed_while_waiting": closed,
            "awaiting_decision": ds.awaiting,
            "mr_requested": dec["mr"],
            "mr_pending": ds.mr_pending,
            "appeals_pending_lodging": ds.pending_lodging,
            "appeals_lodged": tri["lodged"],
            "tribunal_backlog": ds.t_N,
            "appeals_heard": tri["heard"],
            "appeals_overturned": tri["overturned"],
            "appeals_withdrawn": tri["withdrawn"],
            "exits": np.stack([closed, exits_dna, dec["sg"], dec["wrag"], dec["ffw_accepted"], mr["ffw_after_mr"],
                               mr["revised"], tri["withdrawn"], tri["upheld"], tri["overturned"]]),
            "hcp_fte": wf.headcount(),
            "hcp_fte_effective": wf.effective(),
            "incidents": incidents.sum(0),
            "cost": np.stack([
                (paper_p * price[:, 0:1]).sum(0), (f2f_att_p * price[:, 1:2]).sum(0),
                (tri["heard"] + tri["withdrawn"]) * inp.tribunal_cost[t], dec["decided"] * inp.dwp_decision[t],
                mr["decided"] * inp.dwp_mr[t], waiting_new * inp.benefit_per_day[t]]),
            "wait_points": points,
        })
    rec.flush()
    return wait0, stock
