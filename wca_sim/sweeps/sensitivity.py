"""Sensitivity indices of a sweep's KPIs, separated from Monte Carlo noise.

Indices are computed on the *mean over replications* of a KPI at each point,
so they describe the parameters' effect on the expected KPI. How much of what
is left is still Monte Carlo noise is reported by :func:`noise_share`.

Methods (SALib), chosen by the design unless asked for:

``sobol``  (design ``saltelli``)
    First-order ``S1`` and total ``ST`` Sobol' indices with bootstrap
    confidence intervals (``S1_conf``, ``ST_conf`` are half-widths).
``morris`` (design ``morris``)
    Elementary effects: ``mu``, ``mu_star`` (mean absolute effect, with
    ``mu_star_conf``) and ``sigma`` (non-linearity / interactions).
``rbd_fast`` (designs ``lhs``, ``sobol``, ``grid``)
    First-order indices ``S1`` (with ``S1_conf``) from any sample.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

METHOD_FOR_DESIGN = {"saltelli": "sobol", "morris": "morris", "lhs": "rbd_fast", "sobol": "rbd_fast", "grid": "rbd_fast"}


def sweep_info(dataset: xr.Dataset) -> dict[str, Any]:
    """The design description stored in a sweep Dataset's attributes."""
    return json.loads(dataset.attrs["sweep"])["design"]


def point_means(dataset: xr.Dataset, kpi: str) -> np.ndarray:
    """Mean of ``kpi`` over replications at each point."""
    _check_kpi(dataset, kpi)
    return dataset["kpis"].sel(kpi=kpi).mean("replication").to_numpy()


def noise_share(dataset: xr.Dataset, kpi: str) -> dict[str, float]:
    """How much of a KPI's variance is Monte Carlo noise rather than parameter effect.

    Returns
    -------
    dict
        ``within_var``: mean over points of the variance between replications;
        ``total_var``: variance of all (point, replication) values;
        ``noise_share``: within_var / total_var (noise share of single runs);
        ``noise_share_of_means``: (within_var / reps) / variance of the point
        means, the noise left in the means the indices are computed from;
        ``reps``. With one replication the within-point terms are NaN.
    """
    values = dataset["kpis"].sel(kpi=kpi).to_numpy()
    reps = values.shape[1]
    total = float(np.var(values, ddof=1)) if values.size > 1 else float("nan")
    within = float(np.mean(np.var(values, axis=1, ddof=1))) if reps > 1 else float("nan")
    means_var = float(np.var(values.mean(axis=1), ddof=1)) if values.shape[0] > 1 else float("nan")
    return {
        "within_var": within,
        "total_var": total,
        "noise_share": within / total if total > 0 else float("nan"),
        "noise_share_of_means": (within / reps) / means_var if means_var > 0 else float("nan"),
        "reps": reps,
    }


def sensitivity(
    dataset: xr.Dataset,
    kpi: str,
    method: str | None = None,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Sensitivity indices of one KPI, one row per parameter.

    Parameters
    ----------
    dataset
        A sweep result (:func:`wca_sim.sweeps.sweep` or ``load_sweep``).
    kpi
        KPI name (a value of the ``kpi`` coordinate).
    method
        ``"sobol"``, ``"morris"`` or ``"rbd_fast"``; default by design (module docstring).
    conf_level, num_resamples, seed
        Bootstrap settings of SALib's confidence intervals (seeded, so repeatable).

    Returns
    -------
    pandas.DataFrame
        Index ``param``; the method's index columns and their ``*_conf``
        half-widths. ``attrs`` carry the method, KPI and :func:`noise_share`.
    """
    info = sweep_info(dataset)
    method = method or METHOD_FOR_DESIGN[info["design"]]
    problem = info["problem"]
    y = point_means(dataset, kpi)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"KPI {kpi!r} is missing or not finite at {int((~np.isfinite(y)).sum())} points")
    if method == "sobol":
        if info["design"] != "saltelli":
            raise ValueError("Sobol' indices need the 'saltelli' design")
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=False, conf_level=conf_level,
                            num_resamples=num_resamples, seed=seed)
        columns = ["S1", "S1_conf", "ST", "ST_conf"]
    elif method == "morris":
        if info["design"] != "morris":
            raise ValueError("Morris screening needs the 'morris' design")
        from SALib.analyze import morris

        res = morris.analyze(problem, np.asarray(info["X"]), y, num_resamples=num_resamples,
                             conf_level=conf_level, num_levels=info["num_levels"], seed=seed)
        columns = ["mu", "mu_star", "mu_star_conf", "sigma"]
    elif method == "rbd_fast":
        from SALib.analyze import rbd_fast

        res = rbd_fast.analyze(problem, design_matrix(dataset), y, num_resamples=num_resamples,
                               conf_level=conf_level, seed=seed)
        columns = ["S1", "S1_conf"]
    else:
        raise ValueError(f"unknown method {method!r}; choose sobol, morris or rbd_fast")
    table = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in columns},
                         index=pd.Index(problem["names"], name="param"))
    table.attrs.update({"method": method, "kpi": kpi, "conf_level": conf_level, **noise_share(dataset, kpi)})
    return table


def design_matrix(dataset: xr.Dataset) -> np.ndarray:
    """The points as SALib sees them (list parameters by value index + 0.5)."""
    info = sweep_info(dataset)
    if info.get("X") is not None:
        return np.asarray(info["X"], dtype=float)
    columns = []
    for param in info["params"]:
        values = dataset[param["key"]].to_numpy()
        if param["values"] is None:
            columns.append(values.astype(float))
        else:
            listed = [str(v) for v in param["values"]]
            columns.append(np.array([listed.index(str(v)) + 0.5 for v in values]))
    return np.column_stack(columns)


def plot_indices(table: pd.DataFrame, title: str | None = None):
    """Horizontal bar chart (tornado) of the indices of :func:`sensitivity`, largest at the top.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    method = table.attrs.get("method", "")
    bars = [c for c in ("ST", "S1", "mu_star", "sigma") if c in table.columns]
    order = table.sort_values(bars[0]).index
    height = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(order) * max(1, len(bars) / 2)))
    y = np.arange(len(order))
    labels = {"S1": "first order S1", "ST": "total order ST", "mu_star": "mu* (mean |effect|)", "sigma": "sigma (interactions)"}
    for i, column in enumerate(bars):
        err = table.loc[order, f"{column}_conf"] if f"{column}_conf" in table.columns else None
        ax.barh(y + (i - (len(bars) - 1) / 2) * height, table.loc[order, column], height=height,
                xerr=err, capsize=3, label=labels[column])
    ax.set_yticks(y, [str(p) for p in order])
    ax.axvline(0, color="black", linewidth=0.8)
    unit = "share of variance" if method in ("sobol", "rbd_fast") else "KPI units"
    ax.set_xlabel(f"index ({unit}); bars show {int(100 * table.attrs.get('conf_level', 0.95))}% intervals")
    noise = table.attrs.get("noise_share_of_means")
    subtitle = f"  (Monte Carlo noise: {noise:.1%} of variance of point means)" if noise is not None and np.isfinite(noise) else ""
    ax.set_title(title or f"Sensitivity of {table.attrs.get('kpi', 'KPI')} ({method}){subtitle}", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def _check_kpi(dataset: xr.Dataset, kpi: str) -> None:
    names = [str(k) for k in dataset["kpi"].values]
    if kpi not in names:
        import difflib

        close = difflib.get_close_matches(kpi, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown KPI {kpi!r}{hint}; the sweep has {len(names)} KPIs: {', '.join(names[:12])}"
                       + (" ..." if len(names) > 12 else ""))
