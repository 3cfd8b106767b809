"""``sweep()``: evaluate a model over a design, resumably, on any backend.

The work is cut into *units* (one point, a fixed block of its replications)
and units are grouped into *tasks* big enough to amortise scheduling. A unit's
random numbers come only from ``(seed, replication, stream)``
(:mod:`wca_sim.streams`), so the results do not depend on how units are
grouped, on the backend, on the number of workers or on the order in which
tasks finish. Finished tasks go to the :class:`~.store.SweepStore` at once; a
rerun with the same arguments and output folder computes only what is missing
and assembles the same Dataset, bit for bit.

Replications: with ``crn=True`` (the default) every point runs replications
``0..reps-1``, i.e. common random numbers across points, which removes most
Monte Carlo noise from differences between points. With ``crn=False`` point
``p`` runs replications ``p*reps .. p*reps+reps-1`` (independent streams).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .backends import Backend, make_backend
from .designs import Param, make_design
from .models import EngineModel, kpi_table_to_array
from .store import SweepStore, part_from_arrays

#: Evaluations (point x replication) per task when the caller does not say:
#: big enough to amortise scheduling, small enough to checkpoint often.
DEFAULT_TASK_EVALUATIONS = 200


@dataclass(frozen=True)
class Unit:
    """One point and a block of its replications (within-point indices)."""

    point: int
    reps: tuple[int, ...]


@dataclass
class Task:
    """What a worker needs to evaluate a group of units."""

    model: Any
    base: Any
    seed: int
    units: list[Unit]
    overrides: list[dict[str, Any]]
    rep_offsets: list[int]


def run_task(task: Task) -> pd.DataFrame:
    """Evaluate a task's units (runs on a worker). Returns the long part table."""
    apply = getattr(task.model, "apply", None)
    names, arrays = [], []
    for unit, overrides, offset in zip(task.units, task.overrides, task.rep_offsets):
        scenario = apply(task.base, overrides) if apply else (task.base.with_overrides(overrides) if overrides else task.base)
        stream_reps = [offset + r for r in unit.reps]
        kpi_names, array = kpi_table_to_array(task.model(scenario, stream_reps, task.seed), stream_reps)
        names.append(kpi_names)
        arrays.append(array)
    return part_from_arrays([u.point for u in task.units], names, arrays, [u.reps for u in task.units])


