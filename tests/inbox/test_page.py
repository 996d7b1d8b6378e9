"""The /inbox/ page, its login and logout, through Django's test client.

The behaviour in a real browser (live updates, forms) is in ``test_browser.py``;
here: who gets the page, who is sent to log in or refused, and that everything
the page needs is served locally.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 — a test account


@pytest.fixture
def reader() -> User:
    user = User.objects.create_user("reader", password=PASSWORD)
    SubscriberFactory(external_id="reader-1", user=user)
    return user


@pytest.fixture
def stranger() -> User:
    return User.objects.create_user("stranger", password=PASSWORD)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/login/?next=/inbox/"


def test_user_without_a_subscriber_gets_a_clear_403_page(client, stranger):
    client.force_login(stranger)
    response = client.get("/inbox/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "This account has no inbox" in page
    assert "stranger" in page
    assert 'action="/inbox/logout/"' in page  # a way out to another account


def test_linked_user_gets_the_page_with_a_csrf_cookie(client, reader):
    client.force_login(reader)
    response = client.get("/inbox/")
    assert response.status_code == 200
    page = response.content.decode()
    for landmark in ('id="unread-count"', 'id="live-status"', 'id="notification-list"',
                     'id="send-test"', 'id="mark-all-read"', 'id="preferences-form"'):
        assert landmark in page
    assert 'aria-live="polite"' in page
    # inbox.js sends this cookie back as X-CSRFToken on every write.
    assert response.cookies["csrftoken"].value


def test_every_asset_is_local_and_served(client, reader):
    client.force_login(reader)
    page = client.get("/inbox/").content.decode()
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert set(assets) == {"/static/inbox/inbox.css", "/static/inbox/inbox.js",
                           "/static/inbox/page.js", "/static/inbox/icon.svg"}
    expected = {"/static/inbox/inbox.css": (b":root", "text/css"),
                "/static/inbox/inbox.js": (b"global.ClarionInbox = ClarionInbox", "javascript"),
                "/static/inbox/page.js": (b"new window.ClarionInbox(", "javascript"),
                "/static/inbox/icon.svg": (b"<svg", "image/svg+xml")}
    for url, (content, content_type) in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert content_type in response["Content-Type"]
        assert content in body(response)
    # No CDN, no web fonts: nothing on the page or in the styles leaves the server.
    css = body(client.get("/static/inbox/inbox.css")).decode()
    assert "@import" not in css and "url(" not in css
    assert "https://" not in page and "http://" not in page


def test_login_form_signs_in_and_lands_on_the_inbox(client, reader):
    form = client.get("/inbox/login/")
    assert form.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in form.content.decode()
    response = client.post("/inbox/login/", {"username": "reader", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    assert client.get("/inbox/").status_code == 200


def test_login_honours_a_local_next_and_ignores_a_foreign_one(client, reader):
    kept = client.post("/inbox/login/?next=/inbox/%3Fx%3D1",
                       {"username": "reader", "password": PASSWORD, "next": "/inbox/?x=1"})
    assert kept["Location"] == "/inbox/?x=1"
    client.logout()
    foreign = client.post("/inbox/login/", {"username": "reader", "password": PASSWORD,
                                            "next": "https://evil.example/"})
    assert foreign["Location"] == "/inbox/"


def test_wrong_password_shows_the_error_and_stays_signed_out(client, reader):
    response = client.post("/inbox/login/", {"username": "reader", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get("/inbox/").status_code == 302


def test_signed_in_user_visiting_login_goes_to_the_inbox(client, reader):
    client.force_login(reader)
    response = client.get("/inbox/login/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"


def test_logout_is_a_post_and_returns_to_the_login_page(client, reader):
    client.force_login(reader)
    assert client.get("/inbox/logout/").status_code == 405
    response = client.post("/inbox/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/login/"
    assert client.get("/inbox/").status_code == 302
