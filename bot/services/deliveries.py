"""Exactly-once deliveries: every message the bot sends is a `deliveries` row first.

Two ways to send one:
- `enqueue` (and `enqueue_upload`) writes the row, with everything needed to send it, in the
  caller's unit of work: a job commits its lists and their deliveries together and is done;
  the sender pool (scheduler/senders.py) sends them at Slack's pace, retries what failed for a
  while, and gives up with the reason recorded. `flush` sends given queued keys at once, in the
  calling thread, through the same claims and paces (what `collectbot job` does, to print what
  was sent).
- `deliver` writes the row and sends it at once, in its own short transactions (the row must be
  committed before Slack is called, and the result right after), so it must never be called
  inside a unit of work.

Either way: one row per key (a unique constraint), claimed before Slack is called; a retry
after a lost answer looks for the earlier message by its metadata before sending again
(bot/services/delivery_sender.py has the protocol). No transaction is open while Slack is called.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Delivery
from bot.domain.pacing import Pace
from bot.domain.vocabulary import DeliveryStatus
from bot.services.delivery_sender import (
    DEFAULT_LEASE,
    DELIVERY_EVENT,
    Claim,
    DeliveryOutcome,
    DeliveryResult,
    Sending,
    claim_key,
    is_user_id,
    send_claimed,
    utc_now,
)
from bot.slack.client import SlackGateway

__all__ = [
    "DEFAULT_LEASE", "DELIVERY_EVENT", "DeliveryOutcome", "DeliveryResult", "OutgoingMessage",
    "call_list_key", "deliver", "delivery_messages", "enqueue", "enqueue_upload", "flush",
    "is_user_id", "mark_skipped", "queued",
]

logger = logging.getLogger(__name__)

# Set when something is queued: a sender in this process looks at once instead of at its next
# poll (other processes find it at theirs).
queued = threading.Event()

# Seconds between two looks at a channel another sender holds (see _send_now).
HELD_CHANNEL_POLL = 0.5

_SLACK_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")


@dataclass(frozen=True)
class OutgoingMessage:
    """One Slack message of a delivery: fallback text and optional Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None


def call_list_key(slack_user_id: str, list_date: date) -> str:
    """The delivery key that makes a collector's list for a day go out once."""
    return f"calllist:{slack_user_id}:{list_date.isoformat()}"


def _payload(messages: Sequence[OutgoingMessage], *, thread: bool,
             fallback: Sequence[OutgoingMessage] | None,
             thread_ts: str | None = None) -> dict[str, Any]:
    def plain(found: Sequence[OutgoingMessage]) -> list[dict[str, Any]]:
        return [{"text": m.text, "blocks": m.blocks} for m in found]

    payload = {"messages": plain(messages), "thread": thread,
               "fallback": plain(fallback) if fallback else None}
    if thread_ts is not None:
        if thread or _SLACK_TS.fullmatch(thread_ts) is None:
            raise ValueError(f"thread_ts must be a Slack message ts (and no thread of its own): "
                             f"{thread_ts!r}")
        payload["thread_ts"] = thread_ts
    return payload


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient: str,
    messages: Sequence[OutgoingMessage],
    thread: bool = False,
    fallback: Sequence[OutgoingMessage] | None = None,
    thread_ts: str | None = None,
) -> bool:
    """Queue `messages` for `recipient` (a user's DM or a channel) once per `key`, ever, in the
    caller's unit of work. With `thread` every message after the first is a reply to it; with
    `thread_ts` every message is a reply in that message's thread (in the recipient's DM or
    channel, where that message is); `fallback` is sent instead if Slack refuses a block
    before anything was posted.

    True when queued now; False when the key was queued (or sent) before. The caller commits.
    """
    _check_arguments(key=key, kind=kind, recipient=recipient, messages=messages)
    return _insert(session, key=key, kind=kind, recipient=recipient,
                   payload=_payload(messages, thread=thread, fallback=fallback,
                                    thread_ts=thread_ts))


def enqueue_upload(
    session: Session,
    *,
    key: str,
    kind: str,
    after: str,
    recipient: str,
    filename: str,
    title: str,
    content: bytes,
    alt_txt: str | None = None,
) -> bool:
    """Queue a file for the thread of delivery `after`'s first message, sent once that one is.

    An upload is tried again only when it surely did not start: one cut off mid-way may be
    shared already, and no metadata would find it.
    """
    _check_arguments(key=key, kind=kind, recipient=recipient, messages=[OutgoingMessage(title)])
    if not content:
        raise ValueError(f"delivery {key} uploads an empty file")
    upload = {"filename": filename, "title": title, "alt_txt": alt_txt,
              "content": base64.b64encode(content).decode("ascii")}
    return _insert(session, key=key, kind=kind, recipient=recipient, payload={"upload": upload},
                   after=after)


def _insert(session: Session, *, key: str, kind: str, recipient: str, payload: dict[str, Any],
            after: str | None = None) -> bool:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(Delivery)
        .values(key=key, kind=kind, recipient=recipient, status=DeliveryStatus.PENDING,
                attempts=0, payload=payload, after_key=after, created_at=utc_now())
        .on_conflict_do_nothing(index_elements=["key"]).returning(Delivery.id)
    ).first() is not None
    if not inserted:
        row = session.scalars(select(Delivery).where(Delivery.key == key)).one()
        _check_same(row, key, kind, recipient)
        if row.payload is None and row.status == DeliveryStatus.PENDING and not row.attempts:
            # A row reserved before its messages were rendered (who it goes to decides how
            # they read): they are what it sends.
            row.payload, row.after_key, inserted = payload, after, True
    if inserted:
        queued.set()
    return inserted