def sweep(
    base: Any,
    params: Mapping[str, Any] | Sequence[Param],
    design: str = "lhs",
    points: int = 16,
    reps: int = 1,
    *,
    engine: str = "fast",
    model: Callable[..., Any] | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    scale: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    client: Any = None,
    scheduler: str | None = None,
    workers: int = 1,
    cluster: str | None = None,
    batch_size: int | None = None,
    reps_per_task: int | None = None,
    crn: bool = True,
    num_levels: int = 4,
    retries: int = 3,
    progress: bool | Callable[[int, int], None] | None = None,
    overwrite: bool = False,
    command: str | None = None,
) -> xr.Dataset:
    """Run a parameter sweep and return its results as one Dataset.

    Parameters
    ----------
    base
        The base scenario: a Scenario, a built-in name or TOML path, or (for
        analytic models) a :class:`~.models.ParamSet`.
    params
        ``{dotted_key: (low, high) | [v1, v2, ...]}`` or a list of :class:`Param`.
    design, points, num_levels
        See :func:`~.designs.make_design`.
    reps
        Replications per point.
    engine
        Engine of the default model (``"fast"`` or ``"des"``); ignored when ``model`` is given.
    model
        A model callable (:mod:`.models`); default ``EngineModel(engine)``.
    seed
        Root seed: fixes the design and every replication's random streams.
    out
        Output folder. Finished tasks are stored there as they complete; a
        rerun with the same arguments resumes. The final files (``sweep.nc``,
        ``kpis.csv``, ``scenario-*.toml``, ``provenance.json``) are written at the end.
    scale, overrides
        Applied to the base scenario before the design's values.
    client, scheduler, workers, cluster
        Execution backend (:func:`~.backends.make_backend`).
    batch_size
        Evaluations (point x replication) per task; default
        :data:`DEFAULT_TASK_EVALUATIONS` or fewer so every worker gets work.
    reps_per_task
        Split a point's replications into blocks of this size (default: all in one).
    crn
        Common random numbers across points (see module docstring).
    retries
        Retries of failed or lost tasks.
    progress
        True for a tqdm bar, a callable ``f(done_points, total_points)``, or None/False.
    overwrite
        Discard stored results of a *different* sweep in ``out``.

    Returns
    -------
    xarray.Dataset
        Variable ``kpis`` with dims ``(point, replication, kpi)``; one
        coordinate per parameter along ``point``; attrs ``sweep`` (JSON
        specification) and ``provenance`` (JSON).
    """
    from ..results import base_provenance

    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    base = _resolve_base(base, scale, overrides)
    model = model if model is not None else EngineModel(engine)
    table, info = make_design(params, design, points, seed, num_levels=num_levels)
    keys = list(table.columns)
    _check_points(model, base, table)

    from .. import __version__

    # What fixes the results. Batching and backend are left out on purpose: they
    # do not change any number, so a rerun may use other workers or batch sizes.
    manifest = {
        "design": info,
        "reps": reps,
        "seed": seed,
        "crn": crn,
        "version": __version__,
        "model": _describe(model),
        "base": {"name": getattr(base, "name", None), "sha256": _base_hash(base)},
    }
    store = SweepStore(out)
    store.open(manifest, table, overwrite=overwrite)
    done = store.finished()

    block = reps_per_task or reps
    units = [
        Unit(p, tuple(range(lo, min(lo + block, reps))))
        for p in range(len(table))
        for lo in range(0, reps, block)
        if not all((p, r) in done for r in range(lo, min(lo + block, reps)))
    ]
    total_points = len(table)
    finished_points = total_points - len({u.point for u in units})

    if not units:  # everything already stored: nothing to run, no cluster to connect to
        backend: Backend = _NothingToRun()
    else:
        backend = make_backend(client=client, scheduler=scheduler, workers=workers, cluster=cluster, retries=retries)
    records = table.to_dict(orient="records")
    try:
        tasks = _make_tasks(units, records, keys, model, base, seed, reps, crn, batch_size, backend.n_workers)
        bar, report = _progress(progress, finished_points, total_points)
        remaining = {u.point: 0 for u in units}
        for u in units:
            remaining[u.point] += 1
        try:
            for i, part in backend.run(run_task, tasks):
                store.write(part)
                newly = 0
                for u in tasks[i].units:
                    remaining[u.point] -= 1
                    newly += remaining[u.point] == 0
                finished_points += newly
                report(newly, finished_points)
        finally:
            if bar is not None:
                bar.close()
        backend_info = backend.describe()
    finally:
        backend.close()

    dataset = assemble(store.read(), table, reps, crn)
    provenance = base_provenance(getattr(model, "engine", "model"), seed, list(range(reps)), command)
    provenance.update({"backend": backend_info, "model": _describe(model)})
    dataset.attrs["sweep"] = json.dumps(manifest, sort_keys=True, default=str)
    dataset.attrs["provenance"] = json.dumps(provenance, default=str)
    if out is not None:
        write_outputs(dataset, base, Path(out), provenance)
    return dataset


def assemble(long: pd.DataFrame, table: pd.DataFrame, reps: int, crn: bool) -> xr.Dataset:
    """Build the results Dataset from the stored long table (deterministic whatever the storage order)."""
    n_points = len(table)
    missing = n_points * reps - len(long[["point", "replication"]].drop_duplicates())
    if missing:
        raise RuntimeError(f"sweep incomplete: {missing} (point, replication) results missing")
    kpi_names = list(dict.fromkeys(long["kpi"]))  # order of first appearance; parts are sorted by point
    values = np.full((n_points, reps, len(kpi_names)), np.nan, dtype=np.float64)
    k = pd.Index(kpi_names).get_indexer(long["kpi"])
    values[long["point"].to_numpy(), long["replication"].to_numpy(), k] = long["value"].to_numpy(dtype=np.float64)
    coords: dict[str, Any] = {"point": np.arange(n_points), "replication": np.arange(reps), "kpi": kpi_names}
    for key in table.columns:
        column = table[key].to_numpy()
        if column.dtype == object:
            column = column.astype(str) if any(isinstance(v, str) for v in column) else column.astype(np.float64)
        coords[key] = ("point", column)
    if not crn:
        coords["stream_replication"] = (("point", "replication"), np.arange(n_points)[:, None] * reps + np.arange(reps)[None, :])
    return xr.Dataset({"kpis": (("point", "replication", "kpi"), values)}, coords=coords)


