"""Hand-over of waiting claimants when a region changes provider or a contract ends.

``transfer``: on the day a region passes from A to B, A's waiting claimants in
that region move to B's queue, keeping their ready times. ``run_off``: A keeps
them until its contract end; the day after, whatever is still waiting moves to
the provider then serving the region. Claimants in service finish with A.
"""

from __future__ import annotations

import numpy as np

from .context import Context


class Handover:
    """Moves queues between providers on the scheduled days."""

    def __init__(self, ctx: Context, pools: dict, serving: np.ndarray) -> None:
        self.ctx = ctx
        self.pools = pools
        self.serving = serving
        sc = ctx.scenario
        names = ctx.provider_names
        # (day, region, from, to) moves caused by service periods under the transfer policy.
        self.moves: dict[int, list[tuple[int, int, int]]] = {}
        for day in range(1, ctx.days):
            changed = np.flatnonzero(serving[day] != serving[day - 1])
            for r in changed:
                old, new = int(serving[day - 1, r]), int(serving[day, r])
                if sc.providers[names[old]].handover_policy == "transfer":
                    self.moves.setdefault(day, []).append((int(r), old, new))
        # Contract ends: the day after, every queue the provider still holds moves on.
        self.ends: dict[int, list[int]] = {}
        for name, provider in sc.providers.items():
            day = (provider.contract_end - sc.start_date).days + 1
            if 0 < day < ctx.days:
                self.ends.setdefault(day, []).append(ctx.provider_index[name])

    def step(self, day: int) -> None:
        """Carry out the day's hand-overs."""
        for r, old, new in self.moves.get(day, ()):
            self._move(r, old, new)
        for old in self.ends.get(day, ()):
            for r in range(self.serving.shape[1]):
                new = int(self.serving[day, r])
                if new != old:
                    self._move(r, old, new)

    def _move(self, region: int, old: int, new: int) -> None:
        names = self.ctx.provider_names
        ids, ready = self.pools[names[old]].take_queue(region)
        self.pools[names[new]].give_queue(ids, ready)

    def requeue(self, ids: np.ndarray, ready_calendar: np.ndarray, day: int) -> None:
        """Put rebooked claimants back in their provider's queue (or the successor's, once the contract has ended)."""
        ctx, store = self.ctx, self.ctx.store
        names = ctx.provider_names
        provider = store.provider[ids].astype(np.int64)
        for p in np.unique(provider):
            mask = provider == p
            pool = self.pools[names[p]]
            sub = ids[mask]
            if day > pool.last_day:
                successor = self.serving[day, store.region[sub]]
                for q in np.unique(successor):
                    moved = sub[successor == q]
                    store.set_provider(moved, int(q))
                    self.pools[names[q]].push(moved, ready_calendar[mask][successor == q])
            else:
                pool.push(sub, ready_calendar[mask])
