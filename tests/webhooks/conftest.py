"""Fixtures for the webhooks tests: a real local receiver and the settings it needs."""

from __future__ import annotations

import socket

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    # Plain-HTTP local receivers; production's HTTPS-only default is tested on its own.
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.OUTBOUND_CONNECT_TIMEOUT = 2
    settings.OUTBOUND_TOTAL_TIMEOUT = 5
    return settings


@pytest.fixture
def allow_loopback(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def receiver(allow_loopback):
    with Receiver() as running:
        yield running


@pytest.fixture
def public_dns(monkeypatch):
    """Names under example.com resolve to a public address (this machine may have no DNS)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and (host == "example.com" or host.endswith(".example.com")):
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                     ("93.184.215.14", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
