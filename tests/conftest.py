"""Shared fixtures: API clients, e-mail capture, and the gate for integration tests.

Integration tests (marker ``integration``) need PostgreSQL and Redis. Without
them they are skipped with a visible reason; with ``CLARION_REQUIRE_SERVICES=1``
(set by CI) a missing service fails the run instead.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import make_api_key

REQUIRE_SERVICES = os.environ.get("CLARION_REQUIRE_SERVICES") == "1"
_skipped_integration: list[str] = []


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port),
                                      timeout=2):
            return True
    except OSError:
        return False


def services_problem() -> str | None:
    """Why integration tests cannot run here, or None when they can."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return "DATABASE_URL does not point at PostgreSQL"
    if not settings.REDIS_URL:
        return "REDIS_URL is not set"
    if not _reachable(settings.REDIS_URL, 6379):
        return f"Redis at {settings.REDIS_URL} is not reachable"
    return None


@pytest.fixture
def require_services():
    problem = services_problem()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"integration test needs PostgreSQL and Redis: {problem}")
        _skipped_integration.append(problem)
        pytest.skip(f"integration: {problem}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("integration"):
            item.fixturenames.insert(0, "require_services")


def pytest_terminal_summary(terminalreporter):
    if _skipped_integration:
        terminalreporter.write_line(
            f"NOTE: {len(_skipped_integration)} integration tests skipped "
            f"({_skipped_integration[0]}); set DATABASE_URL and REDIS_URL to run them.",
            yellow=True, bold=True)


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    """Each test gets its own outbox and eager tasks unless it opts into a real worker."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True


@pytest.fixture
def api_key(db):
    return make_api_key()


@pytest.fixture
def api(api_key):
    """An API client authenticated with an all-scopes key; ``api.application`` is its owner."""
    key, secret = api_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.application = key.application
    client.api_key = key
    return client


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture
def smtp_server(settings):
    """A real local SMTP server; Django's mail is pointed at it for the test."""
    from tests.smtp import SmtpServer

    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield server
