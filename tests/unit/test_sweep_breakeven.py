"""Break-even search against a model whose answer is known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from wca_sim.streams import generator
from wca_sim.sweeps import ParamSet
from wca_sim.sweeps.breakeven import breakeven


class Linear:
    """kpi = 10 - x + e_r with e_r ~ N(0, 1) fixed per replication (common random numbers)."""

    def __call__(self, scenario, replications, seed):
        return {"k": [10.0 - scenario["x"] + self.noise(seed, r) for r in replications]}

    @staticmethod
    def noise(seed, r):
        return generator(seed, r, "service").normal()


def test_answer_is_the_quantile_of_the_per_replication_break_evens():
    # kpi_r(x) <= 5  <=>  x >= 5 + e_r, and linear interpolation is exact here, so
    # the smallest x meeting the target in 90% of replications is the
    # ceil(0.9 R)-th smallest of 5 + e_r, computed independently below.
    reps, seed = 200, 3
    result = breakeven(ParamSet({"x": 0.0}), "x", (0.0, 10.0), "k", 5.0, share=0.9, reps=reps,
                       model=Linear(), seed=seed)
    x_r = np.sort([5.0 + Linear.noise(seed, r) for r in range(reps)])
    assert result.value == pytest.approx(x_r[math.ceil(0.9 * reps) - 1], abs=1e-9)
    assert result.ci_low < result.value < result.ci_high
    # The per-replication break-evens are those of the model.
    np.testing.assert_allclose(np.sort(result.crossings), x_r, atol=1e-9)


def test_largest_value_mirrors_the_smallest():
    reps, seed = 200, 4
    # kpi >= 5  <=>  x <= 5 + e_r: the largest x meeting it in 90% of runs is the 10% quantile.
    result = breakeven(ParamSet({"x": 0.0}), "x", (0.0, 10.0), "k", 5.0, share=0.9, find="largest", sense=">=",
                       reps=reps, model=Linear(), seed=seed)
    x_r = np.sort([5.0 + Linear.noise(seed, r) for r in range(reps)])
    assert result.value == pytest.approx(x_r[reps - math.ceil(0.9 * reps)], abs=1e-9)


def test_interval_covers_the_true_quantile_at_about_its_level():
    truth = 5.0 + stats.norm.ppf(0.9)
    covered = 0
    trials = 40
    for seed in range(trials):
        result = breakeven(ParamSet({"x": 0.0}), "x", (0.0, 10.0), "k", 5.0, share=0.9, reps=100,
                           model=Linear(), seed=100 + seed, refine=1, confidence=0.9)
        covered += result.ci_low <= truth <= result.ci_high
    # Nominal 90%; with 40 trials a coverage below 75% would be very unlikely (p < 0.01).
    assert covered / trials >= 0.75


def test_target_out_of_reach_is_reported():
    result = breakeven(ParamSet({"x": 0.0}), "x", (0.0, 2.0), "k", 5.0, share=0.9, reps=50, model=Linear(), seed=1)
    assert math.isnan(result.value)
    assert "fewer than 90%" in result.summary()
