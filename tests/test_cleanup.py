"""The PostgreSQL cleanup between tests leaves what a fresh schema has: no rows, ids from 1."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import Base, JobRun, TeamMember
from bot.domain.vocabulary import Role
from tests.conftest import _empty_pg


def _add_rows(database: Database) -> tuple[int, int]:
    with database.uow() as uow:
        manager = TeamMember(slack_user_id="UMAX", name="Max", role=Role.MANAGER,
                             timezone="UTC")
        uow.session.add(manager)
        uow.session.flush()
        ana = TeamMember(slack_user_id="UANA", name="Ana", manager_id=manager.id, timezone="UTC")
        run = JobRun(job="escalations", trigger="cli", started_at=datetime.now(UTC),
                     result="ok")
        uow.session.add_all([ana, run])
        uow.commit()
        return ana.id, run.id


def test_emptied_tables_have_no_rows_and_ids_start_again(pg_schema_url: str) -> None:
    database = Database(pg_schema_url)
    try:
        _empty_pg(database)
        first = _add_rows(database)
        _empty_pg(database)
        with database.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                count = connection.scalar(select(func.count()).select_from(table))
                assert count == 0, table.name
        assert _add_rows(database) == first == (2, 1)
    finally:
        _empty_pg(database)
        database.dispose()

