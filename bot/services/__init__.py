"""Services: one unit of work per request or job."""
