"""`/collect ...`: ack at once; then parse, run the subcommand in one unit of work, answer.

The deferred work is the entry point: it owns the unit of work (commits once the subcommand
succeeded), then refreshes what shows the change, then answers through the gateway's
response_url call. Each subcommand is one row of `_STEPS`: its service, then its view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App

from bot.db import Database
from bot.db.uow import UnitOfWork
from bot.services import commands, roster
from bot.services.commands import Actor
from bot.services.errors import InvalidInput, NotOnRoster, ServiceError
from bot.services.escalation_clicks import ReplyRenderer
from bot.services.metrics import MetricsConfig
from bot.services.objectives import goals_message
from bot.services.refresh import refresh_after_change
from bot.slack.client import SlackError, SlackGateway
from bot.views import replies
from bot.views.replies import CommandReply, Recorded
from bot.views.text import Message
from handlers.commands.collect_parser import (
    Account,
    Assign,
    CollectCommand,
    DisputeCmd,
    Escalations,
    Find,
    Goals,
    Help,
    Log,
    Note,
    Promise,
    ShowList,
    Stats,
    Team,
    UsageError,
    parse_collect,
)
from handlers.context import HandlerContext

logger = logging.getLogger(__name__)

COMMAND = replies.COMMAND


@dataclass(frozen=True, slots=True)
class Answer:
    """A subcommand's reply, and the account it changed (to refresh after the commit)."""

    reply: CommandReply
    changed: int | None = None


def _recorded(recorded: Recorded) -> Answer:
    return Answer(replies.recorded_reply(recorded), recorded.account.customer_id)


def _show_list(uow: UnitOfWork, actor: Actor, _: ShowList) -> Answer:
    return Answer(replies.list_reply(commands.todays_list(uow.session, actor), now=actor.now))


def _log(uow: UnitOfWork, actor: Actor, c: Log) -> Answer:
    return _recorded(commands.log_call(uow, actor, c.account, c.outcome, c.note))


def _promise(uow: UnitOfWork, actor: Actor, c: Promise) -> Answer:
    promised = c.date.resolve(actor.today)
    return _recorded(commands.promise_to_pay(uow, actor, c.account, c.amount, promised))


def _dispute(uow: UnitOfWork, actor: Actor, c: DisputeCmd) -> Answer:
    return _recorded(commands.open_dispute(uow, actor, c.account, c.reason, c.note))


def _note(uow: UnitOfWork, actor: Actor, c: Note) -> Answer:
    return _recorded(commands.add_note(uow, actor, c.account, c.text))


def _find(uow: UnitOfWork, actor: Actor, c: Find) -> Answer:
    return Answer(replies.find_reply(commands.find(uow.session, c.text), c.text))


def _account(uow: UnitOfWork, actor: Actor, c: Account) -> Answer:
    summary = commands.account(uow.session, actor, c.account)
    return Answer(replies.account_reply(summary, today=actor.today, zone=actor.zone))


def _stats(uow: UnitOfWork, actor: Actor, _: Stats) -> Answer:
    return Answer(replies.stats_reply(commands.stats(uow.session, actor)))


def _assign(uow: UnitOfWork, actor: Actor, c: Assign) -> Answer:
    assigned = commands.assign_account(uow, actor, c.account, c.collector, by_name=c.by_name)
    return Answer(replies.assigned_reply(assigned), assigned.account.customer_id)


def _team(uow: UnitOfWork, actor: Actor, _: Team) -> Answer:
    return Answer(replies.team_reply(commands.team(uow.session, actor)))


def _escalations(uow: UnitOfWork, actor: Actor, _: Escalations) -> Answer:
    return Answer(replies.escalations_reply(commands.escalations(uow.session, actor)))


def _goals(uow: UnitOfWork, actor: Actor, config: MetricsConfig) -> Answer:
    message = goals_message(uow.session, actor.slack_id, now=actor.now, config=config)
    return Answer(CommandReply(message.text, message.blocks))


# One row per subcommand (help is answered before anyone is looked up; goals needs the team's
# metrics settings as well).
_STEPS: dict[type, Callable[[UnitOfWork, Actor, Any], Answer]] = {
    ShowList: _show_list,
    Log: _log,
    Promise: _promise,
    DisputeCmd: _dispute,
    Note: _note,
    Find: _find,
    Account: _account,
    Stats: _stats,
    Assign: _assign,
    Team: _team,
    Escalations: _escalations,
}


# Subcommands that only read: they take no write lock, so they answer while an import writes.
READS = (ShowList, Find, Account, Stats, Team, Escalations)


