"""The Engine interface and the registry of engines.

An engine simulates one Scenario for a batch of replications and returns a
:class:`~wca_sim.results.Results`. The DES engine loops over replications; the
fast engine vectorises across them. Engines never import each other.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from ..results import Results
from ..scenario import Scenario


class UnsupportedScenario(ValueError):
    """The engine cannot represent this scenario faithfully (it refuses rather than approximate)."""


@runtime_checkable
class Engine(Protocol):
    """What every engine provides."""

    name: str

    def check(self, scenario: Scenario) -> None:
        """Raise :class:`UnsupportedScenario` with a clear reason if the scenario cannot be run."""

    def supports(self, scenario: Scenario) -> bool:
        """True when :meth:`check` passes."""

    def run(
        self,
        scenario: Scenario,
        replications: Sequence[int],
        seed: int,
        *,
        journeys: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Results:
        """Simulate ``scenario`` for each replication id in ``replications``.

        Replication ``r`` draws only from the streams of ``(seed, r)``
        (:mod:`wca_sim.streams`), so the result for ``r`` is the same whatever
        batch it runs in. ``progress(n)`` is called after every ``n`` finished
        replications. The Results have a scenario dim of length one.
        """


class EngineBase:
    """Shared behaviour of the concrete engines: :meth:`supports` derived from :meth:`check`."""

    name: str

    def check(self, scenario: Scenario) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def supports(self, scenario: Scenario) -> bool:
        """True when :meth:`check` passes."""
        try:
            self.check(scenario)
        except UnsupportedScenario:
            return False
        return True


_REGISTRY: dict[str, str] = {
    "des": "wca_sim.engines.des:DesEngine",
    "fast": "wca_sim.engines.fast:FastEngine",
}


def engine_names() -> list[str]:
    """Names accepted by :func:`get_engine`."""
    return sorted(_REGISTRY)


def get_engine(name: str) -> Engine:
    """An engine instance by name ('des' or 'fast')."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown engine {name!r}; choose from {', '.join(engine_names())}")
    module_name, class_name = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
