"""Account lookups: an ACCOUNT argument resolved, what a modal needs, and an account's summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import ContactAttempt, Customer, Invoice, PromiseToPay, TeamMember
from bot.domain.accounts import AccountMatch, AccountSummary, AttemptLine, PromiseLine
from bot.domain.aging import BUCKETS, bucket_for, bucket_for_days, days_past_due
from bot.domain.policy import DEFAULT_PROMISE_HORIZON_DAYS
from bot.domain.vocabulary import InvoiceStatus, PromiseStatus
from bot.services.errors import InvalidInput, NotFound
from bot.services.ledger import customer_credit
from bot.services.policy import current_policy
from bot.views.modals import InvoiceChoice
from bot.views.text import inline

MAX_CANDIDATES = 10
RECENT_ATTEMPTS = 10
ZERO = Decimal("0.00")
_LIKE_ESCAPE = "\\"


class AmbiguousAccount(InvalidInput):
    """The ACCOUNT text matches several accounts; `.candidates` lists up to ten of them."""

    def __init__(self, text: str, candidates: list[AccountMatch], total: int) -> None:
        shown = "\n".join(
            f"• {inline(c.external_ref, 30)} · {inline(c.name, 80)}" for c in candidates
        )
        more = f"\n…and {total - len(candidates)} more" if total > len(candidates) else ""
        super().__init__(
            f"'{inline(text, 60)}' matches {total} accounts. Use the reference or more of the "
            f"name:\n{shown}{more}"
        )
        self.candidates = candidates
        self.total = total


@dataclass(frozen=True, slots=True)
class AccountContext:
    """What the promise and dispute modals need about one account."""

    customer_id: int
    external_ref: str
    name: str
    past_due: Decimal  # open, past due, not in dispute
    undisputed_balance: Decimal  # every open invoice not in dispute
    open_invoices: list[InvoiceChoice]  # open and not already in dispute, oldest due first
    promise_horizon_days: int


def _like_prefix(text: str) -> str:
    escaped = (
        text.lower()
        .replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return escaped + "%"


def _matches(customers: list[Customer]) -> list[AccountMatch]:
    return [
        AccountMatch(
            c.id, c.external_ref, c.name, c.collector.name if c.collector else None, c.status
        )
        for c in customers
    ]


def resolve_account(session: Session, text: str) -> Customer:
    """The account named by a reference or an unambiguous name prefix (case-insensitive)."""
    wanted = " ".join(text.split())
    if not wanted:
        raise InvalidInput("Name an account: its reference or the start of its name.")
    lowered = wanted.lower()
    by_ref = session.scalars(
        select(Customer).where(func.lower(Customer.external_ref) == lowered).limit(2)
    ).all()
    if len(by_ref) == 1:
        return by_ref[0]
    prefix = func.lower(Customer.name).like(_like_prefix(wanted), escape=_LIKE_ESCAPE)
    total = session.scalar(select(func.count()).select_from(Customer).where(prefix)) or 0
    if total == 0:
        shown = inline(wanted, 60)
        raise NotFound(f"No account matches '{shown}'. Try /collect find {shown}")
    candidates = list(
        session.scalars(
            select(Customer).where(prefix).order_by(Customer.name, Customer.id)
            .limit(MAX_CANDIDATES)
        )
    )
    if total == 1:
        return candidates[0]
    # "Acme" names Acme exactly even when "Acme Corp" also starts with it.
    exact = session.scalars(
        select(Customer).where(func.lower(Customer.name) == lowered).limit(2)
    ).all()
    if len(exact) == 1:
        return exact[0]
    raise AmbiguousAccount(wanted, _matches(candidates), total)


def customer_by_id(session: Session, customer_id: int) -> Customer:
    """The customer row, or NotFound."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"Account {customer_id} does not exist (any more).")
    return customer


def find_accounts(session: Session, text: str, limit: int = MAX_CANDIDATES) -> list[AccountMatch]:
    """Accounts whose name or reference contains the text (case-insensitive), by name."""
    wanted = " ".join(text.split()).lower()
    if not wanted:
        raise InvalidInput("Say what to look for: part of a name or a reference.")
    escaped = (
        wanted.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    pattern = f"%{escaped}%"
    customers = session.scalars(
        select(Customer)
        .where(
            or_(
                func.lower(Customer.name).like(pattern, escape=_LIKE_ESCAPE),
                func.lower(Customer.external_ref).like(pattern, escape=_LIKE_ESCAPE),
            )
        )
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    ).all()
    return _matches(list(customers))


def _open_invoices(session: Session, customer_id: int) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.OPEN)
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


