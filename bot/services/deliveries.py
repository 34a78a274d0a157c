"""Exactly-once deliveries: each message the bot sends is a `deliveries` row claimed first.

The protocol, so that a retry, a restart or a second process never sends twice:
1. insert the intent row (unique key) in its own committed transaction;
2. claim it with a compare-and-set UPDATE (pending and unclaimed or claimed longer ago than the
   lease, or failed); PostgreSQL also locks the row with FOR UPDATE SKIP LOCKED;
3. on a delivery claimed before (a crash or a failure after a possible send), look in the
   channel's history for messages carrying this key in their metadata and send only what is missing;
4. mark it sent with every {channel, ts} in one transaction.
No transaction is open while Slack is called.

Why its own short transactions, when every other service takes its caller's unit of work: the
intent row must be committed before Slack is called (else a crash after the send leaves no trace
to find the message by), and the result committed right after (else a rollback of the caller's
work would forget a message Slack already shows). So `deliver` takes the Database, not a unit of
work, and must never be called inside one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db import Database
from bot.db.models import Delivery
from bot.domain.vocabulary import DeliveryStatus
from bot.slack.client import SlackError, SlackGateway

logger = logging.getLogger(__name__)

DELIVERY_EVENT = "collectbot_delivery"
# Slack's clock and ours may disagree a little; look this far before the intent row was written.
HISTORY_MARGIN = timedelta(minutes=10)
DEFAULT_LEASE = timedelta(minutes=5)

DeliveryOutcome = Literal["sent", "already_sent", "in_progress", "failed", "skipped"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One Slack message of a delivery: fallback text and optional Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What `deliver` did: status, the {channel, ts} of every message, Slack's error code."""

    status: DeliveryOutcome
    messages: list[dict[str, str]]
    error: str | None = None


@dataclass(frozen=True)
class _Claim:
    created_at: datetime
    reclaimed: bool


def call_list_key(slack_user_id: str, list_date: date) -> str:
    """The delivery key that makes a collector's list for a day go out once."""
    return f"calllist:{slack_user_id}:{list_date.isoformat()}"


def is_user_id(recipient: str) -> bool:
    """True for a Slack user id (U…/W…), false for a channel id (C…/G…/D…)."""
    return recipient[:1] in ("U", "W")


def deliver(
    database: Database,
    gateway: SlackGateway,
    *,
    key: str,
    kind: str,
    recipient: str,
    messages: Sequence[OutgoingMessage],
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
    thread: bool = False,
) -> DeliveryResult:
    """Send `messages` to `recipient` (a user's DM or a channel) once per `key`, ever; with
    `thread`, every message after the first is a reply in the first one's thread."""
    _check_arguments(
        key=key, kind=kind, recipient=recipient, messages=messages, now=now, lease=lease
    )
    _insert_intent(database, key=key, kind=kind, recipient=recipient)
    claim = _claim(database, key=key, kind=kind, recipient=recipient, now=now, lease=lease)
    if isinstance(claim, DeliveryResult):
        logger.info("delivery %s not sent: %s", key, claim.status, extra={"delivery_key": key})
        return claim

    channel = recipient
    sent: dict[int, str] = {}
    try:
        if is_user_id(recipient):
            channel = gateway.open_dm(recipient)
        if claim.reclaimed:
            sent.update(_earlier_parts(gateway, channel, key, claim.created_at - HISTORY_MARGIN))
            if sent:
                logger.info("delivery %s: %d part(s) found already sent", key, len(sent),
                            extra={"delivery_key": key})
        for part, message in enumerate(messages, start=1):
            if part in sent:
                continue
            # Replies go under the first message; plain posts keep the plain call.
            reply = {"thread_ts": sent[1]} if thread and part > 1 and 1 in sent else {}
            sent[part] = gateway.post_message(
                channel,
                message.text,
                message.blocks,
                **reply,
                metadata={
                    "event_type": DELIVERY_EVENT,
                    "event_payload": {"key": key, "part": part},
                },
            )
    except SlackError as exc:
        refs = _refs(channel, sent)
        _finish(database, key, DeliveryStatus.FAILED, channel=channel, refs=refs, now=None,
                error=exc.code)
        logger.warning("delivery %s failed: %s (%d of %d sent)", key, exc.code, len(sent),
                       len(messages), extra={"delivery_key": key})
        return DeliveryResult("failed", refs, exc.code)

    refs = _refs(channel, sent)
    _finish(database, key, DeliveryStatus.SENT, channel=channel, refs=refs, now=now, error=None)
    logger.info("delivery %s sent to %s (%d message(s))", key, channel, len(refs),
                extra={"delivery_key": key})
    return DeliveryResult("sent", refs)


