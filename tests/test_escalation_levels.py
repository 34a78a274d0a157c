"""Levels, on hand-made ledgers with a frozen clock, through the sandbox, on both engines: one
reminder in the message's thread after N working days of the holder, then up to the manager's
manager or a head in her own working hours; the lower message updated; the recommendation at
the top; the level holder may decide; a snooze's end pinged once; never twice after a crash
or with two runs at once; every message valid Block Kit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import AuditEvent, Customer, Delivery, Escalation, EscalationStep, TeamMember
from bot.domain.escalation_decisions import Decision
from bot.domain.vocabulary import CustomerStatus, DeliveryStatus, Role
from bot.sandbox.web_api import SlackSandbox
from bot.services.delivery_sender import claim_next
from bot.services.errors import NotAllowed
from bot.services.escalation_clicks import decide_now
from bot.services.escalation_decisions import DecisionRequest, decide
from bot.services.escalation_levels import run_levels
from bot.settings import Settings, load_settings
from bot.slack.blockkit import validate_message
from bot.slack.client import SlackGateway
from bot.views import escalation_actions as views
from scheduler.jobs import JobContext, JobResult, run_job
from tests.at_once import run_at_once
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway
from tests.test_deliveries import Crash
from tests.test_escalation_delivery import DiesAfterPosting, _texts
from tests.test_escalations_job import NOW, Ledger

NEW_YORK, LONDON = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
REMINDER_HOUR = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 09:00 in New York
RAISE_HOUR = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # Monday 00:00 in New York


@pytest.fixture
def sandbox(slack_sandbox: SlackSandbox) -> SlackSandbox:
    for user, name, tz in (("UMAX", "Max", "America/New_York"), ("UANA", "Ana", "America/New_York"),
                           ("ULIA", "Lia", "Europe/London"), ("UHANA", "Hana", "America/New_York"),
                           ("UBEN", "Ben", "America/New_York")):
        slack_sandbox.add_user(user, name=name, tz=tz)
    slack_sandbox.add_channel("C0MGRS", "managers")
    return slack_sandbox


class Team:
    """The Ledger's Max (manager, New York) and Ana; Lia above Max in London; Hana the head;
    Ben a collector; one account 130 days late, called twice without reaching anyone: the
    120+ strategy (path manager -> agency -> legal, at most 2 contacts)."""

    def __init__(self, db: Database, db_url: str, sandbox: SlackSandbox, *,
                 above: str = "manager") -> None:
        self.db, self.db_url, self.sandbox, self.above = db, db_url, sandbox, above
        self.per_run = "5"
        self.ledger = Ledger(db)
        with db.uow() as uow:
            session = uow.session
            lia = TeamMember(slack_user_id="ULIA", name="Lia", role=Role.MANAGER,
                             timezone="Europe/London")
            hana = TeamMember(slack_user_id="UHANA", name="Hana", role=Role.HEAD,
                              timezone="America/New_York")
            session.add_all([lia, hana])
            session.flush()
            session.get_one(TeamMember, self.ledger.manager).manager_id = lia.id
            uow.commit()
        self.customer = self.ledger.account("ACME", "3000.00", 130)
        for days in (25, 20):
            self.ledger.call(self.customer, NOW - timedelta(days=days))

    def second_account_in_a_digest(self) -> None:
        """BOLT, escalated like ACME; one message a run, so both come in one digest."""
        self.per_run = "1"
        other = self.ledger.account("BOLT", "5000.00", 130)
        for days in (25, 20):
            self.ledger.call(other, NOW - timedelta(days=days))

    def settings(self) -> Settings:
        return load_settings(
            DATABASE_URL=self.db_url, SLACK_BOT_TOKEN=SANDBOX_TOKEN,
            SLACK_API_URL=self.sandbox.url, COLLECTBOT_TIMEZONE="America/New_York",
            COLLECTBOT_ESCALATION_REMIND_DAYS="2", COLLECTBOT_ESCALATION_ABOVE=self.above,
            COLLECTBOT_ESCALATIONS_PER_RUN=self.per_run)

    def job(self, now: datetime, gateway: SlackGateway | None = None) -> JobResult:
        context = JobContext(self.db, gateway or fast_gateway(self.sandbox.url), self.settings())
        return run_job("escalations", context, now)

    def queue_levels(self, now: datetime) -> None:
        """The levels' part of a run up to its commit: replies queued for the senders, not sent."""
        with self.db.uow() as uow:
            run_levels(uow, self.settings(), now=now)
            uow.commit()

    def hourly(self, start: datetime, hours: int) -> None:
        for hour in range(hours):
            self.job(start + timedelta(hours=hour))

    def at(self, *moments: datetime) -> None:
        """Runs at these moments only: each catches up on what the hours between would do."""
        for moment in moments:
            self.job(moment)

    def escalation(self) -> Escalation:
        with self.db.uow() as uow:
            row = uow.session.scalars(select(Escalation).order_by(Escalation.id)).first()
            assert row is not None
            uow.session.expunge_all()
        return row

    def steps(self) -> list[EscalationStep]:
        with self.db.uow() as uow:
            rows = list(uow.session.scalars(select(EscalationStep).order_by(EscalationStep.step)))
            uow.session.expunge_all()
        return rows

    def audit(self, action: str) -> list[AuditEvent]:
        with self.db.uow() as uow:
            rows = list(uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
            uow.session.expunge_all()
        return rows

    def decide(self, user: str, decision: Decision, now: datetime) -> str:
        return decide_now(self.db, fast_gateway(self.sandbox.url), user_id=user,
                          request=DecisionRequest(self.escalation().id, decision),
                          origin=views.DecisionOrigin(self.escalation().id), now=now,
                          default_tz="America/New_York")


@pytest.fixture
def team(db: Database, db_url: str, sandbox: SlackSandbox) -> Team:
    return Team(db, db_url, sandbox)


def _valid(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        assert validate_message(message["text"], message.get("blocks") or []) == []


def _top_and_replies(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                              list[dict[str, Any]]]:
    return ([m for m in messages if "thread_ts" not in m],
            [m for m in messages if "thread_ts" in m])


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def _buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]}


