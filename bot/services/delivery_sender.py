"""Sending one queued delivery: claim its row, pace it, post its parts, record what happened.

A claim is a compare-and-set in one short transaction: the row (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so two senders never wait on, nor take, the same row) goes to `sending` with this
sender's name, and its channel's gate is held by the same transaction. Slack is called with no
transaction open; each part sent is recorded at once, so a sender stopped between two parts
hands the rest to the next one. A claim whose sender died is taken back after the lease, and
the new sender first looks for parts a lost answer may have posted (their metadata carries the
delivery key): in the channel's history, and for replies in their thread (conversations.replies:
Slack's history leaves replies out), so nothing is sent twice.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.db import Database
from bot.db.models import Delivery
from bot.domain.pacing import RATE_LIMITED, Pace, is_transient, retry_delay
from bot.domain.vocabulary import DeliveryStatus
from bot.services import delivery_gates as gates
from bot.settings import Settings
from bot.slack.client import MetadataMessage, SlackError, SlackGateway

logger = logging.getLogger(__name__)

DELIVERY_EVENT = "collectbot_delivery"
# Slack's clock and ours may disagree a little; look this far before the intent row was written.
HISTORY_MARGIN = timedelta(minutes=10)
DEFAULT_LEASE = timedelta(minutes=5)
UPLOAD_METHOD = "files.upload"

DeliveryOutcome = Literal["sent", "already_sent", "in_progress", "failed", "skipped", "queued",
                          "retrying"]
Clock = Callable[[], datetime]
# Waits the given seconds; True when the sender was asked to stop meanwhile.
Wait = Callable[[float], bool]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to a delivery: status, the {channel, ts} of every message, Slack's error."""

    status: DeliveryOutcome
    messages: list[dict[str, str]]
    error: str | None = None


@dataclass
class Claim:
    """A delivery this sender holds: what to send and what of it is already sent."""

    key: str
    kind: str
    recipient: str
    payload: dict[str, Any]
    holder: str
    stamp: datetime  # the claim's time as the caller tells it (rows' claimed_at, sent_at)
    created_at: datetime
    reclaimed: bool  # an earlier try may have posted parts we did not record
    attempts: int
    channel: str | None
    parent: dict[str, str] | None  # the first message of the delivery it follows
    sent: dict[int, str] = field(default_factory=dict)
    gated: bool = False  # holds its channel's gate


@dataclass(frozen=True)
class Sending:
    """How a sender sends: its pace (None: no gates, as `deliver` called directly), its clock,
    how it waits, and whether a failure is retried by the pool or left to the caller."""

    pace: Pace | None
    clock: Clock = utc_now
    wait: Wait = field(default=lambda seconds: False)
    pooled: bool = False


def pace_of(settings: Settings) -> Pace:
    """The pool's pace from the settings."""
    return Pace(channel_interval=timedelta(seconds=settings.channel_interval),
                workspace_per_minute=settings.workspace_per_minute,
                tries=settings.delivery_tries)


def methods_of(kind_payload: dict[str, Any] | None, recipient: str) -> list[str]:
    """The Web API methods a delivery calls (each may be closed by a 429)."""
    if kind_payload is not None and "upload" in kind_payload:
        return [UPLOAD_METHOD]
    methods = ["chat.postMessage", "conversations.history"]
    if kind_payload is not None and (kind_payload.get("thread_ts") or kind_payload.get("thread")):
        methods.append("conversations.replies")
    return [*methods, "conversations.open"] if is_user_id(recipient) else methods


def is_user_id(recipient: str) -> bool:
    """True for a Slack user id (U…/W…), false for a channel id (C…/G…/D…)."""
    return recipient[:1] in ("U", "W")


# --- claiming ---------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    parent = aliased(Delivery)
    return and_(
        or_(
            and_(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRYING]),
                 or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)),
            # A sender that died: its lease (in next_attempt_at, real time) ran out.
            and_(Delivery.status == DeliveryStatus.SENDING, Delivery.next_attempt_at < now),
        ),
        or_(Delivery.after_key.is_(None),
            exists().where(parent.key == Delivery.after_key,
                           parent.status == DeliveryStatus.SENT)),
    )


