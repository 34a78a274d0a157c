"""AR by aging band for every day of a window, in one sweep over balance-change events.

Each invoice's balance is a step function of the date (the as-of rule: nothing before it is
issued, then its amount less the allocations applied by the day); the sweep applies the steps in
date order and moves each due date's balance to the next band on the day it crosses a band's
lower bound. Bands are ranges of days past due; buckets, the roll-rate ranges and "past due at
the period's start" are unions of them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from bot.domain.aging import Bucket
from bot.domain.metrics import ROLLS, ZERO, LedgerFacts, countback_months

# Lower bounds (days past due) of the aging buckets after current, and of 121-150 (roll rates).
BUCKET_BOUNDS: Mapping[Bucket, int] = {
    Bucket.DAYS_1_30: 1, Bucket.DAYS_31_60: 31, Bucket.DAYS_61_90: 61,
    Bucket.DAYS_91_120: 91, Bucket.DAYS_120_PLUS: 121,
}
ROLL_UPPER = {Bucket.DAYS_1_30: 61, Bucket.DAYS_31_60: 91, Bucket.DAYS_61_90: 121,
              Bucket.DAYS_91_120: 151}

Scope = int | None  # a collector's id; None for unassigned accounts


def balance_on(amount: Decimal, applied: Decimal, *, issued: date, day: date) -> Decimal:
    """The as-of rule in Python (mirrors `bot.services.ledger.open_balance_as_of`): nothing
    before the invoice is issued, then its amount less what was applied by the day, within 0
    and its amount."""
    if issued > day:
        return ZERO
    balance = amount - applied
    return amount if balance > amount else max(balance, ZERO)


@dataclass(frozen=True, slots=True)
class InvoiceHistory:
    """What the sweep needs of one invoice: its dates, and its balance's steps."""

    scope: Scope
    due: date
    # (first day, balance from that day on), in date order.
    steps: Sequence[tuple[date, Decimal]]


class Bands:
    """The band boundaries for a period of N days."""

    def __init__(self, period_days: int) -> None:
        self.bounds: list[int] = sorted({*BUCKET_BOUNDS.values(), 151, period_days + 1})
        edges = [0, *BUCKET_BOUNDS.values()]
        self._bucket_slices = [
            (bucket, self.index(lo) if lo else 0, None if hi is None else self.index(hi))
            for bucket, lo, hi in zip(Bucket, edges, [*edges[1:], None], strict=True)
        ]

    def index(self, days_past_due: int) -> int:
        return bisect_right(self.bounds, days_past_due)

    def size(self) -> int:
        return len(self.bounds) + 1

    def total(self, bands: Sequence[int], lo: int, hi: int | None = None) -> Decimal:
        """Sum of the bands covering days past due in [lo, hi)."""
        return from_cents(sum(bands[self.index(lo):None if hi is None else self.index(hi)]))

    def buckets(self, bands: Sequence[int]) -> dict[Bucket, Decimal]:
        return {bucket: from_cents(sum(bands[lo:hi])) for bucket, lo, hi in self._bucket_slices}


