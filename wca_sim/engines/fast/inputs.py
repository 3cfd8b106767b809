"""Daily parameter arrays of a Scenario, precomputed once per run of the fast engine.

Everything the daily loop needs is resolved here into NumPy arrays indexed by
day ``t`` (0 .. T-1, days from ``start_date``), provider ``p`` and region ``g``,
already multiplied by ``scenario.scale`` where docs/model.md says capacities
scale. Delay distributions (decision, MR, lodging) are discretised into
day kernels: ``kernel[k]`` is the probability that an event entering the delay
uniformly within day ``t`` leaves it on day ``t + k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ...calendar import working_day_mask
from ...scenario import REFERRAL_TYPES, Scenario

DAYS_PER_MONTH = 365.25 / 12.0


def delay_kernel(mean: float, cv: float, *, exponential: bool = False, tail: float = 1e-6) -> np.ndarray:
    """Day kernel of a delay that starts uniformly within a day.

    Parameters
    ----------
    mean, cv
        Mean (days) and coefficient of variation of a gamma delay (cv = 0: fixed).
    exponential
        Use an exponential delay of the given mean (cv ignored).
    tail
        Probability mass left out beyond the last day (renormalised).

    Returns
    -------
    numpy.ndarray
        ``kernel[k]`` = P(leave on day t + k); sums to 1.
    """
    if mean <= 0:
        return np.array([1.0])
    if exponential:
        dist = stats.expon(scale=mean)
    elif cv <= 0:
        dist = None
    else:
        shape = 1.0 / cv**2
        dist = stats.gamma(shape, scale=mean / shape)
    # The delay starts at u ~ U(0, 1) within the day: average the CDF over 32 midpoints.
    u = (np.arange(32) + 0.5) / 32.0
    horizon = int(math.ceil(mean if dist is None else dist.ppf(1 - tail))) + 2
    edges = np.arange(horizon + 1, dtype=np.float64)
    if dist is None:
        cdf = (edges[:, None] - u[None, :] >= mean).astype(np.float64).mean(axis=1)
    else:
        cdf = dist.cdf(np.maximum(edges[:, None] - u[None, :], 0.0)).mean(axis=1)
    kernel = np.diff(cdf)
    kernel[0] += cdf[0]
    return kernel / kernel.sum()


@dataclass
class Inputs:
    """Resolved daily inputs of one scenario (see module docstring)."""

    T: int
    G: int
    P: int
    scale: float
    working: np.ndarray            # (T,) bool
    holder: np.ndarray             # (T, G) int: provider serving (and holding the queue of) region g
    active: np.ndarray             # (T, P) bool: within contract
    lam_new: np.ndarray            # (T, 3, G) expected external referrals per day (scaled); type 2 = existing repeats
    region_share: np.ndarray       # (G,)
    paper_share: np.ndarray        # (T, G, 3) of the holder provider
    scrutiny: int
    lead: int
    work: np.ndarray               # (P, 3) HCP-days per claimant served: paper, f2f (incl. expected DNA slot), rebooked f2f
    dna: np.ndarray                # (P,)
    rebook: np.ndarray             # (P,)
    rework_rate: np.ndarray        # (P,)
    rework_days: np.ndarray        # (P,) int
    closure_q: np.ndarray          # (3,) daily closure probability by referral type
    deferral: np.ndarray           # (T,) bool: repeat deferral active
    share_deferred: float
    release: np.ndarray            # (T,) share of deferred repeats released on each day (sums to <= 1)
    sg: np.ndarray                 # (T, 3)
    wrag: np.ndarray               # (T, 3)
    prog_sg: tuple[np.ndarray, np.ndarray]    # (due offsets in days, probabilities)
    prog_wrag: tuple[np.ndarray, np.ndarray]
    k_decision: np.ndarray
    k_mr: np.ndarray
    k_lodge: np.ndarray
    lodging_mean: float            # days (exponential)
    mr_start: int                  # first day MR applies (T if never)
    mr_request: np.ndarray         # (T,)
    mr_revision: np.ndarray        # (T,)
    mr_sg: float
    appeal_before: np.ndarray      # (T,)
    appeal_after: np.ndarray       # (T,)
    hearings: np.ndarray           # (T,) scaled hearing capacity, 0 on non-working days
    withdraw_q: float
    overturn: np.ndarray           # (T,)
    overturn_sg: float
    price: np.ndarray              # (T, P, 2) GBP per paper / f2f assessment
    tribunal_cost: np.ndarray      # (T,)
    dwp_decision: np.ndarray       # (T,)
    dwp_mr: np.ndarray             # (T,)
    benefit_per_day: np.ndarray    # (T,)
    # workforce
    fte_start: np.ndarray          # (P,) scaled
    start_day: np.ndarray          # (P,) first day with staff
    end_day: np.ndarray            # (P,) last day with staff (may be >= T)
    hires: np.ndarray              # (T, P) expected recruitment decisions per day (scaled, 0 outside contract)
    hiring_lead: np.ndarray        # (P,) int
    training: np.ndarray           # (P,) float days
    attrition_q: np.ndarray        # (T, P) daily leaving probability incl. uplift
    incident_p: np.ndarray         # (P,)
    leavers_per_incident: np.ndarray  # (P,)
    transfer_from: np.ndarray      # (P,) int, -1 for none
    transfer_share: np.ndarray     # (P,)


def _prognosis(dist) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.array([int(round(m * DAYS_PER_MONTH)) for m in dist.months], dtype=np.int64)
    return offsets, np.asarray(dist.probabilities, dtype=np.float64)


def build_inputs(sc: Scenario) -> Inputs:
    """Resolve a Scenario into the daily arrays of :class:`Inputs`."""
    T, s, start = sc.days, sc.scale, sc.start_date
    regions, providers = sc.region_names, sc.provider_names
    G, P = len(regions), len(providers)
    pidx = {name: i for i, name in enumerate(providers)}
    day_of = lambda d: (d - start).days  # noqa: E731

    working = working_day_mask(start, T, sc.calendar.working_days)
    holder = np.empty((T, G), dtype=np.int64)
    for g, name in enumerate(regions):
        periods = sc.regions[name].served_by
        holder[:, g] = pidx[periods[0].provider]
        for period in periods[1:]:
            holder[max(day_of(period.start), 0):, g] = pidx[period.provider]

    active = np.zeros((T, P), dtype=bool)
    start_day = np.zeros(P, dtype=np.int64)
    end_day = np.zeros(P, dtype=np.int64)
    for p, name in enumerate(providers):
        pr = sc.providers[name]
        start_day[p] = max(day_of(pr.contract_start), 0)
        end_day[p] = day_of(pr.contract_end)
        active[start_day[p] : max(min(end_day[p] + 1, T), 0), p] = True

    per_day = 12.0 / 365.25 * s
    d = sc.demand
    share = np.array([sc.regions[r].referral_share for r in regions])
    rates = np.stack(
        [d.new_claims_per_month.daily(start, T), d.ib_reassessments_per_month.daily(start, T),
         d.existing_repeats_per_month.daily(start, T)], axis=1) * per_day
    lam_new = rates[:, :, None] * share[None, None, :]

    paper_share = np.empty((T, G, 3))
    prod = [sc.providers[n].productivity for n in providers]
    ps_by_p = np.array([p.paper_share.as_tuple() for p in prod])  # (P, 3)
    paper_share[:] = ps_by_p[holder]

    work = np.zeros((P, 3))
    for p, pr in enumerate(prod):
        rework = 1.0 + pr.rework_rate * pr.rework_effort
        f2f = pr.dna_rate * pr.dna_slot_fraction / pr.f2f_per_hcp_day + (1 - pr.dna_rate) * rework / pr.f2f_per_hcp_day
        work[p] = (rework / pr.paper_per_hcp_day, f2f, f2f)

    closure_q = 1.0 - np.exp(-np.array(d.closure_hazard_per_week.as_tuple()) / 7.0)

    rd = d.repeat_deferral
    deferral = np.zeros(T, dtype=bool)
    release = np.zeros(T)
    if rd.start is not None:
        end = T if rd.end is None else day_of(rd.end)
        deferral[max(day_of(rd.start), 0) : max(min(end, T), 0)] = True
        if rd.end is not None and end < T:
            n = max(int(math.ceil(rd.release_days)), 1)
            days = np.arange(end, end + n)
            weight = np.full(n, 1.0 / n)
            keep = days < T
            release[days[keep]] = weight[keep]

    dec = sc.decisions
    sg = np.stack([dec.shares_for(r).sg.daily(start, T) for r in REFERRAL_TYPES], axis=1)
    wrag = np.stack([dec.shares_for(r).wrag.daily(start, T) for r in REFERRAL_TYPES], axis=1)

    rc, ap, co = sc.reconsideration, sc.appeals, sc.costs
    mr_start = T if rc.start is None else min(max(day_of(rc.start), 0), T)
    hearings = ap.hearings_per_working_day.daily(start, T) * s * working

    price = np.zeros((T, P, 2))
    for p, name in enumerate(providers):
        price[:, p, 0] = sc.providers[name].prices.paper.daily(start, T)
        price[:, p, 1] = sc.providers[name].prices.f2f.daily(start, T)

    wf = [sc.providers[n].workforce for n in providers]
    hires = np.zeros((T, P))
    attrition_q = np.zeros((T, P))
    for p, name in enumerate(providers):
        pr, w = sc.providers[name], wf[p]
        hires[:, p] = w.hires_per_month.daily(start, T) * per_day * active[:, p]
        q = 1.0 - (1.0 - w.attrition_per_month) ** (12.0 / 365.25)
        mult = np.ones(T)
        if pr.exit_announced is not None:
            mult[max(day_of(pr.exit_announced), 0) :] = w.attrition_uplift_after_exit
        attrition_q[:, p] = np.minimum(q * mult, 1.0)

    scrutiny = {round(p.scrutiny_days) for p in prod}
    lead = {round(p.booking_lead_days) for p in prod}
    return Inputs(
        T=T, G=G, P=P, scale=s, working=working, holder=holder, active=active, lam_new=lam_new,
        region_share=share, paper_share=paper_share, scrutiny=scrutiny.pop(), lead=lead.pop(), work=work,
        dna=np.array([p.dna_rate for p in prod]), rebook=np.array([p.dna_rebook_share for p in prod]),
        rework_rate=np.array([p.rework_rate for p in prod]),
        rework_days=np.array([int(round(p.rework_days)) for p in prod]),
        closure_q=closure_q, deferral=deferral, share_deferred=rd.share_deferred, release=release,
        sg=sg, wrag=wrag, prog_sg=_prognosis(dec.prognosis_sg), prog_wrag=_prognosis(dec.prognosis_wrag),
        k_decision=delay_kernel(dec.delay_days_mean, dec.delay_days_cv),
        k_mr=delay_kernel(rc.duration_days_mean, rc.duration_days_cv),
        k_lodge=delay_kernel(ap.lodging_days_mean, 1.0, exponential=True), lodging_mean=float(ap.lodging_days_mean),
        mr_start=mr_start, mr_request=rc.request_rate.daily(start, T), mr_revision=rc.revision_rate.daily(start, T),
        mr_sg=rc.revised_to_sg_share, appeal_before=ap.appeal_rate_before_mr.daily(start, T),
        appeal_after=ap.appeal_rate_after_mr.daily(start, T), hearings=hearings,
        withdraw_q=1.0 - math.exp(-ap.withdrawal_hazard_per_week / 7.0), overturn=ap.overturn_rate.daily(start, T),
        overturn_sg=ap.overturned_to_sg_share, price=price, tribunal_cost=co.tribunal_per_appeal.daily(start, T),
        dwp_decision=co.dwp_per_decision.daily(start, T), dwp_mr=co.dwp_per_mr.daily(start, T),
        benefit_per_day=co.assessment_rate_per_week.daily(start, T) / 7.0,
        fte_start=np.array([w.fte_at_start * s for w in wf]), start_day=start_day, end_day=end_day,
        hires=hires, hiring_lead=np.array([int(round(w.hiring_lead_days)) for w in wf]),
        training=np.array([w.training_days for w in wf]), attrition_q=attrition_q,
        incident_p=np.array([w.incidents_per_1000_assessments / 1000.0 for w in wf]),
        leavers_per_incident=np.array([w.leavers_per_incident for w in wf]),
        transfer_from=np.array([pidx[w.transfer_from] if w.transfer_from else -1 for w in wf]),
        transfer_share=np.array([w.transfer_share for w in wf]),
    )
