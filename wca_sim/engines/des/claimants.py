"""Columnar claimant store: one record per referral episode, numpy columns grown by doubling.

Every stage change goes through :meth:`ClaimantStore.move`, which reads the old
stage from the ``stage`` column itself, so the stock counters always mirror the
column (``audit`` recounts the column to prove it). Flows (referrals, exits)
are recorded separately by the actors, which is what lets the conservation
check of docs/model.md fail if a claimant is lost or counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...results import EXITS
from ...scenario.model import REFERRAL_TYPES

# Stages (values of the ``stage`` column).
WAITING = 0        # in a provider queue
IN_SERVICE = 1     # being assessed (still in the backlog)
AWAITING = 2       # assessed, waiting for the DWP decision
MR = 3             # mandatory reconsideration in progress
LODGING = 4        # appeal decided on, not yet at the tribunal
TRIBUNAL = 5       # waiting for a hearing
EXITED = 6
N_STAGES = 7
BACKLOG_STAGES = (WAITING, IN_SERVICE)

N_TYPES = len(REFERRAL_TYPES)
NEW_CLAIM, IB, REPEAT = range(N_TYPES)
EXIT_INDEX = {name: i for i, name in enumerate(EXITS)}
PAPER, F2F = 0, 1

#: Columns always kept: name -> (dtype, fill value).
CORE_COLUMNS: dict[str, tuple[str, float]] = {
    "t_ref": ("f8", np.nan),      # referral time (days from start)
    "rtype": ("i1", 0),
    "region": ("i1", 0),
    "provider": ("i1", -1),
    "route": ("i1", 0),
    "stage": ("i1", EXITED),
    "t_close": ("f8", np.inf),    # closure clock expiry (calendar time)
    "svc": ("f8", 1.0),           # unit-mean service-time variate
    "dna": ("?", False),          # does not attend the current appointment
    "rework": ("?", False),
    "u_outcome": ("f4", 0.0),
    "u_prognosis": ("f4", 0.0),
    "t_event": ("f8", np.nan),    # time of the pending decision / MR decision / lodging
}

#: Extra columns kept when journeys are requested.
JOURNEY_COLUMNS: dict[str, tuple[str, float]] = {
    "t_start": ("f8", np.nan),    # assessment (attended) start
    "t_assessed": ("f8", np.nan),
    "t_decision": ("f8", np.nan),
    "outcome": ("i1", -1),
    "t_mr": ("f8", np.nan),
    "t_lodged": ("f8", np.nan),
    "t_hearing": ("f8", np.nan),
    "exit_kind": ("i1", -1),
    "t_exit": ("f8", np.nan),
}


class ClaimantStore:
    """Claimant records with stock counters kept in step with the ``stage`` column.

    Parameters
    ----------
    n_regions, n_providers
        Sizes of the backlog breakdown.
    capacity
        Initial number of records allocated.
    journeys
        Keep the per-step dates needed for journey records.
    """

    def __init__(self, n_regions: int, n_providers: int, capacity: int = 1024, journeys: bool = False) -> None:
        self.columns = dict(CORE_COLUMNS)
        if journeys:
            self.columns.update(JOURNEY_COLUMNS)
        self.journeys = journeys
        self.n = 0
        self.capacity = max(int(capacity), 16)
        for name, (dtype, fill) in self.columns.items():
            setattr(self, name, np.full(self.capacity, fill, dtype=dtype))
        self.n_regions, self.n_providers = n_regions, n_providers
        #: claimants by (stage, referral type)
        self.counts = np.zeros((N_STAGES, N_TYPES), dtype=np.int64)
        #: claimants in the backlog by (region, provider)
        self.backlog_rp = np.zeros((n_regions, n_providers), dtype=np.int64)

    # ------------------------------------------------------------- records

    def _grow(self, needed: int) -> None:
        capacity = self.capacity
        while capacity < needed:
            capacity *= 2
        for name, (dtype, fill) in self.columns.items():
            old = getattr(self, name)
            new = np.full(capacity, fill, dtype=dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self.capacity = capacity

    def add(self, t_ref: np.ndarray, rtype: np.ndarray, region: np.ndarray, provider: np.ndarray, stage: int) -> np.ndarray:
        """Append records in a stage; returns their ids (consecutive, in the given order)."""
        k = len(t_ref)
        if self.n + k > self.capacity:
            self._grow(self.n + k)
        ids = np.arange(self.n, self.n + k, dtype=np.int64)
        self.n += k
        self.t_ref[ids] = t_ref
        self.rtype[ids] = rtype
        self.region[ids] = region
        self.provider[ids] = provider
        self.stage[ids] = stage
        self.counts[stage] += np.bincount(rtype, minlength=N_TYPES)
        if stage in BACKLOG_STAGES:
            self._backlog_add(ids, +1)
        return ids

    def _backlog_add(self, ids: np.ndarray, sign: int) -> None:
        if len(ids):
            flat = self.region[ids].astype(np.int64) * self.n_providers + self.provider[ids]
            self.backlog_rp += sign * np.bincount(flat, minlength=self.backlog_rp.size).reshape(self.backlog_rp.shape)

    def move(self, ids: np.ndarray, stage: int) -> None:
        """Move records to ``stage``, keeping the counters equal to the column's contents."""
        if len(ids) == 0:
            return
        old = self.stage[ids].astype(np.int64)
        types = self.rtype[ids].astype(np.int64)
        np.subtract.at(self.counts, (old, types), 1)
        self.counts[stage] += np.bincount(types, minlength=N_TYPES)
        was_backlog = old <= IN_SERVICE
        now_backlog = stage <= IN_SERVICE
        if not now_backlog:
            self._backlog_add(ids[was_backlog], -1)
        else:
            self._backlog_add(ids[~was_backlog], +1)
        self.stage[ids] = stage

    def set_provider(self, ids: np.ndarray, provider: int) -> None:
        """Reassign backlog records to another provider (hand-over)."""
        self._backlog_add(ids, -1)
        self.provider[ids] = provider
        self._backlog_add(ids, +1)

    def end(self, ids: np.ndarray, kind: int, t: np.ndarray | float) -> None:
        """End the episodes of ``ids`` with exit ``kind`` at time ``t``."""
        self.move(ids, EXITED)
        if self.journeys and len(ids):
            self.exit_kind[ids] = kind
            self.t_exit[ids] = t

    def recount(self) -> tuple[np.ndarray, np.ndarray]:
        """Counters recomputed from the columns (for audits)."""
        n = self.n
        stage = self.stage[:n].astype(np.int64)
        counts = np.bincount(stage * N_TYPES + self.rtype[:n], minlength=N_STAGES * N_TYPES).reshape(N_STAGES, N_TYPES)
        in_backlog = stage <= IN_SERVICE
        flat = self.region[:n][in_backlog].astype(np.int64) * self.n_providers + self.provider[:n][in_backlog]
        rp = np.bincount(flat, minlength=self.backlog_rp.size).reshape(self.backlog_rp.shape)
        return counts, rp


