"""A manager's decisions on an escalation: what each one is, who may make it, and its words.

Plain data only: the roster as a mapping of each member to their manager, ids and names.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date

from bot.domain.vocabulary import CustomerStatus, Role

SNOOZE_DAYS = (7, 14, 30)
NOTE_CHARS = 500
# How far up the roster "the managers above" reach (a loop in the roster stops here too).
MAX_CHAIN = 20


class Decision(enum.StrEnum):
    REASSIGN = "reassign"
    TAKE_OVER = "take_over"
    SNOOZE = "snooze"
    AGENCY = "agency"
    LEGAL = "legal"
    RESOLVE = "resolve"


# The account's status after a decision that hands it outside the team.
HANDED_OUT: Mapping[Decision, CustomerStatus] = {
    Decision.AGENCY: CustomerStatus.AGENCY,
    Decision.LEGAL: CustomerStatus.LEGAL,
}
# Accounts that are on nobody's call list.
OFF_LISTS = frozenset({CustomerStatus.AGENCY, CustomerStatus.LEGAL, CustomerStatus.CLOSED})


@dataclass(frozen=True, slots=True)
class Decider:
    """Who clicked, as the roster knows them."""

    member_id: int
    role: Role


def managers_above(collector_id: int | None, manager_of: Mapping[int, int | None]) -> list[int]:
    """The collector's manager, that manager's manager, and so on up (no loops, at most
    MAX_CHAIN)."""
    chain: list[int] = []
    current = manager_of.get(collector_id) if collector_id is not None else None
    while current is not None and current not in chain and len(chain) < MAX_CHAIN:
        chain.append(current)
        current = manager_of.get(current)
    return chain


def may_decide(
    decider: Decider, collector_id: int | None, manager_of: Mapping[int, int | None],
    holders: Set[int] = frozenset(),
) -> bool:
    """Admins; whoever the escalation went to on its way up (`holders`: a head too); the
    managers above the account's collector; a manager on their own account (one they took
    over); any manager when nobody holds the account."""
    if decider.role is Role.ADMIN or decider.member_id in holders:
        return True
    if decider.role is not Role.MANAGER:
        return False
    if collector_id is None or collector_id == decider.member_id:
        return True
    return decider.member_id in managers_above(collector_id, manager_of)


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def decision_words(  # noqa: PLR0911 (one sentence per decision)
    decision: Decision,
    *,
    by: str,
    collector: str | None = None,
    until: date | None = None,
    text: str | None = None,
) -> str:
    """The decision as the manager's message and the audit log say it."""
    if decision is Decision.REASSIGN:
        return f"reassigned to {collector} by {by}"
    if decision is Decision.TAKE_OVER:
        return f"taken over by {by}"
    if decision is Decision.SNOOZE:
        when = _day(until) if until else "later"
        return f"snoozed until {when} by {by}" + (f": {text}" if text else "")
    if decision is Decision.AGENCY:
        return f"sent to a collection agency by {by}"
    if decision is Decision.LEGAL:
        return f"approved for legal by {by}"
    return f"resolved by {by}" + (f": {text}" if text else "")
