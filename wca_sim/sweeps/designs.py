"""Experiment designs: which parameter points a sweep evaluates.

A sweep varies dotted scenario keys. Each key has either a continuous range
``(low, high)`` or a list of values. A design turns those into a table of
points (one row per point, one column per key):

``grid``
    Full factorial. A range contributes ``levels`` evenly spaced values
    (``points`` in :func:`make_design`), a list its own values.
``lhs``
    Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`), ``points`` rows.
``sobol``
    Scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`), ``points``
    rows (a power of two keeps its balance properties).
``morris``
    Morris trajectories from SALib: ``points`` trajectories of ``k + 1``
    points each (``k`` parameters), ``num_levels`` grid levels.
``saltelli``
    The Saltelli/Sobol' sample of SALib for first- and total-order indices
    (no second order): ``points * (k + 2)`` rows.

Design randomness comes from ``SeedSequence(seed, spawn_key=(DESIGN_SPAWN_KEY,))``,
a branch of the root seed that no replication stream uses (those have
two-element spawn keys, see :mod:`wca_sim.streams`), so a design is fixed by
the seed and never shares numbers with the simulation.

A list-valued parameter enters the continuous designs through its index: a
unit coordinate ``u`` picks value ``floor(u * n)``. SALib sees it as a range
``[0, n)``, so its indices are still meaningful (for an ordinal factor).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris", "saltelli")

#: Spawn key of the design's random generator (one element: disjoint from the
#: (replication, stream) keys of :mod:`wca_sim.streams`).
DESIGN_SPAWN_KEY = 0x5EED


@dataclass(frozen=True)
class Param:
    """One swept parameter.

    Parameters
    ----------
    key
        Dotted scenario key, e.g. ``providers.maximus.workforce.hires_per_month``.
    low, high
        Range of a continuous parameter (``values`` None).
    values
        The values of a listed parameter (``low``/``high`` None).
    integer
        Round a range's values to whole numbers (for integer fields).
    """

    key: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if self.values is None:
            if self.low is None or self.high is None:
                raise ValueError(f"parameter {self.key!r}: give a range (low, high) or a list of values")
            if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high <= self.low:
                raise ValueError(f"parameter {self.key!r}: range needs low < high, got {self.low}..{self.high}")
        elif len(self.values) == 0:
            raise ValueError(f"parameter {self.key!r}: empty list of values")

    @property
    def is_range(self) -> bool:
        return self.values is None

    def bounds(self) -> tuple[float, float]:
        """Bounds as SALib sees them (a list parameter is its index range ``[0, n)``)."""
        if self.is_range:
            return (float(self.low), float(self.high))  # type: ignore[arg-type]
        return (0.0, float(len(self.values)))  # type: ignore[arg-type]

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map unit-cube coordinates to parameter values."""
        if self.is_range:
            x = self.low + np.asarray(u, dtype=float) * (self.high - self.low)  # type: ignore[operator]
            return [float(np.round(v)) if self.integer else float(v) for v in x]
        return self.from_scaled(np.asarray(u, dtype=float) * len(self.values))  # type: ignore[arg-type]

    def from_scaled(self, x: np.ndarray) -> list[Any]:
        """Map values in :meth:`bounds` (as SALib samples them) to parameter values."""
        if self.is_range:
            return [float(np.round(v)) if self.integer else float(v) for v in np.asarray(x, dtype=float)]
        n = len(self.values)  # type: ignore[arg-type]
        index = np.clip(np.floor(np.asarray(x, dtype=float)).astype(int), 0, n - 1)
        return [self.values[i] for i in index]  # type: ignore[index]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "low": self.low, "high": self.high,
                "values": list(self.values) if self.values is not None else None, "integer": self.integer}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Param:
        values = data.get("values")
        return cls(key=data["key"], low=data.get("low"), high=data.get("high"),
                   values=tuple(values) if values is not None else None, integer=bool(data.get("integer", False)))


