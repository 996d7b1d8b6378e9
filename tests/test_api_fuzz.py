"""Property-based run of the whole HTTP API over its own OpenAPI schema (schemathesis).

Every operation the schema lists — the management API, the inbox API and the push API —
is called with generated requests, valid and invalid by the schema, with real credentials
so that requests get past authentication. A run fails on any 5xx, on a status code or
content type the schema does not list for that operation, and on a body that does not
match the schema's response shape. ``CLARION_FUZZ_EXAMPLES`` sets the cases per operation
(default 200: about 10,000 requests, a few minutes).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis import checks

from inbox.services.tokens import inbox_token_mint
from notifications.models import Subscriber
from tests.factories import CategoryFactory, make_api_key

EXAMPLES = int(os.environ.get("CLARION_FUZZ_EXAMPLES", "200"))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


def _schema():
    # Loaded at collection, through the app itself: the schema view reads no database.
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


schema = _schema()


@pytest.fixture(autouse=True)
def connection_kept_between_requests():
    """Requests go straight into the WSGI app, which closes the database connection when a
    request ends; the test's transaction lives on that connection, so (as Django's own test
    client does) it is left open."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(db):
    """An API key with every scope, and an inbox token for one of its subscribers."""
    _key, secret = make_api_key()
    CategoryFactory(key="orders")
    subscriber = Subscriber.objects.create(external_id="fuzz-user", email="fuzz@example.com")
    return {"api": secret, "inbox": inbox_token_mint(subscriber=subscriber).token}


def headers_for(case, credentials: dict[str, str]) -> dict[str, str]:
    path = case.operation.path
    if path.startswith("/api/status/"):
        return {}
    if path.startswith("/api/{user_id}/"):
        return {"X-AUTH-TOKEN": credentials["api"]}
    if path.startswith("/api/notifications"):
        return {"Authorization": f"Bearer {credentials['inbox']}"}
    return {"Authorization": f"Bearer {credentials['api']}"}


# Requests sent and statuses answered, for the figures in docs/reliability.md (-s shows them).
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def tally_report():
    yield
    if TALLY:
        print(f"\nAPI fuzz: {sum(TALLY.values())} requests; by status: "
              f"{dict(sorted(TALLY.items()))}")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_breaks_the_api_or_its_schema(case, credentials):
    # The inbox's write throttle would turn most cases into 429s (documented, but they
    # test nothing else): each case starts with a fresh count.
    cache.clear()
    response = case.call_and_validate(headers=headers_for(case, credentials), checks=CHECKS)
    TALLY[str(response.status_code)] += 1
