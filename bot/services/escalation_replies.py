"""The replies in an escalation message's thread (a reminder, the end of a snooze): their
delivery keys, and their withdrawal when a decision or the rules make them stale.

A reply is queued for the sender pool; a manager may decide (or the rules close the
escalation) before the pool sends it, or while Slack makes it wait for a retry. Withdrawn in
the decision's own transaction, it is never sent: no "not decided yet" after a decision.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import Delivery, Escalation, EscalationStep
from bot.domain.vocabulary import DeliveryStatus, EscalationStatus

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


def stale_replies(session: Session, keys: Collection[str]) -> set[str]:
    """The replies among `keys` about nothing still open: an escalation's own once it is
    closed or decided; a digest's reminder once none of the escalations it reminded of is."""
    about = {key: _escalations_of(session, key) for key in keys}
    wanted = sorted({escalation for members in about.values() for escalation in members})
    still_open = set(session.scalars(select(Escalation.id).where(
        Escalation.id.in_(wanted), Escalation.status == EscalationStatus.OPEN))) if wanted \
        else set()
    return {key for key, members in about.items() if not members & still_open}


def _escalations_of(session: Session, key: str) -> set[int]:
    """The escalations a reply is about: its own, or those a digest's reminder named (the
    ones reminded at a step shown by the same digest message)."""
    _, escalation_id, rest = key.split(":", 2)
    if not key.endswith(DIGEST_SUFFIX):
        return {int(escalation_id)}
    shown_by = (select(EscalationStep.message_key)
                .where(EscalationStep.escalation_id == int(escalation_id),
                       EscalationStep.step == int(rest.split(":")[0]))
                .scalar_subquery())
    return {int(escalation_id), *session.scalars(
        select(EscalationStep.escalation_id).where(EscalationStep.message_key == shown_by,
                                                   EscalationStep.reminded_at.is_not(None)))}


def withdraw_replies(session: Session, escalation_id: int, *, why: str, now: datetime) -> int:
    """Skip the replies still queued that this escalation's decision made stale, in the
    caller's unit of work (after the decision is written); how many.

    Its own; and a digest's reminder once none of the escalations it names is open (while one
    is, it goes out: it names that one too).
    """
    # The id ends at the next colon: escalation 12's prefix never matches escalation 123.
    prefixes = [f"escalation-reminder:{escalation_id}:", f"escalation-awake:{escalation_id}:"]
    queued = (Delivery.kind == REPLY_KIND, Delivery.status.in_(_WITHDRAWABLE))
    own = or_(*(Delivery.key.startswith(prefix, autoescape=True) for prefix in prefixes))
    digest = Delivery.key.endswith(DIGEST_SUFFIX, autoescape=True)
    keys = set(session.scalars(select(Delivery.key).where(*queued, own, ~digest)))
    keys |= stale_replies(session, list(session.scalars(select(Delivery.key).where(*queued,
                                                                                  digest))))
    if not keys:
        return 0
    result = session.execute(
        update(Delivery).where(*queued, Delivery.key.in_(sorted(keys)))
        .values(status=DeliveryStatus.SKIPPED, error=why[:300], claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
