"""Recurring events in the admin: a crontab in a time zone that triggers a real event."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from notifications.models import Event
from tests.factories import EmailTemplateFactory, RecipientGroupFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db
ADD_URL = "admin:notifications_recurringevent_add"


def form(**overrides):
    data = {"name": "weekly report", "enabled": "on", "description": "",
            "event_type": "report.weekly", "recipients": '["#team"]',
            "data": '{"week": "auto"}', "application": "",
            "minute": "0", "hour": "9", "day_of_week": "1", "day_of_month": "*",
            "month_of_year": "*", "timezone": "Europe/Vienna"}
    data.update(overrides)
    return data


@pytest.fixture
def team():
    group = RecipientGroupFactory(name="#team")
    group.members.add(SubscriberFactory(external_id="ana", email="ana@example.com"))
    rule = RuleFactory(event_type="report.weekly", sample_data={"week": "1"})
    EmailTemplateFactory(rule=rule, subject="Week {{ data.week }}", text_body="Report",
                         html_body="")
    return group


def test_form_creates_a_crontab_task_that_triggers_a_real_event(
        admin_client, team, django_capture_on_commit_callbacks):
    response = admin_client.post(reverse(ADD_URL), form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    task = PeriodicTask.objects.get(name="weekly report")
    assert task.task == "notifications.trigger_event"
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "9", "1")
    assert str(task.crontab.timezone) == "Europe/Vienna"
    assert task.interval is None and task.enabled

    # What beat does when the crontab fires: run the task with its stored arguments.
    from config.celery import app

    app.loader.import_default_modules()
    with django_capture_on_commit_callbacks(execute=True):
        app.tasks[task.task].apply(args=json.loads(task.args), kwargs=json.loads(task.kwargs))
    event = Event.objects.get()
    assert (event.event_type, event.data, event.recipients) == (
        "report.weekly", {"week": "auto"}, ["#team"])
    [message] = mail.outbox
    assert message.to == ["ana@example.com"] and message.subject == "Week auto"


@pytest.mark.parametrize(("field", "value"), [
    ("recipients", '["#nobody"]'),
    ("recipients", "[not json"),
    ("data", "[1, 2]"),
    ("hour", "25"),
    ("event_type", "bad type!"),
])
def test_bad_input_is_a_form_error_and_nothing_is_saved(admin_client, team, field, value):
    response = admin_client.post(reverse(ADD_URL), form(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not PeriodicTask.objects.filter(task="notifications.trigger_event").exists()


def test_editing_shows_and_updates_the_existing_task(admin_client, team):
    admin_client.post(reverse(ADD_URL), form())
    task = PeriodicTask.objects.get(name="weekly report")
    url = reverse("admin:notifications_recurringevent_change", args=[task.pk])
    page = admin_client.get(url)
    assert page.context["adminform"].form.initial["event_type"] == "report.weekly"
    response = admin_client.post(url, form(hour="7", data='{"week": "42"}'))
    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.crontab.hour == "7" and json.loads(task.kwargs)["data"] == {"week": "42"}
    assert PeriodicTask.objects.filter(task="notifications.trigger_event").count() == 1
    # The list shows only recurring events, not the platform's own beat tasks.
    listing = admin_client.get(reverse("admin:notifications_recurringevent_changelist"))
    assert list(listing.context["cl"].result_list) == [task]


def test_the_form_speaks_of_recurring_events_and_lists_the_applications(admin_client):
    from django.urls import reverse

    from tests.factories import ApplicationFactory

    ApplicationFactory(name="billing")
    page = admin_client.get(reverse("admin:notifications_recurringevent_add")).content.decode()
    assert "Short Description For This Task" not in page
    assert '<option value="billing">billing</option>' in page
