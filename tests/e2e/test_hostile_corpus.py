"""A corpus of hostile inputs replayed against the running app (signed HTTP) and the CLI.

Every case must leave: no 5xx, no traceback in the log, every message and view the app sent valid
Block Kit, and the database exactly as it was (each input here is refused, ignored or read-only).
The tables are the place to add a case: HTTP_CASES, CLI_CASES and HOSTILE_LEDGER_TEXT.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, text

from bot.cli import main
from bot.db import Database
from bot.db.models import Base, CallList, CallListEntry, Customer, TeamMember
from bot.sandbox.sender import Reply, SlackSender, http_request, sign
from bot.sandbox.web_api import SlackSandbox
from bot.services.morning import run_call_lists
from bot.settings import Settings
from bot.slack.blockkit import validate_message, validate_view
from bot.web import RunningApp
from tests.conftest import _empty_pg
from tests.e2e.conftest import (
    ANA,
    BEN,
    SIGNING_SECRET,
    START,
    STRANGER,
    TZ,
    Clock,
    add_slack_users,
    seed_ledger,
    start_app,
)
from tests.slack_fixtures import SANDBOX_TOKEN, TEAM_CHANNEL, fast_gateway

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Stage:
    """One running app on a seeded ledger, shared by every case of an engine."""

    database: Database
    database_url: str
    sandbox: SlackSandbox
    running: RunningApp
    settings: Settings
    sender: SlackSender
    rows: dict[str, str]  # names the cases use -> "list:customer" values

    def settle(self) -> None:
        assert self.running.wait_idle(30), "listeners still running after 30 s"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stage(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stage]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("corpus") / "ledger.sqlite3"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    database = Database(url)
    with SlackSandbox(SANDBOX_TOKEN) as sandbox:
        sandbox.add_channel(TEAM_CHANNEL, "collections")
        seed_ledger(database)
        add_slack_users(sandbox)
        running, settings = start_app(database, url, sandbox, Clock(START))
        try:
            report = run_call_lists(database, fast_gateway(sandbox.url), settings, now=START)
            assert set(report.outcomes.values()) == {"sent"}
            yield Stage(database, url, sandbox, running, settings,
                        SlackSender(running.url, sandbox, SIGNING_SECRET), _rows(database))
        finally:
            running.stop()
            if request.param == "postgresql":
                _empty_pg(database)
            database.dispose()


def _rows(database: Database) -> dict[str, str]:
    with database.uow() as uow:
        entries = {
            slack_id: uow.session.scalars(
                select(CallListEntry)
                .join(CallList, CallList.id == CallListEntry.call_list_id)
                .join(TeamMember, TeamMember.id == CallList.collector_id)
                .where(TeamMember.slack_user_id == slack_id)
                .order_by(CallListEntry.position)
            ).all()
            for slack_id in (ANA, BEN)
        }
        ana, ben = entries[ANA], entries[BEN]
        return {
            "ana": f"{ana[0].call_list_id}:{ana[0].customer_id}",
            # Ana's list with Ben's account on it: a value Slack never got from us.
            "ana_list_ben_customer": f"{ana[0].call_list_id}:{ben[0].customer_id}",
            "ben": f"{ben[0].call_list_id}:{ben[0].customer_id}",
            "missing_list": f"999999:{ana[0].customer_id}",
            "missing_customer": f"{ana[0].call_list_id}:999999",
        }


def fingerprint(database: Database) -> str:
    """A digest of every row of every table: equal digests, same database."""
    digest = hashlib.sha256()
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(
                select(table).order_by(*table.primary_key.columns)
            ).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


def _sent_surfaces(sandbox: SlackSandbox, calls_before: int, responses_before: int) -> list[str]:
    """Block Kit errors in everything sent since the counts given (empty: all valid)."""
    errors: list[str] = []
    for call in sandbox.calls[calls_before:]:
        params = call.params
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            errors += validate_message(params.get("text"), params.get("blocks") or [])
        elif call.method in ("views.open", "views.update", "views.publish", "views.push"):
            view = params.get("view")
            errors += validate_view(view) if isinstance(view, dict) else ["view not an object"]
    for body in sandbox.responses()[responses_before:]:
        errors += validate_message(body.get("text"), body.get("blocks") or [])
    return errors


def _no_traceback(caplog: pytest.LogCaptureFixture, *outputs: str) -> None:
    failures = [r.getMessage() for r in caplog.records if r.exc_info or r.levelname == "ERROR"]
    assert failures == []
    for output in (caplog.text, *outputs):
        assert "Traceback" not in output


# --- HTTP ----------------------------------------------------------------------------------------

Send = Callable[[Stage], Reply]


@dataclass(frozen=True)
class HttpCase:
    id: str
    send: Send
    status: int  # what Slack must get back (never 5xx)


def unsigned(body: bytes, content_type: str = FORM, **headers: str) -> Send:
    return lambda s: http_request(
        s.running.url, "POST", "/slack/events", body, {"Content-Type": content_type, **headers})


def stamped(timestamp: str, body: bytes = b"payload=%7B%7D", signed: bool = True) -> Send:
    """A request with this X-Slack-Request-Timestamp, signed over it as Slack would."""
    def send(s: Stage) -> Reply:
        headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": sign(SIGNING_SECRET, timestamp, body) if signed else ""}
        return http_request(s.running.url, "POST", "/slack/events", body, headers)
    return send


def fresh(offset: int, *, signed: bool = True) -> Send:
    """stamped() with a timestamp `offset` seconds from the moment the request is sent."""
    def send(s: Stage) -> Reply:
        return stamped(str(int(time.time()) + offset), signed=signed)(s)
    return send


def forged(signature: Callable[[str, bytes], str]) -> Send:
    def send(s: Stage) -> Reply:
        body = b"payload=" + json.dumps({"type": "block_actions", "user": {"id": ANA},
                                         "actions": [{"action_id": "outcome:reached",
                                                      "value": s.rows["ana"]}]}).encode()
        stamp = str(int(time.time()))
        return s.sender.post(body, FORM, signature=signature(stamp, body))
    return send


def signed(body: bytes, content_type: str = FORM) -> Send:
    return lambda s: s.sender.post(body, content_type)


def payload(value: object) -> Send:
    raw = value if isinstance(value, str) else json.dumps(value)
    return signed(urlencode({"payload": raw}).encode())


def click(action_id: str, value: str | Callable[[Stage], str], user: str = ANA) -> Send:
    def send(s: Stage) -> Reply:
        channel = s.sandbox.dm_channel(ANA)
        message = s.sandbox.messages(channel)[0] if channel else None
        shown = value(s) if callable(value) else value
        return s.sender.click(user, action_id, shown, message=message, channel=channel)
    return send


def row(name: str, suffix: str = "") -> Callable[[Stage], str]:
    return lambda s: s.rows[name] + suffix


def choose(value: str | Callable[[Stage], str]) -> Send:
    def send(s: Stage) -> Reply:
        return s.sender.choose(ANA, value(s) if callable(value) else value)
    return send


def submit(
    callback_id: str, metadata: str | Callable[[Stage], str], values: dict[str, Any],
    user: str = ANA,
) -> Send:
    def send(s: Stage) -> Reply:
        view = {"id": "V0CORPUS", "type": "modal", "callback_id": callback_id,
                "private_metadata": metadata(s) if callable(metadata) else metadata,
                "blocks": []}
        return s.sender.submit(user, view, values)
    return send


def metadata(name: str) -> Callable[[Stage], str]:
    def build(s: Stage) -> str:
        list_id, customer_id = (int(part) for part in s.rows[name].split(":"))
        return json.dumps({"l": list_id, "c": customer_id})
    return build


def command(text_: str, user: str = ANA) -> Send:
    return lambda s: s.sender.command(user, text_)[0]


def event(body: dict[str, Any]) -> Send:
    return lambda s: s.sender.event(body)


def action(**fields: Any) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": ANA}, "trigger_id": "t", **fields}


PROMISE_VALUES = {
    "amount": {"amount": {"type": "plain_text_input", "value": "100"}},
    "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "2026-03-20"}},
}
# Typed by a user into /collect where an account belongs: never found, never recorded.
HOSTILE_TEXTS = [
    "<!here>", "<!channel> pay up", "<https://evil.example|click>", "<@U0BEN>", "&amp;&lt;",
    "a\nb\r\nc", "\x00nul", "\u202ertl", "\U0001f600" * 200, "x" * 5000,
    "'; DROP TABLE customers; --", "=cmd|' /C calc'!A0", "%s%s%n", "${jndi:ldap://x}",
    "C0001x",
]

HTTP_CASES: list[HttpCase] = [
    # unsigned
    HttpCase("unsigned-form-not-json", unsigned(b"payload=%7B"), 401),
    HttpCase("unsigned-json-not-json", unsigned(b"x", JSON), 401),
    HttpCase("unsigned-empty", unsigned(b""), 401),
    HttpCase("unsigned-command", unsigned(b"command=%2Fcollect&text=log+C0001+reached"), 401),
    HttpCase("unsigned-event", unsigned(b'{"type":"url_verification","challenge":"c"}', JSON),
             401),
    HttpCase("unsigned-binary", unsigned(bytes(range(256)), "application/octet-stream"), 401),
    HttpCase("unsigned-oversize", unsigned(b"payload=" + b"A" * (1024 * 1024 + 1)), 413),
    HttpCase("signed-oversize", signed(b"payload=" + b"B" * (1024 * 1024 + 1)), 413),
    # bad timestamps (each signed over the timestamp it carries)
    *[HttpCase(f"timestamp-{name}", stamped(value), 401) for name, value in [
        ("abc", "abc"), ("empty", ""), ("negative", "-1"), ("exponent", "1e9"),
        ("leading-space", " 1"), ("huge", "9" * 30), ("float", "1700000000.5"),
        ("underscores", "1_700_000_000"), ("zero", "0"), ("plus", "+1700000000"),
    ]],
    HttpCase("timestamp-stale", fresh(-301), 401),
    HttpCase("timestamp-future", fresh(301), 401),
    HttpCase("timestamp-fresh-unsigned", fresh(0, signed=False), 401),
    # forged signatures
    HttpCase("signature-zeros", forged(lambda _t, _b: "v0=" + "0" * 64), 401),
    HttpCase("signature-other-secret", forged(lambda t, b: sign("guess", t, b)), 401),
    HttpCase("signature-v1", forged(lambda t, b: "v1=" + sign(SIGNING_SECRET, t, b)[3:]), 401),
    HttpCase("signature-uppercase", forged(lambda t, b: sign(SIGNING_SECRET, t, b).upper()), 401),
    HttpCase("signature-truncated", forged(lambda t, b: sign(SIGNING_SECRET, t, b)[:-1]), 401),
    HttpCase("signature-other-body", forged(lambda t, _b: sign(SIGNING_SECRET, t, b"x")), 401),
    HttpCase("signature-other-time",
             forged(lambda t, b: sign(SIGNING_SECRET, str(int(t) - 1), b)), 401),
    HttpCase("signature-bare-hex", forged(lambda t, b: sign(SIGNING_SECRET, t, b)[3:]), 401),
    HttpCase("signature-padded", forged(lambda t, b: sign(SIGNING_SECRET, t, b) + "00"), 401),
    # signed but malformed
    HttpCase("signed-empty", signed(b""), 200),
    HttpCase("signed-not-utf8", signed(b"payload=\xff\xfe"), 200),
    HttpCase("signed-form-not-json", signed(b"payload=%7B"), 200),
    HttpCase("signed-json-not-json", signed(b"x", JSON), 200),
    HttpCase("signed-json-array", signed(b"[1, 2]", JSON), 200),
    HttpCase("signed-json-deep", signed(b"[" * 100_000 + b"]" * 100_000, JSON), 200),
    HttpCase("signed-json-no-type", signed(b"{}", JSON), 200),
    HttpCase("event-without-event", signed(b'{"type": "event_callback"}', JSON), 200),
    HttpCase("event-without-type",
             signed(b'{"type": "event_callback", "event": {"user": "U0ANA"}}', JSON), 200),
    HttpCase("challenge-missing", signed(b'{"type": "url_verification"}', JSON), 200),
    HttpCase("payload-string", payload('"just a string"'), 200),
    HttpCase("payload-null", payload("null"), 200),
    HttpCase("payload-no-type", payload({"user": {"id": ANA}}), 200),
    HttpCase("actions-missing", payload(action()), 200),
    HttpCase("actions-empty", payload(action(actions=[])), 200),
    HttpCase("actions-not-list", payload(action(actions={"action_id": "outcome:reached"})), 200),
    HttpCase("action-no-id", payload(action(actions=[{"value": "1:1"}])), 200),
    HttpCase("action-id-number", payload(action(actions=[{"action_id": 7}])), 200),
    HttpCase("user-missing", payload({"type": "block_actions",
                                      "actions": [{"action_id": "outcome:reached"}]}), 200),
    HttpCase("user-number", payload(action(user={"id": 42},
                                           actions=[{"action_id": "outcome:reached"}])), 200),
    HttpCase("user-newline", payload(action(user={"id": "U0ANA\nERROR forged"},
                                            actions=[{"action_id": "outcome:reached"}])), 200),
    HttpCase("user-lowercase", payload(action(user={"id": "u0ana"},
                                              actions=[{"action_id": "outcome:reached"}])), 200),
    HttpCase("view-missing", payload({"type": "view_submission", "user": {"id": ANA}}), 200),
    HttpCase("view-no-callback", payload({"type": "view_submission", "user": {"id": ANA},
                                          "view": {"id": "V1"}}), 200),
    HttpCase("view-bad-id", payload({"type": "view_submission", "user": {"id": ANA},
                                     "view": {"id": "V1\n", "callback_id": "promise_modal"}}),
             200),
    HttpCase("command-no-user", signed(b"command=%2Fcollect&text=help&response_url=http://x"),
             200),
    HttpCase("command-no-response-url",
             signed(b"command=%2Fcollect&text=help&user_id=U0ANA"), 200),
    # unknown ids: acked, never 404
    HttpCase("unknown-action", click("retired:button", "1:1"), 200),
    HttpCase("unknown-action-hostile", click("<!here>\nERROR", "x"), 200),
    HttpCase("unknown-view", submit("retired_modal", "{}", {}), 200),
    HttpCase("view-closed", payload({"type": "view_closed", "user": {"id": ANA},
                                     "view": {"id": "V1", "callback_id": "promise_modal"}}), 200),
    HttpCase("unknown-shortcut", payload({"type": "shortcut", "user": {"id": ANA},
                                          "callback_id": "nope", "trigger_id": "t"}), 200),
    HttpCase("unknown-options", payload({"type": "block_suggestion", "user": {"id": ANA},
                                         "action_id": "nope", "value": "a"}), 200),
    HttpCase("unknown-command", lambda s: s.sender.post(
        s.sender.command_body(ANA, "x", s.sandbox.response_url()).replace(
            b"%2Fcollect", b"%2Fother"), FORM), 200),
    HttpCase("unknown-event", event({"type": "reaction_added", "user": ANA}), 200),
    HttpCase("home-messages-tab", event({"type": "app_home_opened", "user": ANA,
                                         "tab": "messages"}), 200),
    HttpCase("home-opened", event({"type": "app_home_opened", "user": ANA, "tab": "home"}), 200),
    HttpCase("home-stranger", event({"type": "app_home_opened", "user": STRANGER}), 200),
    # tampered values on known buttons
    *[HttpCase(f"outcome-value-{name}", click("outcome:reached", value), 200) for name, value in [
        ("empty", ""), ("zeros", "0:0"), ("negative", "-1:2"), ("three-parts", "1:2:3"),
        ("overflow", f"{2**63}:1"), ("letters", "abc"), ("long", "1:" + "9" * 5000),
        ("newline", "1:2\n"), ("spaces", " 1:2"),
    ]],
    HttpCase("outcome-unknown-kind", click("outcome:bogus", row("ana")), 200),
    HttpCase("outcome-other-customer", click("outcome:reached", row("ana_list_ben_customer")),
             200),
    HttpCase("outcome-others-list", click("outcome:reached", row("ben")), 200),
    HttpCase("outcome-missing-list", click("outcome:reached", row("missing_list")), 200),
    HttpCase("outcome-missing-customer", click("outcome:reached", row("missing_customer")), 200),
    HttpCase("outcome-by-stranger", click("outcome:reached", row("ana"), user=STRANGER), 200),
    HttpCase("outcome-by-ben", click("outcome:reached", row("ana"), user=BEN), 200),
    HttpCase("undo-missing-attempt", click("undo", row("ana", ":999999")), 200),
    HttpCase("undo-malformed", click("undo", "1:2"), 200),
    HttpCase("form-other-customer", click("open:promise_to_pay", row("ana_list_ben_customer")),
             200),
    HttpCase("form-unknown", click("open:bogus", row("ana")), 200),
    HttpCase("more-unknown-choice", choose(row("ana")), 200),
    HttpCase("more-bad-value", choose("details:x:y"), 200),
    HttpCase("more-details-other-customer", choose(lambda s: f"details:{s.rows['ben']}"), 200),
    HttpCase("more-snooze-other-customer",
             choose(lambda s: f"snooze:{s.rows['ana_list_ben_customer']}"), 200),
    # tampered modal submissions
    HttpCase("submit-metadata-not-json", submit("promise_modal", "{", PROMISE_VALUES), 200),
    HttpCase("submit-metadata-wrong-keys",
             submit("promise_modal", '{"l": 1, "c": 2, "x": 3}', PROMISE_VALUES), 200),
    HttpCase("submit-metadata-negative",
             submit("promise_modal", '{"l": -1, "c": 2}', PROMISE_VALUES), 200),
    HttpCase("submit-metadata-huge", submit("promise_modal", "x" * 4000, PROMISE_VALUES), 200),
    HttpCase("submit-other-customer",
             submit("promise_modal", metadata("ana_list_ben_customer"), PROMISE_VALUES), 200),
    HttpCase("submit-others-list", submit("promise_modal", metadata("ben"), PROMISE_VALUES), 200),
    HttpCase("submit-by-stranger",
             submit("promise_modal", metadata("ana"), PROMISE_VALUES, user=STRANGER), 200),
    HttpCase("submit-no-values", submit("promise_modal", metadata("ana"), {}), 200),
    HttpCase("submit-hostile-amount", submit("promise_modal", metadata("ana"), {
        "amount": {"amount": {"type": "plain_text_input", "value": "1e309"}},
        "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "9999-99-99"}},
    }), 200),
    HttpCase("submit-note-too-long", submit("note_modal", metadata("ana"), {
        "note": {"note": {"type": "plain_text_input", "value": "n" * 5000}}}), 200),
    HttpCase("submit-snooze-past", submit("snooze_modal", metadata("ana"), {
        "until": {"until": {"type": "datepicker", "selected_date": "2000-01-01"}}}), 200),
    # /collect with hostile arguments (refused, or read-only)
    *[HttpCase(f"collect-{name}", command(text_), 200) for name, text_ in [
        ("empty", ""), ("unknown", "bogus"), ("log-bare", "log"), ("log-no-outcome", "log C0001"),
        ("log-bad-outcome", "log C0001 flying"), ("log-unknown-account", "log NOPE reached"),
        ("promise-bad-amount", "promise C0001 abc tomorrow"),
        ("promise-past", "promise C0001 100 1999-01-01"),
        ("promise-huge", "promise C0001 99999999999999999999 tomorrow"),
        ("promise-unbalanced-quote", 'promise "C0001 100 tomorrow'),
        ("note-too-long", "note C0001 " + "n" * 5000),
        ("assign-not-manager", "assign C0001 <@U0BEN>"), ("team-not-manager", "team"),
        ("help-unknown", "help <!here>"), ("find-mention", "find <!channel>"),
        ("find-percent", "find %"), ("account-other-collector", "account C0005"),
        ("nul", "log C\x000001 reached"), ("newlines", "log\nNOPE\nreached"),
        ("list", "list"), ("stats", "stats"),
    ]],
    HttpCase("collect-by-stranger", command("log C0001 reached", user=STRANGER), 200),
    *[HttpCase(f"collect-log-hostile-{n}", command(f"log {t!r} reached"), 200)
      for n, t in enumerate(HOSTILE_TEXTS)],
    *[HttpCase(f"collect-find-hostile-{n}", command(f"find {t}"), 200)
      for n, t in enumerate(HOSTILE_TEXTS)],
]


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c.id for c in HTTP_CASES])
def test_hostile_request_is_refused_cleanly(
    stage: Stage, case: HttpCase, caplog: pytest.LogCaptureFixture
) -> None:
    before = fingerprint(stage.database)
    calls, responses = len(stage.sandbox.calls), len(stage.sandbox.responses())
    try:
        reply = case.send(stage)
    except ConnectionError:
        # Refusing an oversize body may close the socket while the client still sends it.
        reply = Reply(413, b"", {})
    stage.settle()
    assert reply.status == case.status
    assert _sent_surfaces(stage.sandbox, calls, responses) == []
    assert fingerprint(stage.database) == before
    _no_traceback(caplog)


def test_the_corpus_is_large_enough() -> None:
    assert len(HTTP_CASES) + len(CLI_CASES) >= 100


# --- CLI -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliCase:
    id: str
    argv: Callable[[Path], list[str]]
    exit_codes: frozenset[int] = frozenset({1, 2})


def csv(kind: str, content: str | bytes, *extra: str) -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        path = tmp / f"{kind}.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return ["import", kind, str(path), "--no-assign", *extra]
    return argv


def args(*argv: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [a.replace("{tmp}", str(tmp)) for a in argv]


def policy(verb: str, content: str) -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        path = tmp / "policy.yml"
        path.write_text(content)
        return ["policy", verb, str(path)]
    return argv


CUSTOMERS = "external_ref,name\n"
INVOICES = "number,customer_ref,issue_date,due_date,amount\n"
PAYMENTS = "external_ref,customer_ref,amount,paid_on\n"
TEAM = "slack_user_id,name,role,timezone,daily_call_target\n"

CLI_CASES: list[CliCase] = [
    # files that are not CSV ledgers
    CliCase("customers-empty", csv("customers", "")),
    CliCase("customers-bom-only", csv("customers", b"\xef\xbb\xbf")),
    CliCase("customers-binary", csv("customers", bytes(range(1, 256)) * 4)),
    CliCase("customers-not-utf8", csv("customers", b"external_ref,name\nX1,\xff\xfe\n")),
    CliCase("customers-missing-column", csv("customers", "external_ref\nX1\n")),
    CliCase("customers-unbalanced-quote", csv("customers", CUSTOMERS + '"X1,Acme\n')),
    CliCase("customers-duplicate-key", csv("customers", CUSTOMERS + "X1,A\nX1,B\n")),
    CliCase("customers-blank-key", csv("customers", CUSTOMERS + ",Acme\n")),
    CliCase("customers-bad-status", csv("customers", "external_ref,name,status\nX1,A,deleted\n")),
    CliCase("customers-unknown-collector",
            csv("customers", "external_ref,name,collector\nX1,A,<!here>\n")),
    CliCase("invoices-negative", csv("invoices", INVOICES + "I1,C0001,2026-01-01,2026-02-01,-5\n")),
    CliCase("invoices-due-before-issue",
            csv("invoices", INVOICES + "I1,C0001,2026-02-01,2026-01-01,5\n")),
    CliCase("invoices-impossible-date",
            csv("invoices", INVOICES + "I1,C0001,2026-02-30,2026-03-01,5\n")),
    *[CliCase(f"invoices-amount-{amount}",
              csv("invoices", INVOICES + f"I1,C0001,2026-01-01,2026-02-01,{amount}\n"))
      for amount in ("NaN", "Infinity", "1e309", "lots", "0")],
    CliCase("invoices-bad-currency", csv(
        "invoices", "number,customer_ref,issue_date,due_date,amount,currency\n"
                    "I1,C0001,2026-01-01,2026-02-01,5,EURO\n")),
    CliCase("invoices-paid-over-amount", csv(
        "invoices", "number,customer_ref,issue_date,due_date,amount,amount_paid\n"
                    "I1,C0001,2026-01-01,2026-02-01,5,50\n")),
    CliCase("payments-zero", csv("payments", PAYMENTS + "P1,C0001,0,2026-03-01\n")),
    CliCase("payments-unknown-customer", csv("payments", PAYMENTS + "P1,NOPE,5,2026-03-01\n")),
    CliCase("payments-no-customer", csv("payments", PAYMENTS + "P1,,5,2026-03-01\n")),
    CliCase("team-bad-role", csv("team", TEAM + "U0NEW,New,god,,25\n")),
    CliCase("team-bad-zone", csv("team", TEAM + "U0NEW,New,collector,Mars/Base,25\n")),
    CliCase("team-target-negative", csv("team", TEAM + "U0NEW,New,collector,,-5\n")),
    CliCase("team-target-huge", csv("team", TEAM + "U0NEW,New,collector,,100000\n")),
    CliCase("team-bad-user-id", csv("team", TEAM + "<!here>,New,collector,,25\n")),
    CliCase("team-unknown-manager",
            csv("team", "slack_user_id,name,manager\nU0NEW,New,U0NOBODY\n")),
    CliCase("team-bad-working-days",
            csv("team", "slack_user_id,name,working_days\nU0NEW,New,funday\n")),
    CliCase("customers-dry-run-bad", csv("customers", CUSTOMERS + ",x\n", "--dry-run")),
    # hostile arguments
    CliCase("import-unknown-kind", args("import", "bogus", "{tmp}/x.csv")),
    CliCase("import-missing-file", args("import", "customers", "{tmp}/missing.csv")),
    CliCase("import-directory", args("import", "customers", "{tmp}")),
    CliCase("import-map-no-equals", csv("customers", CUSTOMERS, "--map", "name")),
    CliCase("import-map-empty-source", csv("customers", CUSTOMERS, "--map", "=name")),
    CliCase("import-map-unknown-field", csv("customers", CUSTOMERS, "--map", "a=nonsense")),
    CliCase("report-as-of-words", args("report", "--as-of", "yesterday")),
    CliCase("report-as-of-impossible", args("report", "--as-of", "2026-13-01")),
    CliCase("report-period-negative", args("report", "--period-days", "-5")),
    CliCase("report-period-zero", args("report", "--period-days", "0")),
    CliCase("report-period-huge", args("report", "--period-days", "99999999999")),
    CliCase("job-unknown", args("job", "bogus")),
    CliCase("job-naive-now", args("job", "call-lists", "--now", "2026-03-10T09:00")),
    CliCase("job-garbage-now", args("job", "call-lists", "--now", "<!here>")),
    CliCase("preview-unknown-collector", args("preview", "--collector", "<!here>\n")),
    CliCase("preview-garbage-now", args("preview", "--now", "soon")),
    CliCase("policy-check-missing", args("policy", "check", "{tmp}/missing.yml")),
    CliCase("policy-check-garbage", policy("check", "{{{: [\x00")),
    CliCase("policy-set-not-a-policy", policy("set", "- just\n- a list\n")),
    CliCase("policy-set-hostile-keys", policy("set", "<!here>: {a: 1}\n")),
    CliCase("db-unknown", args("db", "explode")),
    CliCase("unknown-command", args("explode")),
]


@pytest.fixture
def cli_env(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> Stage:
    for name, value in {"DATABASE_URL": stage.database_url, "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
                        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_API_URL": stage.sandbox.url, "COLLECTBOT_TIMEZONE": TZ}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    return stage


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_hostile_cli_input_is_refused_cleanly(
    cli_env: Stage, case: CliCase, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = fingerprint(cli_env.database)
    calls = len(cli_env.sandbox.calls)
    try:
        code = main(case.argv(tmp_path))
    except SystemExit as exit_:  # argparse refusing an argument
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    assert code in case.exit_codes, (out, err)
    assert err.strip() or out.strip(), "refused without saying why"
    _no_traceback(caplog, out, err)
    assert fingerprint(cli_env.database) == before
    assert len(cli_env.sandbox.calls) == calls


# --- hostile ledger text -------------------------------------------------------------------------

# Ledger text that reaches messages: each string becomes a customer's name, contact and phone on
# Ana's list, and must come out escaped in the DM, the App Home and the Details reply. Strings
# that are not yet escaped everywhere (issue #8.15: refusals and confirmations) join this table
# once they are.
HOSTILE_LEDGER_TEXT: list[str] = [
    "0558 <https://evil.example|click>", "<!here>", "<!channel> & <!everyone>", "<@U0BEN>",
    "a > b & c < d", "&lt;already escaped&gt;", "line\nbreak", "*bold* _it_ ~s~ `code`",
]


def _unescaped(text_: str) -> list[str]:
    """Pieces of mrkdwn that Slack would read as a link, mention or entity we did not make."""
    import re

    found = re.findall(r"<(?!@[UW][A-Z0-9]+>)[^>]*>?", text_)
    found += re.findall(r"&(?!amp;|lt;|gt;)", text_)
    return found


def _mrkdwn_texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _mrkdwn_texts(value)


@pytest.mark.parametrize("hostile", HOSTILE_LEDGER_TEXT)
def test_hostile_ledger_text_reaches_messages_escaped(
    stage: Stage, hostile: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls, responses = len(stage.sandbox.calls), len(stage.sandbox.responses())
    list_id, customer_id = (int(part) for part in stage.rows["ana"].split(":"))
    with stage.database.uow() as uow:
        customer = uow.session.get_one(Customer, customer_id)
        original = (customer.name, customer.contact_name, customer.phone)
        customer.name, customer.contact_name, customer.phone = hostile, hostile, hostile[:40]
        uow.commit()
    try:
        channel = stage.sandbox.dm_channel(ANA)
        message = stage.sandbox.messages(channel)[0]
        # A Details reply, the App Home, and the list re-rendered by a refused click.
        stage.sender.choose(ANA, f"details:{stage.rows['ana']}", message=message, channel=channel)
        stage.sender.event({"type": "app_home_opened", "user": ANA, "tab": "home"})
        stage.settle()
        from bot.services.call_lists import refresh_call_list_messages

        refresh_call_list_messages(stage.database, fast_gateway(stage.sandbox.url), list_id,
                                   now=START)
    finally:
        with stage.database.uow() as uow:
            customer = uow.session.get_one(Customer, customer_id)
            customer.name, customer.contact_name, customer.phone = original
            uow.commit()
    sent = stage.sandbox.calls[calls:]
    assert {c.method for c in sent} >= {"chat.postEphemeral", "views.publish", "chat.update"}
    assert _sent_surfaces(stage.sandbox, calls, responses) == []
    for call in sent:
        texts = list(_mrkdwn_texts(call.params))
        if call.method in ("chat.postEphemeral", "chat.update", "chat.postMessage"):
            texts.append(str(call.params.get("text") or ""))
        for shown in texts:
            assert _unescaped(shown) == [], (call.method, shown)
    _no_traceback(caplog)
    with stage.database.engine.connect() as connection:  # the ledger is back as it was
        assert connection.execute(
            text("SELECT name FROM customers WHERE id = :id"), {"id": customer_id}
        ).scalar() == original[0]
