"""Calibration targets: published figures mapped to model outputs.

Two files, both shipped in ``wca_sim/data``:

- ``published_figures.csv`` (columns ``key, value, unit, period, source_url,
  note``): the figures as published, with their sources. Any other file with
  the same columns can stand in for it.
- ``targets.toml``: for each usable figure, the model output it constrains
  (which time-series variable, which labels, which date or period, how it is
  aggregated) and how the published definition differs. Its header documents
  every field.

:func:`load_targets` joins the two into :class:`Target` objects;
:func:`Target.model_values` computes the mapped model quantity for each
replication of a run, from ``Results.timeseries`` alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..kpis import binned_quantile
from .values import PublishedValue, parse_value

FIGURE_COLUMNS = ("key", "value", "unit", "period", "source_url", "note")

AGGREGATIONS = (
    "on_date", "sum", "mean", "max", "mean_per_week", "mean_per_month", "mean_per_year",
    "completed", "share", "ratio", "relative_change", "median_wait_weeks", "littles_law_weeks",
)

DEFAULT_TOLERANCE = {False: 0.05, True: 0.15}  # relative, by soft


class TargetError(ValueError):
    """A figures or mapping file that cannot be used (message names the file and entry)."""


def data_path(name: str) -> Path:
    """Path of a file shipped in ``wca_sim/data``."""
    return Path(str(resources.files("wca_sim") / "data" / name))


def load_figures(path: str | Path | None = None) -> pd.DataFrame:
    """Read a published-figures CSV (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``key``, columns ``value, unit, period, source_url, note``
        as text, plus ``parsed`` (:class:`PublishedValue`).

    Raises
    ------
    TargetError
        Missing columns or duplicate keys.
    """
    path = Path(path) if path is not None else data_path("published_figures.csv")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise TargetError(f"{path}: cannot read figures: {exc.strerror or exc}") from None
    if not rows:
        raise TargetError(f"{path}: no figures")
    missing = [c for c in ("key", "value") if c not in rows[0]]
    if missing:
        raise TargetError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(FIGURE_COLUMNS)})")
    frame = pd.DataFrame(rows).fillna("")
    for column in FIGURE_COLUMNS:
        if column not in frame:
            frame[column] = ""
    duplicated = frame["key"][frame["key"].duplicated()].tolist()
    if duplicated:
        raise TargetError(f"{path}: figure key(s) repeated: {', '.join(duplicated)}")
    frame["parsed"] = [parse_value(v) for v in frame["value"]]
    return frame.set_index("key")


@dataclass(frozen=True)
class Target:
    """One published figure and the model output it constrains.

    See the header of ``wca_sim/data/targets.toml`` for the meaning of each field.
    """

    figure: str
    published: PublishedValue
    variable: str
    aggregation: str
    select: dict[str, str] = field(default_factory=dict)
    date: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    relation: str = "equal"
    tolerance: float = 0.05
    tolerance_abs: float | None = None
    published_factor: float = 1.0
    weight: float = 1.0
    soft: bool = False
    fit: bool = True
    denominator: str | None = None
    stock: str | None = None
    flow: str | None = None
    reference_value: float | None = None
    definition: str = ""
    unit: str = ""
    period: str = ""
    source_url: str = ""
    note: str = ""

    # ------------------------------------------------------------ published side

    @property
    def interval(self) -> tuple[float, float]:
        """The published value as an interval in model units (before tolerance)."""
        p, f = self.published, self.published_factor
        low, high = p.low * f, p.high * f
        if self.relation == "at_least":
            high = math.inf
        elif self.relation == "at_most":
            low = -math.inf
        return (low, high)

    @property
    def central(self) -> float:
        """A single published value in model units."""
        return self.published.central * self.published_factor

    @property
    def scale(self) -> float:
        """Size of one standard error of fit: the tolerance in model units."""
        if self.tolerance_abs is not None:
            return self.tolerance_abs
        return self.tolerance * max(abs(self.central), 1e-12)

    @property
    def accepted(self) -> tuple[float, float]:
        """The published interval widened by the tolerance on each finite side."""
        low, high = self.interval
        return (low - self.scale, high + self.scale)

    def error(self, model: float) -> float:
        """Standardised error: distance of ``model`` from the published interval in units of :attr:`scale`."""
        low, high = self.interval
        if model < low:
            return (model - low) / self.scale
        if model > high:
            return (model - high) / self.scale
        return 0.0

    @property
    def last_date(self) -> dt.date:
        """Last simulated date the target needs."""
        return self.date or self.end or dt.date.max

    # ---------------------------------------------------------------- model side

    def model_values(self, timeseries: xr.Dataset, scenario: str | None = None) -> np.ndarray:
        """The mapped model quantity, one value per replication.

        Parameters
        ----------
        timeseries
            ``Results.timeseries``.
        scenario
            Scenario to use; default the only (or first) scenario.

        Raises
        ------
        TargetError
            If the variable, a label or a date is not in the time series.
        """
        ds = timeseries
        if "scenario" in ds.dims:
            name = scenario if scenario is not None else str(ds["scenario"].values[0])
            ds = ds.sel(scenario=name)
        values = _aggregate(self, ds)
        return np.asarray(values, dtype=float).reshape(-1)


def _series(target: Target, ds: xr.Dataset, name: str | None = None) -> xr.DataArray:
    """A variable with ``select`` applied and every other category dim summed."""
    name = name or target.variable
    if name not in ds:
        raise TargetError(f"target {target.figure}: variable {name!r} is not in the time series")
    da = ds[name]
    for dim, label in target.select.items():
        if dim not in da.dims:
            continue
        if label not in da[dim].values:
            raise TargetError(f"target {target.figure}: {dim}={label!r} is not in the results "
                              f"(have {', '.join(map(str, da[dim].values))})")
        da = da.sel({dim: label})
    rest = [d for d in da.dims if d not in ("replication", "date")]
    return da.sum(rest) if rest else da


def _window(target: Target, da: xr.DataArray) -> xr.DataArray:
    start, end = np.datetime64(target.start), np.datetime64(target.end)
    dates = da["date"].values
    if start < dates[0] or end > dates[-1]:
        raise TargetError(f"target {target.figure}: period {target.start}..{target.end} is outside the run "
                          f"({str(dates[0])[:10]}..{str(dates[-1])[:10]})")
    return da.sel(date=slice(start, end))


def _on(target: Target, da: xr.DataArray, date: dt.date) -> xr.DataArray:
    day = np.datetime64(date)
    if day not in da["date"].values:
        raise TargetError(f"target {target.figure}: date {date} is outside the run")
    return da.sel(date=day)


def _aggregate(t: Target, ds: xr.Dataset) -> xr.DataArray:
    agg = t.aggregation
    if agg == "median_wait_weeks":
        counts = ds["decisions_by_wait"]
        quarters = [str(p) for p in pd.period_range(t.start, t.end, freq="Q")]
        have = [q for q in quarters if q in counts["referral_quarter"].values]
        if not have:
            raise TargetError(f"target {t.figure}: no referral quarter of {t.start}..{t.end} in the run")
        hist = counts.sel(referral_quarter=have).sum("referral_quarter").fillna(0.0)
        days = binned_quantile(hist.transpose(..., "wait_week").values, 0.5)
        return xr.DataArray(np.asarray(days) / 7.0, dims=("replication",))
    if agg == "on_date":
        return _on(t, _series(t, ds), t.date)
    if agg == "ratio":
        da = _series(t, ds)
        return _on(t, da, t.end) / _on(t, da, t.start)
    da = _window(t, _series(t, ds))
    days = (t.end - t.start).days + 1
    if agg == "sum":
        return da.sum("date")
    if agg == "mean":
        return da.mean("date")
    if agg == "max":
        return da.max("date")
    if agg == "mean_per_week":
        return da.sum("date") / (days / 7.0)
    if agg == "mean_per_month":
        return da.sum("date") / (days / (365.25 / 12))
    if agg == "mean_per_year":
        return da.sum("date") / (days / 365.25)
    if agg == "completed":
        # Outflow of a stage = inflow - increase of its stock over the period.
        stock = _series(t, ds, t.stock)
        before = t.start - dt.timedelta(days=1)
        first = _on(t, stock, before) if np.datetime64(before) in stock["date"].values else 0.0
        return da.sum("date") - (_on(t, stock, t.end) - first)
    if agg == "share":
        denominator = _window(t, _series(t, ds, t.denominator)).sum("date")
        return da.sum("date") / denominator.where(denominator > 0)
    if agg == "relative_change":
        return da.sum("date") / t.reference_value - 1.0
    if agg == "littles_law_weeks":
        flow = _window(t, _series(t, ds, t.flow))
        per_day = flow.sum("date") / days
        return da.mean("date") / per_day.where(per_day > 0) / 7.0
    raise TargetError(f"target {t.figure}: unknown aggregation {agg!r} (one of {', '.join(AGGREGATIONS)})")


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TargetError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


_FIELDS = {
    "figure", "variable", "aggregation", "select", "date", "start", "end", "relation", "tolerance",
    "tolerance_abs", "published_factor", "weight", "soft", "fit", "denominator", "stock", "flow",
    "reference_value", "definition",
}


def load_targets(
    mapping: str | Path | None = None,
    figures: str | Path | pd.DataFrame | None = None,
    *,
    strict: bool = False,
) -> list[Target]:
    """Join a mapping file with a figures file.

    Parameters
    ----------
    mapping
        ``targets.toml``-style file (the shipped one by default).
    figures
        Figures CSV or the frame of :func:`load_figures` (the shipped one by default).
    strict
        Raise if a mapped figure is missing from ``figures``; by default it is skipped
        (another figures file may hold only some of them).

    Returns
    -------
    list[Target]
        One per mapped figure present in ``figures`` with a numeric value.

    Raises
    ------
    TargetError
        Unknown fields, unknown aggregation, missing dates, a non-numeric figure.
    """
    path = Path(mapping) if mapping is not None else data_path("targets.toml")
    table = figures if isinstance(figures, pd.DataFrame) else load_figures(figures)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetError(f"{path}: cannot read mapping: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{path}: malformed TOML: {exc}") from None
    targets = []
    for i, entry in enumerate(spec.get("target", [])):
        where = f"{path}: target #{i + 1} ({entry.get('figure', '?')})"
        unknown = sorted(set(entry) - _FIELDS)
        if unknown:
            raise TargetError(f"{where}: unknown field(s) {', '.join(unknown)}")
        for needed in ("figure", "variable", "aggregation"):
            if needed not in entry:
                raise TargetError(f"{where}: missing {needed!r}")
        if entry["aggregation"] not in AGGREGATIONS:
            raise TargetError(f"{where}: unknown aggregation {entry['aggregation']!r} (one of {', '.join(AGGREGATIONS)})")
        key = entry["figure"]
        if key not in table.index:
            if strict:
                raise TargetError(f"{where}: figure {key!r} is not in the figures file")
            continue
        row = table.loc[key]
        published = row["parsed"]
        if not published.numeric:
            raise TargetError(f"{where}: value {row['value']!r} is not numeric")
        soft = bool(entry.get("soft", False))
        kwargs = {k: v for k, v in entry.items() if k in _FIELDS and k not in ("figure", "date", "start", "end")}
        kwargs.setdefault("tolerance", DEFAULT_TOLERANCE[soft])
        kwargs.setdefault("weight", 0.5 if soft else 1.0)
        target = Target(
            figure=key, published=published, date=_date(entry.get("date"), where),
            start=_date(entry.get("start"), where), end=_date(entry.get("end"), where),
            unit=str(row["unit"]), period=str(row["period"]), source_url=str(row["source_url"]),
            note=str(row["note"]), **kwargs,
        )
        if target.aggregation in ("on_date",) and target.date is None:
            raise TargetError(f"{where}: aggregation on_date needs 'date'")
        if target.aggregation not in ("on_date",) and (target.start is None or target.end is None):
            raise TargetError(f"{where}: aggregation {target.aggregation} needs 'start' and 'end'")
        if target.aggregation == "relative_change" and not target.reference_value:
            raise TargetError(f"{where}: relative_change needs a non-zero 'reference_value'")
        if target.aggregation == "completed" and not target.stock:
            raise TargetError(f"{where}: aggregation completed needs 'stock'")
        if target.aggregation == "share" and not target.denominator:
            raise TargetError(f"{where}: aggregation share needs 'denominator'")
        if target.aggregation == "littles_law_weeks" and not target.flow:
            raise TargetError(f"{where}: aggregation littles_law_weeks needs 'flow'")
        if target.relation not in ("equal", "at_least", "at_most"):
            raise TargetError(f"{where}: relation must be equal, at_least or at_most")
        targets.append(target)
    return targets


def not_mapped(mapping: str | Path | None = None) -> dict[str, str]:
    """Figures the mapping file lists as not usable, with the reason."""
    path = Path(mapping) if mapping is not None else data_path("targets.toml")
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    return {e["figure"]: e.get("reason", "") for e in spec.get("not_mapped", [])}
