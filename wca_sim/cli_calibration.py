"""``wca-sim validate``, ``wca-sim calibrate`` and ``wca-sim report``.

Wired into :mod:`wca_sim.cli` by :func:`add_calibration_parsers` (adds the
three sub-commands) and :func:`run_calibration_command` (runs the chosen one
and returns the exit status). Every user error is one line on stderr with exit
status 2, found before anything is written; 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from .cli_types import positive_int as _positive_int, scale as _scale

CALIBRATION_COMMANDS = ("validate", "calibrate", "report")


class CalibrationUsageError(Exception):
    """Bad input to a calibration command: one line on stderr, exit status 2."""


def _param(text: str) -> tuple[str, tuple[float, float]]:
    key, sep, spec = text.partition("=")
    low, colon, high = spec.partition(":")
    try:
        if not sep or not colon or not key.strip():
            raise ValueError
        bounds = (float(low), float(high))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KEY=LOW:HIGH, got {text!r}") from None
    if not bounds[0] < bounds[1]:
        raise argparse.ArgumentTypeError(f"{key}: LOW must be below HIGH, got {spec!r}")
    return key.strip(), bounds


def _engines() -> list[str]:
    from .engines import engine_names

    return engine_names()


def add_calibration_parsers(subparsers: Any) -> None:
    """Add ``validate``, ``calibrate`` and ``report`` to the ``wca-sim`` sub-command parsers."""
    v = subparsers.add_parser(
        "validate",
        help="compare a scenario with every mappable published figure",
        description="Run a scenario (default as-happened) and print, for every published figure the mapping "
        "can use: published value, model mean, model 90%% interval across replications, inside or not, and "
        "the share inside.",
    )
    v.add_argument("scenario", nargs="?", default="as-happened", metavar="SCENARIO",
                   help="built-in name or TOML file (default as-happened)")
    v.add_argument("--figures", metavar="FILE", type=Path,
                   help="figures CSV with columns key,value,unit,period,source_url,note (default: the shipped one)")
    v.add_argument("--targets", metavar="FILE", type=Path, help="mapping TOML (default: the shipped targets.toml)")
    v.add_argument("--reps", type=_positive_int, default=20, metavar="N", help="replications (default 20)")
    v.add_argument("--seed", type=int, default=0, metavar="S", help="root random seed (default 0)")
    v.add_argument("--engine", choices=_engines(), default="fast", help="simulation engine (default fast)")
    v.add_argument("--scale", type=_scale, metavar="F", help="fraction of claimants simulated (default: the scenario's)")
    v.add_argument("--workers", type=_positive_int, default=1, metavar="K", help="local worker processes (default 1)")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario parameter by its dotted key (repeatable)")
    v.add_argument("--out", type=Path, metavar="DIR", help="also write validation.csv and the run's files into DIR")

    c = subparsers.add_parser(
        "calibrate",
        help="fit uncertain parameters to the published figures",
        description="Fit parameters to the published figures by least squares on standardised errors with the "
        "fast engine, confirm with the DES, and write the calibrated scenario and a fit report into --out.",
    )
    c.add_argument("scenario", nargs="?", default="as-happened", metavar="SCENARIO",
                   help="built-in name or TOML file (default as-happened)")
    c.add_argument("--param", dest="params", action="append", type=_param, default=[], metavar="KEY=LOW:HIGH",
                   help="parameter to fit and its range; KEY may index a list (initial_state.provider_queue.0.count) "
                   "or end in ':scale' to scale a schedule; repeatable (default: the standard set of docs/model.md)")
    c.add_argument("--figures", metavar="FILE", type=Path, help="figures CSV (default: the shipped one)")
    c.add_argument("--targets", metavar="FILE", type=Path, help="mapping TOML (default: the shipped one)")
    c.add_argument("--reps", type=_positive_int, default=8, metavar="N", help="replications per evaluation (default 8)")
    c.add_argument("--max-evals", type=_positive_int, default=60, metavar="N", help="cap on evaluations (default 60)")
    c.add_argument("--seed", type=int, default=0, metavar="S", help="root random seed (default 0)")
    c.add_argument("--engine", choices=_engines(), default="fast", help="fitting engine (default fast)")
    c.add_argument("--scale", type=_scale, metavar="F", help="scale of the fitting runs (default: the scenario's)")
    c.add_argument("--confirm-engine", default="des", metavar="E", help="engine confirming the fit, or 'none' (default des)")
    c.add_argument("--confirm-reps", type=_positive_int, default=4, metavar="N", help="confirmation replications (default 4)")
    c.add_argument("--confirm-scale", type=_scale, default=0.05, metavar="F", help="confirmation scale (default 0.05)")
    c.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the calibrated scenario and report")

    r = subparsers.add_parser(
        "report",
        help="write a Markdown report (STRESS-DES) for saved results",
        description="Write DIR/report.md for a folder written by 'run' or 'compare' --out, filling the "
        "experimentation and implementation items from its provenance.",
    )
    r.add_argument("directory", metavar="DIR", type=Path, help="folder holding timeseries.nc, kpis.csv, provenance.json")
    r.add_argument("--validate", action="store_true", help="add a table against the shipped published figures")


def run_calibration_command(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run ``args.command`` (one of :data:`CALIBRATION_COMMANDS`); returns the exit status."""
    from .calibration.targets import TargetError
    from .scenario import ScenarioError

    try:
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "calibrate":
            return _cmd_calibrate(args)
        return _cmd_report(args)
    except (CalibrationUsageError, TargetError, ScenarioError) as exc:
        message = " ".join(str(exc).split())
        print(f"wca-sim: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wca-sim: interrupted", file=sys.stderr)
        return 130


