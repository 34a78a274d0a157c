"""Objectives: add, close, measure baselines, and each one's progress and activity plan."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import ARSnapshot, ContactAttempt, Invoice, Objective, Payment
from bot.domain.activity_plan import (
    CashPerCall,
    calls_per_day,
    default_cash_per_call,
    learn_cash_per_call,
    money_needed,
)
from bot.domain.aging import Bucket, bucket_for
from bot.domain.ar_history import Scope
from bot.domain.calendar import is_working_day, local_date
from bot.domain.metrics import ZERO, LedgerFacts, Metrics, round2
from bot.domain.objectives import (
    OBJECTIVE_METRICS,
    ActivityPlan,
    ObjectiveProgress,
    Target,
    check_goals,
    fraction_done,
    parse_target,
    project_flow,
    project_trend,
    status_of,
)
from bot.domain.vocabulary import CALL_OUTCOMES, InvoiceStatus
from bot.services.errors import NotAllowed, ServiceError
from bot.services.metrics import (
    DEFAULT_PERIOD_DAYS,
    TEAM,
    ActivityTotals,
    MetricsConfig,
    active_collectors,
    cash_received,
    daily_activity,
    holidays_for,
    ledger_facts_as_of,
    metrics_as_of,
)
from bot.views.text import Message

TEAM_WEEKDAYS = frozenset({1, 2, 3, 4, 5})
LEARN_DAYS = 180
PAID_WITHIN_DAYS = 30
MADE_DAYS = 5


class ObjectiveError(ServiceError):
    """A bad objective: the message says what to fix; `field` names the input at fault
    (metric, target, start, end, goals), so a form can show it there."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _target_of(objective: Objective) -> Target:
    return Target(absolute=objective.target, change_pct=objective.target_change_pct)


class Measured:
    """The team's ledger facts and metrics per day, each computed once for every objective
    (and the activity plan) that reads them in one request."""

    def __init__(self, session: Session, config: MetricsConfig) -> None:
        self.session, self.config = session, config
        self.facts: dict[date, dict[Scope, LedgerFacts]] = {}
        self.team: dict[date, Metrics] = {}

    def facts_on(self, day: date) -> dict[Scope, LedgerFacts]:
        if day not in self.facts:
            self.facts[day] = ledger_facts_as_of(self.session, day, DEFAULT_PERIOD_DAYS,
                                                 self.config.currency)
        return self.facts[day]

    def team_on(self, day: date) -> Metrics:
        if day not in self.team:
            self.team[day] = metrics_as_of(self.session, day, self.config, DEFAULT_PERIOD_DAYS,
                                           ledger=self.facts_on(day)).team
        return self.team[day]


def metric_on(session: Session, metric: str, day: date, config: MetricsConfig, *,
              since: date | None = None, measured: Measured | None = None) -> Decimal | None:
    """A metric's team value on a day (a flow metric summed from `since`)."""
    spec = OBJECTIVE_METRICS[metric]
    if spec.kind == "stock":
        return (measured or Measured(session, config)).team_on(day).value(metric)
    first = since or day
    if day < first:
        return ZERO
    if metric == "cash_collected":
        return round2(sum(cash_received(session, first, day).values(), ZERO))
    if config.collector_day_cost is None:
        return None
    totals = ActivityTotals(daily_activity(session, first, day, config.zone),
                            active_collectors(session), first, day,
                            holidays_for(config, first, day))
    days = sum(f.collector_days for f in totals.facts(first, day).values())
    return round2(config.collector_day_cost * days)


def check_objective(*, metric: str, target: str, start: date, end: date, today: date,
                    config: MetricsConfig) -> Target:
    """The target parsed, or ObjectiveError naming the field: the rules `objective add` and the
    Slack form share."""
    if metric not in OBJECTIVE_METRICS:
        raise ObjectiveError(f"unknown metric {metric!r}", "metric")
    try:
        parsed = parse_target(target, metric)
    except ValueError as exc:
        raise ObjectiveError(str(exc), "target") from None
    if end < start:
        raise ObjectiveError(f"the end ({end.isoformat()}) is before the start "
                             f"({start.isoformat()})", "end")
    if end < today:
        raise ObjectiveError(f"the end ({end.isoformat()}) has passed", "end")
    if metric == "cost_of_collecting" and config.collector_day_cost is None:
        raise ObjectiveError("a spend cap needs COLLECTBOT_COLLECTOR_DAY_COST (the cost of one "
                             "collector-day)", "metric")
    return parsed


