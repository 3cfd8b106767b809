"""Recording a batch's daily series and building the Results time-series Dataset (national scale).

The engine allocates the output arrays of all its replications once
(:func:`allocate`, float64, with the scenario axis already in place); each
batch's :class:`Recorder` packs a day's values into one day-major buffer and
copies it, scaled to national counts, into its replications' slice every
``block`` days, so no per-batch Dataset is built and nothing is concatenated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy import fft

from ...calendar import (
    quarter_index_of_days,
    quarter_starts,
    referral_quarters,
    wait_weeks,
)
from ...results import (
    COST_COMPONENTS,
    EXITS,
    TIMESERIES_SCHEMA,
    WAIT_BIN_DAYS,
    timeseries_coords,
)
from ...scenario import ASSESSMENT_KINDS, OUTCOMES, REFERRAL_TYPES, Scenario
from .inputs import Inputs

_DIM_SIZE = {"referral_type": len(REFERRAL_TYPES), "kind": len(ASSESSMENT_KINDS), "outcome": len(OUTCOMES),
             "exit": len(EXITS), "component": len(COST_COMPONENTS)}
#: Daily series the loop records (all of TIMESERIES_SCHEMA except the derived ones).
RECORDED = [n for n in TIMESERIES_SCHEMA if n not in ("backlog", "decisions_by_wait")]
#: Per replication and day: (amount, referral-day sum) of paper, f2f first-booking and rebooked assessments.
N_POINTS = 6


def _shape(name: str, sc: Scenario) -> tuple[int, ...]:
    size = {**_DIM_SIZE, "provider": len(sc.provider_names), "region": len(sc.region_names)}
    return tuple(size[d] for d in TIMESERIES_SCHEMA[name])


def allocate(sc: Scenario, n_reps: int) -> dict[str, np.ndarray]:
    """Output arrays (1, replications, date, *dims) for every recorded series, plus decisions_by_wait."""
    out = {name: np.zeros((1, n_reps, sc.days) + _shape(name, sc)) for name in RECORDED}
    out["decisions_by_wait"] = np.zeros((1, n_reps, len(referral_quarters(sc)), wait_weeks(sc)))
    return out


class Recorder:
    """Day-major buffer of one batch's series, flushed into the output arrays every ``block`` days."""

    def __init__(self, sc: Scenario, out: dict[str, np.ndarray], r0: int, R: int, block: int = 64) -> None:
        self.out, self.r0, self.R, self.block = out, r0, R, block
        self.scale = sc.scale
        self.slots: dict[str, tuple[int, int, tuple[int, ...]]] = {}
        col = 0
        for name in RECORDED:
            shape = _shape(name, sc)
            size = int(np.prod(shape))
            self.slots[name] = (col, col + size, shape)
            col += size
        self.slots["wait_points"] = (col, col + N_POINTS, (N_POINTS,))
        col += N_POINTS
        self.buf = np.zeros((block, col, R))
        self.points = np.zeros((R, sc.days, N_POINTS), dtype=np.float32)
        self.t0 = 0
        self.n = 0

    def day(self, t: int, values: dict[str, np.ndarray]) -> None:
        """Record day ``t``'s values (each (*dims, R), scaled units)."""
        row = self.buf[t - self.t0]
        for name, value in values.items():
            a, b, _ = self.slots[name]
            row[a:b] = np.reshape(value, (b - a, self.R))
        self.n = t - self.t0 + 1
        if self.n == self.block:
            self.flush()

    def flush(self) -> None:
        """Copy the buffered days into the output arrays (national units)."""
        n, t0, r = self.n, self.t0, slice(self.r0, self.r0 + self.R)
        if n:
            for name, (a, b, shape) in self.slots.items():
                block = self.buf[:n, a:b].transpose(2, 0, 1)
                if name == "wait_points":
                    self.points[:, t0 : t0 + n] = block
                    continue
                factor = 1.0 if name == "decision_wait_days_mean" else 1.0 / self.scale
                target = self.out[name][0, r, t0 : t0 + n]
                np.multiply(block.reshape((self.R, n) + shape), factor, out=target)
        self.t0 += n
        self.n = 0


