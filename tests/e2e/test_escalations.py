"""A manager's escalation decisions over signed HTTP: from the escalation DM, from the App Home
and from `/collect escalations`; a non-manager's click refused; a double click decides once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import AuditEvent, Customer, Escalation
from bot.domain.vocabulary import CustomerStatus, EscalationStatus
from bot.slack.blockkit import validate_message, validate_view
from bot.views import escalation_actions as views
from scheduler.jobs import JobContext, run_job
from tests.e2e.conftest import ANA, CARL, E2E, MANAGER, OTHER_MANAGER, app_settings
from tests.slack_fixtures import fast_gateway


@pytest.fixture
def escalated(e2e: E2E, db_url: str) -> E2E:
    """Every seeded account is 45+ days past due and never called: the hourly job escalates
    them, one message each to the collector's manager. No pace between two messages to one
    manager (8 to one DM at the default second apart were most of each test's time): pacing is
    tests/test_delivery_pool.py's."""
    settings = app_settings(db_url, e2e.sandbox, COLLECTBOT_ESCALATIONS_PER_RUN="10",
                            COLLECTBOT_CHANNEL_INTERVAL="0")
    context = JobContext(e2e.database, fast_gateway(e2e.sandbox.url), settings)
    result = run_job("escalations", context, e2e.clock.now)
    assert "8 sent" in result.summary or "12 sent" in result.summary, result.summary
    return e2e


def _escalation_of(e2e: E2E, collector: str) -> Escalation:
    with e2e.database.uow() as uow:
        escalation = uow.session.scalars(
            select(Escalation).join(Customer, Customer.id == Escalation.customer_id)
            .where(Customer.collector_id == e2e.members[collector]).order_by(Escalation.id)
        ).first()
        assert escalation is not None
        uow.session.expunge_all()
    return escalation


def _message_of(e2e: E2E, manager: str, escalation_id: int) -> tuple[dict[str, Any], str]:
    channel = e2e.sandbox.dm_channel(manager)
    assert channel is not None
    for message in e2e.sandbox.messages(channel):
        if str(escalation_id) in [e.get("value") for b in message.get("blocks", [])
                                  if b["type"] == "actions" for e in b["elements"]]:
            return message, channel
    raise AssertionError(f"no message of escalation {escalation_id} in {manager}'s DM")


def _state(e2e: E2E, escalation_id: int) -> tuple[Escalation, Customer]:
    with e2e.database.uow() as uow:
        escalation = uow.session.get_one(Escalation, escalation_id)
        customer = uow.session.get_one(Customer, escalation.customer_id)
        uow.session.expunge_all()
    return escalation, customer


def _click(e2e: E2E, user: str, action_id: str, value: str, **where: Any) -> None:
    reply = e2e.sender.click(user, action_id, value, **where)
    assert reply.status == 200 and reply.body == b""
    e2e.settle()


def test_agency_from_the_dm_updates_it_in_place_and_tells_the_collector(escalated: E2E) -> None:
    e2e = escalated
    escalation = _escalation_of(e2e, ANA)
    message, channel = _message_of(e2e, MANAGER, escalation.id)
    assert validate_message(message["text"], message["blocks"]) == []
    agency = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
              if e["action_id"] == views.ACTION_ESC_AGENCY]
    assert agency and agency[0]["confirm"]["confirm"]["text"] == "Send to agency"
    ana_dms = len(e2e.sandbox.dms(ANA))
    _click(e2e, MANAGER, views.ACTION_ESC_AGENCY, str(escalation.id), message=message,
           channel=channel)
    decided, customer = _state(e2e, escalation.id)
    assert decided.status is EscalationStatus.DECIDED and decided.decision == "agency"
    assert customer.status is CustomerStatus.AGENCY
    updated, _ = _message_of_any(e2e, channel, message["ts"])
    assert "sent to a collection agency by Mia Manager" in str(updated["blocks"])
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]
    assert len(e2e.sandbox.dms(ANA)) == ana_dms + 1
    assert "It leaves your lists." in e2e.sandbox.dms(ANA)[-1]["text"]
    # Ana's list no longer shows the account; a second click decides nothing more.
    list_message, _ = e2e.list_message(ANA)
    assert customer.name not in str(list_message["blocks"])
    _click(e2e, MANAGER, views.ACTION_ESC_LEGAL, str(escalation.id), message=message,
           channel=channel)
    assert _state(e2e, escalation.id)[1].status is CustomerStatus.AGENCY
    assert "Already decided by Mia Manager" in e2e.sandbox.ephemerals(MANAGER)[-1]["text"]


