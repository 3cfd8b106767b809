"""The Scenario: a validated, immutable description of one contract arrangement.

Every field carries its unit and its source (a key of the shipped published
figures, ``wca_sim/data/published_figures.csv``) or the word "assumption". The
model these parameters drive is described in ``docs/model.md``.

Time-varying inputs are :class:`~wca_sim.scenario.schedule.Schedule` objects.
Named collections (regions, providers) are tables keyed by name so that dotted
overrides such as ``providers.maximus.workforce.hires_per_month`` address them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .schedule import Schedule

REFERRAL_TYPES: tuple[str, ...] = ("new_claim", "ib_reassessment", "repeat")
OUTCOMES: tuple[str, ...] = ("sg", "wrag", "ffw")
ASSESSMENT_KINDS: tuple[str, ...] = ("paper", "f2f")


def _values_between(low: float, high: float | None):
    def check(schedule: Schedule) -> Schedule:
        for date, value in schedule.points:
            if value < low or (high is not None and value > high):
                bound = f"[{low}, {high}]" if high is not None else f">= {low}"
                when = f" on {date}" if len(schedule.points) > 1 else ""  # a constant has no meaningful date
                raise ValueError(f"value {value}{when} is outside {bound}")
        return schedule

    return check


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
ProbabilitySchedule = Annotated[Schedule, AfterValidator(_values_between(0.0, 1.0))]
NonNegativeSchedule = Annotated[Schedule, AfterValidator(_values_between(0.0, None))]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class PerReferralType(_Frozen):
    """One number per referral type."""

    new_claim: float
    ib_reassessment: float
    repeat: float

    def as_tuple(self) -> tuple[float, float, float]:
        """Values in the order of :data:`REFERRAL_TYPES`."""
        return (self.new_claim, self.ib_reassessment, self.repeat)


class ProbabilityPerReferralType(PerReferralType):
    """One probability per referral type."""

    new_claim: Probability
    ib_reassessment: Probability
    repeat: Probability


class NonNegativePerReferralType(PerReferralType):
    """One non-negative rate per referral type."""

    new_claim: NonNegative
    ib_reassessment: NonNegative
    repeat: NonNegative


class Calendar(_Frozen):
    """When assessment centres, decision makers and tribunals work."""

    working_days: Literal["england-and-wales", "all"] = Field(
        "england-and-wales",
        description="'england-and-wales': Mon-Fri less England & Wales bank holidays "
        "(holidays package); 'all': every calendar day (used for queueing-theory checks).",
    )
    shift_hours: Annotated[float, Field(gt=0.0, le=24.0)] = Field(
        7.5, description="hours: length of an HCP working day. Assumption (standard civil-service day)."
    )


class RepeatDeferral(_Frozen):
    """The January 2014 deferral of routine repeat assessments."""

    start: dt.date | None = Field(
        None,
        description="date: from this date routine repeat referrals are deferred "
        "(repeat_referrals_halted_date: 2014-01-20). Omitted: never deferred.",
    )
    end: dt.date | None = Field(
        None, description="date: deferral ends and deferred repeats are released. Omitted: not before the horizon."
    )
    share_deferred: Probability = Field(
        0.85,
        description="share of repeat referrals falling due in the deferral that are deferred "
        "(the rest are change-of-circumstances referrals that go ahead). Assumption.",
    )
    release_days: NonNegative = Field(
        365.0, description="days: deferred repeats are released uniformly over this many days after `end`. Assumption."
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> RepeatDeferral:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        return self


class Demand(_Frozen):
    """Referrals into the assessment system."""

    new_claims_per_month: NonNegativeSchedule = Field(
        description="referrals/month (national): new ESA claims referred for a WCA "
        "(esa_new_claims_per_month_2012_13)."
    )
    ib_reassessments_per_month: NonNegativeSchedule = Field(
        description="referrals/month (national): IB claimants referred for reassessment "
        "(ib_reassessment_referred_dec2011_feb2012; tails off as IB empties, ib_still_on_ib_may2015)."
    )
    existing_repeats_per_month: NonNegativeSchedule = Field(
        description="referrals/month (national): repeat referrals of claimants decided before the "
        "start date (their prognosis timers fall due). Repeats of claimants decided inside the run are "
        "generated by the model. Assumption, set against wca_backlog_apr2014_repeat."
    )
    closure_hazard_per_week: NonNegativePerReferralType = Field(
        description="1/week: hazard that a waiting referral is closed before assessment (claim "
        "withdrawn, claimant recovered or moved off). closed_before_assessment_share: 36-39% of new claims."
    )
    repeat_deferral: RepeatDeferral = RepeatDeferral()


class ServicePeriod(_Frozen):
    """From ``start``, new referrals of a region go to ``provider``."""

    start: dt.date
    provider: str


class Region(_Frozen):
    """A DWP region: a share of referrals, assessment centres, providers over time."""

    referral_share: Probability = Field(
        description="share of national referrals arising in the region (wca_backlog_apr2014_*: "
        "England/Scotland/Wales split; English regions by population, assumption)."
    )
    assessment_centres: Annotated[int, Field(ge=0)] = Field(
        description="centres in the region (atos_assessment_centres_2012: 123 nationally). Reported, not a constraint."
    )
    served_by: tuple[ServicePeriod, ...] = Field(
        description="who takes new referrals from when; dates strictly increasing; the first must "
        "be on or before the scenario start."
    )

    @model_validator(mode="after")
    def _periods_in_order(self) -> Region:
        if not self.served_by:
            raise ValueError("served_by needs at least one period")
        for earlier, later in zip(self.served_by, self.served_by[1:]):
            if later.start <= earlier.start:
                raise ValueError(f"served_by dates out of order: {later.start} does not come after {earlier.start}")
        return self

    def provider_on(self, date: dt.date) -> str:
        """Provider taking new referrals on ``date``."""
        current = self.served_by[0].provider
        for period in self.served_by:
            if period.start <= date:
                current = period.provider
        return current


class Workforce(_Frozen):
    """A provider's healthcare professionals (HCPs), in FTE."""

    fte_at_start: NonNegative = Field(
        description="FTE HCPs doing WCAs at the scenario start (or at the contract start if later, "
        "before any transfer). Atos headcount 2013 has no public figure: assumption."
    )
    hires_per_month: NonNegativeSchedule = Field(
        description="FTE/month: recruitment decisions. Assumption (maximus_extra_staff_planned: ~1,000 staff in 2015)."
    )
    hiring_lead_days: NonNegative = Field(
        60.0, description="days from a recruitment decision to the start date of the recruit. Assumption."
    )
    training_days: NonNegative = Field(
        90.0,
        description="days: a new HCP's productivity rises linearly from 0 to full over this period. Assumption.",
    )
    attrition_per_month: Probability = Field(
        description="share of FTE leaving per month (atos_doctor_resignations_2003_2007 suggests ~1.5-2.5%/month)."
    )
    attrition_uplift_after_exit: NonNegative = Field(
        1.0,
        description="multiplier on attrition from `exit_announced` to the contract end. Assumption.",
    )
    incidents_per_1000_assessments: NonNegative = Field(
        0.0,
        description="incidents of abuse or assault per 1,000 face-to-face assessments "
        "(atos_staff_abuse_incidents_per_month_2013: 163/month over ~50k assessments ~ 3.3).",
    )
    leavers_per_incident: NonNegative = Field(
        0.0, description="FTE: expected extra leavers caused by each incident. Assumption."
    )
    transfer_from: str | None = Field(
        None, description="provider whose staff transfer to this one at this provider's contract start."
    )
    transfer_share: Probability = Field(
        0.0,
        description="share of the `transfer_from` provider's FTE transferred at this provider's contract start "
        "(no public figure: assumption).",
    )


