"""Minting an API key in the admin shows its secret once and stores only the hash."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications.models import ApiKey
from notifications.services.api_keys import api_key_authenticate
from tests.factories import ApplicationFactory, make_api_key
from tests.notifications.admin.helpers import action_data

pytestmark = pytest.mark.django_db

SECRET_RE = re.compile(r"clr_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def _checked(content: str, scope: str) -> bool:
    box = re.search(rf'<input[^>]*name="scopes"[^>]*value="{scope}"[^>]*>', content)
    assert box, f"no checkbox for {scope}"
    return "checked" in box[0]


def _create_key(admin_client, application, **overrides):
    data = {"application": application.pk, "name": "ci pipeline",
            "scopes": ["events:write", "events:read"], **overrides}
    return admin_client.post(reverse("admin:notifications_apikey_add"), data)


def test_created_key_secret_is_shown_once_and_only_its_hash_is_stored(admin_client):
    application = ApplicationFactory()

    response = _create_key(admin_client, application)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secrets_shown = set(SECRET_RE.findall(response.content.decode()))
    assert len(secrets_shown) == 1
    secret = secrets_shown.pop()
    api_key = ApiKey.objects.get()
    assert api_key.application == application
    assert api_key.scopes == ["events:read", "events:write"]
    assert api_key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(api_key.prefix)
    # Nowhere else: not in stored fields, messages, cookies, session or the admin log.
    assert secret not in repr(ApiKey.objects.values().get())
    assert not [m for m in get_messages(response.wsgi_request) if secret in str(m)]
    assert secret not in str(response.cookies)
    assert secret not in repr(dict(admin_client.session))
    assert not LogEntry.objects.filter(change_message__contains=secret).exists()
    assert not LogEntry.objects.filter(object_repr__contains=secret).exists()
    assert api_key_authenticate(secret=secret) == api_key


def test_change_page_shows_prefix_and_scopes_but_never_secret_or_hash(admin_client):
    secret = SECRET_RE.search(_create_key(admin_client, ApplicationFactory()).content.decode())[0]
    api_key = ApiKey.objects.get()

    response = admin_client.get(reverse("admin:notifications_apikey_change", args=[api_key.pk]))

    content = response.content.decode()
    assert api_key.prefix in content
    assert _checked(content, "events:write")
    assert not _checked(content, "subscribers:read")
    assert secret not in content
    assert api_key.secret_hash not in content


def test_unknown_scope_is_refused(admin_client):
    response = _create_key(admin_client, ApplicationFactory(), scopes=["everything"])

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_scopes_can_be_changed(admin_client):
    api_key, _secret = make_api_key(scopes=["events:write"])

    response = admin_client.post(
        reverse("admin:notifications_apikey_change", args=[api_key.pk]),
        {"name": "renamed", "scopes": ["groups:read"]})

    assert response.status_code == 302
    api_key.refresh_from_db()
    assert (api_key.name, api_key.scopes) == ("renamed", ["groups:read"])


def test_revoke_action_stops_the_key_from_authenticating(admin_client):
    api_key, secret = make_api_key()
    other, other_secret = make_api_key()

    response = admin_client.post(reverse("admin:notifications_apikey_changelist"),
                                 action_data("revoke_keys", api_key), follow=True)

    assert "Revoked 1 API key(s)." in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert api_key_authenticate(secret=secret) is None
    assert api_key_authenticate(secret=other_secret) == other


def test_application_page_lists_its_keys(admin_client):
    api_key, _secret = make_api_key()

    response = admin_client.get(reverse("admin:notifications_application_change",
                                        args=[api_key.application_id]))

    content = response.content.decode()
    assert api_key.prefix in content
    assert api_key.secret_hash not in content
    assert f"?application={api_key.application_id}" in content
