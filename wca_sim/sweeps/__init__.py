"""Parameter sweeps, sensitivity analysis and break-even search.

See ``docs/sweeps.md``. The pieces are separate so each can be swapped:
designs (:mod:`.designs`), models (:mod:`.models`), the on-disk store
(:mod:`.store`), execution backends (:mod:`.backends`), the sweep itself
(:mod:`.core`), sensitivity indices (:mod:`.sensitivity`) and break-even
search (:mod:`.breakeven`).
"""

from .core import load_sweep, sweep
from .designs import DESIGNS, Param, make_design
from .models import EngineModel, IshigamiModel, ParamSet

__all__ = [
    "DESIGNS",
    "EngineModel",
    "IshigamiModel",
    "Param",
    "ParamSet",
    "load_sweep",
    "make_design",
    "sweep",
]
