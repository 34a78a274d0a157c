"""Which call-list row a click or a form acts on: the user's own list, the account on it, today.

Slack sends back the button values and modal metadata we rendered; a row is trusted only after
these checks, and a row of an earlier day's list is moved to today's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import CallList, CallListEntry, Customer, TeamMember
from bot.domain.calendar import local_date
from bot.services import roster
from bot.services.call_lists import find_list, may_work_list
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.views import actions
from bot.views.text import inline, short_date

logger = logging.getLogger(__name__)

# Modals whose submission is the row's outcome (a note or a snooze is not).
ROW_OUTCOME_MODALS = frozenset({
    actions.CALLBACK_PROMISE_MODAL, actions.CALLBACK_DISPUTE_MODAL, actions.CALLBACK_CALLBACK_MODAL
})


def require_list_worker(session: Session, call_list_id: int, user_id: str) -> CallList:
    """The list, if the user is its collector or the backup covering it."""
    roster.member_for(session, user_id)  # NotOnRoster first: that is what a stranger must hear
    call_list = session.get(CallList, call_list_id)
    if call_list is None:
        raise NotFound("That call list does not exist any more.")
    if not may_work_list(session, call_list_id, user_id):
        collector = session.get(TeamMember, call_list.collector_id)
        owner = inline(collector.name, 40) if collector is not None else "another collector"
        raise NotAllowed(f"This is {owner}'s call list; only they can record on it.")
    return call_list


def _on_list(session: Session, row: actions.RowRef) -> bool:
    return session.scalar(
        select(CallListEntry.id).where(
            CallListEntry.call_list_id == row.call_list_id,
            CallListEntry.customer_id == row.customer_id,
        )
    ) is not None


def require_row(session: Session, row: actions.RowRef, user_id: str) -> CallList:
    """The row's list, which the user may work and which has this customer on it."""
    call_list = require_list_worker(session, row.call_list_id, user_id)
    if not _on_list(session, row):
        # Slack sends back the values we rendered; any other pair was made up on the way.
        logger.warning("row %s:%s by %s refused: customer not on that list",
                       row.call_list_id, row.customer_id, user_id)
        raise InvalidInput("That account is not on this call list; open today's list again.")
    return call_list


@dataclass(frozen=True, slots=True)
class TodaysRow:
    """The row to record on: the clicked one, or the same account's row on today's list."""

    row: actions.RowRef
    # Set when the click came from another day's list: that list's date, to tell the collector.
    clicked_list_date: date | None = None

    def notice(self, today_row_date: date) -> str | None:
        if self.clicked_list_date is None:
            return None
        return (
            f"That list is from {short_date(self.clicked_list_date)}: recorded on today's list"
            f" ({short_date(today_row_date)}) instead."
        )


def todays_row(
    session: Session, row: actions.RowRef, user_id: str, *, now: datetime
) -> tuple[TodaysRow, date]:
    """Move a click on an earlier day's list to the account's row on today's list.

    A collector clicking an old DM made the call now; the outcome belongs to today's list (one
    outcome per row, counted today). When the account is not on today's list, nothing is
    recorded and the collector is told how to record it anyway.
    """
    call_list = require_row(session, row, user_id)
    today = local_date(now, ZoneInfo(call_list.timezone))
    if call_list.list_date == today:
        return TodaysRow(row), today
    current = find_list(session, call_list.collector_id, today)
    moved = actions.RowRef(current.id, row.customer_id) if current is not None else None
    if moved is None or not _on_list(session, moved):
        customer = session.get(Customer, row.customer_id)
        ref = customer.external_ref if customer is not None else "ACCOUNT"
        raise InvalidInput(
            f"That list is from {short_date(call_list.list_date)} and this account is not on"
            f" today's list, so nothing was recorded. To log a call anyway: "
            f"/collect log {ref} OUTCOME."
        )
    require_list_worker(session, moved.call_list_id, user_id)
    return TodaysRow(moved, call_list.list_date), today
