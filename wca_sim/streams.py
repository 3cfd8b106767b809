"""Random streams keyed by (root seed, replication, stream name).

There is no global random state. Each stochastic input of replication ``r``
draws from its own generator::

    numpy.random.Generator(PCG64(SeedSequence(root, spawn_key=(r, stream_id))))

with ``stream_id`` the position of the input's name in :data:`STREAM_NAMES`.
Results therefore do not depend on worker count, batch size or order, and
scenarios run with the same root seed share common random numbers: in a
replication, the same claimants arrive with the same attributes in every
scenario. New streams are only ever appended to the list, so existing ids
never change.
"""

from __future__ import annotations

import numpy as np

STREAM_NAMES: tuple[str, ...] = (
    "arrivals",          # referral counts and arrival times
    "claimant",          # per-claimant attributes fixed at referral (region, route, closure clock, uniforms)
    "initial_state",     # the stock on the start date
    "allocation",        # provider allocation where a region has several
    "service",           # assessment durations
    "attendance",        # did-not-attend and rebooking
    "rework",            # report rework
    "decision",          # decision delays and outcomes
    "prognosis",         # prognosis periods and repeat referrals
    "reconsideration",   # MR requests, durations, revisions
    "appeal",            # appeals lodged, withdrawals, hearings, overturns
    "workforce",         # hiring, attrition, incidents
)


def stream_id(name: str) -> int:
    """Fixed integer id of a named stream."""
    try:
        return STREAM_NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAM_NAMES)}") from None


def generator(root_seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` of replication ``replication`` under ``root_seed``."""
    sequence = np.random.SeedSequence(root_seed, spawn_key=(replication, stream_id(name)))
    return np.random.Generator(np.random.PCG64(sequence))


class Streams:
    """All named generators of one replication, created on first use."""

    def __init__(self, root_seed: int, replication: int) -> None:
        self.root_seed = root_seed
        self.replication = replication
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._generators:
            self._generators[name] = generator(self.root_seed, self.replication, name)
        return self._generators[name]
