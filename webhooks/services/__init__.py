"""Writes of the webhooks app: endpoints and secrets, signing, sending, retries, health."""