def _balance(invoice: Invoice) -> Decimal:
    return invoice.amount - invoice.amount_paid


def _promisable(invoices: list[Invoice]) -> list[Invoice]:
    """The open invoices a promise to pay may cover: owing something and not in dispute."""
    return [i for i in invoices if not i.disputed and _balance(i) > ZERO]


def undisputed_balance(session: Session, customer_id: int) -> Decimal:
    """The most a promise to pay may be for: what is owed on invoices not in dispute (the
    modal's limit and the service's, for buttons and `/collect` alike)."""
    return sum((_balance(i) for i in _promisable(_open_invoices(session, customer_id))), ZERO)


def promise_horizon(session: Session, customer: Customer, *, today: date) -> int:
    """Days ahead a promise may be dated, from the policy segment the account falls in."""
    invoices = [i for i in _open_invoices(session, customer.id) if not i.disputed]
    past_due = [i for i in invoices if i.due_date < today and _balance(i) > ZERO]
    if not past_due:
        return DEFAULT_PROMISE_HORIZON_DAYS
    _, policy = current_policy(session)
    days = days_past_due(min(i.due_date for i in past_due), today)
    amount = sum((_balance(i) for i in past_due), ZERO)
    return policy.segment_for(bucket_for_days(days), amount, customer.tier).promise_horizon_days


def account_context(session: Session, customer_id: int, *, today: date) -> AccountContext:
    """Name, past due, undisputed balance and open invoices of an account, for a modal."""
    customer = customer_by_id(session, customer_id)
    invoices = _promisable(_open_invoices(session, customer_id))
    return AccountContext(
        customer_id=customer.id,
        external_ref=customer.external_ref,
        name=customer.name,
        past_due=sum((_balance(i) for i in invoices if i.due_date < today), ZERO),
        undisputed_balance=sum((_balance(i) for i in invoices), ZERO),
        open_invoices=[
            InvoiceChoice(i.id, i.number, _balance(i), i.due_date) for i in invoices
        ],
        promise_horizon_days=promise_horizon(session, customer, today=today),
    )


def account_summary(session: Session, customer_id: int, *, today: date) -> AccountSummary:
    """Balances, aging by bucket, open promises and the last ten attempts of an account."""
    customer = customer_by_id(session, customer_id)
    aging = dict.fromkeys(BUCKETS, ZERO)
    open_balance = past_due = disputed = ZERO
    oldest: date | None = None
    for invoice in _open_invoices(session, customer_id):
        balance = _balance(invoice)
        if balance <= ZERO:
            continue
        open_balance += balance
        aging[bucket_for(invoice.due_date, today)] += balance
        if invoice.disputed:
            disputed += balance
        elif invoice.due_date < today:
            past_due += balance
            oldest = invoice.due_date if oldest is None else min(oldest, invoice.due_date)
    promises = session.scalars(
        select(PromiseToPay)
        .where(
            PromiseToPay.customer_id == customer_id,
            PromiseToPay.status.in_((PromiseStatus.OPEN, PromiseStatus.PARTIALLY_KEPT)),
        )
        .order_by(PromiseToPay.promised_date, PromiseToPay.id)
    )
    attempts = session.execute(
        select(ContactAttempt, TeamMember.name)
        .join(TeamMember, TeamMember.id == ContactAttempt.collector_id)
        .where(ContactAttempt.customer_id == customer_id)
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc())
        .limit(RECENT_ATTEMPTS)
    ).all()
    return AccountSummary(
        customer_id=customer.id,
        external_ref=customer.external_ref,
        name=customer.name,
        status=customer.status,
        collector_name=customer.collector.name if customer.collector else None,
        contact_name=customer.contact_name,
        phone=customer.phone,
        open_balance=open_balance,
        past_due=past_due,
        disputed=disputed,
        days_past_due=days_past_due(oldest, today) if oldest else 0,
        snoozed_until=customer.snoozed_until,
        unapplied_credit=customer_credit(session, customer.id),
        aging=aging,
        open_promises=[
            PromiseLine(p.id, p.amount, p.promised_date, p.status, p.amount_received)
            for p in promises
        ],
        recent_attempts=[
            AttemptLine(a.id, a.at, a.outcome, name, a.source, a.note) for a, name in attempts
        ],
    )