def write_outputs(dataset: xr.Dataset, base: Any, folder: Path, provenance: dict[str, Any]) -> None:
    """Write the final files of a sweep next to its store."""
    from ..io_util import atomic_directory

    with atomic_directory(folder) as tmp:
        dataset.to_netcdf(tmp / "sweep.nc", engine=_netcdf_engine())
        long = dataset["kpis"].to_dataframe(name="value").reset_index()[["point", "replication", "kpi", "value"]]
        long.to_csv(tmp / "kpis.csv", index=False)
        if hasattr(type(base), "model_fields"):
            from ..scenario import dump_scenario

            (tmp / f"scenario-{base.name}.toml").write_text(dump_scenario(base), encoding="utf-8")
        (tmp / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str), encoding="utf-8")


def load_sweep(folder: str | Path) -> xr.Dataset:
    """Read the ``sweep.nc`` of a finished sweep."""
    with xr.open_dataset(Path(folder) / "sweep.nc", engine=_netcdf_engine()) as ds:
        return ds.load()


# ------------------------------------------------------------------ helpers


class _NothingToRun:
    """Stands in for a backend when every point is already in the store."""

    name = "none"
    n_workers = 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Any:
        return iter(())

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"backend": "none (all points were already stored)"}


def _netcdf_engine() -> str:
    """The NetCDF backend the rest of the package uses."""
    from ..results import _netcdf_engine as engine

    return engine()


def _resolve_base(base: Any, scale: float | None, overrides: Mapping[str, Any] | None) -> Any:
    if isinstance(base, (str, Path)):
        from ..scenario import load_scenario

        base = load_scenario(base)
    extra = dict(overrides or {})
    if scale is not None:
        extra["scale"] = scale
    return base.with_overrides(extra) if extra else base


def _check_points(model: Any, base: Any, table: pd.DataFrame) -> None:
    """Fail fast, in the caller's process, on a bad key or value, or a scenario the engine refuses.

    Every parameter is tried alone at its smallest and largest value (each
    listed value for a list), then the engine checks the first point.
    """
    apply = getattr(model, "apply", None) or (lambda b, o: b.with_overrides(o))
    for key in table.columns:
        column = table[key]
        try:
            extremes = [column.min(), column.max()]
        except TypeError:  # mixed types in a list parameter
            extremes = list(dict.fromkeys(column))
        for value in dict.fromkeys(extremes) if column.dtype != object else dict.fromkeys(column):
            apply(base, {key: value.item() if isinstance(value, np.generic) else value})
    scenario = apply(base, table.iloc[0].to_dict())
    check = getattr(model, "check", None)
    if check is not None:
        check(scenario)


def _make_tasks(units: list[Unit], records: list[dict[str, Any]], keys: list[str], model: Any, base: Any,
                seed: int, reps: int, crn: bool, batch_size: int | None, n_workers: int) -> list[Task]:
    if not units:
        return []
    evaluations = sum(len(u.reps) for u in units)
    per_task = batch_size or min(DEFAULT_TASK_EVALUATIONS, max(1, math.ceil(evaluations / (4 * n_workers))))
    tasks: list[Task] = []
    current: list[Unit] = []
    size = 0
    for unit in units:
        current.append(unit)
        size += len(unit.reps)
        if size >= per_task:
            tasks.append(_task(current, records, keys, model, base, seed, reps, crn))
            current, size = [], 0
    if current:
        tasks.append(_task(current, records, keys, model, base, seed, reps, crn))
    return tasks


def _task(units: list[Unit], records: list[dict[str, Any]], keys: list[str], model: Any, base: Any,
          seed: int, reps: int, crn: bool) -> Task:
    return Task(model=model, base=base, seed=seed, units=list(units),
                overrides=[{k: records[u.point][k] for k in keys} for u in units],
                rep_offsets=[0 if crn else u.point * reps for u in units])


def _progress(progress: Any, done: int, total: int) -> tuple[Any, Callable[[int, int], None]]:
    if callable(progress) and not isinstance(progress, bool):
        return None, lambda newly, finished: progress(finished, total)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=done, unit="point", desc="sweep")
        return bar, lambda newly, finished: bar.update(newly)
    return None, lambda newly, finished: None


def _describe(model: Any) -> dict[str, Any]:
    describe = getattr(model, "describe", None)
    if describe is not None:
        return describe()
    return {"model": f"{type(model).__module__}.{type(model).__qualname__}"}


def _base_hash(base: Any) -> str:
    if hasattr(type(base), "model_fields"):
        from ..scenario import dump_scenario

        text = dump_scenario(base)
    else:
        text = json.dumps(dict(base), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
