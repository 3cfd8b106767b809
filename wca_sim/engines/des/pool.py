"""One provider's assessment stage: exact multi-server FIFO queues, one per region.

Each (region, provider) queue is a heap of ``(ready, id, close, slot)`` tuples
in working time, ordered by ready time (ties by id, i.e. arrival order). Each
working day the provider's servers (HCPs) are split between its regions and
every region runs the FIFO G/G/c recursion over the day's shift ``[k, k+1)``:
take the earliest-free server and the head claimant, start at
``max(server free, ready, shift start)``, stop once that is at or after the
shift end. Service runs on in working time across shifts (pre-emptive
resume), so a service that does not fit in a shift finishes in a later one.

The inner loop works on Python floats and lists only (no numpy scalars): it is
the engine's hot path. Closures while waiting use lazy deletion: the closure
actor marks an id in ``removed`` and the loop drops it when it reaches the head;
a claimant whose closure clock ran out earlier on the day, before their start,
is closed by the loop itself.

Approximations, documented in docs/model.md terms: a claimant keeps their
unit service variate for every attempt (a rebooked non-attender's second slot
is as long as the first); when a region loses a server mid-service the case
still finishes at its scheduled time.
"""

from __future__ import annotations

import heapq
from heapq import heappop, heapreplace

import numpy as np

from ...scenario.model import Provider
from .claimants import F2F, IN_SERVICE, PAPER, WAITING
from .context import Context


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units in proportion to ``weights`` (largest-remainder rounding)."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.zeros(len(weights), dtype=np.int64)
    weight_sum = weights.sum()
    if total <= 0 or weight_sum <= 0:
        return out
    quota = total * weights / weight_sum
    out[:] = np.floor(quota)
    short = total - int(out.sum())
    if short > 0:
        # ties go to the earlier region (stable sort on the negated remainders)
        order = np.argsort(-(quota - out), kind="stable")
        out[order[:short]] += 1
    return out


def serve_shift(heap: list, removed: set, servers: list, k0: float, k1: float,
                started: list, ends: list, closed: list) -> None:
    """Run the FIFO multi-server recursion over one shift ``[k0, k1)`` of working time.

    ``heap`` holds ``(ready, id, close, slot)`` tuples; ``servers`` is a heap of
    server free times. Started ids, their end times, and ids closed before
    their start are appended to the output lists (a start time is its end
    time less the slot).
    """
    pop, replace = heappop, heapreplace
    start_append, end_append = started.append, ends.append
    while heap:
        entry = heap[0]
        ready = entry[0]
        free = servers[0]
        start = free if free > ready else ready
        if start < k0:
            start = k0
        if start >= k1:
            break
        pop(heap)
        cid = entry[1]
        if removed and cid in removed:
            removed.discard(cid)
            continue
        if entry[2] <= start:
            closed.append(cid)
            continue
        end = start + entry[3]
        replace(servers, end)
        start_append(cid)
        end_append(end)


