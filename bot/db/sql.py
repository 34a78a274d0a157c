"""SQL helpers that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    Connection,
    Date,
    Double,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlalchemy.types import UserDefinedType

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class _ArrayText(UserDefinedType[str]):
    """A PostgreSQL array bound as its text form (`{1,2,3}`), cast to its type in the
    statement (`$1::INTEGER[]`): the server reads it once, as the array it plans with (a
    cast of a VARCHAR would be read again for every row)."""

    cache_ok = True
    render_bind_cast = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: Any) -> str:
        return self.spec


def key_in(
    conn: Connection, column: Column[Any] | InstrumentedAttribute[Any], keys: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN keys` with one parameter however many keys (a statement the driver caches).

    PostgreSQL: `= ANY(array)`; SQLite: `IN (SELECT value FROM json_each(json))`.
    """
    if conn.dialect.name == "postgresql":
        keys = list(keys)
        if all(type(key) is int for key in keys):
            # Integers as one array literal: the driver adapts a list element by element
            # (~7 ms for 4,000 ids), a joined string in well under one.
            spec = conn.dialect.type_compiler_instance.process(ARRAY(column.type))
            return column == any_(bindparam(None, "{" + ",".join(map(str, keys)) + "}",
                                            type_=_ArrayText(spec)))
        return column == any_(bindparam(None, keys, type_=ARRAY(column.type)))
    values = func.json_each(bindparam(None, json.dumps(list(keys)), type_=String)).table_valued(
        "value"
    )
    return column.in_(select(values.c.value))


def driver_rows(conn: Connection, statement: Executable) -> list[Any]:
    """Every row of a large read, as the driver returns it: SQLAlchemy compiles and binds the
    statement but builds no Row objects (over hundreds of thousands of rows they cost more
    than the driver's own reading) and converts no value (SQLite: a date comes as text)."""
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def unindexed(dialect: Dialect, column: ColumnElement[Any] | InstrumentedAttribute[Any]
              ) -> ColumnElement[Any]:
    """A column SQLite's planner may not filter by its index (`+column`, SQLite's own idiom),
    for a range that keeps much of a large table: one scan of the table is cheaper than walking
    the index and looking each row up. PostgreSQL chooses by its statistics: the column."""
    element = column.expression if isinstance(column, InstrumentedAttribute) else column
    if dialect.name == "sqlite":
        return UnaryExpression(element, operator=custom_op("+"), type_=element.type)
    return element


def xact_lock(conn: Connection, key: int) -> None:
    """Hold a lock named `key` until the transaction ends (PostgreSQL: an advisory lock keyed by
    the schema too, so deployments in one database don't wait for each other). SQLite needs
    none: a writer's transaction already holds the file's one write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"),
                     {"key": key})


def money_value(value: object) -> Decimal:
    """A SUM() of money as Decimal cents: PostgreSQL's NUMERIC arrives exact; SQLite keeps
    NUMERIC as REAL, so its float sum is rounded back to cents."""
    if isinstance(value, Decimal):
        return value
    if value is None:
        return ZERO  # a sum over no rows
    return Decimal(str(value)).quantize(CENT)


def cents_of(dialect: Dialect, money: Any) -> ColumnElement[float]:
    """A money value as its whole number of cents in a double, for a grouping that sums many
    columns of it: exact (a double holds every whole number to 2^53 cents, and so do its
    sums), and PostgreSQL adds doubles several times faster than NUMERIC, whose per-group
    state is large enough to spill. SQLite keeps money as REAL already: rounded to the cent.
    Read the sums back with `money_from_cents`."""
    if dialect.name == "sqlite":
        return func.round(money * 100, type_=Double)
    return cast(money * 100, Double)


def money_from_cents(value: object) -> Decimal:
    """A sum of `cents_of` values as Decimal money (None, a sum over no rows: zero)."""
    if value is None:
        return ZERO
    return Decimal(round(value)).scaleb(-2)  # type: ignore[call-overload]


def raw(column: Any) -> Any:
    """A date or timestamp column read as the driver gives it: SQLAlchemy's SQLite parsing of
    each value costs more than the query over a large book; date_value and moment_value read
    both the text (SQLite) and the objects (PostgreSQL)."""
    return type_coerce(column, String)


def date_value(value: object) -> date | None:
    """A MIN()/MAX() of a date column: SQLite returns it as text (the type is lost)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def moment_value(value: object) -> datetime | None:
    """A MIN()/MAX() of a UTC timestamp, aware: SQLite returns naive text."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        text = str(value)
        try:  # naive UTC text, read as UTC in one parse (replace() costs four times as much)
            return datetime.fromisoformat(text + "+00:00")
        except ValueError:  # it has an offset of its own
            value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def scan_key(dialect: Dialect, column: ColumnElement[Any] | InstrumentedAttribute[Any]
             ) -> ColumnElement[Any]:
    """A join key SQLite's planner may not search by its index (`column + 0`, SQLite's own
    idiom), so a join over most of a large table scans it once and looks the other side up by
    primary key, rather than walking the small side's index into the large one row by row.
    PostgreSQL plans joins by its statistics: the column as it is."""
    if dialect.name == "sqlite":
        return column + 0
    return column  # type: ignore[return-value]


def inline_date(day: date) -> BindParameter[date]:
    """A day written into the statement rather than bound: SQLite compares a bound value with a
    date column by converting it on every row (the column's numeric affinity), a written one
    once; 3x faster over a million invoice rows."""
    return literal(day, Date, literal_execute=True)


@contextmanager
def one_off_plan(session: Session) -> Iterator[None]:
    """PostgreSQL, for a few large statements: no JIT (compiling their expressions costs more
    than running them) and memory enough that their groupings do not spill to disk; the
    transaction's settings come back after them. SQLite: nothing to set."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    settings = {"jit": "off", "work_mem": "64MB"}
    previous = {name: session.scalar(text("SELECT current_setting(:name)"), {"name": name})
                for name in settings}
    for name, value in settings.items():
        session.execute(text("SELECT set_config(:name, :value, true)"),
                        {"name": name, "value": value})
    try:
        yield
    finally:
        for name, value in previous.items():
            session.execute(text("SELECT set_config(:name, :value, true)"),
                            {"name": name, "value": value})