def claim_next(
    database: Database, *, holder: str, now: datetime, lease: timedelta = DEFAULT_LEASE,
    limit: int = 50,
) -> Claim | datetime | None:
    """Claim the oldest due delivery whose channel and methods are open.

    Returns the claim; or when to look again (a gate opens then); or None when nothing is due.
    Gates are read first without a lock, so a busy channel costs no lock; the one chosen is
    then held with the row in one short transaction (and re-checked there).
    """
    with database.uow(read_only=True) as uow:
        due = uow.session.execute(
            select(Delivery.key, Delivery.recipient, Delivery.payload).where(_due(now))
            .order_by(Delivery.id).limit(limit)
        ).all()
        if not due:
            return None
        names = {gates.channel_gate(r) for _, r, _ in due}
        names |= {gates.method_gate(m) for _, r, p in due for m in methods_of(p, r)}
        opens = gates.opening_times(uow.session, names)
    gates.ensure_gates(database, {n for n in names if n.startswith("channel:")} - set(opens))
    earliest: datetime | None = None
    for key, recipient, payload in due:
        blocked = [opens.get(name) for name in (
            gates.channel_gate(recipient),
            *(gates.method_gate(m) for m in methods_of(payload, recipient)))]
        later = [moment for moment in blocked if moment is not None and moment > now]
        if later:
            earliest = min(later if earliest is None else [earliest, *later])
            continue
        claim = _claim_one(database, key, holder=holder, now=now, lease=lease)
        if claim is not None:
            return claim
    return earliest


def _claim_one(
    database: Database, key: str, *, holder: str, now: datetime, lease: timedelta
) -> Claim | None:
    with database.uow() as uow:
        query = select(Delivery).where(Delivery.key == key, _due(now))
        if database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Delivery)
        row = uow.session.scalars(query).first()
        if row is None:
            return None  # another sender took it meanwhile
        if gates.hold_channel(database, uow.session, gates.channel_gate(row.recipient), now=now,
                              lease=lease, holder=holder, key=row.key,
                              takeover=row.claimed_by) is not None:
            return None
        claim = _take(uow.session, row, holder=holder, stamp=now, until=now + lease, gated=True)
        uow.commit()
    return claim


def claim_key(
    database: Database, key: str, *, holder: str, stamp: datetime, now: datetime,
    lease: timedelta = DEFAULT_LEASE, gated: bool, payload: dict[str, Any] | None = None,
) -> Claim | DeliveryResult | datetime:
    """Claim one delivery by key, whatever its retry time (failed ones too): a caller sending
    its own delivery now. Returns the claim, why there is none, or when its channel opens.

    `stamp` is the caller's time for the row (`--now`); `now` the real one, for leases and gates.
    A `payload` replaces the stored one (parts already sent are known by their number).
    """
    if gated:
        with database.uow(read_only=True) as uow:
            recipient = uow.session.scalar(select(Delivery.recipient).where(Delivery.key == key))
        if recipient is not None:
            gates.ensure_gates(database, [gates.channel_gate(recipient)])
    with database.uow() as uow:
        query = select(Delivery).where(Delivery.key == key)
        if database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = uow.session.scalars(query).first()
        done = _not_claimable(row, stamp, lease)
        if done is not None or row is None:
            return done or DeliveryResult("in_progress", [])
        if gated:
            opens = gates.hold_channel(database, uow.session, gates.channel_gate(row.recipient),
                                       now=now, lease=lease, holder=holder, key=row.key,
                                       takeover=row.claimed_by)
            if opens is not None:
                return opens
        if payload is not None:
            row.payload = payload
        claim = _take(uow.session, row, holder=holder, stamp=stamp, until=now + lease,
                      gated=gated)
        uow.commit()
    return claim


def _not_claimable(
    row: Delivery | None, stamp: datetime, lease: timedelta
) -> DeliveryResult | None:
    if row is None:
        # PostgreSQL skipped a row another process holds locked while claiming it.
        return DeliveryResult("in_progress", [])
    refs = [dict(r) for r in row.messages or ()]
    if row.status == DeliveryStatus.SENT:
        return DeliveryResult("already_sent", refs)
    if row.status == DeliveryStatus.SKIPPED:
        return DeliveryResult("skipped", [], row.error)
    if row.status == DeliveryStatus.SENDING and row.claimed_at is not None and (
        row.claimed_at >= stamp - lease
    ):
        return DeliveryResult("in_progress", refs)
    return None


