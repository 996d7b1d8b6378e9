"""Configuration as a file: categories, groups, rules and templates in YAML or JSON, dumped
from what staff configured in the admin (``dump``), parsed and structurally checked
(``checks``) and applied all-or-nothing as an upsert by name, with optional pruning (``load``,
whose ``config_load`` documents the exact rules); this module re-exports the public names so
callers import from ``notifications.services.config_io``.
"""

from __future__ import annotations

from notifications.services.config_io.base import (
    CONFIG_VERSION,
    FORMATS,
    KINDS,
    TEMPLATE_FIELDS,
    ConfigError,
    KindCounts,
    LoadSummary,
)
from notifications.services.config_io.checks import config_format_for, config_parse
from notifications.services.config_io.dump import config_dump, config_serialize
from notifications.services.config_io.load import config_load

__all__ = [
    "CONFIG_VERSION",
    "FORMATS",
    "KINDS",
    "TEMPLATE_FIELDS",
    "ConfigError",
    "KindCounts",
    "LoadSummary",
    "config_dump",
    "config_format_for",
    "config_load",
    "config_parse",
    "config_serialize",
]
