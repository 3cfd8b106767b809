"""wca_sim: what happens to people waiting for a Work Capability Assessment when the contract changes hands.

Quick start::

    import wca_sim as ws
    sc = ws.load_scenario("early-exit")
    res = ws.run([sc], reps=4, seed=1, engine="des")
    res.kpis.head()

The public names below are imported on first use, so ``import wca_sim`` (and
every ``wca-sim`` command) stays quick.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("wca_sim")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Results": ".results",
    "load_results": ".results",
    "Scenario": ".scenario",
    "ScenarioError": ".scenario",
    "builtin_names": ".scenario",
    "diff": ".scenario",
    "dump_scenario": ".scenario",
    "load_scenario": ".scenario",
    "UnsupportedScenario": ".engines",
    "run": ".runner",
    "compare": ".analysis",
    "summarise": ".analysis",
    "timeseries_bands": ".analysis",
    "sweep": ".sweeps",
    "load_sweep": ".sweeps",
    "breakeven": ".sweeps.breakeven",
    "validate": ".calibration",
    "calibrate": ".calibration.fit",
}

__all__ = [
    "__version__",
    "Results",
    "Scenario",
    "ScenarioError",
    "UnsupportedScenario",
    "breakeven",
    "builtin_names",
    "calibrate",
    "compare",
    "diff",
    "dump_scenario",
    "load_results",
    "load_scenario",
    "load_sweep",
    "run",
    "summarise",
    "sweep",
    "timeseries_bands",
    "validate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wca_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs
    from .analysis import compare, summarise, timeseries_bands
    from .calibration import validate
    from .calibration.fit import calibrate
    from .engines import UnsupportedScenario
    from .results import Results, load_results
    from .runner import run
    from .scenario import Scenario, ScenarioError, builtin_names, diff, dump_scenario, load_scenario
    from .sweeps import load_sweep, sweep
    from .sweeps.breakeven import breakeven
