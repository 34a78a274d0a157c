"""`/collect`: parsing every subcommand, running them against a ledger, and never raising."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import (
    CallList,
    CallListEntry,
    ContactAttempt,
    Customer,
    Dispute,
    DisputeInvoice,
    Escalation,
    Invoice,
    PromiseToPay,
    TeamMember,
)
from bot.domain.vocabulary import EscalationLevel, Outcome
from bot.services import commands, roster
from bot.services.home import open_escalations
from bot.slack.blockkit import validate_message
from bot.views.replies import SOMETHING_WRONG, SUBCOMMANDS
from handlers.commands.collect import run_collect
from handlers.commands.collect_parser import (
    Account,
    Assign,
    DateSpec,
    DisputeCmd,
    Find,
    Help,
    Log,
    Note,
    Promise,
    ShowList,
    UsageError,
    parse_collect,
    parse_date,
)
from tests.service_seed import NOW, TODAY, Seed, day, seed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("  HELP  promise", Help(topic="promise")),
        ("help nope", Help(unknown="nope")),
        ("frob x", Help(unknown="frob")),
        ("list", ShowList()),
        ("log C-1001 vm", Log("C-1001", Outcome.LEFT_VOICEMAIL, None)),
        ("log acme No-Answer  rang twice ", Log("acme", Outcome.NO_ANSWER, "rang twice")),
        ('log "Acme Corp" reached said "next week"',
         Log("Acme Corp", Outcome.REACHED, 'said "next week"')),
        ("log \u201cAcme Corp\u201d wrong-number", Log("Acme Corp", Outcome.WRONG_NUMBER, None)),
        ("log Smith&amp;Sons paid", Log("Smith&Sons", Outcome.PAID, None)),
        ("promise C-1001 $1,200.50 2026-12-01",
         Promise("C-1001", Decimal("1200.50"), DateSpec("date", date(2026, 12, 1), "2026-12-01"))),
        ("promise acme 75 +3", Promise("acme", Decimal("75.00"), DateSpec("offset", 3, "+3"))),
        ("dispute acme pricing wrong rate", DisputeCmd("acme", "pricing", "wrong rate")),
        ("dispute acme they say it never arrived",
         DisputeCmd("acme", "other", "they say it never arrived")),
        ("note acme call back after 3pm", Note("acme", "call back after 3pm")),
        ("find acme corp", Find("acme corp")),
        ("account acme corp", Account("acme corp")),
        ('account "Acme Corp"', Account("Acme Corp")),
        ("assign C-1 <@U123ABC|bob>", Assign("C-1", "U123ABC")),
        ("assign C-1 <@U123ABC>", Assign("C-1", "U123ABC")),
        ("assign C-1 @bob", Assign("C-1", "bob", by_name=True)),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse_collect(text) == expected


@pytest.mark.parametrize(
    ("text", "subcommand", "problem"),
    [
        ("log", "log", "Missing ACCOUNT"),
        ("log acme", "log", "Missing OUTCOME"),
        ("log acme sang", "log", "'sang' is not an outcome"),
        ("log acme ptp", "promise", "amount and a date"),
        ("log acme dispute", "dispute", "needs a reason"),
        ("log acme note", "note", "Missing TEXT"),
        ("promise acme", "promise", "Missing AMOUNT"),
        ("promise acme 12x", "promise", "Enter an amount"),
        ("promise acme 100", "promise", "Missing DATE"),
        ("promise acme 100 someday", "promise", "not a date"),
        ("promise acme 100 2026-02-30", "promise", "not a real date"),
        ("promise acme 100 +99999", "promise", "too far ahead"),
        ("promise acme 100 friday extra", "promise", "Unexpected 'extra'"),
        ('promise "acme 100 friday', "promise", "quote is not closed"),
        ("dispute acme", "dispute", "Missing REASON"),
        ("note acme", "note", "Missing TEXT"),
        ("find", "find", "Missing TEXT"),
        ("account", "account", "Missing ACCOUNT"),
        ("list now", "list", "Unexpected 'now'"),
        ("assign acme", "assign", "Missing @user"),
        ("assign acme @bob extra", "assign", "Unexpected"),
        ("team x", "team", "Unexpected"),
    ],
)
def test_parse_usage_errors(text: str, subcommand: str, problem: str) -> None:
    result = parse_collect(text)
    assert isinstance(result, UsageError)
    assert result.subcommand == subcommand
    assert problem in result.problem


def test_dates_resolve_against_today() -> None:
    monday = date(2026, 11, 23)
    resolved = {
        word: spec.resolve(monday)
        for word in ("today", "tomorrow", "+3", "friday", "mon", "2026-12-01")
        if isinstance(spec := parse_date(word), DateSpec)
    }
    assert resolved == {
        "today": monday, "tomorrow": date(2026, 11, 24), "+3": date(2026, 11, 26),
        "friday": date(2026, 11, 27), "mon": date(2026, 11, 30), "2026-12-01": date(2026, 12, 1),
    }


def _run(db: Database, text: str, user: str = "UALICE") -> str:
    return run_collect(db, user_id=user, text=text, now=NOW, default_tz="UTC").text


def _attempts(db: Database) -> int:
    with db.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ContactAttempt)) or 0


def test_writes_through_the_command(db: Database) -> None:
    ids = seed(db)
    assert "Recorded *Left voicemail*" in _run(db, 'log "acme corp" vm left a message')
    assert "promise of $1,200 by Fri 27 Nov 2026" in _run(db, "promise C-1001 $1,200 friday")
    assert "Opened a dispute (Pricing)" in _run(db, "dispute C-1001 pricing rate")
    assert "Noted on" in _run(db, "note C-1001 asked for a copy")
    with db.uow() as uow:
        s = uow.session
        attempts = s.scalars(select(ContactAttempt).order_by(ContactAttempt.id)).all()
        assert [(a.outcome, a.source) for a in attempts] == [
            (Outcome.LEFT_VOICEMAIL, "command"), (Outcome.PROMISE_TO_PAY, "command"),
            (Outcome.DISPUTE, "command"), (Outcome.NOTE, "command")]
        assert attempts[0].note == "left a message"
        promise = s.scalars(select(PromiseToPay)).one()
        assert (promise.amount, promise.promised_date) == (Decimal("1200.00"), day(4))
    reply = _run(db, "account C-1001")
    assert "*Acme Corp* (C-1001) · Alice" in reply
    assert "$1,200 by Fri 27 Nov" in reply and "Left voicemail" in reply
    with db.uow() as uow:
        assert {a.customer_id for a in uow.session.scalars(select(ContactAttempt))} == {
            ids.acme_corp}


def test_mistakes_get_a_specific_reply_and_change_nothing(db: Database) -> None:
    seed(db)
    cases = {
        "log acme vm": "'acme' matches 2 accounts",
        "log zzz vm": "No account matches 'zzz'",
        "log beta reached": "Bob's account",
        "promise C-1001 99999 friday": "more than the balance not in dispute",
        "promise C-1001 100 +60": "within 30 days",
        "promise C-1001 100 2020-01-01": "in the past",
        "log acme sang": "Usage: `/collect log ACCOUNT OUTCOME [note]`",
        "team": "managers and admins",
        "assign C-1001 @bob": "managers and admins",
        "bogus": "Unknown subcommand 'bogus'",
    }
    for text, expected in cases.items():
        assert expected in _run(db, text), text
    assert "not on the collections roster" in _run(db, "stats", user="UNOBODY")
    assert _attempts(db) == 0


def test_dispute_refuses_a_long_note_and_a_second_dispute_with_nothing_left(db: Database) -> None:
    seed(db)
    assert "Keep the note under 3000 characters" in _run(db, "dispute C-1001 pricing " + "x" * 5000)
    assert "Keep the note under 3000 characters" in _run(db, "dispute C-1001 " + "y" * 3001)
    assert _attempts(db) == 0
    assert "Opened a dispute (Pricing)" in _run(db, "dispute C-1001 pricing " + "x" * 2990)
    second = _run(db, "dispute C-1001 quality")
    assert "Nothing left to dispute on Acme Corp" in second
    with db.uow() as uow:
        [dispute] = uow.session.scalars(select(Dispute)).all()
        assert dispute.note == "x" * 2990
        assert len(uow.session.scalars(select(DisputeInvoice)).all()) == 3
    assert _attempts(db) == 1


def test_escalations_command_and_app_home_show_a_manager_the_same_ones(db: Database) -> None:
    """Their collectors' accounts (an inactive collector's too) and unassigned ones; not
    another manager's. One scope, so `/collect escalations` and the App Home agree."""
    ids = seed(db)
    with db.uow() as uow:
        s = uow.session
        s.get_one(TeamMember, ids.bob).active = False
        s.add_all([
            Escalation(customer_id=getattr(ids, name), reason=f"stale {name}",
                       level=EscalationLevel.MANAGER, created_at=NOW - timedelta(hours=n))
            for n, name in enumerate(("acme_corp", "beta", "gamma", "unowned"))
        ])
        uow.commit()
    command = _run(db, "escalations", user="UMGR")
    with db.uow() as uow:
        manager = roster.member_for(uow.session, "UMGR")
        home = [e.customer_name
                for e in open_escalations(uow.session, manager, TODAY, ZoneInfo("UTC"))]
    assert sorted(home) == ["Acme Corp", "Beta LLC", "Unowned Inc"]
    assert all(name in command for name in home) and "Gamma" not in command
    assert "Gamma" in _run(db, "escalations", user="UMGR2")


