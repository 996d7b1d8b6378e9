"""``manage.py create_api_key``: minting keys from the shell."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notifications.models import ApiKey, Application
from notifications.models.applications import SCOPES
from notifications.services.api_keys import api_key_authenticate
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def create_api_key(*args: str) -> str:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue()


def test_last_line_is_a_working_key_with_the_given_scopes():
    application = ApplicationFactory(name="shop")
    output = create_api_key("--application", "shop", "--scopes", "events:write, events:read",
                            "--name", "ci pipeline")
    secret = output.splitlines()[-1]
    key = api_key_authenticate(secret=secret)
    assert key is not None
    assert key.application == application and key.name == "ci pipeline"
    assert key.scopes == ["events:read", "events:write"]
    assert secret not in output.splitlines()[:-1]


def test_scopes_all_gives_every_scope():
    ApplicationFactory(name="shop")
    secret = create_api_key("--application", "shop", "--scopes", "all").splitlines()[-1]
    assert sorted(api_key_authenticate(secret=secret).scopes) == sorted(SCOPES)


def test_unknown_scope_fails_naming_it_and_creates_nothing():
    with pytest.raises(CommandError, match="events:wirte"):
        create_api_key("--application", "shop", "--scopes", "events:wirte",
                       "--create-application")
    assert ApiKey.objects.count() == 0
    assert not Application.objects.filter(name="shop").exists()


def test_unknown_application_needs_create_application():
    with pytest.raises(CommandError, match="--create-application"):
        create_api_key("--application", "shop", "--scopes", "events:write")
    assert ApiKey.objects.count() == 0

    output = create_api_key("--application", "shop", "--scopes", "events:write",
                            "--create-application")
    key = api_key_authenticate(secret=output.splitlines()[-1])
    assert key.application.name == "shop"
    assert "Created application 'shop'" in output


def test_empty_scope_list_is_refused():
    ApplicationFactory(name="shop")
    with pytest.raises(CommandError, match="at least one scope"):
        create_api_key("--application", "shop", "--scopes", " , ")
    assert ApiKey.objects.count() == 0
