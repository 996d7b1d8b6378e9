"""Applications are tenants: another Application's key can neither see nor change what is
not in its own directory, and staff can let Applications share one deliberately.

The matrix below calls every endpoint of the management and end-user API with the key of
a second Application, aimed at the first Application's objects, and checks that nothing
leaks (no 2xx that reveals or changes them) and that the objects are untouched after.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inbox.models import Notification
from notifications.models import Application, Directory, RecipientGroup, Subscriber
from notifications.services.events import event_ingest
from tests.factories import CategoryFactory, RuleFactory, make_api_key
from tests.webhooks.factories import EndpointFactory

pytestmark = pytest.mark.django_db


def client_for(application: Application) -> APIClient:
    _key, secret = make_api_key(application=application)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def tenant_a():
    return Application.objects.create(name="shop")


@pytest.fixture
def tenant_b():
    return Application.objects.create(name="crm")


@pytest.fixture
def a_world(tenant_a, django_capture_on_commit_callbacks):
    """Application A's subscriber, group, event (with an in-app notification) and endpoint."""
    api = client_for(tenant_a)
    assert api.post("/api/subscribers", {"external_id": "ana", "email": "ana@shop.example"},
                     format="json").status_code == 201
    assert api.post("/api/groups", {"name": "#vip", "members": ["ana"]},
                    format="json").status_code == 201
    rule = RuleFactory(event_type="order.shipped", channels=["inapp"])
    rule.templates.create(channel="inapp", subject="Shipped", short_body="Your order shipped")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/events", {"event": "order.shipped", "to": ["ana"]},
                            format="json")
    assert response.status_code == 202, response.content
    endpoint = EndpointFactory(application=tenant_a)
    return {"event": response.json()["id"], "endpoint": endpoint.pk,
            "subscriber": Subscriber.objects.get(directory=tenant_a.directory, external_id="ana")}


def test_each_new_application_gets_a_directory_of_its_own(tenant_a, tenant_b):
    assert tenant_a.directory_id != tenant_b.directory_id
    assert tenant_a.directory.name == "shop" and tenant_b.directory.name == "crm"


def test_a_name_already_used_by_a_directory_gets_a_suffix(tenant_a):
    Directory.objects.create(name="billing")
    assert Application.objects.create(name="billing").directory.name == "billing (2)"


MATRIX = [
    ("get", "/api/subscribers/ana", None),
    ("put", "/api/subscribers/ana", {"external_id": "ana", "email": "x@crm.example"}),
    ("patch", "/api/subscribers/ana", {"email": "x@crm.example"}),
    ("delete", "/api/subscribers/ana", None),
    ("get", "/api/groups/vip", None),
    ("put", "/api/groups/vip", {"name": "#vip", "members": []}),
    ("patch", "/api/groups/vip", {"description": "taken over"}),
    ("delete", "/api/groups/vip", None),
    ("post", "/api/subscribers/ana/inbox-token", None),
    ("get", "/api/events/{event}", None),
    ("get", "/api/webhooks/configurations/{endpoint}", None),
    ("patch", "/api/webhooks/configurations/{endpoint}", {"description": "taken over"}),
    ("delete", "/api/webhooks/configurations/{endpoint}", None),
    ("get", "/api/webhooks/configurations/{endpoint}/logs", None),
    ("get", "/api/webhooks/configurations/{endpoint}/messages", None),
    ("post", "/api/webhooks/configurations/{endpoint}/test", None),
    ("post", "/api/webhooks/configurations/{endpoint}/regenerate-secret", None),
    ("post", "/api/webhooks/configurations/{endpoint}/expire-old-secrets", None),
    ("post", "/api/webhooks/configurations/{endpoint}/recover", None),
]