@pytest.mark.slow
def test_thirty_days_of_hourly_runs_remind_once_per_level_and_climb_to_the_head(
    team: Team, sandbox: SlackSandbox
) -> None:
    team.hourly(NOW, 30 * 24)
    # Max: the escalation on Monday 23 Nov, one reminder in its thread two working days later.
    (maxs,), max_replies = _top_and_replies(sandbox.dms("UMAX"))
    (reminder,) = max_replies
    assert reminder["thread_ts"] == maxs["ts"]
    assert "Reminder: *Customer ACME* (ACME) is still to decide, 2 working days after it " \
        "reached you" in _texts(reminder)
    assert "If nobody decides within 2 more working days, it goes to Lia." in _texts(reminder)
    reminded = team.audit("escalation.reminded")
    steps = team.steps()
    assert steps[0].reminded_at is not None
    assert _local(steps[0].reminded_at, NEW_YORK).date().isoformat() == "2026-11-25"
    # Up to Lia (Max's manager) after two more of Max's working days: Thanksgiving (Thu 26)
    # does not count, so Monday 30 Nov; she gets it in her own hours in London.
    raised = team.audit("escalation.raised")
    assert [e.detail["to"] for e in raised] == ["ULIA", "UHANA"]
    steps = team.steps()
    # Each counted in the working days of the one who held it: Max's in New York, Lia's in
    # London (her Friday began at 19:00 on Thursday in New York).
    assert [(s.recipient, _local(s.reached_at, zone).date().isoformat())
            for s, zone in zip(steps[1:], (NEW_YORK, LONDON), strict=True)] == [
        ("ULIA", "2026-11-30"), ("UHANA", "2026-12-04")]
    (lias,), lia_replies = _top_and_replies(sandbox.dms("ULIA"))
    assert "Escalated to you: not decided by Max in 4 working days" in _texts(lias)
    assert len(lia_replies) == 1 and lia_replies[0]["thread_ts"] == lias["ts"]
    # Max's message says it went up (and still carries the buttons).
    max_now = sandbox.dms("UMAX")[0]
    assert "Went up to Lia on 30 Nov: not decided by Max in 4 working days" in _texts(max_now)
    # Lia's manager: none; the head, Hana, has it last, with the policy's recommendation.
    (hanas,), hana_replies = _top_and_replies(sandbox.dms("UHANA"))
    assert "Escalated to you: not decided by Lia in 4 working days" in _texts(hanas)
    assert "Recommended: send it to a collection agency." in _texts(hanas)
    assert "2 contacts made (the 120+ days strategy's maximum: 2)" in _texts(hanas)
    assert _buttons(hanas)[views.ACTION_ESC_AGENCY]["style"] == "primary"
    assert "style" not in _buttons(hanas)[views.ACTION_ESC_LEGAL]
    assert "Recommended" not in _texts(max_now) and "Recommended" not in _texts(lias)
    assert len(hana_replies) == 1 and "Nobody is above this level." in _texts(hana_replies[0])
    assert len(reminded) == 3
    _valid(sandbox.messages())
    assert [s.step for s in team.steps()] == [1, 2, 3]
    assert team.escalation().step == 3


