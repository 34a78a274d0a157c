"""Errors a person in Slack sees: each carries a short, specific message and changes nothing."""

from __future__ import annotations

NOT_ON_ROSTER_MESSAGE = (
    "You're not on the collections roster. Ask your admin to add you (collectbot import team)."
)


class ServiceError(Exception):
    """A user-facing refusal; `.message` is what the person reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotOnRoster(ServiceError):
    """The Slack user is not an active member of the team roster."""

    def __init__(self, message: str = NOT_ON_ROSTER_MESSAGE) -> None:
        super().__init__(message)


class NotAllowed(ServiceError):
    """The person is on the roster but may not do this."""


class NotFound(ServiceError):
    """An account, attempt or list named by the person does not exist (or is ambiguous)."""


class InvalidInput(ServiceError):
    """An argument is malformed or out of range."""


class AlreadyRecorded(ServiceError):
    """This action (idempotency key) already recorded an outcome; nothing new was written."""