class Productivity(_Frozen):
    """How a provider turns HCP time into assessments."""

    paper_per_hcp_day: Positive = Field(
        description="paper (file) assessments per HCP working day. Assumption."
    )
    f2f_per_hcp_day: Positive = Field(
        description="face-to-face assessments per HCP working day (wca_duration_doctor_chda: 73-80 min "
        "each incl. report -> 5-6 per 7.5 h day)."
    )
    service_time_cv: NonNegative = Field(
        0.3,
        description="coefficient of variation of one assessment's duration (gamma; 1 = exponential, "
        "0 = fixed). Assumption.",
    )
    paper_share: ProbabilityPerReferralType = Field(
        description="share of referrals advised on paper without a face-to-face assessment "
        "(edinburgh_paper_sg_share_sep2012: ~37% in one area, 2012)."
    )
    scrutiny_days: NonNegative = Field(
        5.0, description="days from referral before a file can be scrutinised or an appointment offered. Assumption."
    )
    booking_lead_days: NonNegative = Field(
        14.0, description="days' notice of a face-to-face appointment: minimum time from booking to attendance. Assumption."
    )
    dna_rate: Probability = Field(
        description="share of face-to-face appointments not attended (dna_rate_invited_edinburgh_sep2012: up to 35%)."
    )
    dna_rebook_share: Probability = Field(
        0.5,
        description="share of non-attenders rebooked; the rest have their referral closed. Assumption.",
    )
    dna_slot_fraction: Probability = Field(
        0.5,
        description="fraction of an assessment's HCP time lost to a missed appointment (overbooking recovers the rest). Assumption.",
    )
    rework_rate: Probability = Field(
        0.05,
        description="share of reports returned for rework (report_quality_c_grade_2013; dm_return_rate_reports_2012 "
        "claims <0.1%). Assumption within that range.",
    )
    rework_effort: NonNegative = Field(
        0.3, description="extra HCP time to rework a report, as a fraction of the assessment. Assumption."
    )
    rework_days: NonNegative = Field(
        10.0, description="days a reworked report adds before it reaches the decision maker. Assumption."
    )


