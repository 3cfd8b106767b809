"""Random numbers for the fast engine: per-replication named streams, drawn in blocks of days.

Scheme (documented in docs/model.md, "Fast engine approximations")
------------------------------------------------------------------
Replication ``r`` owns one generator per named stream,
``wca_sim.streams.generator(seed, r, name)``. Every ``block`` days the engine
asks each replication's generator for a fixed-shape array of standard normals
(``(block, columns)``, float32), and stacks the replications. Column positions
are assigned by name once per run (:class:`Layout`), so the numbers replication
``r`` sees depend only on ``(seed, r, stream)`` and the scenario's structure,
never on which other replications share the batch: results are independent of
batch size and worker count.

Counts are then made from these normals by :func:`poisson` and
:func:`binomial`: exact inversion (through ``u = Phi(z)``) when the mean is
small, the normal approximation with rounding when it is large (mean >= 30
for Poisson, variance >= 25 for binomial), where its error is below the
Monte Carlo noise of any output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr

from ...streams import generator

POISSON_SMALL = 30.0
BINOMIAL_SMALL_VAR = 25.0


class Layout:
    """Columns per stream: each consumer registers ``(stream, key, shape)`` once."""

    def __init__(self) -> None:
        self.columns: dict[str, int] = {}
        self.slots: dict[str, tuple[str, int, int, tuple[int, ...]]] = {}

    def add(self, stream: str, key: str, shape: tuple[int, ...]) -> None:
        """Reserve ``prod(shape)`` normals per day of ``stream`` under ``key``."""
        size = int(np.prod(shape))
        start = self.columns.get(stream, 0)
        self.slots[key] = (stream, start, start + size, shape)
        self.columns[stream] = start + size


class BlockDraws:
    """Standard normals of each replication and stream, refilled every ``block`` days."""

    def __init__(self, layout: Layout, seed: int, replications: Sequence[int], block: int = 64) -> None:
        self.layout = layout
        self.block = block
        self.gens = {
            name: [generator(seed, int(r), name) for r in replications] for name in layout.columns
        }
        self._cache: dict[str, np.ndarray] = {}
        self._block_start = -1
        self._day = 0

    def set_day(self, t: int) -> None:
        """Move to day ``t`` (days must be visited in increasing order)."""
        start = t - t % self.block
        if start != self._block_start:
            self._block_start = start
            for name, gens in self.gens.items():
                cols = self.layout.columns[name]
                self._cache[name] = np.stack(
                    [g.standard_normal((self.block, cols), dtype=np.float32) for g in gens]
                )
        self._day = t % self.block

    def z(self, key: str) -> np.ndarray:
        """Normals of ``key`` for the current day, shaped ``(R, *shape)``."""
        stream, a, b, shape = self.layout.slots[key]
        block = self._cache[stream]
        return block[:, self._day, a:b].reshape((block.shape[0],) + shape)


def poisson(mean: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Poisson counts with the given means from standard normals ``z`` (same shape)."""
    mean = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    z = np.broadcast_to(z, mean.shape)
    out = np.maximum(np.rint(mean + np.sqrt(mean) * z), 0.0)
    small = mean < POISSON_SMALL
    if small.any():
        lam = mean[small]
        u = ndtr(z[small].astype(np.float64))
        out[small] = _invert(u, np.exp(-lam), lambda pk, k: pk * lam / k, limit=200)
    return out


def binomial(n: np.ndarray, p: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Binomial counts ``Bin(n, p)`` (``n`` integer-valued floats) from standard normals ``z``."""
    n = np.maximum(np.rint(np.asarray(n, dtype=np.float64)), 0.0)
    p = np.clip(np.broadcast_to(np.asarray(p, dtype=np.float64), n.shape), 0.0, 1.0)
    z = np.broadcast_to(z, n.shape)
    var = n * p * (1.0 - p)
    out = np.clip(np.rint(n * p + np.sqrt(var) * z), 0.0, n)
    small = var < BINOMIAL_SMALL_VAR
    if small.any():
        ns, ps = n[small], p[small]
        flip = ps > 0.5
        q = np.where(flip, 1.0 - ps, ps)
        u = ndtr(z[small].astype(np.float64))
        ratio = np.divide(q, 1.0 - q, out=np.zeros_like(q), where=q < 1.0)
        k_draw = _invert(u, (1.0 - q) ** ns, lambda pk, k: pk * (ns - k + 1) / k * ratio, limit=None, cap=ns)
        out[small] = np.where(flip, ns - k_draw, k_draw)
    return out


def _invert(u: np.ndarray, p0: np.ndarray, step, limit: int | None, cap: np.ndarray | None = None) -> np.ndarray:
    """Inverse-CDF search: smallest k with F(k) >= u, F built by ``pk = step(pk, k)``."""
    k_out = np.zeros_like(u)
    pk = p0.copy()
    cdf = p0.copy()
    active = np.nonzero(u > cdf)[0]
    k = 0
    while active.size:
        k += 1
        pk_a = step(pk, k)
        pk = pk_a
        cdf = cdf + pk_a
        k_out[active] = k
        still = u[active] > cdf[active]
        if cap is not None:
            still &= cap[active] > k
        if limit is not None and k >= limit:
            break
        active = active[still]
        if not active.size or not np.any(pk[active] > 0):
            break
    return k_out
