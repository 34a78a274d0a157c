"""Policy: parsing with every problem listed, segment matching, stored versions and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.db.models import AuditEvent
from bot.db.models import Policy as PolicyRow
from bot.domain.aging import Bucket
from bot.domain.policy import (
    Policy,
    PolicyError,
    SegmentIndex,
    default_policy,
    default_policy_text,
    parse_policy,
    policy_from_dict,
    policy_to_dict,
)
from bot.domain.vocabulary import EscalationLevel
from bot.services.policy import (
    current_policy,
    policy_at,
    policy_history,
    save_policy,
    stored_policy,
)

SMALL_YAML = """
segments:
  - name: big
    match: {min_past_due: 10000}
    recontact_days: 2
    max_attempts: 3
    escalation_path: [manager, legal]
  - name: key tier old
    match: {buckets: [61-90, 91-120], tiers: [Key]}
    recontact_days: 4
    max_attempts: 3
    focus: true
    handoff_after: 2
  - name: everyone
    recontact_days: 7
    max_attempts: 5
likelihood: {"31-60": 0.5}
min_history: 10
"""

SMALL_TOML = """
min_history = 10

[likelihood]
"31-60" = 0.5

[[segments]]
name = "big"
recontact_days = 2
max_attempts = 3
escalation_path = ["manager", "legal"]
[segments.match]
min_past_due = 10000

[[segments]]
name = "key tier old"
recontact_days = 4
max_attempts = 3
focus = true
handoff_after = 2
[segments.match]
buckets = ["61-90", "91-120"]
tiers = ["Key"]

[[segments]]
name = "everyone"
recontact_days = 7
max_attempts = 5
"""


def problems_of(text: str, fmt: str = "yaml") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, fmt)  # type: ignore[arg-type]
    return caught.value.problems


# --- parsing ---------------------------------------------------------------------------------


def test_yaml_and_toml_read_the_same_policy() -> None:
    from_yaml = parse_policy(SMALL_YAML, "yaml")
    from_toml = parse_policy(SMALL_TOML, "toml")
    assert from_yaml == from_toml
    big, key, everyone = from_yaml.segments
    assert big.escalation_path == (EscalationLevel.MANAGER, EscalationLevel.LEGAL)
    assert big.match.min_past_due == Decimal(10000)
    assert key.match.tiers == frozenset({"key"})
    assert (key.focus, key.handoff_after, key.promise_horizon_days) == (True, 2, 30)
    assert everyone.escalation_path == (EscalationLevel.MANAGER,)
    assert from_yaml.likelihood == {Bucket.DAYS_31_60: Decimal("0.5")}
    assert from_yaml.min_history == 10


def test_first_matching_segment_wins() -> None:
    policy = parse_policy(SMALL_YAML)
    assert policy.segment_for(Bucket.DAYS_61_90, Decimal("20000"), "key").name == "big"
    assert policy.segment_for(Bucket.DAYS_61_90, Decimal("9999.99"), "KEY ").name == "key tier old"
    assert policy.segment_for(Bucket.DAYS_31_60, Decimal("500"), "key").name == "everyone"
    assert policy.segment_for(Bucket.DAYS_91_120, Decimal("500"), "standard").name == "everyone"


def test_segment_index_finds_what_segment_for_finds() -> None:
    """The index a whole book is judged with answers as the policy does, for every bucket,
    tier spelling and balance at and around each bound."""
    for policy in (parse_policy(SMALL_YAML), default_policy()):
        index = SegmentIndex(policy)
        bounds = {m for s in policy.segments
                  for m in (s.match.min_past_due, s.match.max_past_due) if m is not None}
        balances = {Decimal(0), Decimal("0.01"), Decimal("123456.78")} | {
            b + d for b in bounds for d in (Decimal("-0.01"), Decimal(0), Decimal("0.01"))}
        for bucket in Bucket:
            for tier in ("key", "KEY ", "standard", "small", ""):
                for balance in sorted(balances):
                    assert index.segment_for(bucket, balance, tier) == policy.segment_for(
                        bucket, balance, tier), (bucket, tier, balance)


def test_balance_range_is_min_inclusive_max_exclusive() -> None:
    policy = parse_policy("""
segments:
  - {name: mid, match: {min_past_due: 1000, max_past_due: 5000}, recontact_days: 1,
     max_attempts: 1}
  - {name: rest, recontact_days: 1, max_attempts: 1}
""")
    assert policy.segment_for(Bucket.DAYS_1_30, Decimal("1000"), "x").name == "mid"
    assert policy.segment_for(Bucket.DAYS_1_30, Decimal("4999.99"), "x").name == "mid"
    assert policy.segment_for(Bucket.DAYS_1_30, Decimal("5000"), "x").name == "rest"
    assert policy.segment_for(Bucket.DAYS_1_30, Decimal("999.99"), "x").name == "rest"


def test_every_problem_is_listed_with_its_path() -> None:
    problems = problems_of("""
