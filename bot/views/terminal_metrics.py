"""The metrics as a terminal table: one row per metric, the team and each collector across."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.metrics import Metrics, MetricsReport, period_first
from bot.views.text import tenths

ROWS: tuple[tuple[str, str, str], ...] = (
    ("Credit sales", "credit_sales", "money"),
    ("DSO (days)", "dso", "number"),
    ("Countback DSO", "dso_countback", "number"),
    ("Best possible DSO", "best_possible_dso", "number"),
    ("ADD (days)", "add", "number"),
    ("CEI", "cei", "pct"),
    ("Current", "percent_current", "pct"),
    ("Past due collected", "past_due_collected_pct", "pct"),
    ("Promises kept", "promise_kept_rate", "pct"),
    ("Right-party contacts", "right_party_contact_rate", "pct"),
    ("Calls made", "calls_made", "int"),
    ("Calls target", "calls_target", "int"),
    ("Cash collected", "cash_collected", "money"),
    ("Cost per call", "cost_per_call", "money"),
    ("Cost per $ collected", "cost_per_dollar_collected", "number"),
)


def metric_cell(metrics: Metrics, key: str, kind: str) -> str:
    """One metric shown as its kind wants (money, %, count); "-" when not known."""
    value = getattr(metrics, key)
    if value is None:
        return "-"
    if kind == "int":
        return f"{value:,}"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "pct":
        return f"{tenths(Decimal(value))}%"
    return f"{Decimal(value):,.2f}"


def render_metrics(report: MetricsReport) -> str:
    """Every metric of the report's period for the team and each collector."""
    columns = [("Team", report.team), *((s.name, s.metrics) for s in report.by_collector)]
    headers = ["Metric", *(name for name, _ in columns)]
    table = [[label, *(metric_cell(m, key, kind) for _, m in columns)] for label, key, kind in ROWS]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]

    def row(cells: list[str]) -> str:
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([cells[0].ljust(widths[0]), *rest])

    start = period_first(report.as_of, report.period_days)
    return "\n".join([
        f"Metrics for the {report.period_days} days {start.isoformat()} to "
        f"{report.as_of.isoformat()}",
        "",
        row(headers),
        "  ".join("-" * w for w in widths),
        *(row(r) for r in table),
    ])