def _take(session: Session, row: Delivery, *, holder: str, stamp: datetime, until: datetime,
          gated: bool) -> Claim:
    claim = Claim(
        key=row.key, kind=row.kind, recipient=row.recipient, payload=dict(row.payload or {}),
        holder=holder, stamp=stamp, created_at=row.created_at, reclaimed=row.attempts > 0,
        attempts=row.attempts + 1, channel=row.channel, parent=_parent(session, row.after_key),
        sent={n: ref["ts"] for n, ref in enumerate(row.messages or (), start=1)
              if "ts" in ref and "file" not in ref},
        gated=gated,
    )
    row.status = DeliveryStatus.SENDING
    row.claimed_at = stamp
    row.claimed_by = holder
    row.attempts = claim.attempts
    row.next_attempt_at = until  # while sending: the lease's end, in real time
    return claim


def _parent(session: Session, after_key: str | None) -> dict[str, str] | None:
    if after_key is None:
        return None
    refs = session.scalar(select(Delivery.messages).where(Delivery.key == after_key))
    return dict(refs[0]) if refs else None


# --- sending ----------------------------------------------------------------------------------


class _Stopped(Exception):
    """The sender was asked to stop between two parts: the claim goes back to the queue."""


class _NextPartLater(Exception):
    """A pool sender does not idle on a channel's pace: the next part is due after it, the
    channel kept for this delivery, and the sender meanwhile sends elsewhere."""


def send_claimed(
    database: Database, gateway: SlackGateway, claim: Claim, how: Sending
) -> DeliveryResult:
    """Send what the claim still lacks, then record the outcome (sent, retrying, failed,
    or back in the queue when the sender stops between two parts)."""
    try:
        _send_parts(database, gateway, claim, how)
    except _NextPartLater:
        assert how.pace is not None
        _release(database, claim, how, after=how.pace.channel_interval)
        return DeliveryResult("queued", _refs(claim))
    except _Stopped:
        _release(database, claim, how)
        logger.info("delivery %s handed back (%d part(s) sent)", claim.key, len(claim.sent),
                    extra={"delivery_key": claim.key})
        return DeliveryResult("queued", _refs(claim))
    except SlackError as exc:
        return _failed(database, claim, exc, how)
    refs = _refs(claim)
    _record(database, claim, how, status=DeliveryStatus.SENT, refs=refs, error=None,
            next_attempt_at=None)
    logger.info("delivery %s sent to %s (%d message(s))", claim.key, claim.channel, len(refs),
                extra={"delivery_key": claim.key})
    return DeliveryResult("sent", refs)


def _send_parts(database: Database, gateway: SlackGateway, claim: Claim, how: Sending) -> None:
    if not claim.payload:
        raise SlackError("delivery", "no_payload")
    if how.wait(0):
        raise _Stopped
    if claim.parent is not None:
        claim.channel = claim.parent["channel"]
    elif claim.channel is None or is_user_id(claim.channel):
        claim.channel = (gateway.open_dm(claim.recipient) if is_user_id(claim.recipient)
                         else claim.recipient)
    if "upload" in claim.payload:
        _upload(database, gateway, claim, how)
        return
    if claim.reclaimed:
        _find_earlier_parts(gateway, claim)
    messages = claim.payload.get("messages") or []
    try:
        _post_missing(database, gateway, claim, how, messages)
    except SlackError as exc:
        fallback = claim.payload.get("fallback")
        if exc.code != "invalid_blocks" or claim.sent or not fallback:
            raise
        logger.warning("delivery %s: Slack refused a block; sending the fallback", claim.key,
                       extra={"delivery_key": claim.key})
        claim.payload = {**claim.payload, "messages": fallback, "fallback": None}
        _save_progress(database, claim)
        _post_missing(database, gateway, claim, how, fallback)