class Prices(_Frozen):
    """What DWP pays the provider per completed assessment."""

    paper: NonNegativeSchedule = Field(description="GBP per paper assessment. Assumption (about half a face-to-face).")
    f2f: NonNegativeSchedule = Field(
        description="GBP per face-to-face assessment (atos_cost_per_esa_assessment: 115; maximus_cost_per_assessment: 190)."
    )


class Provider(_Frozen):
    """An assessment provider and its contract."""

    contract_start: dt.date = Field(description="date the provider starts assessing.")
    exit_announced: dt.date | None = Field(
        None, description="date an early exit is announced (atos_exit_announced: 2014-03-27); attrition uplift applies from here."
    )
    contract_end: dt.date = Field(description="last date the provider assesses.")
    handover_policy: Literal["transfer", "run_off"] = Field(
        "transfer",
        description="what happens to the provider's waiting claimants in a region when that region passes to "
        "another provider: 'transfer' moves them to the successor's queue on the hand-over date (keeping their "
        "referral dates); 'run_off' keeps them with this provider until its contract end, then transfers what is left.",
    )
    workforce: Workforce
    productivity: Productivity
    prices: Prices

    @model_validator(mode="after")
    def _dates_in_order(self) -> Provider:
        if self.contract_end < self.contract_start:
            raise ValueError(f"contract_end ({self.contract_end}) comes before contract_start ({self.contract_start})")
        if self.exit_announced is not None and not (self.contract_start <= self.exit_announced <= self.contract_end):
            raise ValueError(
                f"exit_announced ({self.exit_announced}) must fall between contract_start and contract_end"
            )
        return self


class PrognosisDistribution(_Frozen):
    """Months until a repeat assessment is due, drawn from a discrete distribution."""

    months: tuple[Positive, ...]
    probabilities: tuple[Probability, ...]

    @model_validator(mode="after")
    def _sums_to_one(self) -> PrognosisDistribution:
        if len(self.months) != len(self.probabilities) or not self.months:
            raise ValueError("months and probabilities must be non-empty and of equal length")
        if abs(sum(self.probabilities) - 1.0) > 1e-6:
            raise ValueError(f"probabilities sum to {sum(self.probabilities):.6g}, not 1")
        return self


class OutcomeShares(_Frozen):
    """Decision outcome shares for one referral type; FFW is the remainder."""

    sg: ProbabilitySchedule = Field(description="share placed in the Support Group.")
    wrag: ProbabilitySchedule = Field(description="share placed in the Work-Related Activity Group.")

    @model_validator(mode="after")
    def _leaves_room_for_ffw(self) -> OutcomeShares:
        dates = sorted({d for d, _ in self.sg.points} | {d for d, _ in self.wrag.points})
        for date in dates:
            if self.sg.at(date) + self.wrag.at(date) > 1.0 + 1e-9:
                raise ValueError(f"sg + wrag exceeds 1 on {date}")
        return self


