"""Scenarios as data: the validated Scenario model, dated schedules and TOML I/O."""

from .io import (
    ScenarioError,
    apply_overrides,
    builtin_names,
    diff,
    dump_scenario,
    load_scenario,
    parse_override,
    save_scenario,
    scenario_from_dict,
    scenario_from_toml,
    scenario_to_dict,
)
from .model import ASSESSMENT_KINDS, OUTCOMES, REFERRAL_TYPES, Scenario
from .schedule import Schedule, constant

__all__ = [
    "ASSESSMENT_KINDS",
    "OUTCOMES",
    "REFERRAL_TYPES",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "apply_overrides",
    "builtin_names",
    "constant",
    "diff",
    "dump_scenario",
    "load_scenario",
    "parse_override",
    "save_scenario",
    "scenario_from_dict",
    "scenario_from_toml",
    "scenario_to_dict",
]
