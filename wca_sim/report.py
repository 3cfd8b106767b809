"""A Markdown report of a saved run, following the STRESS-DES checklist.

``wca-sim report DIR`` (or :func:`write_report`) reads a folder written by
``Results.save`` / ``wca-sim run|compare --out`` and writes ``DIR/report.md``.
The model-wide items (objectives, logic, parameters and their sources) point
to ``docs/model.md``; the run-specific items -- scenarios and how they differ,
initial state, run length, replications, common random numbers, software
versions and random streams -- are filled in from the saved scenarios and
``provenance.json``, so they cannot disagree with the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .results import Results, load_results
from .streams import STREAM_NAMES

REPORT_NAME = "report.md"


def _md_table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _short(value: Any) -> str:
    """A compact cell for a scenario value in the differences table."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and "provider" in v for v in value):
        return ", ".join(f"{v['provider']} from {v['start']}" for v in value)
    if isinstance(value, dict):
        return "(defined)" if value else "-"
    return "-" if value is None else str(value)[:60]


def _initial_state(sc: Any) -> str:
    ini = sc.initial_state
    queue = ", ".join(f"{q.count:,.0f} {q.referral_type.replace('_', ' ')} (ages {q.min_age_days:g}-{q.max_age_days:g} days)"
                      for q in ini.provider_queue)
    return (f"provider queue {queue}; {ini.awaiting_decision:,.0f} awaiting a decision; {ini.mr_pending:,.0f} MRs in "
            f"progress; {ini.tribunal_backlog:,.0f} appeals waiting for a hearing")


def report_markdown(results: Results, validation: pd.DataFrame | None = None) -> str:
    """The report text for a Results (see the module docstring)."""
    from . import __version__
    from .analysis import summarise
    from .scenario import diff

    prov = results.provenance
    names = results.scenario_names
    scenarios = results.scenarios
    reps = results.replications
    first = scenarios.get(names[0]) if names else None
    lines = [f"# wca_sim run report: {', '.join(names)}", "",
             "Structured after the STRESS-DES checklist (Monks et al. 2019). Model-wide items refer to "
             "`docs/model.md`; run-specific items are filled in from the saved scenarios and `provenance.json`.", ""]

    lines += ["## 1. Objectives", "",
              "Compare what happens to people waiting for a Work Capability Assessment when the assessment "
              "contract changes hands (docs/model.md, 'Objectives'). Scenarios in this run:", ""]
    for name in names:
        sc = scenarios.get(name)
        lines.append(f"- `{name}`: {sc.description if sc is not None else '(scenario file missing)'}")
    lines.append("")

    lines += ["## 2. Logic", "",
              "Individual claimants (DES engine) or daily cohorts (fast engine) flow through referral, the "
              "provider queue, assessment, DWP decision, mandatory reconsideration and appeal; SG/WRAG awards "
              "return as repeat referrals. The logic diagram and every rule are in docs/model.md.", ""]

    lines += ["## 3. Data and parameters", "",
              "Every parameter's value and source or assumption: docs/model.md 'Parameters' (generated from the "
              "Scenario field descriptions). Published figures: `wca_sim/data/published_figures.csv`.", ""]
    if first is not None and len(names) > 1:
        rows = []
        for name in names[1:]:
            other = scenarios.get(name)
            if other is None:
                continue
            for key, (a, b) in diff(first, other).items():
                if key in ("name", "description"):
                    continue
                rows.append({"parameter": f"`{key}`", names[0]: _short(a), name: _short(b)})
        if rows:
            lines += [f"Differences from `{names[0]}` (first 40):", "", _md_table(pd.DataFrame(rows).fillna("").head(40)), ""]

    lines += ["## 4. Experimentation", ""]
    for name in names:
        sc = scenarios.get(name)
        if sc is None:
            continue
        lines += [f"- `{name}`: run length {sc.start_date} to {sc.end_date} ({sc.days} days, no warm-up: the run "
                  f"starts from a documented initial state: {_initial_state(sc)}); scale {sc.scale:g} "
                  f"(counts reported at national scale); report dates {', '.join(map(str, sc.report_dates))}."]
    crn = ("common random numbers: replication r of every scenario uses the same streams (seed, r, name), so the "
           "same claimants arrive in every scenario" if len(names) > 1 else
           "each replication r draws from its own streams (seed, r, name)")
    lines += [f"- Replications: {len(reps)} (ids {reps[0]}..{reps[-1]})" if reps else "- Replications: none",
              f"- Root seed: {prov.get('seed', '?')}; {crn}.",
              f"- Engine: `{prov.get('engine', '?')}`; workers {prov.get('workers', '?')}, batch size {prov.get('batch_size', '?')}.",
              ]
    if prov.get("precision"):
        p = prov["precision"]
        lines.append(f"- Precision mode: targets {p.get('targets')}, met: {p.get('met')}, final replications {p.get('final_reps')}.")
    lines.append("")

    lines += ["## 5. Implementation", "",
              f"- wca_sim {prov.get('version', __version__)} (package `{prov.get('package', 'wca_sim')}`), Python "
              f"{prov.get('python', '?')}, NumPy {prov.get('numpy', '?')}, platform {prov.get('platform', '?')}.",
              f"- Command: `{prov.get('command') or '(library call)'}`; started {prov.get('started', '?')}, finished {prov.get('finished', '?')}.",
              "- Random streams: numpy PCG64 generators from SeedSequence(seed, spawn_key=(replication, stream id)); "
              "streams: " + ", ".join(f"{i} `{n}`" for i, n in enumerate(STREAM_NAMES)) + ".",
              "- Working days: Mon-Fri less England & Wales bank holidays (`holidays` package).", ""]

    lines += ["## 6. Results", ""]
    summary = summarise(results)
    keep = summary[summary["kpi"].str.match(r"backlog_on_|peak_backlog$|decision_days_mean|assessments_total|appeals_|cost_total|cost_per_assessment")]
    if len(keep):
        shown = pd.DataFrame({
            "scenario": keep["scenario"], "KPI": keep["kpi"], "mean": [_fmt(v) for v in keep["mean"]],
            "95% CI": [f"{_fmt(a)} - {_fmt(b)}" for a, b in zip(keep["ci_low"], keep["ci_high"])],
            "5%-95%": [f"{_fmt(a)} - {_fmt(b)}" for a, b in zip(keep["p5"], keep["p95"])],
        })
        lines += [_md_table(shown), ""]
    if validation is not None:
        from .calibration.validate import format_table

        lines += ["## 7. Validation against published figures", "", format_table(validation, markdown=True)]
    return "\n".join(lines) + "\n"


def write_report(directory: str | Path, validate: bool = False) -> Path:
    """Write ``report.md`` for the run saved in ``directory``; returns its path.

    Parameters
    ----------
    directory
        Folder written by ``Results.save``.
    validate
        Also compare the first scenario with the shipped published figures.
    """
    folder = Path(directory)
    results = load_results(folder)
    table = None
    if validate:
        from .calibration import load_targets, validation_table

        table = validation_table(results, load_targets())
    path = folder / REPORT_NAME
    path.write_text(report_markdown(results, table), encoding="utf-8")
    return path
