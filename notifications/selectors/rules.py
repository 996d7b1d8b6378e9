"""Which rules fire for an event, and which template words a delivery.

Enabled rules are cached per process and reloaded when any rule changes (the
cache key is the rules' count and latest ``updated_at``), so an edit in the
admin takes effect on the next event in every process without a shared cache.
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from notifications.models import Event, MessageTemplate, Rule

_cache_lock = threading.Lock()
_cached: tuple[object, list[Rule]] = (None, [])


def _enabled_rules() -> list[Rule]:
    global _cached
    version = Rule.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    key = (version["count"], version["latest"])
    with _cache_lock:
        if _cached[0] != key:
            rules = list(Rule.objects.filter(enabled=True).select_related("category"))
            _cached = (key, rules)
        return _cached[1]


def rules_matching(*, event: Event) -> list[Rule]:
    """Enabled rules whose event type (exact or wildcard) matches; conditions not yet applied."""
    return [rule for rule in _enabled_rules() if rule.matches_type(event.event_type)]


def _locale_chain(locale: str) -> list[str]:
    """'de-AT' → ['de-at', 'de', ''] — most specific first, the default locale last."""
    chain: list[str] = []
    locale = (locale or "").lower().replace("_", "-")
    while locale:
        chain.append(locale)
        locale = locale.rpartition("-")[0]
    return [*chain, ""]


def template_for(*, rule: Rule | None, event_type: str, channel: str,
                 locale: str) -> MessageTemplate | None:
    """The rule's template for the channel in the closest locale, else the event type's."""
    chain = _locale_chain(locale)
    candidates = MessageTemplate.objects.filter(channel=channel, locale__in=chain)
    for scope in ({"rule": rule} if rule else None, {"rule__isnull": True, "event_type": event_type}):
        if scope is None:
            continue
        found = {t.locale.lower(): t for t in candidates.filter(**scope)}
        for locale_key in chain:
            if locale_key in found:
                return found[locale_key]
    return None


# Channels that send something other than a template's words: a webhook carries the event.
_NO_TEMPLATE_NEEDED = frozenset({"webhook"})


def rule_channels_without_template(rule: Rule) -> list[str]:
    """The channels ``rule`` can send to — its own, and the one it escalates to — that have
    no template, neither the rule's own nor one shared by its exact event type: each of their
    deliveries would fail. (A wildcard event type may still find one per matching type.)"""
    wanted = [*rule.channels, *([rule.escalate_channel] if rule.escalate_channel else [])]
    needed = [c for c in dict.fromkeys(wanted) if c not in _NO_TEMPLATE_NEEDED]
    if not needed or rule.pk is None:
        return needed
    own = set(rule.templates.values_list("channel", flat=True))
    shared = set(MessageTemplate.objects.filter(rule__isnull=True, event_type=rule.event_type)
                 .values_list("channel", flat=True))
    return [c for c in needed if c not in own | shared]
