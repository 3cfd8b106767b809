"""(d) Break-even: the successor's monthly hiring needed to bring the backlog under a threshold by a date.

In the early-exit scenario, the smallest constant Maximus hiring rate (FTE a
month from 1 Mar 2015) such that the backlog on 31 Mar 2016 is at most
300,000 in at least 90% of replications, with a distribution-free confidence
interval (wca_sim.sweeps.breakeven, common random numbers, fast engine).
Writes experiments/results/d_breakeven_hiring/.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from wca_sim.sweeps.breakeven import breakeven  # noqa: E402

from _common import setup, write_json  # noqa: E402

PARAM = "providers.maximus.workforce.hires_per_month"
KPI = "backlog_on_2016-03-31"
THRESHOLD = 300_000.0
SHARE = 0.9


def main() -> None:
    quick, out, args = setup("d_breakeven_hiring", __doc__)
    reps, points, refine = (4, 4, 0) if quick else (40, 7, 1)
    result = breakeven("early-exit", PARAM, (0.0, 300.0), KPI, THRESHOLD, share=SHARE, reps=reps, points=points,
                       refine=refine, engine="fast", seed=11, workers=args.workers, out=out / "stages")
    result.curve.to_csv(out / "curve.csv", index=False)
    write_json(out / "breakeven.json", {
        "param": PARAM, "kpi": KPI, "threshold": THRESHOLD, "share": SHARE, "value": result.value,
        "ci_low": result.ci_low, "ci_high": result.ci_high, "confidence": result.confidence,
        "reps": reps, "quick": quick, "summary": result.summary(), "notes": result.notes,
    })
    fig, ax = plt.subplots(figsize=(7, 4.2))
    curve = result.curve.sort_values(result.curve.columns[0])
    x = curve[curve.columns[0]]
    ax.plot(x, curve["share"], "o-", label="share of replications with backlog <= 300k")
    ax.fill_between(x, curve["share_low"], curve["share_high"], alpha=0.25, label="95% Clopper-Pearson")
    ax.axhline(SHARE, color="k", lw=0.8, ls="--")
    if result.value == result.value:  # not NaN
        ax.axvline(result.value, color="C3", lw=1, label=f"break-even {result.value:.0f} FTE/month")
    ax.set_xlabel("Maximus hiring (FTE a month, constant from Mar 2015)")
    ax.set_ylabel("share of replications")
    ax.set_title("Early exit: hiring needed for a backlog under 300k on 31 Mar 2016")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(out / "figures" / "breakeven.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(result.summary())


if __name__ == "__main__":
    main()