def _post_missing(
    database: Database, gateway: SlackGateway, claim: Claim, how: Sending,
    messages: Sequence[dict[str, Any]],
) -> None:
    assert claim.channel is not None
    thread = bool(claim.payload.get("thread"))
    in_thread = claim.payload.get("thread_ts")
    posted = 0  # by this claim: a resumed one was paced already
    for part, message in enumerate(messages, start=1):
        if part in claim.sent:
            continue
        if posted and how.pace is not None:
            if how.pooled:
                raise _NextPartLater
            if how.wait(how.pace.channel_interval.total_seconds()):
                raise _Stopped  # between two parts: the next sender posts the rest
        _wait_for_workspace(database, how)
        # Replies go under the first message; plain posts keep the plain call.
        reply = ({"thread_ts": in_thread} if in_thread else
                 {"thread_ts": claim.sent[1]} if thread and part > 1 and 1 in claim.sent else {})
        claim.sent[part] = gateway.post_message(
            claim.channel, message["text"], message.get("blocks"), **reply,
            metadata={"event_type": DELIVERY_EVENT,
                      "event_payload": {"key": claim.key, "part": part}},
        )
        posted += 1
        if part < len(messages):
            _save_progress(database, claim)


def _wait_for_workspace(database: Database, how: Sending) -> None:
    if how.pace is None:
        return
    go_at = gates.take_workspace_slot(database, how.clock(), how.pace)
    delay = (go_at - how.clock()).total_seconds()
    if delay > 0 and how.wait(delay):
        raise _Stopped


def _upload(database: Database, gateway: SlackGateway, claim: Claim, how: Sending) -> None:
    spec = claim.payload["upload"]
    if claim.parent is None:
        raise SlackError(UPLOAD_METHOD, "no_parent_message")
    _wait_for_workspace(database, how)
    file_id = gateway.upload_file(
        claim.parent["channel"], spec["filename"], base64.b64decode(spec["content"]),
        spec["title"], thread_ts=claim.parent["ts"], alt_txt=spec.get("alt_txt"))
    claim.sent[1] = file_id


def _find_earlier_parts(gateway: SlackGateway, claim: Claim) -> None:
    """Parts a lost answer may have posted, found by their metadata: in the channel's history,
    and in the thread they are replies in (Slack's history leaves replies out)."""
    assert claim.channel is not None
    oldest = claim.created_at - HISTORY_MARGIN
    in_thread = claim.payload.get("thread_ts")
    if in_thread:
        found = _parts_of(claim, gateway.thread_metadata_messages(
            claim.channel, str(in_thread), DELIVERY_EVENT, oldest))
    else:
        found = _parts_of(claim, gateway.metadata_messages(claim.channel, DELIVERY_EVENT, oldest))
        first = claim.sent.get(1) or found.get(1)
        parts = len(claim.payload.get("messages") or ())
        if claim.payload.get("thread") and first and parts > 1 and not all(
                part in claim.sent for part in range(2, parts + 1)):
            replies = _parts_of(claim, gateway.thread_metadata_messages(
                claim.channel, first, DELIVERY_EVENT, oldest))
            found.update({part: ts for part, ts in replies.items() if part > 1})
    missing = {part: ts for part, ts in found.items() if part not in claim.sent}
    if missing:
        logger.info("delivery %s: %d part(s) found already sent", claim.key, len(missing),
                    extra={"delivery_key": claim.key})
    claim.sent.update(missing)


def _parts_of(claim: Claim, messages: Sequence[MetadataMessage]) -> dict[int, str]:
    found: dict[int, str] = {}
    for message in messages:
        if message.payload.get("key") != claim.key:
            continue
        try:
            part = int(message.payload.get("part", 1))
        except (TypeError, ValueError):
            continue
        # The oldest copy is the one the recipient saw first; keep it.
        found.setdefault(part, message.ts)
    return found


def _refs(claim: Claim) -> list[dict[str, str]]:
    channel = claim.channel or claim.recipient
    if "upload" in claim.payload and 1 in claim.sent and claim.parent is not None:
        return [{"channel": channel, "ts": claim.parent["ts"], "file": claim.sent[1]}]
    return [{"channel": channel, "ts": claim.sent[part]} for part in sorted(claim.sent)]


# --- recording --------------------------------------------------------------------------------


