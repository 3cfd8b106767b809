"""Writing output folders so that a failure leaves nothing half-written."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; on success move its files into ``target``.

    The temporary folder is a sibling of ``target`` (same file system), so the
    final moves are renames. On any exception the temporary folder is removed
    and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        target.mkdir(exist_ok=True)
        for item in sorted(tmp.rglob("*")):
            if item.is_dir():
                continue
            dest = target / item.relative_to(tmp)
            dest.parent.mkdir(parents=True, exist_ok=True)
            item.replace(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
