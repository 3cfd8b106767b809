"""Sensitivity analysis through the sweep machinery, checked on the Ishigami function's known indices."""

from __future__ import annotations

import numpy as np
import pytest

from wca_sim.sweeps import IshigamiModel, sweep
from wca_sim.sweeps.sensitivity import noise_share, plot_indices, sensitivity

PARAMS = IshigamiModel.params()
#: Published values for a=7, b=0.1 (Saltelli et al. 2008; Ishigami & Homma 1990).
S1_PUBLISHED = {"x1": 0.314, "x2": 0.442, "x3": 0.0}
ST_PUBLISHED = {"x1": 0.558, "x2": 0.442, "x3": 0.244}
#: Tolerance on each index with N=1024 (5,120 model runs); SALib's bootstrap
#: half-widths at this size are 0.03-0.08, the estimator error typically < 0.02.
TOLERANCE = 0.05


def test_closed_form_matches_published_indices():
    exact = IshigamiModel().analytic_indices()
    for key in PARAMS:
        assert exact.loc[key, "S1"] == pytest.approx(S1_PUBLISHED[key], abs=1e-3)
        assert exact.loc[key, "ST"] == pytest.approx(ST_PUBLISHED[key], abs=1e-3)


def test_sobol_indices_of_ishigami_through_the_sweep():
    model = IshigamiModel()
    ds = sweep(IshigamiModel.base(), PARAMS, design="saltelli", points=1024, reps=1, model=model, seed=1)
    assert ds.sizes["point"] == 1024 * (3 + 2)
    table = sensitivity(ds, "y")
    for key in PARAMS:
        assert table.loc[key, "S1"] == pytest.approx(S1_PUBLISHED[key], abs=TOLERANCE)
        assert table.loc[key, "ST"] == pytest.approx(ST_PUBLISHED[key], abs=TOLERANCE)
        assert 0 < table.loc[key, "S1_conf"] < 0.15 and 0 < table.loc[key, "ST_conf"] < 0.15
    fig = plot_indices(table)
    assert fig.axes[0].get_title().startswith("Sensitivity of y")


def test_common_random_numbers_remove_additive_noise_from_indices():
    # With CRN every point gets the same noise in replication r, so point means
    # shift by one constant and the indices equal the noise-free ones.
    clean = sweep(IshigamiModel.base(), PARAMS, design="saltelli", points=256, reps=1, model=IshigamiModel(), seed=3)
    noisy = sweep(IshigamiModel.base(), PARAMS, design="saltelli", points=256, reps=4,
                  model=IshigamiModel(noise_sd=2.0), seed=3)
    a, b = sensitivity(clean, "y"), sensitivity(noisy, "y")
    np.testing.assert_allclose(a[["S1", "ST"]].to_numpy(), b[["S1", "ST"]].to_numpy(), atol=1e-9)


def test_noise_share_with_independent_streams():
    # crn=False: within-point variance is the noise variance sd^2, total is Var(y) + sd^2.
    sd, reps = 2.0, 6
    model = IshigamiModel(noise_sd=sd)
    ds = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=300, reps=reps, model=model, seed=8, crn=False)
    share = noise_share(ds, "y")
    assert share["within_var"] == pytest.approx(sd**2, rel=0.1)
    expected = sd**2 / (model.variance() + sd**2)
    assert share["noise_share"] == pytest.approx(expected, rel=0.15)
    expected_means = (sd**2 / reps) / (model.variance() + sd**2 / reps)
    assert share["noise_share_of_means"] == pytest.approx(expected_means, rel=0.25)
    # Independent streams: no two points share a replication's numbers.
    assert len(np.unique(ds["stream_replication"].to_numpy())) == 300 * reps


def test_morris_screening_ranks_ishigami_inputs():
    ds = sweep(IshigamiModel.base(), PARAMS, design="morris", points=60, reps=1, model=IshigamiModel(), seed=2)
    assert ds.sizes["point"] == 60 * 4
    table = sensitivity(ds, "y")
    # All three matter; x3 acts only through its interaction with x1, so its
    # effects vary in sign and size (sigma large against |mu|).
    assert (table["mu_star"] > 1.0).all()
    assert table.loc["x3", "sigma"] > 2 * abs(table.loc["x3", "mu"])
    # x2 enters additively (a sin^2 x2): no interaction, so its sigma is about its mu_star.
    assert table.loc["x2", "sigma"] < 1.5 * table.loc["x2", "mu_star"]


def test_first_order_indices_from_a_latin_hypercube():
    ds = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=2000, reps=1, model=IshigamiModel(), seed=6)
    table = sensitivity(ds, "y")  # rbd_fast for an LHS design
    assert table.attrs["method"] == "rbd_fast"
    for key in PARAMS:
        assert table.loc[key, "S1"] == pytest.approx(S1_PUBLISHED[key], abs=0.06)


def test_unknown_kpi_named_with_suggestion():
    ds = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=8, reps=1, model=IshigamiModel(), seed=6)
    with pytest.raises(KeyError, match="did you mean 'y'"):
        sensitivity(ds, "yy")
