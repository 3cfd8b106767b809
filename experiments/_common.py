"""Shared settings of the experiment scripts: full or quick size, output folder.

Quick mode (``--quick`` or ``WCA_SIM_QUICK=1``) runs each experiment at a
reduced size so the test suite can execute it; results then go to
``WCA_SIM_RESULTS_DIR`` if set (the tests point it at a temporary folder),
else to ``experiments/results/quick/`` so the full results are never overwritten.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def setup(name: str, description: str) -> tuple[bool, Path, argparse.Namespace]:
    """Parse ``--quick``/``--out``; returns (quick, output folder, args)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="reduced size (also WCA_SIM_QUICK=1)")
    parser.add_argument("--out", type=Path, help="output folder (default experiments/results/<name>)")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("WCA_SIM_QUICK", "") not in ("", "0")
    if args.out is not None:
        out = args.out
    elif os.environ.get("WCA_SIM_RESULTS_DIR"):
        out = Path(os.environ["WCA_SIM_RESULTS_DIR"]) / name
    else:
        out = HERE / "results" / ("quick" if quick else "") / name
    (out / "figures").mkdir(parents=True, exist_ok=True)
    return quick, out, args


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
