"""Reading an import file: encoding, delimiter, header, column mapping, physical line numbers."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, wrong header, bad --map)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical field of an import kind."""

    name: str
    required: bool = False
    doc: str = ""


def normalize(header: str) -> str:
    """'Due Date' and 'due-date' both read as 'due_date'."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvSource:
    """An open import file: `fields` maps each canonical field to its position in a row."""

    def __init__(
        self,
        path: Path,
        columns: tuple[Column, ...],
        mapping: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        try:
            self._binary = path.open("rb")
        except OSError as exc:
            raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            self.size = os.fstat(self._binary.fileno()).st_size
            self._text = io.TextIOWrapper(self._binary, encoding="utf-8-sig", newline="")
            self._open(columns, mapping or {})
        except BaseException:
            self._binary.close()
            raise

    def _open(self, columns: tuple[Column, ...], mapping: Mapping[str, str]) -> None:
        self._read_header()
        by_source = self._mapping(columns, mapping)
        self._place(columns, by_source)
        missing = [c.name for c in columns if c.required and c.name not in self.fields]
        if missing:
            raise ImportFileError(
                f"missing required column(s) {', '.join(missing)} "
                f"(header: {', '.join(self.header)}; rename with --map SOURCE=FIELD)"
            )
        self.width = len(self.header)

    def _read_header(self) -> None:
        """The first line: its delimiter and its cells."""
        try:
            first = self._text.readline()
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        if not first.strip():
            raise ImportFileError(f"{self.path.name}: the file is empty (no header line)")
        self.delimiter = _sniff_delimiter(first)
        try:
            self.header = next(csv.reader([first], delimiter=self.delimiter))
        except csv.Error as exc:
            raise ImportFileError(f"{self.path.name}: line 1 (the header): {exc}") from None

    def _mapping(
        self, columns: tuple[Column, ...], mapping: Mapping[str, str]
    ) -> dict[str, str]:
        """--map as normalized header name -> field, each side checked."""
        known = {c.name for c in columns}
        by_source: dict[str, str] = {}
        for source, target in mapping.items():
            if target not in known:
                raise ImportFileError(
                    f"--map {source}={target}: unknown field {target!r} "
                    f"(fields: {', '.join(c.name for c in columns)})"
                )
            by_source[normalize(source)] = target
        normalized = {normalize(h) for h in self.header}
        for source in by_source:
            if source not in normalized:
                raise ImportFileError(
                    f"--map: column {source!r} is not in the header "
                    f"({', '.join(self.header)})"
                )
        return by_source

    def _place(self, columns: tuple[Column, ...], by_source: dict[str, str]) -> None:
        """Each field's position in the header (`fields`), and the columns no field reads."""
        known = {c.name for c in columns}
        mapped_fields = set(by_source.values())
        self.fields: dict[str, int] = {}
        self.ignored: list[str] = []
        for position, name in enumerate(normalize(h) for h in self.header):
            field: str | None = by_source.get(name)
            if field is None and name in known and name not in mapped_fields:
                field = name
            if field is None:
                self.ignored.append(self.header[position])
                continue
            if field in self.fields:
                other = self.header[self.fields[field]]
                raise ImportFileError(
                    f"columns {other!r} and {self.header[position]!r} both give {field}"
                )
            self.fields[field] = position

    def column_name(self, field: str) -> str:
        """The file's own name for a canonical field (what an error message should show)."""
        position = self.fields.get(field)
        return self.header[position] if position is not None else field

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(first physical line of the record, its cells); blank lines are skipped."""
        reader = csv.reader(self._text, delimiter=self.delimiter)
        previous = 1  # the header was line 1
        try:
            for cells in reader:
                line = previous + 1
                previous = 1 + reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                yield line, cells
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except csv.Error as exc:
            raise ImportFileError(f"{self.path.name}: line {previous + 1}: {exc}") from None

    def _not_utf8(self) -> ImportFileError:
        # Text is decoded a block at a time, so the error does not know its line: find it.
        with self.path.open("rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return ImportFileError(
                        f"{self.path.name}: line {number} is not UTF-8 text "
                        f"(byte {line[exc.start]:#04x}); save the file as UTF-8"
                    )
        return ImportFileError(f"{self.path.name}: the file is not UTF-8 text")

    def position(self) -> int:
        """Bytes read so far (for a progress bar)."""
        return self._binary.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
