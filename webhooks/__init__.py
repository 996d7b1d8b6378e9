"""Signed outgoing webhooks: endpoint configuration, signing, sending and delivery logs."""
