"""The queries behind the call lists: every account's state for the priority rules, in a few bulk
queries (never one per account), and the outcome history the likelihood curve learns from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    select,
    true,
)
from sqlalchemy.orm import Session

from bot.db.models import (
    CallList,
    CallListEntry,
    ContactAttempt,
    Customer,
    Invoice,
    Payment,
    PromiseToPay,
)
from bot.db.sql import CENT, driver_rows, key_in
from bot.db.sql import date_value as _as_date
from bot.db.sql import money_value as _money
from bot.domain.accounts import AccountState, PromiseState
from bot.domain.aging import Bucket
from bot.domain.calendar import local_date
from bot.domain.priority import EXCLUDED_STATUS
from bot.domain.vocabulary import (
    CALL_OUTCOMES,
    CustomerStatus,
    InvoiceStatus,
    Outcome,
    PromiseStatus,
)
from bot.services.report import bucket_case

ZERO = Decimal("0.00")
_UTC = ZoneInfo("UTC")
# How far back contact history is read: longer than any re-contact interval a policy sets.
HISTORY_DAYS = 120
# A broken promise stays a reason to call for this long unless someone calls first.
BROKEN_FOLLOW_UP_DAYS = 30
# Outcome history that teaches the likelihood curve: lists made 30-150 days ago.
LEARN_WINDOW_DAYS = 150
PAID_WITHIN_DAYS = 30


def past_due_totals(today: date) -> Select[tuple[int, Decimal, date]]:
    """Per customer with something past due outside disputes: that balance, oldest due date.

    The same shape as the plainest aggregate over invoices (a filter, a sum and a min), so the
    database does no more per invoice than it must.
    """
    past_due = func.sum(Invoice.amount - Invoice.amount_paid)
    return (
        select(Invoice.customer_id, past_due, func.min(Invoice.due_date))
        .where(
            Invoice.status == InvoiceStatus.OPEN,
            Invoice.due_date < today,
            Invoice.disputed.is_(False),
        )
        .group_by(Invoice.customer_id)
        .having(past_due > 0)
    )


@dataclass
class _History:
    last_at: datetime | None = None
    last_outcome: Outcome | None = None
    attempts: list[datetime] = field(default_factory=list)
    callback_at: datetime | None = None


@dataclass
class LoadedAccounts:
    """Account states by collector; `cut_at` names the collectors whose load was cut short."""

    by_collector: dict[int, list[AccountState]]
    # collector id -> the smallest score bound loaded for them: no account left out can
    # score more than this.
    cut_at: dict[int, Decimal] = field(default_factory=dict)
    # collector id -> past-due book (every account, loaded or not).
    books: dict[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class RecontactCutoff:
    """The re-contact cutoff of a strategy that may cover a bucket: its past-due range and the
    instant (from its re-contact interval) after which a call keeps an account off today's list."""

    min_past_due: Decimal | None
    max_past_due: Decimal | None
    since: datetime


@dataclass(frozen=True)
class Pruning:
    """How to load only each collector's best candidates instead of every account.

    `bound`: per aging bucket, an upper bound of the priority score per dollar past due.
    `recontact`: per aging bucket, the re-contact cutoffs of the strategies that may cover it,
    shortest interval first (the last one covers any balance). The first whose range holds the
    balance gives the shortest interval the account can have: a call since its instant surely
    keeps it off.
    Absent buckets apply no such rule.
    """

    top: int
    bound: Mapping[Bucket, Decimal]
    recontact: Mapping[Bucket, Sequence[RecontactCutoff]] = field(default_factory=dict)


# A past-due sum may be a float a cent away from its exact value (SQLite keeps NUMERIC as
# REAL): balance ranges are widened by a cent, so a strategy is never wrongly ruled out.
_SLACK = Decimal("0.01")


