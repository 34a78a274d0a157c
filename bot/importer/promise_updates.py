"""After payments arrive: customers' open promises to pay become kept or partially kept."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select, update

from bot.db.models import Payment
from bot.db.sql import key_in
from bot.domain.promises import PromiseTerms, promise_status, received_toward
from bot.domain.vocabulary import PromiseStatus
from bot.importer.base import IN_CHUNK, TABLES
from bot.services.ledger import payments_received
from bot.services.roster import member_zones

PROMISES = TABLES["promises_to_pay"]
# A partially kept promise can still become kept while its window is open.
REVISABLE = (PromiseStatus.OPEN, PromiseStatus.PARTIALLY_KEPT)


def settle_promises(
    conn: Connection, customer_ids: set[int], today: date, default_tz: str | ZoneInfo
) -> tuple[int, int]:
    """Re-evaluate open promises of these customers; (newly kept, newly partially kept).

    A promise was made on its collector's local date (as the promises job reads it).
    """
    kept = partial = 0
    wanted = sorted(customer_ids)
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        promises = conn.execute(
            select(
                PROMISES.c.id, PROMISES.c.customer_id, PROMISES.c.collector_id,
                PROMISES.c.amount, PROMISES.c.promised_date, PROMISES.c.created_at,
                PROMISES.c.status, PROMISES.c.amount_received,
            ).where(key_in(conn, PROMISES.c.customer_id, chunk),
                    PROMISES.c.status.in_(REVISABLE))
        ).all()
        if not promises:
            continue
        zones = member_zones(conn, {p.collector_id for p in promises}, default_tz)
        terms_of = {
            p.id: PromiseTerms.made_at(
                p.amount, p.created_at, p.promised_date, zones[p.collector_id])
            for p in promises
        }
        earliest = min(terms.made_on for terms in terms_of.values())
        received: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        rows = conn.execute(payments_received(start=earliest).where(
            key_in(conn, Payment.customer_id, sorted({p.customer_id for p in promises}))
        ))
        for customer_id, paid_on, amount in rows.tuples():
            received[customer_id].append((paid_on, amount))
        changes = []
        for p in promises:
            terms = terms_of[p.id]
            total = received_toward(terms, received[p.customer_id])
            status = promise_status(terms, total, today)
            # Broken is the promises job's call (it also follows up); here only money counts.
            if status not in (PromiseStatus.KEPT, PromiseStatus.PARTIALLY_KEPT):
                continue
            if status == p.status and total == p.amount_received:
                continue
            if status is PromiseStatus.KEPT:
                kept += 1
            elif p.status is not PromiseStatus.PARTIALLY_KEPT:
                partial += 1
            changes.append({
                "b_id": p.id, "status": status, "amount_received": total,
                "resolved_on": today if status is PromiseStatus.KEPT else None,
            })
        if changes:
            conn.execute(update(PROMISES).where(PROMISES.c.id == bindparam("b_id")), changes)
    return kept, partial
