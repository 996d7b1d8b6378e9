"""The integrators' REST API: events, deliveries, subscribers, groups and categories."""
