"""The routine's clock: APScheduler jobs run by one leader."""
