"""Throwaway PostgreSQL schemas for tests and benchmarks: created, migrated, dropped."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from bot.db import Database


def scratch_schema(admin_url: str | URL, *, prefix: str = "t") -> tuple[str, Callable[[], None]]:
    """A new schema on the server at `admin_url`, migrated to head: its URL and a drop callable.

    The URL sets `search_path` to the schema, so everything the app does stays inside it.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = Database(admin_url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    migrated = Database(url)
    try:
        migrated.upgrade()
    finally:
        migrated.dispose()

    def drop() -> None:
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop
