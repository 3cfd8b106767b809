"""Turn a batch's recorded arrays into the Results time-series Dataset (national scale)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import fftconvolve

from ...calendar import quarter_index_of_days, referral_quarters, wait_weeks
from ...results import COST_COMPONENTS, EXITS, TIMESERIES_SCHEMA, WAIT_BIN_DAYS
from ...scenario import ASSESSMENT_KINDS, OUTCOMES, REFERRAL_TYPES, Scenario
from .inputs import Inputs
from .queues import ProviderQueues
from .simulate import Recorder


def decisions_by_wait(sc: Scenario, inp: Inputs, q: ProviderQueues, wait0: list) -> np.ndarray:
    """Decisions by referral quarter and completed weeks of waiting, (R, quarters, weeks), scaled units.

    Built from the served amounts recorded per queue cell (attended, by route), each
    at its cell's mean wait, convolved with the decision delay and rework kernel.
    """
    R = q.S.shape[0]
    n_q, n_w = len(referral_quarters(sc)), wait_weeks(sc)
    kernel = inp.k_decision
    rr = float(inp.rework_rate.mean()) if inp.P else 0.0
    rd = int(round(inp.rework_days.mean())) if inp.P else 0
    kernel = (1 - rr) * np.concatenate([kernel, np.zeros(rd)]) + rr * np.concatenate([np.zeros(rd), kernel])
    D = n_w * WAIT_BIN_DAYS + 1
    hist = np.zeros((R, n_q, D))
    S = q.S.astype(np.float64)
    cells = np.arange(q.L)
    for k, ref in ((0, q.ref_paper), (1, q.ref_f2f), (2, None)):
        amount = S[..., k]
        have = amount > 1e-12
        wait = np.divide(S[..., 3 + k], amount, out=np.zeros_like(amount), where=have)
        if ref is None:
            ref_day = np.divide(S[..., 6], amount, out=np.zeros_like(amount), where=have)
        else:
            ref_day = np.broadcast_to(ref[cells], amount.shape)
        quarter = quarter_index_of_days(sc, ref_day[have])
        rows = np.nonzero(have)[0]
        day = np.clip(np.rint(wait[have]).astype(np.int64), 0, D - 1)
        flat = (rows * n_q + quarter) * D + day
        hist += np.bincount(flat, weights=amount[have], minlength=R * n_q * D).reshape(R, n_q, D)
    for count, max_age in wait0:
        ages = np.arange(int(np.ceil(max_age)) + 1)
        quarter = quarter_index_of_days(sc, -ages.astype(float))
        np.add.at(hist, (slice(None), quarter, np.minimum(ages, D - 1)), count / len(ages))
    hist = np.clip(fftconvolve(hist, kernel[None, None, :], axes=-1), 0.0, None)
    weeks = np.zeros((R, n_q, n_w))
    full = hist[..., : (n_w - 1) * WAIT_BIN_DAYS].reshape(R, n_q, n_w - 1, WAIT_BIN_DAYS).sum(-1)
    weeks[..., : n_w - 1] = full
    weeks[..., n_w - 1] = hist[..., (n_w - 1) * WAIT_BIN_DAYS :].sum(-1)
    return weeks


def to_dataset(sc: Scenario, inp: Inputs, replications: Sequence[int], rec: Recorder, q: ProviderQueues,
               wait0: list, stock: np.ndarray) -> xr.Dataset:
    """The time-series Dataset of one batch with a scenario dim of length one."""
    s = sc.scale
    data = rec.data
    coords = {
        "scenario": [sc.name],
        "replication": np.asarray(replications, dtype=np.int64),
        "date": pd.date_range(sc.start_date, sc.end_date, freq="D").astype("datetime64[ns]"),
        "referral_type": list(REFERRAL_TYPES),
        "provider": list(sc.provider_names),
        "region": list(sc.region_names),
        "kind": list(ASSESSMENT_KINDS),
        "outcome": list(OUTCOMES),
        "exit": list(EXITS),
        "component": list(COST_COMPONENTS),
        "referral_quarter": referral_quarters(sc),
        "wait_week": np.arange(wait_weeks(sc), dtype=np.int64),
    }
    out: dict[str, tuple] = {}
    for name, dims in TIMESERIES_SCHEMA.items():
        if name == "decisions_by_wait":
            values = decisions_by_wait(sc, inp, q, wait0)
            out[name] = (("scenario", "replication") + dims, (values / s)[None])
            continue
        values = data["backlog_by_region"].sum(-1) if name == "backlog" else data[name]
        if name not in ("decision_wait_days_mean",):
            values = values / s
        out[name] = (("scenario", "replication", "date") + dims, values[None].astype(np.float64))
    out["initial_stock"] = (("scenario", "replication"), (stock / s)[None])
    return xr.Dataset(out, coords=coords)