@pytest.mark.parametrize(("method", "path", "body"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_another_applications_objects_are_not_found(a_world, tenant_b, method, path, body):
    api = client_for(tenant_b)
    url = path.format(**a_world)

    response = getattr(api, method)(url, body, format="json")

    assert response.status_code == 404, (url, response.status_code, response.content)
    assert b"ana@shop.example" not in response.content


@pytest.mark.parametrize("path", ["/api/subscribers", "/api/groups", "/api/events",
                                  "/api/deliveries", "/api/webhooks/configurations"])
def test_lists_hold_only_the_callers_own(a_world, tenant_b, path):
    response = client_for(tenant_b).get(path)
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_nothing_of_the_first_application_changed(a_world, tenant_b):
    api = client_for(tenant_b)
    for method, path, body in MATRIX:
        getattr(api, method)(path.format(**a_world), body, format="json")

    ana = Subscriber.objects.get(pk=a_world["subscriber"].pk)
    assert ana.email == "ana@shop.example"
    group = RecipientGroup.objects.get(directory=a_world["subscriber"].directory, name="#vip")
    assert group.description == "" and list(group.members.all()) == [ana]


def test_names_in_events_are_the_callers_own(a_world, tenant_b):
    api = client_for(tenant_b)
    for to in (["ana"], ["#vip"]):
        response = api.post("/api/events", {"event": "order.shipped", "to": to}, format="json")
        assert response.status_code == 400
        assert "Unknown" in str(response.json())


def test_a_group_cannot_take_in_another_applications_subscriber(a_world, tenant_b):
    response = client_for(tenant_b).post("/api/groups", {"name": "#mine", "members": ["ana"]},
                                         format="json")
    assert response.status_code == 400
    assert "ana" in str(response.json()["members"])


def test_the_same_external_id_lives_in_both_and_each_inbox_is_its_own(
        a_world, tenant_b, django_capture_on_commit_callbacks):
    api_b = client_for(tenant_b)
    created = api_b.post("/api/subscribers", {"external_id": "ana", "email": "ana@crm.example"},
                         format="json")
    assert created.status_code == 201
    assert Subscriber.objects.filter(external_id="ana").count() == 2

    token = api_b.post("/api/subscribers/ana/inbox-token").json()["token"]
    inbox = APIClient().get("/api/notifications", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert inbox.status_code == 200
    assert inbox.json()["results"] == []  # A's notification went to A's ana
    assert Notification.objects.filter(subscriber=a_world["subscriber"]).count() == 1

    # B's own event reaches B's ana only.
    with django_capture_on_commit_callbacks(execute=True):
        assert api_b.post("/api/events", {"event": "order.shipped", "to": ["ana"]},
                          format="json").status_code == 202
    b_ana = Subscriber.objects.get(directory=tenant_b.directory, external_id="ana")
    assert Notification.objects.filter(subscriber=b_ana).count() == 1
    assert Notification.objects.filter(subscriber=a_world["subscriber"]).count() == 1


def test_a_duplicate_in_the_callers_own_directory_is_400(a_world, tenant_a):
    response = client_for(tenant_a).post("/api/subscribers", {"external_id": "ana"},
                                         format="json")
    assert response.status_code == 400
    assert "already exists" in str(response.json()["external_id"])


def test_staff_can_let_applications_share_a_directory(a_world, tenant_a, tenant_b):
    tenant_b.directory = tenant_a.directory
    tenant_b.save()
    api_b = client_for(tenant_b)

    assert api_b.get("/api/subscribers/ana").json()["email"] == "ana@shop.example"
    token = api_b.post("/api/subscribers/ana/inbox-token")
    assert token.status_code == 201
    inbox = APIClient().get("/api/notifications",
                            HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}")
    assert len(inbox.json()["results"]) == 1  # one inbox per person, whoever sent
    # Events and webhook endpoints stay each Application's own.
    assert api_b.get(f"/api/events/{a_world['event']}").status_code == 404


def test_an_event_keeps_the_directory_it_was_accepted_in(a_world, tenant_a):
    from notifications.models import Event

    event = Event.objects.get(pk=a_world["event"])
    assert event.directory_id == tenant_a.directory_id


def test_staff_triggers_use_the_default_directory():
    CategoryFactory()
    staff = Subscriber.objects.create(external_id="ops-lead")
    event, _ = event_ingest(event_type="x.y", recipients=["ops-lead"], data={})
    assert event.directory_id == staff.directory_id == Directory.objects.get(name="default").pk


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_what_each_application_could_reach():
    """Rows from before directories (no creator recorded) land in the default directory,
    together with every Application that existed, so nothing reachable becomes unreachable."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("notifications", "0009_delivery_lean_indexes")], \
        [("notifications", "0011_directory_required")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("notifications", "Application").objects.create(name="legacy")
    subscriber = old.get_model("notifications", "Subscriber").objects.create(external_id="old")
    old.get_model("notifications", "RecipientGroup").objects.create(name="#old")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    default = new.get_model("notifications", "Directory").objects.get(name="default")
    assert new.get_model("notifications", "Application").objects.get(
        name="legacy").directory_id == default.pk
    assert new.get_model("notifications", "Subscriber").objects.get(
        pk=subscriber.pk).directory_id == default.pk
    assert new.get_model("notifications", "RecipientGroup").objects.get(
        name="#old").directory_id == default.pk

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_admin_keeps_a_groups_members_in_its_directory(a_world, tenant_b, admin_client):
    from django.urls import reverse

    response = admin_client.post(reverse("admin:notifications_recipientgroup_add"), {
        "directory": tenant_b.directory_id, "name": "#mixed", "description": "",
        "members": [a_world["subscriber"].pk], "targets-TOTAL_FORMS": "0",
        "targets-INITIAL_FORMS": "0", "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000"})

    assert response.status_code == 200
    assert "Not in directory" in response.content.decode()
    assert not RecipientGroup.objects.filter(name="#mixed").exists()
