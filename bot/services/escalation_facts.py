"""The escalation rules' facts about every account, from a few set-based aggregates.

One grouped pass over open invoices (past due, oldest due date, disputed balance), one over
contact attempts (last call, last right-party contact), one over payments (last payment), and
the few rows the aggregates cannot fold: unanswered calls since the last right-party contact,
recent promises and open disputes. Never one query per account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from bot.db.models import ContactAttempt, Customer, Dispute, Invoice, Payment, PromiseToPay
from bot.db.sql import date_value, key_in, moment_value, money_value, raw
from bot.domain.calendar import local_date
from bot.domain.escalations import EscalationFacts
from bot.domain.vocabulary import (
    CALL_OUTCOMES,
    RIGHT_PARTY_OUTCOMES,
    CustomerStatus,
    DisputeStatus,
    InvoiceStatus,
    PromiseStatus,
)

ZERO = Decimal("0.00")
UNREACHED_OUTCOMES = sorted(CALL_OUTCOMES - RIGHT_PARTY_OUTCOMES)


class Calendar:
    """Each collector's local today; unassigned accounts use the team's zone."""

    def __init__(self, now: datetime, team_zone: ZoneInfo,
                 zones: dict[int, ZoneInfo] | None = None) -> None:
        self.now, self.team_zone, self.zones = now, team_zone, dict(zones or {})
        self._team_today = local_date(now, team_zone)
        self._todays = {member: local_date(now, zone) for member, zone in self.zones.items()}
        days = [self._team_today, *self._todays.values()]
        self.days = (min(days), max(days))  # the earliest and the latest local today

    def zone(self, collector_id: int | None) -> ZoneInfo:
        return self.zones.get(collector_id, self.team_zone) if collector_id else self.team_zone

    def todays(self) -> dict[int | None, date]:
        """`today`'s answers for the unassigned (None) and each collector with a zone; the
        team's today for any other."""
        todays: dict[int | None, date] = {None: self._team_today}
        for member, day in self._todays.items():
            todays[member] = day
        return todays

    def today(self, collector_id: int | None) -> date:
        if collector_id is None:
            return self._team_today
        return self._todays.get(collector_id, self._team_today)

    def local(self, moment: datetime | None, collector_id: int | None) -> date | None:
        return None if moment is None else local_date(moment, self.zone(collector_id))


@dataclass(frozen=True)
class LoadedFacts:
    """Facts by customer id, and each account's collector."""

    facts: dict[int, EscalationFacts]
    collectors: dict[int, int | None]


def invoice_totals(first: date, last: date) -> Any:
    """Per customer with an open invoice: past due outside disputes and its oldest due date
    (due before `first`, the earliest local today), the disputed past-due balance, and the same
    as the first two for invoices due in [first, last) (past due only where today is later)."""
    balance = Invoice.amount - Invoice.amount_paid
    late = Invoice.due_date < first
    edge = and_(Invoice.due_date >= first, Invoice.due_date < last)
    clear = Invoice.disputed.is_(False)
    columns = [
        Invoice.customer_id,
        func.sum(balance).filter(late & clear),
        raw(func.min(Invoice.due_date).filter(late & clear)),
        func.sum(balance).filter(Invoice.disputed.is_(True) & (Invoice.due_date < last)),
    ]
    if first < last:  # collectors' todays differ: the day between needs its own sums
        columns += [func.sum(balance).filter(edge & clear),
                    raw(func.min(Invoice.due_date).filter(edge & clear))]
    return (
        select(*columns)
        .where(Invoice.status == InvoiceStatus.OPEN, Invoice.due_date < last)
        .group_by(Invoice.customer_id)
    )


# An account's invoice figures as the facts read them: past due outside disputes and its
# oldest due date (before the earliest today), the disputed balance, and past due and oldest
# due date on the day between the earliest and the latest today (zero and None when they agree).
Sums = tuple[Decimal, date | None, Decimal, Decimal, date | None]
NO_SUMS: Sums = (ZERO, None, ZERO, ZERO, None)


def _sums(row: Sequence[Any]) -> Sums:
    """invoice_totals' figures (after the customer id) as money and dates, each read once."""
    if len(row) > 3:
        return (money_value(row[0]), date_value(row[1]), money_value(row[2]),
                money_value(row[3]), date_value(row[4]))
    return money_value(row[0]), date_value(row[1]), money_value(row[2]), ZERO, None


def load_facts(
    session: Session,
    calendar: Calendar,
    *,
    min_balance: Decimal,
    broken_window_days: int,
    include: Collection[int] = (),
) -> LoadedFacts:
    """Facts of every active account owing at least `min_balance` past due (disputes included),
    and of every account in `include` whatever its status or balance."""
    first, last = calendar.days
    connection = session.connection()
    # The aggregate (the floor's shape) joined to the active customers it names: the database
    # looks each up by primary key, cheaper than reading every customer here.
    totals = invoice_totals(first, last).subquery()
    key, *figures = totals.c
    rows: list[tuple[Any, ...]] = []
    active = CustomerStatus.ACTIVE
    for customer_id, tier, collector_id, *values in connection.execute(
        select(Customer.id, Customer.tier, Customer.collector_id, *figures)
        .join_from(totals, Customer, Customer.id == key)
        .where(Customer.status == CustomerStatus.ACTIVE)
    ).all():
        sums = _sums(values)
        owed = sums[0] + sums[2] + sums[3]  # past due on the latest today, disputes included
        if owed > 0 and owed >= min_balance:
            rows.append((customer_id, active, tier, collector_id, sums))
    seen = {row[0] for row in rows}
    extra = [customer for customer in include if customer not in seen]
    if extra:
        scope = _scope(session, extra)
        extra_totals = {row[0]: _sums(row[1:]) for row in connection.execute(
            invoice_totals(first, last).where(scope(Invoice.customer_id)))}
        rows += [(customer_id, CustomerStatus(status), tier, collector_id,
                  extra_totals.get(customer_id, NO_SUMS))
                 for customer_id, status, tier, collector_id in connection.execute(
                     select(Customer.id, Customer.status, Customer.tier, Customer.collector_id)
                     .where(key_in(connection, Customer.id, extra)))]
    return _assemble(session, calendar, rows, broken_window_days)


def _assemble(
    session: Session, calendar: Calendar, rows: list[tuple[Any, ...]], broken_window_days: int
) -> LoadedFacts:
    if not rows:
        return LoadedFacts({}, {})
    loaded = _scope(session, [row[0] for row in rows])
    collectors = {row[0]: row[3] for row in rows}
    contacts = _contacts(session, loaded, calendar, collectors)
    paid = _last_payments(session, loaded)
    unreached = _unreached(session, loaded, paid, calendar, collectors)
    start = datetime.combine(calendar.days[0] - timedelta(days=broken_window_days + 1), time.min,
                             tzinfo=calendar.team_zone)
    promises = _promises(session, loaded, start, calendar, collectors)
    disputes = _disputes(session, loaded)
    first = calendar.days[0]
    no_contact: tuple[date | None, date | None] = (None, None)
    no_promise: tuple[tuple[date, ...], int | None, date | None] = ((), None, None)
    facts = {}
    for customer_id, status, tier, collector_id, sums in rows:
        past_due, oldest, disputed, edge_due, edge_oldest = sums
        if edge_oldest is not None and calendar.today(collector_id) > first:
            # Today is later here than the earliest today: the day between is past due too.
            past_due += edge_due
            oldest = edge_oldest if oldest is None or edge_oldest < oldest else oldest
        last_call_on, last_reached_on = contacts.get(customer_id, no_contact)
        broken, latest_broken, last_promise = promises.get(customer_id, no_promise)
        dispute = disputes.get(customer_id)
        # Positional, in the fields' order (keywords cost more than the rules: one per account).
        facts[customer_id] = EscalationFacts(
            customer_id, status, tier, past_due, oldest, disputed,
            last_call_on, last_reached_on, paid.get(customer_id), unreached.get(customer_id, 0),
            broken, latest_broken, last_promise,
            None if dispute is None else calendar.local(dispute[0], collector_id),
            None if dispute is None else dispute[1],
        )
    return LoadedFacts(facts, collectors)


Scope = Callable[[Any], ColumnElement[bool]]
# Above this many accounts the side aggregates read every row (as the floor does) rather than
# filter by a list of ids the size of the book; rows of other accounts are ignored.
SCOPED_MAX = 5_000


def _scope(session: Session, customer_ids: list[int]) -> Scope:
    """A filter on a table's customer id column: the loaded accounts, or all when many."""
    if len(customer_ids) > SCOPED_MAX:
        return lambda column: true()
    connection = session.connection()
    return lambda column: key_in(connection, column, customer_ids)


def _contacts(
    session: Session, loaded: Scope, calendar: Calendar, collectors: dict[int, int | None]
) -> dict[int, tuple[date | None, date | None]]:
    """Per loaded customer: the local days of the last call and of the last right-party
    contact (any time)."""
    rows = session.connection().execute(
        select(
            ContactAttempt.customer_id,
            raw(func.max(ContactAttempt.at).filter(
                ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)))),
            raw(func.max(ContactAttempt.at).filter(
                ContactAttempt.outcome.in_(sorted(RIGHT_PARTY_OUTCOMES)))),
        )
        .where(loaded(ContactAttempt.customer_id))
        .group_by(ContactAttempt.customer_id)
    ).all()
    days = {}
    for customer, call, reach in rows:
        if customer in collectors:
            zone = calendar.zone(collectors[customer])
            days[customer] = (_local_day(call, zone), _local_day(reach, zone))
    return days