def in_cents(amount: Decimal) -> int:
    """Money as integer cents (the sweep adds integers: exact, and faster than Decimal)."""
    return int(amount.scaleb(2).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# (scope, due date, day, change of the balance in cents); both dates as days after the first
# day of the window (the due date may be before it: negative).
Change = tuple[Scope, int, int, int]


def history_changes(histories: Iterable[InvoiceHistory], first: date,
                    last: date) -> Iterator[Change]:
    """Each invoice's balance steps up to `last` as balance changes, dated in days after
    `first` (a step before `first` keeps its day: the sweep puts it on the first)."""
    for history in histories:
        previous = ZERO
        due = (history.due - first).days
        for start, balance in history.steps:
            if start > last:
                break
            if balance != previous:
                yield history.scope, due, (start - first).days, in_cents(balance - previous)
            previous = balance


def sweep_bands(events: Sequence[Iterable[tuple[Scope, int, int]]],
                bands: Bands) -> dict[Scope, list[list[int]]]:
    """Per scope, the AR in each band (in cents) at the end of every day of a window, from the
    balance changes of each day: `events[t]` holds the (scope, due date, change in cents) of
    day t of the window, the due date as a day of the window too (before it: negative)."""
    scopes: set[Scope] = {scope for day in events for scope, _, _ in day}
    width = bands.size()
    open_by_due: dict[Scope, dict[int, int]] = {s: defaultdict(int) for s in scopes}
    current: dict[Scope, list[int]] = {s: [0] * width for s in scopes}
    series: dict[Scope, list[list[int]]] = {s: [] for s in scopes}
    bounds = bands.bounds
    for day, changes in enumerate(events):
        if day:
            # The due dates whose balance crosses each band's lower bound today.
            crossing = [day - bound for bound in bounds]
            for scope, by_due in open_by_due.items():
                row = current[scope]
                for position, due in enumerate(crossing):
                    amount = by_due.get(due)
                    if amount:
                        row[position] -= amount
                        row[position + 1] += amount
        for scope, due, moved in changes:
            open_by_due[scope][due] += moved
            current[scope][bisect_right(bounds, day - due)] += moved
        for scope in scopes:
            series[scope].append(current[scope].copy())
    return series


def prefix_sums(daily: Mapping[date, Decimal], first: date, last: date) -> list[Decimal]:
    """Running totals: element i is the sum over [first, first + i - 1]."""
    sums = [ZERO]
    day = first
    while day <= last:
        sums.append(sums[-1] + daily.get(day, ZERO))
        day += timedelta(days=1)
    return sums


def span_total(sums: Sequence[Decimal], origin: date, lo: date, hi: date) -> Decimal:
    """Sum over [lo, hi] from prefix sums starting at `origin` (days before it count zero)."""
    start = max((lo - origin).days, 0)
    end = (hi - origin).days + 1
    return sums[end] - sums[start] if end > start else ZERO


class SalesHistory:
    """One scope's daily credit sales as running totals, with the countback's whole months
    computed once per calendar month."""

    def __init__(self, sums: Sequence[Decimal], origin: date) -> None:
        self.sums = sums
        self.origin = origin
        self._earlier: dict[date, list[tuple[Decimal, int]]] = {}

    def total(self, lo: date, hi: date) -> Decimal:
        return span_total(self.sums, self.origin, lo, hi)

    def facts(self, as_of: date, period_days: int) -> tuple[Decimal, list[tuple[Decimal, int]]]:
        """Credit sales in the period, and the countback months' (sales, days)."""
        period = self.total(as_of - timedelta(days=period_days - 1), as_of)
        spans = countback_months(as_of)
        month = spans[0][0]
        earlier = self._earlier.get(month)
        if earlier is None:
            earlier = [(self.total(lo, hi), (hi - lo).days + 1) for lo, hi in spans[1:]]
            self._earlier[month] = earlier
        return period, [(self.total(month, as_of), (as_of - month).days + 1), *earlier]


class BandSeries:
    """A scope's AR by band on every day of a window, each day's buckets read once (a day is
    the ending of one as-of date, the beginning of another and a month ago of a third)."""

    def __init__(self, bands: Bands, rows: Sequence[Sequence[int]]) -> None:
        self.bands = bands
        self.rows = rows
        self._buckets: dict[int, Mapping[Bucket, Decimal]] = {}

    def buckets(self, index: int) -> Mapping[Bucket, Decimal]:
        found = self._buckets.get(index)
        if found is None:
            found = self._buckets[index] = MappingProxyType(self.bands.buckets(self.rows[index]))
        return found


def facts_on(series: BandSeries, index: int, period_days: int, *, sales: SalesHistory,
             cash: Sequence[Decimal], origin: date, as_of: date) -> LedgerFacts:
    """One day's ledger facts from a scope's band series (day `index` is `as_of`)."""
    bands = series.bands
    ending = series.rows[index]
    month_ago = series.buckets(index - 30)
    credit_sales, monthly = sales.facts(as_of, period_days)
    return LedgerFacts(
        ending=series.buckets(index),
        beginning=series.buckets(index - period_days),
        credit_sales=credit_sales,
        monthly_sales=monthly,
        cash_collected=span_total(cash, origin, as_of - timedelta(days=period_days - 1), as_of),
        past_due_still_open=bands.total(ending, period_days + 1),
        roll_from={source: month_ago[source] for source, _ in ROLLS},
        roll_to={source: bands.total(ending, BUCKET_BOUNDS[source] + 30, ROLL_UPPER[source])
                 for source, _ in ROLLS},
    )
