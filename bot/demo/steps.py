"""What the demo's steps share: the result they build up, the sandbox token, the banner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from bot.db import Database
from bot.demo.ledger import DemoFiles
from bot.importer import ImportReport
from bot.services.report import AgingReport
from bot.settings import Settings

DEMO_TOKEN = "xoxb-demo-sandbox"


class DemoError(RuntimeError):
    """The demo could not build its ledger; the message says which step and why."""


@dataclass
class DemoResult:
    """What the demo built; the caller disposes `database` when done."""

    today: date
    settings: Settings
    database: Database
    files: DemoFiles
    imports: list[ImportReport] = field(default_factory=list)
    aging: AgingReport | None = None


def write_banner(out: TextIO, title: str) -> None:
    """A step's heading, e.g. '1. Ledger', underlined."""
    out.write(f"\n{title}\n{'=' * len(title)}\n\n")
