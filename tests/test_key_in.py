"""key_in (one parameter however many keys) selects exactly the rows `IN` does, on both engines:
integer keys (PostgreSQL binds them as one array literal), text keys with the characters an
array literal would have to escape, no keys, keys that match nothing, repeated keys."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import Customer
from bot.db.sql import key_in

REFS = ["plain", "a,b", '{brace}', 'quote"d', "back\\slash", "NULL", "", " spaced ", "ünï"]


@pytest.fixture
def customer_ids(db: Database) -> list[int]:
    with db.uow() as uow:
        customers = [Customer(external_ref=ref, name=f"Customer {n}")
                     for n, ref in enumerate(REFS + [f"R{n}" for n in range(200)])]
        uow.session.add_all(customers)
        uow.session.flush()
        ids = [c.id for c in customers]
        uow.commit()
    return ids


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_integer_keys_select_what_in_selects(db: Database, customer_ids: list[int],
                                             seed: int) -> None:
    rng = random.Random(seed)
    wanted = rng.sample(customer_ids, rng.randrange(0, 60)) * rng.randrange(1, 3)
    wanted += [max(customer_ids) + rng.randrange(1, 1000), 0]  # match nothing
    with db.uow() as uow:
        connection = uow.session.connection()
        found = uow.session.scalars(select(Customer.id).where(
            key_in(connection, Customer.id, wanted))).all()
        expected = uow.session.scalars(select(Customer.id).where(
            Customer.id.in_(wanted))).all()
    assert sorted(found) == sorted(expected) == sorted(set(wanted) & set(customer_ids))


@pytest.mark.usefixtures("customer_ids")
@pytest.mark.parametrize("refs", [REFS, REFS[1:4] + ["missing"], []])
def test_text_keys_select_what_in_selects(db: Database, refs: list[str]) -> None:
    with db.uow() as uow:
        connection = uow.session.connection()
        found = uow.session.scalars(select(Customer.external_ref).where(
            key_in(connection, Customer.external_ref, refs))).all()
    assert sorted(found) == sorted(set(refs) & set(REFS))
