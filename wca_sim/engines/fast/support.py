"""What the fast engine can represent: :func:`check` refuses the rest with a clear reason."""

from __future__ import annotations

from ...scenario import Scenario
from .. import UnsupportedScenario


def check(scenario: Scenario) -> None:
    """Raise :class:`~wca_sim.engines.UnsupportedScenario` if the fast engine cannot run ``scenario``.

    Refused:

    - ``handover_policy = "run_off"``: the fast engine keeps one queue per
      region, owned by whoever serves the region, so an outgoing provider cannot
      keep running off its own part of a region's queue.
    - providers with different ``scrutiny_days`` or ``booking_lead_days``: queue
      cells are keyed by ready day and a cell's referral day is recovered from a
      single offset per route.
    """
    names = scenario.provider_names
    run_off = [n for n in names if scenario.providers[n].handover_policy == "run_off"]
    if run_off:
        raise UnsupportedScenario(
            f"fast engine: handover_policy 'run_off' (providers {', '.join(run_off)}) is not represented; "
            "it keeps one queue per region owned by the serving provider. Use engine='des'."
        )
    for field in ("scrutiny_days", "booking_lead_days"):
        values = {round(getattr(scenario.providers[n].productivity, field)) for n in names}
        if len(values) > 1:
            raise UnsupportedScenario(
                f"fast engine: providers differ in productivity.{field} ({sorted(values)}); "
                "the fast engine needs one value for all providers. Use engine='des'."
            )