class Decisions(_Frozen):
    """DWP decision makers."""

    delay_days_mean: NonNegative = Field(
        14.0, description="days from the provider's report to the decision (mean). Assumption."
    )
    delay_days_cv: NonNegative = Field(0.5, description="coefficient of variation of that delay (gamma). Assumption.")
    new_claim: OutcomeShares = Field(description="outcome_new_claims_q1_2013, outcome_new_claims_2013_after_appeal.")
    ib_reassessment: OutcomeShares = Field(description="ib_reassess_dec2011_feb2012_outcome, outcome_ib_to_esa_2013.")
    repeat: OutcomeShares = Field(description="outcome_repeat_2013.")
    prognosis_sg: PrognosisDistribution = Field(description="months to the repeat assessment for SG. Assumption.")
    prognosis_wrag: PrognosisDistribution = Field(description="months to the repeat assessment for WRAG. Assumption.")

    def shares_for(self, referral_type: str) -> OutcomeShares:
        """Outcome shares of a referral type."""
        return getattr(self, referral_type)


class Reconsideration(_Frozen):
    """Mandatory reconsideration (MR) of Fit-for-Work decisions."""

    start: dt.date | None = Field(
        None, description="date MR becomes mandatory before appeal (mr_intro_date_esa: 2013-10-28). Omitted: never."
    )
    request_rate: ProbabilitySchedule = Field(
        description="share of FFW decisions (from `start`) for which an MR is requested (mr_decisions_oct2013_apr2016)."
    )
    duration_days_mean: NonNegative = Field(
        30.0, description="days from request to MR decision (mean; mr_plus_tribunal_weeks_2014 suggests ~9 weeks incl. lodging)."
    )
    duration_days_cv: NonNegative = Field(0.5, description="coefficient of variation of MR duration (gamma). Assumption.")
    revision_rate: ProbabilitySchedule = Field(
        description="share of MRs that revise the decision to an award (mr_decisions_oct2013_apr2016: 20% overall)."
    )
    revised_to_sg_share: Probability = Field(
        0.3, description="share of revised MRs placed in SG (the rest WRAG). Assumption."
    )


class Appeals(_Frozen):
    """Appeals to the First-tier Tribunal (SSCS)."""

    appeal_rate_before_mr: ProbabilitySchedule = Field(
        description="share of FFW decisions appealed directly, before MR exists (share_decisions_appealed_2012: ~40%)."
    )
    appeal_rate_after_mr: ProbabilitySchedule = Field(
        description="share of unrevised MRs that go on to appeal (esa_appeals_fall_janmar2014_yoy: appeals fell ~89%)."
    )
    lodging_days_mean: NonNegative = Field(
        20.0, description="days from the decision (or MR) to the appeal reaching the tribunal. Assumption."
    )
    hearings_per_working_day: NonNegativeSchedule = Field(
        description="ESA appeals the tribunal can clear per working day, national "
        "(esa_appeals_disposed_2009_10 and SSCS clearance series)."
    )
    withdrawal_hazard_per_week: NonNegative = Field(
        0.005, description="1/week: hazard an appeal is withdrawn or struck out while waiting. Assumption."
    )
    overturn_rate: ProbabilitySchedule = Field(
        description="share of hearings decided for the appellant (appeal_overturn_rate_q1_2013_14: 42%)."
    )
    overturned_to_sg_share: Probability = Field(
        0.2, description="share of overturned appeals placed in SG (rest WRAG). Assumption."
    )


class Costs(_Frozen):
    """Unit costs beyond provider prices."""

    tribunal_per_appeal: NonNegativeSchedule = Field(
        description="GBP per appeal heard or withdrawn (appeal_cost_per_case_2013_14: 248)."
    )
    dwp_per_decision: NonNegativeSchedule = Field(description="GBP per DWP decision. Assumption.")
    dwp_per_mr: NonNegativeSchedule = Field(description="GBP per mandatory reconsideration. Assumption.")
    assessment_rate_per_week: NonNegativeSchedule = Field(
        description="GBP/week: ESA assessment-rate benefit paid to a new claimant from referral to decision "
        "(esa_target_assessment_phase_weeks: GBP73.10/week in 2015)."
    )


