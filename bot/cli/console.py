"""Where CLI output goes: rich tables for a person at a terminal, plain text otherwise."""

from __future__ import annotations

from rich.console import Console


def terminal(*, json: bool = False) -> Console | None:
    """A rich Console when stdout is a terminal and JSON was not asked for; None: print plain.

    Plain output (a pipe, a file, a test, `--json`) stays byte-for-byte what scripts read.
    FORCE_COLOR=1 makes rich treat any output as a terminal (so tests can see the tables).
    """
    if json:
        return None
    console = Console(highlight=False, soft_wrap=False)
    return console if console.is_terminal else None
