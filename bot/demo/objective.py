"""5. Objective: a year of daily history, an objective on the demo ledger, its progress and plan."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from bot.demo.steps import DemoResult, write_banner
from bot.services.metrics import MetricsConfig, metrics_as_of
from bot.services.objectives import add_objective, objective_progress
from bot.services.snapshots import backfill
from bot.views.terminal_metrics import render_metrics
from bot.views.terminal_objectives import render_objectives


def step_objective(result: DemoResult, out: TextIO) -> None:
    """Backfill the history, print the metrics, and set "reduce DSO by 10%" for the quarter."""
    write_banner(out, "5. Metrics and an objective")
    config = MetricsConfig.from_settings(result.settings)
    today = result.today
    with result.database.uow() as uow:
        days = backfill(uow.session, today, config)
        uow.commit()
    out.write(f"History: {days} days of figures backfilled from the ledger in one pass.\n\n")
    with result.database.uow() as uow:
        out.write(render_metrics(metrics_as_of(uow.session, today, config)) + "\n\n")
        objective = add_objective(
            uow.session, metric="dso", target="-10%", start=today - timedelta(days=30),
            end=today + timedelta(days=60), today=today, config=config,
            name="Reduce DSO by 10% this quarter", note="demo", actor="demo")
        objective.goals = "More calls on 61-90 days past due; no broken promise left a day."
        progress = objective_progress(uow.session, objective, today, config)
        uow.commit()
    out.write("$ collectbot objective add --metric dso --target -10% "
              f"--from {objective.start} --to {objective.end}\n")
    out.write(render_objectives([progress]) + "\n")
