"""Validation: the model against every mappable published figure.

:func:`validation_table` takes a Results (any engine) and the targets, and
gives one row per figure: published value, model mean, the model's 90%
interval across replications, whether it is inside, and the standardised error.

"Inside" means the model's 90% interval overlaps the published interval
widened by the figure's stated tolerance (``targets.toml``: rounding and
definition differences). A published bound (``700000+``) is an interval open
on one side. The share inside is over the figures shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .targets import Target, TargetError, load_targets

#: Columns of :func:`validation_table`.
COLUMNS = (
    "figure", "published", "low", "high", "model_mean", "model_p05", "model_p95", "inside", "error",
    "tolerance", "soft", "fit", "unit", "source_url",
)


def validation_table(results: Any, targets: Sequence[Target], scenario: str | None = None) -> pd.DataFrame:
    """Compare a run with published figures.

    Parameters
    ----------
    results
        :class:`wca_sim.Results` (or its ``timeseries`` Dataset).
    targets
        From :func:`~wca_sim.calibration.load_targets`.
    scenario
        Scenario of the run to compare (default: the first).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`. Targets the run cannot answer (a date outside its
        horizon) get NaN model values, ``inside`` NA, and are left out of the share.
    """
    ts = getattr(results, "timeseries", results)
    rows = []
    for t in targets:
        low, high = t.interval
        row: dict[str, Any] = {
            "figure": t.figure, "published": t.published.describe(), "low": low, "high": high,
            "tolerance": t.scale, "soft": t.soft, "fit": t.fit, "unit": t.unit, "source_url": t.source_url,
        }
        try:
            values = t.model_values(ts, scenario)
        except TargetError:
            values = np.array([np.nan])
        values = values[np.isfinite(values)]
        if values.size:
            mean = float(values.mean())
            p05, p95 = (float(v) for v in np.quantile(values, [0.05, 0.95]))
            acc_low, acc_high = t.accepted
            row.update(model_mean=mean, model_p05=p05, model_p95=p95,
                       inside=bool(p95 >= acc_low and p05 <= acc_high), error=t.error(mean))
        else:
            row.update(model_mean=np.nan, model_p05=np.nan, model_p95=np.nan, inside=pd.NA, error=np.nan)
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table


def share_inside(table: pd.DataFrame) -> float:
    """Share of figures (with a model value) whose published value is inside."""
    known = table["inside"].dropna()
    return float(known.astype(bool).mean()) if len(known) else float("nan")


def format_table(table: pd.DataFrame, markdown: bool = False) -> str:
    """The validation table as aligned text (or a Markdown table), with the share inside."""

    def num(x: float) -> str:
        if not np.isfinite(x):
            return "-"
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"

    shown = pd.DataFrame(
        {
            "figure": table["figure"] + np.where(table["soft"], " (soft)", ""),
            "published": table["published"],
            "model mean": [num(x) for x in table["model_mean"]],
            "90% interval": [f"{num(a)} - {num(b)}" if np.isfinite(a) else "-" for a, b in zip(table["model_p05"], table["model_p95"])],
            "inside": ["-" if pd.isna(v) else ("yes" if v else "no") for v in table["inside"]],
            "error (sd)": [f"{e:+.1f}" if np.isfinite(e) else "-" for e in table["error"]],
        }
    )
    known = table["inside"].dropna()
    footer = f"inside: {int(known.astype(bool).sum())} of {len(known)} figures ({share_inside(table):.0%})"
    if markdown:
        header = "| " + " | ".join(shown.columns) + " |"
        rule = "|" + "|".join("---" for _ in shown.columns) + "|"
        lines = [header, rule] + ["| " + " | ".join(str(v) for v in r) + " |" for r in shown.itertuples(index=False)]
        return "\n".join(lines) + f"\n\n{footer[0].upper() + footer[1:]}.\n"
    return shown.to_string(index=False) + "\n" + footer


def validate(
    scenario: Any = "as-happened",
    figures: str | Path | None = None,
    *,
    mapping: str | Path | None = None,
    reps: int = 20,
    seed: int = 0,
    engine: str = "fast",
    scale: float | None = None,
    workers: int = 1,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, Any]:
    """Run a scenario and compare it with every mappable figure.

    Returns
    -------
    (table, results)
        The :func:`validation_table` and the Results it was computed from.
    """
    from ..runner import run

    targets = load_targets(mapping, figures)
    results = run(scenario, reps=reps, seed=seed, engine=engine, scale=scale, workers=workers, progress=progress)
    return validation_table(results, targets), results
