"""A manager's decisions on an escalation, through the sandbox: each button's effect on the
account, the call lists, the manager's message (in place), the collector's DM and the audit
log; who may decide; already decided; double clicks and two clicks at once decide once."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import AuditEvent, CallList, CallListEntry, Customer, Escalation, TeamMember
from bot.domain.escalation_decisions import Decision
from bot.domain.vocabulary import CustomerStatus, EscalationStatus, Role
from bot.sandbox.web_api import SlackSandbox
from bot.services.call_lists import call_list_view
from bot.services.errors import InvalidInput, NotAllowed, ServiceError
from bot.services.escalation_clicks import decide_now, decision_form, read_decision_form
from bot.services.escalation_decisions import AlreadyDecided, DecisionRequest
from bot.slack.blockkit import validate_message, validate_view
from bot.views import escalation_actions as views
from tests.slack_fixtures import fast_gateway
from tests.test_escalation_delivery import _job, _stale, _texts
from tests.test_escalations_job import NOW, Ledger


@pytest.fixture
def sandbox(slack_sandbox: SlackSandbox) -> SlackSandbox:
    for user, name in (("UMAX", "Max"), ("UANA", "Ana"), ("UBEN", "Ben"), ("UHEAD", "Hana"),
                       ("UOLGA", "Olga"), ("UADMIN", "Ada")):
        slack_sandbox.add_user(user, name=name, tz="America/New_York")
    slack_sandbox.add_channel("C0MGRS", "managers")
    return slack_sandbox


class Team:
    """The Ledger's Max (manager) and Ana, plus Ben (Max's), Hana above Max, Olga (another
    manager), an admin, one stale account escalated to Max and today's list of Ana with it."""

    def __init__(self, db: Database, db_url: str, sandbox: SlackSandbox) -> None:
        self.db, self.sandbox = db, sandbox
        self.ledger = Ledger(db)
        with db.uow() as uow:
            session = uow.session
            head = TeamMember(slack_user_id="UHEAD", name="Hana", role=Role.MANAGER)
            session.add_all([head, TeamMember(slack_user_id="UOLGA", name="Olga",
                                              role=Role.MANAGER),
                             TeamMember(slack_user_id="UADMIN", name="Ada", role=Role.ADMIN)])
            session.flush()
            session.get_one(TeamMember, self.ledger.manager).manager_id = head.id
            ben = TeamMember(slack_user_id="UBEN", name="Ben", role=Role.COLLECTOR,
                             manager_id=self.ledger.manager, timezone="America/New_York")
            session.add(ben)
            uow.commit()
        self.customer = _stale(self.ledger, "ACME")
        assert "1 sent" in _job(db, sandbox, db_url, NOW).summary
        (self.message,) = sandbox.dms("UMAX")
        with db.uow() as uow:
            self.escalation = uow.session.scalars(select(Escalation.id)).one()
            call_list = CallList(collector_id=self.ledger.ana, list_date=NOW.date(),
                                 timezone="America/New_York")
            uow.session.add(call_list)
            uow.session.flush()
            uow.session.add(CallListEntry(call_list_id=call_list.id, position=1,
                                          customer_id=self.customer, score=Decimal("1.00"),
                                          reason="stale", past_due=Decimal("3000.00"),
                                          days_past_due=40))
            self.call_list = call_list.id
            uow.commit()

    def decide(self, user: str, decision: Decision, **extra: Any) -> str:
        return decide_now(self.db, fast_gateway(self.sandbox.url), user_id=user,
                          request=DecisionRequest(self.escalation, decision, **extra),
                          origin=views.DecisionOrigin(self.escalation), now=NOW,
                          default_tz="America/New_York")

    def row(self) -> tuple[Escalation, Customer]:
        with self.db.uow() as uow:
            escalation = uow.session.get_one(Escalation, self.escalation)
            customer = uow.session.get_one(Customer, self.customer)
            uow.session.expunge_all()
        return escalation, customer

    def audit(self) -> list[str]:
        with self.db.uow() as uow:
            return list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))

    def updated_message(self) -> dict[str, Any]:
        (update,) = self.sandbox.calls_to("chat.update")
        assert update.params["ts"] == self.message["ts"]
        assert validate_message(update.params["text"], update.params["blocks"]) == []
        return dict(update.params)

    def on_list(self) -> bool:
        with self.db.uow() as uow:
            view = call_list_view(uow.session, self.call_list, now=NOW)
        return any(item.customer_id == self.customer for item in view.items)

    def member(self, slack_id: str) -> int:
        with self.db.uow() as uow:
            return uow.session.scalars(
                select(TeamMember.id).where(TeamMember.slack_user_id == slack_id)).one()


