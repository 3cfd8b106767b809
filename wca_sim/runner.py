"""run(): replications of one or more scenarios, serially or on local processes.

Work is cut into tasks addressed by ``(scenario, batch of replication ids)``.
Each task calls ``Engine.run(scenario, batch, seed)``; replication ``r`` draws
only from the random streams of ``(seed, r)``, so a task's output does not
depend on which process runs it or when. The pieces are then assembled in a
fixed order (scenarios as given, replications by id) by
:meth:`wca_sim.results.Results.concat`, which makes ``workers=1`` and
``workers=K`` bit-identical and gives every scenario common random numbers.

Parallel runs use a :class:`concurrent.futures.ProcessPoolExecutor` with the
``spawn`` start method: it works from scripts and from Jupyter alike and does
not leave a fork server behind. Workers ignore SIGINT; on Ctrl-C the parent
cancels pending tasks, terminates the workers and re-raises
:class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .engines import Engine, UnsupportedScenario, get_engine
from .results import Results, base_provenance
from .scenario import Scenario, load_scenario

ScenarioLike = Scenario | str | Path

#: Engines that vectorise over replications get few large batches.
VECTORISED_ENGINES = ("fast",)


def resolve_scenarios(scenarios: ScenarioLike | Sequence[ScenarioLike], scale: float | None = None) -> list[Scenario]:
    """Scenario objects from Scenarios, built-in names or TOML paths, with ``scale`` applied.

    Raises
    ------
    wca_sim.scenario.ScenarioError
        Unknown name, bad file, or an invalid ``scale``.
    ValueError
        If two scenarios share a name (results are keyed by name).
    """
    items = [scenarios] if isinstance(scenarios, (Scenario, str, Path)) else list(scenarios)
    if not items:
        raise ValueError("no scenarios given")
    resolved = [item if isinstance(item, Scenario) else load_scenario(item) for item in items]
    if scale is not None:
        resolved = [sc.with_overrides({"scale": scale}) for sc in resolved]
    names = [sc.name for sc in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"scenario names must be unique in one run; repeated: {', '.join(duplicates)}")
    return resolved


def default_batch_size(reps: int, workers: int, engine_name: str) -> int:
    """Replications per task: about four tasks per worker (DES), one per worker (vectorised engines)."""
    per_worker = 1 if engine_name in VECTORISED_ENGINES else 4
    return max(1, math.ceil(reps / (per_worker * max(1, workers))))


def run(
    scenarios: ScenarioLike | Sequence[ScenarioLike],
    reps: int = 1,
    seed: int = 0,
    engine: str | Engine = "des",
    workers: int = 1,
    *,
    scale: float | None = None,
    until: dict[str, float] | None = None,
    max_reps: int = 1000,
    reference: str | None = None,
    journeys: bool = False,
    progress: bool | None = None,
    batch_size: int | None = None,
) -> Results:
    """Simulate replications of one or more scenarios with common random numbers.

    Parameters
    ----------
    scenarios
        A Scenario, a built-in name or TOML path, or a sequence of those.
    reps
        Replications per scenario (ids ``0..reps-1``); the first round in precision mode.
    seed
        Root seed; replication ``r`` of every scenario uses the streams ``(seed, r, name)``.
    engine
        Engine name (``"des"``, ``"fast"``) or an engine instance (must be picklable when ``workers > 1``).
    workers
        Processes; 1 runs in this process.
    scale
        Overrides every scenario's ``scale`` when given.
    until
        Precision mode: ``{kpi: half_width}``. Replications are added in rounds until the
        paired-difference CI half-width (95%) of each KPI against ``reference`` is at most the
        target for every other scenario (with one scenario: the KPI's own CI half-width), or
        ``max_reps`` is reached. What happened is recorded in ``provenance["precision"]``.
    max_reps
        Cap on replications per scenario in precision mode.
    reference
        Reference scenario for precision mode; default the first scenario.
    journeys
        Ask the engine for per-claimant records.
    progress
        Show a progress bar (tqdm.auto); default on when stderr is a terminal or in a notebook.
    batch_size
        Replications per task; default :func:`default_batch_size`.

    Returns
    -------
    Results
        Dims ``(scenario, replication, date[, ...])``; provenance includes version, engine, seed,
        replications, scenarios, command, start and end timestamps, workers and batch size.

    Raises
    ------
    UnsupportedScenario
        If the engine refuses a scenario (message names the engine and scenario).
    KeyboardInterrupt
        On Ctrl-C, after pending work is cancelled and worker processes are stopped.
    """
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    resolved = resolve_scenarios(scenarios, scale)
    engine_obj = get_engine(engine) if isinstance(engine, str) else engine
    engine_name = engine if isinstance(engine, str) else getattr(engine, "name", type(engine).__name__)
    for sc in resolved:
        try:
            engine_obj.check(sc)
        except UnsupportedScenario as exc:
            raise UnsupportedScenario(f"engine {engine_name!r} cannot run scenario {sc.name!r}: {exc}") from exc
    # Workers import engines by name, so a registered engine travels as its name.
    engine_spec: str | Engine = engine if isinstance(engine, str) else engine_obj
    if progress is None:
        progress = _interactive()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    precision: dict[str, Any] | None = None
    if until:
        if reference is not None and reference not in [sc.name for sc in resolved]:
            raise ValueError(f"reference {reference!r} is not one of the scenarios")
        results, precision, batch = _run_until(
            resolved, reps, seed, engine_spec, engine_name, workers, until, max_reps,
            reference or resolved[0].name, journeys, progress, batch_size,
        )
    else:
        batch = batch_size or default_batch_size(reps, workers, engine_name)
        results = _run_reps(resolved, range(reps), seed, engine_spec, workers, batch, journeys, progress)

    provenance = base_provenance(engine_name, seed, results.replications, command=_command())
    provenance.update(
        {
            "started": started,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "reps": len(results.replications),
            "scenarios": [sc.name for sc in resolved],
            "scale": {sc.name: sc.scale for sc in resolved},
            "workers": workers,
            "batch_size": batch,
            "journeys": journeys,
        }
    )
    if precision is not None:
        provenance["precision"] = precision
    results.provenance = provenance
    return results


def _run_until(
    scenarios: list[Scenario], reps: int, seed: int, engine_spec: str | Engine, engine_name: str, workers: int,
    until: dict[str, float], max_reps: int, reference: str, journeys: bool, progress: bool, batch_size: int | None,
) -> tuple[Results, dict[str, Any], int]:
    """Add replications in rounds until every target half-width is met or ``max_reps`` is reached."""
    from .analysis import precision_half_widths  # the CI arithmetic lives in one place

    for kpi, target in until.items():
        if not target > 0:
            raise ValueError(f"until[{kpi!r}] must be a positive half-width, got {target}")
    n = min(max(reps, 2), max_reps)  # a CI needs at least two replications
    rounds: list[dict[str, Any]] = []
    parts: list[Results] = []
    done = 0
    batch = batch_size or default_batch_size(n, workers, engine_name)
    while True:
        parts.append(_run_reps(scenarios, range(done, n), seed, engine_spec, workers, batch, journeys, progress))
        done = n
        results = Results.concat(parts) if len(parts) > 1 else parts[0]
        widths = precision_half_widths(results, list(until), reference)
        worst = {kpi: max(widths[kpi].values()) for kpi in until}
        met = all(worst[k] <= until[k] for k in until)
        rounds.append({"reps": n, "half_widths": widths, "met": met})
        if met or n >= max_reps:
            break
        # Half-widths shrink like 1/sqrt(n): aim for the target with 10% to spare, at least 20% more.
        ratio = max(worst[k] / until[k] for k in until)
        wanted = math.ceil(n * 1.1 * ratio**2) if math.isfinite(ratio) else 2 * n
        n = min(max_reps, max(wanted, math.ceil(1.2 * n), n + 1))
        batch = batch_size or default_batch_size(n - done, workers, engine_name)
    precision = {
        "targets": dict(until),
        "reference": reference,
        "level": 0.95,
        "max_reps": max_reps,
        "met": rounds[-1]["met"],
        "final_reps": done,
        "rounds": rounds,
    }
    return results, precision, batch


def _run_reps(
    scenarios: list[Scenario], replications: range, seed: int, engine_spec: str | Engine, workers: int,
    batch_size: int, journeys: bool, progress: bool,
) -> Results:
    """Run ``replications`` of every scenario and assemble the pieces in a fixed order."""
    reps = list(replications)
    tasks = [
        (i, tuple(reps[start : start + batch_size]))
        for i in range(len(scenarios))
        for start in range(0, len(reps), batch_size)
    ]
    from tqdm.auto import tqdm

    with tqdm(total=len(scenarios) * len(reps), disable=not progress, unit="rep", desc="replications") as bar:
        if workers == 1 or len(tasks) == 1:
            engine = get_engine(engine_spec) if isinstance(engine_spec, str) else engine_spec
            pieces = {
                key: _run_task(engine, scenarios[key[0]], key[1], seed, journeys, bar.update) for key in tasks
            }
        else:
            pieces = _run_pool(tasks, scenarios, seed, engine_spec, workers, journeys, bar.update)
    return Results.concat([pieces[key] for key in tasks])


def _run_task(
    engine: Engine, scenario: Scenario, batch: tuple[int, ...], seed: int, journeys: bool,
    progress: Callable[[int], None] | None,
) -> Results:
    """One task in this process; ``progress`` is passed on so the bar moves per replication."""
    return engine.run(scenario, batch, seed, journeys=journeys, progress=progress)


def _worker_init() -> None:
    # Ctrl-C in a terminal reaches the whole process group; only the parent
    # should react, and it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool_task(engine_spec: str | Engine, scenario: Scenario, batch: tuple[int, ...], seed: int, journeys: bool) -> Results:
    engine = get_engine(engine_spec) if isinstance(engine_spec, str) else engine_spec
    return engine.run(scenario, batch, seed, journeys=journeys, progress=None)


def _run_pool(
    tasks: list[tuple[int, tuple[int, ...]]], scenarios: list[Scenario], seed: int, engine_spec: str | Engine,
    workers: int, journeys: bool, update: Callable[[int], None],
) -> dict[tuple[int, tuple[int, ...]], Results]:
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context, initializer=_worker_init)
    futures: dict[Future, tuple[int, tuple[int, ...]]] = {}
    pieces: dict[tuple[int, tuple[int, ...]], Results] = {}
    try:
        for key in tasks:
            futures[executor.submit(_pool_task, engine_spec, scenarios[key[0]], key[1], seed, journeys)] = key
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                key = futures[future]
                pieces[key] = future.result()  # re-raises a task's exception here
                update(len(key[1]))
    except BaseException:
        # Ctrl-C or a failed task: nothing more is wanted from the pool.
        _stop_pool(executor, futures)
        raise
    executor.shutdown(wait=True)
    return pieces


def _stop_pool(executor: ProcessPoolExecutor, futures: dict[Future, Any]) -> None:
    """Cancel what has not started and terminate the worker processes."""
    for future in futures:
        future.cancel()
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def _interactive() -> bool:
    """True in a terminal or a Jupyter kernel: where a progress bar helps."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _command() -> str:
    """How this process was started (the script or console command and its arguments)."""
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    return " ".join(argv)
