"""Everything that talks to Slack: the gateway, Block Kit checks, deliveries and the sandbox."""