@pytest.fixture
def team(db: Database, db_url: str, sandbox: SlackSandbox) -> Team:
    return Team(db, db_url, sandbox)


def _buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_message_carries_the_six_decisions(team: Team) -> None:
    assert _buttons(team.message["blocks"]) == [
        views.ACTION_ESC_REASSIGN, views.ACTION_ESC_TAKE_OVER, views.ACTION_ESC_SNOOZE,
        views.ACTION_ESC_AGENCY, views.ACTION_ESC_LEGAL, views.ACTION_ESC_RESOLVE]
    values = {e["value"] for b in team.message["blocks"] if b["type"] == "actions"
              for e in b["elements"]}
    assert values == {str(team.escalation)}


def test_take_over_makes_the_manager_the_collector(team: Team) -> None:
    confirmation = team.decide("UMAX", Decision.TAKE_OVER)
    assert "taken over by Max" in confirmation
    escalation, customer = team.row()
    assert customer.collector_id == team.ledger.manager
    assert escalation.status is EscalationStatus.DECIDED
    assert (escalation.decision, escalation.decided_by_id, escalation.decided_at) == (
        "take_over", team.ledger.manager, NOW)
    assert team.audit()[-2:] == ["customer.assigned", "escalation.decided"]
    text = _texts(team.updated_message())
    assert "*Decided*" in text and "taken over by Max" in text
    assert _buttons(team.updated_message()["blocks"]) == []
    (dm,) = team.sandbox.dms("UANA")
    assert "Max moved *Customer ACME* (ACME) from you to Max" in dm["text"]


def test_reassign_to_an_active_collector_only(team: Team) -> None:
    with pytest.raises(InvalidInput, match="is a manager, not a collector"):
        team.decide("UMAX", Decision.REASSIGN, collector_slack_id="UOLGA")
    with pytest.raises(InvalidInput, match="not an active member"):
        team.decide("UMAX", Decision.REASSIGN, collector_slack_id="UNOBODY")
    with pytest.raises(InvalidInput, match="already Ana's account"):
        team.decide("UMAX", Decision.REASSIGN, collector_slack_id="UANA")
    assert team.row()[0].status is EscalationStatus.OPEN
    team.decide("UMAX", Decision.REASSIGN, collector_slack_id="UBEN")
    escalation, customer = team.row()
    assert customer.collector_id == team.member("UBEN")
    assert escalation.close_reason == "reassigned to Ben by Max"
    assert "from you to Ben" in team.sandbox.dms("UANA")[0]["text"]
    assert "Max gave you *Customer ACME* (ACME)" in team.sandbox.dms("UBEN")[0]["text"]


def test_snooze_sleeps_the_escalation_and_keeps_the_account_on_lists(team: Team) -> None:
    team.decide("UMAX", Decision.SNOOZE, days=14, text="CFO back on the 7th")
    escalation, customer = team.row()
    assert escalation.status is EscalationStatus.OPEN
    assert escalation.snoozed_until == date(2026, 12, 7)
    assert escalation.snooze_note == "CFO back on the 7th"
    assert customer.status is CustomerStatus.ACTIVE and team.on_list()
    assert team.audit()[-1] == "escalation.snoozed"
    message = team.updated_message()
    assert ":zzz: snoozed until 7 Dec by Max: CFO back on the 7th" in _texts(message)
    assert len(_buttons(message["blocks"])) == 6  # still decidable
    with pytest.raises(AlreadyDecided, match="Already decided by Max at 23 Nov 10:00"):
        team.decide("UHEAD", Decision.SNOOZE, days=7, text="again")
    team.decide("UHEAD", Decision.RESOLVE, text="payment plan agreed")
    assert team.row()[0].close_reason == "resolved by Hana: payment plan agreed"


@pytest.mark.parametrize(("decision", "status"), [(Decision.AGENCY, CustomerStatus.AGENCY),
                                                  (Decision.LEGAL, CustomerStatus.LEGAL)])
def test_agency_and_legal_take_the_account_off_every_list(
    team: Team, db_url: str, decision: Decision, status: CustomerStatus
) -> None:
    assert team.on_list()
    team.decide("UMAX", decision)
    escalation, customer = team.row()
    assert customer.status is status and escalation.decision == decision.value
    assert not team.on_list()
    assert "customer.status_changed" in team.audit()
    assert "It leaves your lists." in team.sandbox.dms("UANA")[0]["text"]
    # The hourly job neither reopens it nor sends anything more.
    assert "0 opened" in _job(team.db, team.sandbox, db_url, NOW + timedelta(hours=1)).summary


