"""Domain rules as plain functions over plain data: no Slack, no session, no clock reads."""
