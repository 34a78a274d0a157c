"""SQLAlchemy 2 models for the whole vocabulary of the design.

Money is Numeric(14, 2) read as Decimal; every timestamp is stored in UTC and read back aware.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    literal_column,
    or_,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.vocabulary import (
    CustomerStatus,
    DeliveryStatus,
    DisputeStatus,
    EscalationLevel,
    EscalationStatus,
    InvoiceStatus,
    Outcome,
    PromiseStatus,
    Role,
)

MONEY = Numeric(14, 2, asdecimal=True)
ZERO = Decimal("0.00")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC (only for default column values; domain code is given `now`)."""
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: MONEY, dict[str, Any]: JSON}


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as the value string in a VARCHAR with no database CHECK type, so adding a value
    # later needs no ALTER TYPE on PostgreSQL.
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class TeamMember(Base):
    """A collector, manager, head or admin; identified in Slack by `slack_user_id`."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.COLLECTOR)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    backup_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    # None: use Slack's users.info tz, then the team default.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Slack's users.info tz as the call-lists job last saw it (see roster.member_zone).
    slack_timezone: Mapped[str | None] = mapped_column(String(64))
    daily_call_target: Mapped[int] = mapped_column(Integer, default=25)
    # ISO weekday numbers, Monday=1: "1,2,3,4,5".
    working_days: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    morning_time: Mapped[time | None] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    manager: Mapped[TeamMember | None] = relationship(
        remote_side="TeamMember.id", foreign_keys=[manager_id]
    )
    backup: Mapped[TeamMember | None] = relationship(
        remote_side="TeamMember.id", foreign_keys=[backup_id]
    )

    @property
    def weekdays(self) -> frozenset[int]:
        """Working days as ISO weekday numbers (Monday=1)."""
        return frozenset(int(d) for d in self.working_days.split(",") if d.strip())


class Customer(Base):
    """An account: who owes, who to call, and which collector owns it."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20), default="standard")
    status: Mapped[CustomerStatus] = mapped_column(
        _enum(CustomerStatus), default=CustomerStatus.ACTIVE
    )
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    # A snooze set by a manager or a collector: left off lists until this date.
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    # The last hand-off (bot.domain.handoff): when, from whom (a team member's id; no foreign
    # key, which would make SQLite rebuild this table), after how many attempts.
    handed_over_at: Mapped[datetime | None] = mapped_column()
    handed_over_from_id: Mapped[int | None] = mapped_column(Integer)
    handover_attempts: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    collector: Mapped[TeamMember | None] = relationship()


# An invoice of a negative amount, or paid outside [0, amount], and a negative allocation: the
# predicates of two partial indexes, written as SQLite must see them in a query to use them
# (constants, not parameters). IRREGULAR_INVOICE and REVERSAL (below) are the same in a query.
IRREGULAR_INVOICE_SQL = "amount < 0 OR amount_paid < 0 OR amount_paid > amount"
REVERSAL_SQL = "amount < 0"