class QueueStock(_Frozen):
    """Part of the initial provider queue: ``count`` referrals of one type, ages uniform."""

    referral_type: Literal["new_claim", "ib_reassessment", "repeat"]
    count: NonNegative = Field(description="claimants (national).")
    min_age_days: NonNegative = 0.0
    max_age_days: NonNegative = Field(description="days since referral of the oldest; ages uniform in [min, max].")

    @model_validator(mode="after")
    def _ages_in_order(self) -> QueueStock:
        if self.max_age_days < self.min_age_days:
            raise ValueError("max_age_days is below min_age_days")
        return self


class InitialState(_Frozen):
    """The stock on the start date: a run never starts from empty."""

    provider_queue: tuple[QueueStock, ...] = Field(
        description="claimants waiting for assessment by referral type and age (wca_backlog_apr2014_*)."
    )
    awaiting_decision: NonNegative = Field(
        0.0, description="claimants assessed and waiting for a DWP decision (national). Assumption."
    )
    awaiting_decision_max_age_days: NonNegative = Field(
        120.0, description="days since referral of those awaiting a decision: uniform up to this. Assumption."
    )
    mr_pending: NonNegative = Field(0.0, description="MRs in progress (national). Assumption.")
    tribunal_backlog: NonNegative = Field(
        description="ESA appeals waiting for a hearing (national; sscs_outstanding_spring2013 for all SSCS)."
    )
    tribunal_max_age_days: NonNegative = Field(180.0, description="days: ages of waiting appeals uniform up to this.")


class Scenario(_Frozen):
    """Everything one run needs: demand, geography, providers, decisions, appeals, costs, initial state.

    Build from TOML with :func:`wca_sim.load_scenario`, or in Python with
    ``Scenario.model_validate(dict)``. Instances are frozen; use
    :meth:`with_overrides` for variants.
    """

    name: str = Field(description="identifier used in results.")
    description: str = ""
    start_date: dt.date = Field(description="first simulated day.")
    end_date: dt.date = Field(description="last simulated day (inclusive).")
    scale: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0,
        description="fraction of claimants simulated; capacities scale alike and counts are reported at national scale.",
    )
    report_dates: tuple[dt.date, ...] = Field(description="dates on which the backlog is reported as a KPI.")
    calendar: Calendar = Calendar()
    demand: Demand
    regions: dict[str, Region]
    providers: dict[str, Provider]
    decisions: Decisions
    reconsideration: Reconsideration
    appeals: Appeals
    costs: Costs
    initial_state: InitialState

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.end_date <= self.start_date:
            raise ValueError(f"end_date ({self.end_date}) must come after start_date ({self.start_date})")
        for date in self.report_dates:
            if not self.start_date <= date <= self.end_date:
                raise ValueError(f"report date {date} is outside start_date..end_date")
        if not self.regions:
            raise ValueError("at least one region is needed")
        total = sum(r.referral_share for r in self.regions.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"regions' referral_share sum to {total:.6g}, not 1")
        for region_name, region in self.regions.items():
            if region.served_by[0].start > self.start_date:
                raise ValueError(f"regions.{region_name}.served_by: first period starts after start_date")
            for period in region.served_by:
                provider = self.providers.get(period.provider)
                if provider is None:
                    raise ValueError(
                        f"regions.{region_name}.served_by: unknown provider {period.provider!r} "
                        f"(known: {', '.join(sorted(self.providers))})"
                    )
                if not provider.contract_start <= max(period.start, self.start_date) <= provider.contract_end:
                    raise ValueError(
                        f"regions.{region_name}.served_by: {period.provider} takes the region on {period.start}, "
                        f"outside its contract {provider.contract_start}..{provider.contract_end}"
                    )
        for name, provider in self.providers.items():
            source = provider.workforce.transfer_from
            if source is not None and source not in self.providers:
                raise ValueError(f"providers.{name}.workforce.transfer_from: unknown provider {source!r}")
        return self

    @property
    def days(self) -> int:
        """Number of simulated days (inclusive of both ends)."""
        return (self.end_date - self.start_date).days + 1

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(self.regions)

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(self.providers)

    def with_overrides(self, overrides: dict[str, object]) -> Scenario:
        """A new Scenario with dotted keys replaced, e.g. ``{"providers.atos.workforce.fte_at_start": 500}``.

        Raises
        ------
        wca_sim.scenario.ScenarioError
            If a key does not exist (with a did-you-mean) or a value is invalid.
        """
        from .io import apply_overrides

        return apply_overrides(self, overrides)