def test_the_higher_level_arrives_in_her_working_hours(team: Team, sandbox: SlackSandbox) -> None:
    team.at(NOW, REMINDER_HOUR)
    team.hourly(RAISE_HOUR, 6)  # 05:00 to 10:00 in London on Monday 30 Nov
    (post,) = [c for c in sandbox.calls_to("chat.postMessage")
               if c.params["channel"] == sandbox.dm_channel("ULIA")]
    (step,) = [s for s in team.steps() if s.step == 2]
    raised_at = step.reached_at
    # Raised at midnight in New York (05:00 in London); told at 09:00 London, not before.
    assert _local(raised_at, LONDON).hour == 5
    told = team.audit("escalation.raised")[0]
    assert told.detail["from_recipient"] == "UMAX"
    with team.db.uow() as uow:
        sent_at = uow.session.scalars(select(Delivery.sent_at).where(
            Delivery.key == step.message_key)).one()
    assert sent_at is not None and _local(sent_at, LONDON).hour == 9
    assert _local(sent_at, LONDON).date() == _local(raised_at, LONDON).date()
    assert post.params["text"].startswith("Escalation")


def test_above_head_goes_straight_to_the_head(
    db: Database, db_url: str, sandbox: SlackSandbox
) -> None:
    team = Team(db, db_url, sandbox, above="head")
    team.at(NOW, REMINDER_HOUR, RAISE_HOUR, RAISE_HOUR + timedelta(hours=10))
    assert [e.detail["to"] for e in team.audit("escalation.raised")] == ["UHANA"]
    assert sandbox.dms("ULIA") == []
    (hanas,) = [m for m in sandbox.dms("UHANA") if "thread_ts" not in m]
    assert "Escalated to you: not decided by Max in 4 working days" in _texts(hanas)


def test_the_level_holder_decides_and_a_non_manager_cannot(team: Team) -> None:
    friday = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    # Lia told Monday 30 Nov at 09:00 London, reminded Wednesday, raised to Hana on Friday.
    team.at(NOW, REMINDER_HOUR, RAISE_HOUR, RAISE_HOUR + timedelta(hours=4),
            datetime(2026, 12, 2, 9, 0, tzinfo=UTC), datetime(2026, 12, 4, 0, 0, tzinfo=UTC),
            friday - timedelta(hours=3))
    with pytest.raises(NotAllowed, match="whoever it went up to"):
        team.decide("UANA", Decision.AGENCY, friday)
    assert team.escalation().step == 3
    text = team.decide("UHANA", Decision.AGENCY, friday)
    assert "agency" in text
    escalation = team.escalation()
    assert escalation.decision == Decision.AGENCY.value
    with team.db.uow() as uow:
        assert uow.session.get_one(Customer, team.customer).status is CustomerStatus.AGENCY


