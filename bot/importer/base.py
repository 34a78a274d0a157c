"""What every import kind shares: row parsing with per-cell problems, batches, the write context."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Column as SAColumn
from sqlalchemy import Connection, Table, func, select

from bot.db.models import Base
from bot.db.sql import key_in
from bot.importer.report import ImportReport
from bot.importer.source import Column
from bot.importer.values import AmountReader, CellError

T = TypeVar("T")
R = TypeVar("R")

TABLES: Mapping[str, Table] = Base.metadata.tables
IN_CHUNK = 5000  # keys per IN (...) lookup: well under SQLite (32766) and psycopg (65535) limits


class RowInvalid(Exception):
    """A row has bad cells: (field, message) for each."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


class Cells:
    """The cells of one row by field, collecting every problem before the row is rejected."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[tuple[str, str]] = []

    def present(self, name: str) -> bool:
        return name in self.values

    def blank(self, name: str) -> bool:
        text = self.values.get(name)
        return not text or text.isspace()

    def optional(self, name: str, parse: Callable[[str], R]) -> R | None:
        """The parsed cell, or None when it is blank or absent (a bad cell is recorded)."""
        text = self.values.get(name)
        if not text or text.isspace():
            return None
        try:
            return parse(text)
        except CellError as exc:
            self.problems.append((name, str(exc)))
            return None

    def required(self, name: str, parse: Callable[[str], R]) -> R | None:
        """Like optional, but a blank cell is a problem."""
        if self.blank(name):
            self.problems.append((name, "missing"))
            return None
        return self.optional(name, parse)

    def problem(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def check(self) -> None:
        if self.problems:
            raise RowInvalid(self.problems)


def must(value: R | None) -> R:
    """A value `Cells.check()` has already guaranteed."""
    if value is None:
        raise AssertionError("checked value is missing")
    return value


@dataclass(slots=True)
class Pending(Generic[T]):
    """A parsed row waiting in a batch, with what the rejects file needs."""

    line: int
    cells: list[str]
    row: T


@dataclass(slots=True)
class Rejection:
    """A parsed row the database side refused."""

    line: int
    cells: list[str]
    field: str
    message: str


def drop_repeats(
    batch: list[Pending[T]], key: Callable[[T], str], field: str, noun: str
) -> tuple[list[Pending[T]], list[Rejection]]:
    """The batch without rows whose key an earlier row of it has; each of those is rejected
    as "<noun> <key> repeats line <N>", naming the first line with that key."""
    first_line: dict[str, int] = {}
    kept: list[Pending[T]] = []
    rejected: list[Rejection] = []
    for p in batch:
        value = key(p.row)
        earlier = first_line.setdefault(value, p.line)
        if earlier != p.line:
            rejected.append(Rejection(p.line, p.cells, field,
                                      f"{noun} {value} repeats line {earlier}"))
        else:
            kept.append(p)
    return kept, rejected


class TouchedIds:
    """Rows this import has already written: a key seen twice in one file is an error.

    Rows inserted by the import have ids above the table's highest id when it began (the
    import is one transaction); older rows it reaches are marked in a bitmap, an eighth of a
    byte per id, so a million-row file needs no set of keys.
    """

    def __init__(self, conn: Connection, table: Table) -> None:
        self.floor: int = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        self._bits = bytearray()

    def add(self, row_id: int) -> bool:
        """Mark an existing row as reached; False when this import already wrote it."""
        if row_id > self.floor:
            return False
        index, bit = divmod(row_id, 8)
        if index >= len(self._bits):
            self._bits.extend(bytes(index - len(self._bits) + 1 + len(self._bits) // 2))
        if self._bits[index] & (1 << bit):
            return False
        self._bits[index] |= 1 << bit
        return True


@dataclass(slots=True)
class ImportContext:
    """The open transaction and what an import kind reports into."""

    conn: Connection
    report: ImportReport
    today: date
    now: datetime
    date_format: str | None
    default_tz: str | ZoneInfo  # the team's zone: a collector's when the roster gives none
    affected_customers: set[int] = field(default_factory=set)
    currency: str = "USD"  # the ledger's: rows in another are refused
    reverse_payments: bool = False  # an invoice export showing less paid reverses payments
    amounts: AmountReader = field(default_factory=AmountReader)  # one reading per file


def lookup_ids(
    conn: Connection, key: SAColumn[str], ident: SAColumn[int], keys: Iterable[str]
) -> dict[str, int]:
    """key -> id for the keys that exist, in chunks small enough for any engine."""
    wanted = list(keys)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        query = select(key, ident).where(key_in(conn, key, chunk))
        found.update(iter(conn.execute(query).tuples()))
    return found


class BulkInsert:
    """Plain INSERT of many rows at driver speed: COPY on PostgreSQL, executemany on SQLite.

    Values go through the columns' own bind processors, so they are stored exactly as Core
    would store them; the statement runs on the import's connection, in its transaction.
    """

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]) -> None:
        self.conn = conn
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        self.processors = [
            (i, processor)
            for i, name in enumerate(columns)
            if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        names = ", ".join(quote(c) for c in columns)
        self.copy = dialect.name == "postgresql"
        if self.copy:
            self.sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        else:
            marks = ", ".join("?" for _ in columns)
            self.sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"

    def __call__(self, rows: Iterable[Sequence[Any]]) -> None:
        columns: list[Any] = list(zip(*rows, strict=True))
        if not columns:
            return
        # Column by column: a column holding one value (timestamps, status) is processed once.
        for i, processor in self.processors:
            column = columns[i]
            first = column[0]
            if column.count(first) == len(column):
                columns[i] = (processor(first),) * len(column)
            else:
                columns[i] = list(map(processor, column))
        values = list(zip(*columns, strict=True))
        if not self.copy:
            self.conn.exec_driver_sql(self.sql, values)
            return
        driver = self.conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(self.sql) as copy:  # type: ignore[union-attr]
            for cells in values:
                copy.write_row(cells)


class KindImporter(ABC, Generic[T]):
    """Parses rows of one kind and writes them a batch at a time."""

    kind: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]

    def __init__(self, context: ImportContext) -> None:
        self.context = context

    @abstractmethod
    def parse(self, cells: Cells) -> T:
        """A typed row; raises RowInvalid naming every bad cell. Never touches the database."""

    @abstractmethod
    def write(self, batch: list[Pending[T]]) -> list[Rejection]:
        """Write one batch; rows the database side refuses are returned, the rest are written."""

    def finish(self) -> list[Rejection]:
        """Work that needs the whole file (most kinds need none)."""
        return []
