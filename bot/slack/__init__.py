"""The Slack adapter: the gateway (the only Web API caller) and the Block Kit checks."""