def test_a_head_it_never_reached_cannot_decide(team: Team) -> None:
    team.job(NOW)
    with pytest.raises(NotAllowed):
        team.decide("UHANA", Decision.AGENCY, NOW + timedelta(hours=1))


def test_a_crash_between_send_and_record_of_the_reminder_sends_it_once(
    team: Team, sandbox: SlackSandbox
) -> None:
    team.at(NOW, REMINDER_HOUR - timedelta(hours=1))  # told, not reminded yet
    assert _top_and_replies(sandbox.dms("UMAX"))[1] == []
    with pytest.raises(Crash):
        team.job(REMINDER_HOUR, gateway=DiesAfterPosting(sandbox.url))
    assert len(_top_and_replies(sandbox.dms("UMAX"))[1]) == 1
    for minutes in (2, 10, 60, 120):
        team.job(REMINDER_HOUR + timedelta(minutes=minutes))
    (reply,) = _top_and_replies(sandbox.dms("UMAX"))[1]
    assert "Reminder" in _texts(reply)
    assert sandbox.calls_to("conversations.replies")  # found where Slack keeps it


def test_two_runs_at_once_remind_once(team: Team, sandbox: SlackSandbox) -> None:
    team.at(NOW, REMINDER_HOUR - timedelta(hours=1))
    sandbox.slow("chat.postMessage", 0.1)
    run_at_once(lambda: team.job(REMINDER_HOUR))
    assert len(_top_and_replies(sandbox.dms("UMAX"))[1]) == 1
    assert len(team.audit("escalation.reminded")) == 1


def test_a_snooze_that_ends_with_the_cause_still_there_pings_once(
    team: Team, sandbox: SlackSandbox
) -> None:
    team.job(NOW)
    with team.db.uow() as uow:
        decide(uow, actor_slack_id="UMAX", request=DecisionRequest(
            team.escalation().id, Decision.SNOOZE, days=7, text="customer on holiday"),
            now=NOW + timedelta(hours=1), default_tz="America/New_York")
        uow.commit()
    monday, wednesday = datetime(2026, 11, 30, 14, 0, tzinfo=UTC), REMINDER_HOUR
    team.at(NOW + timedelta(hours=2), wednesday, monday - timedelta(hours=1), monday,
            monday + timedelta(hours=1), monday + timedelta(days=1),
            monday + timedelta(days=2, hours=-1), monday + timedelta(days=2),
            monday + timedelta(days=2, hours=1))
    top, replies = _top_and_replies(sandbox.dms("UMAX"))
    awake = [r for r in replies if "snooze" in _texts(r)]
    (ping,) = awake
    assert "The snooze of *Customer ACME* (ACME) ended on Mon 30 Nov and it is still " \
        "escalated" in _texts(ping)
    assert len(team.audit("escalation.woke")) == 1
    # The message no longer says it sleeps; the clock restarted at the snooze's end: the
    # reminder two working days later (Wednesday 2 Dec), not during the snooze.
    assert ":zzz:" not in _texts(top[0])
    step = team.steps()[0]
    assert step.woke_on is not None and step.woke_on.isoformat() == "2026-11-30"
    assert step.reminded_at is not None
    assert _local(step.reminded_at, NEW_YORK).date().isoformat() == "2026-12-02"
    assert len(team.audit("escalation.reminded")) == 1
    _valid(sandbox.messages())



def test_a_digest_gets_one_reminder_for_all_its_escalations(
    team: Team, sandbox: SlackSandbox
) -> None:
    team.second_account_in_a_digest()
    team.at(NOW, REMINDER_HOUR, REMINDER_HOUR + timedelta(hours=1))
    (digest,), replies = _top_and_replies(sandbox.dms("UMAX"))
    assert digest["blocks"][0]["text"]["text"] == "2 escalations to decide"
    (reminder,) = replies
    assert reminder["thread_ts"] == digest["ts"]
    text = _texts(reminder)
    assert "Reminder: 2 escalations here are still to decide, 2 working days after" in text
    assert "*Customer ACME* (ACME) · $3,000 past due" in text
    assert "*Customer BOLT* (BOLT) · $5,000 past due" in text
    assert len(team.audit("escalation.reminded")) == 2
    _valid(sandbox.messages())


