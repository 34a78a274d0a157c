"""Escalation rules: which accounts go to a manager and why, in words with the numbers.

Plain functions over one account's facts and its segment's rules (bot.domain.policy). Each
reason carries its evidence: what the cause is about (the day the silence began, the promise
that broke, the dispute). A manager's decision settles the causes it saw; a cause with new
evidence (a later broken promise) escalates again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from bot.domain.aging import Bucket, bucket_for, days_past_due
from bot.domain.money import format_money
from bot.domain.policy import EscalationRules, Policy, Segment, SegmentIndex
from bot.domain.vocabulary import CustomerStatus, EscalationLevel

NO_CONTACT = "no_contact"
ATTEMPTS = "attempts"
BROKEN_PROMISES = "broken_promises"
PAST_DUE = "past_due"
DISPUTE = "dispute"
RULES = (NO_CONTACT, ATTEMPTS, BROKEN_PROMISES, PAST_DUE, DISPUTE)

SEPARATOR = " · "
ZERO = Decimal("0.00")

# Accounts someone else works (or nobody should): never escalated; an open escalation closes.
NEVER_ESCALATE: Mapping[CustomerStatus, str] = {
    CustomerStatus.ON_HOLD: "the account is on hold",
    CustomerStatus.AGENCY: "the account is with a collection agency",
    CustomerStatus.LEGAL: "the account is in legal",
    CustomerStatus.CLOSED: "the account is closed",
}


@dataclass(slots=True)
class EscalationFacts:
    """What the rules read about one account; dates are local dates of its collector.

    Not frozen: a run builds one per account of the book, and a frozen dataclass is several
    times slower to build (the rules never change one)."""

    customer_id: int
    status: CustomerStatus
    tier: str
    past_due: Decimal  # open past-due balance outside disputes
    oldest_due: date | None  # due date of the oldest past-due invoice outside disputes
    disputed: Decimal = ZERO  # open balance on disputed invoices
    last_contact_on: date | None = None  # the last call, whatever its outcome
    last_reached_on: date | None = None  # the last right-party contact
    last_paid_on: date | None = None  # the last payment received
    unreached_attempts: int = 0  # calls since the later of the last two
    broken_on: tuple[date, ...] = ()  # days recent promises were marked broken
    latest_broken_id: int | None = None
    last_promise_on: date | None = None  # the day the latest promise was made
    dispute_opened_on: date | None = None  # the oldest open dispute
    dispute_id: int | None = None


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    """An open escalation as an operator or a manager lists it."""

    escalation_id: int
    customer_id: int
    external_ref: str
    customer_name: str
    customer_status: CustomerStatus
    collector_name: str | None
    collector_slack_id: str | None
    manager_slack_id: str | None
    level: EscalationLevel
    reason: str
    opened_at: datetime
    updated_at: datetime | None
    past_due: Decimal
    days_past_due: int
    snoozed_until: date | None


class Reason(NamedTuple):
    """One rule that holds: its words with the numbers, and the evidence it is about.

    A named tuple: a run builds one per rule per account of the book (cheaper than a frozen
    dataclass, as immutable)."""

    rule: str
    text: str
    evidence: str


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def segment_of(facts: EscalationFacts, policy: Policy | SegmentIndex, today: date) -> Segment:
    """The strategy the account is worked by today (its aging bucket, balance and tier)."""
    bucket = bucket_for(facts.oldest_due, today) if facts.oldest_due else Bucket.CURRENT
    return policy.segment_for(bucket, facts.past_due, facts.tier)


def standing(facts: EscalationFacts, segment: Segment) -> str | None:
    """Why the account cannot escalate at all (status, strategy, balance), or None."""
    if facts.status in NEVER_ESCALATE:
        return NEVER_ESCALATE[facts.status]
    if not segment.escalation_path:
        return f"its strategy ({segment.name}) never escalates"
    owed = facts.past_due + facts.disputed
    if owed <= 0:
        return "nothing is past due any more"
    floor = segment.escalate.min_balance
    if owed < floor:
        return (f"{format_money(owed)} past due is below the minimum of {format_money(floor)} "
                f"({segment.name})")
    return None


def _latest(*days: date | None) -> date | None:
    latest = None
    for day in days:
        if day is not None and (latest is None or day > latest):
            latest = day
    return latest


def _silent_since(facts: EscalationFacts) -> date | None:
    """The day the account's silence began: the last call, payment or past-due date."""
    return _latest(facts.last_contact_on, facts.last_paid_on, facts.oldest_due)


