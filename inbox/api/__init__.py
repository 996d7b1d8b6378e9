"""REST API of the inbox: end users' notifications and preferences, and the push-server-compatible paths."""