def _mine(claim: Claim) -> Any:
    return and_(Delivery.key == claim.key, Delivery.claimed_by == claim.holder,
                Delivery.status == DeliveryStatus.SENDING)


def _save_progress(database: Database, claim: Claim) -> None:
    with database.uow() as uow:
        uow.session.execute(
            update(Delivery).where(_mine(claim))
            .values(channel=claim.channel, messages=_refs(claim), payload=claim.payload)
            .execution_options(synchronize_session=False))
        uow.commit()


def _record(  # noqa: PLR0913 (the outcome's columns)
    database: Database, claim: Claim, how: Sending, *, status: DeliveryStatus,
    refs: list[dict[str, str]], error: str | None, keep_channel: bool = False, **values: Any,
) -> None:
    """The outcome, and the channel's gate opened for the next message, in one transaction."""
    with database.uow() as uow:
        if status == DeliveryStatus.SENT:
            values["sent_at"] = claim.stamp
        uow.session.execute(
            update(Delivery).where(_mine(claim))
            .values(status=status, channel=claim.channel, messages=refs, claimed_by=None,
                    error=None if error is None else error[:300], **values)
            .execution_options(synchronize_session=False))
        if claim.gated:
            interval = how.pace.channel_interval if how.pace is not None else timedelta(0)
            gates.release_channel(uow.session, gates.channel_gate(claim.recipient), claim.holder,
                                  how.clock() + interval,
                                  keep_for=claim.key if keep_channel else None)
        uow.commit()


def _release(database: Database, claim: Claim, how: Sending,
             after: timedelta | None = None) -> None:
    """Back to the queue with the parts sent recorded (due again `after` from now, its channel
    kept for it meanwhile); the try does not count."""
    with database.uow(read_only=True) as uow:
        error = uow.session.scalar(select(Delivery.error).where(Delivery.key == claim.key))
    status = DeliveryStatus.RETRYING if error else DeliveryStatus.PENDING
    _record(database, claim, how, status=status, refs=_refs(claim), error=error,
            attempts=claim.attempts - 1, keep_channel=after is not None,
            next_attempt_at=None if after is None else how.clock() + after)


def _failed(database: Database, claim: Claim, exc: SlackError, how: Sending) -> DeliveryResult:
    refs = _refs(claim)
    now = how.clock()
    if exc.code == RATE_LIMITED and how.pooled:
        wait = timedelta(seconds=exc.retry_after if exc.retry_after is not None else 1.0)
        gates.close_method(database, exc.method, now + wait)
        # A 429 is Slack's pace, not a failed try: it does not count towards giving up.
        _record(database, claim, how, status=DeliveryStatus.RETRYING, refs=refs, error=exc.code,
                attempts=claim.attempts - 1, next_attempt_at=now + wait)
        logger.info("delivery %s: %s rate limited for %.1f s", claim.key, exc.method,
                    wait.total_seconds(), extra={"delivery_key": claim.key})
        return DeliveryResult("retrying", refs, exc.code)
    if how.pooled and _retryable(claim, exc) and claim.attempts < _tries(how):
        assert how.pace is not None
        _record(database, claim, how, status=DeliveryStatus.RETRYING, refs=refs, error=exc.code,
                next_attempt_at=now + retry_delay(how.pace, claim.attempts))
        logger.warning("delivery %s: try %d failed (%s); retrying", claim.key, claim.attempts,
                       exc.code, extra={"delivery_key": claim.key})
        return DeliveryResult("retrying", refs, exc.code)
    _record(database, claim, how, status=DeliveryStatus.FAILED, refs=refs, error=exc.code,
            next_attempt_at=None)
    logger.warning("delivery %s failed: %s (%d part(s) sent, try %d)", claim.key, exc.code,
                   len(claim.sent), claim.attempts, extra={"delivery_key": claim.key})
    return DeliveryResult("failed", refs, exc.code)


def _tries(how: Sending) -> int:
    return how.pace.tries if how.pace is not None else 1


def _retryable(claim: Claim, exc: SlackError) -> bool:
    if "upload" in claim.payload:
        # An upload cut off mid-way may be shared already, and no metadata finds it: retry
        # only what surely sent nothing.
        return exc.code == "connection_failed"
    return is_transient(exc.code)
