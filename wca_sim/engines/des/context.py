"""What every actor of one replication shares: scenario, calendar, store, recorder, streams, timers.

Pending timed events (decision due, MR due, lodging due, closure due, ...) are
kept in :class:`DayBuckets`: arrays of claimant ids filed under the calendar
day they fall due, so each day's step touches only what is due that day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...calendar import WorkingCalendar
from ...scenario.model import Scenario
from ...streams import Streams
from .claimants import EXIT_INDEX, ClaimantStore
from .recorder import DailyRecorder

_EMPTY = np.zeros(0, dtype=np.int64)


class DayBuckets:
    """Claimant ids (and optionally a float value each) filed by the day they fall due."""

    def __init__(self, days: int) -> None:
        self.days = days
        self._ids: dict[int, list[np.ndarray]] = {}

    def add(self, days: np.ndarray, ids: np.ndarray) -> None:
        """File ``ids[i]`` under ``days[i]``; days outside the horizon are dropped."""
        if len(ids) == 0:
            return
        days = np.asarray(days, dtype=np.int64)
        keep = (days >= 0) & (days < self.days)
        days, ids = days[keep], ids[keep]
        if len(ids) == 0:
            return
        order = np.argsort(days, kind="stable")
        days, ids = days[order], ids[order]
        bounds = (np.flatnonzero(days[1:] != days[:-1]) + 1).tolist()
        edges = [0] + bounds + [len(ids)]
        keys = days[edges[:-1]].tolist()
        store = self._ids
        for key, lo, hi in zip(keys, edges[:-1], edges[1:]):
            chunk = ids[lo:hi]
            if key in store:
                store[key].append(chunk)
            else:
                store[key] = [chunk]

    def pop(self, day: int) -> np.ndarray:
        """Ids due on ``day`` (in filing order), removed from the buckets."""
        chunks = self._ids.pop(day, None)
        if not chunks:
            return _EMPTY
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


@dataclass
class Context:
    """Shared state of one replication."""

    scenario: Scenario
    calendar: WorkingCalendar
    store: ClaimantStore
    recorder: DailyRecorder
    streams: Streams
    days: int
    provider_index: dict[str, int]
    region_index: dict[str, int]
    decisions_due: DayBuckets = field(init=False)
    mr_due: DayBuckets = field(init=False)
    lodging_due: DayBuckets = field(init=False)
    closures_due: DayBuckets = field(init=False)
    withdrawals_due: DayBuckets = field(init=False)
    #: hooks wired by the engine: requeue(ids, ready_calendar, day) puts rebooked
    #: claimants back in a queue; assessed(day, ids, t_end) starts the decision pathway.
    requeue: Callable[[np.ndarray, np.ndarray, int], None] | None = None
    assessed: Callable[[int, np.ndarray, np.ndarray], None] | None = None

    def __post_init__(self) -> None:
        self.decisions_due = DayBuckets(self.days)
        self.mr_due = DayBuckets(self.days)
        self.lodging_due = DayBuckets(self.days)
        self.closures_due = DayBuckets(self.days)
        self.withdrawals_due = DayBuckets(self.days)

    @property
    def provider_names(self) -> list[str]:
        return list(self.provider_index)

    def daily(self, schedule) -> np.ndarray:
        """A schedule's value on each simulated day."""
        return schedule.daily(self.scenario.start_date, self.days)

    def exit(self, day: int, ids: np.ndarray, kind: str, t: np.ndarray | float) -> None:
        """End episodes with an exit, recording the flow on ``day``."""
        if len(ids) == 0:
            return
        self.store.end(ids, EXIT_INDEX[kind], t)
        self.recorder.exits[day, EXIT_INDEX[kind]] += len(ids)
