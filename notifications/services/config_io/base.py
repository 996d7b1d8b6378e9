"""Shared pieces of configuration-as-a-file: the document's version, sections and file
formats, the ``ConfigError`` raised when a file cannot be applied, and the ``LoadSummary`` of
per-section counts that a load reports back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications.models import MessageTemplate

CONFIG_VERSION = 1
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
TEMPLATE_FIELDS = MessageTemplate.TEXT_FIELDS + MessageTemplate.HTML_FIELDS
KINDS = ("categories", "groups", "rules", "templates")


class ConfigError(Exception):
    """The file cannot be applied; ``problems`` names each bad item and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class LoadSummary:
    dry_run: bool = False
    counts: dict[str, KindCounts] = field(
        default_factory=lambda: {kind: KindCounts() for kind in KINDS})
    # Loaded, but worth a person's attention (a rule whose channel has no template).
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())

    def lines(self) -> list[str]:
        return [f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged, "
                f"{c.deleted} deleted" for kind, c in self.counts.items()]
