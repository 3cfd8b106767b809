"""Helpers for CLI tests: run ``wca-sim`` in-process and capture what it prints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from wca_sim.cli import main

#: A short, small run: 1% of claimants, nine months, report dates inside the horizon.
SMALL = ["--scale", "0.01", "--set", "end_date=2014-06-30", "--set", "report_dates=[2014-03-31, 2014-06-30]"]


@dataclass
class Outcome:
    status: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Call ``wca-sim`` with a list of arguments; returns exit status, stdout and stderr."""

    def call(*argv: str) -> Outcome:
        status = main(list(argv))
        captured = capsys.readouterr()
        return Outcome(status, captured.out, captured.err)

    return call


def folder_snapshot(folder: Path) -> dict[str, str] | None:
    """Every file under ``folder`` with a hash of its content (None when the folder does not exist)."""
    if not folder.exists():
        return None
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def snapshot():
    """:func:`folder_snapshot` as a fixture (test modules here are not a package)."""
    return folder_snapshot


@pytest.fixture
def small() -> list[str]:
    """Options for a short, small run (see :data:`SMALL`)."""
    return list(SMALL)