def _reminder_row(team: Team) -> Delivery:
    with team.db.uow() as uow:
        (row,) = uow.session.scalars(
            select(Delivery).where(Delivery.key.startswith("escalation-reminder:")))
        uow.session.expunge_all()
    return row


@pytest.mark.parametrize("decision", [Decision.AGENCY, Decision.SNOOZE])
def test_a_reminder_still_queued_when_the_manager_decides_is_never_sent(
    team: Team, sandbox: SlackSandbox, decision: Decision
) -> None:
    team.at(NOW, REMINDER_HOUR - timedelta(hours=1))
    team.queue_levels(REMINDER_HOUR)  # queued for the senders (as when Slack holds it back)
    assert _reminder_row(team).status is DeliveryStatus.PENDING
    decided_at = REMINDER_HOUR + timedelta(minutes=5)
    with team.db.uow() as uow:
        decide(uow, actor_slack_id="UMAX", request=DecisionRequest(
            team.escalation().id, decision, days=7, text="on holiday"),
            now=decided_at, default_tz="America/New_York")
        uow.commit()
    row = _reminder_row(team)
    assert row.status is DeliveryStatus.SKIPPED
    assert row.error is not None and "before it was sent" in row.error
    # Neither a sender of the pool nor a later run sends it.
    assert claim_next(team.db, holder="pool", now=decided_at + timedelta(hours=1)) is None
    team.job(decided_at + timedelta(hours=1))
    assert _top_and_replies(sandbox.dms("UMAX"))[1] == []


def test_a_digest_reminder_stays_queued_when_one_of_its_escalations_is_decided(
    team: Team, sandbox: SlackSandbox
) -> None:
    team.second_account_in_a_digest()
    team.at(NOW, REMINDER_HOUR - timedelta(hours=1))
    team.queue_levels(REMINDER_HOUR)
    assert _reminder_row(team).key.endswith(":digest")
    with team.db.uow() as uow:
        decide(uow, actor_slack_id="UMAX", now=REMINDER_HOUR, default_tz="America/New_York",
               request=DecisionRequest(team.escalation().id, Decision.AGENCY))
        uow.commit()
    # It names BOLT too, still to decide.
    assert _reminder_row(team).status is DeliveryStatus.PENDING
    with team.db.uow() as uow:
        bolt = uow.session.scalars(select(Escalation.id).order_by(Escalation.id.desc())).first()
        decide(uow, actor_slack_id="UMAX", now=REMINDER_HOUR, default_tz="America/New_York",
               request=DecisionRequest(bolt, Decision.RESOLVE, text="paid by wire"))
        uow.commit()
    # Both decided: nothing left to remind of.
    assert _reminder_row(team).status is DeliveryStatus.SKIPPED


def test_a_digest_reminder_whose_first_escalation_is_decided_is_still_sent(
    team: Team, sandbox: SlackSandbox
) -> None:
    team.second_account_in_a_digest()
    team.at(NOW, REMINDER_HOUR - timedelta(hours=1))
    team.queue_levels(REMINDER_HOUR)
    first = int(_reminder_row(team).key.split(":")[1])
    with team.db.uow() as uow:
        decide(uow, actor_slack_id="UMAX", now=REMINDER_HOUR, default_tz="America/New_York",
               request=DecisionRequest(first, Decision.AGENCY))
        uow.commit()
    team.job(REMINDER_HOUR + timedelta(minutes=1))  # sends what is queued
    (reminder,) = _top_and_replies(sandbox.dms("UMAX"))[1]
    assert "Reminder" in _texts(reminder)
    assert _reminder_row(team).status is DeliveryStatus.SENT
