"""The assessment: did a strategy make a difference, and where does the team's effort pay?

Three answers, each from plain numbers the service gathers:

- Difference in differences: a strategy's segment against comparable accounts outside it, over
  equal windows before and after the policy version that changed it. Each group's outcome is a
  ratio of sums (e.g. past-due balance collected within 30 days ÷ past-due balance; balance that
  rolled to the next bucket ÷ the bucket's balance), so big accounts weigh as their money does.
  The estimate is (segment after − segment before) − (rest after − rest before): what changed in
  the segment beyond what changed in the whole book over the same weeks.
- Champion/challenger: treated against held-out accounts of a segment with a holdout. Each
  account's outcome is a number in [0, 1] (the share of its past-due balance collected within
  30 days); the difference of the two means with a 95% confidence interval from the normal
  approximation (Welch: each arm's sample variance over its count). Below MIN_ARM accounts in
  either arm the recap says "not enough data yet (n = …)" instead of a number.
- Effort against yield: per segment (aging bucket × balance size), its share of the calls against
  its share of the cash collected, and the payment rate by days since the previous contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.domain.aging import BUCKETS, Bucket

# Accounts each arm of a comparison needs before the recap shows a difference: below ~30 the
# normal approximation behind the interval is not to be trusted.
MIN_ARM = 30
Z_95 = Decimal("1.96")
# Windows for the before/after comparison: up to 12 weeks each side of the change, and an
# outcome measured over 30 days needs 30 days after a window closes before it is known.
MAX_WINDOW_DAYS = 84
OUTCOME_DAYS = 30
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)

# The second outcome of a before/after: of the balance 1-120 days past due on a day, the share
# still unpaid 30 days later, which is then a bucket older (buckets are 30 days wide).
ROLL_OUTCOME = "rolled to the next bucket within 30 days (lower is better)"

REGRESSION_WARNING = (
    "No holdout: this segment holds the worst accounts, which tend to improve on their own "
    "(regression to the mean), so a before/after gain may not be the strategy's doing. "
    "Declare `holdout: 10%` to measure it."
)


# --- difference in differences ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ratio:
    """An outcome as a ratio of sums: e.g. dollars collected over dollars past due."""

    numerator: Decimal
    denominator: Decimal
    accounts: int = 0

    @property
    def value(self) -> Decimal | None:
        """The ratio as a percentage, None when there is nothing to divide by."""
        if self.denominator <= _ZERO:
            return None
        return self.numerator / self.denominator * _HUNDRED

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(
            self.numerator + other.numerator,
            self.denominator + other.denominator,
            self.accounts + other.accounts,
        )


@dataclass(frozen=True, slots=True)
class Window:
    """Days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def did_windows(
    changed_on: date, as_of: date, *, outcome_days: int = OUTCOME_DAYS,
    max_days: int = MAX_WINDOW_DAYS,
) -> tuple[Window, Window] | None:
    """Equal windows before and after a change whose outcomes are known by `as_of`.

    The after window starts on the change day and ends `outcome_days` before `as_of` (so every
    account in it had its full 30 days), at most `max_days` long; the before window is as long
    and ends the day before the change. None while no such day has passed yet.
    """
    last = as_of - timedelta(days=outcome_days)
    length = min(max_days, (last - changed_on).days + 1)
    if length <= 0:
        return None
    after = Window(changed_on, changed_on + timedelta(days=length - 1))
    before = Window(changed_on - timedelta(days=length), changed_on - timedelta(days=1))
    return before, after


@dataclass(frozen=True, slots=True)
class DiffInDiff:
    """Both groups' outcome before and after, and the difference in differences (points)."""

    segment_before: Ratio
    segment_after: Ratio
    rest_before: Ratio
    rest_after: Ratio

    @property
    def segment_change(self) -> Decimal | None:
        return _change(self.segment_before, self.segment_after)

    @property
    def rest_change(self) -> Decimal | None:
        return _change(self.rest_before, self.rest_after)

    @property
    def estimate(self) -> Decimal | None:
        """Percentage points the segment moved beyond the rest; None if a group has no data."""
        segment, rest = self.segment_change, self.rest_change
        if segment is None or rest is None:
            return None
        return segment - rest