def add_objective(session: Session, *, metric: str, target: str, start: date, end: date,
                  today: date, config: MetricsConfig, name: str | None = None,
                  note: str | None = None, actor: str = "cli") -> Objective:
    """A new objective; the baseline is measured now if the start date has come."""
    parsed = check_objective(metric=metric, target=target, start=start, end=end, today=today,
                             config=config)
    spec = OBJECTIVE_METRICS[metric]
    objective = Objective(
        name=(name or f"{spec.label} {target.strip()}").strip()[:200], metric=metric,
        target=parsed.absolute, target_change_pct=parsed.change_pct, start=start, end=end,
        note=(note or None) and note[:300], status="open", created_by=actor,
    )
    session.add(objective)
    session.flush()
    measure_baselines(session, today, config)
    session.flush()
    return objective


def open_objective(session: Session, objective_id: int) -> Objective:
    """The objective, or ObjectiveError when there is none or it is closed."""
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise ObjectiveError(f"no objective {objective_id}")
    if objective.status != "open":
        raise ObjectiveError(f"objective {objective_id} is already closed")
    return objective


def check_edit(objective: Objective, *, target: str, end: date, today: date) -> Target:
    """A new target and end for an open objective, checked by the rules of `objective add`."""
    try:
        parsed = parse_target(target, objective.metric)
    except ValueError as exc:
        raise ObjectiveError(str(exc), "target") from None
    if end < objective.start:
        raise ObjectiveError(f"the end ({end.isoformat()}) is before the start "
                             f"({objective.start.isoformat()})", "end")
    if end < today and end != objective.end:
        raise ObjectiveError(f"the end ({end.isoformat()}) has passed", "end")
    return parsed


def edit_objective(session: Session, objective_id: int, *, target: str, end: date,
                   note: str | None, today: date) -> Objective:
    """Change an open objective's target, end date and note (the baseline stays)."""
    objective = open_objective(session, objective_id)
    parsed = check_edit(objective, target=target, end=end, today=today)
    objective.target = parsed.absolute
    objective.target_change_pct = parsed.change_pct
    objective.end = end
    objective.note = (note or "").strip()[:300] or None
    return objective


def target_text(objective: Objective) -> str:
    """The objective's target as `objective add --target` reads it: -5% or 45."""
    if objective.target_change_pct is not None:
        change = objective.target_change_pct.normalize()
        return f"{'+' if change > 0 else ''}{change:f}%"
    return "" if objective.target is None else f"{objective.target.normalize():f}"


def measure_baselines(session: Session, today: date, config: MetricsConfig) -> int:
    """Open objectives whose start has come get their baseline: the metric on the start date
    (0 for a sum from the start). Returns how many were measured."""
    waiting = session.scalars(select(Objective).where(
        Objective.status == "open", Objective.baseline.is_(None), Objective.start <= today))
    done = 0
    measured = Measured(session, config)
    for objective in waiting:
        spec = OBJECTIVE_METRICS.get(objective.metric)
        if spec is None:
            continue
        value = ZERO if spec.kind == "flow" else metric_on(session, objective.metric,
                                                           objective.start, config,
                                                           measured=measured)
        if value is not None:
            objective.baseline = value
            done += 1
    return done


def close_objective(session: Session, objective_id: int, *, now: datetime) -> Objective:
    objective = open_objective(session, objective_id)
    objective.status = "closed"
    objective.closed_at = now
    return objective


def set_goals(session: Session, objective_id: int, goals: str, *, is_manager: bool) -> Objective:
    """The short text under an objective saying how it will be met (managers only)."""
    if not is_manager:
        raise NotAllowed("Only managers and admins set goals.")
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise ObjectiveError(f"no objective {objective_id}")
    try:
        objective.goals = check_goals(goals) or None
    except ValueError as exc:
        raise ObjectiveError(str(exc), "goals") from None
    return objective


# -- the activity plan --------------------------------------------------------------------------


