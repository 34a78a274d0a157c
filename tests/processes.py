"""Real `collectbot` processes for tests: their log lines are waited on, never a clock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.slack_fixtures import SANDBOX_TOKEN

# Generous: a loaded machine (2 cores, several test runs) may be slow to start a process.
LINE_TIMEOUT = 90.0


def collectbot_env(db_url: str, api_url: str, **extra: str) -> dict[str, str]:
    """The environment a test's collectbot process runs with."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COLLECTBOT_", "SLACK_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
                "SLACK_API_URL": api_url, **extra})
    return env


class Running:
    """A `collectbot ARGS` process whose stderr is read as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = LINE_TIMEOUT) -> None:
        """Until `count` log lines match `pattern`; fails with the log if it never comes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(bool(re.search(pattern, line)) for line in self._lines) < count:
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line {pattern!r} (x{count}) in:\n{self.log_locked}")
                self._changed.wait(min(left, 0.5))

    @property
    def log_locked(self) -> str:
        return "".join(self._lines)

    def terminate(self, timeout: float = LINE_TIMEOUT) -> int:
        """SIGTERM, then the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL (kill -9): no handler runs, nothing is released by the process."""
        self.process.kill()
        self.process.wait(LINE_TIMEOUT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(LINE_TIMEOUT)
        self._reader.join(10)
        if self.process.stderr is not None:
            self.process.stderr.close()