def _change(before: Ratio, after: Ratio) -> Decimal | None:
    if before.value is None or after.value is None:
        return None
    return after.value - before.value


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    """One account in one window: in the segment or not, and its outcome's two sums (or the
    sums of `accounts` accounts alike in both, added up beforehand)."""

    in_segment: bool
    after: bool  # False: the before window
    numerator: Decimal
    denominator: Decimal
    accounts: int = 1


def difference_in_differences(outcomes: Iterable[AccountOutcome]) -> DiffInDiff:
    """Sum each group's and window's outcome, then difference them."""
    # Plain running sums per group (the same additions, in the same order, as adding Ratios).
    keys = [(s, a) for s in (True, False) for a in (True, False)]
    numerators, denominators = dict.fromkeys(keys, _ZERO), dict.fromkeys(keys, _ZERO)
    counts = dict.fromkeys(keys, 0)
    for outcome in outcomes:
        key = (outcome.in_segment, outcome.after)
        numerators[key] += outcome.numerator
        denominators[key] += outcome.denominator
        counts[key] += outcome.accounts
    sums = {key: Ratio(numerators[key], denominators[key], counts[key]) for key in keys}
    return DiffInDiff(
        segment_before=sums[(True, False)],
        segment_after=sums[(True, True)],
        rest_before=sums[(False, False)],
        rest_after=sums[(False, True)],
    )


# --- champion / challenger -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm's accounts: how many, the mean outcome and its sample variance (fractions)."""

    n: int
    mean: Decimal
    variance: Decimal


def arm(values: Sequence[Decimal]) -> Arm:
    """Count, mean and unbiased sample variance of per-account outcomes."""
    n = len(values)
    if n == 0:
        return Arm(0, _ZERO, _ZERO)
    mean = sum(values, _ZERO) / n
    variance = sum(((v - mean) ** 2 for v in values), _ZERO) / (n - 1) if n > 1 else _ZERO
    return Arm(n, mean, variance)


@dataclass(frozen=True, slots=True)
class HoldoutComparison:
    """Treated against held out: the difference of means and its 95% interval (points)."""

    treated: Arm
    held_out: Arm
    minimum: int = MIN_ARM

    @property
    def enough(self) -> bool:
        return self.treated.n >= self.minimum and self.held_out.n >= self.minimum

    @property
    def difference(self) -> Decimal | None:
        if not self.enough:
            return None
        return (self.treated.mean - self.held_out.mean) * _HUNDRED

    @property
    def interval(self) -> tuple[Decimal, Decimal] | None:
        """The 95% confidence interval of the difference, in percentage points."""
        difference = self.difference
        if difference is None:
            return None
        se = (
            self.treated.variance / self.treated.n + self.held_out.variance / self.held_out.n
        ).sqrt() * _HUNDRED
        return difference - Z_95 * se, difference + Z_95 * se

    def summary(self, outcome: str) -> str:
        """One line for the recap: the numbers, or why there are none yet."""
        counts = f"n = {self.treated.n} treated, {self.held_out.n} held out"
        interval = self.interval
        if interval is None or self.difference is None:
            return f"not enough data yet ({counts}; {self.minimum} each needed)"
        low, high = interval
        verdict = (
            "better" if low > _ZERO else "worse" if high < _ZERO else "no clear difference"
        )
        return (
            f"{outcome}: treated {_pct(self.treated.mean * _HUNDRED)}, held out "
            f"{_pct(self.held_out.mean * _HUNDRED)}, difference {_points(self.difference)} "
            f"(95% CI {_points(low)} to {_points(high)}; {counts}) — {verdict}"
        )


