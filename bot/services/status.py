"""What `collectbot status` reads from the database: the delivery queue, invoices in a currency
other than the ledger's."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Delivery, Invoice
from bot.domain.health import FailedDelivery, QueueState
from bot.domain.vocabulary import DeliveryStatus, InvoiceStatus

LISTED_FAILURES = 10


QUEUED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRYING,
          DeliveryStatus.FAILED)


def queue_state(status: DeliveryStatus, attempts: int) -> str | None:
    """Where a delivery row stands: pending (queued or being sent), retrying, failed, or None
    once done (sent, skipped).

    The one place that reads delivery states for status, so a new state lands here only.
    """
    if status == DeliveryStatus.FAILED:
        return "failed"
    if status == DeliveryStatus.RETRYING:
        return "retrying"
    if status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        # A claim taken back from a sender that died is a retry, too.
        return "retrying" if attempts > 0 and status == DeliveryStatus.PENDING else "pending"
    return None


def delivery_queue(session: Session) -> QueueState:
    """Deliveries pending, retrying and failed, with the latest failures and their errors."""
    counts = {"pending": 0, "retrying": 0, "failed": 0}
    rows = session.execute(
        select(Delivery.status, Delivery.attempts, func.count())
        .where(Delivery.status.in_(QUEUED))
        .group_by(Delivery.status, Delivery.attempts)
    )
    for status, attempts, count in rows:
        state = queue_state(status, attempts)
        if state is not None:
            counts[state] += count
    return QueueState(counts["pending"], counts["retrying"], counts["failed"],
                      _latest(session, DeliveryStatus.FAILED),
                      _latest(session, DeliveryStatus.RETRYING))


def _latest(session: Session, status: DeliveryStatus) -> tuple[FailedDelivery, ...]:
    return tuple(
        FailedDelivery(row.key, row.kind, row.recipient, row.attempts, row.error)
        for row in session.scalars(
            select(Delivery).where(Delivery.status == status)
            .order_by(Delivery.id.desc()).limit(LISTED_FAILURES)
        )
    )


def foreign_invoices(session: Session, currency: str) -> tuple[tuple[str, int], ...]:
    """Invoices (not void) in a currency other than the ledger's, counted by currency."""
    rows = session.execute(
        select(Invoice.currency, func.count())
        .where(Invoice.currency != currency, Invoice.status != InvoiceStatus.VOID)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).tuples()
    return tuple((code, int(count)) for code, count in rows)