def load_account_states(
    session: Session,
    *,
    collector_ids: Collection[int] | None,
    today: date,
    now: datetime,
    prune: Pruning | None = None,
    zones: Mapping[int, ZoneInfo] | None = None,
) -> LoadedAccounts:
    """AccountState of every customer with something past due, grouped by collector id.

    A call's day is its collector's local day (`zones`: collector id -> zone; UTC for one not
    given), the day payments and broken promises are dated in: a call at 20:30 in New York is
    not a call on the next day because it is past midnight in UTC.

    With `prune`, each collector's accounts are ranked: first those the rules may list today
    (active, not snoozed, no promise for a later day, not called since their bucket's
    instant), then by the score bound. Only the first `top` of those are loaded, plus every
    account with a callback or a promise due (the rules that override the others); the caller
    checks that nothing left out could have made the list (`cut_at`).
    """
    # Nothing past due outside disputes is never called (the domain agrees): not even loaded.
    totals = past_due_totals(today).subquery()
    columns = [
        Customer.id,
        Customer.external_ref,
        Customer.name,
        Customer.tier,
        Customer.status,
        Customer.collector_id,
        Customer.contact_name,
        Customer.phone,
        Customer.snoozed_until,
        totals.c[1],
        totals.c[2],
    ]
    scope = (
        Customer.collector_id.in_(list(collector_ids)) if collector_ids is not None
        else Customer.collector_id.is_not(None)
    )
    if prune is not None:
        rows = _candidates(session, totals, scope, prune, today=today, now=now)
    else:
        rows = [tuple(row) for row in session.connection().execute(
            select(*columns).select_from(totals)
            .join(Customer, Customer.id == totals.c.customer_id).where(scope)
        ).all()]
    if not rows:
        return LoadedAccounts({})
    cut_at: dict[int, Decimal] = {}
    books: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if prune is not None:
        for row in rows:
            book, bound, rank = row[-3:]
            books[row[5]] = _money(book)
            if rank == prune.top and bound >= 0:
                # The collector had more listable accounts than `top`: the load was cut here,
                # at this float bound, rounded up to the cent (a bound it stays).
                cut_at[row[5]] = Decimal(repr(float(bound))).quantize(CENT, ROUND_CEILING)
    else:
        for row in rows:
            books[row[5]] += _money(row[9])
    # Side queries read the loaded accounts only (one array parameter, however many), each
    # on its own customer_id: no join to customers.
    ids, connection = [row[0] for row in rows], session.connection()
    history = _contact_history(session, key_in(connection, ContactAttempt.customer_id, ids), now)
    last_paid = _last_payment_dates(session, key_in(connection, Payment.customer_id, ids),
                                    since=(now - timedelta(days=HISTORY_DAYS)).date())
    open_promises, broken_promises = _promises(
        session, key_in(connection, PromiseToPay.customer_id, ids), today)

    by_collector: dict[int, list[AccountState]] = defaultdict(list)
    for row in rows:
        (customer_id, ref, name, tier, status, collector_id, contact, phone, snoozed,
         past_due, oldest_due) = row[:11]
        seen = history.get(customer_id)
        attempts = 0
        broken = broken_promises.get(customer_id)
        if seen is not None:
            zone = (zones or {}).get(collector_id, _UTC)
            paid_on = last_paid.get(customer_id)
            attempts = sum(1 for at in seen.attempts
                           if paid_on is None or local_date(at, zone) > paid_on)
            if broken is not None and seen.last_at is not None and broken.broken_on is not None \
                    and local_date(seen.last_at, zone) >= broken.broken_on:
                broken = None  # someone already called after it broke
        by_collector[collector_id].append(
            AccountState(
                customer_id=customer_id,
                external_ref=ref,
                name=name,
                tier=tier,
                status=CustomerStatus(status),
                collector_id=collector_id,
                past_due=_money(past_due),
                oldest_due=_as_date(oldest_due),
                contact_name=contact,
                phone=phone,
                last_attempt_at=seen.last_at if seen else None,
                last_outcome=seen.last_outcome if seen else None,
                attempts=attempts,
                open_promise=open_promises.get(customer_id),
                broken_promise=broken,
                callback_at=seen.callback_at if seen else None,
                snoozed_until=_as_date(snoozed),
            )
        )
    return LoadedAccounts(dict(by_collector), cut_at, dict(books))


