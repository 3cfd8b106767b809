"""(b) What the early-exit outcome depends on: successor recruitment and incumbent attrition.

A Sobol' (Saltelli) sweep of the early-exit scenario over Maximus's monthly
hiring, the share of Atos staff transferred, Atos's attrition uplift after the
exit announcement and Atos's base attrition (fast engine, replications averaged
per point), then first- and total-order Sobol' indices of the backlog on
31 Mar 2016 and of the peak backlog, with the Monte Carlo noise share.
Writes experiments/results/b_early_exit_sensitivity/.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from wca_sim.sweeps import sweep  # noqa: E402
from wca_sim.sweeps.sensitivity import plot_indices, sensitivity  # noqa: E402

from _common import setup, write_json  # noqa: E402

PARAMS = {
    "providers.maximus.workforce.hires_per_month": (10.0, 120.0),
    "providers.maximus.workforce.transfer_share": (0.4, 0.95),
    "providers.atos.workforce.attrition_uplift_after_exit": (1.0, 3.0),
    "providers.atos.workforce.attrition_per_month": (0.01, 0.035),
}
KPIS = ["backlog_on_2016-03-31", "peak_backlog"]


def main() -> None:
    quick, out, args = setup("b_early_exit_sensitivity", __doc__)
    points, reps = (4, 1) if quick else (64, 2)  # Saltelli: points * (k + 2) evaluations
    ds = sweep("early-exit", PARAMS, design="saltelli", points=points, reps=reps, engine="fast", seed=7,
               workers=args.workers, out=out / "sweep", progress=False)
    indices = {}
    for kpi in KPIS:
        table = sensitivity(ds, kpi)
        table.to_csv(out / f"sobol_{kpi}.csv")
        indices[kpi] = {"indices": table.round(4).to_dict(orient="index"),
                        "noise_share": table.attrs.get("noise_share")}
        fig = plot_indices(table, title=f"Early exit: Sobol' indices of {kpi}")
        fig.savefig(out / "figures" / f"sobol_{kpi}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        print(kpi)
        print(table.round(3).to_string())
    write_json(out / "indices.json", {"points": int(ds.sizes["point"]), "reps": reps, "params": PARAMS,
                                      "quick": quick, "kpis": indices})


if __name__ == "__main__":
    main()
