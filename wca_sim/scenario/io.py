"""Load, dump, override and compare scenarios.

Every failure raises :class:`ScenarioError`, whose message names the file and
the dotted field, so the CLI can print one line and exit with status 2.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from .model import Scenario
from .schedule import Schedule

BUILTIN_PACKAGE = "wca_sim.scenario.builtin"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded or validated.

    Attributes
    ----------
    source
        The file, built-in name or "overrides" the problem came from.
    field
        The dotted field at fault, or None when the whole input is at fault.
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None) -> None:
        self.source = source
        self.field = field
        where = ", ".join(part for part in (source, f"field '{field}'" if field else None) if part)
        super().__init__(f"{where}: {message}" if where else message)


# ----------------------------------------------------------------- built-ins


def builtin_names() -> list[str]:
    """Names of the scenarios shipped in the package."""
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(
        p.name.removesuffix(".toml")
        for p in folder.iterdir()
        if p.name.endswith(".toml") and not p.name.startswith("_")
    )


def _builtin_text(name: str) -> str:
    return resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")


def _is_builtin_file(name: str) -> bool:
    return resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.toml").is_file()


# ------------------------------------------------------------------- loading


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name, or a scenario TOML file by path.

    Parameters
    ----------
    name_or_path
        A name from :func:`builtin_names` (e.g. ``"early-exit"``) or a path to a TOML file.

    Raises
    ------
    ScenarioError
        Unknown name, missing or malformed file, or invalid content.

    Examples
    --------
    >>> import wca_sim as ws
    >>> sc = ws.load_scenario("early-exit")
    >>> sc.providers["atos"].exit_announced
    datetime.date(2014, 3, 27)
    """
    text = str(name_or_path)
    if text in builtin_names():
        return scenario_from_toml(_builtin_text(text), source=f"built-in scenario '{text}'")
    path = Path(text)
    if path.suffix.lower() != ".toml" and not path.exists():
        suggestion = _did_you_mean(text, builtin_names())
        raise ScenarioError(
            f"unknown scenario {text!r}{suggestion}; built-in scenarios: {', '.join(builtin_names())}",
            source=None,
        )
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from exc
    return scenario_from_toml(content, source=str(path), base_dir=path.parent)


def scenario_from_toml(text: str, source: str = "<string>", base_dir: Path | None = None) -> Scenario:
    """Parse and validate scenario TOML text.

    A top-level ``extends = "NAME_OR_PATH"`` loads that scenario (built-in name,
    or a path relative to ``base_dir``) and applies this file's tables over it:
    tables merge key by key, any other value replaces the base's.
    """
    return scenario_from_dict(_read_toml_tree(text, source, base_dir, seen=()), source=source)


