"""Escalation rules on hand-made facts with a fixed today: each rule, its words, its limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.domain.escalations import (
    EscalationFacts,
    Reason,
    close_reason,
    escalation_reasons,
    is_settled,
    reasons_text,
    segment_of,
    standing,
)
from bot.domain.policy import (
    DEFAULT_ESCALATION_RULES,
    PolicyError,
    Segment,
    SegmentMatch,
    default_policy,
    parse_policy,
    policy_from_dict,
    policy_to_dict,
)
from bot.domain.vocabulary import CustomerStatus, EscalationLevel

TODAY = date(2026, 11, 23)
SEGMENT = Segment(name="all", match=SegmentMatch(), recontact_days=7, max_attempts=4)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def facts(**changes: object) -> EscalationFacts:
    """An account $2,000 past due for 20 days, called 3 days ago: nothing holds."""
    base = EscalationFacts(
        customer_id=1, status=CustomerStatus.ACTIVE, tier="standard",
        past_due=Decimal("2000.00"), oldest_due=ago(20), last_contact_on=ago(3),
        last_reached_on=ago(3),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def texts(account: EscalationFacts, segment: Segment = SEGMENT) -> list[str]:
    return [reason.text for reason in escalation_reasons(account, segment, TODAY)]


def test_a_healthy_account_has_no_reason() -> None:
    assert texts(facts()) == []


def test_no_contact_counts_from_the_last_call_payment_or_due_date() -> None:
    assert texts(facts(last_contact_on=ago(12))) == []
    assert texts(facts(last_contact_on=ago(14))) == ["no contact for 14 days (policy: 14)"]
    # Never called: the silence began when the oldest invoice fell due.
    assert texts(facts(last_contact_on=None, last_reached_on=None, oldest_due=ago(15))) == [
        "no contact for 15 days (policy: 14)"]
    # Called 30 days ago, but past due for only 10: ten days of silence while past due.
    assert texts(facts(last_contact_on=ago(30), oldest_due=ago(10))) == []
    # A payment counts as a sign of life.
    assert texts(facts(last_contact_on=ago(30), last_paid_on=ago(5))) == []
    seven = replace(SEGMENT, escalate=replace(DEFAULT_ESCALATION_RULES, no_contact_days=7))
    assert texts(facts(last_contact_on=ago(12)), seven) == ["no contact for 12 days (policy: 7)"]


def test_attempts_without_reaching_anyone() -> None:
    account = facts(last_reached_on=ago(20), unreached_attempts=5)
    assert texts(account) == ["5 attempts, nobody reached (policy: 4)"]
    assert texts(facts(unreached_attempts=3)) == []
    reason = escalation_reasons(account, SEGMENT, TODAY)[0]
    assert reason.evidence == ago(20).isoformat()


def test_issue_example_reads_as_written() -> None:
    seven = replace(SEGMENT, escalate=replace(DEFAULT_ESCALATION_RULES, no_contact_days=7))
    account = facts(last_contact_on=ago(12), last_reached_on=None, unreached_attempts=5)
    assert reasons_text(escalation_reasons(account, seven, TODAY)) == (
        "no contact for 12 days (policy: 7) · 5 attempts, nobody reached (policy: 4)")


def test_broken_promises_in_the_window() -> None:
    account = facts(broken_on=(ago(40), ago(5)), latest_broken_id=9, last_promise_on=ago(20))
    assert texts(account) == ["2 promises broken in 60 days (policy: 2)"]
    # One of them is older than the window.
    assert texts(replace(account, broken_on=(ago(61), ago(5)))) == []
    # A new promise (or a payment) since the last break clears it.
    assert texts(replace(account, last_promise_on=ago(2))) == []
    assert texts(replace(account, last_paid_on=ago(5))) == []
    reason = escalation_reasons(account, SEGMENT, TODAY)[0]
    assert reason.evidence == "promise 9"


def test_large_old_balance() -> None:
    big = facts(past_due=Decimal("62000.00"), oldest_due=ago(95))
    assert texts(big) == ["$62,000 past due, oldest 95 days (policy: $50,000 over 90 days)"]
    assert texts(replace(big, oldest_due=ago(90))) == []  # more than 90 days, not 90
    assert texts(replace(big, past_due=Decimal("49999.99"))) == []


def test_dispute_open_too_long() -> None:
    account = facts(dispute_opened_on=ago(45), dispute_id=3)
    assert texts(account) == ["dispute open 45 days (policy: 30)"]
    assert texts(replace(account, dispute_opened_on=ago(30))) == []
    # Everything past due may be in the dispute: the disputed balance counts for the minimum.
    only_disputed = replace(account, past_due=Decimal("0.00"), oldest_due=None,
                            disputed=Decimal("800.00"))
    assert texts(only_disputed) == ["dispute open 45 days (policy: 30)"]


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (CustomerStatus.AGENCY, "the account is with a collection agency"),
        (CustomerStatus.LEGAL, "the account is in legal"),
        (CustomerStatus.ON_HOLD, "the account is on hold"),
        (CustomerStatus.CLOSED, "the account is closed"),
    ],
)
def test_accounts_worked_elsewhere_never_escalate(status: CustomerStatus, why: str) -> None:
    stale = facts(status=status, last_contact_on=None, unreached_attempts=9)
    assert texts(stale) == []
    assert standing(stale, SEGMENT) == why


def test_minimum_balance_and_an_empty_path() -> None:
    small = facts(past_due=Decimal("80.00"), last_contact_on=ago(40))
    assert texts(small) == []
    assert standing(small, SEGMENT) == "$80 past due is below the minimum of $100 (all)"
    never = replace(SEGMENT, escalation_path=())
    assert standing(facts(), never) == "its strategy (all) never escalates"
    assert texts(facts(last_contact_on=ago(40)), never) == []


def test_close_reasons_say_what_changed() -> None:
    held = {"no_contact": ago(20).isoformat(), "attempts": "never"}
    called = facts(last_contact_on=ago(1), last_reached_on=ago(1))
    assert close_reason(called, SEGMENT, held, TODAY) == (
        f"called on {ago(1).day} Nov · reached on {ago(1).day} Nov")
    paid = facts(past_due=Decimal("0.00"), oldest_due=None)
    assert close_reason(paid, SEGMENT, held, TODAY) == "nothing is past due any more"
    promised = facts(broken_on=(ago(40), ago(5)), last_promise_on=ago(1))
    assert close_reason(promised, SEGMENT, {"broken_promises": "promise 9"}, TODAY) == (
        f"new promise to pay made on {ago(1).day} Nov")
    resolved = facts()
    assert close_reason(resolved, SEGMENT, {"dispute": "dispute 3"}, TODAY) == "dispute resolved"
    agency = facts(status=CustomerStatus.AGENCY)
    assert close_reason(agency, SEGMENT, held, TODAY) == "the account is with a collection agency"


def test_a_decision_settles_only_the_causes_it_saw() -> None:
    account = facts(broken_on=(ago(40), ago(5)), latest_broken_id=9)
    reasons = escalation_reasons(account, SEGMENT, TODAY)
    assert is_settled(reasons, {"broken_promises": "promise 9"})
    later = replace(account, broken_on=(ago(40), ago(5), ago(1)), latest_broken_id=12)
    assert not is_settled(escalation_reasons(later, SEGMENT, TODAY),
                          {"broken_promises": "promise 9"})


def test_segment_of_uses_the_accounts_bucket_and_balance() -> None:
    policy = default_policy()
    key = facts(past_due=Decimal("60000.00"), oldest_due=ago(50))
    assert segment_of(key, policy, TODAY).name == "key accounts"
    assert segment_of(facts(oldest_due=ago(150)), policy, TODAY).name == "120+ days"
    assert segment_of(facts(past_due=Decimal(0), oldest_due=None), policy, TODAY).name == (
        "light touch")


def test_default_policy_documents_and_sets_the_rules() -> None:
    policy = default_policy()
    key = policy.segment_named("key accounts")
    assert (key.escalate.no_contact_days, key.escalate.min_balance) == (7, Decimal(1000))
    old = policy.segment_named("120+ days")
    assert old.escalate.past_due_over == Decimal(10000)
    assert old.escalation_path[-1] is EscalationLevel.LEGAL
    assert policy_from_dict(policy_to_dict(policy)) == policy


def _problems(escalate: str) -> list[str]:
    text = f"segments:\n  - name: all\n    recontact_days: 7\n    max_attempts: 4\n" \
           f"    escalate: {escalate}\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value.problems


def test_escalation_rules_are_validated_with_clear_messages() -> None:
    assert _problems("{no_contact_day: 7}") == [
        "segments[0].escalate.no_contact_day: unknown key (did you mean 'no_contact_days'?)"]
    assert _problems("{no_contact_days: 0, broken_promises: two, min_balance: -5}") == [
        "segments[0].escalate.no_contact_days: must be a whole number of days from 1 to 365, "
        "or null to turn the rule off (got 0)",
        "segments[0].escalate.broken_promises: must be a whole number of promises from 1 to "
        "100, or null to turn the rule off (got \"two\")",
        "segments[0].escalate.min_balance: must be an amount in dollars >= 0 (got -5)",
    ]
    assert _problems("{past_due_over: 50, min_balance: 100}") == [
        "segments[0].escalate.past_due_over: must be at least min_balance (50 < 100); below "
        "min_balance nothing escalates"]
    assert _problems("{broken_promise_days: null}") == [
        "segments[0].escalate.broken_promise_days: must be a number of days (turn the rule "
        "off with broken_promises: null)"]
    assert _problems("7") == ["segments[0].escalate: must be a mapping of escalation rules "
                              "(got 7)"]


def test_rules_turned_off_and_stored() -> None:
    policy = parse_policy("segments:\n  - name: all\n    recontact_days: 7\n    max_attempts: 4\n"
                          "    escalate: {no_contact_days: null, past_due_over: null}\n")
    rules = policy.segments[0].escalate
    assert (rules.no_contact_days, rules.past_due_over, rules.dispute_days) == (None, None, 30)
    body = policy_to_dict(policy)
    assert body["segments"][0]["escalate"]["no_contact_days"] is None
    assert policy_from_dict(body) == policy
    assert texts(facts(last_contact_on=ago(90)), policy.segments[0]) == []


def test_evidence_text_is_what_the_json_column_stores() -> None:
    """The steady run compares the evidence as text, written out by hand: it must be exactly
    json.dumps' text (SQLAlchemy's serializer for the column), whatever the evidence holds."""
    import json

    from bot.services.escalations import _evidence, _evidence_json

    cases = [
        [],
        [Reason("no_contact", "x", "2026-11-02")],
        [Reason("no_contact", "x", "2026-11-02"), Reason("attempts", "y", "never"),
         Reason("broken_promises", "z", "promise 12"), Reason("past_due", "p", "2026-01-31"),
         Reason("dispute", "d", "dispute 7")],
        [Reason("dispute", "d", 'a "quoted" \\ note\twith é, ✓ and \x01'),
         Reason("dispute", "d", "the later one wins")],
    ]
    for reasons in cases:
        assert _evidence_json(reasons) == json.dumps(_evidence(reasons))
