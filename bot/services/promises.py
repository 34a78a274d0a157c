"""The promises job: open promises whose date has passed unpaid become broken.

Run daily by the scheduler (`collectbot job promises`). Each promise is judged on its
collector's local today by `bot.domain.promises`: payments received from the day it was made
to its promised date count toward it. Money that arrived marks it kept or partially kept (the
import normally does this first); nothing by the day after the promised date marks it broken.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import Database
from bot.db.models import Payment, PromiseToPay
from bot.domain.calendar import local_date
from bot.domain.promises import PromiseTerms, last_counted_day, promise_status, received_toward
from bot.domain.vocabulary import PromiseStatus
from bot.services.ledger import payments_received
from bot.services.roster import member_zones

logger = logging.getLogger(__name__)

ACTOR = "scheduler"
# No zone is more than 14 hours ahead of UTC: no promise dated later can be due anywhere yet.
MAX_AHEAD = timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class PromisesJobResult:
    """What one run changed."""

    checked: int
    broken: int
    kept: int
    partially_kept: int


def run_promises_job(
    database: Database, *, now: datetime, default_tz: str | ZoneInfo
) -> PromisesJobResult:
    """Judge every open promise that may be due; one transaction, idempotent."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    latest_due = (now + MAX_AHEAD).date()
    with database.uow() as uow:
        session = uow.session
        promises = list(
            session.scalars(
                select(PromiseToPay)
                .where(
                    PromiseToPay.status == PromiseStatus.OPEN,
                    PromiseToPay.promised_date < latest_due,
                )
                .order_by(PromiseToPay.id)
                .with_for_update()
            )
        )
        if not promises:
            return PromisesJobResult(0, 0, 0, 0)
        zones = member_zones(session, (p.collector_id for p in promises), default_tz)
        terms_of = {
            p.id: PromiseTerms.made_at(
                p.amount, p.created_at, p.promised_date, zones[p.collector_id])
            for p in promises
        }
        payments: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        earliest = min(terms.made_on for terms in terms_of.values())
        for customer_id, paid_on, amount in session.execute(
            payments_received(start=earliest).where(
                Payment.customer_id.in_(sorted({p.customer_id for p in promises}))
            )
        ).tuples():
            payments[customer_id].append((paid_on, amount))
        counts = {PromiseStatus.BROKEN: 0, PromiseStatus.KEPT: 0, PromiseStatus.PARTIALLY_KEPT: 0}
        for promise in promises:
            today = local_date(now, zones[promise.collector_id])
            terms = terms_of[promise.id]
            received = received_toward(terms, payments[promise.customer_id])
            status = promise_status(terms, received, today)
            if status is PromiseStatus.OPEN:
                continue
            counts[status] += 1
            promise.status = status
            promise.amount_received = received
            if status is PromiseStatus.BROKEN:
                # The day it broke, not the day the job noticed, so "broken N days ago" is true.
                promise.resolved_on = last_counted_day(terms) + timedelta(days=1)
            elif status is PromiseStatus.KEPT:
                promise.resolved_on = today
            uow.audit(
                ACTOR, f"promise.{status.value}", "promise_to_pay", promise.id,
                customer_id=promise.customer_id, amount=str(promise.amount),
                promised_date=promise.promised_date.isoformat(), received=str(received),
            )
        uow.commit()
    result = PromisesJobResult(
        checked=len(promises),
        broken=counts[PromiseStatus.BROKEN],
        kept=counts[PromiseStatus.KEPT],
        partially_kept=counts[PromiseStatus.PARTIALLY_KEPT],
    )
    logger.info("promises job: %d checked, %d broken, %d kept, %d partially kept",
                result.checked, result.broken, result.kept, result.partially_kept)
    return result

