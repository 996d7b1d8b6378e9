"""The environment helper fails loudly; EMAIL_URL maps onto Django's settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.email import email_settings
from config.env import env_bool, env_int, env_list, env_str


def test_bool_accepts_usual_spellings_and_refuses_others(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", False)


def test_int_refuses_garbage_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N='ten'"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env_int("N", 1, minimum=1)


def test_required_value_and_file_secrets(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRETISH", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRETISH"):
        env_str("SECRETISH")
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SECRETISH_FILE", str(secret))
    assert env_str("SECRETISH") == "from-a-file"
    monkeypatch.setenv("SECRETISH", "both")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_str("SECRETISH")


def test_list_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, ,b.example,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_email_url_smtp_with_starttls_and_credentials(monkeypatch):
    monkeypatch.delenv("ANYMAIL_ESP", raising=False)
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://user%40x:p%2Fw@mail.example:2525")
    values = email_settings(default_url="console://")
    assert values["EMAIL_HOST"] == "mail.example" and values["EMAIL_PORT"] == 2525
    assert values["EMAIL_HOST_USER"] == "user@x" and values["EMAIL_HOST_PASSWORD"] == "p/w"
    assert values["EMAIL_USE_TLS"] is True and values["EMAIL_USE_SSL"] is False


def test_email_url_bad_scheme_is_refused(monkeypatch):
    monkeypatch.delenv("ANYMAIL_ESP", raising=False)
    monkeypatch.setenv("EMAIL_URL", "pigeon://coop")
    with pytest.raises(ImproperlyConfigured, match="pigeon"):
        email_settings(default_url="console://")


def test_anymail_esp_takes_its_settings_from_prefixed_variables(monkeypatch):
    monkeypatch.setenv("ANYMAIL_ESP", "mailgun")
    monkeypatch.setenv("ANYMAIL_MAILGUN_API_KEY", "key-123")
    values = email_settings(default_url="console://")
    assert values["EMAIL_BACKEND"] == "anymail.backends.mailgun.EmailBackend"
    assert values["ANYMAIL"] == {"MAILGUN_API_KEY": "key-123"}
