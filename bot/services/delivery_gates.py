"""The paces every sender shares, kept in `slack_gates` rows so that several senders (threads or
processes) keep them together: one channel's messages one at a time and a second apart, the
workspace's cap, and a method's wait after a 429.

A channel's gate is *held* while one sender posts there (its `next_at` pushed a lease ahead), so
two senders never post to one channel at once; it opens `channel_interval` after the last answer.
Gates are locked with SKIP LOCKED on PostgreSQL (a busy gate is skipped, never waited for);
SQLite's writers are serialized already.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import SlackGate
from bot.domain.pacing import Pace, workspace_slot

WORKSPACE = "workspace"
OPEN = datetime(2000, 1, 1, tzinfo=UTC)


def channel_gate(recipient: str) -> str:
    """A channel's gate (a user's id stands for the DM with them)."""
    return f"channel:{recipient}"


def method_gate(method: str) -> str:
    """A Web API method's gate: closed until a 429's Retry-After has passed."""
    return f"method:{method}"


def ensure_gates(database: Database, names: Iterable[str]) -> None:
    """Create the gates that do not exist yet (in name order, so two senders never deadlock)."""
    wanted = sorted(set(names))
    if not wanted:
        return
    dialect = postgresql if database.dialect == "postgresql" else sqlite
    with database.uow() as uow:
        uow.session.execute(
            dialect.insert(SlackGate)
            .values([{"name": name, "next_at": OPEN} for name in wanted])
            .on_conflict_do_nothing(index_elements=["name"])
        )
        uow.commit()


def hold_channel(
    database: Database, session: Session, name: str, *, now: datetime, lease: timedelta,
    holder: str, key: str, takeover: str | None = None,
) -> datetime | None:
    """Hold a channel's gate for delivery `key` if it is open (None); else when it opens.

    A gate reserved for a delivery between two of its parts (`reserved(key)`) opens only to
    that delivery, until a lease past its time (its sender may have died). A gate held by
    `takeover`, the sender whose expired claim on this delivery is being taken over, is this
    delivery's already. In the caller's transaction: the hold commits with the claim.
    """
    query = select(SlackGate).where(SlackGate.name == name)
    if database.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    gate = session.scalars(query).first()
    if gate is None:
        return now + timedelta(milliseconds=50)  # another sender is taking it right now
    opens = now if takeover is not None and gate.holder == takeover else gate.next_at
    if gate.holder is not None and gate.holder.startswith(RESERVED) and gate.holder != reserved(
            key):
        opens = max(opens, gate.next_at + lease)
    if opens > now:
        return opens
    gate.next_at = now + lease
    gate.holder = holder
    return None


RESERVED = "for:"


def reserved(key: str) -> str:
    """The holder of a channel kept for the rest of delivery `key` (its parts stay together)."""
    return f"{RESERVED}{key}"[:64]


def release_channel(session: Session, name: str, holder: str, opens_at: datetime,
                    keep_for: str | None = None) -> None:
    """Let the next message into a channel at `opens_at` (if this holder still holds it);
    with `keep_for`, only the rest of that delivery."""
    session.execute(
        update(SlackGate)
        .where(SlackGate.name == name, SlackGate.holder == holder)
        .values(next_at=opens_at, holder=None if keep_for is None else reserved(keep_for))
        .execution_options(synchronize_session=False)
    )


def opening_times(session: Session, names: Iterable[str]) -> dict[str, datetime]:
    """When each existing gate of `names` opens (read without a lock: a hint, re-checked when
    a channel is held)."""
    return dict(session.execute(
        select(SlackGate.name, SlackGate.next_at).where(SlackGate.name.in_(sorted(set(names))))
    ).tuples().all())


def close_method(database: Database, method: str, until: datetime) -> None:
    """After a 429: nobody calls `method` before `until` (a later close wins)."""
    name = method_gate(method)
    ensure_gates(database, [name])
    with database.uow() as uow:
        uow.session.execute(
            update(SlackGate).where(SlackGate.name == name, SlackGate.next_at < until)
            .values(next_at=until).execution_options(synchronize_session=False)
        )
        uow.commit()


def take_workspace_slot(database: Database, now: datetime, pace: Pace) -> datetime:
    """Reserve one message of the workspace's cap; returns when it may be sent."""
    with database.uow() as uow:
        query = select(SlackGate).where(SlackGate.name == WORKSPACE)
        if database.dialect == "postgresql":
            query = query.with_for_update()  # the one lock this transaction takes
        gate = uow.session.scalars(query).first()
        if gate is None:
            uow.session.rollback()
            ensure_gates(database, [WORKSPACE])
            return take_workspace_slot(database, now, pace)
        go_at, gate.next_at = workspace_slot(gate.next_at, now, pace)
        uow.commit()
    return go_at
