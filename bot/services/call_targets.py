"""Each collector's daily call target, as a manager or an admin sets it from Slack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.db.models import TeamMember
from bot.domain.call_targets import parse_call_target
from bot.domain.vocabulary import Role
from bot.services.errors import NotAllowed
from bot.services.roster import require_manager, team_of


@dataclass(frozen=True, slots=True)
class CallTargetChange:
    member_id: int
    slack_user_id: str
    name: str
    before: int
    after: int


def target_team(session: Session, actor: TeamMember) -> list[TeamMember]:
    """The collectors whose targets the actor sets: their reports (every one for an admin)."""
    require_manager(actor)
    return team_of(session, actor)


def check_call_targets(team: list[TeamMember], texts: Mapping[int, str]
                       ) -> tuple[dict[int, int], dict[int, str]]:
    """New targets by member id from the form's texts, and a problem by member id. A blank
    keeps the target; a member not in `team` is refused."""
    by_id = {m.id: m for m in team}
    targets: dict[int, int] = {}
    problems: dict[int, str] = {}
    for member_id, text in texts.items():
        member = by_id.get(member_id)
        if member is None:
            problems[member_id] = "Not on your team any more; open the form again."
            continue
        try:
            calls = parse_call_target(text, collector=member.role is Role.COLLECTOR)
        except ValueError as exc:
            problems[member_id] = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
            continue
        if calls is not None:
            targets[member_id] = calls
    return targets, problems


def set_call_targets(session: Session, actor: TeamMember, texts: Mapping[int, str]
                     ) -> list[CallTargetChange]:
    """Check and apply the form's targets to the actor's team; the targets that changed."""
    team = target_team(session, actor)
    targets, problems = check_call_targets(team, texts)
    if problems:
        raise NotAllowed(next(iter(problems.values())))
    by_id = {m.id: m for m in team}
    changes = []
    for member_id, calls in sorted(targets.items()):
        member = by_id[member_id]
        if member.daily_call_target != calls:
            changes.append(CallTargetChange(member.id, member.slack_user_id, member.name,
                                            member.daily_call_target, calls))
            member.daily_call_target = calls
    return changes
