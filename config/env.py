"""One door for reading settings from the environment.

Every setting goes through these helpers so that a bad value stops the process
at start-up with a message naming the variable, instead of surfacing later as
an odd runtime error. Secrets may be given as ``NAME_FILE`` (a path whose
contents are the value), which is how container orchestrators hand them over.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


def _raw(name: str) -> str | None:
    """Return the variable's value, reading ``NAME_FILE`` when only that is set."""
    value = os.environ.get(name)
    file_path = os.environ.get(f"{name}_FILE")
    if value is not None and file_path is not None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if file_path is not None:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path!r}: {exc}") from exc
    return value


def env_str(name: str, default: object = _MISSING) -> str:
    """Return a string setting; without a default the variable is required."""
    value = _raw(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default  # type: ignore[return-value]
    return value


def env_bool(name: str, default: bool) -> bool:
    """Return a boolean setting; only the usual spellings of true and false are accepted."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return an integer setting, refusing non-numbers and values under ``minimum``."""
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return a comma-separated list setting with blanks dropped."""
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_prefixed(prefix: str, *, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """Return every ``PREFIX_NAME`` variable as ``{"NAME": value}`` (used for ESP settings)."""
    found: dict[str, str] = {}
    for key in os.environ:
        if key.startswith(prefix) and key not in exclude:
            name = key.removeprefix(prefix).removesuffix("_FILE")
            found[name] = env_str(prefix + name)
    return found