def _scenario(args: argparse.Namespace) -> Any:
    from .scenario import load_scenario, parse_override

    scenario = load_scenario(args.scenario)
    overrides: dict[str, Any] = {}
    for text in getattr(args, "overrides", []):
        key, value = parse_override(text)
        overrides[key] = value
    return scenario.with_overrides(overrides) if overrides else scenario


def _cmd_validate(args: argparse.Namespace) -> int:
    from .calibration import format_table, load_targets, validation_table
    from .runner import run

    scenario = _scenario(args)
    targets = load_targets(args.targets, args.figures)
    if not targets:
        raise CalibrationUsageError("no figure of the figures file is mapped to a model output")
    results = run(scenario, reps=args.reps, seed=args.seed, engine=args.engine, scale=args.scale,
                  workers=args.workers, progress=None)
    table = validation_table(results, targets)
    print(f"Validation of {scenario.name} ({args.engine} engine, {args.reps} replications, seed {args.seed}):")
    print(format_table(table))
    if args.out is not None:
        from .io_util import atomic_directory
        from .results import write_results_files

        with atomic_directory(args.out) as tmp:
            write_results_files(results, tmp)
            table.to_csv(tmp / "validation.csv", index=False)
        print(f"wrote {args.out}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibration import load_targets
    from .calibration.fit import DEFAULT_PARAMS, calibrate, get_parameter

    scenario = _scenario(args)
    targets = load_targets(args.targets, args.figures)
    params = dict(args.params) if args.params else dict(DEFAULT_PARAMS)
    for key in params:  # fail before running anything
        try:
            get_parameter(scenario, key)
        except (KeyError, IndexError, ValueError, TypeError):
            raise CalibrationUsageError(f"--param {key}: not a numeric parameter of {scenario.name}") from None
    confirm = None if args.confirm_engine.lower() == "none" else args.confirm_engine
    if confirm is not None and confirm not in _engines():
        raise CalibrationUsageError(f"--confirm-engine: unknown engine {confirm!r} (one of {', '.join(_engines())}, none)")

    def progress(n: int, objective: float) -> None:
        print(f"evaluation {n}: objective {objective:.4g}", file=sys.stderr, flush=True)

    cal = calibrate(scenario, targets, params, engine=args.engine, reps=args.reps, seed=args.seed, scale=args.scale,
                    max_evals=args.max_evals, confirm_engine=confirm, confirm_reps=args.confirm_reps,
                    confirm_scale=args.confirm_scale, out=args.out, progress=progress)
    print(f"objective {cal.info['objective_start']:.4g} -> {cal.info['objective_best']:.4g} "
          f"in {cal.info['evaluations']} evaluations")
    for key, value in cal.values.items():
        print(f"  {key} = {value:.6g}   (start {cal.start[key]:.6g})")
    print(f"wrote {args.out / ('scenario-' + cal.scenario.name + '.toml')} and {args.out / 'fit_report.md'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    folder = args.directory
    for needed in ("timeseries.nc", "kpis.csv", "provenance.json"):
        if not (folder / needed).is_file():
            raise CalibrationUsageError(f"{folder}: no saved results here ({needed} is missing)")
    try:
        path = write_report(folder, validate=args.validate)
    except (OSError, ValueError) as exc:
        raise CalibrationUsageError(f"{folder}: cannot read saved results: {exc}") from None
    print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (the same commands as ``wca-sim validate|calibrate|report``)."""
    parser = argparse.ArgumentParser(prog="wca-sim")
    sub = parser.add_subparsers(dest="command", required=True)
    add_calibration_parsers(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run_calibration_command(args, argv)


if __name__ == "__main__":
    sys.exit(main())
