"""Endpoints cannot be turned against our own network: refused on create and on every send.

DNS is faked only for invented names (at ``socket.getaddrinfo``); where no server can
listen (10.0.0.1, 169.254.169.254) a recorder on ``socket.socket.connect`` proves that
no connection was even attempted.
"""

from __future__ import annotations

import socket

import pytest

from notifications.models import Delivery
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import trigger
from webhooks.models import Endpoint, WebhookAttempt

pytestmark = pytest.mark.django_db

INTERNAL_URLS = [
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 spelled as one decimal number
    "http://0177.0.0.1/hook",  # 127.0.0.1 in octal
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://100.64.0.1/hook",  # CGNAT
    "http://192.168.1.1/hook",
    "http://224.0.0.1/hook",  # multicast
    "http://0.0.0.0/hook",
    "http://loopback.attacker.test/hook",  # a name that resolves to loopback
]


@pytest.fixture
def fake_dns(monkeypatch):
    """``loopback.attacker.test`` → 127.0.0.1; ``rebind.attacker.test`` → public, then loopback."""
    real = socket.getaddrinfo
    answers = {"loopback.attacker.test": [["127.0.0.1"]],
               "rebind.attacker.test": [["93.184.215.14"], ["127.0.0.1"]]}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        rounds = answers[host]
        ips = rounds.pop(0) if len(rounds) > 1 else rounds[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port))
                for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def connect_attempts(monkeypatch) -> list[object]:
    attempts: list[object] = []

    def connect(sock, address):
        attempts.append(address)
        raise ConnectionRefusedError(111, "connect recorded by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused_on_create(api, fake_dns, url):
    response = api.post("/api/webhooks/configurations", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    assert "refused" in response.json()["url"][0]
    assert not Endpoint.objects.exists()


def test_metadata_address_is_named_in_the_error(api):
    response = api.post("/api/webhooks/configurations",
                        {"url": "http://169.254.169.254/latest/meta-data/"}, format="json")
    assert response.status_code == 400
    assert "169.254.169.254" in response.json()["url"][0]
    assert "link-local" in response.json()["url"][0]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://2130706433/hook",
                                 "http://loopback.attacker.test/hook"])
def test_allowlisted_ranges_are_accepted(api, fake_dns, allow_loopback, url):
    response = api.post("/api/webhooks/configurations", {"url": url}, format="json")
    assert response.status_code == 201, response.content


def test_allowlist_opens_only_the_listed_range(api, allow_loopback):
    response = api.post("/api/webhooks/configurations", {"url": "http://10.0.0.1/hook"},
                        format="json")
    assert response.status_code == 400 and "private" in response.json()["url"][0]


def test_https_only_refuses_plain_http_urls(api, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    response = api.post("/api/webhooks/configurations", {"url": "http://hooks.example.com/x"},
                        format="json")
    assert response.status_code == 400 and "https://" in response.json()["url"][0]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://10.0.0.1/hook", "http://[::1]/hook"])
def test_a_send_to_an_internal_address_is_refused_without_connecting(
        url, connect_attempts, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=url)  # e.g. stored before the policy was tightened
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert connect_attempts == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == "blocked" and attempt.status_code is None
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "failed" and "refused" in delivery.last_error


def test_dns_rebinding_after_create_is_refused_at_send(api, fake_dns, connect_attempts,
                                                       django_capture_on_commit_callbacks):
    webhook_rule()
    response = api.post("/api/webhooks/configurations",
                        {"url": "http://rebind.attacker.test/hook"}, format="json")
    assert response.status_code == 201  # resolved to a public address when it was checked
    trigger(django_capture_on_commit_callbacks, application=api.application)
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == "blocked" and "127.0.0.1" in attempt.error
    assert connect_attempts == []


def test_https_only_is_enforced_at_send_too(settings, connect_attempts,
                                            django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url="http://hooks.example.com/x")
    settings.WEBHOOK_REQUIRE_HTTPS = True
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == "invalid_url" and "https://" in attempt.error
    assert connect_attempts == []
