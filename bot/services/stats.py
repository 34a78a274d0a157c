"""Calls made against target: a collector's day and week, and a manager's team today."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import ContactAttempt, PromiseToPay, TeamMember
from bot.domain.calendar import local_date
from bot.domain.vocabulary import CALL_OUTCOMES, RIGHT_PARTY_OUTCOMES
from bot.services.roster import member_zone, team_of
from bot.views.home import CollectorProgress, MyStats, PeriodStats

ZERO = Decimal("0.00")


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _period(
    session: Session, member: TeamMember, first: date, last: date, *, zone: ZoneInfo,
    target: int,
) -> PeriodStats:
    start, end = _start_of(first, zone), _start_of(last + timedelta(days=1), zone)
    outcomes = Counter(
        session.scalars(
            select(ContactAttempt.outcome).where(
                ContactAttempt.collector_id == member.id,
                ContactAttempt.at >= start,
                ContactAttempt.at < end,
            )
        )
    )
    promises, promised = session.execute(
        select(func.count(PromiseToPay.id), func.coalesce(func.sum(PromiseToPay.amount), ZERO))
        .join(ContactAttempt, ContactAttempt.id == PromiseToPay.attempt_id)
        .where(
            PromiseToPay.collector_id == member.id,
            ContactAttempt.at >= start,
            ContactAttempt.at < end,
        )
    ).one()
    return PeriodStats(
        start=first,
        end=last,
        calls=sum(n for outcome, n in outcomes.items() if outcome in CALL_OUTCOMES),
        target=target,
        right_party=sum(n for outcome, n in outcomes.items() if outcome in RIGHT_PARTY_OUTCOMES),
        promises=int(promises),
        promised=Decimal(promised).quantize(Decimal("0.01")),
    )


def my_stats(
    session: Session, member: TeamMember, *, now: datetime, default_tz: str | ZoneInfo
) -> MyStats:
    """Today and this week (Monday to Sunday, local); the week's target counts working days."""
    _require_aware(now)
    zone = member_zone(member, default_tz)
    today = local_date(now, zone)
    monday = today - timedelta(days=today.weekday())
    sunday = monday + timedelta(days=6)
    working_days = sum(
        1 for n in range(7) if (monday + timedelta(days=n)).isoweekday() in member.weekdays
    )
    day_target = member.daily_call_target if today.isoweekday() in member.weekdays else 0
    return MyStats(
        name=member.name,
        day=_period(session, member, today, today, zone=zone, target=day_target),
        week=_period(session, member, monday, sunday, zone=zone,
                     target=member.daily_call_target * working_days),
    )


def collector_progress(
    session: Session, member: TeamMember, *, now: datetime, default_tz: str | ZoneInfo
) -> CollectorProgress:
    """Calls the member made today (their local day) against their daily target."""
    return team_progress_of(session, [member], now=now, default_tz=default_tz)[0]


def team_progress_of(
    session: Session, members: list[TeamMember], *, now: datetime, default_tz: str | ZoneInfo
) -> list[CollectorProgress]:
    """Today's calls against target for each member, in one query."""
    _require_aware(now)
    if not members:
        return []
    starts = {
        m.id: _start_of(local_date(now, member_zone(m, default_tz)), member_zone(m, default_tz))
        for m in members
    }
    done: Counter[int] = Counter()
    rows = session.execute(
        select(ContactAttempt.collector_id, ContactAttempt.at).where(
            ContactAttempt.collector_id.in_(sorted(starts)),
            ContactAttempt.at >= min(starts.values()),
            ContactAttempt.at <= now,
            ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)),
        )
    ).tuples()
    for collector_id, at in rows:
        if at >= starts[collector_id]:
            done[collector_id] += 1
    return [
        CollectorProgress(name=m.name, slack_id=m.slack_user_id, done=done[m.id],
                          target=m.daily_call_target)
        for m in members
    ]


def team_progress(
    session: Session, manager_member: TeamMember, *, now: datetime, default_tz: str | ZoneInfo
) -> list[CollectorProgress]:
    """Today's progress of each active collector the manager manages (everyone for an admin)."""
    return team_progress_of(session, team_of(session, manager_member), now=now,
                            default_tz=default_tz)
