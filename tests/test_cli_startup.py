"""CLI start-up stays light: building the parser imports no numpy or matplotlib.

Their native threads would start in `serve`'s parent before it blocks SIGTERM, and a SIGTERM
sent while the workers start could land on one of them and kill the parent uncleanly.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "matplotlib", "pandas")


@pytest.mark.slow
def test_building_the_cli_parser_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "from bot.cli import build_parser\n"
        "build_parser()\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "", f"imported at start-up: {done.stdout.strip()}"