def _no_contact(facts: EscalationFacts, rules: EscalationRules, today: date) -> Reason | None:
    limit = rules.no_contact_days
    if limit is None or facts.past_due <= 0:
        return None
    since = _silent_since(facts)
    if since is None:
        return None
    silent = (today - since).days
    if silent < limit:
        return None
    return no_contact_reason(silent, limit, since)


def no_contact_reason(silent: int, limit: int, since: date) -> Reason:
    return Reason(NO_CONTACT, f"no contact for {_days(silent)} (policy: {limit})",
                  since.isoformat())


def _reached_since(facts: EscalationFacts) -> date | None:
    return _latest(facts.last_reached_on, facts.last_paid_on)


def _attempts(facts: EscalationFacts, segment: Segment) -> Reason | None:
    count, limit = facts.unreached_attempts, segment.max_attempts
    if facts.past_due <= 0 or count < limit:
        return None
    return attempts_reason(count, limit, _reached_since(facts))


def attempts_reason(count: int, limit: int, since: date | None) -> Reason:
    word = "attempt" if count == 1 else "attempts"
    return Reason(ATTEMPTS, f"{count} {word}, nobody reached (policy: {limit})",
                  since.isoformat() if since else "never")


def _recent_breaks(facts: EscalationFacts, rules: EscalationRules, today: date) -> list[date]:
    window = rules.broken_promise_days
    return sorted(d for d in facts.broken_on if (today - d).days < window)


def _broken_promises(
    facts: EscalationFacts, rules: EscalationRules, today: date
) -> Reason | None:
    limit = rules.broken_promises
    if limit is None or len(facts.broken_on) < limit or facts.past_due <= 0:
        return None
    recent = _recent_breaks(facts, rules, today)
    if len(recent) < limit:
        return None
    last = recent[-1]
    if any(d is not None and d >= last for d in (facts.last_promise_on, facts.last_paid_on)):
        return None  # a new promise or a payment since the last break
    return broken_promises_reason(len(recent), rules.broken_promise_days, limit,
                                  facts.latest_broken_id)


def broken_promises_reason(count: int, window: int, limit: int, promise_id: int | None
                           ) -> Reason:
    word = "promise" if count == 1 else "promises"
    return Reason(BROKEN_PROMISES, f"{count} {word} broken in {window} days (policy: {limit})",
                  f"promise {promise_id}")


def _past_due(facts: EscalationFacts, rules: EscalationRules, today: date) -> Reason | None:
    over = rules.past_due_over
    if over is None or facts.oldest_due is None or facts.past_due < over:
        return None
    late = days_past_due(facts.oldest_due, today)
    if late <= rules.past_due_days:
        return None
    return past_due_reason(facts.past_due, past_due_tail(late, over, rules.past_due_days),
                           facts.oldest_due.isoformat())


def past_due_tail(late: int, over: Decimal, days: int) -> str:
    """The past-due reason's words after the amount (the same for many accounts)."""
    return f" past due, oldest {_days(late)} (policy: {format_money(over)} over {days} days)"


def past_due_reason(past_due: Decimal, tail: str, oldest: str) -> Reason:
    """"$60,000 past due, oldest 95 days (policy: $50,000 over 45 days)", about the oldest
    past-due invoice's due date (`oldest`, ISO); `tail` is past_due_tail's."""
    return Reason(PAST_DUE, format_money(past_due) + tail, oldest)