def test_escalations_command_and_app_home_date_an_escalation_alike(db: Database) -> None:
    """Opened at 22:00 in the manager's Los Angeles (06:00 UTC the next day): both say the
    local day it was opened."""
    ids = seed(db)
    opened = datetime(2026, 11, 22, 22, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    with db.uow() as uow:
        uow.session.get_one(TeamMember, ids.manager).timezone = "America/Los_Angeles"
        uow.session.add(Escalation(customer_id=ids.acme_corp, reason="late",
                                   level=EscalationLevel.MANAGER, created_at=opened))
        uow.commit()
    with db.uow() as uow:
        manager = roster.member_for(uow.session, "UMGR")
        zone = roster.member_zone(manager, "UTC")
        home = open_escalations(uow.session, manager, TODAY, zone)
        listed = commands.escalations(uow.session, commands.Actor(manager, NOW, "UTC"))
    assert [e.opened_on for e in home] == [line.since for line in listed.lines] == [
        date(2026, 11, 22)]


def test_manager_subcommands(db: Database) -> None:
    ids = seed(db)
    assert "*For managers:*" in _run(db, "help", user="UMGR")
    assert "*For managers:*" not in _run(db, "help")
    assert "No open escalations." in _run(db, "escalations", user="UMGR")
    with db.uow() as uow:
        uow.session.add_all([
            Escalation(customer_id=ids.acme_corp, reason="5 attempts, no contact",
                       level=EscalationLevel.MANAGER, created_at=NOW - timedelta(days=1)),
            Escalation(customer_id=ids.gamma, reason="broken twice",
                       level=EscalationLevel.AGENCY),
        ])
        uow.commit()
    mine = _run(db, "escalations", user="UMGR")
    assert "Acme Corp" in mine and "5 attempts, no contact" in mine and "Gamma" not in mine
    assert "Gamma" in _run(db, "escalations", user="UADMIN")
    assert "<@UALICE>" in _run(db, "team", user="UMGR")
    assert "is now <@UBOB>'s (was Alice)" in _run(db, "assign C-1001 <@UBOB|bob>", user="UMGR")
    assert "does not report to you" in _run(db, "assign C-1002 @carol", user="UMGR")
    with db.uow() as uow:
        assert uow.session.get_one(Customer, ids.acme_corp).collector_id == ids.bob


def test_stats_find_and_list(db: Database) -> None:
    ids = seed(db)
    _run(db, "log C-1001 reached")
    assert "*Today* ▓░░░░░░░░░ 1 of 10 calls · 1 reached" in _run(db, "stats")
    assert _run(db, "find acme").splitlines() == [
        "• C-1001 · Acme Corp · Alice", "• C-1002 · Acme Ltd · Alice"]
    assert "No call list for you today yet" in _run(db, "list")
    _make_list(db, ids)
    reply = run_collect(db, user_id="UALICE", text="list", now=NOW, default_tz="UTC")
    assert reply.blocks and "Acme Corp" in str(reply.blocks)


@pytest.mark.parametrize("rows", [23, 24, 60])
def test_list_reply_of_any_length_is_valid_block_kit(db: Database, rows: int) -> None:
    """A list of 24 rows made a 51-block reply that Slack refused, silently. Now the reply is
    within one message's limits, and says how many more calls the DM has."""
    ids = seed(db)
    with db.uow() as uow:
        uow.session.get_one(TeamMember, ids.alice).daily_call_target = rows
        customers = [Customer(external_ref=f"L-{n:03d}", name=f"Listed {n}",
                              collector_id=ids.alice) for n in range(rows)]
        uow.session.add_all(customers)
        call_list = CallList(collector_id=ids.alice, list_date=TODAY, timezone="UTC",
                             past_due_book=Decimal("1.00"))
        uow.session.add(call_list)
        uow.session.flush()
        uow.session.add_all(
            CallListEntry(call_list_id=call_list.id, position=n + 1, customer_id=c.id,
                          score=Decimal("1.00"), reason="$1 past due · 5 days",
                          past_due=Decimal("1.00"), days_past_due=5)
            for n, c in enumerate(customers))
        uow.commit()
    reply = run_collect(db, user_id="UALICE", text="list", now=NOW, default_tz="UTC")
    assert reply.blocks is not None
    assert validate_message(reply.text, reply.blocks) == []
    shown = [b for b in reply.blocks if str(b.get("block_id", "")).startswith("row:")]
    rendered = str(reply.blocks)
    assert "Listed 0" in rendered
    if rows <= 23:
        assert len(shown) == rows and "more call" not in rendered
    else:
        # Every row shown keeps its buttons; the rest is counted, not dropped silently.
        assert len([b for b in reply.blocks if b["type"] == "actions"]) == len(shown)
        assert f"…and {rows - len(shown)} more calls: your DM has the whole list." in rendered


def _make_list(db: Database, ids: Seed) -> None:
    with db.uow() as uow:
        call_list = CallList(collector_id=ids.alice, list_date=TODAY, timezone="UTC",
                             past_due_book=Decimal("1400.00"))
        uow.session.add(call_list)
        uow.session.flush()
        uow.session.add(CallListEntry(
            call_list_id=call_list.id, position=1, customer_id=ids.acme_corp,
            score=Decimal("100.00"), reason="$1,400 past due · 60 days",
            past_due=Decimal("1400.00"), days_past_due=60))
        uow.commit()


# --- never raises -------------------------------------------------------------------------------

WORDS = [
    *SUBCOMMANDS, "C-1001", "acme", '"Acme Corp"', '"', "\u201c", "vm", "ptp", "paid", "note",
    "$1,200.50", "0", "-5", "1e9", "99999999999999999999", "today", "+3", "+99999", "friday",
    "2026-02-30", "0001-01-01", "<@UBOB|bob>", "<@", "@bob", "&amp;", "%", "_", "\\", "\x00",
]
ARGUMENTS = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=6).map(
    " ".join)


@pytest.mark.slow
@given(text=st.one_of(st.text(max_size=60), ARGUMENTS))
def test_parse_never_raises(text: str) -> None:
    result = parse_collect(text)
    assert result is not None


@pytest.fixture(scope="module")
def roster_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    path: Path = tmp_path_factory.mktemp("collect") / "ledger.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    seed(database)
    with database.uow() as uow:
        uow.session.add(Invoice(number="INV-L1", customer_id=2, issue_date=TODAY,
                                due_date=TODAY - timedelta(days=5), amount=Decimal("100.00")))
        uow.commit()
    return database


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=st.sampled_from(["UALICE", "UMGR", "UADMIN", "UNOBODY"]),
       subcommand=st.sampled_from([*SUBCOMMANDS, "x"]), arguments=ARGUMENTS)
def test_run_never_raises_and_never_fails(
    roster_db: Database, user: str, subcommand: str, arguments: str
) -> None:
    reply = run_collect(roster_db, user_id=user, text=f"{subcommand} {arguments}", now=NOW,
                        default_tz="UTC")
    assert reply.text and reply.text != SOMETHING_WRONG
