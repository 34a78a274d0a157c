"""`/collect goals`: the Block Kit of the objectives, for a collector and for a manager."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.db import Database
from bot.domain.objectives import ActivityPlan, ObjectiveProgress
from bot.services.metrics import MetricsConfig
from bot.services.objectives import add_objective, goals_message
from bot.slack.blockkit import validate_message
from bot.views.goals import ADD_OBJECTIVE, EDIT_GOALS, goals_blocks
from tests.service_seed import seed

D = Decimal


def _progress(name: str = "Cut DSO <5%> & more") -> ObjectiveProgress:
    plan = ActivityPlan(money_needed=D(3000), cash_per_call=D(60), learned=True,
                        working_days_left=8, needed=7, planned=35, made=D(3))
    return ObjectiveProgress(
        objective_id=4, name=name, metric="dso", start=date(2026, 6, 1), end=date(2026, 7, 10),
        goals="More calls on 61-90 *now*", baseline=D(93), now=D(90), target=D("88.35"),
        projected=D(85), fraction=D("0.6"), status="on track", plan=plan, closed=False)


def _texts(blocks: list[dict[str, object]]) -> str:
    return repr(blocks)


def test_collector_sees_progress_and_plan_without_buttons() -> None:
    blocks = goals_blocks([_progress()], is_manager=False)
    assert validate_message("goals", blocks) == []
    text = _texts(blocks)
    assert "93.0 days → *90.0 days* → 88.4 days" in text
    assert "▓▓▓▓▓▓▓▓▓░░░░░░░  60%" in text
    assert "needed *7* · planned 35 · made 3.0" in text
    # 88.35 and 88.25 round half up, as the recap rounds them (half-even would show 88.2).
    halfway = goals_blocks([replace(_progress(), target=D("88.25"))], is_manager=False)
    assert "→ 88.3 days" in _texts(halfway)
    assert "&lt;5%&gt; &amp; more" in text  # ledger text is escaped
    assert "button" not in text


def test_manager_gets_the_edit_buttons() -> None:
    blocks = goals_blocks([_progress()], is_manager=True)
    assert validate_message("goals", blocks) == []
    actions = [e["action_id"] for b in blocks if b["type"] == "actions"
               for e in b["elements"]]  # type: ignore[index, union-attr]
    assert actions == [EDIT_GOALS, ADD_OBJECTIVE, "goals_edit_call_targets"]
    assert validate_message("goals", goals_blocks([], is_manager=True)) == []


def test_goals_message_for_roles(db: Database) -> None:
    seed(db)
    config = MetricsConfig(zone=ZoneInfo("UTC"))
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    with db.uow() as uow:
        add_objective(uow.session, metric="dso", target="-5%", start=date(2026, 11, 1),
                      end=date(2027, 1, 31), today=now.date(), config=config)
        uow.commit()
        collector = goals_message(uow.session, "UALICE", now=now, config=config)
        manager = goals_message(uow.session, "UMGR", now=now, config=config)
    assert validate_message(collector.text, collector.blocks) == []
    assert "button" not in repr(collector.blocks)
    assert ADD_OBJECTIVE in repr(manager.blocks)
    assert collector.text.startswith("DSO -5%:")


def test_collect_goals_through_the_command_parser(db: Database) -> None:
    from handlers.commands.collect import run_collect

    seed(db)
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    empty = run_collect(db, user_id="UALICE", text="goals", now=now, default_tz="UTC")
    assert empty.text == "No objectives yet."
    manager = run_collect(db, user_id="UMGR", text="goals", now=now, default_tz="UTC",
                          metrics=MetricsConfig(zone=ZoneInfo("UTC")))
    assert manager.blocks and ADD_OBJECTIVE in repr(manager.blocks)
    assert "goals" in run_collect(db, user_id="UALICE", text="help", now=now,
                                  default_tz="UTC").text
    stranger = run_collect(db, user_id="UNOBODY", text="goals", now=now, default_tz="UTC")
    assert "not on the collections roster" in stranger.text
