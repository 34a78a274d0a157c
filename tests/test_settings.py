"""Settings fail fast with one clear line naming the variable; secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL: not a database URL: 'not a url'"),
        ("DATABASE_URL", "mysql://root@localhost/ar",
         "DATABASE_URL: unsupported database 'mysql' (sqlite or postgresql)"),
        ("COLLECTBOT_TIMEZONE", "Mars/Olympus",
         "COLLECTBOT_TIMEZONE: unknown time zone 'Mars/Olympus' (an IANA name like "
         "America/New_York)"),
        ("COLLECTBOT_COUNTRY", "XX",
         "COLLECTBOT_COUNTRY: unknown country 'XX' (an ISO 3166 code like US, GB, DE)"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: not an http(s) URL: 'slack.com/api'"),
        ("PORT", "eighty", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_the_cli_prints_the_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLLECTBOT_TIMEZONE", "Nowhere/Land")
    assert main(["report"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["collectbot: error: COLLECTBOT_TIMEZONE: unknown time zone 'Nowhere/Land' "
                   "(an IANA name like America/New_York)"]


def test_defaults_and_normalisation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLLECTBOT_COUNTRY", "gb")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'collectbot.sqlite3'}"
    assert settings.country == "GB"
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.port == 3000


def test_tokens_never_show_in_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"
