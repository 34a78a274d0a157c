"""Configuration, read once from the environment and a `.env` file."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.vocabulary import EscalateAbove

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(ValueError):
    """A configuration value is wrong; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Every knob collectbot has, with the environment variable that sets it."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'collectbot.sqlite3'}",
        validation_alias="DATABASE_URL",
    )
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    team_channel: str | None = Field(default=None, validation_alias="COLLECTBOT_TEAM_CHANNEL")
    timezone: str = Field(default="UTC", validation_alias="COLLECTBOT_TIMEZONE")
    country: str = Field(default="US", validation_alias="COLLECTBOT_COUNTRY")
    currency: str = Field(default="USD", validation_alias="COLLECTBOT_CURRENCY")
    morning_time: time = Field(default=time(8, 30), validation_alias="COLLECTBOT_MORNING_TIME")
    # The weekly recap: the day (mon..sun) and time it is posted in the team's zone.
    recap_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        default="mon", validation_alias="COLLECTBOT_RECAP_DAY")
    recap_time: time = Field(default=time(9, 0), validation_alias="COLLECTBOT_RECAP_TIME")
    list_cutoff_time: time = Field(default=time(12, 0), validation_alias="COLLECTBOT_LIST_CUTOFF")
    collector_day_cost: Decimal | None = Field(
        default=None, ge=0, validation_alias="COLLECTBOT_COLLECTOR_DAY_COST"
    )
    out_of_office_markers: str = Field(
        default=":palm_tree:,:face_with_thermometer:,out of office,ooo,on vacation,on leave",
        validation_alias="COLLECTBOT_OOO_MARKERS",
    )
    # Escalations: where they go when the collector has no manager on the roster, the hours
    # (in each manager's own zone) they may arrive, and how many come one message each per run
    # before the rest of that run's come as one digest.
    managers_channel: str | None = Field(default=None,
                                         validation_alias="COLLECTBOT_MANAGERS_CHANNEL")
    escalation_hours: str = Field(default="09:00-17:00",
                                  validation_alias="COLLECTBOT_ESCALATION_HOURS")
    escalations_per_run: int = Field(default=5, ge=1, le=50,
                                     validation_alias="COLLECTBOT_ESCALATIONS_PER_RUN")
    # An escalation nobody decides gets one reminder after this many of its holder's working
    # days, and goes up a level (to ESCALATION_ABOVE) as many working days after the reminder.
    escalation_remind_days: int = Field(default=2, ge=1, le=30,
                                        validation_alias="COLLECTBOT_ESCALATION_REMIND_DAYS")
    escalation_above: EscalateAbove = Field(default=EscalateAbove.MANAGER,
                                            validation_alias="COLLECTBOT_ESCALATION_ABOVE")
    # The delivery pool's pace: seconds between two messages to one channel, messages a minute
    # in the whole workspace, and tries (429s aside) before a delivery is given up.
    channel_interval: float = Field(default=1.0, ge=0, le=60,
                                    validation_alias="COLLECTBOT_CHANNEL_INTERVAL")
    workspace_per_minute: int = Field(default=300, ge=1, le=10_000,
                                      validation_alias="COLLECTBOT_WORKSPACE_PER_MINUTE")
    delivery_tries: int = Field(default=5, ge=1, le=50,
                                validation_alias="COLLECTBOT_DELIVERY_TRIES")
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias="COLLECTBOT_LOG_FORMAT"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r}") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            backend = url.get_backend_name()
            raise ValueError(f"unsupported database {backend!r} (sqlite or postgresql)")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name like America/New_York)"
            ) from None
        return value

    @field_validator("country")
    @classmethod
    def _check_country(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in holidays.list_supported_countries():
            raise ValueError(f"unknown country {value!r} (an ISO 3166 code like US, GB, DE)")
        return code

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise ValueError(f"not a 3-letter currency code: {value!r} (e.g. USD, EUR)")
        return code

    @field_validator("managers_channel")
    @classmethod
    def _check_managers_channel(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"[CG][A-Z0-9]{2,30}", value.strip()):
            raise ValueError(f"not a Slack channel id: {value!r} (like C0123ABCD)")
        return value.strip()

    @field_validator("escalation_hours")
    @classmethod
    def _check_escalation_hours(cls, value: str) -> str:
        working_hours(value)
        return value.strip()

    @field_validator("slack_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value if value.endswith("/") else value + "/"

    @cached_property
    def url(self) -> URL:
        """The database URL, parsed."""
        return make_url(self.database_url)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The team's default time zone."""
        return ZoneInfo(self.timezone)

    @property
    def escalation_window(self) -> tuple[time, time]:
        """The hours escalations may arrive, in each manager's zone."""
        return working_hours(self.escalation_hours)

    @property
    def ooo_markers(self) -> tuple[str, ...]:
        """Lower-cased texts/emoji in a Slack status that mean out of office."""
        return tuple(m.strip().lower() for m in self.out_of_office_markers.split(",") if m.strip())


def working_hours(text: str) -> tuple[time, time]:
    """"09:00-17:00" as (start, end); ValueError naming the problem."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if match is None:
        raise ValueError(f"not a range of hours: {text!r} (like 09:00-17:00)")
    hours = [int(part) for part in match.groups()]
    if hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise ValueError(f"not a time of day in {text!r} (like 09:00-17:00)")
    start, end = time(hours[0], hours[1]), time(hours[2], hours[3])
    if end <= start:
        raise ValueError(f"the end must be after the start: {text!r} (like 09:00-17:00)")
    return start, end


_ALIASES = {
    name: (field.validation_alias if isinstance(field.validation_alias, str) else name)
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises SettingsError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        variable = _ALIASES.get(field, field)
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None
