"""(c) The add-providers trade-off: extra capacity against cost and backlog.

Runs run-to-aug-2015 (no extra providers) and add-providers with the two
regional providers' starting staff and hiring scaled by 0, 0.5, 1, 1.5 and 2,
common random numbers throughout; reports for each level the mean backlog on
31 Aug 2015 and 31 Mar 2016, the peak backlog, total cost and cost per
assessment, with paired differences against run-to-aug-2015 and their 95% CIs.
Writes experiments/results/c_add_providers_tradeoff/.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import wca_sim as ws  # noqa: E402
from wca_sim.calibration.fit import set_parameters  # noqa: E402

from _common import setup, write_json  # noqa: E402

KPIS = ["backlog_on_2015-08-31", "backlog_on_2016-03-31", "peak_backlog", "cost_total", "cost_per_assessment"]


def variant(base: ws.Scenario, factor: float) -> ws.Scenario:
    """add-providers with both regional providers' staff and hiring multiplied by ``factor``."""
    values = {}
    for p in ("regional_north", "regional_south"):
        values[f"providers.{p}.workforce.fte_at_start:scale"] = factor
        values[f"providers.{p}.workforce.hires_per_month:scale"] = factor
    sc = set_parameters(base, values)
    return sc.with_overrides({"name": f"add-providers-x{factor:g}"})


def main() -> None:
    quick, out, args = setup("c_add_providers_tradeoff", __doc__)
    reps = 3 if quick else 30
    factors = [0.0, 1.0, 2.0] if quick else [0.0, 0.5, 1.0, 1.5, 2.0]
    base = ws.load_scenario("add-providers")
    scenarios = [ws.load_scenario("run-to-aug-2015")] + [variant(base, f) for f in factors]
    res = ws.run(scenarios, reps=reps, seed=2014, engine="fast", workers=args.workers, progress=False)
    diffs = ws.compare(res, reference="run-to-aug-2015", kpis=KPIS)
    diffs.to_csv(out / "differences.csv", index=False)
    kp = res.kpis[res.kpis["kpi"].isin(KPIS)]
    means = kp.groupby(["scenario", "kpi"])["value"].mean().unstack("kpi")[KPIS]
    means = means.loc[[s.name for s in scenarios]]
    means.to_csv(out / "tradeoff.csv")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ref = means.loc["run-to-aug-2015"]
    ax.scatter([ref["cost_total"] / 1e9], [ref["backlog_on_2015-08-31"] / 1e3], color="k", label="run-to-aug-2015")
    rows = means.drop(index="run-to-aug-2015")
    ax.plot(rows["cost_total"] / 1e9, rows["backlog_on_2015-08-31"] / 1e3, "o-", color="C1",
            label="add-providers, regional capacity x factor")
    for name, row in rows.iterrows():
        ax.annotate(name.split("-x")[-1] + "x", (row["cost_total"] / 1e9, row["backlog_on_2015-08-31"] / 1e3),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("total cost Oct 2013 - Mar 2017 (GBP bn)")
    ax.set_ylabel("backlog on 31 Aug 2015 (thousands)")
    ax.set_title("Extra regional providers: backlog against cost (means)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(out / "figures" / "tradeoff.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    write_json(out / "run.json", {"reps": reps, "factors": factors, "seed": 2014, "quick": quick})
    print(means.round(0).to_string())


if __name__ == "__main__":
    main()
