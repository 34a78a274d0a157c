"""`collectbot preview [--collector ID] [--now ISO]`: the morning lists as terminal tables."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from sqlalchemy import or_, select

from bot.cli.console import terminal
from bot.cli.context import CommandError, aware_datetime, open_database
from bot.db.models import TeamMember
from bot.domain.calendar import local_date
from bot.domain.money import format_money
from bot.domain.vocabulary import Role
from bot.services.call_lists import Planned, compute_lists
from bot.services.roster import member_zone
from bot.settings import load_settings
from bot.views.terminal import call_list_table
from bot.views.terminal_tables import bold, call_list_rich


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preview", help="print the call lists as they would be made now (sends nothing)"
    )
    parser.add_argument("--collector", help="Slack user id, or name (default: every collector)")
    parser.add_argument("--now", type=aware_datetime, help="pretend the clock reads this (ISO)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = args.now or datetime.now(UTC)
    database = open_database(settings)
    try:
        with database.uow(read_only=True) as uow:
            query = select(TeamMember).where(
                TeamMember.active.is_(True), TeamMember.role == Role.COLLECTOR
            )
            if args.collector:
                query = query.where(or_(TeamMember.slack_user_id == args.collector,
                                        TeamMember.name.ilike(args.collector)))
            members = list(uow.session.scalars(query.order_by(TeamMember.name)))
            if not members:
                raise CommandError(
                    f"no active collector {args.collector!r}" if args.collector
                    else "no active collectors: import the team first (collectbot import team)"
                )
            planned = []
            for member in members:
                # Preview makes no Slack call: the roster's zone, else the team's.
                tz = member_zone(member, settings.zone)
                planned.append(Planned(member, tz, local_date(now, tz)))
            # Every account is scored, so the counts below cover the whole book.
            _, computed = compute_lists(uow.session, planned, now=now, full=True)
    finally:
        database.dispose()
    console = terminal()
    for item in computed:
        member, result = item.planned.member, item.result
        head = (f"{member.name} ({member.slack_user_id}) · {item.planned.list_date.isoformat()}"
                f" · {item.planned.tz.key} · {len(result.items)} of target "
                f"{member.daily_call_target} · {format_money(item.past_due_book)} past due"
                " outside disputes")
        notes = []
        if result.overflow:
            notes.append(f"{result.overflow} more eligible accounts did not fit the target")
        if result.excluded:
            notes.append("Left off: " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                                  for k, v in result.excluded.items()))
        if console is not None:
            console.print()
            console.print(bold(head), *(Text(note) for note in notes), sep="\n")
            console.print(call_list_rich(result.items) if result.items
                          else Text("No calls: nothing is due."))
            continue
        print(f"\n{head}", *notes, sep="\n")
        print(call_list_table(result.items) if result.items else "No calls: nothing is due.")
    return 0
