"""The call-lists job end to end: the real gateway against the Slack sandbox, on both engines."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import (
    CallList,
    ContactAttempt,
    Customer,
    Delivery,
    DeliveryStatus,
    Invoice,
    TeamMember,
)
from bot.domain.vocabulary import Outcome, Role
from bot.sandbox.web_api import SlackSandbox
from bot.services.call_lists import refresh_call_list_messages
from bot.services.deliveries import call_list_key
from bot.services.morning import run_call_lists
from bot.settings import Settings, load_settings
from bot.slack.blockkit import validate_message
from bot.slack.client import SlackGateway
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway

MONDAY = date(2026, 11, 23)
NY_MORNING = datetime(2026, 11, 23, 13, 31, tzinfo=UTC)  # 08:31 in New York
LA_MORNING = datetime(2026, 11, 23, 16, 31, tzinfo=UTC)  # 08:31 in Los Angeles


def _settings(db_url: str, sandbox: SlackSandbox) -> Settings:
    return load_settings(
        DATABASE_URL=db_url, SLACK_BOT_TOKEN=SANDBOX_TOKEN, SLACK_API_URL=sandbox.url,
        COLLECTBOT_TIMEZONE="America/New_York", COLLECTBOT_COUNTRY="US",
    )


def _seed(db: Database, sandbox: SlackSandbox, *, accounts: int = 6, target: int = 5) -> None:
    """Ana (New York, from Slack's tz) and Leo (Los Angeles, from the roster), manager Maya."""
    sandbox.add_user("UANA", name="Ana", tz="America/New_York")
    sandbox.add_user("ULEO", name="Leo", tz="Europe/Paris")  # the roster's zone wins
    sandbox.add_user("UMAYA", name="Maya", tz="America/New_York")
    with db.uow() as uow:
        s = uow.session
        maya = TeamMember(slack_user_id="UMAYA", name="Maya", role=Role.MANAGER)
        s.add(maya)
        s.flush()
        ana = TeamMember(slack_user_id="UANA", name="Ana", manager_id=maya.id,
                         daily_call_target=target)
        leo = TeamMember(slack_user_id="ULEO", name="Leo", manager_id=maya.id,
                         timezone="America/Los_Angeles", daily_call_target=target)
        s.add_all([ana, leo])
        s.flush()
        ana.backup_id, leo.backup_id = leo.id, ana.id
        for owner in (ana, leo):
            for n in range(accounts):
                customer = Customer(external_ref=f"{owner.name}-{n:03d}",
                                    name=f"{owner.name} Customer {n:03d}",
                                    contact_name="Pat Payables", phone="+1 555 0100",
                                    collector_id=owner.id)
                s.add(customer)
                s.flush()
                s.add(Invoice(number=f"INV-{owner.name}-{n:03d}", customer_id=customer.id,
                              issue_date=MONDAY - timedelta(days=90 + n),
                              due_date=MONDAY - timedelta(days=30 + n),
                              amount=Decimal(1000 + 10 * n)))
        uow.commit()


def _dm_texts(sandbox: SlackSandbox, user: str) -> list[str]:
    return [m["text"] for m in sandbox.dms(user)]


@pytest.fixture
def seeded(db: Database, db_url: str, slack_sandbox: SlackSandbox) -> Settings:
    _seed(db, slack_sandbox)
    return _settings(db_url, slack_sandbox)


def test_each_collector_gets_the_list_in_their_own_morning(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    early = run_call_lists(db, slack_gateway, seeded, now=NY_MORNING - timedelta(minutes=2))
    assert early.outcomes == {"UANA": "wait", "ULEO": "wait"}
    assert slack_sandbox.calls_to("chat.postMessage") == []

    ny = run_call_lists(db, slack_gateway, seeded, now=NY_MORNING)
    assert ny.outcomes == {"UANA": "sent", "ULEO": "wait"}
    assert len(slack_sandbox.dms("UANA")) == 1
    assert "Your call list for" in _dm_texts(slack_sandbox, "UANA")[0]
    assert slack_sandbox.dms("ULEO") == []

    la = run_call_lists(db, slack_gateway, seeded, now=LA_MORNING)
    assert la.outcomes == {"UANA": "already sent", "ULEO": "sent"}
    assert len(slack_sandbox.dms("UANA")) == 1
    assert len(slack_sandbox.dms("ULEO")) == 1
    with db.uow() as uow:
        lists = uow.session.scalars(select(CallList).order_by(CallList.id)).all()
        assert [(cl.list_date, cl.timezone, len(cl.entries)) for cl in lists] == [
            (MONDAY, "America/New_York", 5), (MONDAY, "America/Los_Angeles", 5)]


def test_weekend_and_holiday_send_nothing(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    saturday = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    thanksgiving = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert set(run_call_lists(db, slack_gateway, seeded, now=saturday).outcomes.values()) == {
        "day off"}
    assert run_call_lists(db, slack_gateway, seeded, now=thanksgiving).outcomes["UANA"] == (
        "holiday")
    assert slack_sandbox.calls_to("chat.postMessage") == []


def test_catch_up_before_the_cutoff_and_skip_after(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    late_morning = datetime(2026, 11, 23, 16, 59, tzinfo=UTC)  # 11:59 New York
    assert run_call_lists(db, slack_gateway, seeded, now=late_morning).outcomes["UANA"] == "sent"

    tuesday_noon = datetime(2026, 11, 24, 17, 1, tzinfo=UTC)  # 12:01 New York, 09:01 LA
    outcome = run_call_lists(db, slack_gateway, seeded, now=tuesday_noon).outcomes
    assert outcome == {"UANA": "skipped", "ULEO": "sent"}
    assert len(slack_sandbox.dms("UANA")) == 1  # Monday's only
    with db.uow() as uow:
        skipped = uow.session.scalar(
            select(Delivery).where(Delivery.key == call_list_key("UANA", date(2026, 11, 24))))
        assert skipped is not None
        assert skipped.status is DeliveryStatus.SKIPPED
        assert "cutoff" in (skipped.error or "")
    # Once skipped, a later run that day sends nothing either.
    later = run_call_lists(db, slack_gateway, seeded, now=tuesday_noon + timedelta(hours=1))
    assert later.outcomes["UANA"] == "skipped"  # not sent: not counted as "already sent"
    assert later.summary() == "call-lists: 1 already sent, 1 skipped"
    assert len(slack_sandbox.dms("UANA")) == 1


def test_out_of_office_goes_to_the_backup_and_the_manager_is_told(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    slack_sandbox.set_status("UANA", "Vacation until Monday", ":palm_tree:")
    report = run_call_lists(db, slack_gateway, seeded, now=NY_MORNING)
    assert report.outcomes["UANA"] == "sent to backup"
    assert slack_sandbox.dms("UANA") == []
    covering = _dm_texts(slack_sandbox, "ULEO")
    assert len(covering) == 1 and covering[0].startswith("Covering for Ana")
    manager = _dm_texts(slack_sandbox, "UMAYA")
    assert manager == ["Ana is out of office on Mon 23 Nov; list went to Leo."]
    # Leo's own list comes in his own morning, as a second DM, and nothing is sent twice.
    run_call_lists(db, slack_gateway, seeded, now=LA_MORNING)
    run_call_lists(db, slack_gateway, seeded, now=LA_MORNING + timedelta(minutes=5))
    assert len(slack_sandbox.dms("ULEO")) == 2
    assert len(slack_sandbox.dms("UMAYA")) == 1


def test_running_twice_sends_once(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    run_call_lists(db, slack_gateway, seeded, now=NY_MORNING)
    again = run_call_lists(db, slack_gateway, seeded, now=NY_MORNING + timedelta(minutes=5))
    assert again.outcomes["UANA"] == "already sent"
    assert len(slack_sandbox.dms("UANA")) == 1


def _run_in_process(db_url: str, api_url: str, now: str, start: Any) -> None:
    settings = load_settings(DATABASE_URL=db_url, SLACK_BOT_TOKEN=SANDBOX_TOKEN,
                             SLACK_API_URL=api_url, COLLECTBOT_TIMEZONE="America/New_York")
    database = Database(db_url)
    start.wait(30)  # both processes run the job at the same moment
    run_call_lists(database, fast_gateway(api_url), settings, now=datetime.fromisoformat(now))
    database.dispose()


@pytest.mark.slow
def test_two_processes_at_once_send_each_list_once(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, seeded: Settings
) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    # A slow send keeps the first process mid-delivery while the second one arrives.
    slack_sandbox.slow("chat.postMessage", 0.3)
    workers = [
        context.Process(target=_run_in_process,
                        args=(db_url, slack_sandbox.url, LA_MORNING.isoformat(), start))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert len(slack_sandbox.dms("UANA")) == 1
    assert len(slack_sandbox.dms("ULEO")) == 1
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CallList)) == 2


def test_rate_limits_and_server_errors_still_end_in_one_list(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=1)
    slack_sandbox.fail_next("chat.postMessage", status=500, times=2)
    report = run_call_lists(db, slack_gateway, seeded, now=NY_MORNING)
    assert report.outcomes["UANA"] == "sent"
    assert len(slack_sandbox.dms("UANA")) == 1
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 4  # 429, 500, 500, ok


def test_a_failed_send_is_retried_by_the_next_run_without_duplicates(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=500, times=4)  # 1 try + 3 retries
    assert run_call_lists(db, slack_gateway, seeded, now=NY_MORNING).outcomes["UANA"] == "failed"
    assert slack_sandbox.dms("UANA") == []
    retry = run_call_lists(db, slack_gateway, seeded, now=NY_MORNING + timedelta(minutes=5))
    assert retry.outcomes["UANA"] == "sent"
    assert len(slack_sandbox.dms("UANA")) == 1


@pytest.mark.slow
def test_a_long_list_becomes_several_valid_messages_and_updates_in_place(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway
) -> None:
    _seed(db, slack_sandbox, accounts=130, target=120)
    settings = _settings(db_url, slack_sandbox)
    run_call_lists(db, slack_gateway, settings, now=NY_MORNING)
    messages = slack_sandbox.dms("UANA")
    assert len(messages) > 1
    for message in messages:
        assert validate_message(message["text"], message["blocks"]) == []
    listed = [b["block_id"] for m in messages for b in m["blocks"]
              if b.get("block_id", "").startswith("row:")]
    assert len(listed) == len(set(listed)) == 120

    with db.uow() as uow:
        call_list = uow.session.scalars(select(CallList)).one()
        first = call_list.entries[0]
        uow.session.add(ContactAttempt(customer_id=first.customer_id,
                                       collector_id=call_list.collector_id,
                                       at=NY_MORNING + timedelta(minutes=3),
                                       outcome=Outcome.REACHED, source="button"))
        uow.commit()
        list_id = call_list.id
    posted = len(slack_sandbox.calls_to("chat.postMessage"))
    updated = refresh_call_list_messages(db, slack_gateway, list_id,
                                         now=NY_MORNING + timedelta(minutes=4))
    assert updated == len(messages)
    after = slack_sandbox.dms("UANA")
    # Updated in place: the same messages (same ts), nothing posted again.
    assert [m["ts"] for m in after] == [m["ts"] for m in messages]
    assert len(slack_sandbox.calls_to("chat.postMessage")) == posted
    assert len(slack_sandbox.calls_to("chat.update")) == len(messages)
    assert "✅ Reached — by Ana at 08:34" in str(after[0]["blocks"])
    assert "Done 1 of 120" in str(after[0]["blocks"])


def test_the_backup_covering_can_work_the_list_and_no_one_else(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings
) -> None:
    from bot.services.errors import NotAllowed
    from bot.services.interactions import record_row_outcome
    from bot.views.actions import RowRef

    slack_sandbox.set_status("UANA", "Out sick", ":face_with_thermometer:")
    run_call_lists(db, slack_gateway, seeded, now=NY_MORNING)
    with db.uow() as uow:
        call_list = uow.session.scalars(select(CallList)).one()
        row = RowRef(call_list.id, call_list.entries[0].customer_id)
    record_row_outcome(db, slack_gateway, user_id="ULEO", row=row, outcome=Outcome.REACHED,
                       now=NY_MORNING + timedelta(minutes=5), default_tz="America/New_York")
    [covering] = slack_sandbox.dms("ULEO")
    assert "✅ Reached — by Leo at 08:36" in str(covering["blocks"])
    # Nobody else works the covered list, not even the manager (she records from /collect).
    second = RowRef(row.call_list_id, call_list.entries[1].customer_id)
    for stranger in ("UMAYA",):
        with pytest.raises(NotAllowed):
            record_row_outcome(db, slack_gateway, user_id=stranger, row=second,
                               outcome=Outcome.REACHED, now=NY_MORNING + timedelta(minutes=6),
                               default_tz="America/New_York")
    # The next day Ana is back: Leo may no longer record on her accounts.
    slack_sandbox.set_status("UANA", "", "")
    tuesday = NY_MORNING + timedelta(days=1)
    run_call_lists(db, slack_gateway, seeded, now=tuesday)
    with db.uow() as uow:
        tuesday_list = uow.session.scalars(
            select(CallList).where(CallList.list_date == date(2026, 11, 24))).one()
        other = RowRef(tuesday_list.id, tuesday_list.entries[-1].customer_id)
    with pytest.raises(NotAllowed):
        record_row_outcome(db, slack_gateway, user_id="ULEO", row=other,
                           outcome=Outcome.REACHED, now=tuesday + timedelta(minutes=5),
                           default_tz="America/New_York")


def test_a_change_committed_while_a_render_is_on_its_way_still_reaches_slack(
    db: Database, slack_sandbox: SlackSandbox, slack_gateway: SlackGateway, seeded: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two clicks at once: the first click's render is taken before the second click commits,
    and reaches Slack after the second click's refresh. The first refresh then renders again."""
    run_call_lists(db, slack_gateway, seeded, now=NY_MORNING)
    with db.uow() as uow:
        call_list = uow.session.scalars(select(CallList)).one()
        list_id, collector = call_list.id, call_list.collector_id
        first, second = (e.customer_id for e in call_list.entries[:2])

    def click(customer: int, minutes: int) -> None:
        with db.uow() as uow:
            uow.session.add(ContactAttempt(customer_id=customer, collector_id=collector,
                                           at=NY_MORNING + timedelta(minutes=minutes),
                                           outcome=Outcome.REACHED, source="button"))
            uow.commit()

    click(first, 1)
    real_update = slack_gateway.update_message
    updates: list[str] = []

    def update_after_the_second_click(*args: Any, **kwargs: Any) -> Any:
        if not updates:
            click(second, 2)  # commits after this render was taken, before it reaches Slack
        updates.append(args[2])
        return real_update(*args, **kwargs)

    monkeypatch.setattr(slack_gateway, "update_message", update_after_the_second_click)
    refresh_call_list_messages(db, slack_gateway, list_id, now=NY_MORNING + timedelta(minutes=3))
    [shown] = slack_sandbox.dms("UANA")
    assert "Done 2 of" in str(shown["blocks"]), updates
    assert len(updates) == 2  # the stale render, then the one with both outcomes
