"""Migrations build an empty database on both engines and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.db import Database
from bot.db.migrate import current_revision, head_revision
from bot.db.models import Base
from bot.db.scratch import scratch_schema
from tests.conftest import PG_SKIP_REASON, PG_URL


def _assert_built(database: Database) -> None:
    database.upgrade()
    assert current_revision(database.engine) == head_revision(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    database.upgrade()  # a second upgrade is a no-op
    assert current_revision(database.engine) == head_revision(database.engine)


def test_migrations_build_empty_sqlite(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/fresh.sqlite3")
    _assert_built(database)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_migrations_build_empty_postgresql() -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    url, drop = scratch_schema(PG_URL, prefix="m")  # an empty schema, upgraded by migrations
    try:
        database = Database(url)
        _assert_built(database)
        database.dispose()
    finally:
        drop()


def test_sqlite_never_reuses_an_undone_attempts_id(tmp_path: object) -> None:
    from datetime import UTC, datetime

    from bot.db.models import ContactAttempt, Customer, TeamMember
    from bot.domain.vocabulary import Outcome

    database = Database(f"sqlite:///{tmp_path}/ids.sqlite3")
    database.upgrade()
    with database.uow() as uow:
        member = TeamMember(slack_user_id="U1", name="Ana")
        customer = Customer(external_ref="C1", name="Acme")
        uow.session.add_all([member, customer])
        uow.session.flush()

        def attempt() -> int:
            row = ContactAttempt(customer_id=customer.id, collector_id=member.id,
                                 at=datetime.now(UTC), outcome=Outcome.REACHED, source="button")
            uow.session.add(row)
            uow.session.flush()
            return row.id

        first = attempt()
        uow.session.query(ContactAttempt).filter_by(id=first).delete()
        assert attempt() > first
    database.dispose()
