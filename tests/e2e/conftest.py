"""End-to-end fixtures: the real app (serve's own code) on loopback, the sandbox as Slack.

`e2e` seeds a small team and ledger, sends the morning lists through the real job, and gives a
sender that reaches the app as Slack does: by signed HTTP requests, or, where a test is marked
`over_both_transports`, also by envelopes over a Socket Mode WebSocket (`transport` = "socket").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import (
    AuditEvent,
    CallList,
    CallListEntry,
    ContactAttempt,
    Customer,
    Invoice,
    TeamMember,
)
from bot.domain.vocabulary import Role
from bot.sandbox.sender import SlackSender, SocketModeSender
from bot.sandbox.web_api import SlackSandbox
from bot.services.morning import run_call_lists
from bot.settings import Settings, load_settings
from bot.socket_mode import SocketModeApp, build_socket_mode_app
from bot.web import RunningApp, build_http_app
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway

SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
TZ = "America/New_York"
# Tuesday 10 March 2026, 09:00 in New York (EDT): the morning lists go out at this instant.
START = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)

ADMIN = "U0ADMIN"
MANAGER = "U0MANAGER"
ANA = "U0ANA"  # collector, reports to MANAGER
BEN = "U0BEN"  # collector, reports to MANAGER
CARL = "U0CARL"  # collector, reports to OTHER_MANAGER
OTHER_MANAGER = "U0OTHERMGR"
STRANGER = "U0STRANGER"  # in Slack, not on the roster

# The scenarios that run once over HTTP and once over Socket Mode (the `transport` fixture).
over_both_transports = pytest.mark.parametrize("transport", ["http", "socket"])


class Clock:
    """The app's clock: fixed, moved forward by tests."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class E2E:
    """A running app, its database, the sandbox standing in for Slack, and a signed sender."""

    database: Database
    sandbox: SlackSandbox
    running: RunningApp | SocketModeApp
    sender: SlackSender
    clock: Clock
    settings: Settings
    members: dict[str, int]

    def settle(self) -> None:
        """Wait until every listener acknowledged so far has finished its work."""
        assert self.running.wait_idle(30), "listeners still running after 30 s"

    def list_of(self, slack_id: str) -> CallList:
        with self.database.uow() as uow:
            call_list = uow.session.scalar(
                select(CallList).where(CallList.collector_id == self.members[slack_id])
            )
            assert call_list is not None, f"no call list for {slack_id}"
            return call_list

    def entries(self, slack_id: str) -> list[CallListEntry]:
        call_list = self.list_of(slack_id)
        with self.database.uow() as uow:
            return list(
                uow.session.scalars(
                    select(CallListEntry)
                    .where(CallListEntry.call_list_id == call_list.id)
                    .order_by(CallListEntry.position)
                )
            )

    def list_message(self, slack_id: str) -> tuple[dict[str, Any], str]:
        """The first message of a collector's list as it reads now, and its DM channel."""
        channel = self.sandbox.dm_channel(slack_id)
        assert channel is not None
        messages = self.sandbox.messages(channel)
        assert messages, f"no list message for {slack_id}"
        return messages[0], channel

    def attempts(self) -> list[ContactAttempt]:
        with self.database.uow() as uow:
            return list(uow.session.scalars(select(ContactAttempt).order_by(ContactAttempt.id)))

    def audit_count(self) -> int:
        with self.database.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def seed_ledger(database: Database, *, accounts_per_collector: int = 4) -> dict[str, int]:
    """A team (admin, two managers, three collectors) and past-due accounts for each collector."""
    with database.uow() as uow:
        session = uow.session
        admin = TeamMember(slack_user_id=ADMIN, name="Ada Admin", role=Role.ADMIN, timezone=TZ)
        manager = TeamMember(slack_user_id=MANAGER, name="Mia Manager", role=Role.MANAGER,
                             timezone=TZ)
        other = TeamMember(slack_user_id=OTHER_MANAGER, name="Olga Other", role=Role.MANAGER,
                           timezone=TZ)
        session.add_all([admin, manager, other])
        session.flush()
        collectors = [
            TeamMember(slack_user_id=ANA, name="Ana Alvarez", manager_id=manager.id, timezone=TZ,
                       daily_call_target=10),
            TeamMember(slack_user_id=BEN, name="Ben Brooks", manager_id=manager.id, timezone=TZ,
                       daily_call_target=10),
            TeamMember(slack_user_id=CARL, name="Carl Cruz", manager_id=other.id, timezone=TZ,
                       daily_call_target=10),
        ]
        session.add_all(collectors)
        session.flush()
        number = 0
        for collector in collectors:
            for index in range(accounts_per_collector):
                number += 1
                customer = Customer(
                    external_ref=f"C{number:04d}",
                    name=f"{collector.name.split()[0]} Account {index + 1}",
                    contact_name="Pat Payables",
                    phone="+1 555 0100",
                    collector_id=collector.id,
                )
                session.add(customer)
                session.flush()
                for offset, amount in ((45 + 10 * index, "1200.00"), (70 + 5 * index, "800.50")):
                    due = TODAY - timedelta(days=offset)
                    session.add(
                        Invoice(
                            number=f"INV-{number:04d}-{offset}",
                            customer_id=customer.id,
                            issue_date=due - timedelta(days=30),
                            due_date=due,
                            amount=Decimal(amount),
                        )
                    )
        uow.commit()
        return {
            m.slack_user_id: m.id for m in [admin, manager, other, *collectors]
        }


