"""The goals forms: pure modal builders and readers, and the service that checks and saves them
(authorization, field errors, one audited unit of work) on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import AuditEvent, Objective, TeamMember
from bot.domain.call_targets import parse_call_target
from bot.domain.objectives import check_goals
from bot.services.errors import NotAllowed, NotOnRoster
from bot.services.goals_forms import GoalsSubmission, goals_form, read_goals_submission
from bot.services.metrics import MetricsConfig
from bot.services.objectives import add_objective, target_text
from bot.slack.blockkit import validate_view
from bot.views import goals, goals_modals
from bot.views.goals_modals import (
    AddObjectiveInput,
    CollectorTarget,
    GoalsMetadata,
    ObjectiveForm,
    decode_goals_metadata,
    encode_goals_metadata,
)
from tests.service_seed import seed

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
CONFIG = MetricsConfig(zone=ZoneInfo("UTC"))
META = GoalsMetadata(7, "https://hooks.example/r/1")
FORM = ObjectiveForm(7, "Cut DSO *now* <here>", "dso", "-5%", date(2026, 11, 1),
                     date(2027, 1, 31), "Q1 push", "More calls on 61-90\nStatements to 91+")


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _date(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def _add_values(target: str = "-5%", metric: str = "dso", end: str | None = "2027-02-28"
                ) -> dict[str, Any]:
    return {
        goals_modals.METRIC: {goals_modals.METRIC: {"selected_option": {"value": metric}}},
        goals_modals.TARGET: {goals_modals.TARGET: _text(target)},
        goals_modals.START: {goals_modals.START: _date("2026-12-01")},
        goals_modals.END: {goals_modals.END: _date(end)},
    }


# -- pure builders and readers ------------------------------------------------------------------


def test_every_modal_is_valid_block_kit() -> None:
    views = [
        goals_modals.add_objective_modal(META, today=TODAY, spend_cap_available=True),
        goals_modals.add_objective_modal(GoalsMetadata(), today=TODAY, spend_cap_available=False),
        goals_modals.edit_objective_modal(META, FORM),
        goals_modals.goals_modal(META, FORM),
        goals_modals.call_targets_modal(META, [CollectorTarget(i, f"C {i}", 25)
                                               for i in range(1, 150)]),
        goals_modals.call_targets_modal(META, []),
    ]
    for view in views:
        assert validate_view(view) == [], view["callback_id"]
        assert view["callback_id"] in goals_modals.CALLBACK_IDS
        assert decode_goals_metadata(view["private_metadata"]) in (META, GoalsMetadata())
    assert len(views[4]["blocks"]) <= 100


def test_spend_cap_offered_only_when_a_collector_day_has_a_cost() -> None:
    with_cap = goals_modals.add_objective_modal(META, today=TODAY, spend_cap_available=True)
    without = goals_modals.add_objective_modal(META, today=TODAY, spend_cap_available=False)
    assert "cost_of_collecting" in repr(with_cap["blocks"][0])
    assert "cost_of_collecting" not in repr(without["blocks"][0])


def test_edit_forms_start_from_the_stored_values() -> None:
    edit = goals_modals.edit_objective_modal(META, FORM)
    assert edit["blocks"][1]["element"]["initial_value"] == "-5%"
    assert edit["blocks"][2]["element"]["initial_date"] == "2027-01-31"
    assert goals_modals.goals_modal(META, FORM)["blocks"][1]["element"]["initial_value"] == \
        "More calls on 61-90\nStatements to 91+"


@pytest.mark.parametrize("raw", ["", "x", "[]", '{"o": "7"}', '{"o": 0}', '{"z": 1}',
                                 '{"r": "javascript:x"}'])
def test_foreign_metadata_is_refused(raw: str) -> None:
    if raw == "":
        assert decode_goals_metadata(raw) == GoalsMetadata()
        return
    with pytest.raises(ValueError):
        decode_goals_metadata(raw)


def test_readers_name_each_missing_input() -> None:
    assert goals_modals.read_add_objective({}) == {
        goals_modals.METRIC: "Pick a metric.",
        goals_modals.TARGET: "Enter a target: -5% for a change from the baseline, or a value.",
        goals_modals.START: "Pick the first day.", goals_modals.END: "Pick the last day."}
    assert goals_modals.read_add_objective(_add_values()) == AddObjectiveInput(
        "dso", "-5%", date(2026, 12, 1), date(2027, 2, 28), None, None)
    closing = goals_modals.read_edit_objective({
        goals_modals.END: {goals_modals.END: _date("2027-01-31")},
        goals_modals.CLOSE: {goals_modals.CLOSE: {"selected_options": [{"value": "close"}]}}})
    assert not isinstance(closing, dict) and closing.close
    targets = goals_modals.read_call_targets({"call_target_4": {"call_target_4": _text(" 30 ")},
                                              "call_target_x": {}, "other": {}})
    assert targets.texts == {4: "30"}
    assert encode_goals_metadata(META) == '{"o":7,"r":"https://hooks.example/r/1"}'


def test_call_target_rule_matches_the_roster_import() -> None:
    assert parse_call_target("", collector=True) is None
    assert parse_call_target("500", collector=True) == 500
    assert parse_call_target("0", collector=False) == 0
    for bad in ("0", "501", "-3", "2.5", "ten"):
        with pytest.raises(ValueError):
            parse_call_target(bad, collector=True)


def test_goals_are_short_lines() -> None:
    assert check_goals("  a  b \n\n c ") == "a b\nc"
    with pytest.raises(ValueError, match="at most 10 goals"):
        check_goals("\n".join("g" for _ in range(11)))
    with pytest.raises(ValueError, match="goal 2 is 151 characters"):
        check_goals("ok\n" + "x" * 151)


def test_app_home_plan_section_shows_needed_planned_made() -> None:
    from tests.test_views_goals import _progress

    blocks = goals.plan_section([_progress()])
    text = repr(blocks)
    assert "needed *7* · planned 35 · made 3.0" in text
    assert "&lt;5%&gt;" in text
    assert goals.plan_section([]) == []


# -- the service, on both engines ---------------------------------------------------------------


NO_METADATA = GoalsMetadata()


def _read(db: Database, user: str, callback_id: str, values: dict[str, Any],
          metadata: GoalsMetadata = NO_METADATA) -> GoalsSubmission | dict[str, str]:
    return read_goals_submission(db, user_id=user, callback_id=callback_id,
                                 private_metadata=encode_goals_metadata(metadata),
                                 state_values=values, now=NOW, config=CONFIG)


def test_only_managers_and_admins_open_or_submit(db: Database) -> None:
    seed(db)
    for user in ("UMGR", "UADMIN"):
        view = goals_form(db, user_id=user, action_id=goals.ADD_OBJECTIVE, objective_id=None,
                          response_url=None, now=NOW, config=CONFIG)
        assert view["callback_id"] == goals_modals.CALLBACK_ADD_OBJECTIVE
    with pytest.raises(NotAllowed):
        goals_form(db, user_id="UALICE", action_id=goals.EDIT_CALL_TARGETS, objective_id=None,
                   response_url=None, now=NOW, config=CONFIG)
    with pytest.raises(NotOnRoster):
        goals_form(db, user_id="UNOBODY", action_id=goals.ADD_OBJECTIVE, objective_id=None,
                   response_url=None, now=NOW, config=CONFIG)
    with pytest.raises(NotAllowed):
        _read(db, "UALICE", goals_modals.CALLBACK_ADD_OBJECTIVE, _add_values())


@pytest.mark.parametrize(("values", "field", "message"), [
    (_add_values(target="lots"), goals_modals.TARGET, "not a target: 'lots'"),
    (_add_values(target="-5%", metric="cash_collected"), goals_modals.TARGET,
     "cash_collected is summed from the start date"),
    (_add_values(end="2026-11-30"), goals_modals.END, "is before the start"),
    (_add_values(target="60000", metric="cost_of_collecting"), goals_modals.METRIC,
     "a spend cap needs COLLECTBOT_COLLECTOR_DAY_COST"),
])
def test_bad_objective_comes_back_under_its_field(db: Database, values: dict[str, Any],
                                                  field: str, message: str) -> None:
    seed(db)
    errors = _read(db, "UMGR", goals_modals.CALLBACK_ADD_OBJECTIVE, values)
    assert isinstance(errors, dict) and list(errors) == [field]
    assert message in errors[field]


def test_call_targets_a_manager_sets_only_for_their_team(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        ids = {m.slack_user_id: m.id for m in uow.session.scalars(select(TeamMember))}
    view = goals_form(db, user_id="UMGR", action_id=goals.EDIT_CALL_TARGETS, objective_id=None,
                      response_url=None, now=NOW, config=CONFIG)
    listed = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert listed == {f"call_target_{ids['UALICE']}", f"call_target_{ids['UBOB']}"}

    def values(**texts: str) -> dict[str, Any]:
        return {f"call_target_{ids[k]}": {f"call_target_{ids[k]}": _text(v)}
                for k, v in texts.items()}

    errors = _read(db, "UMGR", goals_modals.CALLBACK_CALL_TARGETS,
                   values(UALICE="0", UBOB="501", UCAROL="20"))
    assert errors == {
        f"call_target_{ids['UALICE']}": "A collector needs at least 1 call a day; to take "
                                        "them off the lists, mark them out of office or inactive.",
        f"call_target_{ids['UBOB']}": "At most 500 calls a day.",
        f"call_target_{ids['UCAROL']}": "Not on your team any more; open the form again."}
    ok = _read(db, "UADMIN", goals_modals.CALLBACK_CALL_TARGETS, values(UCAROL="20", UBOB=""))
    assert isinstance(ok, GoalsSubmission)


def test_edit_goals_and_close_check_the_stored_objective(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        objective = add_objective(uow.session, metric="dso", target="-5%",
                                  start=date(2026, 11, 1), end=date(2027, 1, 31), today=TODAY,
                                  config=CONFIG)
        uow.commit()
        objective_id = objective.id
        assert target_text(objective) == "-5%"
    meta = GoalsMetadata(objective_id)
    view = goals_form(db, user_id="UMGR", action_id=goals.EDIT_OBJECTIVE,
                      objective_id=objective_id, response_url=None, now=NOW, config=CONFIG)
    assert validate_view(view) == []
    bad = _read(db, "UMGR", goals_modals.CALLBACK_EDIT_OBJECTIVE, {
        goals_modals.TARGET: {goals_modals.TARGET: _text("-100%")},
        goals_modals.END: {goals_modals.END: _date("2026-11-20")}}, meta)
    assert bad == {goals_modals.TARGET: "a change of -100% leaves nothing: use more than -100%"}
    past = _read(db, "UMGR", goals_modals.CALLBACK_EDIT_OBJECTIVE, {
        goals_modals.TARGET: {goals_modals.TARGET: _text("45")},
        goals_modals.END: {goals_modals.END: _date("2026-11-20")}}, meta)
    assert past == {goals_modals.END: "the end (2026-11-20) has passed"}
    long_goals = _read(db, "UMGR", goals_modals.CALLBACK_GOALS,
                       {goals_modals.GOALS: {goals_modals.GOALS: _text("y" * 160)}}, meta)
    assert long_goals == {goals_modals.GOALS: "Goal 1 is 160 characters; keep each under 151."}
    with db.uow() as uow:
        stored = uow.session.get(Objective, objective_id)
        assert stored is not None and stored.target_change_pct == Decimal("-5")
        assert stored.goals is None
        assert uow.session.scalars(select(AuditEvent)).first() is None
