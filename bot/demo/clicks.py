"""Demo step 4: a collector's morning, played through the real HTTP app with signed requests."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db.models import CallList, ContactAttempt, TeamMember
from bot.demo.morning import DEMO_SIGNING_SECRET, DemoSlack
from bot.demo.steps import DemoResult, write_banner
from bot.domain.vocabulary import OUTCOME_LABELS, Role
from bot.sandbox.sender import SlackSender
from bot.views import actions
from bot.views.terminal import blocks_to_text
from bot.web import build_http_app

ROWS_SHOWN = 6


class DemoClock:
    """The app's clock during the demo: the collector's morning, moved on click by click."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def step_collector_morning(result: DemoResult, slack: DemoSlack, out: TextIO) -> None:
    """Three one-click outcomes and a promise from the first collector's list, then the list."""
    with result.database.uow() as uow:
        collector = uow.session.scalars(
            select(TeamMember).where(TeamMember.role == Role.COLLECTOR).order_by(TeamMember.name)
        ).first()
        if collector is None:
            return
        call_list = uow.session.scalar(
            select(CallList).where(CallList.collector_id == collector.id,
                                   CallList.list_date == slack.list_date))
        if call_list is None or len(call_list.entries) < 4:
            return
        rows = [(e.customer_id, e.customer.name, e.past_due) for e in call_list.entries[:4]]
        list_id = call_list.id
    user = collector.slack_user_id
    zone = ZoneInfo(collector.timezone or slack.settings.timezone)
    clock = DemoClock(datetime.combine(slack.list_date, time(9, 2), zone))
    write_banner(out, f"4. {collector.name}'s morning ({zone.key})")
    running = build_http_app(slack.settings, result.database, slack.gateway, host="127.0.0.1",
                             port=0, clock=clock)
    running.server.start()
    try:
        sender = SlackSender(running.url, slack.sandbox, DEMO_SIGNING_SECRET)
        channel = slack.sandbox.dm_channel(user) or ""
        plays = [("outcome:reached", rows[0]), ("outcome:no_answer", rows[1]),
                 ("outcome:left_voicemail", rows[2])]
        for action_id, (customer_id, name, _) in plays:
            message = slack.sandbox.dms(user)[0]
            value = actions.encode_row(actions.RowRef(list_id, customer_id))
            reply = sender.click(user, action_id, value, message=message, channel=channel)
            running.wait_idle()
            label = OUTCOME_LABELS[actions.outcome_for_action(action_id)]
            out.write(f"{clock.now:%H:%M}  clicks [{label}] on {name}: HTTP {reply.status}\n")
            clock.now += timedelta(minutes=4)

        customer_id, name, past_due = rows[3]
        value = actions.encode_row(actions.RowRef(list_id, customer_id))
        sender.click(user, "open:promise_to_pay", value,
                     message=slack.sandbox.dms(user)[0], channel=channel)
        running.wait_idle()
        view = slack.sandbox.modals()[-1]
        amount = (past_due / 2).quantize(past_due)
        promised = slack.list_date + timedelta(days=3)
        values: dict[str, Any] = {
            "amount": {"amount": {"type": "plain_text_input", "value": f"{amount}"}},
            "promised_date": {"promised_date": {"type": "datepicker",
                                                "selected_date": promised.isoformat()}},
        }
        reply = sender.submit(user, view, values)
        running.wait_idle()
        out.write(f"{clock.now:%H:%M}  opens [Promise to pay…] on {name}, enters ${amount:,}"
                  f" by {promised:%a %d %b}: HTTP {reply.status}\n")
        for ephemeral in slack.sandbox.ephemerals(user):
            out.write(f"       Slack shows her: {ephemeral['text']}\n")
    finally:
        running.stop()

    with result.database.uow() as uow:
        recorded = uow.session.query(ContactAttempt).count()
    out.write(f"\n{recorded} outcomes in the ledger. The DM now reads"
              f" (first {ROWS_SHOWN} rows):\n\n")
    text = blocks_to_text(slack.sandbox.dms(user)[0].get("blocks") or [])
    out.write(_first_rows(text, ROWS_SHOWN) + "\n")
    home = slack.sandbox.home_view(user)
    if home is not None:
        out.write("\nHer App Home:\n\n" + _first_rows(blocks_to_text(home["blocks"]), 2) + "\n")


def _first_rows(text: str, rows: int) -> str:
    """The text up to the start of row `rows + 1` ("*7. ...")."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"*{rows + 1}. "):
            return "\n".join([*lines[:index], "…"])
    return text
