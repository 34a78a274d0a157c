"""Shared fixtures: a migrated database on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.

SQLite: each test gets a copy of one migrated file. PostgreSQL: one schema per test run, built by
the migrations, every table emptied after each test and the schema dropped at the end.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.db import Database
from bot.db.models import Base
from bot.db.scratch import scratch_schema

pytest_plugins = ["tests.slack_fixtures"]

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_SKIP_REASON = "TEST_DATABASE_URL is not set: PostgreSQL runs skipped (.ci/run sets it)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` run first, the rest in file order: with `--dist loadgroup` (make test)
    xdist hands the long ones out while every worker is busy, so no worker is still on one at the
    end while the others idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    # Closing the last connection checkpoints the WAL into the file, so a plain copy is complete.
    database.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    url, drop = scratch_schema(PG_URL)
    yield url
    drop()


def _empty_pg(database: Database) -> None:
    """Every table emptied and every sequence restarted, as TRUNCATE ... RESTART IDENTITY would.

    DELETE, not TRUNCATE: TRUNCATE gives each table new files, ~0.5 s for the schema on a loaded
    machine; deleting the few rows a test wrote takes milliseconds. The tables are locked first,
    as TRUNCATE locks them, so a transaction still running from the test finishes before.
    """
    tables = Base.metadata.sorted_tables
    names = ", ".join(f'"{t.name}"' for t in tables)
    for attempt in range(3):
        try:
            with database.engine.begin() as connection:
                # A test that leaks an open transaction fails here in seconds, not a hung run.
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
                for table in reversed(tables):
                    connection.execute(table.delete())
                # setval is not transactional and writes no new file, unlike ALTER SEQUENCE.
                connection.execute(text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass,"
                    " start_value, false) FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"))
            return
        except DBAPIError as exc:
            # A deferred listener of the test may still be finishing its last transaction; the
            # server then picks the lock as a deadlock victim. Retry rather than fail the test.
            if "deadlock detected" not in str(exc) or attempt == 2:
                raise


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database; parametrized over both engines."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "ledger.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_schema_url")
    yield url
    cleanup = Database(url)
    _empty_pg(cleanup)
    cleanup.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty database on each engine."""
    database = Database(db_url)
    yield database
    database.dispose()
