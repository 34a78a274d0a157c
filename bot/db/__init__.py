"""The ledger: SQLAlchemy models, engine, units of work and migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from bot.db.engine import make_engine, make_session_factory
from bot.db.uow import UnitOfWork


class Database:
    """An engine and its session factory; `uow()` opens one transaction."""

    def __init__(self, url: str | URL | None = None, *, engine: Engine | None = None,
                 **engine_kwargs: Any) -> None:
        if engine is None:
            if url is None:
                raise ValueError("Database needs a URL or an engine")
            engine = make_engine(url, **engine_kwargs)
        self.engine = engine
        self.sessions = make_session_factory(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision."""
        from bot.db.migrate import ensure_schema

        ensure_schema(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
