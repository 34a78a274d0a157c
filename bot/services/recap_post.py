"""The Monday post: the recap to the team channel once per week, whatever happens.

Once: one delivery key per week (`recap:<week end>`) through the outbox, so a rerun, a second
process or a restart sends nothing twice. A workspace that refuses the native chart gets the
same post without it (the outbox retries the failed delivery under the same key). The PNG goes
to the thread only from the run that sent the post; a failed upload is logged and never blocks
or repeats the text.
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
from bot.services.deliveries import OutgoingMessage, deliver
from bot.services.metrics import MetricsConfig
from bot.services.recap import build_recap
from bot.settings import Settings
from bot.slack.blockkit import validate_message
from bot.slack.client import SlackError, SlackGateway
from bot.views.recap import recap_thread, recap_top
from bot.views.text import Message

logger = logging.getLogger(__name__)

KIND = "weekly_recap"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def recap_key(week_end: date) -> str:
    return f"recap:{week_end.isoformat()}"


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


def post_recap(database: Database, gateway: SlackGateway, settings: Settings, recap: Recap, *,
               now: datetime) -> RecapPost:
    """Post `recap` to the team channel once (its thread after the top message), then the PNG."""
    channel = settings.team_channel
    if not channel:
        return RecapPost("weekly-recap: COLLECTBOT_TEAM_CHANNEL is not set; nothing posted", 1)
    key = recap_key(recap.week_end)
    thread = recap_thread(recap)
    result = deliver(database, gateway, key=key, kind=KIND, recipient=channel, now=now,
                     thread=True, messages=_outgoing([recap_top(recap), *thread]))
    if result.status == "failed" and result.error == "invalid_blocks" and not result.messages:
        logger.warning("recap %s: the chart block was refused; posting without it", key)
        result = deliver(database, gateway, key=key, kind=KIND, recipient=channel, now=now,
                         thread=True,
                         messages=_outgoing([recap_top(recap, chart=False), *thread]))
    if result.status != "sent":
        failed = int(result.status == "failed")
        return RecapPost(f"weekly-recap: {key} {result.status.replace('_', ' ')}"
                         + (f" ({result.error})" if result.error else ""), failed)
    from bot.views.recap_chart import recap_alt_text, recap_png  # matplotlib: only when posting

    top = result.messages[0]
    try:
        gateway.upload_file(top["channel"], f"recap-{recap.week_end.isoformat()}.png",
                            recap_png(recap), "Weekly recap: DSO and aging",
                            thread_ts=top["ts"], alt_txt=recap_alt_text(recap))
    except SlackError as exc:
        logger.warning("recap %s: chart upload failed (%s); the text was posted", key, exc.code)
        return RecapPost(f"weekly-recap: {key} posted; chart upload failed ({exc.code})")
    return RecapPost(f"weekly-recap: {key} posted with its chart")


def run_weekly_recap(database: Database, gateway: SlackGateway, settings: Settings, *,
                     now: datetime) -> RecapPost:
    """The job: post last week's recap if it is due and not posted yet."""
    week_end = due_week(now, settings)
    if week_end is None:
        return RecapPost(f"weekly-recap: not due (posted {settings.recap_day} from "
                         f"{settings.recap_time:%H:%M})")
    with database.uow() as uow:
        if _already_sent(uow.session, recap_key(week_end)):
            return RecapPost(f"weekly-recap: {recap_key(week_end)} already sent")
        recap = build_recap(uow.session, week_end, MetricsConfig.from_settings(settings))
    return post_recap(database, gateway, settings, recap, now=now)


def _already_sent(session: Session, key: str) -> bool:
    return session.scalar(select(Delivery.status).where(Delivery.key == key)) == \
        DeliveryStatus.SENT


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