segments:
  - name: old
    match: {buckets: [61-91], min_past_due: -3, tierz: [x]}
    recontact_days: 3
    max_attempts: 0
    escalation_path: [legal, manager]
    focus: 1
  - name: typo
    recontact: 3
    max_attempts: 2
  - name: bad days
    recontact_days: three
    max_attempts: 2
likelihood: {"1-30": 1.5, "200+": 0.3}
min_history: true
colour: blue
""")
    assert problems == [
        "colour: unknown key (expected one of segments, likelihood, min_history)",
        "likelihood.1-30: must be a probability above 0 and at most 1 (got 1.5)",
        "likelihood.200+: not an aging bucket (one of current, 1-30, 31-60, 61-90, 91-120, 120+)",
        "min_history: must be a whole number of outcomes >= 1 (got true)",
        "segments[0].match.tierz: unknown key (did you mean 'tiers'?)",
        "segments[0].match.buckets[0]: not an aging bucket (got \"61-91\"; "
        "one of current, 1-30, 31-60, 61-90, 91-120, 120+)",
        "segments[0].match.min_past_due: must be an amount in dollars >= 0 (got -3)",
        "segments[0].max_attempts: must be a whole number of attempts >= 1 (got 0)",
        "segments[0].escalation_path: must climb in the order manager -> agency -> legal "
        "without repeats (got legal -> manager)",
        "segments[0].focus: must be true or false (got 1)",
        "segments[1].recontact: unknown key (did you mean 'recontact_days'?)",
        "segments[1].recontact_days: missing (a whole number of days >= 1)",
        'segments[2].recontact_days: must be a whole number of days >= 1 (got "three")',
    ]


def test_policy_must_end_with_a_catch_all_and_only_there() -> None:
    assert problems_of("""
segments:
  - {name: a, match: {buckets: ["120+"]}, recontact_days: 1, max_attempts: 1}
""") == [
        "segments[0].match: the last segment must be a catch-all (no match conditions) so "
        "every account has a strategy"
    ]
    assert problems_of("""
segments:
  - {name: all, recontact_days: 1, max_attempts: 1}
  - {name: all, match: {tiers: [key]}, recontact_days: 1, max_attempts: 1}
""") == [
        "segments[0].match: matches every account, so segments after it never apply "
        "(only the last segment may be a catch-all)",
        "segments[1].name: 'all' is already the name of segments[0]",
        "segments[1].match: the last segment must be a catch-all (no match conditions) so "
        "every account has a strategy",
    ]


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("", "yaml", 'policy: must be a mapping with a \'segments\' list (got nothing)'),
        ("segments: []", "yaml", "segments: must be a non-empty list (got a list)"),
        ("min_history: 3", "yaml", "segments: missing (a list of segments, the last one a "
         "catch-all)"),
        ("segments:\n  - name: a\n  - name: a\n", "yaml", None),
        ("a: 1\na: 2\n", "yaml", "line 2, column 1: not valid YAML: key 'a' appears twice"),
        ("segments: [", "yaml", None),
        ("segments = [", "toml", None),
    ],
)
def test_unusable_files_are_refused(text: str, fmt: str, expected: str | None) -> None:
    problems = problems_of(text, fmt)
    assert problems
    if expected is not None:
        assert problems[0] == expected


def test_escalation_path_bounds_and_horizon() -> None:
    problems = problems_of("""
segments:
  - name: a
    recontact_days: 1
    max_attempts: 1
    escalation_path: [manager, manager]
    promise_horizon_days: 400
    handoff_after: 0
  - name: b
    recontact_days: 1
    max_attempts: 1
    escalation_path: [court]
    match: {min_past_due: 500, max_past_due: 100}
