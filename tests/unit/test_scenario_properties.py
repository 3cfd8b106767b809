"""Property-based tests (hypothesis) of scenario validation and the TOML round trip.

Each property draws many inputs: invalid ones must be rejected with a
:class:`ScenarioError` naming the source and the field; valid ones must load,
and dump back to TOML that loads to an equal Scenario.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterator
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from wca_sim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    dump_scenario,
    load_scenario,
    scenario_from_toml,
    scenario_to_dict,
)

BASE = load_scenario("early-exit")
SOURCE = "generated.toml"
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Probabilities, plain and scheduled, from every part of the model. Cross-field
# constraints (shares summing to one) are left out: the range check must fire first.
PROBABILITY_FIELDS = [
    "demand.repeat_deferral.share_deferred",
    "regions.wales.referral_share",
    "providers.atos.workforce.attrition_per_month",
    "providers.maximus.workforce.transfer_share",
    "providers.atos.productivity.dna_rate",
    "providers.atos.productivity.dna_rebook_share",
    "providers.atos.productivity.dna_slot_fraction",
    "providers.atos.productivity.rework_rate",
    "providers.maximus.productivity.paper_share.new_claim",
    "decisions.new_claim.sg",
    "decisions.repeat.wrag",
    "reconsideration.request_rate",
    "reconsideration.revision_rate",
    "reconsideration.revised_to_sg_share",
    "appeals.appeal_rate_before_mr",
    "appeals.appeal_rate_after_mr",
    "appeals.overturn_rate",
    "appeals.overturned_to_sg_share",
]

SUMMED_SHARES = {"regions.wales.referral_share", "decisions.new_claim.sg", "decisions.repeat.wrag"}

# Capacities, rates, counts and durations that cannot be negative.
NON_NEGATIVE_FIELDS = [
    "providers.atos.workforce.fte_at_start",
    "providers.maximus.workforce.hires_per_month",
    "providers.atos.workforce.hiring_lead_days",
    "providers.atos.workforce.training_days",
    "providers.atos.productivity.f2f_per_hcp_day",
    "providers.atos.productivity.paper_per_hcp_day",
    "providers.atos.productivity.booking_lead_days",
    "appeals.hearings_per_working_day",
    "demand.new_claims_per_month",
    "demand.ib_reassessments_per_month",
    "regions.london.assessment_centres",
    "initial_state.tribunal_backlog",
    "initial_state.mr_pending",
    "costs.tribunal_per_appeal",
    "providers.atos.prices.f2f",
    "decisions.delay_days_mean",
]

finite = {"allow_nan": False, "allow_infinity": False}
outside_unit_interval = st.one_of(
    st.floats(min_value=-1e9, max_value=-1e-12, **finite),
    st.floats(min_value=1.0 + 1e-9, max_value=1e9, **finite),
)
inside_unit_interval = st.floats(min_value=0.0, max_value=1.0, **finite)
negative = st.one_of(st.floats(min_value=-1e9, max_value=-1e-12, **finite), st.integers(-10**6, -1))
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))


def _scheduled(path: str) -> bool:
    return path in {
        "reconsideration.request_rate",
        "reconsideration.revision_rate",
        "appeals.appeal_rate_before_mr",
        "appeals.appeal_rate_after_mr",
        "appeals.overturn_rate",
        "decisions.new_claim.sg",
        "decisions.repeat.wrag",
        "providers.maximus.workforce.hires_per_month",
        "appeals.hearings_per_working_day",
        "demand.new_claims_per_month",
        "demand.ib_reassessments_per_month",
        "costs.tribunal_per_appeal",
        "providers.atos.prices.f2f",
    }


def _set_in(tree: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = tree
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return tree


def _load_tree(tree: dict[str, Any]) -> Scenario:
    """Load a nested dict the way a user's file is loaded: through TOML text."""
    return scenario_from_toml(tomli_w.dumps(tree), source=SOURCE)


def _assert_names_field(exc: ScenarioError, path: str) -> None:
    message = str(exc)
    assert exc.field is not None and exc.field.startswith(path), (exc.field, path)
    assert message.startswith(SOURCE)
    assert f"field '{exc.field}'" in message
    assert "\n" not in message


# ----------------------------------------------------------- probabilities


@PROPERTY_SETTINGS
@given(path=st.sampled_from(PROBABILITY_FIELDS), value=outside_unit_interval, as_schedule=st.booleans())
def test_probability_outside_unit_interval_is_rejected(path: str, value: float, as_schedule: bool) -> None:
    if as_schedule and _scheduled(path):
        # the bad value hidden in the second point of a dated schedule
        raw: Any = {"interpolation": "step", "points": [[dt.date(2014, 1, 1), 0.5], [dt.date(2015, 1, 1), value]]}
    else:
        raw = value
    with pytest.raises(ScenarioError) as info:
        _load_tree(_set_in(scenario_to_dict(BASE), path, raw))
    _assert_names_field(info.value, path)


