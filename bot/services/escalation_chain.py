"""Who is above whom for escalations: the roster's active managers and heads, read once."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import TeamMember
from bot.domain.escalation_levels import holder_above
from bot.domain.vocabulary import EscalateAbove, Role


@dataclass(frozen=True)
class Chain:
    """The active members by id, each one's active manager, and the active heads by id."""

    members: dict[int, TeamMember]
    manager_of: dict[int, int | None]
    heads: list[int]

    def above(self, holder_id: int | None, *, held: Set[int],
              mode: EscalateAbove) -> TeamMember | None:
        """The next holder after `holder_id` (None: the managers channel), or None: the last."""
        found = holder_above(holder_id, manager_of=self.manager_of, heads=self.heads,
                             held=held, above=mode)
        return None if found is None else self.members[found]


def load_chain(session: Session) -> Chain:
    """The roster as escalations climb it (inactive members hold nothing)."""
    members = {m.id: m for m in session.scalars(
        select(TeamMember).where(TeamMember.active.is_(True)).order_by(TeamMember.id))}
    manager_of = {m.id: m.manager_id if m.manager_id in members else None
                  for m in members.values()}
    heads = [m.id for m in members.values() if m.role is Role.HEAD]
    return Chain(members, manager_of, heads)