""")
    assert problems == [
        "segments[0].escalation_path: must climb in the order manager -> agency -> legal "
        "without repeats (got manager -> manager)",
        "segments[0].handoff_after: must be a whole number of attempts >= 1, or null to keep "
        "one collector (got 0)",
        "segments[0].promise_horizon_days: must be a whole number of days from 1 to 365 (got 400)",
        "segments[1].match.max_past_due: must be more than min_past_due (100 <= 500); "
        "min is inclusive, max exclusive",
        "segments[1].escalation_path[0]: not an escalation level (got \"court\"; one of "
        "manager, agency, legal)",
    ]


def test_empty_escalation_path_means_never_escalate() -> None:
    policy = parse_policy("segments: [{name: a, recontact_days: 1, max_attempts: 1, "
                          "escalation_path: []}]")
    assert policy.segments[0].escalation_path == ()


def test_dict_round_trip_keeps_the_policy() -> None:
    for policy in (parse_policy(SMALL_YAML), default_policy()):
        body = policy_to_dict(policy)
        assert policy_from_dict(body) == policy
        assert policy_to_dict(policy_from_dict(body)) == body


def test_default_policy_is_sensible() -> None:
    policy = default_policy()
    assert 4 <= len(policy.segments) <= 6
    assert policy.segments[-1].match.is_catch_all
    old = policy.segment_for(Bucket.DAYS_120_PLUS, Decimal("900"), "standard")
    assert old.escalation_path[-1] is EscalationLevel.LEGAL
    focus = policy.segment_for(Bucket.DAYS_61_90, Decimal("900"), "standard")
    assert (focus.focus, focus.recontact_days) == (True, 3)
    key = policy.segment_for(Bucket.DAYS_31_60, Decimal("50000"), "standard")
    assert key.name == "key accounts" and key.handoff_after is None
    assert "first one that matches" in default_policy_text().replace("FIRST", "first")


# --- stored versions -------------------------------------------------------------------------


def test_nothing_stored_means_the_default(db: Database) -> None:
    with db.uow() as uow:
        assert current_policy(uow.session) == (None, default_policy())
        assert policy_history(uow.session) == []
        assert policy_at(uow.session, datetime(2026, 1, 1, tzinfo=UTC))[0] is None


def test_save_versions_history_and_policy_at(db: Database) -> None:
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    thursday = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    with db.uow() as uow:
        first = save_policy(uow, default_policy_text(), "yaml", "U1", "start", now=monday)
        uow.commit()
    with db.uow() as uow:
        same = save_policy(uow, default_policy_text() + "\n# a comment\n", "yaml", "U2", "noop")
        second = save_policy(uow, SMALL_TOML, "toml", "U2", "push big balances", now=thursday)
        uow.commit()
    with db.uow() as uow:  # stored in the caller's unit of work: gone unless it commits
        changed = SMALL_TOML.replace("min_history = 10", "min_history = 11")
        assert save_policy(uow, changed, "toml", "U3", "not committed") == 3
    assert (first, same, second) == (1, 1, 2)
    with db.uow() as uow:
        assert current_policy(uow.session) == (2, parse_policy(SMALL_YAML))
        assert policy_at(uow.session, datetime(2026, 11, 1, tzinfo=UTC))[0] is None
        assert policy_at(uow.session, monday) == (1, default_policy())
        assert policy_at(uow.session, datetime(2026, 11, 4, tzinfo=UTC))[0] == 1
        assert policy_at(uow.session, thursday)[0] == 2
        history = policy_history(uow.session)
        assert [(h.version, h.created_by, h.note, h.segments) for h in history] == [
            (1, "U1", "start", 6),
            (2, "U2", "push big balances", 3),
        ]
        stored = stored_policy(uow.session, 2)
        assert stored is not None and stored.source == SMALL_TOML
        assert stored_policy(uow.session, 3) is None
        audits = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(a.actor, a.action, a.entity_id) for a in audits] == [
            ("U1", "policy.saved", "1"),
            ("U2", "policy.saved", "2"),
        ]
        assert audits[1].detail is not None and audits[1].detail["previous"] == 1


def test_invalid_policy_stores_nothing(db: Database) -> None:
    with db.uow() as uow, pytest.raises(PolicyError):
        save_policy(uow, "segments: []", "yaml", "U1", None)
    with db.uow() as uow:
        assert uow.session.scalars(select(PolicyRow)).all() == []
        assert uow.session.scalars(select(AuditEvent)).all() == []


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return db_url


def test_cli_check_set_show_history(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "policy.toml"
    good.write_text(SMALL_TOML, encoding="utf-8")
    assert main(["policy", "check", str(good)]) == 0
    assert "ok, 3 segments (big, key tier old, everyone)" in capsys.readouterr().out

    assert main(["policy", "history"]) == 0
    assert "no policy stored" in capsys.readouterr().out
    assert main(["policy", "show"]) == 0
    assert capsys.readouterr().out.startswith("# built-in default policy")

    assert main(["policy", "set", str(good), "--note", "big first"]) == 0
    assert capsys.readouterr().out == "policy version 1 saved\n"
    assert main(["policy", "set", str(good)]) == 0
    assert "identical to version 1" in capsys.readouterr().out

    assert main(["policy", "show"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# version 1, saved ") and "by cli - big first" in shown
    assert SMALL_TOML in shown
    assert main(["policy", "history"]) == 0
    assert "v1 " in capsys.readouterr().out
    assert main(["policy", "show", "--version", "7"]) == 2
    assert "no stored policy version 7" in capsys.readouterr().err

    database = Database(cli_db)
    with database.uow() as uow:
        assert current_policy(uow.session)[0] == 1
    database.dispose()


def test_cli_refuses_a_bad_file_and_stores_nothing(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "policy.yml"
    bad.write_text("segments:\n  - {name: a, recontact_days: three, max_attempts: 1}\n",
                   encoding="utf-8")
    assert main(["policy", "check", str(bad)]) == 1
    assert main(["policy", "set", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: 1 problem, nothing stored" in err
    assert 'segments[0].recontact_days: must be a whole number of days >= 1 (got "three")' in err
    assert main(["policy", "set", str(tmp_path / "missing.yml")]) == 2
    database = Database(cli_db)
    with database.uow() as uow:
        assert current_policy(uow.session)[0] is None
    database.dispose()


def test_cli_default_prints_the_shipped_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "default"]) == 0
    out = capsys.readouterr().out
    assert out == default_policy_text()
    assert isinstance(parse_policy(out), Policy)
