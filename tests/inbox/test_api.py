"""The end user's inbox endpoints, authenticated by inbox token or by a linked session."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from inbox.models import Notification, Preference, QuietHours
from inbox.services.tokens import inbox_token_mint
from tests.factories import CategoryFactory, RuleFactory, SubscriberFactory, make_api_key
from tests.inbox.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def client_for(subscriber) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {inbox_token_mint(subscriber=subscriber).token}")
    return client


@pytest.fixture
def ada():
    return SubscriberFactory(external_id="ada")


@pytest.fixture
def bob():
    return SubscriberFactory(external_id="bob")


def test_list_is_newest_first_paginated_and_filterable(ada):
    billing = CategoryFactory(key="billing")
    old = NotificationFactory(subscriber=ada, category=billing)
    new = NotificationFactory(subscriber=ada)
    NotificationFactory(subscriber=ada, deleted_at="2026-01-01T00:00:00Z")
    Notification.objects.filter(pk=old.pk).update(read_at="2026-01-01T00:00:00Z")
    api = client_for(ada)
    page = api.get("/api/notifications").json()
    assert [n["id"] for n in page["results"]] == [new.pk, old.pk] and page["count"] == 2
    assert [n["id"] for n in api.get("/api/notifications?unread=true").json()["results"]] == [new.pk]
    assert [n["id"] for n in api.get("/api/notifications?category=billing").json()["results"]] == [
        old.pk]
    assert api.get("/api/notifications?unread=maybe").status_code == 400
    assert api.get("/api/notifications?page_size=1").json()["next"]


def test_lists_only_the_callers_own(ada, bob):
    NotificationFactory(subscriber=bob)
    assert client_for(ada).get("/api/notifications").json()["count"] == 0


def test_mark_read_and_unread_count(ada):
    first, second = NotificationFactory(subscriber=ada), NotificationFactory(subscriber=ada)
    api = client_for(ada)
    assert api.get("/api/notifications/unread-count").json() == {"unread_count": 2}
    response = api.post("/api/notifications/mark-as-read", {"ids": [first.pk]}, format="json")
    assert response.json() == {"changed": 1, "unread_count": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_someone_elses_ids_are_404_and_nothing_is_touched(ada, bob):
    mine = NotificationFactory(subscriber=ada)
    theirs = NotificationFactory(subscriber=bob)
    api = client_for(ada)
    for path in ("/api/notifications/mark-as-read", "/api/notifications/delete"):
        response = api.post(path, {"ids": [mine.pk, theirs.pk]}, format="json")
        assert response.status_code == 404
        assert response.json()["ids"] == [theirs.pk]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is None and mine.deleted_at is None
    assert theirs.read_at is None and theirs.deleted_at is None


def test_mark_all_read_only_touches_callers_notifications(ada, bob):
    NotificationFactory.create_batch(3, subscriber=ada)
    theirs = NotificationFactory(subscriber=bob)
    response = client_for(ada).post("/api/notifications/mark-all-as-read")
    assert response.json() == {"changed": 3, "unread_count": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_delete_hides_the_notification(ada):
    gone = NotificationFactory(subscriber=ada)
    api = client_for(ada)
    assert api.post("/api/notifications/delete", {"ids": [gone.pk]}, format="json").json()[
        "changed"] == 1
    assert api.get("/api/notifications").json()["count"] == 0
    # Deleting again: the row is no longer the caller's to see.
    assert api.post("/api/notifications/delete", {"ids": [gone.pk]},
                    format="json").status_code == 404


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": "1"}, {"ids": ["x"]}, {"ids": [0]}])
def test_bad_id_lists_are_400(ada, body):
    response = client_for(ada).post("/api/notifications/mark-as-read", body, format="json")
    assert response.status_code == 400 and "ids" in response.json()


def test_state_changes_need_post(ada):
    api = client_for(ada)
    assert api.get("/api/notifications/mark-all-as-read").status_code == 405
    assert api.get("/api/notifications/delete").status_code == 405


def test_test_endpoint_sends_through_the_pipeline(ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ada).post("/api/notifications/test")
    assert response.status_code == 202
    [notification] = Notification.objects.filter(subscriber=ada)
    assert notification.title == "Test notification"
    assert notification.delivery.event_id.hex == response.json()["event_id"].replace("-", "")


def test_no_or_bad_credentials_are_401(ada):
    assert APIClient().get("/api/notifications").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get("/api/notifications").status_code == 401
    # An API key is not an inbox token.
    _, secret = make_api_key()
    bad.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bad.get("/api/notifications").status_code == 401


def test_expired_token_is_refused(ada, settings):
    token = inbox_token_mint(subscriber=ada).token
    settings.INBOX_TOKEN_TTL_SECONDS = -1
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/notifications").status_code == 401


def test_session_of_a_linked_user_works_and_needs_csrf(ada):
    user = User.objects.create_user("ada", password="pw-123456")
    ada.user = user
    ada.save()
    NotificationFactory(subscriber=ada)
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(user)
    assert api.get("/api/notifications").json()["count"] == 1
    assert api.post("/api/notifications/mark-all-as-read").status_code == 403  # no CSRF token


def test_session_without_subscriber_is_forbidden():
    api = APIClient()
    api.force_login(User.objects.create_user("nobody", password="pw-123456"))
    assert api.get("/api/notifications").status_code == 403


def test_minting_a_token_needs_the_scope_and_a_known_subscriber(ada, anon_api):
    _, secret = make_api_key(scopes=["inbox-tokens:write"])
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    minted = anon_api.post("/api/subscribers/ada/inbox-token")
    assert minted.status_code == 201 and minted.json()["subscriber"] == "ada"
    assert client_for(ada).get("/api/notifications").status_code == 200
    assert anon_api.post("/api/subscribers/ghost/inbox-token").status_code == 404
    _, weak = make_api_key(scopes=["events:write"])
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {weak}")
    assert anon_api.post("/api/subscribers/ada/inbox-token").status_code == 403


def test_preferences_round_trip_with_critical_locked(ada):
    CategoryFactory(key="news", name="News")
    CategoryFactory(key="security", name="Security", critical=True)
    api = client_for(ada)
    prefs = api.get("/api/notifications/preferences").json()
    security = next(c for c in prefs["categories"] if c["key"] == "security")
    assert security["locked"] is True and all(security["channels"].values())
    updated = api.put("/api/notifications/preferences", {
        "categories": {"news": {"email": False}},
        "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Vienna"}},
        format="json")
    assert updated.status_code == 200, updated.content
    news = next(c for c in updated.json()["categories"] if c["key"] == "news")
    assert news["channels"]["email"] is False and news["channels"]["inapp"] is True
    assert updated.json()["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "07:00",
                                             "timezone": "Europe/Vienna"}
    assert QuietHours.objects.get(subscriber=ada).timezone == "Europe/Vienna"


def test_preferences_can_be_read_changed_and_written_back_whole(ada):
    CategoryFactory(key="news", name="News")
    CategoryFactory(key="security", name="Security", critical=True)
    api = client_for(ada)
    document = api.get("/api/notifications/preferences").json()
    news = next(c for c in document["categories"] if c["key"] == "news")
    news["channels"]["email"] = False

    written = api.put("/api/notifications/preferences", document, format="json")

    assert written.status_code == 200, written.content
    assert written.json() == {**document}
    again = api.get("/api/notifications/preferences").json()
    assert next(c for c in again["categories"] if c["key"] == "news")["channels"]["email"] is False


@pytest.mark.parametrize("body, field", [
    ({"categories": {"security": {"email": False}}}, "categories"),
    ({"categories": {"nope": {"email": False}}}, "categories"),
    ({"categories": {"news": {"pager": False}}}, "categories"),
    ({"categories": {"news": {"email": "no"}}}, "categories"),
    ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
    ({"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Base"}},
     "quiet_hours.timezone"),
    ({"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": [None, None]}},
     "quiet_hours.timezone"),
    ({"quiet_hours": {"start": 2200, "end": "07:00"}}, "quiet_hours.start"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_preferences_are_400_and_nothing_changes(ada, body, field):
    CategoryFactory(key="news")
    CategoryFactory(key="security", critical=True)
    response = client_for(ada).put("/api/notifications/preferences",
                                   {**body, "categories": {"news": {"sms": False},
                                                           **body.get("categories", {})}}
                                   if "categories" in body else body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Preference.objects.exists() and not QuietHours.objects.exists()


def test_writes_are_throttled(ada, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    # The rates are read into the class when DRF loads; monkeypatch restores them after.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"inbox-write": "2/min"})
    api = client_for(ada)
    codes = [api.post("/api/notifications/mark-all-as-read").status_code for _ in range(3)]
    cache.clear()
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("ids, status", [
    (list(range(1, 1001)), 404),  # the most a request may name: all unknown to ada
    (list(range(1, 1002)), 400),  # one more: refused, naming the limit
    ([2**63], 400),  # beyond any row id a database stores
    ([2**63 - 1], 404),
])
def test_id_lists_up_to_the_limit_are_looked_up_and_beyond_it_refused(ada, ids, status):
    response = client_for(ada).post("/api/notifications/mark-as-read", {"ids": ids},
                                    format="json")
    assert response.status_code == status, response.content[:300]
    if status == 400:
        assert "ids" in response.json()


def test_the_preferences_offer_only_channels_in_use_and_configured(ada, settings):
    CategoryFactory(key="news", name="News")
    RuleFactory(channels=["email"], escalate_after_minutes=None)
    RuleFactory(channels=["inapp", "matrix"], enabled=False)  # disabled: not offered
    RuleFactory(channels=["inapp", "sms"])  # SMS has no credentials here: not offered
    settings.TWILIO_ACCOUNT_SID = ""
    channels = client_for(ada).get("/api/notifications/preferences").json()["channels"]
    assert channels == ["email", "inapp"]