def _read_toml_tree(text: str, source: str, base_dir: Path | None, seen: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"malformed TOML: {exc}", source=source) from exc
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError("must be a scenario name or a path", source=source, field="extends")
    if parent in seen:
        raise ScenarioError(f"circular extends through {parent!r}", source=source, field="extends")
    if _is_builtin_file(parent):
        base = _read_toml_tree(_builtin_text(parent), f"built-in scenario '{parent}'", None, seen + (parent,))
    else:
        path = (base_dir or Path.cwd()) / parent
        try:
            parent_text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read {path}: {exc.strerror or exc}", source=source, field="extends") from exc
        base = _read_toml_tree(parent_text, str(path), path.parent, seen + (parent,))
    return _merge(base, data)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def scenario_from_dict(data: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a nested dict (as read from TOML) into a Scenario."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _to_scenario_error(exc, data, source) from None


def _to_scenario_error(exc: ValidationError, data: dict[str, Any], source: str) -> ScenarioError:
    """One clear message from pydantic's first error, with a did-you-mean for unknown keys."""
    errors = exc.errors()
    # A misspelt key shows up twice: as an unknown key and as a missing field.
    # The unknown key (with its did-you-mean) is the useful one, so report it first.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    # Schedules accept a number or a table, so pydantic reports both branches;
    # drop the branch tags ('function-before[...]') from the location.
    loc = [str(p) for p in error["loc"] if not str(p).startswith(("function-", "constrained-"))]
    field = ".".join(loc) or None
    # pydantic prefixes messages from our validators with "Value error, ".
    message = error["msg"].removeprefix("Value error, ")
    if field is None:
        # Whole-scenario checks name the field at the start of their message ("regions.x.served_by: ...").
        match = re.match(r"^([A-Za-z_][\w.]*\.[\w.]+): (.+)$", message)
        if match:
            field, message = match.group(1), match.group(2)
    if error["type"] == "extra_forbidden" and loc:
        known = _known_keys(loc[:-1])
        message = f"unknown key '{loc[-1]}'{_did_you_mean(loc[-1], known)}"
    elif error["type"] == "missing":
        message = "required field is missing"
    else:
        given = error.get("input")
        if not isinstance(given, (dict, list, tuple)) and "input" in error and str(given) not in message:
            message = f"{message} (got {given!r})"
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(message, source=source, field=field)


def _known_keys(path: list[str]) -> list[str]:
    """Field names of the model found at ``path`` in the Scenario tree ([] if none)."""
    model: Any = Scenario
    name_expected = False  # inside dict[str, Model] (or tuple[Model, ...]) the next part is a name (index), not a field
    for part in path:
        if name_expected:
            name_expected = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        info = model.model_fields.get(part)
        if info is None:
            return []
        name_expected = getattr(info.annotation, "__origin__", None) in (dict, tuple, list)
        model = _inner_model(info.annotation)
    if name_expected or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return list(model.model_fields)


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside an annotation such as ``dict[str, Provider]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ------------------------------------------------------------------- dumping


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain nested dict in TOML form: schedules as numbers or tables, no None values."""
    return _toml_ready(scenario)


def _toml_ready(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_toml_value()
    if isinstance(value, BaseModel):
        out = {}
        for name in type(value).model_fields:
            item = getattr(value, name)
            if item is not None:
                out[name] = _toml_ready(item)
        return out
    if isinstance(value, dict):
        return {k: _toml_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_toml_ready(v) for v in value]
    return value


def dump_scenario(scenario: Scenario) -> str:
    """TOML text that :func:`scenario_from_toml` loads back to an equal Scenario."""
    return tomli_w.dumps(scenario_to_dict(scenario))


def save_scenario(scenario: Scenario, path: str | Path) -> None:
    """Write a scenario as TOML."""
    Path(path).write_text(dump_scenario(scenario), encoding="utf-8")


# ----------------------------------------------------------------- overrides


def parse_override(text: str, source: str = "--set") -> tuple[str, Any]:
    """Parse ``key=value`` where the value is a TOML value (number, string, date, table...).

    A value that is not valid TOML is taken as a bare string, so
    ``--set providers.atos.handover_policy=run_off`` works without quotes.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise ScenarioError(f"expected KEY=VALUE, got {text!r}", source=source)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def apply_overrides(scenario: Scenario, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
    """A new Scenario with each dotted key of ``overrides`` set to its value."""
    data = scenario_to_dict(scenario)
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        walked: list[str] = []
        for part in parts[:-1]:
            if not isinstance(node, dict):
                raise ScenarioError(f"'{'.'.join(walked)}' is a value, not a table", source=source, field=key)
            if part not in node:
                known = list(node) or _known_keys(walked)
                raise ScenarioError(f"unknown key '{part}'{_did_you_mean(part, known)}", source=source, field=key)
            node = node[part]
            walked.append(part)
        last = parts[-1]
        if not isinstance(node, dict):
            raise ScenarioError(f"'{'.'.join(walked)}' is a value, not a table", source=source, field=key)
        known = set(node) | set(_known_keys(walked))
        if last not in known:
            raise ScenarioError(f"unknown key '{last}'{_did_you_mean(last, sorted(known))}", source=source, field=key)
        node[last] = value
    return scenario_from_dict(data, source=source)


# ---------------------------------------------------------------------- diff


def diff(a: Scenario, b: Scenario) -> dict[str, tuple[Any, Any]]:
    """Dotted keys whose values differ between two scenarios: ``{key: (value_in_a, value_in_b)}``.

    A key present in only one scenario shows ``None`` on the other side.
    """
    out: dict[str, tuple[Any, Any]] = {}
    _diff_into(scenario_to_dict(a), scenario_to_dict(b), "", out)
    return out


def _diff_into(a: Any, b: Any, prefix: str, out: dict[str, tuple[Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            _diff_into(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else key, out)
    elif a != b:
        out[prefix] = (a, b)

