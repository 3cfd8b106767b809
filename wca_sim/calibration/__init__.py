"""Calibration to published figures: targets, validation and fitting.

- :mod:`.values` parses published values (ranges, bounds, percentages).
- :mod:`.targets` maps figures to model outputs (``wca_sim/data/targets.toml``).
- :mod:`.validate` compares a run with every mappable figure.
- :mod:`.fit` fits uncertain parameters to the targets (:func:`calibrate`).
"""

from .targets import Target, TargetError, load_figures, load_targets, not_mapped
from .validate import format_table, share_inside, validate, validation_table
from .values import PublishedValue, parse_value

__all__ = [
    "PublishedValue",
    "Target",
    "TargetError",
    "format_table",
    "load_figures",
    "load_targets",
    "not_mapped",
    "parse_value",
    "share_inside",
    "validate",
    "validation_table",
]