def _message_of_any(e2e: E2E, channel: str, ts: str) -> tuple[dict[str, Any], str]:
    for message in e2e.sandbox.messages(channel):
        if message["ts"] == ts:
            return message, channel
    raise AssertionError("message gone")


def test_a_manager_elsewhere_in_the_roster_is_refused(escalated: E2E) -> None:
    e2e = escalated
    escalation = _escalation_of(e2e, ANA)
    with e2e.database.uow() as uow:
        audited = len(uow.session.scalars(select(AuditEvent.id)).all())
    for user in (OTHER_MANAGER, ANA):
        _click(e2e, user, views.ACTION_ESC_TAKE_OVER, str(escalation.id))
        assert "Only the manager of" in e2e.sandbox.ephemerals(user)[-1]["text"]
    assert _state(e2e, escalation.id)[0].status is EscalationStatus.OPEN
    with e2e.database.uow() as uow:
        assert len(uow.session.scalars(select(AuditEvent.id)).all()) == audited


def test_snooze_from_the_app_home_through_its_form(escalated: E2E) -> None:
    e2e = escalated
    reply = e2e.sender.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"})
    assert reply.status == 200
    e2e.settle()
    home = e2e.sandbox.home_view(MANAGER)
    assert home is not None and validate_view(home) == []
    escalation = _escalation_of(e2e, ANA)
    assert str(escalation.id) in [e.get("value") for b in home["blocks"]
                                  if b["type"] == "actions" for e in b["elements"]]
    _click(e2e, MANAGER, views.ACTION_ESC_SNOOZE, str(escalation.id))  # from the Home
    (modal,) = e2e.sandbox.modals()
    assert modal["callback_id"] == views.CALLBACK_ESC_SNOOZE_MODAL
    empty = e2e.sender.submit(MANAGER, modal, {
        "days": {"days": {"selected_option": {"value": "14"}}},
        "reason": {"reason": {"value": "  "}}})
    assert empty.json()["errors"] == {"reason": "Say why it can wait."}
    done = e2e.sender.submit(MANAGER, modal, {
        "days": {"days": {"selected_option": {"value": "14"}}},
        "reason": {"reason": {"value": "owner in hospital"}}})
    assert done.status == 200
    e2e.settle()
    snoozed, customer = _state(e2e, escalation.id)
    assert snoozed.status is EscalationStatus.OPEN and snoozed.snooze_note == "owner in hospital"
    assert customer.status is CustomerStatus.ACTIVE
    assert "snoozed until 24 Mar by Mia Manager" in e2e.sandbox.ephemerals(MANAGER)[-1]["text"]
    message, _ = _message_of(e2e, MANAGER, escalation.id)
    assert ":zzz: snoozed until 24 Mar by Mia Manager: owner in hospital" in str(
        message["blocks"])
    home = e2e.sandbox.home_view(MANAGER)
    assert home is not None and "snoozed until" in str(home["blocks"])


def test_take_over_from_collect_escalations_replaces_the_answer(escalated: E2E) -> None:
    e2e = escalated
    reply, url = e2e.sender.command(OTHER_MANAGER, "escalations")
    assert reply.status == 200
    e2e.settle()
    (answer,) = e2e.sandbox.responses(url)
    assert validate_message(answer["text"], answer["blocks"]) == []
    escalation = _escalation_of(e2e, CARL)
    assert str(escalation.id) in str(answer["blocks"])
    payload = e2e.sender.action_payload(
        OTHER_MANAGER, {"type": "button", "action_id": views.ACTION_ESC_TAKE_OVER,
                        "value": str(escalation.id)})
    payload["container"] = {"type": "message", "message_ts": "1700000000.000100",
                            "channel_id": "C0ANY", "is_ephemeral": True}
    payload["response_url"] = url
    assert e2e.sender.interaction(payload).status == 200
    e2e.settle()
    decided, customer = _state(e2e, escalation.id)
    assert customer.collector_id == e2e.members[OTHER_MANAGER]
    assert decided.decision == "take_over"
    replaced = e2e.sandbox.responses(url)[-1]
    assert replaced.get("replace_original") is True
    assert str(escalation.id) not in [e.get("value") for b in replaced.get("blocks") or []
                                      if b["type"] == "actions" for e in b["elements"]]
    assert "Olga Other moved" in e2e.sandbox.dms(CARL)[-1]["text"]
