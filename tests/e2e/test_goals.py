"""`/collect goals`' manager forms over signed HTTP: open, field errors in the ack, save, audit,
refresh; a collector refused; a call target that sizes the next morning's list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.db.models import AuditEvent, CallList, CallListEntry, Objective
from bot.services.morning import run_call_lists
from bot.views import goals, goals_modals
from tests.e2e.conftest import ANA, E2E, MANAGER, START
from tests.slack_fixtures import fast_gateway


def _goals_message(e2e: E2E, user: str) -> dict[str, Any]:
    reply, url = e2e.sender.command(user, "goals")
    assert reply.status == 200
    e2e.settle()
    [answer] = e2e.sandbox.responses(url)
    return answer


def _click(e2e: E2E, user: str, action_id: str, answer: dict[str, Any], value: str = "") -> str:
    """Click a button on the ephemeral goals message; returns that message's response_url."""
    action = {"type": "button", "action_id": action_id, "value": value}
    channel = e2e.sandbox.dm_channel(user) or "D0NONE"  # /collect typed in the bot's DM
    payload = e2e.sender.action_payload(user, action, message={"ts": "1.000001", **answer},
                                        channel=channel)
    payload["container"]["is_ephemeral"] = True
    assert e2e.sender.interaction(payload).status == 200
    e2e.settle()
    return str(payload["response_url"])


def _values(target: str) -> dict[str, Any]:
    return {
        goals_modals.METRIC: {goals_modals.METRIC: {"selected_option": {"value": "dso"}}},
        goals_modals.TARGET: {goals_modals.TARGET: {"type": "plain_text_input",
                                                    "value": target}},
        goals_modals.START: {goals_modals.START: {"selected_date": "2026-03-01"}},
        goals_modals.END: {goals_modals.END: {"selected_date": "2026-06-30"}},
        goals_modals.NOTE: {goals_modals.NOTE: {"value": "Q2 <push>"}},
    }


def _objectives(e2e: E2E) -> list[Objective]:
    with e2e.database.uow() as uow:
        return list(uow.session.scalars(select(Objective)))


def test_manager_adds_an_objective_from_collect_goals(e2e: E2E) -> None:
    answer = _goals_message(e2e, MANAGER)
    assert goals.ADD_OBJECTIVE in repr(answer["blocks"])
    response_url = _click(e2e, MANAGER, goals.ADD_OBJECTIVE, answer)
    [modal] = e2e.sandbox.modals()
    assert modal["callback_id"] == goals_modals.CALLBACK_ADD_OBJECTIVE
    audits = e2e.audit_count()

    bad = e2e.sender.submit(MANAGER, modal, _values("lots"))
    assert bad.status == 200
    assert bad.json() == {"response_action": "errors", "errors": {
        goals_modals.TARGET: "not a target: 'lots' (e.g. -5% for a change, or 45 for a value)"}}
    e2e.settle()
    assert _objectives(e2e) == [] and e2e.audit_count() == audits

    for _ in range(2):  # Slack may deliver a submission twice: one objective
        good = e2e.sender.submit(MANAGER, modal, _values("-5%"))
        assert good.status == 200 and good.body == b""
        e2e.settle()
    [objective] = _objectives(e2e)
    assert (objective.metric, objective.target_change_pct, objective.created_by) == \
        ("dso", -5, MANAGER)
    assert objective.note == "Q2 <push>" and objective.baseline is not None
    with e2e.database.uow() as uow:
        [event] = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "objective.add"))
        assert (event.actor, event.entity_id) == (MANAGER, str(objective.id))
    # The goals message the click came from is re-rendered in place, with the new objective.
    refreshed = e2e.sandbox.responses(response_url)[-1]
    assert refreshed["replace_original"] is True
    assert "DSO -5%" in repr(refreshed["blocks"])
    assert any(f"Objective #{objective.id} added" in m["text"]
               for m in e2e.sandbox.ephemerals(MANAGER))
    # The manager's App Home shows the activity plan for it.
    home = e2e.sandbox.home_view(MANAGER)
    assert home is not None and "Activity plan" in repr(home["blocks"])
    assert "needed" in repr(home["blocks"]) and "planned 30" in repr(home["blocks"])


def test_a_collectors_click_is_refused_and_changes_nothing(e2e: E2E) -> None:
    answer = _goals_message(e2e, MANAGER)  # a forwarded manager's message, say
    audits = e2e.audit_count()
    _click(e2e, ANA, goals.EDIT_CALL_TARGETS, answer)
    assert e2e.sandbox.modals() == []
    assert any(m["text"] == "That is for managers and admins."
               for m in e2e.sandbox.ephemerals(ANA))
    assert e2e.audit_count() == audits


def test_a_call_target_sizes_the_next_morning_list(e2e: E2E) -> None:
    assert len(e2e.entries(ANA)) == 4  # her four accounts, under her target of 10
    answer = _goals_message(e2e, MANAGER)
    _click(e2e, MANAGER, goals.EDIT_CALL_TARGETS, answer)
    [modal] = e2e.sandbox.modals()
    block = f"call_target_{e2e.members[ANA]}"
    values = {block: {block: {"type": "number_input", "value": "2"}}}
    assert e2e.sender.submit(MANAGER, modal, values).body == b""
    e2e.settle()
    with e2e.database.uow() as uow:
        [event] = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "member.call_target"))
        assert event.detail == {"before": 10, "after": 2}
    tomorrow = START + timedelta(days=1)
    run_call_lists(e2e.database, fast_gateway(e2e.sandbox.url), e2e.settings, now=tomorrow)
    with e2e.database.uow() as uow:
        newest = uow.session.scalars(select(CallList).where(
            CallList.collector_id == e2e.members[ANA]).order_by(CallList.id.desc())).first()
        assert newest is not None and newest.list_date == tomorrow.date()
        size = uow.session.scalar(select(func.count()).select_from(CallListEntry).where(
            CallListEntry.call_list_id == newest.id))
    assert size == 2
