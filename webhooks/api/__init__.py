"""REST API for webhook endpoint configurations, their logs and actions."""
