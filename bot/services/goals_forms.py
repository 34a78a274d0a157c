"""The manager's forms behind `/collect goals`: open one, check a submission, save it.

Managers and admins only. A submission is checked before Slack is answered (field errors show
only from the ack) by the rules `collectbot objective` uses; a valid one is saved in one unit of
work, audited, committed, and then the goals message and the App Homes are refreshed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import AuditEvent, Objective, TeamMember
from bot.domain.calendar import local_date
from bot.domain.objectives import check_goals
from bot.services import roster
from bot.services.call_targets import check_call_targets, set_call_targets, target_team
from bot.services.errors import InvalidInput
from bot.services.metrics import MetricsConfig
from bot.services.objectives import (
    ObjectiveError,
    add_objective,
    check_edit,
    check_objective,
    close_objective,
    edit_objective,
    open_objective,
    set_goals,
    target_text,
)
from bot.services.refresh import GoalsReply, refresh_after_change
from bot.slack.client import SlackGateway
from bot.views import goals, goals_modals
from bot.views.goals_modals import (
    AddObjectiveInput,
    CallTargetsInput,
    EditObjectiveInput,
    GoalsInput,
    GoalsMetadata,
)
from bot.views.modals import Errors
from bot.views.text import inline

STALE_FORM = "That form is out of date; open it again from `/collect goals`."
Details = AddObjectiveInput | EditObjectiveInput | GoalsInput | CallTargetsInput


@dataclass(frozen=True, slots=True)
class GoalsSubmission:
    """A checked goals form, ready to be saved after the ack."""

    callback_id: str
    metadata: GoalsMetadata
    details: Details


def _manager(session: Session, user_id: str) -> TeamMember:
    member = roster.member_for(session, user_id)
    roster.require_manager(member)
    return member


def _form(objective: Objective) -> goals_modals.ObjectiveForm:
    return goals_modals.ObjectiveForm(
        objective.id, objective.name, objective.metric, target_text(objective), objective.start,
        objective.end, objective.note, objective.goals)


def _objective_id(metadata: GoalsMetadata) -> int:
    if metadata.objective_id is None:
        raise InvalidInput(STALE_FORM)
    return metadata.objective_id


def goals_form(database: Database, *, user_id: str, action_id: str, objective_id: int | None,
               response_url: str | None, now: datetime, config: MetricsConfig
               ) -> dict[str, Any]:
    """The modal a manager's button on `/collect goals` opens; NotAllowed for anyone else."""
    metadata = GoalsMetadata(objective_id, response_url)
    with database.uow() as uow:
        session = uow.session
        member = _manager(session, user_id)
        if action_id == goals.ADD_OBJECTIVE:
            return goals_modals.add_objective_modal(
                metadata, today=local_date(now, config.zone),
                spend_cap_available=config.collector_day_cost is not None)
        if action_id == goals.EDIT_CALL_TARGETS:
            collectors = [goals_modals.CollectorTarget(m.id, m.name, m.daily_call_target)
                          for m in target_team(session, member)]
            return goals_modals.call_targets_modal(metadata, collectors)
        form = _form(open_objective(session, _objective_id(metadata)))
    if action_id == goals.EDIT_GOALS:
        return goals_modals.goals_modal(metadata, form)
    return goals_modals.edit_objective_modal(metadata, form)


def _field_error(exc: ObjectiveError, fallback: str) -> Errors:
    return {goals_modals.FIELD_BLOCKS.get(exc.field or "", fallback): exc.message}


def _check_add(state_values: Mapping[str, Any], *, today: date, config: MetricsConfig
               ) -> Details | Errors:
    added = goals_modals.read_add_objective(state_values)
    if isinstance(added, dict):
        return added
    try:
        check_objective(metric=added.metric, target=added.target, start=added.start,
                        end=added.end, today=today, config=config)
    except ObjectiveError as exc:
        return _field_error(exc, goals_modals.TARGET)
    return added


def _check_edit(objective: Objective, state_values: Mapping[str, Any], *, today: date
                ) -> Details | Errors:
    edited = goals_modals.read_edit_objective(state_values)
    if isinstance(edited, dict) or edited.close:
        return edited
    try:
        check_edit(objective, target=edited.target, end=edited.end, today=today)
    except ObjectiveError as exc:
        return _field_error(exc, goals_modals.TARGET)
    return edited


def _check_goals(state_values: Mapping[str, Any]) -> Details | Errors:
    written = goals_modals.read_goals(state_values)
    try:
        check_goals(written.text)
    except ValueError as exc:
        return {goals_modals.GOALS: f"{str(exc)[:1].upper()}{str(exc)[1:]}."}
    return written


def _check(session: Session, member: TeamMember, callback_id: str, metadata: GoalsMetadata,
           state_values: Mapping[str, Any], *, now: datetime, config: MetricsConfig
           ) -> Details | Errors:
    today = local_date(now, config.zone)
    if callback_id == goals_modals.CALLBACK_ADD_OBJECTIVE:
        return _check_add(state_values, today=today, config=config)
    if callback_id == goals_modals.CALLBACK_CALL_TARGETS:
        targets = goals_modals.read_call_targets(state_values)
        _, problems = check_call_targets(target_team(session, member), targets.texts)
        if problems:
            return {goals_modals.call_target_block(m): p for m, p in problems.items()}
        return targets
    objective = open_objective(session, _objective_id(metadata))
    if callback_id == goals_modals.CALLBACK_GOALS:
        return _check_goals(state_values)
    return _check_edit(objective, state_values, today=today)