def test_resolve_with_a_note(team: Team) -> None:
    team.decide("UMAX", Decision.RESOLVE, text="owner <b>promised</b> in person")
    assert team.row()[0].close_reason == "resolved by Max: owner <b>promised</b> in person"
    assert "owner &lt;b&gt;promised&lt;/b&gt; in person" in _texts(team.updated_message())


@pytest.mark.parametrize("user", ["UANA", "UOLGA", "UBEN"])
def test_anyone_but_the_managers_above_and_admins_is_refused(team: Team, user: str) -> None:
    before = team.audit()
    with pytest.raises(NotAllowed, match="Only the manager of"):
        team.decide(user, Decision.AGENCY)
    with pytest.raises(NotAllowed):
        decision_form(team.db, user_id=user, action_id=views.ACTION_ESC_RESOLVE,
                      origin=views.DecisionOrigin(team.escalation), now=NOW,
                      default_tz="UTC")
    assert team.audit() == before
    assert team.row()[1].status is CustomerStatus.ACTIVE
    assert team.sandbox.calls_to("chat.update") == []


@pytest.mark.parametrize("user", ["UHEAD", "UADMIN"])
def test_the_manager_above_and_an_admin_may_decide(team: Team, user: str) -> None:
    team.decide(user, Decision.RESOLVE, text="done")
    assert team.row()[0].status is EscalationStatus.DECIDED


def test_a_double_click_decides_once_and_says_who_decided(team: Team) -> None:
    team.decide("UMAX", Decision.AGENCY)
    audit = team.audit()
    with pytest.raises(AlreadyDecided, match=r"Already decided by Max at 23 Nov 10:00: sent "
                                             "to a collection agency by Max"):
        team.decide("UHEAD", Decision.LEGAL)
    with pytest.raises(AlreadyDecided):
        team.decide("UMAX", Decision.AGENCY)
    assert team.audit() == audit
    assert team.row()[1].status is CustomerStatus.AGENCY
    assert len(team.sandbox.dms("UANA")) == 1


def test_two_clicks_at_once_decide_once(team: Team) -> None:
    results: list[str] = []

    def click(user: str, decision: Decision) -> None:
        try:
            results.append(team.decide(user, decision))
        except ServiceError as exc:
            results.append(exc.message)

    threads = [threading.Thread(target=click, args=("UMAX", Decision.AGENCY)),
               threading.Thread(target=click, args=("UHEAD", Decision.LEGAL))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum("Already decided" in r for r in results) == 1
    with team.db.uow() as uow:
        decided = uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "escalation.decided"))
    assert decided == 1


def test_the_forms_are_valid_and_read_back(team: Team) -> None:
    origin = views.DecisionOrigin(team.escalation, "D0123", "1700000000.000100")
    for action in views.FORM_ACTIONS:
        view = decision_form(team.db, user_id="UMAX", action_id=action, origin=origin, now=NOW,
                             default_tz="UTC")
        assert validate_view(view) == []
        assert views.decode_origin(view["private_metadata"]) == origin
    metadata = views.encode_origin(origin)
    errors = read_decision_form(
        team.db, callback_id=views.CALLBACK_ESC_REASSIGN_MODAL, private_metadata=metadata,
        state_values={"collector": {"collector": {"selected_user": "UOLGA"}}})
    assert errors == {"collector": "Olga is a manager, not a collector; pick an active "
                                   "collector (or Take over)."}
    assert read_decision_form(
        team.db, callback_id=views.CALLBACK_ESC_SNOOZE_MODAL, private_metadata=metadata,
        state_values={"days": {"days": {"selected_option": {"value": "9"}}}},
    ) == {"days": "Pick 7, 14 or 30 days."}
    form = read_decision_form(
        team.db, callback_id=views.CALLBACK_ESC_SNOOZE_MODAL, private_metadata=metadata,
        state_values={"days": {"days": {"selected_option": {"value": "30"}}},
                      "reason": {"reason": {"value": " waiting on the bank "}}})
    assert not isinstance(form, dict)
    assert form.request == DecisionRequest(team.escalation, Decision.SNOOZE, days=30,
                                           text="waiting on the bank")
    with pytest.raises(InvalidInput, match="out of date"):
        read_decision_form(team.db, callback_id=views.CALLBACK_ESC_RESOLVE_MODAL,
                           private_metadata="{}", state_values={})


@pytest.mark.parametrize("value", ["", "0", "-1", "1:2", "x", None, "9" * 25])
def test_malformed_button_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="malformed escalation value"):
        views.decode_escalation(value)