def decisions_by_wait(sc: Scenario, inp: Inputs, points: np.ndarray, wait0: list) -> np.ndarray:
    """Decisions by referral quarter and completed weeks of waiting, (R, quarters, weeks), scaled units.

    Each day's assessments of each route are placed at their mean referral day (so at their
    mean wait), then convolved with the decision-delay and rework kernel. Done quarter by
    quarter, each with the FFT length its longest possible wait needs.
    """
    R, T = points.shape[:2]
    starts = quarter_starts(sc)
    n_q, n_w = len(starts), wait_weeks(sc)
    kernel = inp.k_decision
    rr = float(inp.rework_rate.mean()) if inp.P else 0.0
    rd = int(round(inp.rework_days.mean())) if inp.P else 0
    kernel = (1 - rr) * np.concatenate([kernel, np.zeros(rd)]) + rr * np.concatenate([np.zeros(rd), kernel])
    D = n_w * WAIT_BIN_DAYS + 1
    day = np.arange(T, dtype=np.float64)[None, :]
    rows = np.broadcast_to(np.arange(R)[:, None], (R, T))
    amounts, quarters, flats = [], [], []
    for k in range(3):
        amount = points[..., 2 * k].astype(np.float64)
        have = amount > 1e-9
        ref = np.divide(points[..., 2 * k + 1], amount, out=np.zeros_like(amount), where=have)
        amounts.append(amount[have])
        quarters.append(quarter_index_of_days(sc, ref[have], starts))
        flats.append(rows[have] * D + np.clip(np.rint((day - ref)[have]).astype(np.int64), 0, D - 1))
    amount, quarter, flat = np.concatenate(amounts), np.concatenate(quarters), np.concatenate(flats)
    order = np.argsort(quarter, kind="stable")
    bounds = np.searchsorted(quarter[order], np.arange(n_q + 1))
    init = np.zeros((n_q, D))
    for count, max_age in wait0:
        ages = np.arange(int(np.ceil(max_age)) + 1)
        np.add.at(init, (quarter_index_of_days(sc, -ages.astype(float), starts), np.minimum(ages, D - 1)),
                  count / len(ages))
    k32 = kernel.astype(np.float32)
    weeks = np.zeros((R, n_q, n_w))
    for q in range(n_q):
        sel = order[bounds[q] : bounds[q + 1]]
        if not sel.size and not init[q].any():
            continue
        hist = np.bincount(flat[sel], weights=amount[sel], minlength=R * D).reshape(R, D) + init[q]
        # waits of referrals of quarter q are below T - start: only that much of the row can be non-zero
        span = int(min(D, max(T - starts[q], 1) + 1))
        size = fft.next_fast_len(span + len(kernel) - 1, real=True)
        spectrum = fft.rfft(hist[:, :span].astype(np.float32), n=size, axis=-1) * fft.rfft(k32, n=size)
        conv = np.zeros((R, D))
        m = min(D, size)
        conv[:, :m] = np.clip(fft.irfft(spectrum, n=size, axis=-1)[:, :m], 0.0, None)
        weeks[:, q, : n_w - 1] = conv[:, : (n_w - 1) * WAIT_BIN_DAYS].reshape(R, n_w - 1, WAIT_BIN_DAYS).sum(-1)
        weeks[:, q, n_w - 1] = conv[:, (n_w - 1) * WAIT_BIN_DAYS :].sum(-1)
    return weeks


def to_dataset(sc: Scenario, replications: Sequence[int], out: dict[str, np.ndarray],
               stock: np.ndarray) -> xr.Dataset:
    """The time-series Dataset of all replications (scenario dim of length one), without copying."""
    coords = timeseries_coords(sc, replications)
    data: dict[str, tuple] = {}
    for name, dims in TIMESERIES_SCHEMA.items():
        if name == "decisions_by_wait":
            data[name] = (("scenario", "replication") + dims, out[name])
        elif name == "backlog":
            data[name] = (("scenario", "replication", "date"), out["backlog_by_region"].sum(-1))
        else:
            data[name] = (("scenario", "replication", "date") + dims, out[name])
    data["initial_stock"] = (("scenario", "replication"), (stock / sc.scale)[None])
    return xr.Dataset(data, coords=coords)
