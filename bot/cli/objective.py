"""`collectbot objective add|list|close`: the team's objectives, their progress and plan."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.cli.console import terminal
from bot.cli.context import CommandError, iso_date, open_database
from bot.domain.objectives import OBJECTIVE_METRICS
from bot.services.metrics import MetricsConfig
from bot.services.objectives import (
    ObjectiveError,
    add_objective,
    close_objective,
    measure_baselines,
    objective_progress,
    objectives_progress,
)
from bot.settings import load_settings
from bot.views.terminal_objectives import render_objectives
from bot.views.terminal_tables import objectives_rich


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("objective", help="the team's objectives: add, list, close")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="a new objective; the baseline is measured on --from")
    # `--target -5%` reads as a value, not an option: argparse only knows bare negative numbers.
    add._negative_number_matcher = re.compile(r"^-\d+(\.\d+)?%?$")
    add.add_argument("--metric", required=True, choices=sorted(OBJECTIVE_METRICS))
    add.add_argument("--target", required=True,
                     help="-5%% (change from the baseline) or a value: 45, 250000")
    add.add_argument("--from", dest="start", required=True, type=iso_date, help="YYYY-MM-DD")
    add.add_argument("--to", dest="end", required=True, type=iso_date, help="YYYY-MM-DD")
    add.add_argument("--name", help="what the team calls it (default: metric and target)")
    add.add_argument("--note", help="why, or anything the team should know")
    add.add_argument("--today", type=iso_date, help=argparse.SUPPRESS)
    listing = actions.add_parser("list", help="progress and the calls a day each one needs")
    listing.add_argument("--all", action="store_true", help="closed objectives too")
    listing.add_argument("--as-of", type=iso_date, help="YYYY-MM-DD (default: today)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    close = actions.add_parser("close", help="close an objective (it stays in the history)")
    close.add_argument("id", type=int)
    parser.set_defaults(handler=run)


def _json(items: list[Any]) -> list[dict[str, Any]]:
    def text(value: object) -> object:
        return None if value is None else str(value)

    return [{
        "id": p.objective_id, "name": p.name, "metric": p.metric,
        "start": p.start.isoformat(), "end": p.end.isoformat(), "closed": p.closed,
        "baseline": text(p.baseline), "now": text(p.now), "target": text(p.target),
        "projected": text(p.projected), "progress": text(p.fraction), "status": p.status,
        "plan": {"calls_needed": p.plan.needed, "calls_planned": p.plan.planned,
                 "calls_made": text(p.plan.made), "money_needed": text(p.plan.money_needed),
                 "cash_per_call": text(p.plan.cash_per_call),
                 "working_days_left": p.plan.working_days_left},
    } for p in items]


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    config = MetricsConfig.from_settings(settings)
    today = getattr(args, "today", None) or getattr(args, "as_of", None) \
        or datetime.now(settings.zone).date()
    database = open_database(settings)
    try:
        with database.uow() as uow:
            session = uow.session
            if args.action == "add":
                objective = add_objective(
                    session, metric=args.metric, target=args.target, start=args.start,
                    end=args.end, today=today, config=config, name=args.name, note=args.note)
                uow.audit("cli", "objective.add", "objective", objective.id,
                          metric=args.metric, target=args.target)
                progress = objective_progress(session, objective, today, config)
                uow.commit()
                print(f"Objective #{objective.id} added.")
                print(render_objectives([progress]))
            elif args.action == "close":
                objective = close_objective(session, args.id, now=datetime.now(UTC))
                uow.audit("cli", "objective.close", "objective", objective.id)
                uow.commit()
                print(f"Objective #{objective.id} closed.")
            else:
                measure_baselines(session, today, config)
                items = objectives_progress(session, today, config, include_closed=args.all)
                uow.commit()
                console = terminal(json=args.json)
                if console is not None:
                    console.print(objectives_rich(items))
                else:
                    print(json.dumps(_json(items), indent=2) if args.json
                          else render_objectives(items))
    except ObjectiveError as exc:
        raise CommandError(exc.message) from None
    finally:
        database.dispose()
    return 0
