"""What someone meets first: the landing page, the favicon, the demo's links, the URLs
``make run`` prints."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_root_says_what_is_running_and_links_every_part(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for href in ("/admin/", "/admin/dashboard/", "/inbox/", "/api/docs/", "/api/schema/"):
        assert f'href="{href}"' in page
        # Each link leads somewhere (the admin ones to its login page).
        assert client.get(href).status_code in (200, 302), href


def test_the_favicon_exists(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("inbox/icon.svg")


def test_the_demo_notifications_open_link_leads_to_a_page(client):
    response = client.get("/demo/orders/A-1001")
    assert response.status_code == 200
    assert "Order A-1001" in response.content.decode()


def test_the_admin_links_the_inbox_page_and_the_api_docs(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/inbox/"' in page and 'href="/api/docs/"' in page


def test_load_demo_prints_the_url_the_server_will_use():
    out = StringIO()
    call_command("load_demo", "--base-url", "http://127.0.0.1:18100", stdout=out)
    output = out.getvalue()
    assert "Admin:    http://127.0.0.1:18100/admin/" in output
    assert "curl -X POST http://127.0.0.1:18100/api/events" in output
    assert ":8000" not in output
