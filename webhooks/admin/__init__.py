"""Django admin for outgoing webhooks: endpoints (with attempts inline and their actions),
messages (with "resend") and the read-only attempt log."""

from __future__ import annotations

from webhooks.admin import endpoints, messages  # noqa: F401 — imported for their registrations
