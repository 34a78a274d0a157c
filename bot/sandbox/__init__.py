"""The Slack sandbox: a fake Web API on loopback, and signed requests sent as Slack sends them.

Not an adapter of the app: `collectbot demo`, the tests and the benches run the real client
code against it.
"""
