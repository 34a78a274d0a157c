"""The Monday post: the recap to the team channel once per week, whatever happens.

Once: one delivery key per week (`recap:<week end>`) through the outbox, so a rerun, a second
process or a restart sends nothing twice. A workspace that refuses the native chart gets the
same post without it (the delivery's fallback). The PNG is a delivery of its own
(`recap-chart:<week end>`) that waits for the post and goes to its thread; a failed upload is
logged and never blocks or repeats the text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Delivery
from bot.domain.recap import Recap
from bot.domain.vocabulary import DeliveryStatus
from bot.services.deliveries import OutgoingMessage, enqueue, enqueue_upload, flush
from bot.services.delivery_sender import pace_of
from bot.services.metrics import MetricsConfig
from bot.services.recap import build_recap
from bot.settings import Settings
from bot.slack.blockkit import validate_message
from bot.slack.client import SlackGateway
from bot.views.recap import recap_thread, recap_top
from bot.views.text import Message

logger = logging.getLogger(__name__)

KIND = "weekly_recap"
CHART_KIND = "recap_chart"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def recap_key(week_end: date) -> str:
    return f"recap:{week_end.isoformat()}"


def chart_key(week_end: date) -> str:
    return f"recap-chart:{week_end.isoformat()}"


def due_week(now: datetime, settings: Settings) -> date | None:
    """The week (its last day) to post at `now`: on the recap day from its time until midnight
    in the team's zone, the 7 days ending the day before; None at any other time."""
    local = now.astimezone(settings.zone)
    if DAYS[local.weekday()] != settings.recap_day or local.time() < settings.recap_time:
        return None
    return local.date() - timedelta(days=1)


@dataclass(frozen=True)
class RecapPost:
    summary: str
    failed: int = 0


def _outgoing(messages: list[Message]) -> list[OutgoingMessage]:
    for message in messages:
        errors = validate_message(message.text, message.blocks)
        if errors:
            raise ValueError(f"invalid recap message: {errors}")
    return [OutgoingMessage(m.text, m.blocks) for m in messages]


def queue_recap(session: Session, channel: str, recap: Recap) -> None:
    """Queue the post (its thread after the top message, a chartless fallback) and its PNG."""
    from bot.views.recap_chart import recap_alt_text, recap_png  # matplotlib: only when posting

    key = recap_key(recap.week_end)
    thread = recap_thread(recap)
    enqueue(session, key=key, kind=KIND, recipient=channel, thread=True,
            messages=_outgoing([recap_top(recap), *thread]),
            fallback=_outgoing([recap_top(recap, chart=False), *thread]))
    enqueue_upload(session, key=chart_key(recap.week_end), kind=CHART_KIND, after=key,
                   recipient=channel, filename=f"recap-{recap.week_end.isoformat()}.png",
                   title="Weekly recap: DSO and aging", content=recap_png(recap),
                   alt_txt=recap_alt_text(recap))


def post_recap(database: Database, gateway: SlackGateway, settings: Settings, recap: Recap, *,
               now: datetime, send: bool = True) -> RecapPost:
    """Queue `recap` for the team channel once, then (with `send`) post it and its PNG now."""
    channel = settings.team_channel
    if not channel:
        return RecapPost("weekly-recap: COLLECTBOT_TEAM_CHANNEL is not set; nothing posted", 1)
    with database.uow() as uow:
        queue_recap(uow.session, channel, recap)
        uow.commit()
    return _send(database, gateway, settings, recap.week_end, now=now, send=send)


def _send(database: Database, gateway: SlackGateway, settings: Settings, week_end: date, *,
          now: datetime, send: bool) -> RecapPost:
    key = recap_key(week_end)
    if not send:
        return RecapPost(f"weekly-recap: {key} queued with its chart")
    pace = pace_of(settings)
    result = flush(database, gateway, [key], now=now, pace=pace)[key]
    if result.status != "sent":
        failed = int(result.status == "failed")
        return RecapPost(f"weekly-recap: {key} {result.status.replace('_', ' ')}"
                         + (f" ({result.error})" if result.error else ""), failed)
    chart = flush(database, gateway, [chart_key(week_end)], now=now, pace=pace)
    upload = chart[chart_key(week_end)]
    if upload.status in ("failed", "retrying"):
        logger.warning("recap %s: chart upload failed (%s); the text was posted", key,
                       upload.error)
        return RecapPost(f"weekly-recap: {key} posted; chart upload failed ({upload.error})")
    return RecapPost(f"weekly-recap: {key} posted with its chart")


def run_weekly_recap(database: Database, gateway: SlackGateway, settings: Settings, *,
                     now: datetime, send: bool = True) -> RecapPost:
    """The job: queue last week's recap if it is due and not queued yet; with `send`, post it."""
    week_end = due_week(now, settings)
    if week_end is None:
        return RecapPost(f"weekly-recap: not due (posted {settings.recap_day} from "
                         f"{settings.recap_time:%H:%M})")
    with database.uow() as uow:
        status = _status(uow.session, recap_key(week_end))
        if status == DeliveryStatus.SENT:
            return RecapPost(f"weekly-recap: {recap_key(week_end)} already sent")
        recap = None if status is not None else build_recap(
            uow.session, week_end, MetricsConfig.from_settings(settings))
    if recap is None:  # queued by an earlier run: send what it queued
        return _send(database, gateway, settings, week_end, now=now, send=send)
    return post_recap(database, gateway, settings, recap, now=now, send=send)


def _status(session: Session, key: str) -> DeliveryStatus | None:
    return session.scalar(select(Delivery.status).where(Delivery.key == key))


@dataclass(frozen=True)
class LatestRecap:
    week_end: date
    channel: str
    ts: str


def latest_recap(session: Session) -> LatestRecap | None:
    """The newest recap posted: its week and its top message (for the App Home link)."""
    row = session.scalars(
        select(Delivery).where(Delivery.kind == KIND, Delivery.status == DeliveryStatus.SENT)
        .order_by(Delivery.key.desc()).limit(1)).first()
    if row is None or not row.messages:
        return None
    top = row.messages[0]
    return LatestRecap(date.fromisoformat(row.key.removeprefix("recap:")), top["channel"],
                       top["ts"])
