"""Benchmark: a morning's messages through the delivery pool, beside what Slack's limits allow.

50 collectors' call lists (two messages each, in their DMs) and 10 escalation messages (two to
each of five managers) are queued, then the sender pool delivers them through the Slack sandbox
with its rate limits on (chat.postMessage: one a second per channel; --per-minute a minute in
the workspace, bursts of 3) and 429s injected (three, Retry-After 1 s, a quarter, half and three
quarters of the way). The senders keep the same paces (COLLECTBOT_CHANNEL_INTERVAL=1,
COLLECTBOT_WORKSPACE_PER_MINUTE=--per-minute). Figures:

- elapsed: from the senders' start until the last delivery is recorded sent;
- floor: the least time those limits allow, computed from them: the slowest channel's
  (messages - 1) x 1 s, or the workspace's (messages - burst) / rate plus, for each injected
  429, the part of its Retry-After the burst cannot make up, whichever is longer;
- the ratio (target <= 1.2x); and checks: every message posted exactly once, and how many 429s
  the sandbox's own limits answered (the pace should keep them at 0).

    .venv/bin/python bench/fanout.py [--engine sqlite|postgresql|both] [--senders N]
                                     [--per-minute N]

PostgreSQL: TEST_DATABASE_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test (a scratch
schema, dropped after). The machine is shared: read the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.db.models import Delivery  # noqa: E402
from bot.db.scratch import scratch_schema  # noqa: E402
from bot.domain.vocabulary import DeliveryStatus  # noqa: E402
from bot.sandbox.web_api import SlackSandbox  # noqa: E402
from bot.services.deliveries import OutgoingMessage, enqueue  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from scheduler.senders import SenderPool  # noqa: E402

TOKEN = "xoxb-bench-fanout"
COLLECTORS = 50
MANAGERS = 5
LIST_PARTS = 2
ESCALATIONS = 10
CHANNEL_SECONDS = 1.0
BURST = 3
INJECTED_429S = 3
RETRY_AFTER = 1
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _row(n: int) -> dict[str, object]:
    return {"type": "section",
            "text": {"type": "mrkdwn", "text": f"*Customer {n:03d}* $12,400 past due · 64 days"}}


def _queue(database: Database, sandbox: SlackSandbox) -> int:
    """Queue the morning; returns how many messages it holds."""
    messages = 0
    with database.uow() as uow:
        for n in range(1, COLLECTORS + 1):
            user = f"U{n:04d}"
            sandbox.add_user(user, tz="America/New_York")
            parts = [OutgoingMessage(f"Your call list, part {p}", [_row(10 * p + k)
                                                                   for k in range(10)])
                     for p in range(1, LIST_PARTS + 1)]
            enqueue(uow.session, key=f"calllist:{user}:2026-11-30", kind="call_list",
                    recipient=user, messages=parts)
            messages += len(parts)
        for n in range(ESCALATIONS):
            manager = f"UM{n % MANAGERS:03d}"
            sandbox.add_user(manager, tz="America/New_York")
            enqueue(uow.session, key=f"escalation:{n}", kind="escalation", recipient=manager,
                    messages=[OutgoingMessage(f"Escalation {n}: ACME, 3 broken promises",
                                              [_row(n)])])
            messages += 1
        uow.commit()
    return messages


def floor_seconds(messages: int, per_minute: int) -> float:
    """The least time the sandbox's limits allow for `messages` (see the module's text)."""
    rate = per_minute / 60
    per_channel = (LIST_PARTS - 1) * CHANNEL_SECONDS
    per_channel = max(per_channel, (ESCALATIONS // MANAGERS - 1) * CHANNEL_SECONDS)
    blocked = INJECTED_429S * max(0.0, RETRY_AFTER - BURST / rate)
    return max(per_channel, (messages - BURST) / rate + blocked)


def _inject_429s(sandbox: SlackSandbox, messages: int, done: threading.Event) -> None:
    """One 429 at each quarter of the way (the first call after it is answered 429)."""
    marks = [messages * q // (INJECTED_429S + 1) for q in range(1, INJECTED_429S + 1)]
    while marks and not done.is_set():
        if len(sandbox.calls_to("chat.postMessage")) >= marks[0]:
            sandbox.fail_next("chat.postMessage", status=429, retry_after=RETRY_AFTER)
            marks.pop(0)
        time.sleep(0.01)


def _sent(database: Database) -> int:
    with database.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.SENT)) or 0


def run(url: str, *, senders: int, per_minute: int) -> tuple[float, float, str]:
    database = Database(url)
    database.upgrade()
    with SlackSandbox(TOKEN) as sandbox:
        sandbox.limit_rate("chat.postMessage", channel_seconds=CHANNEL_SECONDS,
                           per_minute=per_minute, burst=BURST)
        messages = _queue(database, sandbox)
        deliveries = COLLECTORS + ESCALATIONS
        settings = load_settings(DATABASE_URL=url, SLACK_BOT_TOKEN=TOKEN,
                                 SLACK_API_URL=sandbox.url,
                                 COLLECTBOT_CHANNEL_INTERVAL=str(CHANNEL_SECONDS),
                                 COLLECTBOT_WORKSPACE_PER_MINUTE=str(per_minute))
        done = threading.Event()
        injector = threading.Thread(target=_inject_429s, args=(sandbox, messages, done))
        injector.start()
        began = time.monotonic()
        pool = SenderPool(database, settings, workers=senders).start()
        while _sent(database) < deliveries:
            time.sleep(0.01)
        elapsed = time.monotonic() - began
        pool.stop()
        done.set()
        injector.join()
        checks = _checks(sandbox, messages)
    database.dispose()
    return elapsed, floor_seconds(messages, per_minute), checks


def _checks(sandbox: SlackSandbox, messages: int) -> str:
    posted = Counter((m["metadata"]["event_payload"]["key"],
                      m["metadata"]["event_payload"]["part"]) for m in sandbox.messages())
    once = len(posted) == messages and set(posted.values()) == {1}
    calls = len(sandbox.calls_to("chat.postMessage"))
    limited = calls - messages - INJECTED_429S
    return (f"{messages} messages, each posted once: {'yes' if once else 'NO'}; "
            f"429s from the sandbox's limits: {limited}")


def _engines(choice: str) -> list[tuple[str, Callable[[], tuple[str, Callable[[], None]]]]]:
    def sqlite() -> tuple[str, Callable[[], None]]:
        folder = tempfile.TemporaryDirectory(prefix="fanout-")
        return f"sqlite:///{folder.name}/fanout.sqlite3", folder.cleanup

    def postgresql() -> tuple[str, Callable[[], None]]:
        return scratch_schema(os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT, prefix="fan")

    found = [("sqlite", sqlite), ("postgresql", postgresql)]
    return [(name, make) for name, make in found if choice in (name, "both")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--senders", type=int,
                        help="sender threads (default: 1 on SQLite, 2 on PostgreSQL)")
    parser.add_argument("--per-minute", type=int, default=300,
                        help="the workspace's messages a minute (default 300)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the injected 429s are expected, not news
    for name, make in _engines(args.engine):
        url, drop = make()
        try:
            senders = args.senders or (1 if name == "sqlite" else 2)
            elapsed, floor, checks = run(url, senders=senders, per_minute=args.per_minute)
        finally:
            drop()
        print(f"{name:<10} senders {senders}: elapsed {elapsed:6.2f} s   floor {floor:6.2f} s   "
              f"ratio {elapsed / floor:.2f}x (target <= 1.2x)")
        print(f"{'':<10} {checks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
