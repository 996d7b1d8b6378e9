"""The template preview renders every template of a rule, and shows where a broken one fails."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from notifications.models import MessageTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule_with_templates(shipping):
    """The shipping rule with a good e-mail template, a German one, and a broken SMS one."""
    rule = shipping.rule
    rule.channels = ["email", "sms", "inapp"]
    rule.save()
    MessageTemplate.objects.create(rule=rule, channel="email", locale="de",
                                   subject="Bestellung {{ data.order_id }} versandt")
    MessageTemplate.objects.create(rule=rule, channel="sms",
                                   short_body="Shipped: {{ data.order_id }}\n{{ data.eta }}")
    return rule


def _url(rule):
    return reverse("admin:notifications_rule_preview", args=[rule.pk])


def test_preview_renders_every_template_with_sample_data(admin_client, rule_with_templates):
    response = admin_client.get(_url(rule_with_templates))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Order A-17 shipped" in content
    assert "Bestellung A-17 versandt" in content
    assert "Hello Sam, order A-17 is on its way." in content
    # The sample data is offered for editing.
    assert escape('"order_id": "A-17"') in content


def test_preview_shows_html_rendered_in_sandboxed_iframe_and_as_source(admin_client,
                                                                      rule_with_templates):
    content = admin_client.get(_url(rule_with_templates)).content.decode()

    rendered = "<p>Hello Sam, order <b>A-17</b>.</p>"
    frame = re.search(r"<iframe[^>]*>", content)[0]
    assert 'sandbox=""' in frame
    assert f'srcdoc="{escape(rendered)}"' in frame
    assert f'<pre class="preview-source">{escape(rendered)}</pre>' in content


def test_preview_shows_broken_template_error_with_its_line(admin_client, rule_with_templates):
    content = admin_client.get(_url(rule_with_templates)).content.decode()

    problem = escape("'dict object' has no attribute 'eta'")
    assert f"Error on line 2: {problem}</p>" in content
    # The other templates still render.
    assert "Order A-17 shipped" in content


def test_preview_with_posted_sample_data(admin_client, rule_with_templates):
    response = admin_client.post(_url(rule_with_templates),
                                 {"sample_data": '{"order_id": "Z-9", "eta": "Monday"}'})

    content = response.content.decode()
    assert "Order Z-9 shipped" in content
    assert "Shipped: Z-9\nMonday" in content
    assert "Error on line" not in content


def test_preview_lists_channels_without_template(admin_client, rule_with_templates):
    content = admin_client.get(_url(rule_with_templates)).content.decode()

    assert "No template for the <strong>inapp</strong> channel" in content
    assert "No template for the <strong>email</strong>" not in content


@pytest.mark.parametrize(("posted", "error"), [
    ('{"order_id": ', "Not valid JSON"),
    ('["a", "list"]', "must be a JSON object"),
])
def test_preview_rejects_unusable_sample_data(admin_client, rule_with_templates, posted, error):
    response = admin_client.post(_url(rule_with_templates), {"sample_data": posted})

    assert response.status_code == 200
    content = response.content.decode()
    assert error in content
    assert "Order A-17 shipped" not in content


def test_single_template_preview(admin_client, rule_with_templates):
    template = rule_with_templates.templates.get(channel="sms")
    url = reverse("admin:notifications_messagetemplate_preview", args=[template.pk])

    broken = admin_client.get(url)
    fixed = admin_client.post(url, {"sample_data": '{"order_id": "A-1", "eta": "soon"}'})

    assert "Error on line 2:" in broken.content.decode()
    assert "Shipped: A-1\nsoon" in fixed.content.decode()
    assert "Order A-1 shipped" not in fixed.content.decode()


def test_preview_of_unknown_rule_is_404(admin_client, db):
    response = admin_client.get(reverse("admin:notifications_rule_preview", args=[999]))

    assert response.status_code == 404