def call_observations(session: Session, as_of: date, config: MetricsConfig
                      ) -> list[tuple[Bucket, Decimal]]:
    """(account's bucket on the call's day, paid in the 30 days after) for every call made
    between 180 and 30 days before `as_of`."""
    lo = as_of - timedelta(days=LEARN_DAYS)
    hi = as_of - timedelta(days=PAID_WITHIN_DAYS)
    calls = [(customer, local_date(at, config.zone)) for customer, at in session.execute(
        select(ContactAttempt.customer_id, ContactAttempt.at).where(
            ContactAttempt.at >= datetime.combine(lo, datetime.min.time(), config.zone),
            ContactAttempt.at < datetime.combine(hi + timedelta(days=1), datetime.min.time(),
                                                 config.zone),
            ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)))).tuples()]
    if not calls:
        return []
    customers = sorted({c for c, _ in calls})
    invoices: dict[int, list[tuple[date, date, date | None]]] = defaultdict(list)
    for customer, issued, due, settled in session.execute(
        select(Invoice.customer_id, Invoice.issue_date, Invoice.due_date, Invoice.settled_date)
        .where(Invoice.customer_id.in_(customers), Invoice.status != InvoiceStatus.VOID,
               or_(Invoice.settled_date.is_(None), Invoice.settled_date > lo))).tuples():
        invoices[customer].append((issued, due, settled))
    payments: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for customer, paid_on, amount in session.execute(
        select(Payment.customer_id, Payment.paid_on, Payment.amount).where(
            Payment.customer_id.in_(customers), Payment.paid_on > lo)).tuples():
        payments[customer].append((paid_on, Decimal(amount)))
    out: list[tuple[Bucket, Decimal]] = []
    for customer, day in calls:
        open_dues = [due for issued, due, settled in invoices[customer]
                     if issued <= day and (settled is None or settled > day)]
        if not open_dues:
            continue
        paid = sum((a for on, a in payments[customer]
                    if day < on <= day + timedelta(days=PAID_WITHIN_DAYS)), ZERO)
        out.append((bucket_for(min(open_dues), day), paid))
    return out


def past_due_accounts(session: Session, as_of: date) -> dict[Bucket, int]:
    """Open past-due invoices per bucket on a date (for the default cash per call)."""
    counts: dict[Bucket, int] = defaultdict(int)
    for (due,) in session.execute(select(Invoice.due_date).where(
            Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= as_of,
            Invoice.due_date < as_of,
            or_(Invoice.settled_date.is_(None), Invoice.settled_date > as_of),
            Invoice.amount > Invoice.amount_paid)).tuples():
        counts[bucket_for(due, as_of)] += 1
    return counts


def team_working_days(config: MetricsConfig, first: date, last: date) -> list[date]:
    if last < first:
        return []
    holidays = holidays_for(config, first, last)
    days = []
    day = first
    while day <= last:
        if is_working_day(day, TEAM_WEEKDAYS, holidays):
            days.append(day)
        day += timedelta(days=1)
    return days


def calls_made_per_day(session: Session, as_of: date, config: MetricsConfig) -> Decimal:
    """The team's calls a day over the last 5 working days before `as_of`."""
    days = team_working_days(config, as_of - timedelta(days=21), as_of - timedelta(days=1))
    recent = days[-MADE_DAYS:]
    if not recent:
        return ZERO
    activity = daily_activity(session, recent[0], recent[-1], config.zone)
    made = sum(n for (_, day), n in activity.calls.items() if day in set(recent))
    return round2(Decimal(made) / len(recent))


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What every objective's plan shares on one day."""

    facts: LedgerFacts
    cash_per_call: CashPerCall
    planned: int
    made: Decimal


def plan_inputs(session: Session, as_of: date, config: MetricsConfig, *,
                measured: Measured | None = None) -> PlanInputs:
    facts = LedgerFacts.total((measured or Measured(session, config)).facts_on(as_of).values())
    defaults = default_cash_per_call(facts.ending, past_due_accounts(session, as_of))
    per_call = learn_cash_per_call(call_observations(session, as_of, config), defaults)
    planned = sum(m.daily_call_target for m in active_collectors(session))
    return PlanInputs(facts=facts, cash_per_call=per_call, planned=planned,
                      made=calls_made_per_day(session, as_of, config))


def activity_plan(objective: Objective, *, target: Decimal | None, now: Decimal | None,
                  inputs: PlanInputs, as_of: date, config: MetricsConfig) -> ActivityPlan:
    """Calls a day the objective needs from `as_of` to its end (see bot.domain.activity_plan)."""
    per_call = inputs.cash_per_call.blended(inputs.facts.ending)
    needed_money = None if target is None else money_needed(
        objective.metric, target, inputs.facts, DEFAULT_PERIOD_DAYS,
        collected_so_far=now or ZERO)
    days_left = len(team_working_days(config, max(as_of, objective.start), objective.end))
    learned = bool(inputs.cash_per_call.learned)
    return ActivityPlan(money_needed=needed_money, cash_per_call=per_call, learned=learned,
                        working_days_left=days_left,
                        needed=calls_per_day(needed_money, per_call, days_left),
                        planned=inputs.planned, made=inputs.made)