def flush(
    database: Database,
    gateway: SlackGateway,
    keys: Iterable[str],
    *,
    now: datetime,
    pace: Pace | None,
    lease: timedelta = DEFAULT_LEASE,
) -> dict[str, DeliveryResult]:
    """Send the given queued deliveries now, in this thread, in order, at `pace`; each result.

    A failed one is recorded failed (whoever flushed reports it; the next flush retries it).
    """
    how = Sending(pace=pace, wait=_sleep)
    results: dict[str, DeliveryResult] = {}
    for key in keys:
        results[key] = _send_now(database, gateway, key, stamp=now, lease=lease, how=how)
    return results


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
    pace: Pace | None = None,
    thread_ts: str | None = None,
) -> DeliveryResult:
    """Send `messages` to `recipient` (a user's DM or a channel) once per `key`, ever, now;
    with `thread`, every message after the first is a reply in the first one's thread; with
    `thread_ts`, every message is a reply in that message's thread.

    Its own short transactions: never call it inside a unit of work.
    """
    _check_arguments(key=key, kind=kind, recipient=recipient, messages=messages)
    _check_time(now, lease)
    payload = _payload(messages, thread=thread, fallback=None, thread_ts=thread_ts)
    with database.uow() as uow:
        _insert(uow.session, key=key, kind=kind, recipient=recipient, payload=payload)
        uow.commit()
    return _send_now(database, gateway, key, stamp=now, lease=lease,
                     how=Sending(pace=pace, wait=_sleep), payload=payload)


def _sleep(seconds: float) -> bool:
    if seconds > 0:
        time.sleep(seconds)
    return False


def _send_now(
    database: Database, gateway: SlackGateway, key: str, *, stamp: datetime, lease: timedelta,
    how: Sending, payload: dict[str, Any] | None = None,
) -> DeliveryResult:
    holder = f"direct-{uuid.uuid4().hex[:12]}"
    while True:
        claim = claim_key(database, key, holder=holder, stamp=stamp, now=how.clock(),
                          lease=lease, gated=how.pace is not None, payload=payload)
        if isinstance(claim, Claim):
            return send_claimed(database, gateway, claim, how)
        if isinstance(claim, DeliveryResult):
            if claim.status != "sent":
                logger.info("delivery %s not sent: %s", key, claim.status,
                            extra={"delivery_key": key})
            return claim
        # Its channel is busy with another message: wait for it. A held channel opens at the
        # latest when that sender's lease ends (minutes), but usually as soon as its message is
        # sent: look again every HELD_CHANNEL_POLL rather than sleep the whole lease.
        how.wait(min(HELD_CHANNEL_POLL, max(0.01, (claim - how.clock()).total_seconds())))


def mark_skipped(  # noqa: PLR0917 (the positional signature other modules call)
    database: Database, key: str, kind: str, recipient: str, reason: str, now: datetime
) -> DeliveryStatus:
    """Record that `key` is deliberately not sent (e.g. day skipped); returns the row's status.

    The reason is kept in the row's `error` column. A delivery already sent stays sent.
    """
    _check_arguments(key=key, kind=kind, recipient=recipient, messages=[OutgoingMessage(reason)])
    _check_time(now, DEFAULT_LEASE)
    if not reason.strip():
        raise ValueError("a skipped delivery needs a reason")
    dialect = postgresql if database.dialect == "postgresql" else sqlite
    with database.uow() as uow:
        if uow.session.execute(
            dialect.insert(Delivery)
            .values(key=key, kind=kind, recipient=recipient, status=DeliveryStatus.SKIPPED,
                    attempts=0, error=reason[:300], claimed_at=now, created_at=utc_now())
            .on_conflict_do_nothing(index_elements=["key"]).returning(Delivery.id)
        ).first() is not None:
            uow.commit()
            logger.info("delivery %s skipped", key, extra={"delivery_key": key})
            return DeliveryStatus.SKIPPED
        query = select(Delivery).where(Delivery.key == key)
        if database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = uow.session.scalars(query).first()
        if row is None or row.status in (DeliveryStatus.SENT, DeliveryStatus.SKIPPED,
                                          DeliveryStatus.SENDING):
            # Sent, skipped, or being sent right now (its send wins).
            return DeliveryStatus.SENDING if row is None else row.status
        _check_same(row, key, kind, recipient)
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
    *, key: str, kind: str, recipient: str, messages: Sequence[OutgoingMessage]
) -> None:
    if not key or len(key) > 200:
        raise ValueError(f"delivery key must be 1-200 characters, got {len(key)}")
    if not kind or len(kind) > 30:
        raise ValueError(f"delivery kind must be 1-30 characters: {kind!r}")
    if not recipient or len(recipient) > 64 or recipient[:1] not in "UWCGD":
        raise ValueError(f"recipient must be a Slack user or channel id: {recipient!r}")
    if not messages:
        raise ValueError(f"delivery {key} has no messages")


def _check_time(now: datetime, lease: timedelta) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if lease <= timedelta(0):
        raise ValueError("lease must be positive")


def _check_same(row: Delivery, key: str, kind: str, recipient: str) -> None:
    if row.recipient != recipient or row.kind != kind:
        raise ValueError(
            f"delivery {key} exists as {row.kind} to {row.recipient}, not {kind} to {recipient}"
        )