def _in_range(past_due: Any, strategy: RecontactCutoff) -> Any:
    low, high = strategy.min_past_due, strategy.max_past_due
    conditions = []
    # Compared as floats (the sum cast once), not NUMERIC: the cent of slack covers the float.
    if low is not None:
        conditions.append(past_due >= float(low - _SLACK))
    if high is not None:
        conditions.append(past_due < float(high + _SLACK))
    return and_(true(), *conditions)


# Ranking keys below zero: accounts the candidates never count.
_OFF = -1.0  # the rules leave it off today whatever its strategy
_URGENT = -2.0  # a promise or a callback: always loaded, so never takes a candidate's place


def _candidates(
    session: Session,
    totals: Any,
    scope: ColumnElement[bool],
    prune: Pruning,
    *,
    today: date,
    now: datetime,
) -> list[tuple[Any, ...]]:
    """Each collector's first `prune.top` listable accounts by bound, every urgent one, and
    its first account whatever it is (so every collector's book arrives).

    One float key per account ranks narrow rows (ids, sums, the key): the score bound for an
    account the rules may list, or below zero for one they surely leave off (inactive,
    snoozed, promised for a later day, called too recently) or that is loaded anyway
    (urgent). The customers' text
    columns are read for the winners only, by primary key (PostgreSQL otherwise merge-joins
    them by walking every customer). Rows are load_account_states' columns, then (book, key,
    rank).
    """
    oldest, past_due = totals.c[2], cast(totals.c[1], Float)
    joined = totals.join(Customer, Customer.id == totals.c.customer_id)
    called_too_recently: dict[Bucket, Any] = {}
    if prune.recontact:
        last = (
            select(ContactAttempt.customer_id, func.max(ContactAttempt.at).label("at"))
            .where(ContactAttempt.outcome != Outcome.NOTE,
                   ContactAttempt.at >= min(r.since for rs in prune.recontact.values() for r in rs))
            .group_by(ContactAttempt.customer_id)
            .subquery()
        )
        # Joined on customers.id, whose statistics PostgreSQL has: on the aggregate's column
        # it assumed 200 distinct ids, expected ~40x the rows, and paid for JIT compilation
        # (~0.6 s) and a hash join over every customer.
        joined = joined.outerjoin(last, last.c.customer_id == Customer.id)
        for bucket, cutoffs in prune.recontact.items():
            called_too_recently[bucket] = case(
                *[(_in_range(past_due, r), last.c.at >= r.since) for r in cutoffs],
                else_=false(),
            )

    def listable(bucket: Bucket) -> Any:
        bound = past_due * float(prune.bound[bucket])
        if bucket not in called_too_recently:
            return bound
        return case((called_too_recently[bucket], _OFF), else_=bound)

    key = case(
        (Customer.status.in_(sorted(EXCLUDED_STATUS)), _OFF),
        (Customer.snoozed_until > today, _OFF),
        (totals.c.customer_id.in_(_with_callbacks(now, today)), _URGENT),
        (totals.c.customer_id.in_(_promised_later(today)), _OFF),
        (totals.c.customer_id.in_(_with_promises(today)), _URGENT),
        else_=bucket_case(
            oldest, today, {b: listable(b) for b in Bucket if b is not Bucket.CURRENT}),
    ).label("key")
    # The key is computed once per account (a column of `keyed`), then ranked; one window
    # serves both functions (the frame is the whole partition; row_number ignores it), so
    # the database ranks and sums each collector's accounts in one pass.
    keyed = select(
        totals.c.customer_id, totals.c[1], totals.c[2], Customer.collector_id, key
    ).select_from(joined).where(scope).subquery()
    owner, order = keyed.c.collector_id, (keyed.c.key.desc(), keyed.c.customer_id)
    rank = func.row_number().over(
        partition_by=owner, order_by=order, rows=(None, None)).label("rank")
    book = func.sum(keyed.c[1]).over(
        partition_by=owner, order_by=order, rows=(None, None)).label("book")
    ranked = select(keyed, book, rank).subquery()
    connection = session.connection()
    winners = driver_rows(connection, select(ranked).where(
        # Rank 1 too, listable or not: it carries the book of a collector with nothing to
        # call today.
        ((ranked.c.rank <= prune.top) & (ranked.c.key >= 0))
        | (ranked.c.key == _URGENT) | (ranked.c.rank == 1)))
    customers = {
        row[0]: row[1:] for row in driver_rows(connection, select(
            Customer.id, Customer.external_ref, Customer.name, Customer.tier,
            Customer.status, Customer.contact_name, Customer.phone, Customer.snoozed_until,
        ).where(key_in(connection, Customer.id, [row[0] for row in winners])))
    }
    rows = []
    for customer_id, past_due, oldest, collector_id, key_, book_, rank_ in winners:
        ref, name, tier, status, contact, phone, snoozed = customers[customer_id]
        rows.append((customer_id, ref, name, tier, status, collector_id, contact, phone,
                     snoozed, past_due, oldest, book_, key_, rank_))
    return rows