def _help(database: Database, user_id: str, command: Help) -> CommandReply:
    with database.uow(read_only=True) as uow:
        try:
            manager = roster.is_manager(roster.member_for(uow.session, user_id))
        except NotOnRoster:
            manager = False
    return CommandReply(replies.help_text(manager=manager, unknown=command.unknown,
                                          topic=command.topic))


def answer_collect(
    database: Database,
    *,
    user_id: str,
    command: CollectCommand,
    now: datetime,
    default_tz: str | ZoneInfo,
    metrics: MetricsConfig | None = None,
) -> Answer:
    """Run a parsed command in one unit of work, committed when it succeeded.

    A ServiceError becomes its message (nothing saved); anything unexpected is logged and
    answered with a generic line.
    """
    if isinstance(command, Help):
        return Answer(_help(database, user_id, command))
    try:
        with database.uow(read_only=isinstance(command, READS)) as uow:
            actor = Actor(roster.member_for(uow.session, user_id), now, default_tz)
            if isinstance(command, Goals):
                answer = _goals(uow, actor, metrics or MetricsConfig(zone=actor.zone))
            else:
                answer = _STEPS[type(command)](uow, actor, command)
            uow.commit()
    except ServiceError as error:
        if isinstance(error, InvalidInput) and isinstance(command, Promise):
            return Answer(CommandReply(f"{error.message}\n{replies.usage_text('promise')}"))
        return Answer(CommandReply(error.message))
    except Exception:
        logger.exception("/collect %s by %s failed", type(command).__name__, user_id)
        return Answer(CommandReply(replies.SOMETHING_WRONG))
    return answer


def run_collect(
    database: Database,
    *,
    user_id: str,
    text: str,
    now: datetime,
    default_tz: str | ZoneInfo,
    gateway: SlackGateway | None = None,
    metrics: MetricsConfig | None = None,
) -> CommandReply:
    """`/collect text` for a Slack user: parsed, run, committed, then what shows it refreshed.

    Never raises for user mistakes. Without a gateway nothing is refreshed (tests of replies).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    command = parse_collect(text)
    if isinstance(command, UsageError):
        return replies.usage_reply(command.subcommand, command.problem)
    answer = answer_collect(
        database, user_id=user_id, command=command, now=now, default_tz=default_tz,
        metrics=metrics,
    )
    if answer.changed is not None and gateway is not None:
        refresh_after_change(
            database, gateway, now=now, default_tz=default_tz,
            customer_ids=[answer.changed], actor_slack_id=user_id,
        )
    return answer.reply


def escalations_answer(context: HandlerContext) -> ReplyRenderer:
    """Renders `/collect escalations` as a user sees it now (to replace the answer a decision
    was clicked on)."""

    def render(database: Database, user_id: str, now: datetime) -> Message:
        reply = answer_collect(database, user_id=user_id, command=Escalations(), now=now,
                               default_tz=context.default_tz).reply
        return Message(reply.text, list(reply.blocks or []))

    return render


def register(app: App, context: HandlerContext) -> None:
    @app.command(COMMAND)
    def collect(ack: Ack, command: dict[str, Any]) -> None:
        ack()
        context.defer(lambda: _run(context, command))


def _run(context: HandlerContext, command: dict[str, Any]) -> None:
    user_id = str(command.get("user_id") or "")
    response_url = str(command.get("response_url") or "")
    try:
        reply = run_collect(
            context.database,
            user_id=user_id,
            text=str(command.get("text") or ""),
            now=context.now(),
            default_tz=context.default_tz,
            gateway=context.gateway,
            metrics=MetricsConfig.from_settings(context.settings),
        )
    except Exception:
        logger.exception("/collect by %s failed", user_id)
        reply = CommandReply(replies.SOMETHING_WRONG)
    if not response_url:
        logger.warning("/collect by %s came without a response_url; not answered", user_id)
        return
    try:
        context.gateway.respond(response_url, reply.text, reply.blocks)
    except SlackError as exc:
        logger.warning("/collect answer to %s refused: %s", user_id, exc.code)
        if exc.code == "invalid_blocks" and reply.blocks:
            # Never silent: the text alone still says what happened.
            _respond_text(context, response_url, user_id, reply.text)


def _respond_text(context: HandlerContext, response_url: str, user_id: str, text: str) -> None:
    try:
        context.gateway.respond(response_url, text)
    except SlackError as exc:
        logger.warning("/collect text answer to %s refused too: %s", user_id, exc.code)
