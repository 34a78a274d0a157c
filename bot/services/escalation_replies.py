"""The replies in an escalation message's thread (a reminder, the end of a snooze): their
delivery keys, and their withdrawal when a decision or the rules make them stale.

A reply is queued for the sender pool; a manager may decide (or the rules close the
escalation) before the pool sends it, or while Slack makes it wait for a retry. Withdrawn in
the decision's own transaction, it is never sent: no "not decided yet" after a decision.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.db.models import Delivery
from bot.domain.vocabulary import DeliveryStatus

REPLY_KIND = "escalation-reply"  # a reminder or a snooze's end, in the message's thread
# Queued and not claimed by a sender: one being sent goes out (its send wins).
_WITHDRAWABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


DIGEST_SUFFIX = ":digest"  # a reminder of all of a digest's escalations that are due


def reminder_key(escalation_id: int, step: int) -> str:
    """The delivery key of the one reminder an escalation gets at a step."""
    return f"escalation-reminder:{escalation_id}:{step}"


def awake_key(escalation_id: int, snoozed_until: date) -> str:
    """The delivery key of the ping when one snooze of an escalation ends."""
    return f"escalation-awake:{escalation_id}:{snoozed_until.isoformat()}"


def withdraw_replies(session: Session, escalation_id: int, *, why: str, now: datetime) -> int:
    """Skip the escalation's own replies still queued, in the caller's unit of work; how many.

    A digest's reminder (it names the digest's other escalations too) is left to go out.
    """
    # The id ends at the next colon: escalation 12's prefix never matches escalation 123.
    prefixes = [f"escalation-reminder:{escalation_id}:", f"escalation-awake:{escalation_id}:"]
    result = session.execute(
        update(Delivery)
        .where(Delivery.kind == REPLY_KIND, Delivery.status.in_(_WITHDRAWABLE),
               or_(*(Delivery.key.startswith(prefix, autoescape=True) for prefix in prefixes)),
               ~Delivery.key.endswith(DIGEST_SUFFIX, autoescape=True))
        .values(status=DeliveryStatus.SKIPPED, error=why[:300], claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