class Invoice(Base):
    """One invoice; open balance = amount - amount_paid."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_customer_status", "customer_id", "status"),
        # The few invoices whose balance as of a date the as-of rule may clamp (none that the
        # import builds), found without reading every invoice: `IRREGULAR_INVOICE`.
        Index("ix_invoices_irregular", "id", sqlite_where=text(IRREGULAR_INVOICE_SQL),
              postgresql_where=text(IRREGULAR_INVOICE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[InvoiceStatus] = mapped_column(_enum(InvoiceStatus), default=InvoiceStatus.OPEN)
    settled_date: Mapped[date | None] = mapped_column(Date)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()


class Payment(Base):
    """Money received (negative: a reversal, such as a bounced cheque); its allocations say
    which invoices it paid, and what they leave of it is the customer's unapplied credit."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(80), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentAllocation(Base):
    """Part of a payment applied to one invoice on a date; an invoice's amount_paid is the sum
    of its allocations, and its balance as of a date counts those applied by then."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        Index("ix_payment_allocations_invoice_applied", "invoice_id", "applied_on"),
        # Reversals (negative allocations) are rare: the invoices that have one, without
        # reading every allocation (`REVERSAL`).
        Index("ix_payment_allocations_reversals", "invoice_id", sqlite_where=text(REVERSAL_SQL),
              postgresql_where=text(REVERSAL_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    applied_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


IRREGULAR_INVOICE = or_(Invoice.amount < literal_column("0"),
                        Invoice.amount_paid < literal_column("0"),
                        Invoice.amount_paid > Invoice.amount)
REVERSAL = PaymentAllocation.amount < literal_column("0")


class ContactAttempt(Base):
    """One call or message and its outcome."""

    __tablename__ = "contact_attempts"
    # AUTOINCREMENT: SQLite would otherwise reuse an undone attempt's id, and a stale Undo
    # button carrying it could remove a newer attempt.
    __table_args__ = (
        Index("ix_contact_attempts_customer_at", "customer_id", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    collector_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"), index=True)
    at: Mapped[datetime] = mapped_column()
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    source: Mapped[str] = mapped_column(String(20))  # button, modal, command, import
    note: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column()
    # One per Slack action (a retry or double click carries the same key).
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromiseToPay(Base):
    """An amount a customer said they would pay by a date."""

    __tablename__ = "promises_to_pay"
    __table_args__ = (Index("ix_promises_status_date", "status", "promised_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"))
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_attempts.id", ondelete="CASCADE")
    )
    amount: Mapped[Decimal] = mapped_column(MONEY)
    promised_date: Mapped[date] = mapped_column(Date)
    status: Mapped[PromiseStatus] = mapped_column(
        _enum(PromiseStatus), default=PromiseStatus.OPEN
    )
    amount_received: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dispute(Base):
    """A customer contests one or more invoices; disputed balances are not chased."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_attempts.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(
        _enum(DisputeStatus), default=DisputeStatus.OPEN
    )
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()

    invoices: Mapped[list[Invoice]] = relationship(secondary="dispute_invoices")


class DisputeInvoice(Base):
    __tablename__ = "dispute_invoices"

    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), primary_key=True
    )
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), primary_key=True)


class Escalation(Base):
    """An account going stale, raised to a level for a decision.

    Open until a manager decides (status decided) or its causes are gone (status closed, with
    `close_reason`); `closed_at` is set either way. `evidence` maps each rule that held while it
    was open to what it was about (bot.domain.escalations), so a decision settles those causes
    and only a new one escalates the account again.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        # At most one open escalation per account, whichever process opens it.
        Index("uq_escalations_open_customer", "customer_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    level: Mapped[EscalationLevel] = mapped_column(_enum(EscalationLevel))
    status: Mapped[EscalationStatus] = mapped_column(
        _enum(EscalationStatus), default=EscalationStatus.OPEN
    )
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision: Mapped[str | None] = mapped_column(String(30))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the reasons last changed (merged, or a rule stopped holding).
    updated_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    close_reason: Mapped[str | None] = mapped_column(String(300))
    # A snoozed escalation sleeps until this date: it stays open but nobody is told.
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    # Why a manager snoozed it (decision "snooze", with who and when in decided_*).
    snooze_note: Mapped[str | None] = mapped_column(String(500))
    # How far up the roster it has gone: 1 the collector's manager, 2 that manager's manager...
    # A delivery key is per (escalation, step).
    step: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Who it went to (a manager's user id or the managers channel) and the key of the delivery
    # whose message shows it (its own, or a digest's), set when it is planned for sending.
    recipient: Mapped[str | None] = mapped_column(String(64))
    message_key: Mapped[str | None] = mapped_column(String(200), index=True)


class EscalationStep(Base):
    """One step of an escalation up the roster: who held it, the message that showed it to
    them, and when they were reminded and when it went above them.

    Step 1 is the collector's manager (or the managers channel); each step after is the
    holder's manager, or a head. A holder who lets it sit gets one reminder (a reply in the
    message's thread); as long again after it, the escalation goes up a step.
    """

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("escalation_id", "step",
                                       name="uq_escalation_steps_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    # None: the managers channel (no member holds it).
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    recipient: Mapped[str] = mapped_column(String(64))
    # The delivery whose message showed it at this step (its own, or a digest's).
    message_key: Mapped[str | None] = mapped_column(String(200), index=True)
    reached_at: Mapped[datetime] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    raised_at: Mapped[datetime | None] = mapped_column()
    # The end of a snooze this step's holder was told of (once per snooze end).
    woke_on: Mapped[date | None] = mapped_column(Date)
    # Nobody is above this step's holder (as the roster stood when it reached them): the
    # message recommends the policy's next step once the account had its maximum contacts.
    last: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Why it reached this step ("not decided by Max in 4 working days"), for step 2 and up.
    note: Mapped[str | None] = mapped_column(String(300))


class Policy(Base):
    """One version of the team's strategies; the newest version is in force."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text)  # the file as the team wrote it
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Objective(Base):
    """One number for a period: metric, baseline (measured on the start date), target."""

    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(40))
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(14, 4, asdecimal=True))
    # Either an absolute target, or a change from the baseline in percent (-5 for "-5%").
    target: Mapped[Decimal | None] = mapped_column(Numeric(14, 4, asdecimal=True))
    target_change_pct: Mapped[Decimal | None] = mapped_column(Numeric(8, 2, asdecimal=True))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    goals: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallList(Base):
    """One collector's list for one local day, as it was computed."""

    __tablename__ = "call_lists"
    __table_args__ = (UniqueConstraint("collector_id", "list_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"))
    list_date: Mapped[date] = mapped_column(Date)
    # The collector's zone when the list was made: their day starts and ends in it.
    timezone: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    past_due_book: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[CallListEntry]] = relationship(
        order_by="CallListEntry.position", cascade="all, delete-orphan"
    )


