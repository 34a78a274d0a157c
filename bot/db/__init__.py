"""The ledger: SQLAlchemy models, engine, units of work and migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from bot.db.engine import ON_WAIT, READ_ONLY, make_engine, make_session_factory
from bot.db.uow import UnitOfWork


class Database:
    """An engine and its session factories; `uow()` opens one transaction.

    `uow(read_only=True)` is a reader's: on SQLite it never takes the write lock, so reports,
    previews and Slack's read paths go on while an import writes; it cannot write.
    """

    def __init__(self, url: str | URL | None = None, *, engine: Engine | None = None,
                 **engine_kwargs: Any) -> None:
        if engine is None:
            if url is None:
                raise ValueError("Database needs a URL or an engine")
            engine = make_engine(url, **engine_kwargs)
        self.engine = engine
        self.sessions = make_session_factory(engine)
        # Shares the engine's pool; only the transactions it begins differ.
        self.read_engine = engine.execution_options(**{READ_ONLY: True})
        self.read_sessions = make_session_factory(self.read_engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(
        self, *, read_only: bool = False, on_wait: Callable[[], None] | None = None
    ) -> UnitOfWork:
        """One transaction; `on_wait` is called once if it must wait for another writer."""
        if read_only:
            return UnitOfWork(self.read_sessions)
        if on_wait is not None:
            waiting = self.engine.execution_options(**{ON_WAIT: on_wait})
            return UnitOfWork(make_session_factory(waiting))
        return UnitOfWork(self.sessions)

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision."""
        from bot.db.migrate import ensure_schema

        ensure_schema(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
