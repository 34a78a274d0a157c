"""Is DATABASE_URL usable? One line naming the variable and the cause when it is not."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from bot.db import Database

VARIABLE = "DATABASE_URL"


class DatabaseUnavailable(Exception):
    """The configured database cannot be used; the message is one line for the admin."""


def shown(url: URL) -> str:
    """The URL as an admin may see it: the password hidden."""
    return url.render_as_string(hide_password=True)


def cause(exc: BaseException) -> str:
    """The driver's own first line ("connection refused", "database "x" does not exist")."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def unavailable(exc: BaseException, url: URL | None = None) -> DatabaseUnavailable:
    """The one line for a database error, naming the URL (password hidden) when known."""
    where = f"cannot use {shown(url)}: " if url is not None else ""
    return DatabaseUnavailable(f"{VARIABLE}: {where}{cause(exc)}")


def check_database(database: Database) -> None:
    """Raise DatabaseUnavailable unless the database can be opened (and, SQLite, written)."""
    url = database.engine.url
    if database.dialect == "sqlite":
        _check_sqlite_path(url)
    try:
        with database.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise unavailable(exc, url) from None


def _check_sqlite_path(url: URL) -> None:
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    folder = path.parent
    problem = None
    if not folder.is_dir():
        problem = f"directory {folder} does not exist"
    elif path.is_dir():
        problem = f"{path} is a directory, not a database file"
    elif not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        problem = f"cannot create {path}: directory {folder} is not writable"
    elif path.exists() and not os.access(path, os.R_OK | os.W_OK):
        problem = f"{path} is read-only (collectbot writes its ledger there)"
    elif path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        problem = f"directory {folder} is not writable (SQLite keeps its journal there)"
    if problem is not None:
        raise DatabaseUnavailable(f"{VARIABLE}: {problem}")