def _local_day(raw_moment: object, zone: ZoneInfo) -> date | None:
    moment = moment_value(raw_moment)
    return None if moment is None else local_date(moment, zone)


def _last_payments(session: Session, loaded: Scope) -> dict[int, date]:
    """Per customer: the day of the last payment received (a reversal is not one)."""
    rows = session.connection().execute(
        select(Payment.customer_id, raw(func.max(Payment.paid_on)))
        .where(loaded(Payment.customer_id), Payment.amount > 0)
        .group_by(Payment.customer_id)
    ).all()
    return {customer: day for customer, paid_on in rows if (day := date_value(paid_on))}


def _unreached(
    session: Session,
    loaded: Scope,
    paid: dict[int, date],
    calendar: Calendar,
    collectors: dict[int, int | None],
) -> dict[int, int]:
    """Per customer: calls since the last right-party contact and after the last payment day."""
    reach = (
        select(ContactAttempt.customer_id, func.max(ContactAttempt.at).label("at"))
        .where(ContactAttempt.outcome.in_(sorted(RIGHT_PARTY_OUTCOMES)))
        .group_by(ContactAttempt.customer_id)
        .subquery()
    )
    rows = session.connection().execute(
        select(ContactAttempt.customer_id, raw(ContactAttempt.at))
        .outerjoin(reach, reach.c.customer_id == ContactAttempt.customer_id)
        .where(loaded(ContactAttempt.customer_id), ContactAttempt.outcome.in_(UNREACHED_OUTCOMES),
               or_(reach.c.at.is_(None), ContactAttempt.at > reach.c.at))
    ).all()
    counts: dict[int, int] = defaultdict(int)
    for customer, raw_at in rows:
        paid_on = paid.get(customer)
        if paid_on is None or (
            calendar.local(moment_value(raw_at), collectors.get(customer)) or paid_on) > paid_on:
            counts[customer] += 1
    return counts


def _promises(
    session: Session,
    loaded: Scope,
    start: datetime,
    calendar: Calendar,
    collectors: dict[int, int | None],
) -> dict[int, tuple[tuple[date, ...], int | None, date | None]]:
    """Per customer: the days recent promises broke, the latest broken one, the day the latest
    promise was made."""
    rows = session.connection().execute(
        select(PromiseToPay.customer_id, PromiseToPay.id, PromiseToPay.status,
               raw(PromiseToPay.resolved_on), raw(PromiseToPay.created_at))
        .where(loaded(PromiseToPay.customer_id), or_(
            and_(PromiseToPay.status == PromiseStatus.BROKEN,
                 PromiseToPay.resolved_on >= start.date()),
            PromiseToPay.created_at >= start,
        ))
        .order_by(PromiseToPay.customer_id, PromiseToPay.resolved_on, PromiseToPay.id)
    ).all()
    broken: dict[int, list[tuple[date, int]]] = defaultdict(list)
    made: dict[int, date] = {}
    for customer, promise_id, status, raw_resolved, raw_created in rows:
        resolved_on, created_at = date_value(raw_resolved), moment_value(raw_created)
        if status is PromiseStatus.BROKEN and resolved_on is not None and \
                resolved_on >= start.date():
            broken[customer].append((resolved_on, promise_id))
        day = calendar.local(created_at, collectors.get(customer))
        if day is not None and (customer not in made or day > made[customer]):
            made[customer] = day
    result: dict[int, tuple[tuple[date, ...], int | None, date | None]] = {}
    for customer in set(broken) | set(made):
        breaks = sorted(broken.get(customer, []))
        result[customer] = (tuple(d for d, _ in breaks), breaks[-1][1] if breaks else None,
                            made.get(customer))
    return result


def _disputes(
    session: Session, loaded: Scope
) -> dict[int, tuple[datetime, int]]:
    """Per customer: the oldest open dispute (when it was opened, its id)."""
    result: dict[int, tuple[datetime, int]] = {}
    for customer, dispute_id, opened_at in session.connection().execute(
        select(Dispute.customer_id, Dispute.id, raw(Dispute.opened_at))
        .where(loaded(Dispute.customer_id), Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.customer_id, Dispute.opened_at.desc(), Dispute.id.desc())
    ):
        # The last row per customer is the oldest.
        result[customer] = (moment_value(opened_at) or datetime.min, dispute_id)
    return result

