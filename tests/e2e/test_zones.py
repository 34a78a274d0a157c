"""A collector whose only zone comes from Slack: the job, `/collect`, the buttons and the App Home
all resolve the same zone and so the same "today" (one resolver, roster.member_zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.db.models import CallList, Customer, Invoice, TeamMember
from bot.domain.vocabulary import Outcome
from bot.services.morning import run_call_lists
from bot.views import actions
from tests.e2e.conftest import E2E, MANAGER
from tests.slack_fixtures import fast_gateway

DEE = "U0DEE"
TOKYO = "Asia/Tokyo"
# Wednesday 11 March 2026, 09:30 in Tokyo, while New York (the team's zone) is still on Tuesday.
TOKYO_MORNING = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)
TOKYO_TODAY = date(2026, 3, 11)


def _add_dee(e2e: E2E) -> None:
    """A collector with no zone on the roster; Slack says she is in Tokyo."""
    e2e.sandbox.add_user(DEE, tz=TOKYO)
    with e2e.database.uow() as uow:
        manager = uow.session.scalar(select(TeamMember).where(TeamMember.slack_user_id == MANAGER))
        assert manager is not None
        dee = TeamMember(slack_user_id=DEE, name="Dee Tanaka", manager_id=manager.id,
                         timezone=None, daily_call_target=5)
        uow.session.add(dee)
        uow.session.flush()
        customer = Customer(external_ref="T0001", name="Tokyo Trading", collector_id=dee.id)
        uow.session.add(customer)
        uow.session.flush()
        due = TOKYO_TODAY - timedelta(days=40)
        uow.session.add(Invoice(number="INV-T1", customer_id=customer.id,
                                issue_date=due - timedelta(days=30), due_date=due,
                                amount=Decimal("900.00")))
        uow.commit()


def test_a_collector_zoned_only_by_slack_is_served_in_her_own_day(e2e: E2E) -> None:
    _add_dee(e2e)
    e2e.clock.now = TOKYO_MORNING
    report = run_call_lists(e2e.database, fast_gateway(e2e.sandbox.url), e2e.settings,
                            now=TOKYO_MORNING)
    assert report.outcomes[DEE] == "sent"
    with e2e.database.uow() as uow:
        dee = uow.session.scalar(select(TeamMember).where(TeamMember.slack_user_id == DEE))
        assert dee is not None and dee.timezone is None
        assert dee.slack_timezone == TOKYO  # remembered for every other path
        call_list = uow.session.scalar(select(CallList).where(CallList.collector_id == dee.id))
        assert call_list is not None
        assert (call_list.list_date, call_list.timezone) == (TOKYO_TODAY, TOKYO)
        [entry] = call_list.entries

    # /collect list finds Wednesday's list (the team's zone would look for Tuesday's).
    reply, url = e2e.sender.command(DEE, "list")
    assert reply.status == 200
    e2e.settle()
    [listed] = e2e.sandbox.responses(url)
    assert "Tokyo Trading" in str(listed.get("blocks")), listed["text"]

    # The App Home shows the same list.
    e2e.sender.event({"type": "app_home_opened", "user": DEE, "tab": "home"})
    e2e.settle()
    home = e2e.sandbox.home_view(DEE)
    assert home is not None and "Still to call" in str(home["blocks"])

    # A click records on it, and her stats count it on her day.
    channel = e2e.sandbox.dm_channel(DEE)
    assert channel is not None
    message = e2e.sandbox.messages(channel)[0]
    value = actions.encode_row(actions.RowRef(entry.call_list_id, entry.customer_id))
    clicked = e2e.sender.click(DEE, actions.ACTION_REACHED, value, message=message,
                               channel=channel)
    assert clicked.status == 200
    e2e.settle()
    assert [a.outcome for a in e2e.attempts()] == [Outcome.REACHED]
    reply, url = e2e.sender.command(DEE, "stats")
    e2e.settle()
    [stats] = e2e.sandbox.responses(url)
    assert "*Today* ▓▓░░░░░░░░ 1 of 5 calls" in stats["text"]