@PROPERTY_SETTINGS
@given(
    # shares that must sum with others are left out: a lone change breaks the sum
    path=st.sampled_from([p for p in PROBABILITY_FIELDS if p not in SUMMED_SHARES]),
    value=inside_unit_interval,
)
def test_probability_inside_unit_interval_is_accepted(path: str, value: float) -> None:
    sc = _load_tree(_set_in(scenario_to_dict(BASE), path, value))
    node: Any = sc
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    assert (node.at(dt.date(2015, 1, 1)) if hasattr(node, "at") else node) == value


# --------------------------------------------------------------- capacities


@PROPERTY_SETTINGS
@given(path=st.sampled_from(NON_NEGATIVE_FIELDS), value=negative)
def test_negative_capacity_is_rejected(path: str, value: float) -> None:
    with pytest.raises(ScenarioError) as info:
        _load_tree(_set_in(scenario_to_dict(BASE), path, value))
    _assert_names_field(info.value, path)


@PROPERTY_SETTINGS
@given(value=negative, position=st.integers(0, 2))
def test_negative_point_in_a_capacity_schedule_is_rejected(value: float, position: int) -> None:
    points = [[dt.date(2015, 3, 1), 40.0], [dt.date(2016, 3, 1), 60.0], [dt.date(2017, 3, 1), 20.0]]
    points[position][1] = float(value)
    path = "providers.maximus.workforce.hires_per_month"
    with pytest.raises(ScenarioError) as info:
        _load_tree(_set_in(scenario_to_dict(BASE), path, {"interpolation": "linear", "points": points}))
    _assert_names_field(info.value, path)
    assert str(float(value)) in str(info.value)


@PROPERTY_SETTINGS
@given(value=negative)
def test_negative_override_is_rejected_with_the_key(value: float) -> None:
    with pytest.raises(ScenarioError) as info:
        apply_overrides(BASE, {"providers.atos.workforce.fte_at_start": value}, source="--set")
    assert info.value.field == "providers.atos.workforce.fte_at_start"


# ----------------------------------------------------------------- dates


@PROPERTY_SETTINGS
@given(
    days=st.lists(dates, min_size=2, max_size=6, unique=True),
    values=st.lists(st.floats(min_value=0, max_value=1e5, **finite), min_size=6, max_size=6),
    swap=st.data(),
)
def test_schedule_dates_out_of_order_are_rejected(days: list[dt.date], values: list[float], swap: st.DataObject) -> None:
    days = sorted(days)
    i = swap.draw(st.integers(0, len(days) - 2))
    days[i], days[i + 1] = days[i + 1], days[i]
    points = [[d, v] for d, v in zip(days, values)]
    path = "appeals.hearings_per_working_day"
    with pytest.raises(ScenarioError) as info:
        _load_tree(_set_in(scenario_to_dict(BASE), path, {"interpolation": "linear", "points": points}))
    _assert_names_field(info.value, path)
    assert "out of order" in str(info.value)


@PROPERTY_SETTINGS
@given(first=dates, gap=st.integers(min_value=0, max_value=3000))
def test_end_before_start_is_rejected(first: dt.date, gap: int) -> None:
    later = first
    earlier = first - dt.timedelta(days=gap)
    cases = [
        ({"start_date": later, "end_date": earlier}, "end_date"),
        ({"providers.maximus.contract_start": later, "providers.maximus.contract_end": earlier - dt.timedelta(days=1)},
         "contract_end"),
    ]
    for overrides, word in cases:
        tree = scenario_to_dict(BASE)
        for key, value in overrides.items():
            _set_in(tree, key, value)
        with pytest.raises(ScenarioError) as info:
            _load_tree(tree)
        assert word in str(info.value)
        assert str(info.value).startswith(SOURCE)


@PROPERTY_SETTINGS
@given(first=st.dates(min_value=dt.date(2013, 10, 2), max_value=dt.date(2018, 1, 1)), gap=st.integers(0, 400))
def test_served_by_out_of_order_is_rejected(first: dt.date, gap: int) -> None:
    tree = scenario_to_dict(BASE)
    tree["regions"]["wales"]["served_by"] = [
        {"start": dt.date(2013, 10, 1), "provider": "atos"},
        {"start": first, "provider": "atos"},
        {"start": first - dt.timedelta(days=gap), "provider": "maximus"},
    ]
    with pytest.raises(ScenarioError) as info:
        _load_tree(tree)
    _assert_names_field(info.value, "regions.wales")


