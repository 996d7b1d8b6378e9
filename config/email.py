"""Turn ``EMAIL_URL`` / ``ANYMAIL_ESP`` into Django e-mail settings.

``EMAIL_URL`` takes ``smtp://user:pass@host:25``, ``smtp+tls://…`` (STARTTLS),
``smtps://…`` (implicit TLS), ``console://`` or ``outbox://`` (the embedded
default: one ``.eml`` file per message under ``var/outbox`` plus a copy on the
console). ``ANYMAIL_ESP=mailgun`` (or any Anymail ESP) selects that ESP's
backend instead, with its settings read from ``ANYMAIL_*`` variables, e.g.
``ANYMAIL_MAILGUN_API_KEY``. The ``ANYMAIL`` dict is built from those variables
whatever the backend, so tracking webhooks (``ANYMAIL_WEBHOOK_SECRET``,
``ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY``, …) work even when mail leaves by SMTP
through the ESP's relay.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_prefixed, env_str

_SMTP_SCHEMES = {"smtp": (False, False), "smtp+tls": (True, False), "smtps": (False, True)}


def email_settings(*, default_url: str) -> dict[str, object]:
    """Return the EMAIL_* and ANYMAIL settings chosen by the environment."""
    return {**_email_backend_settings(default_url=default_url),
            "ANYMAIL": env_prefixed("ANYMAIL_", exclude={"ANYMAIL_ESP", "ANYMAIL_ESP_FILE"})}


def _email_backend_settings(*, default_url: str) -> dict[str, object]:
    esp = env_str("ANYMAIL_ESP", "").strip().lower()
    if esp:
        if not esp.replace("_", "").isalnum():
            raise ImproperlyConfigured(f"ANYMAIL_ESP={esp!r} is not an Anymail ESP name.")
        return {"EMAIL_BACKEND": f"anymail.backends.{esp}.EmailBackend"}
    url = env_str("EMAIL_URL", default_url)
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "outbox":
        return {"EMAIL_BACKEND": "notifications.mail.OutboxEmailBackend"}
    if parts.scheme not in _SMTP_SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not one of smtp, smtp+tls, smtps, console, outbox."
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL has no host.")
    use_tls, use_ssl = _SMTP_SCHEMES[parts.scheme]
    try:
        port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
    except ValueError as exc:
        raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {exc}") from exc
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": 30,
    }
