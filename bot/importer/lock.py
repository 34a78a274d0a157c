"""One import at a time per ledger: a second one is told, then waits for the first to finish.

Two imports at once would each check keys against a ledger the other is changing (a false
"appears earlier in the file", or a raw unique violation). PostgreSQL: a transaction-level
advisory lock, keyed by the schema as the scheduler's leader lock is, so separate deployments
(and test runs) in one database do not wait for each other. SQLite: the file's own write lock,
which every import takes when it begins (see `bot.db.engine`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlalchemy import Connection, text

from bot.db import Database

IMPORT_LOCK_KEY = 0x696D7074  # "impt": names "a collectbot import" among advisory locks
LOCK_ARGS = ":key, hashtext(current_schema())"


def take_import_lock(conn: Connection, on_wait: Callable[[], None] | None) -> None:
    """Hold the import lock until the transaction ends; `on_wait()` first if it is taken."""
    if conn.dialect.name != "postgresql":
        return  # the transaction already holds SQLite's write lock
    args = {"key": IMPORT_LOCK_KEY}
    if conn.execute(text(f"SELECT pg_try_advisory_xact_lock({LOCK_ARGS})"), args).scalar():
        return
    if on_wait is not None:
        on_wait()
    conn.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_ARGS})"), args)


def import_running(database: Database) -> bool:
    """Whether an import (on SQLite: any writer) holds the lock now; a probe that never waits."""
    if database.dialect != "postgresql":
        probe = sqlite3.connect(str(database.engine.url.database), timeout=0,
                                isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
        return False
    held = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = CAST(:key AS oid)"
        " AND objid = CAST(CAST(hashtext(current_schema()) AS bigint) & 4294967295 AS oid)"
    )
    with database.read_engine.connect() as connection:
        return bool(connection.execute(held, {"key": IMPORT_LOCK_KEY}).scalar())
