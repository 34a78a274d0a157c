"""A one-line progress bar on stderr for long imports (only when stderr is a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """Redraws at most five times a second: bytes read of the file, rows so far."""

    def __init__(self, label: str, total_bytes: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total_bytes, 1)
        self.stream = stream or sys.stderr
        self._drawn_at = 0.0

    def update(self, done_bytes: int, rows: int, *, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self._drawn_at < 0.2:
            return
        self._drawn_at = moment
        share = min(done_bytes / self.total, 1.0)
        filled = int(share * WIDTH)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%} {rows:,} rows"
        )
        self.stream.flush()

    def close(self, rows: int) -> None:
        self.update(self.total, rows, force=True)
        self.stream.write("\n")
        self.stream.flush()
