"""What the CLI shows a person at a terminal: rich tables and bold, built from plain data.

Only for a terminal: piped or with --json, the commands print their plain text unchanged.
Every text from the ledger goes in as `Text`, never as rich markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from bot.domain.accounts import CallListItem
from bot.domain.aging import BUCKETS
from bot.domain.metrics import MetricsReport, period_first
from bot.domain.objectives import ObjectiveProgress
from bot.importer.report import LISTED_ERRORS, ImportReport
from bot.views.terminal_metrics import ROWS, metric_cell
from bot.views.terminal_objectives import figure, plan_line, render_objectives
from bot.views.text import money

if TYPE_CHECKING:
    from bot.services.report import AgingReport


def bold(text: str) -> Text:
    """A heading line."""
    return Text(text, style="bold")


def call_list_rich(items: Sequence[CallListItem]) -> Table:
    """A call list: #, account, past due, days, reason, phone."""
    table = Table(show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("Account", max_width=40)
    table.add_column("Past due", justify="right")
    table.add_column("Days", justify="right")
    table.add_column("Reason", max_width=60)
    table.add_column("Phone")
    for item in items:
        table.add_row(str(item.position), Text(f"{item.name} ({item.external_ref})"),
                      money(item.past_due), str(item.days_past_due), Text(item.reason),
                      Text(item.phone or ""))
    return table


def aging_rich(report: AgingReport) -> RenderableType:
    """The aging report: one row per collector, the team's total in bold, the headline."""
    table = Table(title=f"Aging as of {report.as_of.isoformat()} ({report.currency})",
                  title_style="bold")
    table.add_column("Collector")
    for bucket in BUCKETS:
        table.add_column(bucket.label, justify="right")
    table.add_column("Past due", justify="right", style="bold")
    table.add_column("Total AR", justify="right")
    for line in report.by_collector:
        table.add_row(Text(line.name), *[f"{line.buckets[b]:,.2f}" for b in BUCKETS],
                      f"{line.past_due_ar:,.2f}", f"{line.total_ar:,.2f}")
    total = report.overall
    table.add_section()
    table.add_row(Text(total.name), *[f"{total.buckets[b]:,.2f}" for b in BUCKETS],
                  f"{total.past_due_ar:,.2f}", f"{total.total_ar:,.2f}", style="bold")
    return Group(table, Text(
        f"Total AR {report.total_ar:,.2f} · past due {report.past_due_ar:,.2f} · "
        f"{total.open_invoices:,} open invoices"))


def metrics_rich(report: MetricsReport) -> Table:
    """Every metric of the period: one row each, the team and each collector across."""
    start = period_first(report.as_of, report.period_days)
    table = Table(title=f"Metrics for the {report.period_days} days {start.isoformat()} to "
                        f"{report.as_of.isoformat()}", title_style="bold")
    columns = [("Team", report.team), *((s.name, s.metrics) for s in report.by_collector)]
    table.add_column("Metric")
    table.add_column("Team", justify="right", style="bold")
    for name, _ in columns[1:]:
        table.add_column(Text(name), justify="right")
    for label, key, kind in ROWS:
        table.add_row(label, *(metric_cell(m, key, kind) for _, m in columns))
    return table


def import_rich(report: ImportReport) -> RenderableType:
    """An import's bad rows as a table, then what it did, its first line in bold."""
    parts: list[RenderableType] = []
    if report.error_count:
        errors = Table(title="Bad rows", title_style="bold red")
        errors.add_column("Line", justify="right")
        errors.add_column("Column")
        errors.add_column("What is wrong")
        listed = report.errors[:LISTED_ERRORS]
        for error in listed:
            errors.add_row(str(error.line), Text(error.column), Text(error.message))
        parts.append(errors)
        # "... and N more" when cut, then the count of errors and rows
        parts.extend(Text(line, style="red") for line in report.error_lines()[len(listed):])
    head, *rest = report.summary_lines()
    parts.append(Text(head, style="bold green" if report.committed else "bold"))
    for line in rest:
        parts.append(_counts_table(report) if line == report.counts.render(report.kind)
                     else Text(line))
    return Group(*parts)


def _counts_table(report: ImportReport) -> Table:
    counts = report.counts
    table = Table()
    for column in ("Kind", "Created", "Updated", "Unchanged", "Rejected"):
        table.add_column(column, justify="left" if column == "Kind" else "right")
    table.add_row(report.kind, *(f"{n:,}" for n in (counts.created, counts.updated,
                                                    counts.unchanged, counts.rejected)))
    return table


def objectives_rich(items: list[ObjectiveProgress]) -> RenderableType:
    """Objectives: baseline → now → target with a bar, status, and the plan under each."""
    if not items:
        return Text(render_objectives(items))  # how to add one
    table = Table(title="Objectives", title_style="bold", show_lines=True)
    for column, justify in (("#", "right"), ("Objective", "left"), ("Period", "left"),
                            ("Baseline", "right"), ("Now", "right"), ("Target", "right"),
                            ("Progress", "left"), ("Status", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for p in items:
        share = float(p.fraction) if p.fraction is not None else 0.0
        progress = Group(ProgressBar(total=1.0, completed=max(0.0, min(share, 1.0)), width=20),
                         Text("-" if p.fraction is None else f"{p.fraction * 100:.0f}%"))
        name = Text(p.name + (" (closed)" if p.closed else ""), style="bold")
        name.append(f"\n{plan_line(p)}" + (f"\ngoals: {p.goals}" if p.goals else ""),
                    style="dim")
        table.add_row(str(p.objective_id), name, f"{p.start.isoformat()} to {p.end.isoformat()}",
                      figure(p.baseline, p.metric), figure(p.now, p.metric),
                      figure(p.target, p.metric), progress,
                      Text(p.status + ("" if p.projected is None
                                       else f" (projected {figure(p.projected, p.metric)})")))
    return table
