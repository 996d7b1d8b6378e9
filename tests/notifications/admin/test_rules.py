"""Rules in the admin: test events through the real pipeline, and templates checked on save."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from notifications.models import Event, MessageTemplate, Rule
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory
from tests.notifications.admin.helpers import (
    action_data,
    rule_form_data,
    template_fields,
    template_form_data,
)

pytestmark = pytest.mark.django_db


def _missing(variable: str, *, line: int) -> str:
    """The error a form shows, inside its error list, for an undefined ``data`` variable."""
    return escape(f"line {line}: 'dict object' has no attribute '{variable}'") + "</li>"


def test_send_test_event_reaches_groups_and_staff_subscriber(
        admin_client, admin_user, shipping, django_capture_on_commit_callbacks):
    SubscriberFactory(external_id="staff-1", email="staff@example.com", user=admin_user)
    shipping.rule.event_type = "order.*"
    shipping.rule.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:notifications_rule_changelist"),
                                     action_data("send_test_event", shipping.rule))

    event = Event.objects.get()
    assert event.event_type == "order.test"
    assert event.data == {"order_id": "A-17"}
    assert event.recipients == ["#shipping", "staff-1"]
    assert event.application is None
    assert event.status == "processed"
    assert sorted(event.deliveries.values_list("address", "status")) == [
        ("ana@example.com", "sent"), ("staff@example.com", "sent")]
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "staff@example.com"]
    assert mail.outbox[0].subject == "Order A-17 shipped"
    page = admin_client.get(response["Location"]).content.decode()
    assert reverse("admin:notifications_event_change", args=[event.pk]) in page


def test_send_test_event_without_staff_subscriber_goes_to_groups_only(
        admin_client, shipping, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:notifications_rule_changelist"),
                          action_data("send_test_event", shipping.rule))

    assert Event.objects.get().recipients == ["#shipping"]
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


def test_send_test_event_skips_disabled_rule(admin_client, shipping):
    shipping.rule.enabled = False
    shipping.rule.save()

    response = admin_client.post(reverse("admin:notifications_rule_changelist"),
                                 action_data("send_test_event", shipping.rule), follow=True)

    assert not Event.objects.exists()
    assert "disabled" in response.content.decode()


def test_rule_change_page_links_to_preview(admin_client, shipping):
    response = admin_client.get(reverse("admin:notifications_rule_change",
                                        args=[shipping.rule.pk]))

    assert reverse("admin:notifications_rule_preview", args=[shipping.rule.pk]) in \
        response.content.decode()


# --- Templates checked on save ------------------------------------------------------------


def test_standalone_template_with_syntax_error_is_not_saved(admin_client, shipping):
    template = shipping.rule.templates.get()
    url = reverse("admin:notifications_messagetemplate_change", args=[template.pk])

    response = admin_client.post(url, template_form_data(
        template, text_body="Hello\n\n{{ data.order_id | }}"))

    assert response.status_code == 200
    assert "line 3: expected token" in response.content.decode()
    template.refresh_from_db()
    assert "|" not in template.text_body


def test_standalone_template_with_undefined_variable_is_not_saved(admin_client, shipping):
    template = shipping.rule.templates.get()
    url = reverse("admin:notifications_messagetemplate_change", args=[template.pk])

    response = admin_client.post(url, template_form_data(template,
                                                         subject="{{ data.tracking_code }}"))

    assert response.status_code == 200
    assert _missing("tracking_code", line=1) in response.content.decode()
    template.refresh_from_db()
    assert template.subject == "Order {{ data.order_id }} shipped"


def test_standalone_template_over_a_render_limit_is_not_saved(admin_client, shipping):
    template = shipping.rule.templates.get()
    url = reverse("admin:notifications_messagetemplate_change", args=[template.pk])

    response = admin_client.post(url, template_form_data(
        template, text_body="{% for i in range(99999) %}{% for j in range(99999) %}"
                            "{% endfor %}{% endfor %}"))

    assert response.status_code == 200
    assert "more than 1,000,000 steps" in response.content.decode()
    template.refresh_from_db()
    assert "range" not in template.text_body


def test_standalone_template_change_page_links_to_preview(admin_client, shipping):
    template = shipping.rule.templates.get()

    response = admin_client.get(reverse("admin:notifications_messagetemplate_change",
                                        args=[template.pk]))

    assert reverse("admin:notifications_messagetemplate_preview", args=[template.pk]) in \
        response.content.decode()


def test_inline_template_with_undefined_variable_is_not_saved(admin_client, shipping):
    template = shipping.rule.templates.get()
    broken = {**template_fields(template), "html_body": "<p>Hi</p>\n<p>{{ data.nope }}</p>"}

    response = admin_client.post(
        reverse("admin:notifications_rule_change", args=[shipping.rule.pk]),
        rule_form_data(rule=shipping.rule, templates=[broken], description="changed"))

    assert response.status_code == 200
    assert _missing("nope", line=2) in response.content.decode()
    template.refresh_from_db()
    shipping.rule.refresh_from_db()
    assert "nope" not in template.html_body
    assert shipping.rule.description == ""


def test_inline_templates_are_checked_against_the_sample_data_being_saved(admin_client, shipping):
    template = shipping.rule.templates.get()
    url = reverse("admin:notifications_rule_change", args=[shipping.rule.pk])

    response = admin_client.post(url, rule_form_data(
        rule=shipping.rule, templates=[template_fields(template)], sample_data={"other": 1}))

    assert response.status_code == 200
    assert _missing("order_id", line=1) in response.content.decode()
    shipping.rule.refresh_from_db()
    assert shipping.rule.sample_data == {"order_id": "A-17"}


def test_new_rule_with_valid_inline_template_is_saved(admin_client, shipping):
    data = rule_form_data(name="order delivered", event_type="order.delivered",
                          sample_data={"order_id": "B-2"},
                          templates=[{"channel": "email", "subject": "{{ data.order_id }} here",
                                      "text_body": "Hi {{ subscriber.first_name }}"}])

    response = admin_client.post(reverse("admin:notifications_rule_add"), data)

    assert response.status_code == 302, response.context["errors"]
    rule = Rule.objects.get(name="order delivered")
    assert rule.channels == ["email"]
    assert list(rule.templates.values_list("channel", "subject")) == [
        ("email", "{{ data.order_id }} here")]


def test_new_rule_with_undefined_variable_in_inline_template_is_not_saved(admin_client):
    data = rule_form_data(name="order delivered", sample_data={"order_id": "B-2"},
                          templates=[{"channel": "email", "subject": "Hi",
                                      "text_body": "Line one\n{{ data.missing_field }}"}])

    response = admin_client.post(reverse("admin:notifications_rule_add"), data)

    assert response.status_code == 200
    assert _missing("missing_field", line=2) in response.content.decode()
    assert not Rule.objects.filter(name="order delivered").exists()
    assert not MessageTemplate.objects.exists()


def test_new_rule_with_syntax_error_in_inline_template_is_not_saved(admin_client):
    data = rule_form_data(name="order delivered",
                          templates=[{"channel": "sms", "short_body": "{{ data.x "}])

    response = admin_client.post(reverse("admin:notifications_rule_add"), data)

    assert response.status_code == 200
    assert "line 1: unexpected end of template" in response.content.decode()
    assert not Rule.objects.filter(name="order delivered").exists()


def test_two_inline_templates_for_one_channel_and_locale_are_refused(admin_client, shipping):
    template = shipping.rule.templates.get()
    duplicate = {"channel": "email", "locale": "", "subject": "Again"}

    response = admin_client.post(
        reverse("admin:notifications_rule_change", args=[shipping.rule.pk]),
        rule_form_data(rule=shipping.rule, templates=[template_fields(template), duplicate]))

    assert response.status_code == 200
    assert "Two templates for channel" in response.content.decode()
    assert shipping.rule.templates.count() == 1


def test_rule_channels_are_chosen_from_known_channels(admin_client):
    response = admin_client.post(reverse("admin:notifications_rule_add"),
                                 rule_form_data(channels=["carrier-pigeon"]))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Rule.objects.exists()


def test_rule_list_columns(admin_client):
    RuleFactory(name="paid", event_type="invoice.*", channels=["email", "sms"])
    EmailTemplateFactory()

    response = admin_client.get(reverse("admin:notifications_rule_changelist"), {"q": "invoice"})

    content = response.content.decode()
    assert "invoice.*" in content
    assert "email, sms" in content
    assert response.context["cl"].result_count == 1


def test_standalone_template_duplicating_another_is_refused(admin_client, shipping):
    german = MessageTemplate.objects.create(rule=shipping.rule, channel="email", locale="de",
                                            subject="Hallo")

    response = admin_client.post(
        reverse("admin:notifications_messagetemplate_change", args=[german.pk]),
        template_form_data(german, locale=""))

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    german.refresh_from_db()
    assert german.locale == "de"


def test_saving_a_rule_whose_escalation_has_no_template_warns(admin_client):
    from django.urls import reverse

    data = rule_form_data(name="unread", channels=["inapp"], escalate_after_minutes=5,
                          escalate_channel="sms",
                          templates=[{"channel": "inapp", "inapp_title": "Hi",
                                      "inapp_body": "There"}])
    response = admin_client.post(reverse("admin:notifications_rule_add"), data, follow=True)

    assert Rule.objects.filter(name="unread").exists(), response.context.get("errors")
    shown = [str(m) for m in response.context["messages"]]
    assert any("no template for sms" in m for m in shown), shown


def test_the_template_forms_carry_each_channels_fields_for_the_page_script(admin_client):
    import json as jsonlib
    import re

    from django.urls import reverse

    page = admin_client.get(reverse("admin:notifications_rule_add")).content.decode()
    assert "admin_clarion/template_fields.js" in page
    found = re.search(r'data-channel-fields="([^"]+)"', page)
    assert found is not None
    fields = jsonlib.loads(found.group(1).replace("&quot;", '"'))
    assert fields["email"] == ["subject", "text_body", "html_body"]
    assert fields["inapp"] == ["inapp_title", "inapp_body", "action_url"]