class CallListEntry(Base):
    __tablename__ = "call_list_entries"
    __table_args__ = (UniqueConstraint("call_list_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    score: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(String(300))
    past_due: Mapped[Decimal] = mapped_column(MONEY)
    days_past_due: Mapped[int] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship()


class Delivery(Base):
    """One message the bot sends; the unique key makes every send happen once."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    channel: Mapped[str | None] = mapped_column(String(64))
    # Every Slack message this delivery produced: [{"channel": ..., "ts": ...}, ...].
    messages: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What to send, so any sender can send it: {"messages": [{"text", "blocks"}], "thread",
    # "fallback"} or {"upload": {...}} (None: a row written by `deliver`, sent by its caller).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Not claimed before this moment (a retry's backoff, a 429's Retry-After).
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    # Sent only after this delivery is sent, in the thread of its first message.
    after_key: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(64))


class SlackGate(Base):
    """A pace shared by every sender: a channel, the workspace, or a Web API method after a 429.

    Nothing goes through a gate before `next_at`; a channel's gate is held (far `next_at`,
    `holder` set) while one sender posts to it, so a channel's messages go one at a time.
    """

    __tablename__ = "slack_gates"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_at: Mapped[datetime] = mapped_column()
    holder: Mapped[str | None] = mapped_column(String(64))


class JobRun(Base):
    """One run of a scheduled job (scheduler or `collectbot job`), for `collectbot status`."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20))  # "scheduler" or "cli"
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # running, ok, failed (deliveries failed), error (the job raised)
    result: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str | None] = mapped_column(String(300))


class AuditEvent(Base):
    """Who changed what, when: every write a person or a job makes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # Slack user id, "cli", "scheduler"
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ARSnapshot(Base):
    """One scope's receivables and metrics at the end of one day (scope: "team",
    "member:ID" or "unassigned"), for trends and objectives."""

    __tablename__ = "ar_snapshots"

    snapshot_date: Mapped[date] = mapped_column(Date, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    period_days: Mapped[int] = mapped_column(Integer)
    total_ar: Mapped[Decimal] = mapped_column(MONEY)
    current: Mapped[Decimal] = mapped_column(MONEY)
    days_1_30: Mapped[Decimal] = mapped_column(MONEY)
    days_31_60: Mapped[Decimal] = mapped_column(MONEY)
    days_61_90: Mapped[Decimal] = mapped_column(MONEY)
    days_91_120: Mapped[Decimal] = mapped_column(MONEY)
    days_120_plus: Mapped[Decimal] = mapped_column(MONEY)
    # The `metrics` object of `report --json` for that day and scope.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
