"""The unit of work: the one place that owns transactions."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import AuditEvent


class UnitOfWork:
    """One transaction per action: nothing is written unless `commit()` is called."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed; an explicit rollback on success would
        # also expire every loaded object, and views are rendered from them after the block.
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: object = None,
        **detail: Any,
    ) -> None:
        """Record who changed what, in the same transaction as the change."""
        self.session.add(
            AuditEvent(
                actor=actor,
                action=action,
                entity=entity,
                entity_id=None if entity_id is None else str(entity_id),
                detail=detail or None,
            )
        )
