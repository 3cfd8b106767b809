"""wca_sim: what happens to people waiting for a Work Capability Assessment when the contract changes hands.

Quick start::

    import wca_sim as ws
    sc = ws.load_scenario("early-exit")
    res = ws.run([sc], reps=4, seed=1, engine="des")
    res.kpis.head()
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wca_sim")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from .results import Results, load_results
from .scenario import Scenario, ScenarioError, builtin_names, diff, dump_scenario, load_scenario
from .engines import UnsupportedScenario
from .runner import run
from .analysis import compare, summarise, timeseries_bands

__all__ = [
    "Results",
    "UnsupportedScenario",
    "Scenario",
    "ScenarioError",
    "__version__",
    "builtin_names",
    "compare",
    "diff",
    "dump_scenario",
    "load_results",
    "load_scenario",
    "run",
    "summarise",
    "timeseries_bands",
]
