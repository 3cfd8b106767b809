"""Cross-validation of the fast engine against the SimPy (DES) engine.

Tolerance (stated here, used by every test): for each report date's mean
backlog and for the mean referral-to-decision time (KPI ``decision_days_mean``),
the difference of the two engines' means must lie within
``max(Z * se, REL * |DES mean|)`` where ``se`` is the Monte Carlo standard error
of the difference of independent means, ``Z = 3`` and ``REL = 0.02``; and the
per-replication standard deviations must be of the same size:
``1/SPREAD <= sd_fast / sd_des <= SPREAD`` with ``SPREAD = 2.5`` (wide because
the DES runs few replications, so its sd is itself uncertain by ~30%).

Both engines simulate the same reduced system (``scale`` < 1), so they must agree
at that scale. The DES comparisons are slow (marked); the default suite checks
that the check itself accepts two independent fast samples and rejects a
deliberately perturbed engine.
"""

from __future__ import annotations

import numpy as np
import pytest

import wca_sim as ws
from wca_sim.engines import get_engine

Z, REL, SPREAD = 3.0, 0.02, 2.5
REDUCED = {"scale": 0.02, "end_date": "2015-08-31", "report_dates": ["2014-04-30", "2015-02-28", "2015-08-31"]}


def _measures(results) -> dict[str, np.ndarray]:
    ts, kpis = results.timeseries, results.kpis
    out = {}
    for date in results.scenarios[ts.scenario.values[0]].report_dates:
        out[f"backlog_{date}"] = ts.backlog.sel(date=str(date)).values.ravel()
    out["decision_days_mean"] = kpis.query("kpi == 'decision_days_mean'").sort_values("replication")["value"].to_numpy()
    return out


def agreement(a, b) -> list[str]:
    """Disagreements between Results ``a`` (reference, e.g. DES) and ``b``; empty when they agree."""
    problems = []
    ma, mb = _measures(a), _measures(b)
    for key in ma:
        x, y = ma[key], mb[key]
        diff = y.mean() - x.mean()
        se = np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
        tol = max(Z * se, REL * abs(x.mean()))
        if abs(diff) > tol:
            problems.append(f"{key}: means {x.mean():.1f} vs {y.mean():.1f} (diff {diff:.1f} > tol {tol:.1f})")
        sx, sy = x.std(ddof=1), y.std(ddof=1)
        if sx > 0 and not (1 / SPREAD <= sy / sx <= SPREAD):
            problems.append(f"{key}: sd {sx:.1f} vs {sy:.1f} (ratio {sy / sx:.2f})")
    return problems


def _scenario(name: str, overrides: dict | None = None):
    return ws.load_scenario(name).with_overrides({**REDUCED, **(overrides or {})})


# ----------------------------------------------------- the check can pass and fail


def test_check_accepts_two_independent_fast_samples():
    sc = _scenario("early-exit")
    fast = get_engine("fast")
    a = fast.run(sc, range(12), seed=1)
    b = fast.run(sc, range(12), seed=2)
    assert agreement(a, b) == []


def test_check_rejects_perturbed_engine():
    """Fast engine given 10% more HCPs (as if its productivity were 10% higher) must be told apart."""
    sc = _scenario("early-exit")
    more = sc.with_overrides({"providers.atos.workforce.fte_at_start": 480.0 * 1.1,
                              "providers.atos.productivity.f2f_per_hcp_day": 5.5,
                              "providers.atos.productivity.paper_per_hcp_day": 13.2})
    fast = get_engine("fast")
    # 30 replications: at scale 0.02 a replication's backlog sd is ~4% of the mean (whole-FTE
    # staff changes of a ~8 FTE workforce), so 12 left the 3-sigma band as wide as the effect.
    a = fast.run(sc, range(30), seed=1)
    b = fast.run(more, range(30), seed=2)
    assert agreement(a, b), "a 10% capacity change went unnoticed"


# ------------------------------------------------------------- fast against DES

VARIANTS = {
    "run-to-aug-2015": ("run-to-aug-2015", None),
    "early-exit": ("early-exit", None),
    "add-providers": ("add-providers", None),
    "early-exit-workforce": ("early-exit", {"providers.atos.workforce.fte_at_start": 560.0}),
    "early-exit-hiring": ("early-exit", {"providers.atos.workforce.hires_per_month": 20.0}),
    "early-exit-attrition": ("early-exit", {"providers.atos.workforce.attrition_per_month": 0.03}),
    "early-exit-appeals": ("early-exit", {"appeals.appeal_rate_after_mr": 0.5,
                                          "appeals.appeal_rate_before_mr": 0.6}),
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_fast_agrees_with_des(variant):
    name, overrides = VARIANTS[variant]
    sc = _scenario(name, overrides)
    des = get_engine("des").run(sc, range(8), seed=20)
    fast = get_engine("fast").run(sc, range(40), seed=20)
    problems = agreement(des, fast)
    assert not problems, "\n".join(problems)
