"""Escalations reach the collector's manager through the sandbox: in her working hours, one
message each up to the per-run number and one digest beyond, valid Block Kit, never twice (a
rerun, a crash between send and record, two runs at once), updated in place on auto-close."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import ContactAttempt, Customer, Delivery, Escalation, TeamMember
from bot.domain.vocabulary import DeliveryStatus, Outcome
from bot.sandbox.web_api import SlackSandbox
from bot.settings import Settings, load_settings
from bot.slack.blockkit import validate_message
from bot.slack.client import SlackGateway
from scheduler.jobs import JobContext, JobResult, run_job
from tests.at_once import run_at_once
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway
from tests.test_deliveries import Crash
from tests.test_escalations_job import NOW, Ledger

MANAGERS = "C0MGRS"


class DiesAfterPosting(SlackGateway):
    """A gateway whose process dies right after Slack accepted its first message."""

    def __init__(self, url: str) -> None:
        self.__dict__.update(fast_gateway(url).__dict__)

    def post_message(self, channel: str, text: str, *args: Any, **kwargs: Any) -> str:
        super().post_message(channel, text, *args, **kwargs)
        raise Crash


def _settings(db_url: str, sandbox: SlackSandbox, **extra: str) -> Settings:
    return load_settings(DATABASE_URL=db_url, SLACK_BOT_TOKEN=SANDBOX_TOKEN,
                         SLACK_API_URL=sandbox.url, COLLECTBOT_TIMEZONE="America/New_York",
                         COLLECTBOT_MANAGERS_CHANNEL=MANAGERS,
                         COLLECTBOT_ESCALATIONS_PER_RUN="3", **extra)


@pytest.fixture
def sandbox(slack_sandbox: SlackSandbox) -> SlackSandbox:
    slack_sandbox.add_user("UMAX", name="Max", tz="America/New_York")
    slack_sandbox.add_user("UANA", name="Ana", tz="America/New_York")
    slack_sandbox.add_channel(MANAGERS, "managers")
    return slack_sandbox


def _job(db: Database, sandbox: SlackSandbox, db_url: str, now: datetime,
         gateway: SlackGateway | None = None) -> JobResult:
    context = JobContext(db, gateway or fast_gateway(sandbox.url), _settings(db_url, sandbox))
    return run_job("escalations", context, now)


def _stale(ledger: Ledger, ref: str, past_due: str = "3000.00") -> int:
    """An account 40 days past due, last called 20 days ago: over 14 days of silence."""
    account = ledger.account(ref, past_due, 40)
    ledger.call(account, NOW - timedelta(days=20))
    return account


def _texts(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text["text"])
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                parts.append(str(element["text"]))
    return "\n".join(parts)


def test_one_message_each_with_the_accounts_history(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    account = _stale(ledger, "ACME")
    with db.uow() as uow:
        uow.session.add(ContactAttempt(
            customer_id=account, collector_id=ledger.ana, at=NOW - timedelta(days=25),
            outcome=Outcome.LEFT_VOICEMAIL, source="button", note="<b>boss</b> & co said *no*"))
        uow.commit()
    ledger.promise(account, NOW - timedelta(days=35), broken_on=30)
    result = _job(db, sandbox, db_url, NOW)
    assert result.summary.endswith("; 1 sent, 0 digest(s), 0 updated, 0 failed")
    (message,) = sandbox.dms("UMAX")
    assert validate_message(message["text"], message["blocks"]) == []
    text = _texts(message)
    assert "*$3,000* past due · oldest 40 days · last contact 20 days ago · 2 attempts" in text
    assert "promises 0 kept, 1 broken · collector <@UANA>" in text
    assert "no contact for 20 days (policy: 14)" in text
    assert "Aging: 31-60 days $3,000" in text
    assert "Left voicemail · Ana · _&lt;b&gt;boss&lt;/b&gt; &amp; co said *no*_" in text
    assert message["metadata"]["event_payload"]["key"].startswith("escalation:")
    # Reruns, an hour and a day later, send nothing more.
    assert "0 sent" in _job(db, sandbox, db_url, NOW + timedelta(hours=1)).summary
    _job(db, sandbox, db_url, NOW + timedelta(days=1))
    assert len(sandbox.calls_to("chat.postMessage")) == 1


def test_only_in_the_managers_working_hours(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    _stale(ledger, "ACME")
    with db.uow() as uow:
        uow.session.get_one(TeamMember, ledger.manager).timezone = "Asia/Tokyo"
        uow.commit()
    # Monday 15:00 UTC is midnight in Tokyo: it waits (the escalation is opened all the same).
    result = _job(db, sandbox, db_url, NOW)
    assert "1 opened" in result.summary and "1 waiting for working hours" in result.summary
    assert sandbox.dms("UMAX") == []
    # Tuesday 10:00 in Tokyo.
    _job(db, sandbox, db_url, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    assert len(sandbox.dms("UMAX")) == 1


def test_not_on_weekends_or_holidays(db: Database, db_url: str, sandbox: SlackSandbox) -> None:
    ledger = Ledger(db)
    _stale(ledger, "ACME")
    thanksgiving = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # Thursday, 10:00 in New York
    assert "waiting for working hours" in _job(db, sandbox, db_url, thanksgiving).summary
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert "waiting for working hours" in _job(db, sandbox, db_url, saturday).summary
    early = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # Monday 07:00 in New York
    assert "waiting for working hours" in _job(db, sandbox, db_url, early).summary
    assert sandbox.dms("UMAX") == []
    _job(db, sandbox, db_url, datetime(2026, 11, 30, 14, 30, tzinfo=UTC))  # Monday 09:30
    assert len(sandbox.dms("UMAX")) == 1


def test_beyond_the_per_run_number_one_digest(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    for n in range(10):
        _stale(ledger, f"C{n:02d}", f"{1000 + 100 * n}.00")
    result = _job(db, sandbox, db_url, NOW)
    assert "10 opened" in result.summary and "1 sent, 1 digest(s)" in result.summary
    (digest,) = sandbox.dms("UMAX")
    assert validate_message(digest["text"], digest["blocks"]) == []
    text = _texts(digest)
    assert digest["blocks"][0]["text"]["text"] == "10 escalations to decide"
    # The largest first, eight of them, and the rest counted.
    assert text.index("Customer C09") < text.index("Customer C08")
    assert "Customer C01" not in text and "Customer C00" not in text
    assert "…and 2 more escalations ($2,100 past due): all of them are in the App Home." in text
    # Two more later in the day: under the per-run number, one message each.
    _stale(ledger, "NEW1")
    _stale(ledger, "NEW2")
    _job(db, sandbox, db_url, NOW + timedelta(hours=1))
    assert len(sandbox.dms("UMAX")) == 3


def test_no_manager_goes_to_the_managers_channel(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    account = _stale(ledger, "ACME")
    with db.uow() as uow:
        uow.session.get_one(TeamMember, ledger.ana).manager_id = None
        uow.session.get_one(Customer, account).name = "Acme <script>"
        uow.commit()
    _job(db, sandbox, db_url, NOW)
    (posted,) = sandbox.messages(MANAGERS)
    assert "Acme &lt;script&gt;" in _texts(posted)
    assert sandbox.dms("UMAX") == []


def test_auto_close_updates_the_message_in_place(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    account = _stale(ledger, "ACME")
    _job(db, sandbox, db_url, NOW)
    (sent,) = sandbox.dms("UMAX")
    ledger.call(account, NOW + timedelta(hours=2), Outcome.REACHED)
    result = _job(db, sandbox, db_url, NOW + timedelta(hours=3))
    assert "1 closed" in result.summary and "1 updated" in result.summary
    (update,) = sandbox.calls_to("chat.update")
    assert update.params["ts"] == sent["ts"]
    (shown,) = sandbox.dms("UMAX")
    assert "*Closed by itself* on Mon 23 Nov 13:00: called on 23 Nov" in _texts(shown)
    assert validate_message(shown["text"], shown["blocks"]) == []


def test_a_crash_between_send_and_record_sends_nothing_twice(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    _stale(ledger, "ACME")
    with pytest.raises(Crash):
        _job(db, sandbox, db_url, NOW, gateway=DiesAfterPosting(sandbox.url))
    assert len(sandbox.dms("UMAX")) == 1
    # Within the delivery's lease the claim stands; after it, the message is found, not resent.
    _job(db, sandbox, db_url, NOW + timedelta(minutes=2))
    _job(db, sandbox, db_url, NOW + timedelta(minutes=10))
    assert len(sandbox.calls_to("chat.postMessage")) == 1
    with db.uow() as uow:
        key = uow.session.scalars(select(Escalation.message_key)).one()
        delivery = uow.session.scalars(select(Delivery).where(Delivery.key == key)).one()
        assert delivery.status is DeliveryStatus.SENT
        assert delivery.messages == [{"channel": sandbox.dm_channel("UMAX"),
                                      "ts": sandbox.dms("UMAX")[0]["ts"]}]


def test_two_runs_at_once_send_each_once(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    ledger = Ledger(db)
    for n in range(3):
        _stale(ledger, f"C{n}")
    sandbox.slow("chat.postMessage", 0.1)
    # Both runs end: the second waits for the channel the first holds, not for its lease.
    run_at_once(lambda: _job(db, sandbox, db_url, NOW))
    assert len(sandbox.dms("UMAX")) == 3
    with db.uow() as uow:
        assert len(uow.session.scalars(select(Escalation)).all()) == 3


def test_in_the_scheduler_the_job_only_queues_and_a_sender_sends_once(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    from scheduler.senders import SenderPool

    ledger = Ledger(db)
    _stale(ledger, "ACME")
    settings = _settings(db_url, sandbox)
    context = JobContext(db, fast_gateway(sandbox.url), settings, send_now=False)
    first = run_job("escalations", context, NOW)
    assert "1 queued" in first.summary and first.failed == 0
    assert sandbox.calls_to("chat.postMessage") == []  # the job sent nothing itself
    again = run_job("escalations", context, NOW + timedelta(minutes=5))
    assert "queued" not in again.summary  # already queued: not queued twice
    pool = SenderPool(db, settings, gateway=fast_gateway(sandbox.url)).start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        while not sandbox.dms("UMAX"):
            assert datetime.now(UTC) < deadline, "the sender never sent the escalation"
            threading.Event().wait(0.05)
    finally:
        pool.stop()
    assert len(sandbox.dms("UMAX")) == 1
    with db.uow() as uow:
        delivery = uow.session.scalars(select(Delivery)).one()
    assert delivery.status is DeliveryStatus.SENT