def mark_skipped(  # noqa: PLR0917 (the positional signature other modules call)
    database: Database, key: str, kind: str, recipient: str, reason: str, now: datetime
) -> DeliveryStatus:
    """Record that `key` is deliberately not sent (e.g. day skipped); returns the row's status.

    The reason is kept in the row's `error` column. A delivery already sent stays sent.
    """
    _check_arguments(
        key=key,
        kind=kind,
        recipient=recipient,
        messages=[OutgoingMessage(reason)],
        now=now,
        lease=DEFAULT_LEASE,
    )
    if not reason.strip():
        raise ValueError("a skipped delivery needs a reason")
    _insert_intent(database, key=key, kind=kind, recipient=recipient)
    with database.uow() as uow:
        row = _locked_row(database, uow.session, key)
        if row is None:
            return DeliveryStatus.PENDING
        _check_same(row, key, kind, recipient)
        if row.status in (DeliveryStatus.SENT, DeliveryStatus.SKIPPED):
            return row.status
        if row.status == DeliveryStatus.PENDING and row.claimed_at is not None and (
            row.claimed_at >= now - DEFAULT_LEASE
        ):
            # Someone is sending it right now; their send wins.
            return row.status
        row.status = DeliveryStatus.SKIPPED
        row.error = reason[:300]
        row.claimed_at = now
        uow.commit()
        logger.info("delivery %s skipped", key, extra={"delivery_key": key})
        return DeliveryStatus.SKIPPED


def delivery_messages(database: Database, key: str) -> list[dict[str, str]]:
    """The {channel, ts} of every Slack message a delivery produced (empty if none)."""
    with database.uow() as uow:
        refs = uow.session.scalars(select(Delivery.messages).where(Delivery.key == key)).first()
    return [dict(r) for r in refs or ()]


def _check_arguments(
    *,
    key: str,
    kind: str,
    recipient: str,
    messages: Sequence[OutgoingMessage],
    now: datetime,
    lease: timedelta,
) -> None:
    if not key or len(key) > 200:
        raise ValueError(f"delivery key must be 1-200 characters, got {len(key)}")
    if not kind or len(kind) > 30:
        raise ValueError(f"delivery kind must be 1-30 characters: {kind!r}")
    if not recipient or len(recipient) > 64 or recipient[:1] not in "UWCGD":
        raise ValueError(f"recipient must be a Slack user or channel id: {recipient!r}")
    if not messages:
        raise ValueError(f"delivery {key} has no messages")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if lease <= timedelta(0):
        raise ValueError("lease must be positive")


def _insert_intent(database: Database, *, key: str, kind: str, recipient: str) -> None:
    dialect = postgresql if database.dialect == "postgresql" else sqlite
    statement = (
        dialect.insert(Delivery)
        .values(key=key, kind=kind, recipient=recipient, status=DeliveryStatus.PENDING,
                attempts=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    with database.uow() as uow:
        uow.session.execute(statement)
        uow.commit()


def _locked_row(database: Database, session: Any, key: str) -> Delivery | None:
    query = select(Delivery).where(Delivery.key == key)
    if database.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row: Delivery | None = session.scalars(query).first()
    return row


def _check_same(row: Delivery, key: str, kind: str, recipient: str) -> None:
    if row.recipient != recipient or row.kind != kind:
        raise ValueError(
            f"delivery {key} exists as {row.kind} to {row.recipient}, not {kind} to {recipient}"
        )


def _claim(
    database: Database,
    *,
    key: str,
    kind: str,
    recipient: str,
    now: datetime,
    lease: timedelta,
) -> _Claim | DeliveryResult:
    stale = now - lease
    with database.uow() as uow:
        session = uow.session
        row = _locked_row(database, session, key)
        if row is None:
            # PostgreSQL skipped a row another process holds locked while claiming it.
            return DeliveryResult("in_progress", [])
        _check_same(row, key, kind, recipient)
        if row.status == DeliveryStatus.SENT:
            return DeliveryResult("already_sent", [dict(r) for r in row.messages or ()])
        if row.status == DeliveryStatus.SKIPPED:
            return DeliveryResult("skipped", [], row.error)
        if row.status == DeliveryStatus.PENDING and row.claimed_at is not None and (
            row.claimed_at >= stale
        ):
            return DeliveryResult("in_progress", [dict(r) for r in row.messages or ()])
        reclaimed = row.attempts > 0 or row.claimed_at is not None
        created_at = row.created_at
        claimable = or_(
            Delivery.status == DeliveryStatus.FAILED,
            and_(
                Delivery.status == DeliveryStatus.PENDING,
                or_(Delivery.claimed_at.is_(None), Delivery.claimed_at < stale),
            ),
        )
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Delivery)
                .where(Delivery.key == key, claimable)
                .values(
                    status=DeliveryStatus.PENDING,
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                    error=None,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:
            return DeliveryResult("in_progress", [])
        uow.commit()
    return _Claim(created_at=created_at, reclaimed=reclaimed)


def _earlier_parts(
    gateway: SlackGateway, channel: str, key: str, oldest: datetime
) -> dict[int, str]:
    found: dict[int, str] = {}
    for message in gateway.metadata_messages(channel, DELIVERY_EVENT, oldest):
        if message.payload.get("key") != key:
            continue
        try:
            part = int(message.payload.get("part", 1))
        except (TypeError, ValueError):
            continue
        # The oldest copy is the one the recipient saw first; keep it.
        found.setdefault(part, message.ts)
    return found


def _refs(channel: str, sent: dict[int, str]) -> list[dict[str, str]]:
    return [{"channel": channel, "ts": sent[part]} for part in sorted(sent)]


def _finish(
    database: Database,
    key: str,
    status: DeliveryStatus,
    *,
    channel: str,
    refs: list[dict[str, str]],
    now: datetime | None,
    error: str | None,
) -> None:
    with database.uow() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.key == key, Delivery.status != DeliveryStatus.SENT)
            .values(status=status, channel=channel, messages=refs, sent_at=now,
                    error=None if error is None else error[:300])
            .execution_options(synchronize_session=False)
        )
        uow.commit()