# ---------------------------------------------------------- attribute draws


@dataclass
class AttributeStreams:
    """Generators from which per-claimant attributes are drawn at referral, in arrival order."""

    claimant: np.random.Generator
    service: np.random.Generator
    attendance: np.random.Generator
    rework: np.random.Generator

    def spawn(self) -> AttributeStreams:
        """Independent child generators (used for episodes whose timing depends on the scenario)."""
        return AttributeStreams(*(g.spawn(1)[0] for g in (self.claimant, self.service, self.attendance, self.rework)))


@dataclass
class Attributes:
    """Raw per-claimant draws for ``n`` new claimants."""

    u_region: np.ndarray
    u_route: np.ndarray
    u_outcome: np.ndarray
    u_prognosis: np.ndarray
    e_close: np.ndarray      # Exp(1): scaled by the closure hazard of the type
    u_dna: np.ndarray
    u_rework: np.ndarray
    streams: AttributeStreams

    def subset(self, mask: np.ndarray) -> Attributes:
        """The attributes of the claimants selected by ``mask``."""
        return Attributes(
            self.u_region[mask], self.u_route[mask], self.u_outcome[mask], self.u_prognosis[mask],
            self.e_close[mask], self.u_dna[mask], self.u_rework[mask], self.streams,
        )

    def service(self, cv: np.ndarray) -> np.ndarray:
        """Unit-mean gamma service variates, one per claimant, with coefficient of variation ``cv``."""
        out = np.ones(len(cv))
        for value in np.unique(cv):
            mask = cv == value
            if value > 0:
                shape = 1.0 / (value * value)
                out[mask] = self.streams.service.standard_gamma(shape, size=int(mask.sum())) / shape
        return out


def draw_attributes(streams: AttributeStreams, n: int) -> Attributes:
    """Draw the attributes of ``n`` claimants (row by row, so each claimant's draws do not depend on later ones)."""
    u = streams.claimant.random((n, 4))
    return Attributes(
        u_region=u[:, 0],
        u_route=u[:, 1],
        u_outcome=u[:, 2],
        u_prognosis=u[:, 3],
        e_close=streams.claimant.standard_exponential(n),
        u_dna=streams.attendance.random(n),
        u_rework=streams.rework.random(n),
        streams=streams,
    )


def gamma_delay(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Gamma delays with the given mean and coefficient of variation (cv = 0: fixed)."""
    if n == 0 or mean <= 0:
        return np.full(n, max(mean, 0.0))
    if cv <= 0:
        return np.full(n, mean)
    shape = 1.0 / (cv * cv)
    return rng.standard_gamma(shape, size=n) * (mean / shape)
