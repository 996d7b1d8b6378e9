"""Staff-editable text rendered safely: Jinja2's sandbox for templates and rule conditions.

Templates and conditions are written by staff in the admin, so they run in a
sandbox (``notifications/template_limits.py``: no attribute access to
internals, no imports, and bounded output, work, time and recursion) with
``StrictUndefined`` (a misspelt variable is an error, not a silent blank).
HTML fields are autoescaped. Compiled templates are cached by their source, so
an edited template takes effect at once and an unchanged one compiles once.
"""

from __future__ import annotations

import traceback
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta

from notifications.template_limits import (
    TEMPLATE_FILENAME,
    BoundedSandbox,
    LimitExceeded,
    bounded_render,
    needs_step_limit,
)

_TEXT_ENV = BoundedSandbox(undefined=StrictUndefined, autoescape=False)
_HTML_ENV = BoundedSandbox(undefined=StrictUndefined, autoescape=True)


class TemplateProblem(Exception):
    """A template or condition that does not compile or render, with its line when known."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None,
                 limit: bool = False):
        self.message = message
        self.line = line
        self.field = field
        self.limit = limit  # a limit of the sandbox was exceeded (see template_limits.py)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


def _runtime_line(exc: BaseException) -> int | None:
    """Jinja2 rewrites tracebacks so template frames carry the template's own line numbers."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == TEMPLATE_FILENAME]
    return lines[-1] if lines else None


@lru_cache(maxsize=4096)
def _compile(source: str, html: bool):
    env = _HTML_ENV if html else _TEXT_ENV
    try:
        parsed = env.parse(source)
        code = env.compile(parsed, filename=TEMPLATE_FILENAME)
        template = env.template_class.from_code(env, code, env.make_globals(None))
        template.step_limit = needs_step_limit(parsed)  # loops or macros: count its steps
        return template
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or "syntax error", line=exc.lineno) from None


@lru_cache(maxsize=4096)
def template_variables(source: str) -> frozenset[str]:
    """The top-level names ``source`` reads from its context (``data``, ``subscriber``, …).

    A source that does not compile reads, as far as anyone can tell, everything.
    """
    try:
        return frozenset(meta.find_undeclared_variables(_TEXT_ENV.parse(source)))
    except TemplateSyntaxError:
        return frozenset({"*"})


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """Render ``source`` with ``context``; raise ``TemplateProblem`` on any template error."""
    template = _compile(source, html)
    try:
        return bounded_render(template, context, step_limit=template.step_limit)
    except LimitExceeded as exc:
        raise TemplateProblem(str(exc), line=_runtime_line(exc), limit=True) from None
    except RecursionError:
        raise TemplateProblem("the template calls itself too deeply (a macro that never "
                              "stops recursing?)", limit=True) from None
    except TemplateError as exc:
        raise TemplateProblem(str(exc), line=_runtime_line(exc)) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        raise TemplateProblem(f"{type(exc).__name__}: {exc}", line=_runtime_line(exc)) from None


def render_fields(sources: dict[str, str], context: dict[str, Any],
                  html_fields: tuple[str, ...] = ("html_body",)) -> dict[str, str]:
    """Render several named fields; a problem names the field it came from."""
    rendered = {}
    for field, source in sources.items():
        try:
            rendered[field] = render(source, context, html=field in html_fields)
        except TemplateProblem as problem:
            problem.field = field
            raise
    return rendered


@lru_cache(maxsize=1024)
def _compile_condition(expression: str):
    try:
        return _TEXT_ENV.compile_expression(expression, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or "syntax error") from None


def condition_check(expression: str) -> None:
    """Raise ``TemplateProblem`` when the expression does not compile."""
    _compile_condition(expression)


def condition_evaluate(expression: str, context: dict[str, Any]) -> bool:
    """Evaluate a rule condition; raise ``TemplateProblem`` when it cannot be evaluated."""
    compiled = _compile_condition(expression)
    try:
        return bool(compiled(**context))
    except LimitExceeded as exc:
        raise TemplateProblem(str(exc), limit=True) from None
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        raise TemplateProblem(f"{type(exc).__name__}: {exc}") from None


def sample_context(sample_data: dict[str, Any], event_type: str = "sample.event") -> dict[str, Any]:
    """The context used for previews and checks on save: sample data and a sample subscriber."""
    event = {"id": "00000000-0000-0000-0000-000000000000", "type": event_type,
             "created_at": "2026-01-01T00:00:00+00:00"}
    return {
        "data": sample_data,
        "event": event,
        # As for a digest of two, so a template looping over ``items`` is checked too.
        "items": [{"event": event, "data": sample_data}, {"event": event, "data": sample_data}],
        "digest": {"count": 2, "key": ""},
        "subscriber": {"external_id": "sample-user", "email": "sample@example.com",
                       "phone": "+14155550100", "first_name": "Sam", "last_name": "Sample",
                       "locale": "", "timezone": "UTC", "data": {}},
        "recipient": {"channel": "", "address": "sample@example.com"},
    }


def template_validate(*, template, sample_data: dict[str, Any]) -> dict[str, str]:
    """Return ``{field: problem}`` for a MessageTemplate's fields (empty when all is well).

    Syntax is always checked; with sample data, every field is also rendered so
    that an undefined variable is reported on save rather than at send time.
    """
    errors: dict[str, str] = {}
    rule = template.rule if (template.rule_id or "rule" in template._state.fields_cache) else None
    event_type = rule.event_type if rule is not None else template.event_type
    context = sample_context(sample_data, event_type)
    for field, source in template.sources().items():
        html = field in template.HTML_FIELDS
        try:
            _compile(source, html)  # a syntax error is always reported
        except TemplateProblem as problem:
            errors[field] = str(problem)
            continue
        try:
            render(source, context, html=html)
        except TemplateProblem as problem:
            # Without sample data a missing variable proves nothing; exceeding a limit does.
            if sample_data or problem.limit:
                errors[field] = str(problem)
    return errors