def app_settings(database_url: str, sandbox: SlackSandbox, **extra: str) -> Settings:
    """The settings `collectbot serve` would read, pointed at the sandbox."""
    return load_settings(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=SANDBOX_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=sandbox.url,
        COLLECTBOT_TIMEZONE=TZ,
        **extra,
    )


def start_app(
    database: Database, database_url: str, sandbox: SlackSandbox, clock: Clock, *,
    threads: int = 16,
) -> tuple[RunningApp, Settings]:
    """The HTTP app as `collectbot serve` builds it, on a free loopback port, serving."""
    settings = app_settings(database_url, sandbox)
    running = build_http_app(
        settings, database, fast_gateway(sandbox.url), host="127.0.0.1", port=0, clock=clock,
        threads=threads,
    )
    running.server.start()
    return running, settings


def start_socket_app(
    database: Database, database_url: str, sandbox: SlackSandbox, clock: Clock
) -> tuple[SocketModeApp, Settings]:
    """The app as `collectbot serve` runs it with SLACK_APP_TOKEN: connected to the sandbox."""
    server = sandbox.enable_socket_mode()
    settings = app_settings(database_url, sandbox, SLACK_APP_TOKEN=server.app_token)
    # Pings every second (not 10): a link Slack closes is replaced within a second, not ten.
    running = build_socket_mode_app(settings, database, fast_gateway(sandbox.url), clock=clock,
                                    ping_interval=1)
    running.connect()
    server.wait_link()  # the link is open and Slack has said hello
    return running, settings


def add_slack_users(sandbox: SlackSandbox) -> None:
    for user_id in (ADMIN, MANAGER, OTHER_MANAGER, ANA, BEN, CARL, STRANGER):
        sandbox.add_user(user_id, tz=TZ)


@pytest.fixture
def transport() -> str:
    """How Slack reaches the app: "http" unless a test is marked over_both_transports."""
    return "http"


@pytest.fixture
def e2e(db_url: str, slack_sandbox: SlackSandbox, transport: str) -> Iterator[E2E]:
    """The running app on a seeded ledger, each collector's morning list already in their DMs."""
    database = Database(db_url)
    members = seed_ledger(database)
    add_slack_users(slack_sandbox)
    clock = Clock(START)
    running: RunningApp | SocketModeApp
    sender: SlackSender
    if transport == "socket":
        running, settings = start_socket_app(database, db_url, slack_sandbox, clock)
        sender = SocketModeSender("", slack_sandbox, "", server=slack_sandbox.socket_mode)
    else:
        running, settings = start_app(database, db_url, slack_sandbox, clock)
        sender = SlackSender(running.url, slack_sandbox, SIGNING_SECRET)
    report = run_call_lists(database, fast_gateway(slack_sandbox.url), settings, now=START)
    assert all(v == "sent" for v in report.outcomes.values()), report.outcomes
    try:
        yield E2E(
            database=database,
            sandbox=slack_sandbox,
            running=running,
            sender=sender,
            clock=clock,
            settings=settings,
            members=members,
        )
    finally:
        running.stop()
        database.dispose()
