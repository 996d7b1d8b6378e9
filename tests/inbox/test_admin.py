"""The inbox's admin pages load for staff."""

from __future__ import annotations

import pytest

from tests.inbox.factories import NotificationFactory


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["notification", "preference", "quiethours", "pushconnection"])
def test_changelists_load(admin_client, model):
    NotificationFactory()
    assert admin_client.get(f"/admin/inbox/{model}/").status_code == 200


@pytest.mark.django_db
def test_notification_change_page_loads(admin_client):
    notification = NotificationFactory()
    assert admin_client.get(f"/admin/inbox/notification/{notification.pk}/change/").status_code == 200
