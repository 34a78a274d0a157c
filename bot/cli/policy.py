"""`collectbot policy show|check|set|default|history`: the team's strategies, versioned."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.cli.context import CommandError, open_database
from bot.domain.policy import (
    PolicyError,
    PolicyFormat,
    default_policy_text,
    parse_policy,
    policy_format_for,
    policy_to_dict,
)
from bot.services.policy import current_policy, policy_history, save_policy, stored_policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="the team's strategies, versioned")
    actions = parser.add_subparsers(dest="policy_action", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="print the policy in force (or one version)")
    show.add_argument("--version", type=int, metavar="N", help="a stored version number")
    show.set_defaults(handler=run_show)

    for name, helptext, handler in (
        ("check", "validate a policy file without storing it", run_check),
        ("set", "validate and store a policy file as a new version", run_set),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("file", type=Path, metavar="FILE", help="YAML, or TOML if *.toml")
        action.add_argument("--format", choices=["yaml", "toml"], help="override the file type")
        if name == "set":
            action.add_argument("--note", help="why the strategy changed (kept in the history)")
        action.set_defaults(handler=handler)

    default = actions.add_parser("default", help="print the shipped default policy (YAML)")
    default.set_defaults(handler=run_default)

    history = actions.add_parser("history", help="list stored versions")
    history.set_defaults(handler=run_history)


def _read(args: argparse.Namespace) -> tuple[str, PolicyFormat]:
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"no such policy file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    fmt: PolicyFormat = args.format or policy_format_for(path.name)
    return text, fmt


def _report_problems(path: Path, error: PolicyError) -> int:
    count = len(error.problems)
    print(f"{path}: {count} problem{'s' if count != 1 else ''}, nothing stored", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def run_check(args: argparse.Namespace) -> int:
    text, fmt = _read(args)
    try:
        policy = parse_policy(text, fmt)
    except PolicyError as exc:
        return _report_problems(args.file, exc)
    names = ", ".join(segment.name for segment in policy.segments)
    print(f"{args.file}: ok, {len(policy.segments)} segments ({names})")
    return 0


def run_set(args: argparse.Namespace) -> int:
    text, fmt = _read(args)
    database = open_database()
    try:
        with database.uow() as uow:
            before, _ = current_policy(uow.session)
            try:
                version = save_policy(uow, text, fmt, actor="cli", note=args.note)
                uow.commit()
            except PolicyError as exc:
                return _report_problems(args.file, exc)
    finally:
        database.dispose()
    if version == before:
        print(f"policy unchanged: identical to version {version}, nothing stored")
    else:
        print(f"policy version {version} saved")
    return 0


def run_show(args: argparse.Namespace) -> int:
    database = open_database()
    try:
        with database.uow(read_only=True) as uow:
            if args.version is not None:
                stored = stored_policy(uow.session, args.version)
                if stored is None:
                    raise CommandError(f"no stored policy version {args.version}")
            else:
                version, _ = current_policy(uow.session)
                stored = None if version is None else stored_policy(uow.session, version)
    finally:
        database.dispose()
    if stored is None:
        print("# built-in default policy (no version stored yet)")
        print(default_policy_text(), end="")
        return 0
    note = f" - {stored.note}" if stored.note else ""
    print(f"# version {stored.version}, saved {stored.created_at:%Y-%m-%d %H:%M} UTC "
          f"by {stored.created_by or 'unknown'}{note}")
    if stored.source:
        print(stored.source, end="" if stored.source.endswith("\n") else "\n")
    else:
        print(yaml.safe_dump(policy_to_dict(stored.policy), sort_keys=False), end="")
    return 0


def run_default(args: argparse.Namespace) -> int:
    print(default_policy_text(), end="")
    return 0


def run_history(args: argparse.Namespace) -> int:
    database = open_database()
    try:
        with database.uow(read_only=True) as uow:
            versions = policy_history(uow.session)
    finally:
        database.dispose()
    if not versions:
        print("no policy stored: the built-in default is in force (collectbot policy default)")
        return 0
    for entry in versions:
        note = f"  {entry.note}" if entry.note else ""
        print(f"v{entry.version}  {entry.created_at:%Y-%m-%d %H:%M} UTC  "
              f"{entry.created_by or 'unknown':<12} {entry.segments} segments{note}")
    return 0
