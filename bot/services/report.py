"""The ledger's figures as of a date: total AR, past-due AR, aging overall and per collector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Customer, Invoice, Payment, TeamMember
from bot.domain.aging import BUCKETS, Bucket
from bot.domain.vocabulary import InvoiceStatus

ZERO = Decimal("0.00")
UNASSIGNED = "unassigned"


def _empty_buckets() -> dict[Bucket, Decimal]:
    return dict.fromkeys(BUCKETS, ZERO)


@dataclass
class AgingLine:
    """One collector's book (or the unassigned accounts) as of the date."""

    slack_user_id: str | None
    name: str
    buckets: dict[Bucket, Decimal] = field(default_factory=_empty_buckets)
    open_invoices: int = 0

    @property
    def total_ar(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def past_due_ar(self) -> Decimal:
        return self.total_ar - self.buckets[Bucket.CURRENT]


@dataclass
class AgingReport:
    as_of: date
    currency: str
    overall: AgingLine
    by_collector: list[AgingLine]

    @property
    def total_ar(self) -> Decimal:
        return self.overall.total_ar

    @property
    def past_due_ar(self) -> Decimal:
        return self.overall.past_due_ar


def bucket_case(
    due_date: Any, as_of: date, values: Mapping[Bucket, Any] | None = None
) -> ColumnElement[Any]:
    """The value of a due date's aging bucket as of a date (by default the bucket's name), in
    SQL both engines run (no date arithmetic). Leave CURRENT out of `values` for dates that
    are always past due."""
    if values is None:
        values = {bucket: literal(bucket.value) for bucket in Bucket}
    whens = [(due_date >= as_of, values[Bucket.CURRENT])] if Bucket.CURRENT in values else []
    for bucket, days in ((Bucket.DAYS_1_30, 30), (Bucket.DAYS_31_60, 60),
                         (Bucket.DAYS_61_90, 90), (Bucket.DAYS_91_120, 120)):
        whens.append((due_date >= as_of - timedelta(days=days), values[bucket]))
    return case(*whens, else_=values[Bucket.DAYS_120_PLUS])


def open_balance_as_of(as_of: date) -> ColumnElement[Decimal]:
    """An invoice's open balance on a date: today's balance plus what was paid after that date."""
    paid_after = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.invoice_id == Invoice.id, Payment.paid_on > as_of)
        .scalar_subquery()
    )
    balance = Invoice.amount - Invoice.amount_paid + paid_after
    return case(
        (and_(Invoice.settled_date.is_not(None), Invoice.settled_date <= as_of), literal(ZERO)),
        (balance > Invoice.amount, Invoice.amount),
        (balance < 0, literal(ZERO)),
        else_=balance,
    )


def aging_report(session: Session, as_of: date) -> AgingReport:
    """Aging of every invoice that was issued on or before `as_of` and still open on it."""
    balance = open_balance_as_of(as_of).label("balance")
    bucket = bucket_case(Invoice.due_date, as_of).label("bucket")
    open_on_date = (
        select(Customer.collector_id, bucket, balance, Invoice.currency)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(
            Invoice.issue_date <= as_of,
            Invoice.status != InvoiceStatus.VOID,
            or_(Invoice.settled_date.is_(None), Invoice.settled_date > as_of),
        )
        .subquery()
    )
    rows = session.execute(
        select(
            open_on_date.c.collector_id,
            open_on_date.c.bucket,
            func.sum(open_on_date.c.balance),
            func.count(),
            func.min(open_on_date.c.currency),
        )
        .where(open_on_date.c.balance > 0)
        .group_by(open_on_date.c.collector_id, open_on_date.c.bucket)
    ).all()

    members = {
        m.id: m
        for m in session.scalars(
            select(TeamMember).where(
                TeamMember.id.in_({r[0] for r in rows if r[0] is not None})
            )
        )
    }
    overall = AgingLine(slack_user_id=None, name="Team")
    lines: dict[int | None, AgingLine] = {}
    currency = "USD"
    for collector_id, bucket_value, summed, count, row_currency in rows:
        amount = Decimal(summed).quantize(Decimal("0.01"))
        key: int | None = collector_id
        if key not in lines:
            member = members.get(collector_id) if collector_id is not None else None
            lines[key] = AgingLine(
                slack_user_id=member.slack_user_id if member else None,
                name=member.name if member else "Unassigned",
            )
        bucket_key = Bucket(bucket_value)
        lines[key].buckets[bucket_key] += amount
        lines[key].open_invoices += count
        overall.buckets[bucket_key] += amount
        overall.open_invoices += count
        currency = row_currency or currency
    by_collector = sorted(
        lines.values(), key=lambda line: (line.slack_user_id is None, line.name.lower())
    )
    return AgingReport(as_of=as_of, currency=currency, overall=overall, by_collector=by_collector)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _line_json(line: AgingLine) -> dict[str, Any]:
    return {
        "total_ar": _money(line.total_ar),
        "past_due_ar": _money(line.past_due_ar),
        "open_invoices": line.open_invoices,
        "buckets": {b.value: _money(line.buckets[b]) for b in BUCKETS},
    }


def report_json(report: AgingReport) -> dict[str, Any]:
    """The stable JSON shape documented in the README (money as exact decimal strings)."""
    return {
        "as_of": report.as_of.isoformat(),
        "currency": report.currency,
        **_line_json(report.overall),
        "collectors": [
            {"slack_user_id": line.slack_user_id, "name": line.name, **_line_json(line)}
            for line in report.by_collector
        ],
    }


def render_report(report: AgingReport) -> str:
    """A fixed-width terminal table: one row per collector and a team total."""
    headers = ["Collector", *[b.label for b in BUCKETS], "Past due", "Total AR"]
    table = [
        [line.name, *[f"{line.buckets[b]:,.2f}" for b in BUCKETS],
         f"{line.past_due_ar:,.2f}", f"{line.total_ar:,.2f}"]
        for line in [*report.by_collector, report.overall]
    ]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]

    def row(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    out = [
        f"Aging as of {report.as_of.isoformat()} ({report.currency})",
        "",
        row(headers),
        rule,
        *(row(r) for r in table[:-1]),
        rule,
        row(table[-1]),
        "",
        f"Total AR {report.total_ar:,.2f} · past due {report.past_due_ar:,.2f}"
        f" ({_share(report.past_due_ar, report.total_ar)}) · "
        f"{report.overall.open_invoices:,} open invoices",
    ]
    return "\n".join(out)


def _share(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "0%"
    return f"{(part / whole * 100):.1f}%"
