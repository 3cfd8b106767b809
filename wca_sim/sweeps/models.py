"""Models a sweep evaluates: the engine, or an analytic function.

A *model* is a picklable callable::

    model(scenario, replications, seed) -> KPI table

``scenario`` is the base scenario with the point's overrides applied,
``replications`` the replication ids to simulate and ``seed`` the root seed.
The KPI table is either a DataFrame with columns ``replication, kpi, value``
(the engine's :attr:`Results.kpis`, a ``scenario`` column is ignored) or a
mapping ``{kpi: values}`` with one value per replication, in order.

A model may define ``apply(base, overrides)`` to build the point's scenario;
by default ``base.with_overrides(overrides)`` is used, which works for
:class:`~wca_sim.scenario.Scenario` and for :class:`ParamSet`.

Randomness must come only from :mod:`wca_sim.streams` keyed by
``(seed, replication, name)``, so a point's numbers do not depend on where or
when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..streams import generator


class Model(Protocol):
    """What a sweep needs from a model."""

    def __call__(self, scenario: Any, replications: Sequence[int], seed: int) -> pd.DataFrame | Mapping[str, Sequence[float]]:
        ...


class EngineModel:
    """The default model: simulate with an engine and return its KPI table.

    Parameters
    ----------
    engine
        Engine name (``"fast"`` or ``"des"``).
    kpis
        Keep only these KPI names (all when None).
    """

    def __init__(self, engine: str = "fast", kpis: Sequence[str] | None = None) -> None:
        self.engine = engine
        self.kpis = list(kpis) if kpis is not None else None

    def __call__(self, scenario: Any, replications: Sequence[int], seed: int) -> pd.DataFrame:
        from ..engines import get_engine

        results = get_engine(self.engine).run(scenario, list(replications), seed)
        table = results.kpis
        if self.kpis is not None:
            table = table[table["kpi"].isin(self.kpis)]
        return table

    def check(self, scenario: Any) -> None:
        """Refuse early (in the client) a scenario the engine cannot run."""
        from ..engines import get_engine

        get_engine(self.engine).check(scenario)

    def describe(self) -> dict[str, Any]:
        return {"model": "engine", "engine": self.engine, "kpis": self.kpis}


class ParamSet(Mapping[str, float]):
    """A plain parameter mapping standing in for a Scenario (analytic models)."""

    def __init__(self, values: Mapping[str, Any] | None = None, name: str = "params") -> None:
        self._values = dict(values or {})
        self.name = name

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> ParamSet:
        unknown = sorted(set(overrides) - set(self._values))
        if unknown:
            raise KeyError(f"unknown parameter {unknown[0]!r}; known: {', '.join(self._values)}")
        return ParamSet({**self._values, **overrides}, self.name)

    def __repr__(self) -> str:
        return f"ParamSet({self._values!r})"


class IshigamiModel:
    """The Ishigami function, a standard test of sensitivity methods.

    ``y = sin(x1) + a sin(x2)^2 + b x3^4 sin(x1)`` on ``[-pi, pi]^3``. Its
    Sobol' indices are known in closed form (:meth:`analytic_indices`).

    Parameters
    ----------
    a, b
        The function's constants (7 and 0.1 are the usual ones).
    noise_sd
        Standard deviation of Gaussian noise added per replication, drawn from
        the ``"service"`` stream of ``(seed, replication)``: stands in for
        Monte Carlo noise.
    delay
        Seconds to sleep per call (to make scheduling tests take time).
    """

    keys = ("x1", "x2", "x3")

    def __init__(self, a: float = 7.0, b: float = 0.1, noise_sd: float = 0.0, delay: float = 0.0) -> None:
        self.a, self.b, self.noise_sd, self.delay = a, b, noise_sd, delay

    @staticmethod
    def base() -> ParamSet:
        """A base 'scenario' holding the three inputs."""
        return ParamSet({"x1": 0.0, "x2": 0.0, "x3": 0.0}, name="ishigami")

    @staticmethod
    def params() -> dict[str, tuple[float, float]]:
        return {k: (-np.pi, np.pi) for k in IshigamiModel.keys}

    def value(self, x1: float, x2: float, x3: float) -> float:
        return float(np.sin(x1) + self.a * np.sin(x2) ** 2 + self.b * x3**4 * np.sin(x1))

    def __call__(self, scenario: Any, replications: Sequence[int], seed: int) -> dict[str, list[float]]:
        if self.delay:
            time.sleep(self.delay)
        y = self.value(scenario["x1"], scenario["x2"], scenario["x3"])
        values = []
        for r in replications:
            noise = generator(seed, int(r), "service").normal(0.0, self.noise_sd) if self.noise_sd else 0.0
            values.append(y + noise)
        return {"y": values}

    def variance(self) -> float:
        """Variance of y for uniform inputs."""
        a, b, pi = self.a, self.b, np.pi
        return a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5

    def analytic_indices(self) -> pd.DataFrame:
        """First-order (S1) and total (ST) Sobol' indices, closed form."""
        a, b, pi = self.a, self.b, np.pi
        v = self.variance()
        v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
        v2 = a**2 / 8
        v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
        return pd.DataFrame(
            {"S1": [v1 / v, v2 / v, 0.0], "ST": [(v1 + v13) / v, v2 / v, v13 / v]},
            index=pd.Index(list(self.keys), name="param"),
        )

    def describe(self) -> dict[str, Any]:
        return {"model": "ishigami", "a": self.a, "b": self.b, "noise_sd": self.noise_sd}


def kpi_table_to_array(table: pd.DataFrame | Mapping[str, Sequence[float]], replications: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """A model's KPI table as (kpi names, float64 array of shape (replications, kpis)).

    KPI order is the order of first appearance in the table, so it is fixed by
    the model, never by scheduling.
    """
    reps = [int(r) for r in replications]
    if isinstance(table, Mapping):
        names = [str(k) for k in table]
        array = np.empty((len(reps), len(names)), dtype=np.float64)
        for j, name in enumerate(names):
            column = np.asarray(table[name], dtype=np.float64)
            if column.shape != (len(reps),):
                raise ValueError(f"model returned {column.shape} values of KPI {name!r} for {len(reps)} replications")
            array[:, j] = column
        return names, array
    names = list(dict.fromkeys(str(k) for k in table["kpi"]))
    wide = table.pivot_table(index="replication", columns="kpi", values="value", aggfunc="first", dropna=False)
    wide = wide.reindex(index=reps, columns=names)
    return names, wide.to_numpy(dtype=np.float64)