def compare_holdout(
    treated: Sequence[Decimal], held_out: Sequence[Decimal], *, minimum: int = MIN_ARM
) -> HoldoutComparison:
    """Compare per-account outcomes (fractions in [0, 1]) of treated and held-out accounts."""
    return HoldoutComparison(arm(treated), arm(held_out), minimum)


def _pct(value: Decimal) -> str:
    return f"{value:.1f}%"


def _points(value: Decimal) -> str:
    return f"{value:+.1f} pts"


# --- effort against yield --------------------------------------------------------------------

# Balance sizes for "are we over-allocating time to small accounts": lower bounds in dollars.
BALANCE_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("under $1k", Decimal(0)),
    ("$1k-$10k", Decimal(1_000)),
    ("$10k-$50k", Decimal(10_000)),
    ("$50k+", Decimal(50_000)),
)
# Days since the previous contact, for "could we call more often": (label, first day, last day).
CONTACT_GAPS: tuple[tuple[str, int, int | None], ...] = (
    ("1-3 days", 1, 3),
    ("4-7 days", 4, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("31+ days", 31, None),
)
FIRST_CONTACT = "first contact"


def balance_band(past_due: Decimal) -> str:
    """The balance-size band of a past-due balance."""
    label = BALANCE_BANDS[0][0]
    for name, low in BALANCE_BANDS:
        if past_due >= low:
            label = name
    return label


def gap_band(days_since_previous: int | None) -> str:
    """The band of days since the previous contact (same day counts as 1-3)."""
    if days_since_previous is None:
        return FIRST_CONTACT
    for name, _, high in CONTACT_GAPS:
        if high is None or days_since_previous <= high:
            return name
    raise AssertionError("the last gap band is open-ended")


@dataclass(frozen=True, slots=True)
class EffortRow:
    """One segment: its share of calls against its share of cash (percentages)."""

    bucket: Bucket
    band: str
    calls: int
    cash: Decimal
    call_share: Decimal
    cash_share: Decimal

    @property
    def label(self) -> str:
        return f"{self.bucket.label}, {self.band}"

    @property
    def yield_ratio(self) -> Decimal | None:
        """Cash share per call share: below 1 the segment gets more calls than its cash."""
        return None if self.call_share == _ZERO else self.cash_share / self.call_share


def effort_against_yield(
    calls: Mapping[tuple[Bucket, str], int], cash: Mapping[tuple[Bucket, str], Decimal]
) -> list[EffortRow]:
    """Per (aging bucket, balance band) with any calls or cash, ordered by bucket then band."""
    total_calls = sum(calls.values())
    total_cash = sum(cash.values(), _ZERO)
    order = {name: index for index, (name, _) in enumerate(BALANCE_BANDS)}
    rows = []
    for bucket in BUCKETS:
        for band in sorted({b for (k, b) in (*calls, *cash) if k is bucket}, key=order.__getitem__):
            n = calls.get((bucket, band), 0)
            money = cash.get((bucket, band), _ZERO)
            rows.append(
                EffortRow(
                    bucket, band, n, money,
                    _share(Decimal(n), Decimal(total_calls)),
                    _share(money, total_cash),
                )
            )
    return rows


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return _ZERO if whole == _ZERO else part / whole * _HUNDRED


@dataclass(frozen=True, slots=True)
class GapRow:
    """Contacts made after a gap of this many days, and how many were followed by a payment."""

    band: str
    contacts: int
    paid: int

    @property
    def rate(self) -> Decimal | None:
        return None if self.contacts == 0 else Decimal(self.paid) / self.contacts * _HUNDRED


def payment_rate_by_gap(contacts: Iterable[tuple[int | None, bool]]) -> list[GapRow]:
    """(days since the previous contact or None, paid within the outcome window) per contact."""
    counts: dict[str, list[int]] = {name: [0, 0] for name, _, _ in CONTACT_GAPS}
    counts[FIRST_CONTACT] = [0, 0]
    for days, paid in contacts:
        entry = counts[gap_band(days)]
        entry[0] += 1
        entry[1] += int(paid)
    return [GapRow(band, n, paid) for band, (n, paid) in counts.items() if n]
