"""A template written to take the machine down fails its own render, clearly, and nothing else.

Each attack below, unbounded, needs gigabytes of memory, billions of steps or
the whole stack; bounded, it is a ``TemplateProblem`` naming the limit — on
save in the admin, and as a permanent failure of that one delivery at send
time, while the rest of its batch is sent.
"""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.models import Delivery, DeliveryStatus
from notifications.services.events import event_ingest
from notifications.templating import (
    TemplateProblem,
    condition_evaluate,
    render,
    template_validate,
)
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory

ATTACKS = {
    "repeat a string": "{{ 'x' * 10**10 }}",
    "repeat a list": "{{ [1] * 10**9 }}",
    "huge power": "{{ 7 ** 999999 }}",
    "recursive macro": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}",
    "nested loops, no output": "{% for i in range(99999) %}{% for j in range(99999) %}"
                               "{% endfor %}{% endfor %}",
    "nested loops, output": "{% for i in range(99999) %}{% for j in range(99999) %}x"
                            "{% endfor %}{% endfor %}",
    "padding method": "{{ 'x'.ljust(10**10) }}",
    "format width": "{{ '{:>9999999999}'.format(1) }}",
    "format width from an argument": "{{ '{:>{}}'.format('x', 10**10) }}",
    "percent width": "{{ '%9999999999s' % 'x' }}",
    "percent star width": "{{ '%*s' % (10**9, 'x') }}",
    "center filter": "{{ 'x'|center(10**10) }}",
    "indent filter": "{{ 'a\nb'|indent(10**9) }}",
    "replace method": "{{ ('x' * 999999).replace('', 'xx') }}",
    "replace filter": "{{ ('x' * 999999)|replace('', 'xx') }}",
    "format filter": "{{ '%9999999999s'|format('x') }}",
    "output growing in a loop": "{% for i in range(99999) %}{{ 'y' * 99 }}{% endfor %}",
}


@pytest.mark.parametrize("source", ATTACKS.values(), ids=ATTACKS.keys())
def test_each_attack_is_a_template_problem_naming_the_limit(source):
    with pytest.raises(TemplateProblem) as problem:
        render(source, {})
    assert problem.value.limit
    assert any(word in str(problem.value) for word in ("longer than", "too large", "steps",
                                                        "too deeply", "width"))


def test_ordinary_templates_render_as_before():
    source = ("Hello {{ name|title }}: {{ '%5s'|format('a') }} {{ 'ab'|replace('a', 'c') }} "
              "{{ '{}-{:>3}'.format(1, 2) }} {{ 'x' * 3 }} {{ 2 ** 10 }} {{ 'a'|center(5) }}"
              "{% for item in items %} {{ loop.index }}={{ item }}{% endfor %}"
              "{% macro twice(s) %}{{ s }}{{ s }}{% endmacro %} {{ twice('o') }}")
    assert render(source, {"name": "ada", "items": ["p", "q"]}) == (
        "Hello Ada:     a cb 1-  2 xxx 1024   a   1=p 2=q oo")


def test_a_condition_is_bounded_too():
    with pytest.raises(TemplateProblem):
        condition_evaluate("('x' * 10**10) == ''", {})


@pytest.mark.django_db
def test_saving_a_template_that_exceeds_a_limit_is_refused_even_without_sample_data():
    rule = RuleFactory(sample_data={})
    template = EmailTemplateFactory.build(rule=rule, subject="{{ 'x' * 10**10 }}",
                                          text_body="Hello {{ subscriber.nickname }}")
    errors = template_validate(template=template, sample_data={})
    assert "longer than" in errors["subject"]
    # Without sample data a variable the sample lacks is no reason to refuse.
    assert "text_body" not in errors


@pytest.mark.django_db
def test_at_send_time_only_the_delivery_over_the_limit_fails(django_capture_on_commit_callbacks):
    rule = RuleFactory(event_type="news", audience="recipients")
    EmailTemplateFactory(rule=rule, subject="News", html_body="",
                         text_body="{% if subscriber.first_name == 'Mallory' %}"
                                   "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}"
                                   "{% endif %}Hello {{ subscriber.first_name }}")
    for name in ("Ada", "Mallory", "Grace"):
        SubscriberFactory(external_id=name.lower(), first_name=name)
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="news", recipients=["ada", "mallory", "grace"], data={})
    statuses = {d.subscriber.first_name: d.status for d in Delivery.objects.all()}
    assert statuses == {"Ada": DeliveryStatus.SENT, "Grace": DeliveryStatus.SENT,
                        "Mallory": DeliveryStatus.FAILED}
    failed = Delivery.objects.get(status=DeliveryStatus.FAILED)
    assert "too deeply" in failed.last_error
    assert sorted(message.body for message in mail.outbox) == ["Hello Ada", "Hello Grace"]