# -------------------------------------------------------------- unknown keys


def _field_paths(model: BaseModel, tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Dotted paths (as tuples) of every model field present in ``tree``; names of regions/providers excluded."""
    for name in type(model).model_fields:
        if name not in tree:
            continue
        path = prefix + (name,)
        yield path
        value = getattr(model, name)
        if isinstance(value, BaseModel) and isinstance(tree[name], dict) and not hasattr(value, "to_toml_value"):
            yield from _field_paths(value, tree[name], path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    yield from _field_paths(item, tree[name][key], path + (key,))


TREE = scenario_to_dict(BASE)
FIELD_PATHS = sorted(p for p in _field_paths(BASE, TREE) if len(p[-1]) >= 4)


def _one_edit(word: str) -> st.SearchStrategy[str]:
    letters = string.ascii_lowercase + "_"
    positions = st.integers(0, len(word) - 1)
    deletion = positions.map(lambda i: word[:i] + word[i + 1 :])
    substitution = st.tuples(positions, st.sampled_from(letters)).map(lambda t: word[: t[0]] + t[1] + word[t[0] + 1 :])
    insertion = st.tuples(st.integers(0, len(word)), st.sampled_from(letters)).map(lambda t: word[: t[0]] + t[1] + word[t[0] :])
    swap = st.integers(0, len(word) - 2).map(lambda i: word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return st.one_of(deletion, substitution, insertion, swap)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_misspelt_key_gets_did_you_mean(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(FIELD_PATHS))
    typo = data.draw(_one_edit(path[-1]))
    tree = scenario_to_dict(BASE)
    node = tree
    for part in path[:-1]:
        node = node[part]
    assume(typo not in node and typo != "extends")
    node[typo] = node.pop(path[-1])
    with pytest.raises(ScenarioError) as info:
        _load_tree(tree)
    message = str(info.value)
    assert info.value.field == ".".join(path[:-1] + (typo,))
    assert f"unknown key '{typo}'" in message
    assert f"did you mean '{path[-1]}'?" in message
    assert message.startswith(SOURCE)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_misspelt_override_key_gets_did_you_mean(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(FIELD_PATHS))
    typo = data.draw(_one_edit(path[-1]))
    node = TREE
    for part in path[:-1]:
        node = node[part]
    assume(typo not in node)
    key = ".".join(path[:-1] + (typo,))
    with pytest.raises(ScenarioError) as info:
        apply_overrides(BASE, {key: 1}, source="--set")
    assert f"did you mean '{path[-1]}'?" in str(info.value)
    assert info.value.field == key


# ---------------------------------------------------------------- round trip


@st.composite
def schedules(draw: st.DrawFn, low: float = 0.0, high: float = 1e5) -> Any:
    if draw(st.booleans()):
        return draw(st.floats(min_value=low, max_value=high, **finite))
    days = sorted(draw(st.lists(dates, min_size=1, max_size=5, unique=True)))
    values = draw(st.lists(st.floats(min_value=low, max_value=high, **finite), min_size=len(days), max_size=len(days)))
    return {"interpolation": draw(st.sampled_from(["step", "linear"])), "points": [[d, v] for d, v in zip(days, values)]}


@st.composite
def valid_variants(draw: st.DrawFn) -> dict[str, Any]:
    text = st.text(max_size=40)
    return {
        "name": draw(text.filter(bool)),
        "description": draw(text),
        "scale": draw(st.floats(min_value=1e-6, max_value=1.0, **finite)),
        "providers.atos.workforce.fte_at_start": draw(st.floats(min_value=0, max_value=1e6, **finite)),
        "providers.atos.workforce.attrition_per_month": draw(inside_unit_interval),
        "providers.atos.handover_policy": draw(st.sampled_from(["transfer", "run_off"])),
        "providers.maximus.workforce.hires_per_month": draw(schedules()),
        "providers.maximus.productivity.dna_rate": draw(inside_unit_interval),
        "appeals.overturn_rate": draw(schedules(0.0, 1.0)),
        "appeals.hearings_per_working_day": draw(schedules()),
        "demand.new_claims_per_month": draw(schedules()),
        "regions.london.assessment_centres": draw(st.integers(0, 1000)),
        "initial_state.tribunal_backlog": draw(st.floats(min_value=0, max_value=1e7, **finite)),
    }


@PROPERTY_SETTINGS
@given(overrides=valid_variants())
def test_dump_then_load_round_trips_for_valid_variants(overrides: dict[str, Any]) -> None:
    sc = BASE.with_overrides(overrides)
    text = dump_scenario(sc)
    again = scenario_from_toml(text, source=SOURCE)
    assert again == sc
    assert dump_scenario(again) == text
