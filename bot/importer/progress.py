"""A progress bar on stderr for long imports (only when stderr is a terminal): rich draws it."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
    """Bytes read of the file (the bar, the share, the time left) and rows so far."""

    def __init__(self, label: str, total_bytes: int, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            refresh_per_second=5,
        )
        # The label is ours ("importing invoices"), but keep rich from reading [..] as markup.
        self._task = self._progress.add_task(label.replace("[", r"\["),
                                             total=max(total_bytes, 1), rows=0)
        self._progress.start()

    def update(self, done_bytes: int, rows: int, *, force: bool = False) -> None:
        self._progress.update(self._task, completed=done_bytes, rows=rows, refresh=force)

    def close(self, rows: int) -> None:
        task = self._progress.tasks[0]
        self._progress.update(self._task, completed=task.total, rows=rows, refresh=True)
        self._progress.stop()
