"""Loading scenarios (built-ins, files, ``extends``), overrides, diff and the TOML round trip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import wca_sim as ws
from wca_sim.scenario import (
    ScenarioError,
    apply_overrides,
    builtin_names,
    diff,
    dump_scenario,
    load_scenario,
    parse_override,
    save_scenario,
    scenario_from_toml,
)

BUILTINS = ["run-to-aug-2015", "early-exit", "add-providers"]


# ---------------------------------------------------------------- built-ins


def test_builtin_names_are_the_contract_scenarios() -> None:
    assert set(BUILTINS) <= set(builtin_names())
    # files starting with "_" are shared bases, not scenarios
    assert not any(name.startswith("_") for name in builtin_names())


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_meets_the_brief(name: str) -> None:
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.description
    # horizon: MR (28 Oct 2013) inside, and at least to 31 Mar 2017
    assert sc.start_date <= dt.date(2013, 10, 1)
    assert sc.end_date >= dt.date(2017, 3, 31)
    # a run never starts from empty
    assert sum(q.count for q in sc.initial_state.provider_queue) > 0
    assert sc.initial_state.tribunal_backlog > 0
    assert "atos" in sc.providers


def test_builtins_differ_only_in_contract_arrangements() -> None:
    base = load_scenario("run-to-aug-2015")
    for other in ("early-exit", "add-providers"):
        changed = diff(base, load_scenario(other))
        top_levels = {key.split(".")[0] for key in changed}
        assert top_levels <= {"name", "description", "providers", "regions"}, top_levels


def test_early_exit_dates() -> None:
    sc = load_scenario("early-exit")
    assert sc.providers["atos"].exit_announced == dt.date(2014, 3, 27)
    assert sc.providers["maximus"].contract_start == dt.date(2015, 3, 1)
    assert sc.regions["london"].provider_on(dt.date(2015, 2, 28)) == "atos"
    assert sc.regions["london"].provider_on(dt.date(2015, 3, 1)) == "maximus"


def test_unknown_builtin_name_suggests_the_closest() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("early-exti")
    assert "unknown scenario 'early-exti'" in str(info.value)
    assert "did you mean 'early-exit'" in str(info.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)


# -------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", BUILTINS)
def test_dump_then_load_gives_an_equal_scenario(name: str, tmp_path: Path) -> None:
    sc = load_scenario(name)
    assert scenario_from_toml(dump_scenario(sc)) == sc
    path = tmp_path / f"{name}.toml"
    save_scenario(sc, path)
    again = load_scenario(path)
    assert again == sc
    assert diff(sc, again) == {}


# ------------------------------------------------------------------ extends


def test_extends_a_builtin_and_merges_tables(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'extends = "early-exit"\nname = "mine"\n'
        "[providers.maximus.workforce]\nhires_per_month = 120\n",
        encoding="utf-8",
    )
    sc = load_scenario(path)
    base = load_scenario("early-exit")
    assert sc.name == "mine"
    assert sc.providers["maximus"].workforce.hires_per_month.at(dt.date(2016, 1, 1)) == 120.0
    # tables merge key by key: the rest of maximus's workforce is kept
    assert sc.providers["maximus"].workforce.transfer_share == base.providers["maximus"].workforce.transfer_share
    assert set(diff(base, sc)) == {"name", "providers.maximus.workforce.hires_per_month"}


def test_extends_a_relative_path_chain(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.toml").write_text('extends = "run-to-aug-2015"\nname = "a"\nscale = 0.5\n', encoding="utf-8")
    (tmp_path / "sub" / "b.toml").write_text('extends = "../a.toml"\nname = "b"\n', encoding="utf-8")
    sc = load_scenario(tmp_path / "sub" / "b.toml")
    assert sc.name == "b" and sc.scale == 0.5


def test_circular_extends_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname = "a"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname = "b"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(tmp_path / "a.toml")


def test_extends_missing_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('extends = "missing.toml"\nname = "a"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == "extends"
    assert str(path) in str(info.value)


# ------------------------------------------------------------- bad content


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('extends = "early-exit"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("[providers.atos.workforce]\nattrtion_per_month = 0.1\n", "providers.atos.workforce.attrtion_per_month",
         ["unknown key", "did you mean 'attrition_per_month'"]),
        ("[providers.atos.workforce]\nfte_at_start = \"many\"\n", "providers.atos.workforce.fte_at_start",
         ["many"]),
        ("[providers.atos.productivity]\ndna_rate = 1.2\n", "providers.atos.productivity.dna_rate", ["1"]),
        ("[providers.atos.workforce]\nfte_at_start = -5\n", "providers.atos.workforce.fte_at_start", ["0"]),
        ("[appeals]\noverturn_rate = -0.1\n", "appeals.overturn_rate", ["-0.1"]),
        ("[appeals]\nhearings_per_working_day = { points = [[2015-01-01, 5.0], [2014-01-01, 6.0]] }\n",
         "appeals.hearings_per_working_day.points", ["out of order"]),
        ("[providers.atos]\ncontract_end = 2001-01-01\n", "providers.atos", ["contract_end"]),
    ],
)
def test_bad_file_content_names_file_and_field(tmp_path: Path, body: str, field: str, words: list[str]) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert info.value.field == field
    assert str(path) in message and f"field '{field}'" in message
    for word in words:
        assert word in message
    assert "\n" not in message


def test_dates_out_of_order_at_the_top_level(tmp_path: Path) -> None:
    path = _write(tmp_path, "end_date = 2013-01-01\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "end_date" in str(info.value) and str(path) in str(info.value)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = \"x\"\n[providers\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value) and "malformed TOML" in str(info.value)


# ----------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scale=0.1", ("scale", 0.1)),
        ("end_date=2014-06-30", ("end_date", dt.date(2014, 6, 30))),
        ("providers.atos.handover_policy=run_off", ("providers.atos.handover_policy", "run_off")),
        ('name="x y"', ("name", "x y")),
        ("report_dates=[2014-04-30, 2014-06-30]", ("report_dates", [dt.date(2014, 4, 30), dt.date(2014, 6, 30)])),
        (" a.b = 3 ", ("a.b", 3)),
    ],
)
def test_parse_override(text: str, expected: tuple[str, object]) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["scale", "=3", "scale=", "  =  "])
def test_parse_override_rejects_malformed(text: str) -> None:
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        parse_override(text)


def test_overrides_set_nested_values_and_leave_the_original_alone() -> None:
    sc = load_scenario("early-exit")
    sc2 = sc.with_overrides(
        {
            "providers.maximus.workforce.hires_per_month": 120,
            "providers.atos.handover_policy": "run_off",
            "end_date": dt.date(2014, 6, 30),
            "report_dates": [dt.date(2014, 4, 30)],
        }
    )
    assert sc2.providers["maximus"].workforce.hires_per_month.at(dt.date(2016, 1, 1)) == 120.0
    assert sc2.providers["atos"].handover_policy == "run_off"
    assert sc2.end_date == dt.date(2014, 6, 30)
    assert sc.end_date == dt.date(2017, 3, 31)
    assert set(diff(sc, sc2)) == {
        "providers.maximus.workforce.hires_per_month",
        "providers.atos.handover_policy",
        "end_date",
        "report_dates",
    }


def test_override_of_an_optional_field_not_set_in_the_file() -> None:
    sc = load_scenario("run-to-aug-2015")
    assert sc.providers["atos"].exit_announced is None
    sc2 = sc.with_overrides({"providers.atos.exit_announced": dt.date(2014, 3, 27)})
    assert sc2.providers["atos"].exit_announced == dt.date(2014, 3, 27)


def test_override_with_a_schedule_table() -> None:
    sc = load_scenario("early-exit")
    _, value = parse_override(
        'providers.maximus.workforce.hires_per_month={interpolation="linear", points=[[2015-03-01, 0.0], [2015-09-01, 80.0]]}'
    )
    sc2 = sc.with_overrides({"providers.maximus.workforce.hires_per_month": value})
    assert sc2.providers["maximus"].workforce.hires_per_month.at(dt.date(2015, 6, 1)) == pytest.approx(
        80.0 * (dt.date(2015, 6, 1) - dt.date(2015, 3, 1)).days / (dt.date(2015, 9, 1) - dt.date(2015, 3, 1)).days
    )


@pytest.mark.parametrize(
    ("key", "value", "field", "words"),
    [
        ("providers.atoss.workforce.fte_at_start", 3, "providers.atoss.workforce.fte_at_start",
         ["unknown key 'atoss'", "did you mean 'atos'"]),
        ("demand.new_claims_per_mnth", 3, "demand.new_claims_per_mnth", ["did you mean 'new_claims_per_month'"]),
        ("scale.x", 3, "scale.x", ["is a value, not a table"]),
        ("scale", 0.0, "scale", ["greater than 0"]),
        ("providers.atos.workforce.attrition_per_month", 1.5, "providers.atos.workforce.attrition_per_month", ["1"]),
    ],
)
def test_bad_overrides(key: str, value: object, field: str, words: list[str]) -> None:
    sc = load_scenario("early-exit")
    with pytest.raises(ScenarioError) as info:
        apply_overrides(sc, {key: value}, source="--set")
    assert info.value.field == field
    assert str(info.value).startswith("--set")
    for word in words:
        assert word in str(info.value)


# ---------------------------------------------------------------------- diff


def test_diff_is_empty_for_equal_and_symmetric_otherwise() -> None:
    a = load_scenario("run-to-aug-2015")
    b = load_scenario("early-exit")
    assert diff(a, a) == {}
    forward = diff(a, b)
    backward = diff(b, a)
    assert set(forward) == set(backward)
    assert all(forward[k] == backward[k][::-1] for k in forward)
    assert forward["providers.atos.contract_end"] == (dt.date(2015, 8, 31), dt.date(2015, 2, 28))
    # a provider only in one scenario shows None on the other side
    only_a, only_b = forward["providers.maximus"]
    assert only_a is None and only_b["contract_start"] == dt.date(2015, 3, 1)


def test_public_api_names() -> None:
    sc = ws.load_scenario("early-exit")
    assert isinstance(sc, ws.Scenario)
    assert ws.diff(sc, sc) == {}