# -- progress -----------------------------------------------------------------------------------


def _history(session: Session, metric: str, first: date, last: date) -> list[tuple[date, Decimal]]:
    points = []
    for day, metrics in session.execute(
        select(ARSnapshot.snapshot_date, ARSnapshot.metrics).where(
            ARSnapshot.scope == TEAM, ARSnapshot.snapshot_date >= first,
            ARSnapshot.snapshot_date <= last).order_by(ARSnapshot.snapshot_date)).tuples():
        value = metrics.get(metric)
        if value is not None:
            points.append((day, Decimal(str(value))))
    return points


def objective_progress(session: Session, objective: Objective, as_of: date,
                       config: MetricsConfig, inputs: PlanInputs | None = None, *,
                       measured: Measured | None = None) -> ObjectiveProgress:
    """Baseline → now → target, the projection to the end date, and the activity plan."""
    spec = OBJECTIVE_METRICS[objective.metric]
    target = _target_of(objective).resolve(objective.baseline)
    day = min(as_of, objective.end)
    measured = measured or Measured(session, config)
    now = None if as_of < objective.start else metric_on(session, objective.metric, day, config,
                                                         since=objective.start,
                                                         measured=measured)
    projected: Decimal | None = None
    if now is not None:
        if spec.kind == "flow":
            projected = project_flow(now, objective.start, day, objective.end)
        else:
            points = _history(session, objective.metric, objective.start, day - timedelta(1))
            projected = project_trend([*points, (day, now)], objective.end)
    fraction = None
    if objective.baseline is not None and now is not None and target is not None:
        fraction = fraction_done(objective.baseline, now, target)
    status = status_of(spec, as_of=as_of, start=objective.start, end=objective.end, now=now,
                       target=target, projected=projected)
    plan = activity_plan(objective, target=target, now=now,
                         inputs=inputs or plan_inputs(session, as_of, config,
                                                      measured=measured), as_of=as_of,
                         config=config)
    return ObjectiveProgress(
        objective_id=objective.id, name=objective.name, metric=objective.metric,
        start=objective.start, end=objective.end, goals=objective.goals,
        baseline=objective.baseline, now=now, target=target, projected=projected,
        fraction=fraction, status=status, plan=plan, closed=objective.status != "open",
    )


def objectives_progress(session: Session, as_of: date, config: MetricsConfig, *,
                        include_closed: bool = False) -> list[ObjectiveProgress]:
    """Every open objective's progress (closed ones too when asked), oldest first."""
    query = select(Objective).order_by(Objective.start, Objective.id)
    if not include_closed:
        query = query.where(Objective.status == "open")
    objectives = list(session.scalars(query))
    if not objectives:
        return []
    # One day's ledger facts for the plan and every objective measured on that day.
    measured = Measured(session, config)
    inputs = plan_inputs(session, as_of, config, measured=measured)
    return [objective_progress(session, o, as_of, config, inputs, measured=measured)
            for o in objectives]


def open_objectives_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Objective).where(
        Objective.status == "open")) or 0)


def current_progress(session: Session, *, now: datetime, config: MetricsConfig,
                     measure: bool = True) -> list[ObjectiveProgress]:
    """The open objectives' progress and plans today (in the team's zone): the one reading
    `/collect goals`, the App Home and `collectbot objective list` show.

    `measure=False` for read-only readers (the App Home on open): a baseline due today is then
    left to the next writer (the daily snapshots job, `/collect goals`, `objective list`)."""
    today = local_date(now, config.zone)
    if measure:
        measure_baselines(session, today, config)
    return objectives_progress(session, today, config)


def goals_message(session: Session, slack_user_id: str, *, now: datetime,
                  config: MetricsConfig) -> Message:
    """`/collect goals` for this person: everyone sees the objectives; managers get buttons."""
    from bot.services.roster import is_manager, member_for
    from bot.views.goals import goals_blocks, goals_text

    member = member_for(session, slack_user_id)
    items = current_progress(session, now=now, config=config)
    return Message(text=goals_text(items),
                   blocks=goals_blocks(items, is_manager=is_manager(member)))
