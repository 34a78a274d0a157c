"""collectbot: a Slack app that runs a collections team's daily routine."""

__version__ = "0.1.0"
