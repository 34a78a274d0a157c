""".env.example names every setting the Settings class reads; the Procfile runs real commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from bot.cli import build_parser
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def _settings_variables() -> set[str]:
    return {
        field.validation_alias if isinstance(field.validation_alias, str) else name.upper()
        for name, field in Settings.model_fields.items()
    }


def _example_variables() -> dict[str, list[str]]:
    """Each variable of .env.example (set or commented out) and the values it shows."""
    found: dict[str, list[str]] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#? ?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def test_every_setting_is_in_env_example_and_nothing_else() -> None:
    assert set(_example_variables()) == _settings_variables()


def test_every_example_value_is_valid() -> None:
    for variable, values in _example_variables().items():
        for value in values:
            if value:
                load_settings(**{variable: value})  # a bad example raises SettingsError


def test_the_procfile_runs_commands_collectbot_has() -> None:
    processes: dict[str, str] = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(# )?([a-z]+): (.+)", line)
        if match:
            processes[match.group(2)] = match.group(3)
    assert {"web", "worker", "senders"} <= processes.keys()
    parser = build_parser()
    for name in ("web", "worker", "senders"):
        argv = shlex.split(processes[name])
        assert argv[0] == "collectbot"
        parser.parse_args(argv[1:])  # an unknown command or option exits 2
