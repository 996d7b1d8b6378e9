"""What a staff template may cost: output, work, wall-clock time and recursion, each bounded.

Jinja2's sandbox keeps a template away from Python's internals; it does not
keep it from using up the machine. ``{{ 'x' * 10**10 }}`` asks for 10 GB, two
nested ``range(99999)`` loops for ten billion steps, a macro that calls itself
for the whole stack. Every render here has a budget:

* **output** — at most ``MAX_OUTPUT_CHARS`` characters, counted as they are
  produced; and no single operation may build a string or list larger than
  that before it is output (``*``, ``**``, ``%`` and ``format`` widths,
  padding, ``replace``, the ``center``/``indent``/``format``/``replace``
  filters);
* **work and time** — a template with loops or macros runs under a line
  counter: at most ``MAX_STEPS`` template lines and ``MAX_SECONDS`` of wall
  clock (templates without them run a fixed number of bounded operations);
* **recursion** — Python's own limit, which the caller reports as a problem.

Exceeding one raises ``LimitExceeded``: that render fails with a message
naming the limit, and nothing else is affected.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT_CHARS = 1_000_000
MAX_STEPS = 1_000_000
MAX_SECONDS = 2.0
#: Bits an integer ``**`` may produce (about 3,000 decimal digits).
MAX_POWER_BITS = 10_000
#: Where compiled templates say they come from (their frames carry it).
TEMPLATE_FILENAME = "<template>"

_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
#: What Jinja2 passes to a filter before its value, for filters marked to take it.
_PASSED_BEFORE_VALUE = (SandboxedEnvironment, Context, nodes.EvalContext)
_FORMAT_WIDTH = re.compile(r"\d+")


class LimitExceeded(TemplateRuntimeError):
    """A render went over one of the limits above."""


class BoundedSandbox(SandboxedEnvironment):
    """Jinja2's sandbox with the size checks above on operators, calls and filters."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any):
        super().__init__(**options)
        for name in ("center", "indent", "format", "replace"):
            self.filters[name] = _bounded_filter(name, self.filters[name])

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 — Jinja2's
        _check_str_method(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any):
        # The sandbox swaps ``str.format`` for its own formatter when the attribute is read,
        # so the width check goes around that formatter.
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format_method(text, args, kwargs)
            return wrapped(*args, **kwargs)

        return checked


def needs_step_limit(source_ast: nodes.Template) -> bool:
    """Whether a template can run for long: it loops, or defines macros (which may recurse)."""
    return any(True for _ in source_ast.find_all((nodes.For, nodes.Macro, nodes.CallBlock)))


def bounded_render(template, context: dict[str, Any], *, step_limit: bool = True) -> str:
    """``template.render(context)`` within the limits; raise ``LimitExceeded`` beyond them."""
    steps = _Steps() if step_limit else None
    previous = sys.gettrace()
    if steps is not None:
        sys.settrace(steps.enter)
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long())
            parts.append(chunk)
    finally:
        if steps is not None:
            sys.settrace(previous)
    return "".join(parts)


class _Steps:
    """Counts the lines template code runs (only template frames are traced, so the
    library code they call runs at full speed) and checks the clock every thousand."""

    def __init__(self):
        self.count = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def enter(self, frame, event, arg):
        return self.line if frame.f_code.co_filename == TEMPLATE_FILENAME else None

    def line(self, frame, event, arg):
        if event == "line":
            self.count += 1
            if self.count > MAX_STEPS:
                raise LimitExceeded(f"the template ran more than {MAX_STEPS:,} steps "
                                    "(loops nested too deep or over too much?)")
            if self.count % 1000 == 0 and time.monotonic() > self.deadline:
                raise LimitExceeded(f"the template took longer than {MAX_SECONDS:g} s to render")
        return self.line


def _too_long(size: int | None = None) -> str:
    asked = f" ({size:,} asked for)" if size is not None else ""
    return f"the output would be longer than {MAX_OUTPUT_CHARS:,} characters{asked}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and _is_int(times):
            if len(sequence) * times > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long(len(sequence) * times))


def _check_power(base: Any, exponent: Any) -> None:
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        if abs(base).bit_length() * exponent > MAX_POWER_BITS:
            raise LimitExceeded(f"{base} ** {exponent} is too large a number")


def _check_widths(spec: str, what: str) -> None:
    for digits in _FORMAT_WIDTH.findall(spec):
        if len(digits) > 7 or int(digits) > MAX_OUTPUT_CHARS:
            raise LimitExceeded(f"{what} asks for a width of {digits}; at most "
                                f"{MAX_OUTPUT_CHARS:,} characters can be output")


def _check_percent_format(template: str, values: Any) -> None:
    _check_widths(" ".join(re.findall(r"%[^a-zA-Z%]*", template)), "a % format")
    if "*" in template:  # widths given as arguments
        for value in values if isinstance(values, tuple) else (values,):
            if _is_int(value) and value > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long(value))


def _check_str_method(method: Any, args: tuple, kwargs: dict) -> None:
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(method, "__name__", "")
    if name in _PADDING_METHODS:
        for value in (*args, *kwargs.values()):
            if _is_int(value) and value > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long(value))
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])


def _check_format_method(text: str, args: tuple, kwargs: dict) -> None:
    fields = re.findall(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", text)
    _check_widths(" ".join(fields), "a format string")
    if any("{" in field[1:] for field in fields):  # widths taken from the arguments
        for value in (*args, *kwargs.values()):
            if _is_int(value) and value > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long(value))


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        # Every occurrence (every gap, for an empty ``old``) may become ``new``.
        occurrences = len(text) + 1 if old == "" else len(text) // len(old)
        if len(text) + occurrences * len(new) > MAX_OUTPUT_CHARS:
            raise LimitExceeded(_too_long(len(text) + occurrences * len(new)))


def _bounded_filter(name: str, original):
    """``original`` with the size check for ``name`` before it runs."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, _PASSED_BEFORE_VALUE)]
        value, rest = (values[0], values[1:]) if values else (None, [])
        if name == "center":
            width = rest[0] if rest else kwargs.get("width", 80)
            if _is_int(width) and width > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long(width))
        elif name == "indent":
            width = rest[0] if rest else kwargs.get("width", 4)
            lines = str(value).count("\n") + 1
            if _is_int(width) and width * lines > MAX_OUTPUT_CHARS:
                raise LimitExceeded(_too_long(width * lines))
        elif name == "format" and isinstance(value, str):
            _check_percent_format(value, tuple(rest))
        elif name == "replace" and len(rest) >= 2:
            _check_replace(str(value), rest[0], rest[1])
        return original(*args, **kwargs)

    # Jinja2 passes the environment or a context to filters marked for it; keep the mark.
    if hasattr(original, "jinja_pass_arg"):
        bounded.jinja_pass_arg = original.jinja_pass_arg
    return bounded
