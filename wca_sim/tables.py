"""Plain-text tables of KPI summaries and comparisons, for terminals and reports.

Values are shown the way a reader expects them: counts with thousands
separators, money in pounds, days with one decimal, and ``peak_backlog_date``
(stored as days since 1970-01-01) as a calendar date.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

_EPOCH = dt.date(1970, 1, 1)
MISSING = "n/a"


def is_date_kpi(kpi: str) -> bool:
    """True for KPIs stored as days since 1970-01-01 (e.g. ``peak_backlog_date``)."""
    return kpi.endswith("_date")


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_value(kpi: str, value: float) -> str:
    """A KPI value for display: ``712,345``, ``£1,234,567``, ``£153.20``, ``84.3`` or ``14 Jun 2014``.

    Parameters
    ----------
    kpi
        KPI name (decides the unit, see :mod:`wca_sim.kpis`).
    value
        The value; NaN shows as ``n/a``.
    """
    if not _finite(value):
        return MISSING
    value = float(value)
    if is_date_kpi(kpi):
        return (_EPOCH + dt.timedelta(days=round(value))).strftime("%d %b %Y")
    if kpi == "cost_per_assessment":
        return _money(value, 2)
    if kpi.startswith("cost_"):
        return _money(value, 0)
    if kpi.startswith("decision_days_"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def format_difference(kpi: str, value: float, half_width: float | None = None) -> str:
    """A signed difference with its CI half-width: ``+12,345 ± 2,100``, ``-3.5 days ± 1.2``."""
    if not _finite(value):
        return MISSING
    value = float(value)
    if is_date_kpi(kpi):
        text, unit, digits = f"{value:+,.0f}", " days", 0
    elif kpi == "cost_per_assessment":
        text, unit, digits = _money(value, 2, signed=True), "", 2
    elif kpi.startswith("cost_"):
        text, unit, digits = _money(value, 0, signed=True), "", 0
    elif kpi.startswith("decision_days_"):
        text, unit, digits = f"{value:+,.1f}", "", 1
    else:
        text, unit, digits = f"{value:+,.0f}", "", 0
    if half_width is None or not _finite(half_width):
        return text + unit
    width = _money(half_width, digits) if kpi.startswith("cost_") else f"{half_width:,.{digits}f}"
    return f"{text} ± {width}{unit}"


def _money(value: float, digits: int, signed: bool = False) -> str:
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    return f"{sign}£{abs(value):,.{digits}f}"


def format_interval(kpi: str, low: float, high: float) -> str:
    """A confidence interval ``[low, high]`` in the KPI's units (``n/a`` when undefined)."""
    if not (_finite(low) and _finite(high)):
        return MISSING
    return f"[{format_value(kpi, low)}, {format_value(kpi, high)}]"


def render(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] | None = None) -> str:
    """Columns padded to their widest cell; ``align`` holds ``"<"`` or ``">"`` per column."""
    align = list(align or ["<"] + [">"] * (len(header) - 1))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(f"{str(cell):{a}{w}}" for cell, a, w in zip(header, align, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(f"{str(cell):{a}{w}}" for cell, a, w in zip(row, align, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _run_description(provenance: dict[str, Any], scenarios: Sequence[str]) -> str:
    reps = provenance.get("reps") or len(provenance.get("replications") or [])
    scale = provenance.get("scale")
    if isinstance(scale, dict):
        values = {scale.get(name) for name in scenarios}
        scale = values.pop() if len(values) == 1 else None
    parts = [f"{reps} replication{'s' if reps != 1 else ''}", f"seed {provenance.get('seed')}",
             f"engine {provenance.get('engine')}"]
    if scale is not None:
        parts.append(f"scale {scale:g}")
    return ", ".join(parts)


def kpi_table(summary: pd.DataFrame, provenance: dict[str, Any] | None = None) -> str:
    """Mean and 95% CI of every KPI of every scenario in a :func:`wca_sim.analysis.summarise` table."""
    provenance = provenance or {}
    blocks = []
    for scenario, sub in summary.groupby("scenario", sort=False):
        rows = [
            [row.kpi, format_value(row.kpi, row.mean), format_interval(row.kpi, row.ci_low, row.ci_high)]
            for row in sub.itertuples()
        ]
        title = f"{scenario}: {_run_description(provenance, [str(scenario)])}"
        note = "Mean over replications and 95% confidence interval; counts and costs are national."
        blocks.append(f"{title}\n{note}\n\n" + render(["KPI", "mean", "95% CI"], rows))
    return "\n\n".join(blocks)


def kpi_order(*names: Sequence[str]) -> list[str]:
    """Union of KPI lists keeping each list's order: a KPI only some scenarios have
    (e.g. ``assessments_maximus_2014-15``) is placed after its predecessor in its own list."""
    order: list[str] = []
    for sequence in names:
        previous = None
        for kpi in sequence:
            if kpi not in order:
                order.insert(order.index(previous) + 1 if previous is not None else len(order), kpi)
            previous = kpi
    return order


def comparison_table(
    summary: pd.DataFrame,
    differences: pd.DataFrame,
    provenance: dict[str, Any] | None = None,
    order: Sequence[str] | None = None,
) -> str:
    """Two tables: the means of every scenario side by side, then paired differences against the reference.

    Parameters
    ----------
    summary
        :func:`wca_sim.analysis.summarise` table.
    differences
        :func:`wca_sim.analysis.compare` table.
    provenance
        The run's provenance (replications, seed, engine, scale) for the title.
    order
        KPI order (default: as in ``summary``); see :func:`kpi_order`.
    """
    provenance = provenance or {}
    scenarios = [str(s) for s in dict.fromkeys(summary["scenario"])]
    reference = str(differences["reference"].iloc[0]) if len(differences) else scenarios[0]
    others = [s for s in scenarios if s != reference]
    if order is None:
        order = kpi_order(*[summary.loc[summary["scenario"] == s, "kpi"].tolist() for s in scenarios])
    kpis = list(order)
    means = {(str(r.scenario), r.kpi): r.mean for r in summary.itertuples()}
    diffs = {(str(r.scenario), r.kpi): (r.mean_difference, r.half_width, r.share_better) for r in differences.itertuples()}

    mean_rows = [[kpi, *[format_value(kpi, means[(s, kpi)]) if (s, kpi) in means else "" for s in scenarios]]
                 for kpi in kpis]
    title = f"Scenario means: {_run_description(provenance, scenarios)}"
    note = "Mean over replications; counts and costs are national."
    first = f"{title}\n{note}\n\n" + render(["KPI", *scenarios], mean_rows)

    diff_rows = []
    for kpi in kpis:
        cells = []
        for s in others:
            if (s, kpi) not in diffs:
                cells.append("")
                continue
            value, half_width, share = diffs[(s, kpi)]
            text = format_difference(kpi, value, half_width)
            if _finite(share) and not (value == 0 and half_width == 0):  # identical in every replication
                text += f"  ({share:.0%} better)"
            cells.append(text)
        if any(cells):
            diff_rows.append([kpi, *cells])
    title = f"Differences from {reference} (scenario minus reference)"
    note = (
        "Paired by replication (common random numbers): mean difference ± half-width of its 95% confidence\n"
        "interval, and the share of replications in which the scenario did better, where better has a direction."
    )
    second = f"{title}\n{note}\n\n" + render(["KPI", *others], diff_rows)
    return f"{first}\n\n{second}"