def _promises_in_force(today: date) -> ColumnElement[bool]:
    """Open promises, and promises broken recently enough to still be a reason to call."""
    since = today - timedelta(days=BROKEN_FOLLOW_UP_DAYS)
    return (PromiseToPay.status == PromiseStatus.OPEN) | (
        (PromiseToPay.status == PromiseStatus.BROKEN) & (PromiseToPay.resolved_on >= since)
    )


def _with_callbacks(now: datetime, today: date) -> Any:
    """Customers with a callback asked for today or later: always loaded.

    The callbacks of the window `_contact_history` reads, so every account the rules may put
    first for its callback is among them. A callback whose day has passed in every zone is
    neither due today nor a reason to wait: the account is ranked as any other (its call is a
    contact like the rest), not loaded on top of the candidates.
    """
    return select(ContactAttempt.customer_id).where(
        ContactAttempt.callback_at >= _first_instant_of(today),
        ContactAttempt.at >= now - timedelta(days=HISTORY_DAYS),
    )


def _promised_later(today: date) -> Any:
    """Customers whose latest open promise falls after today: the rules leave them off
    (a promise still ahead) unless a callback is due today, and those are loaded first.

    `_promises` keeps the open promise with the latest date, so this is the date it reads.
    """
    return (select(PromiseToPay.customer_id)
            .where(PromiseToPay.status == PromiseStatus.OPEN)
            .group_by(PromiseToPay.customer_id)
            .having(func.max(PromiseToPay.promised_date) > today))


def _with_promises(today: date) -> Any:
    """Customers with an open or recently broken promise (the ones `_promises` reads): always
    loaded, past those promised for a later day. A promise due today or passed puts the
    account first, a broken one next."""
    return select(PromiseToPay.customer_id).where(_promises_in_force(today))


def _first_instant_of(day: date) -> datetime:
    """An instant no later than `day`'s midnight in any zone (UTC+14 starts it first)."""
    return datetime.combine(day, time.min, tzinfo=_UTC) - timedelta(hours=14)


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _contact_history(
    session: Session, loaded: ColumnElement[bool], now: datetime
) -> dict[int, _History]:
    since = now - timedelta(days=HISTORY_DAYS)
    history: dict[int, _History] = {}
    rows = session.execute(
        select(
            ContactAttempt.customer_id,
            ContactAttempt.at,
            ContactAttempt.outcome,
            ContactAttempt.callback_at,
        )
        .where(loaded, ContactAttempt.at >= since)
        # Two attempts at the same instant: the later recorded is the last one.
        .order_by(ContactAttempt.customer_id, ContactAttempt.at, ContactAttempt.id)
    ).all()
    for customer_id, at, outcome, callback_at in rows:
        seen = history.setdefault(customer_id, _History())
        if outcome not in CALL_OUTCOMES:
            continue  # a note is not a contact
        seen.last_at, seen.last_outcome = at, outcome
        seen.attempts.append(at)
        # A callback request stands until the next contact.
        seen.callback_at = callback_at if outcome is Outcome.CALLBACK_REQUESTED else None
    return history


