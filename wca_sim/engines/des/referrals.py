"""Referral streams: new claims, IB reassessments, existing repeats, generated repeats, and the initial stock.

Exogenous referrals (Poisson counts per day, uniform arrival times within the
day, stream ``arrivals``) get their attributes from the ``claimant``,
``service``, ``attendance`` and ``rework`` streams in arrival order, so in a
replication the same claimants arrive in every scenario with the same demand.
Repeat referrals generated in the run (prognosis timers, released deferrals)
depend on the scenario's timing, so they draw from child generators of those
streams and never disturb the exogenous claimants' draws. The initial stock
draws from children of ``initial_state``.
"""

from __future__ import annotations

import numpy as np

from .claimants import (
    F2F,
    IB,
    N_TYPES,
    NEW_CLAIM,
    PAPER,
    REPEAT,
    WAITING,
    Attributes,
    AttributeStreams,
    draw_attributes,
)
from .context import Context


class Referrals:
    """Creates referral episodes and routes them to provider queues."""

    def __init__(self, ctx: Context, pools: dict) -> None:
        self.ctx = ctx
        self.pools = pools
        sc = ctx.scenario
        streams = ctx.streams
        days = ctx.days
        demand = sc.demand
        per_day = 12.0 / 365.25 * sc.scale
        rates = np.stack(
            [
                ctx.daily(demand.new_claims_per_month),
                ctx.daily(demand.ib_reassessments_per_month),
                ctx.daily(demand.existing_repeats_per_month),
            ],
            axis=1,
        ) * per_day
        self.arrivals = streams["arrivals"]
        self.counts = self.arrivals.poisson(rates)  # (days, 3), drawn up front
        self.exogenous = AttributeStreams(streams["claimant"], streams["service"], streams["attendance"], streams["rework"])
        self.generated = self.exogenous.spawn()
        init = streams["initial_state"]
        self.initial = AttributeStreams(*init.spawn(4))
        self.prognosis_rng = streams["prognosis"]
        # Geography and providers.
        self.region_cum = np.cumsum([r.referral_share for r in sc.regions.values()])
        self.region_cum[-1] = 1.0 + 1e-12
        self.serving = np.zeros((days, len(sc.regions)), dtype=np.int64)
        for j, region in enumerate(sc.regions.values()):
            for period in region.served_by:
                begin = max((period.start - sc.start_date).days, 0)
                self.serving[begin:, j] = ctx.provider_index[period.provider]
        providers = list(sc.providers.values())
        self.paper_share = np.array([p.productivity.paper_share.as_tuple() for p in providers])
        self.dna_rate = np.array([p.productivity.dna_rate for p in providers])
        self.rework_rate = np.array([p.productivity.rework_rate for p in providers])
        self.cv = np.array([p.productivity.service_time_cv for p in providers])
        self.scrutiny = np.array([p.productivity.scrutiny_days for p in providers])
        self.booking = np.array([p.productivity.booking_lead_days for p in providers])
        self.hazard = np.array(demand.closure_hazard_per_week.as_tuple()) / 7.0
        # Repeat deferral window in days.
        deferral = demand.repeat_deferral
        self.defer_start = None if deferral.start is None else (deferral.start - sc.start_date).days
        self.defer_end = None if deferral.end is None else (deferral.end - sc.start_date).days
        self.defer_share = deferral.share_deferred
        self.release_days = deferral.release_days
        self.timers: dict[int, list[np.ndarray]] = {}

    # ---------------------------------------------------------- repeats

    def _deferred(self, day: np.ndarray) -> np.ndarray:
        """Mask of referrals due on ``day`` that fall in the deferral window."""
        if self.defer_start is None:
            return np.zeros(len(day), dtype=bool)
        end = np.inf if self.defer_end is None else self.defer_end
        return (day >= self.defer_start) & (day < end)

    def _release(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """New due times of ``n`` deferred repeats (inf when the deferral never ends)."""
        if self.defer_end is None:
            return np.full(n, np.inf)
        return self.defer_end + rng.uniform(0.0, self.release_days, n) if n else np.zeros(0)

    def schedule_repeats(self, t_due: np.ndarray) -> None:
        """Prognosis timers falling due at ``t_due``: file them as future repeat referrals (with deferral)."""
        if len(t_due) == 0:
            return
        rng = self.prognosis_rng
        t_due = np.asarray(t_due, dtype=np.float64)
        window = self._deferred(np.floor(t_due))
        if window.any():
            idx = np.flatnonzero(window)
            defer = rng.random(len(idx)) < self.defer_share
            moved = idx[defer]
            t_due = t_due.copy()
            t_due[moved] = self._release(rng, len(moved))
        self._file(t_due)

    def _file(self, t_due: np.ndarray) -> None:
        t_due = t_due[np.isfinite(t_due) & (t_due < self.ctx.days) & (t_due >= 0)]
        if len(t_due) == 0:
            return
        day = np.floor(t_due).astype(np.int64)
        for d in np.unique(day):
            self.timers.setdefault(int(d), []).append(t_due[day == d])

    # ---------------------------------------------------------- daily step

    def step(self, day: int) -> None:
        """Create the day's referrals: exogenous ones first, then generated repeats."""
        counts = self.counts[day]
        n = int(counts.sum())
        if n:
            rng = self.arrivals
            t = np.concatenate([day + np.sort(rng.random(int(c))) for c in counts])
            rtype = np.repeat(np.arange(N_TYPES, dtype=np.int8), counts)
            attrs = draw_attributes(self.exogenous, n)
            keep = np.ones(n, dtype=bool)
            if counts[REPEAT] and self._deferred(np.array([day]))[0]:
                repeats = np.flatnonzero(rtype == REPEAT)
                defer = rng.random(len(repeats)) < self.defer_share
                keep[repeats[defer]] = False
                self._file(self._release(rng, int(defer.sum())))
            self.create(day, t[keep], rtype[keep], attrs.subset(keep), t[keep])
        due = self.timers.pop(day, None)
        if due:
            t = np.sort(np.concatenate(due))
            attrs = draw_attributes(self.generated, len(t))
            self.create(day, t, np.full(len(t), REPEAT, dtype=np.int8), attrs, t)

    def create(self, day: int | None, t_ref: np.ndarray, rtype: np.ndarray, attrs: Attributes,
               clock_from: np.ndarray) -> np.ndarray:
        """Referral episodes waiting for assessment; recorded as referrals on ``day`` (None: initial stock)."""
        ctx, store = self.ctx, self.ctx.store
        if len(t_ref) == 0:
            return np.zeros(0, dtype=np.int64)
        region = np.searchsorted(self.region_cum, attrs.u_region, side="right")
        provider = self.serving[max(day or 0, 0), region]
        ids = store.add(t_ref, rtype, region, provider, WAITING)
        t64 = rtype.astype(np.int64)
        route = np.where(attrs.u_route < self.paper_share[provider, t64], PAPER, F2F).astype(np.int8)
        store.route[ids] = route
        store.u_outcome[ids] = attrs.u_outcome
        store.u_prognosis[ids] = attrs.u_prognosis
        store.rework[ids] = attrs.u_rework < self.rework_rate[provider]
        store.dna[ids] = (route == F2F) & (attrs.u_dna < self.dna_rate[provider])
        store.svc[ids] = attrs.service(self.cv[provider])
        hazard = self.hazard[t64]
        with np.errstate(divide="ignore"):
            t_close = np.where(hazard > 0, clock_from + attrs.e_close / np.where(hazard > 0, hazard, 1.0), np.inf)
        store.t_close[ids] = t_close
        finite = np.isfinite(t_close)
        ctx.closures_due.add(np.floor(t_close[finite]).astype(np.int64), ids[finite])
        if day is not None:
            ctx.recorder.referrals[day] += np.bincount(t64, minlength=N_TYPES)
        ready = t_ref + self.scrutiny[provider] + np.where(route == F2F, self.booking[provider], 0.0)
        for p in np.unique(provider):
            mask = provider == p
            self.pools[ctx.provider_names[p]].push(ids[mask], ready[mask])
        return ids

    # ---------------------------------------------------------- initial stock

    def initial_queue(self) -> int:
        """Create the initial provider queue (oldest first); returns the number created."""
        sc, rng = self.ctx.scenario, self.ctx.streams["initial_state"]
        ages, types = [], []
        code = {"new_claim": NEW_CLAIM, "ib_reassessment": IB, "repeat": REPEAT}
        for stock in sc.initial_state.provider_queue:
            n = int(round(stock.count * sc.scale))
            ages.append(rng.uniform(stock.min_age_days, stock.max_age_days, n))
            types.append(np.full(n, code[stock.referral_type], dtype=np.int8))
        if not ages:
            return 0
        age, rtype = np.concatenate(ages), np.concatenate(types)
        order = np.argsort(-age, kind="stable")
        t_ref, rtype = -age[order], rtype[order]
        attrs = draw_attributes(self.initial, len(t_ref))
        # Memoryless closure clock: the remaining time runs from the start date.
        self.create(None, t_ref, rtype, attrs, np.zeros(len(t_ref)))
        return len(t_ref)

    def initial_attributes(self, n: int) -> tuple[Attributes, np.ndarray, np.ndarray]:
        """Attributes, regions and providers for initial-stock claimants beyond the provider queue."""
        attrs = draw_attributes(self.initial, n)
        region = np.searchsorted(self.region_cum, attrs.u_region, side="right")
        return attrs, region, self.serving[0, region]
