"""Slack listeners: one folder per surface, each with register(app)."""
