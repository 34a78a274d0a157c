"""Where CLI output goes: rich tables for a person at a terminal, plain text otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console


def terminal(*, json: bool = False, stream: TextIO | None = None) -> Console | None:
    """A rich Console on `stream` (stdout) when it is a terminal and JSON was not asked for;
    None: print plain text.

    Plain output (a pipe, a file, a test, `--json`) stays byte-for-byte what scripts read.
    FORCE_COLOR=1 makes rich treat any output as a terminal (so tests can see the tables).
    """
    if json:
        return None
    console = Console(file=stream or sys.stdout, highlight=False)
    return console if console.is_terminal else None
