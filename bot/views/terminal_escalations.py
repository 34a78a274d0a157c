"""`collectbot escalations`: the open escalations as an operator reads them (text, table, JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from rich.table import Table
from rich.text import Text

from bot.domain.escalations import OpenEscalation
from bot.views.text import money


def _who(name: str | None, slack_id: str | None) -> str:
    if name is None:
        return "unassigned"
    return f"{name} ({slack_id})" if slack_id else name


def _opened(line: OpenEscalation) -> str:
    return f"{line.opened_at:%Y-%m-%d %H:%M} UTC"


def escalations_json(lines: Sequence[OpenEscalation], today: date) -> dict[str, Any]:
    """Stable keys: `as_of`, `open` and one object per escalation (money as decimal strings)."""
    return {
        "as_of": today.isoformat(),
        "open": len(lines),
        "escalations": [
            {
                "id": line.escalation_id,
                "customer_ref": line.external_ref,
                "customer_name": line.customer_name,
                "collector": line.collector_slack_id,
                "collector_name": line.collector_name,
                "manager": line.manager_slack_id,
                "level": line.level.value,
                "reason": line.reason,
                "past_due": str(line.past_due),
                "days_past_due": line.days_past_due,
                "opened_at": line.opened_at.isoformat(),
                "updated_at": line.updated_at.isoformat() if line.updated_at else None,
                "snoozed_until": line.snoozed_until.isoformat() if line.snoozed_until else None,
            }
            for line in lines
        ],
    }


def escalations_text(lines: Sequence[OpenEscalation]) -> str:
    """One paragraph per escalation, oldest first; plain text for pipes and logs."""
    if not lines:
        return "No open escalations."
    parts = [f"{len(lines)} open escalation(s), oldest first:"]
    for line in lines:
        snoozed = f" · snoozed until {line.snoozed_until}" if line.snoozed_until else ""
        parts.append(
            f"#{line.escalation_id} {line.customer_name} ({line.external_ref}) · "
            f"{money(line.past_due)} past due, {line.days_past_due} days · "
            f"{_who(line.collector_name, line.collector_slack_id)} · to "
            f"{line.manager_slack_id or 'the managers channel'} · opened {_opened(line)}"
            f"{snoozed}\n    {line.reason}"
        )
    return "\n".join(parts)


def escalations_rich(lines: Sequence[OpenEscalation]) -> Table:
    """A table for a terminal: account, past due, days, collector, manager, opened, reasons."""
    table = Table(title=f"Open escalations ({len(lines)})", title_style="bold")
    for column, justify in (("#", "right"), ("Account", "left"), ("Past due", "right"),
                            ("Days", "right"), ("Collector", "left"), ("Manager", "left"),
                            ("Opened", "left"), ("Reasons", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for line in lines:
        table.add_row(str(line.escalation_id), Text(f"{line.customer_name} ({line.external_ref})"),
                      money(line.past_due), str(line.days_past_due),
                      Text(_who(line.collector_name, line.collector_slack_id)),
                      Text(line.manager_slack_id or "channel"), _opened(line), Text(line.reason))
    return table