def _last_payment_dates(
    session: Session, loaded: ColumnElement[bool], *, since: date
) -> dict[int, date]:
    """The last payment date within the history window (older ones precede every attempt read)."""
    paid: dict[int, date] = {}
    for customer_id, day in session.execute(
        select(Payment.customer_id, func.max(Payment.paid_on))
        .where(loaded, Payment.paid_on >= since, Payment.amount > 0)  # not a reversal
        .group_by(Payment.customer_id)
    ):
        last = _as_date(day)
        if last is not None:
            paid[customer_id] = last
    return paid


def _promises(
    session: Session, loaded: ColumnElement[bool], today: date
) -> tuple[dict[int, PromiseState], dict[int, PromiseState]]:
    """The latest open promise and the latest recently broken promise of each customer."""
    open_: dict[int, PromiseState] = {}
    broken: dict[int, PromiseState] = {}
    rows = session.execute(
        select(
            PromiseToPay.customer_id,
            PromiseToPay.status,
            PromiseToPay.amount,
            PromiseToPay.promised_date,
            PromiseToPay.resolved_on,
        )
        .where(loaded, _promises_in_force(today))
        .order_by(PromiseToPay.customer_id, PromiseToPay.promised_date, PromiseToPay.id)
    ).all()
    for customer_id, status, amount, promised, resolved in rows:
        if status is PromiseStatus.OPEN:
            open_[customer_id] = PromiseState(amount=amount, promised_date=promised)
        else:
            broken[customer_id] = PromiseState(
                amount=amount, promised_date=promised, broken_on=resolved
            )
    return open_, broken


def learning_observations(session: Session, *, today: date) -> list[tuple[int, bool]]:
    """(days past due when listed, paid within 30 days) for every listed account that was called.

    The team's own history: an account on a list 30-150 days ago that got a call is one
    observation; it counts as paid when a payment arrived within 30 days of the list date.
    """
    start = today - timedelta(days=LEARN_WINDOW_DAYS)
    end = today - timedelta(days=PAID_WITHIN_DAYS)
    entries = session.execute(
        select(CallListEntry.customer_id, CallList.list_date, CallListEntry.days_past_due)
        .join(CallList, CallList.id == CallListEntry.call_list_id)
        .where(CallList.list_date >= start, CallList.list_date <= end)
    ).all()
    if not entries:
        return []
    customers = sorted({customer for customer, _, _ in entries})
    called: set[tuple[int, date]] = set()
    payments: dict[int, list[date]] = defaultdict(list)
    window_start = datetime.combine(start, time.min, tzinfo=ZoneInfo("UTC"))
    for chunk in _chunks(customers):
        for customer, at in session.execute(
            select(ContactAttempt.customer_id, ContactAttempt.at).where(
                ContactAttempt.customer_id.in_(chunk), ContactAttempt.at >= window_start
            )
        ):
            called.add((customer, at.date()))
        for customer, paid_on in session.execute(
            select(Payment.customer_id, Payment.paid_on).where(
                Payment.customer_id.in_(chunk), Payment.paid_on > start, Payment.amount > 0
            )
        ):
            payments[customer].append(paid_on)
    observations = []
    for customer, listed_on, days in entries:
        # UTC dates: a call late in the collector's evening may land on the next UTC day.
        if (customer, listed_on) not in called and (
            customer, listed_on + timedelta(days=1)) not in called:
            continue
        paid = any(listed_on < day <= listed_on + timedelta(days=PAID_WITHIN_DAYS)
                   for day in payments.get(customer, ()))
        observations.append((days, paid))
    return observations
