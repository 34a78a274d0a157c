"""SQL helpers that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute


def key_in(
    conn: Connection, column: Column[Any] | InstrumentedAttribute[Any], keys: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN keys` with one parameter however many keys (a statement the driver caches).

    PostgreSQL: `= ANY(array)`; SQLite: `IN (SELECT value FROM json_each(json))`.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(keys), type_=ARRAY(column.type)))
    values = func.json_each(bindparam(None, json.dumps(list(keys)), type_=String)).table_valued(
        "value"
    )
    return column.in_(select(values.c.value))
