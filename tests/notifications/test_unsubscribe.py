"""One-click unsubscribe: the headers on a real e-mail, the page behind the link, and forgeries."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from inbox.models import Preference
from notifications.models import Delivery
from notifications.services.events import event_ingest
from notifications.unsubscribe.links import unsubscribe_token
from tests.factories import CategoryFactory, EmailTemplateFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

BASE = "https://clarion.example.com"
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE
    settings.CLARION_LIST_UNSUBSCRIBE_MAILTO = ""


@pytest.fixture
def mail_client():
    """A client like a mail provider's one-click request: no cookies, CSRF enforced."""
    return Client(enforce_csrf_checks=True)


def send(capture, subscriber, rule, order="A-1"):
    with capture(execute=True):
        event, _ = event_ingest(event_type=rule.event_type, recipients=[subscriber.external_id],
                                data={"order_id": order})
    return Delivery.objects.get(event=event, channel="email")


def link_path(header: str) -> str:
    url = re.search(r"<(https://[^>]+)>", header).group(1)
    assert url.startswith(BASE + "/unsubscribe/")
    return urlsplit(url).path


def one_click(client, path):
    return client.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")


def test_pipeline_email_carries_both_headers_and_the_link_unsubscribes(
        django_capture_on_commit_callbacks, smtp_server, mail_client):
    user, rule = SubscriberFactory(), EmailTemplateFactory().rule
    send(django_capture_on_commit_callbacks, user, rule)
    [message] = smtp_server.messages
    assert message["List-Unsubscribe-Post"] == ONE_CLICK
    path = link_path(message["List-Unsubscribe"])

    page = mail_client.get(path)  # what a link scanner does: nothing may change
    assert page.status_code == 200
    assert f"Unsubscribe from {rule.category.name}" in page.content.decode()
    assert not Preference.objects.exists()

    done = one_click(mail_client, path)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    pref = Preference.objects.get(subscriber=user)
    assert (pref.category, pref.channel, pref.enabled) == (rule.category, "email", False)

    again = send(django_capture_on_commit_callbacks, user, rule, order="A-2")
    assert (again.status, again.skip_reason) == ("skipped", "preference")
    assert len(smtp_server.messages) == 1


def test_unsubscribing_mutes_only_that_category_and_is_idempotent(mail_client):
    user, news, billing = SubscriberFactory(), CategoryFactory(), CategoryFactory()
    path = f"/unsubscribe/{unsubscribe_token(subscriber=user, category=news)}/"
    assert one_click(mail_client, path).status_code == 200
    assert one_click(mail_client, path).status_code == 200
    assert list(Preference.objects.values_list("category", "channel", "enabled")) == [
        (news.pk, "email", False)]
    assert not Preference.objects.filter(category=billing).exists()


def test_mailto_is_added_when_configured_and_headers_omitted_without_base_url(
        settings, django_capture_on_commit_callbacks, mailoutbox):
    user, rule = SubscriberFactory(), EmailTemplateFactory().rule
    settings.CLARION_LIST_UNSUBSCRIBE_MAILTO = "unsubscribe@example.com"
    send(django_capture_on_commit_callbacks, user, rule)
    header = mailoutbox[0].extra_headers["List-Unsubscribe"]
    assert header.startswith(f"<{BASE}/unsubscribe/") and ", <mailto:unsubscribe@example.com?" in header

    settings.PUBLIC_BASE_URL = ""
    settings.CLARION_LIST_UNSUBSCRIBE_MAILTO = ""
    send(django_capture_on_commit_callbacks, user, rule, order="A-2")
    assert "List-Unsubscribe" not in mailoutbox[1].extra_headers
    assert "List-Unsubscribe-Post" not in mailoutbox[1].extra_headers


def _forge(token: str, **changes) -> str:
    """Keep the signature, change the payload: what someone editing the link would do."""
    payload, rest = token.split(":", 1)  # payload:timestamp:signature
    data = json.loads(signing.b64_decode(payload.encode()))
    assert set(changes) <= set(data)
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return forged.decode().rstrip("=") + ":" + rest


@pytest.mark.parametrize("tamper", ["category", "subscriber", "signature", "salt", "garbage"])
def test_tampered_or_foreign_tokens_are_refused_and_change_nothing(mail_client, tamper):
    user, other, news, billing = (SubscriberFactory(), SubscriberFactory(), CategoryFactory(),
                                  CategoryFactory())
    token = unsubscribe_token(subscriber=user, category=news)
    bad = {
        "category": lambda: _forge(token, c=billing.pk),
        "subscriber": lambda: _forge(token, s=other.pk),
        "signature": lambda: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "salt": lambda: signing.dumps({"s": user.pk, "x": "0", "c": news.pk}, salt="elsewhere"),
        "garbage": lambda: "not-a-token",
    }[tamper]()
    for response in (mail_client.get(f"/unsubscribe/{bad}/"),
                     one_click(mail_client, f"/unsubscribe/{bad}/")):
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert not Preference.objects.exists()
    # The genuine token still works, so the refusals above were about the changes.
    assert one_click(mail_client, f"/unsubscribe/{token}/").status_code == 200


def test_token_for_a_deleted_or_replaced_subscriber_is_not_found(mail_client):
    user, news = SubscriberFactory(), CategoryFactory()
    token = unsubscribe_token(subscriber=user, category=news)
    user.external_id = "someone-else"  # same row, different person
    user.save()
    assert one_click(mail_client, f"/unsubscribe/{token}/").status_code == 404
    user.delete()
    assert mail_client.get(f"/unsubscribe/{token}/").status_code == 404
    assert not Preference.objects.exists()


def test_critical_category_cannot_be_unsubscribed(mail_client, django_capture_on_commit_callbacks,
                                                  mailoutbox):
    user, security = SubscriberFactory(), CategoryFactory(critical=True, name="Security")
    path = f"/unsubscribe/{unsubscribe_token(subscriber=user, category=security)}/"
    page = mail_client.get(path)
    assert page.status_code == 200 and "cannot be turned off" in page.content.decode()
    assert "<form" not in page.content.decode()
    refused = one_click(mail_client, path)
    assert refused.status_code == 400 and "critical" in refused.content.decode()
    assert not Preference.objects.exists()
    # Nor do critical e-mails offer a link that would only be refused.
    send(django_capture_on_commit_callbacks, user, EmailTemplateFactory(
        rule=RuleFactory(category=security)).rule)
    assert "List-Unsubscribe" not in mailoutbox[0].extra_headers
