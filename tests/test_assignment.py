"""Auto-assignment: greedy largest-first onto the least-loaded collector keeps books level."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.assignment import CollectorLoad, UnownedAccount, assign_accounts

D = Decimal


def _books(given_to: dict[int, int], accounts: list[UnownedAccount]) -> dict[int, Decimal]:
    balance = {a.customer_id: a.past_due for a in accounts}
    books: dict[int, Decimal] = defaultdict(Decimal)
    for customer_id, collector_id in given_to.items():
        books[collector_id] += balance[customer_id]
    return books


def test_hand_computed_example() -> None:
    accounts = [UnownedAccount(i, D(v)) for i, v in enumerate(
        ["900", "700", "500", "400", "300", "200"], start=1)]
    given_to = assign_accounts(accounts, [CollectorLoad(10), CollectorLoad(20)])
    # 900->10, 700->20, 500->20 (700<900), 400->10 (900<1200), 300->20 (1300>1200), 200->10
    assert given_to == {1: 10, 2: 20, 3: 20, 4: 10, 5: 20, 6: 10}
    assert _books(given_to, accounts) == {10: D("1500"), 20: D("1500")}


def test_existing_books_are_counted() -> None:
    accounts = [UnownedAccount(1, D("100")), UnownedAccount(2, D("100"))]
    given_to = assign_accounts(
        accounts, [CollectorLoad(10, D("1000"), 5), CollectorLoad(20, D("0"), 0)]
    )
    assert given_to == {1: 20, 2: 20}


def test_zero_balances_spread_by_count_and_no_collector_means_no_assignment() -> None:
    accounts = [UnownedAccount(i, D("0")) for i in range(6)]
    given_to = assign_accounts(accounts, [CollectorLoad(1), CollectorLoad(2), CollectorLoad(3)])
    counts = defaultdict(int)
    for collector_id in given_to.values():
        counts[collector_id] += 1
    assert dict(counts) == {1: 2, 2: 2, 3: 2}
    assert assign_accounts(accounts, []) == {}


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=60),
    collectors=st.integers(min_value=1, max_value=7),
)
def test_level_books_end_within_one_account(amounts: list[int], collectors: int) -> None:
    accounts = [UnownedAccount(i, D(a) / 100) for i, a in enumerate(amounts)]
    random.Random(0).shuffle(accounts)
    given_to = assign_accounts(accounts, [CollectorLoad(c) for c in range(collectors)])
    assert set(given_to) == {a.customer_id for a in accounts}
    books = _books(given_to, accounts)
    loads = [books.get(c, D(0)) for c in range(collectors)]
    assert max(loads) - min(loads) <= max(a.past_due for a in accounts)


def test_accounts_with_nothing_past_due_are_spread_by_count() -> None:
    owing = [UnownedAccount(customer_id=i, past_due=Decimal(1000 * (i % 7 + 1))) for i in range(30)]
    prompt = [UnownedAccount(customer_id=100 + i, past_due=Decimal(0)) for i in range(90)]
    given = assign_accounts(owing + prompt, [CollectorLoad(1), CollectorLoad(2), CollectorLoad(3)])
    per_collector = {c: sum(1 for v in given.values() if v == c) for c in (1, 2, 3)}
    assert max(per_collector.values()) - min(per_collector.values()) <= 2
    books = {c: sum(a.past_due for a in owing if given[a.customer_id] == c) for c in (1, 2, 3)}
    assert max(books.values()) - min(books.values()) <= Decimal(7000)