def read_goals_submission(database: Database, *, user_id: str, callback_id: str,
                          private_metadata: object, state_values: Mapping[str, Any],
                          now: datetime, config: MetricsConfig) -> GoalsSubmission | Errors:
    """Authorize and check a submitted goals form; field errors if any input is wrong.

    Reads only: it runs before the ack. NotAllowed/NotOnRoster/ObjectiveError for a refusal.
    """
    if callback_id not in goals_modals.CALLBACK_IDS:
        raise InvalidInput(STALE_FORM)
    try:
        metadata = goals_modals.decode_goals_metadata(private_metadata)
    except ValueError:
        raise InvalidInput(STALE_FORM) from None
    with database.uow() as uow:
        member = _manager(uow.session, user_id)
        details = _check(uow.session, member, callback_id, metadata, state_values, now=now,
                         config=config)
    if isinstance(details, dict):
        return details
    return GoalsSubmission(callback_id, metadata, details)


def _already_added(session: Session, user_id: str, view_id: str, now: datetime) -> int | None:
    """The objective this very form already added (Slack may deliver a submission twice)."""
    recent = session.scalars(select(AuditEvent).where(
        AuditEvent.actor == user_id, AuditEvent.action == "objective.add",
        AuditEvent.at >= now - timedelta(days=1)))
    for event in recent:
        if (event.detail or {}).get("view") == view_id and event.entity_id:
            return int(event.entity_id)
    return None


@dataclass(frozen=True, slots=True)
class Saved:
    """What a saved form says, the audit events to record, and the Homes it changed."""

    confirmation: str
    events: list[tuple[str, str, object, dict[str, Any]]] = field(default_factory=list)
    homes: tuple[str, ...] = ()


def _save_add(session: Session, user_id: str, details: AddObjectiveInput, *, view_id: str,
              now: datetime, config: MetricsConfig) -> Saved:
    done = _already_added(session, user_id, view_id, now)
    if done is not None:
        return Saved(f"Objective #{done} added.")
    objective = add_objective(
        session, metric=details.metric, target=details.target, start=details.start,
        end=details.end, today=local_date(now, config.zone), config=config, name=details.name,
        note=details.note, actor=user_id)
    return Saved(f"Objective #{objective.id} added: {inline(objective.name, 200)}.", [(
        "objective.add", "objective", objective.id,
        {"metric": details.metric, "target": details.target, "view": view_id})])


def _save_targets(session: Session, member: TeamMember, details: CallTargetsInput) -> Saved:
    changes = set_call_targets(session, member, details.texts)
    if not changes:
        return Saved("No call target changed.")
    return Saved(
        f"Call targets saved: {', '.join(f'{inline(c.name, 40)} {c.after}' for c in changes)}.",
        [("member.call_target", "team_member", c.member_id,
          {"before": c.before, "after": c.after}) for c in changes],
        tuple(c.slack_user_id for c in changes))


def _save_objective(session: Session, objective_id: int,
                    details: EditObjectiveInput | GoalsInput, *, now: datetime,
                    config: MetricsConfig) -> Saved:
    if isinstance(details, GoalsInput):
        objective = set_goals(session, objective_id, details.text, is_manager=True)
        return Saved(f"Goals saved for objective #{objective.id}.", [
            ("objective.goals", "objective", objective.id, {"goals": objective.goals})])
    if details.close:
        objective = close_objective(session, objective_id, now=now)
        return Saved(f"Objective #{objective.id} closed.", [
            ("objective.close", "objective", objective.id, {})])
    objective = edit_objective(session, objective_id, target=details.target, end=details.end,
                               note=details.note, today=local_date(now, config.zone))
    return Saved(f"Objective #{objective.id} saved.", [(
        "objective.edit", "objective", objective.id,
        {"target": details.target, "end": details.end.isoformat(), "note": details.note})])


def _save(session: Session, member: TeamMember, submission: GoalsSubmission, *, view_id: str,
          now: datetime, config: MetricsConfig) -> Saved:
    """Apply the submission (nothing committed here)."""
    details = submission.details
    if isinstance(details, AddObjectiveInput):
        return _save_add(session, member.slack_user_id, details, view_id=view_id, now=now,
                         config=config)
    if isinstance(details, CallTargetsInput):
        return _save_targets(session, member, details)
    return _save_objective(session, _objective_id(submission.metadata), details, now=now,
                           config=config)


def save_goals_submission(database: Database, gateway: SlackGateway,
                          submission: GoalsSubmission, *, user_id: str, view_id: str,
                          now: datetime, config: MetricsConfig, default_tz: str) -> str:
    """Save a checked form in one unit of work (audited), commit, refresh; a line to confirm."""
    with database.uow() as uow:
        member = _manager(uow.session, user_id)
        saved = _save(uow.session, member, submission, view_id=view_id, now=now,
                      config=config)
        for action, entity, entity_id, detail in saved.events:
            uow.audit(user_id, action, entity, entity_id, **detail)
        uow.commit()
    url = submission.metadata.response_url
    refresh_after_change(
        database, gateway, now=now, default_tz=default_tz, actor_slack_id=user_id,
        homes=saved.homes, objectives_changed=True, metrics=config,
        goals_reply=None if url is None else GoalsReply(user_id, url))
    return saved.confirmation
