"""(a) The three contract scenarios to March 2017: backlog, waiting times, appeals, costs, with uncertainty.

Runs run-to-aug-2015, early-exit and add-providers with common random numbers
(fast engine), writes the KPI summary (mean, 95% CI, 5-95% range), the paired
differences against run-to-aug-2015 and the standard figures into
experiments/results/a_contract_scenarios/.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import wca_sim as ws  # noqa: E402
from wca_sim.plots import save_figures  # noqa: E402

from _common import setup, write_json  # noqa: E402

SCENARIOS = ["run-to-aug-2015", "early-exit", "add-providers"]
KEY_KPIS = ["backlog_on_2014-04-30", "backlog_on_2015-08-31", "backlog_on_2016-03-31", "backlog_on_2017-03-31",
            "peak_backlog", "decision_days_mean", "appeals_lodged_total", "appeals_heard_total",
            "cost_total", "cost_per_assessment"]


def main() -> None:
    quick, out, args = setup("a_contract_scenarios", __doc__)
    reps = 3 if quick else 50
    res = ws.run(SCENARIOS, reps=reps, seed=2013, engine="fast", workers=args.workers, progress=False)
    summary = ws.summarise(res)
    summary.to_csv(out / "summary.csv", index=False)
    diffs = ws.compare(res, reference="run-to-aug-2015")
    diffs.to_csv(out / "differences.csv", index=False)
    save_figures(res, out, reference="run-to-aug-2015")
    key = summary[summary["kpi"].isin(KEY_KPIS)].pivot(index="kpi", columns="scenario", values="mean")
    key.loc[KEY_KPIS].to_csv(out / "key_kpis.csv")
    write_json(out / "run.json", {"reps": reps, "seed": 2013, "engine": "fast", "quick": quick,
                                  "scenarios": SCENARIOS})
    print(key.loc[KEY_KPIS].round(0).to_string())


if __name__ == "__main__":
    main()