def as_params(params: Mapping[str, Any] | Sequence[Param]) -> list[Param]:
    """Normalise ``{key: (low, high) | [v1, v2, ...] | Param}`` to a list of :class:`Param`.

    A tuple of two numbers is a range; a list is a set of values.
    """
    if isinstance(params, Mapping):
        out = []
        for key, spec in params.items():
            if isinstance(spec, Param):
                out.append(spec)
            elif isinstance(spec, tuple) and len(spec) == 2 and all(_is_number(v) for v in spec):
                out.append(Param(key, low=float(spec[0]), high=float(spec[1])))
            elif isinstance(spec, (list, tuple, np.ndarray)):
                out.append(Param(key, values=tuple(_plain(v) for v in spec)))
            else:
                raise ValueError(f"parameter {key!r}: expected (low, high) or a list of values, got {spec!r}")
    else:
        out = list(params)
    if not out:
        raise ValueError("no parameters to sweep")
    keys = [p.key for p in out]
    if len(set(keys)) != len(keys):
        raise ValueError(f"parameter given twice: {sorted(k for k in keys if keys.count(k) > 1)[0]!r}")
    return out


def salib_problem(params: Sequence[Param]) -> dict[str, Any]:
    """The SALib problem dict for these parameters."""
    return {"num_vars": len(params), "names": [p.key for p in params], "bounds": [list(p.bounds()) for p in params]}


def design_rng(seed: int) -> np.random.Generator:
    """The design's generator: a branch of the root seed unused by the simulation."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(DESIGN_SPAWN_KEY,))))


def make_design(
    params: Mapping[str, Any] | Sequence[Param],
    design: str = "lhs",
    points: int = 16,
    seed: int = 0,
    *,
    num_levels: int = 4,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build the table of points of a design.

    Parameters
    ----------
    params
        ``{dotted_key: (low, high) or [values]}`` or a list of :class:`Param`.
    design
        One of :data:`DESIGNS`.
    points
        Rows for ``lhs``/``sobol``; levels per range for ``grid``; trajectories
        for ``morris``; base sample size N for ``saltelli``.
    seed
        Root seed; the design uses its own branch (:func:`design_rng`).
    num_levels
        Morris grid levels.

    Returns
    -------
    (table, info)
        ``table``: one row per point, one column per key, index ``point``
        0..n-1. ``info``: JSON-ready description (design, params, SALib problem,
        the scaled sample ``X`` for SALib analysis, sizes).
    """
    plist = as_params(params)
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; choose from {', '.join(DESIGNS)}")
    if points < 1:
        raise ValueError(f"points must be at least 1, got {points}")
    problem = salib_problem(plist)
    d = len(plist)
    scaled: np.ndarray | None = None
    if design == "grid":
        axes = [p.from_unit(np.linspace(0.0, 1.0, points)) if p.is_range else list(p.values) for p in plist]  # type: ignore[arg-type]
        rows = list(itertools.product(*axes))
        columns = {p.key: [row[i] for row in rows] for i, p in enumerate(plist)}
    else:
        if design in ("lhs", "sobol"):
            from scipy.stats import qmc

            engine_class = qmc.LatinHypercube if design == "lhs" else qmc.Sobol
            try:
                sampler = engine_class(d=d, rng=design_rng(seed))
            except TypeError:  # scipy < 1.15 calls the generator argument `seed`
                sampler = engine_class(d=d, seed=design_rng(seed))
            with warnings.catch_warnings():
                # Sobol' with a non-power of two loses some balance: documented, not an error.
                warnings.simplefilter("ignore", UserWarning)
                unit = sampler.random(points)
            lows = np.array([b[0] for b in problem["bounds"]])
            highs = np.array([b[1] for b in problem["bounds"]])
            scaled = lows + unit * (highs - lows)
        elif design == "morris":
            from SALib.sample import morris as morris_sample

            scaled = morris_sample.sample(problem, points, num_levels=num_levels, seed=_salib_seed(seed))
        else:
            from SALib.sample import sobol as sobol_sample

            scaled = sobol_sample.sample(problem, points, calc_second_order=False, seed=_salib_seed(seed))
        columns = {p.key: p.from_scaled(scaled[:, i]) for i, p in enumerate(plist)}
    table = pd.DataFrame(columns)
    table.index = pd.RangeIndex(len(table), name="point")
    info = {
        "design": design,
        "points_arg": points,
        "num_levels": num_levels,
        "n_points": len(table),
        "params": [p.to_json() for p in plist],
        "problem": problem,
        "X": scaled.tolist() if scaled is not None else None,
    }
    return table, info


def _salib_seed(seed: int) -> int:
    """An integer seed for SALib, drawn from the design branch of the root seed."""
    return int(design_rng(seed).integers(0, 2**31 - 1))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones (for JSON and pydantic)."""
    return value.item() if isinstance(value, np.generic) else value
