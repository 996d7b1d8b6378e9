"""Sandboxed rendering: escaping, strict variables, line numbers, conditions."""

from __future__ import annotations

import pytest

from notifications.templating import (
    TemplateProblem,
    condition_check,
    condition_evaluate,
    render,
    template_validate,
)
from tests.factories import EmailTemplateFactory, RuleFactory


def test_html_fields_are_autoescaped_and_text_fields_are_not():
    context = {"data": {"name": "<script>"}}
    assert render("Hi {{ data.name }}", context, html=True) == "Hi &lt;script&gt;"
    assert render("Hi {{ data.name }}", context) == "Hi <script>"


def test_undefined_variable_is_an_error_with_its_line():
    with pytest.raises(TemplateProblem) as problem:
        render("first line\nsecond {{ data.missing }}", {"data": {}})
    assert problem.value.line == 2
    assert "missing" in str(problem.value)


def test_syntax_error_reports_its_line():
    with pytest.raises(TemplateProblem) as problem:
        render("one\ntwo\n{% if %}", {})
    assert problem.value.line == 3


def test_sandbox_refuses_access_to_internals():
    with pytest.raises(TemplateProblem, match="unsafe"):
        render("{{ data.__class__.__mro__ }}", {"data": {}})


def test_condition_evaluates_over_event_data():
    assert condition_evaluate("data.amount > 100", {"data": {"amount": 150}}) is True
    assert condition_evaluate("data.amount > 100", {"data": {"amount": 50}}) is False
    with pytest.raises(TemplateProblem):
        condition_check("data.amount >")


@pytest.mark.django_db
def test_template_validation_uses_the_rules_sample_data():
    rule = RuleFactory(sample_data={"order_id": "A-1"})
    good = EmailTemplateFactory.build(rule=rule, subject="Order {{ data.order_id }}")
    assert template_validate(template=good, sample_data=rule.sample_data) == {}
    bad = EmailTemplateFactory.build(rule=rule, subject="Order {{ data.ordr_id }}")
    errors = template_validate(template=bad, sample_data=rule.sample_data)
    assert "line 1" in errors["subject"] and "ordr_id" in errors["subject"]
