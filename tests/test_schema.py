"""The OpenAPI schema builds, validates and has no warnings (each is a gap in the API docs)."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/events", "/api/notifications", "/api/webhooks/configurations",
                 "/api/subscribers/{external_id}/inbox-token"):
        assert f"{path}:" in schema
