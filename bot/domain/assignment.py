"""Auto-assignment: give customers without a collector to the least-loaded active collector.

Greedy, largest past-due balance first, each onto the collector whose past-due book is the
smallest at that moment (ties: fewer accounts, then the lower id). When the books start level,
the heaviest ends at most one account's balance above the lightest (each account went onto
the lightest book of its moment); largest-first keeps that last account small.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class CollectorLoad:
    """A collector's book before assignment: past-due balance and number of accounts."""

    collector_id: int
    past_due: Decimal = ZERO
    accounts: int = 0


@dataclass(frozen=True, slots=True)
class UnownedAccount:
    """A customer with no collector and its past-due balance."""

    customer_id: int
    past_due: Decimal


def assign_accounts(
    accounts: Iterable[UnownedAccount], collectors: Sequence[CollectorLoad]
) -> dict[int, int]:
    """customer_id -> collector_id for every account; empty when there is no collector.

    Accounts with money past due balance the past-due books; accounts with none (they pay on
    time today, and will be tomorrow's past due) are then spread by count, so no collector is
    handed every prompt payer.
    """
    if not collectors:
        return {}
    owing: list[UnownedAccount] = []
    prompt: list[UnownedAccount] = []
    for account in accounts:
        (owing if account.past_due > 0 else prompt).append(account)
    heap = [(c.past_due, c.accounts, c.collector_id) for c in collectors]
    heapq.heapify(heap)
    given: dict[int, int] = {}
    for account in sorted(owing, key=lambda a: (-a.past_due, a.customer_id)):
        past_due, count, collector_id = heapq.heappop(heap)
        given[account.customer_id] = collector_id
        heapq.heappush(heap, (past_due + account.past_due, count + 1, collector_id))
    by_count = [(count, past_due, collector_id) for past_due, count, collector_id in heap]
    heapq.heapify(by_count)
    for account in sorted(prompt, key=lambda a: a.customer_id):
        count, past_due, collector_id = heapq.heappop(by_count)
        given[account.customer_id] = collector_id
        heapq.heappush(by_count, (count + 1, past_due, collector_id))
    return given