def _dispute(facts: EscalationFacts, rules: EscalationRules, today: date) -> Reason | None:
    limit = rules.dispute_days
    if limit is None or facts.dispute_opened_on is None:
        return None
    open_for = (today - facts.dispute_opened_on).days
    if open_for <= limit:
        return None
    return dispute_reason(open_for, limit, facts.dispute_id)


def dispute_reason(open_for: int, limit: int, dispute_id: int | None) -> Reason:
    return Reason(DISPUTE, f"dispute open {_days(open_for)} (policy: {limit})",
                  f"dispute {dispute_id}")


def escalation_reasons(facts: EscalationFacts, segment: Segment, today: date) -> list[Reason]:
    """Every rule of the segment that holds for the account today, in the rules' order."""
    if standing(facts, segment) is not None:
        return []
    rules = segment.escalate
    found = (
        _no_contact(facts, rules, today),
        _attempts(facts, segment),
        _broken_promises(facts, rules, today),
        _past_due(facts, rules, today),
        _dispute(facts, rules, today),
    )
    return [reason for reason in found if reason is not None]


def reasons_text(reasons: list[Reason]) -> str:
    """The reasons joined as a manager reads them."""
    return SEPARATOR.join([reason.text for reason in reasons])


def is_settled(reasons: list[Reason], settled: Mapping[str, str]) -> bool:
    """True when a decision already saw every one of these causes (same rule, same evidence)."""
    return all(settled.get(reason.rule) == reason.evidence for reason in reasons)


def _after(day: date | None, evidence: str) -> bool:
    """True when `day` is later than the date an evidence string holds (or it holds none)."""
    if day is None:
        return False
    try:
        return day > date.fromisoformat(evidence)
    except ValueError:
        return True


def _gone(rule: str, evidence: str, facts: EscalationFacts, segment: Segment) -> str:
    """Why a rule that held no longer does, in words."""
    if rule == BROKEN_PROMISES:
        return _promises_gone(facts)
    if rule == PAST_DUE:
        return f"past due now {format_money(facts.past_due)}"
    if rule == DISPUTE:
        return "dispute resolved"
    called = facts.last_reached_on if rule == ATTEMPTS else facts.last_contact_on
    events = (("reached" if rule == ATTEMPTS else "called", called),
              ("payment received", facts.last_paid_on))
    for label, day in events:
        if day is not None and _after(day, evidence):
            return f"{label} on {_day(day)}"
    if rule == ATTEMPTS:
        return f"fewer than {segment.max_attempts} unanswered attempts"
    return f"contacted within {segment.escalate.no_contact_days} days"


def _promises_gone(facts: EscalationFacts) -> str:
    last = max(facts.broken_on, default=None)
    if last and facts.last_promise_on and facts.last_promise_on >= last:
        return f"new promise to pay made on {_day(facts.last_promise_on)}"
    if last and facts.last_paid_on and facts.last_paid_on >= last:
        return f"payment received on {_day(facts.last_paid_on)}"
    return "the broken promises are older than the policy's window"


def close_reason(
    facts: EscalationFacts, segment: Segment, held: Mapping[str, str], today: date
) -> str:
    """Why an escalation whose rules held (`held`: rule -> evidence) no longer needs a manager."""
    why_not = standing(facts, segment)
    if why_not is not None:
        return why_not
    holding = {reason.rule for reason in escalation_reasons(facts, segment, today)}
    gone = [_gone(rule, evidence, facts, segment)
            for rule, evidence in held.items() if rule not in holding]
    return SEPARATOR.join(dict.fromkeys(gone)) or "no rule holds any more"


def account_gone_reason(status: CustomerStatus | None) -> str:
    """Why an escalated account the rules no longer see is closed: its status, or paid up."""
    if status is not None and status in NEVER_ESCALATE:
        return NEVER_ESCALATE[status]
    return "nothing is past due any more"