class AssessmentPool:
    """The queues and servers of one provider, and its daily assessment step."""

    def __init__(self, ctx: Context, name: str, provider: Provider) -> None:
        self.ctx = ctx
        self.name = name
        self.index = ctx.provider_index[name]
        self.provider = provider
        prod = provider.productivity
        self.mean_service = np.array([1.0 / prod.paper_per_hcp_day, 1.0 / prod.f2f_per_hcp_day])
        self.cv = prod.service_time_cv
        self.paper_share = np.array(prod.paper_share.as_tuple())
        self.prod = prod
        start = ctx.scenario.start_date
        self.first_day = max((provider.contract_start - start).days, 0)
        self.last_day = (provider.contract_end - start).days
        self.price = np.stack([ctx.daily(provider.prices.paper), ctx.daily(provider.prices.f2f)], axis=1)
        n_regions = len(ctx.region_index)
        self.queues: list[list] = [[] for _ in range(n_regions)]
        self.removed: list[set] = [set() for _ in range(n_regions)]
        self.servers: list[list] = [[] for _ in range(n_regions)]
        self.completions: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.incidents_today = 0
        self.rebook_rng = ctx.streams["attendance"].spawn(1)[0]

    # ------------------------------------------------------------ queue entry

    def slots(self, ids: np.ndarray) -> np.ndarray:
        """HCP time (working days) each claimant's next slot with this provider takes."""
        store, prod = self.ctx.store, self.prod
        base = store.svc[ids] * self.mean_service[store.route[ids]]
        factor = np.where(
            store.dna[ids], prod.dna_slot_fraction, 1.0 + prod.rework_effort * store.rework[ids]
        )
        return base * factor

    def push(self, ids: np.ndarray, ready_calendar: np.ndarray) -> None:
        """Add waiting claimants (already in stage WAITING with this provider) to their regions' queues."""
        if len(ids) == 0:
            return
        ctx = self.ctx
        cal = ctx.calendar
        ready = cal.to_working(ready_calendar)
        t_close = ctx.store.t_close[ids]
        finite = np.isfinite(t_close)
        close = np.full(len(ids), np.inf)
        close[finite] = cal.to_working(t_close[finite])
        # A clock that ran out while the claimant was away (in service) closes them at once.
        self._push_arrays(ids, ready, close, self.slots(ids))

    def _push_arrays(self, ids, ready, close, slot) -> None:
        regions = self.ctx.store.region[ids]
        for r in np.unique(regions):
            mask = regions == r
            entries = list(zip(ready[mask].tolist(), ids[mask].tolist(), close[mask].tolist(), slot[mask].tolist()))
            heap = self.queues[int(r)]
            if len(entries) * 8 > len(heap):
                heap.extend(entries)
                heapq.heapify(heap)
            else:
                for entry in entries:
                    heapq.heappush(heap, entry)

    def take_queue(self, region: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the live waiting claimants of a region (ids, ready working times)."""
        heap, removed = self.queues[region], self.removed[region]
        self.queues[region], self.removed[region] = [], set()
        live = [(e[0], e[1]) for e in heap if e[1] not in removed]
        if not live:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        live.sort()
        ready, ids = zip(*live)
        return np.array(ids, dtype=np.int64), np.array(ready)

    def give_queue(self, ids: np.ndarray, ready_working: np.ndarray) -> None:
        """Accept claimants handed over from another provider (keeping their ready times)."""
        if len(ids) == 0:
            return
        cal, store = self.ctx.calendar, self.ctx.store
        store.set_provider(ids, self.index)
        t_close = store.t_close[ids]
        finite = np.isfinite(t_close)
        close = np.full(len(ids), np.inf)
        close[finite] = cal.to_working(t_close[finite])
        self._push_arrays(ids, ready_working, close, self.slots(ids))

    def mark_closed(self, ids: np.ndarray) -> None:
        """Lazy deletion of claimants closed by the closure actor."""
        regions = self.ctx.store.region[ids]
        for r in np.unique(regions):
            self.removed[int(r)].update(ids[regions == r].tolist())

    # ------------------------------------------------------------ daily step

    def step(self, day: int, n_servers: int) -> tuple[np.ndarray, np.ndarray]:
        """Run the day's shift with ``n_servers`` HCPs; returns (ids closed in the loop, their closure times)."""
        ctx = self.ctx
        cal = ctx.calendar
        if not cal.is_working[day]:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        k0 = float(cal.before[day])
        k1 = k0 + 1.0
        store = ctx.store
        active = self.first_day <= day <= self.last_day
        weights = store.backlog_rp[:, self.index].astype(np.float64)
        for r, heap in enumerate(self.queues):
            if not heap:
                weights[r] = 0.0
        split = largest_remainder(n_servers if active else 0, weights)
        started: list = []
        ends: list = []
        closed: list = []
        for r, heap in enumerate(self.queues):
            servers = self.servers[r]
            want = int(split[r])
            while len(servers) > want:
                heappop(servers)
            while len(servers) < want:
                heapq.heappush(servers, k0)
            if want and heap:
                serve_shift(heap, self.removed[r], servers, k0, k1, started, ends, closed)
        if started:
            ids = np.array(started, dtype=np.int64)
            end = np.array(ends)
            store.move(ids, IN_SERVICE)
            if store.journeys:
                attended = ~store.dna[ids]
                begun = end[attended] - self.slots(ids[attended])
                store.t_start[ids[attended]] = cal.to_calendar(begun)
            due = cal.completion_day(end)
            today = due == day
            if not today.all():
                later = ~today
                for d in np.unique(due[later]):
                    mask = due == d
                    self.completions.setdefault(int(d), []).append((ids[mask], end[mask]))
            self.completions.setdefault(day, []).insert(0, (ids[today], end[today]))
        pending = self.completions.pop(day, None)
        if pending:
            ids = np.concatenate([p[0] for p in pending])
            end = np.concatenate([p[1] for p in pending])
            if len(ids):
                self._complete(day, ids, cal.to_calendar(end, end=True))
        closed_ids = np.array(closed, dtype=np.int64)
        return closed_ids, store.t_close[closed_ids]

    def _complete(self, day: int, ids: np.ndarray, t_end: np.ndarray) -> None:
        ctx, store, rec, prod = self.ctx, self.ctx.store, self.ctx.recorder, self.prod
        p = self.index
        dna = store.dna[ids]
        if dna.any():
            missed, t_missed = ids[dna], t_end[dna]
            rec.did_not_attend[day, p] += len(missed)
            rebook = self.rebook_rng.random(len(missed)) < prod.dna_rebook_share
            ctx.exit(day, missed[~rebook], "closed_dna", t_missed[~rebook])
            again = missed[rebook]
            if len(again):
                store.dna[again] = self.rebook_rng.random(len(again)) < prod.dna_rate
                store.move(again, WAITING)
                ctx.requeue(again, t_missed[rebook] + prod.booking_lead_days, day)
            ids, t_end = ids[~dna], t_end[~dna]
        if len(ids) == 0:
            return
        route = store.route[ids]
        n_f2f = int(np.count_nonzero(route == F2F))
        n_paper = len(ids) - n_f2f
        rec.assessments[day, p, PAPER] += n_paper
        rec.assessments[day, p, F2F] += n_f2f
        rec.add_cost(day, "provider_paper", n_paper * self.price[day, PAPER])
        rec.add_cost(day, "provider_f2f", n_f2f * self.price[day, F2F])
        rate = self.provider.workforce.incidents_per_1000_assessments / 1000.0
        if rate > 0 and n_f2f:
            self.incidents_today += int(ctx.streams["workforce"].binomial(n_f2f, min(rate, 1.0)))
        ctx.assessed(day, ids, t_end)
