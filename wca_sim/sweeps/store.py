"""The on-disk store of a sweep: partitioned Parquet, written as points finish.

Layout of a sweep's output folder::

    sweep.json          the sweep's specification (design, parameters, seed, reps, model)
    design.csv          the points: one row per point, one column per parameter
    store/part-*.parquet  finished results, long format (point, replication, kpi, value)

Each part holds the results of one finished task (one or more points) and is
written to a temporary name and renamed into place, so a crash never leaves a
half-written part. A rerun reads the parts, skips every (point, replication)
found, and computes only the rest. Parts may overlap (a task finished twice
after a retry): their values are identical by construction and duplicates are
dropped when the results are assembled.

Without an output folder the same class keeps the parts in memory.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PART_COLUMNS = ("point", "replication", "kpi", "value")


class SweepMismatch(ValueError):
    """The output folder holds a different sweep."""


class SweepStore:
    """Finished results of a sweep, on disk (``folder``) or in memory (``folder=None``)."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._memory: list[pd.DataFrame] = []

    @property
    def parts_folder(self) -> Path | None:
        return self.folder / "store" if self.folder is not None else None

    # ------------------------------------------------------------ manifest

    def open(self, manifest: dict[str, Any], design: pd.DataFrame, overwrite: bool = False) -> bool:
        """Prepare the store for a sweep; True if earlier results are being resumed.

        Raises
        ------
        SweepMismatch
            If the folder holds a sweep with a different specification (and
            ``overwrite`` is False).
        """
        if self.folder is None:
            return False
        path = self.folder / "sweep.json"
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
        if path.exists():
            old = path.read_text(encoding="utf-8")
            if json.loads(old) == json.loads(text):
                return any(self.parts_folder.glob("part-*.parquet"))  # type: ignore[union-attr]
            if not overwrite:
                changed = _changed_keys(json.loads(old), json.loads(text))
                raise SweepMismatch(
                    f"{self.folder} holds a different sweep (differs in: {', '.join(changed) or 'specification'}); "
                    "use another output folder, or overwrite"
                )
            for part in self.parts_folder.glob("part-*.parquet"):  # type: ignore[union-attr]
                part.unlink()
        self.parts_folder.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        _atomic_write_text(path, text)
        design.to_csv(self.folder / "design.csv")
        return False

    # -------------------------------------------------------------- parts

    def write(self, part: pd.DataFrame) -> None:
        """Add the results of one finished task (columns :data:`PART_COLUMNS`)."""
        part = part.loc[:, list(PART_COLUMNS)]
        if self.folder is None:
            self._memory.append(part)
            return
        first, last = int(part["point"].min()), int(part["point"].max())
        name = f"part-{first:07d}-{last:07d}-{uuid.uuid4().hex[:12]}.parquet"
        tmp = self.parts_folder / f".tmp-{name}"  # type: ignore[operator]
        part.to_parquet(tmp, index=False)
        os.replace(tmp, self.parts_folder / name)  # type: ignore[operator]

    def read(self) -> pd.DataFrame:
        """All finished results, sorted by point and replication, duplicates dropped."""
        if self.folder is None:
            frames = list(self._memory)
        else:
            frames = [pd.read_parquet(p) for p in sorted(self.parts_folder.glob("part-*.parquet"))]  # type: ignore[union-attr]
        if not frames:
            return pd.DataFrame({"point": pd.Series(dtype="int64"), "replication": pd.Series(dtype="int64"),
                                 "kpi": pd.Series(dtype="str"), "value": pd.Series(dtype="float64")})
        table = pd.concat(frames, ignore_index=True)
        table = table.drop_duplicates(subset=["point", "replication", "kpi"], keep="first")
        # A stable sort keeps each point's KPIs in the model's own order.
        return table.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)

    def finished(self) -> set[tuple[int, int]]:
        """(point, replication) pairs already computed."""
        table = self.read()
        return set(zip(table["point"].astype(int), table["replication"].astype(int)))


def part_from_arrays(points: Sequence[int], names_per_point: Sequence[list[str]], arrays: Sequence[np.ndarray],
                     reps_per_point: Sequence[Sequence[int]]) -> pd.DataFrame:
    """Long table of a task's results.

    ``arrays[i]`` has shape (len(reps_per_point[i]), len(names_per_point[i])).
    """
    frames = []
    for point, names, array, reps in zip(points, names_per_point, arrays, reps_per_point):
        n_reps, n_kpi = array.shape
        frames.append(pd.DataFrame({
            "point": np.full(n_reps * n_kpi, point, dtype=np.int64),
            "replication": np.repeat(np.asarray(reps, dtype=np.int64), n_kpi),
            "kpi": np.tile(np.asarray(names, dtype=object), n_reps),
            "value": array.reshape(-1).astype(np.float64),
        }))
    return pd.concat(frames, ignore_index=True)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
