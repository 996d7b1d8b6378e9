"""Apprise: any Apprise URL as a target, one delivery (and outcome) per URL."""

from __future__ import annotations

import pytest

from notifications.models import DeliveryStatus
from notifications.providers import PermanentError, TransientError
from notifications.providers.apprise import AppriseProvider
from tests.factories import RecipientGroupFactory, RuleFactory
from tests.notifications.providers.factories import ChatTemplateFactory, pending_delivery, trigger
from tests.notifications.providers.fake_service import Reply, scripted

pytestmark = pytest.mark.django_db


def json_url(server, path: str = "/notify") -> str:
    return f"json://127.0.0.1:{server.server_port}{path}"


def test_json_target_receives_title_and_body(service, allow_loopback):
    receiver = service(scripted(Reply(200, {"ok": True})))

    AppriseProvider().send(pending_delivery("apprise", json_url(receiver), {
        "subject": "Backup", "short_body": "Backup **done**",
        "action_url": "https://ops.example.com/backups/7"}))

    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/notify")
    body = request.json
    assert body["title"] == "Backup"
    assert body["message"] == "Backup **done**\n\nhttps://ops.example.com/backups/7"
    assert body["type"] == "info"


def test_each_target_has_its_own_outcome(service, allow_loopback,
                                         django_capture_on_commit_callbacks):
    good = service(scripted(Reply(200, {"ok": True})))
    bad = service(scripted(Reply(503, "down")))
    group = RecipientGroupFactory(name="#longtail")
    group.targets.create(channel="apprise", address=json_url(good, "/a"))
    group.targets.create(channel="apprise", address=json_url(bad, "/b"))
    rule = RuleFactory(event_type="order.shipped", channels=["apprise"], audience="groups")
    rule.groups.add(group)
    ChatTemplateFactory(rule=rule, channel="apprise")

    event = trigger(django_capture_on_commit_callbacks, to=[])

    statuses = {d.address.split("[")[0].strip(): d for d in event.deliveries.all()}
    assert len(statuses) == 2
    outcomes = sorted((d.status, bool(d.last_error)) for d in statuses.values())
    assert outcomes == [(DeliveryStatus.QUEUED, True), (DeliveryStatus.SENT, False)]
    assert len(good.requests) == 1 and len(bad.requests) == 1


def test_client_error_named_by_apprise_is_permanent(service, allow_loopback):
    receiver = service(scripted(Reply(400, "bad request")))
    with pytest.raises(PermanentError, match="400"):
        AppriseProvider().send(pending_delivery("apprise", json_url(receiver)))


def test_server_error_is_transient(service, allow_loopback):
    receiver = service(scripted(Reply(500, "oops")))
    with pytest.raises(TransientError, match="Apprise"):
        AppriseProvider().send(pending_delivery("apprise", json_url(receiver)))


def test_host_on_a_refused_address_is_not_handed_to_apprise(service, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    receiver = service(scripted(Reply(200, {"ok": True})))

    with pytest.raises(PermanentError, match=r"connecting to 127\.0\.0\.1 .* refused: loopback"):
        AppriseProvider().send(pending_delivery("apprise", json_url(receiver)))

    assert receiver.requests == []


def test_url_apprise_cannot_load_is_refused_when_entered(db):
    from django.core.exceptions import ValidationError

    from notifications.addresses import address_validate

    with pytest.raises(ValidationError, match="Apprise does not recognise"):
        address_validate(channel="apprise", address="nosuchservice://token")
