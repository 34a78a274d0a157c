"""Block Kit views: pure functions from plain data to Slack messages, modals and Home tabs."""
