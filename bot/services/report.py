"""The ledger's figures as of a date: total AR, past-due AR, aging overall and per collector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from bot.db.models import Customer, Invoice, TeamMember
from bot.db.sql import inline_date
from bot.domain.aging import BUCKETS, Bucket
from bot.domain.vocabulary import InvoiceStatus
from bot.services.ledger import credit_by_collector, open_balance_as_of

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
    # Payments received by the date that no invoice had taken by then (not part of AR).
    unapplied_credit: Decimal = ZERO

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
    due_date: Any, as_of: date, values: Mapping[Bucket, Any] | None = None, *,
    inline: bool = False,
) -> ColumnElement[Any]:
    """The value of a due date's aging bucket as of a date (by default the bucket's name), in
    SQL both engines run (no date arithmetic). Leave CURRENT out of `values` for dates that
    are always past due. `inline` writes the days into the statement (`inline_date`)."""
    if values is None:
        values = {bucket: literal(bucket.value) for bucket in Bucket}

    def day(value: date) -> Any:
        return inline_date(value) if inline else value

    whens = [(due_date >= day(as_of), values[Bucket.CURRENT])] if Bucket.CURRENT in values else []
    for bucket, days in ((Bucket.DAYS_1_30, 30), (Bucket.DAYS_31_60, 60),
                         (Bucket.DAYS_61_90, 90), (Bucket.DAYS_91_120, 120)):
        whens.append((due_date >= day(as_of - timedelta(days=days)), values[bucket]))
    return case(*whens, else_=values[Bucket.DAYS_120_PLUS])


def aging_report(session: Session, as_of: date, currency: str = "USD") -> AgingReport:
    """Aging of every invoice in the ledger's currency that was issued on or before `as_of`
    and still open on it, and the customers' unapplied credit that day."""
    balance = open_balance_as_of(as_of).label("balance")
    bucket = bucket_case(Invoice.due_date, as_of).label("bucket")
    open_on_date = (
        select(Customer.collector_id, bucket, balance)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(
            Invoice.issue_date <= as_of,
            Invoice.status != InvoiceStatus.VOID,
            # Unlike money is never added: the import refuses other currencies.
            Invoice.currency == currency,
        )
        .subquery()
    )
    rows = session.execute(
        select(
            open_on_date.c.collector_id,
            open_on_date.c.bucket,
            func.sum(open_on_date.c.balance),
            func.count(),
        )
        .where(open_on_date.c.balance > 0)
        .group_by(open_on_date.c.collector_id, open_on_date.c.bucket)
    ).all()
    credit = credit_by_collector(session, as_of)

    wanted = {r[0] for r in rows} | set(credit)
    members = {
        m.id: m
        for m in session.scalars(
            select(TeamMember).where(TeamMember.id.in_({c for c in wanted if c is not None}))
        )
    }
    overall = AgingLine(slack_user_id=None, name="Team")
    lines: dict[int | None, AgingLine] = {}

    def line_of(collector_id: int | None) -> AgingLine:
        if collector_id not in lines:
            member = members.get(collector_id) if collector_id is not None else None
            lines[collector_id] = AgingLine(
                slack_user_id=member.slack_user_id if member else None,
                name=member.name if member else "Unassigned",
            )
        return lines[collector_id]

    for collector_id, bucket_value, summed, count in rows:
        amount = Decimal(summed).quantize(Decimal("0.01"))
        line = line_of(collector_id)
        bucket_key = Bucket(bucket_value)
        line.buckets[bucket_key] += amount
        line.open_invoices += count
        overall.buckets[bucket_key] += amount
        overall.open_invoices += count
    for collector_id, amount in credit.items():
        line_of(collector_id).unapplied_credit += amount
        overall.unapplied_credit += amount
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
        "unapplied_credit": _money(line.unapplied_credit),
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
    if report.overall.unapplied_credit:
        out.append(f"Unapplied credit {report.overall.unapplied_credit:,.2f} (payments no "
                   "invoice took; not in AR)")
    return "\n".join(out)


def _share(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "0%"
    return f"{(part / whole * 100):.1f}%"
