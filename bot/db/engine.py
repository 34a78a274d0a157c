"""Engines and sessions for SQLite and PostgreSQL.

Two kinds of transaction: a writer's (the default) and a reader's (execution option
`READ_ONLY`). On SQLite a writer begins IMMEDIATE, taking the file's one write lock up front,
so two writers queue instead of one failing with "database is locked" halfway; a reader begins
DEFERRED and, under WAL, reads the last committed state while a writer works, however long.
A reader cannot write (SQLite `query_only`, PostgreSQL `READ ONLY`): a read path that starts
writing fails loudly in the tests instead of blocking behind an import in production.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

READ_ONLY = "collectbot_read_only"
# A writer given this option (a callable taking no argument) does not wait silently for the
# write lock: when another writer holds it, the callable is called once, then the writer waits.
ON_WAIT = "collectbot_on_wait"
BUSY_TIMEOUT_MS = 30_000
QUIET_WAIT_MS = 2_000  # a click's write is over long before: announce only a longer wait
WAIT_POLL_MS = 1_000
PG_CONNECT_TIMEOUT_S = 10


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine with the pragmas collectbot relies on (SQLite: WAL, foreign keys, busy wait)."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        kwargs.setdefault("connect_args", {"check_same_thread": False,
                                           "timeout": BUSY_TIMEOUT_MS / 1000})
        if memory:
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, **kwargs)
        _sqlite_pragmas(engine, wal=not memory)
        return engine
    if "connect_timeout" not in url.query:
        # An unreachable host fails in seconds, not after the system's TCP timeout.
        kwargs.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT_S})
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _postgresql_readers(engine)
    return engine


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we want SQLAlchemy's.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        driver = connection.connection.driver_connection
        if options.get(READ_ONLY):
            driver.execute("PRAGMA query_only=1")
            driver.execute("BEGIN DEFERRED")
            return
        driver.execute("PRAGMA query_only=0")
        on_wait = options.get(ON_WAIT)
        if on_wait is None:
            driver.execute("BEGIN IMMEDIATE")
        else:
            _begin_immediate_announced(driver, on_wait)


def _begin_immediate_announced(driver: sqlite3.Connection, on_wait: Callable[[], None]) -> None:
    """BEGIN IMMEDIATE; if another writer keeps the lock, say so once, then wait for it."""
    driver.execute(f"PRAGMA busy_timeout={QUIET_WAIT_MS}")
    try:
        announced = False
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if not announced:
                on_wait()
                announced = True
                driver.execute(f"PRAGMA busy_timeout={WAIT_POLL_MS}")
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _postgresql_readers(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # psycopg begins the transaction with this statement, so it is the first one.
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views are rendered after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
