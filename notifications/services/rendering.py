"""Rendering a delivery's words from its template and the event."""

from __future__ import annotations

from typing import Any

from notifications.models import Channel, Delivery, Subscriber
from notifications.selectors.rules import template_for
from notifications.templating import TemplateProblem, render_fields, template_variables


def delivery_context(delivery: Delivery) -> dict[str, Any]:
    """What a template sees: ``data``, ``event``, ``subscriber``, ``recipient``, and
    ``items`` / ``digest`` (the batched events of a digest; one item otherwise)."""
    from notifications.services.digests import digest_context

    event = delivery.event
    subscriber = delivery.subscriber
    return {
        **digest_context(delivery),
        **_event_part(event),
        # Raw targets (a group's mailing list, an inline address) have no
        # subscriber; empty fields keep templates that greet by name working.
        "subscriber": subscriber.as_context() if subscriber else Subscriber().as_context(),
        "recipient": {"channel": delivery.channel, "address": delivery.address},
    }


def _event_part(event) -> dict[str, Any]:
    return {"data": event.data, "event": {"id": str(event.pk), "type": event.event_type,
                                          "created_at": event.created_at.isoformat()}}


class SubscriberWords:
    """One template rendered for many subscribers of one (non-digest) event without a model
    object per subscriber: ``render(subscriber context, channel, address)`` is what
    ``delivery_render`` gives each one's delivery."""

    def __init__(self, template, event):
        self.sources, self.html_fields = template.sources(), template.HTML_FIELDS
        event_part = _event_part(event)
        # A delivery that is not a digest is a digest of one: the same ``items`` for all.
        self.shared = {"items": [event_part], "digest": {"count": 1, "key": ""}, **event_part}

    def render(self, subscriber: dict, *, channel: str, address: str) -> dict[str, str]:
        """Raise ``TemplateProblem`` as ``delivery_render`` would."""
        context = {**self.shared, "subscriber": subscriber,
                   "recipient": {"channel": channel, "address": address}}
        return render_fields(self.sources, context, html_fields=self.html_fields)


def template_lookup(*, rule, event_type: str, channel: str, locale: str):
    """The template that words a delivery on ``channel`` in ``locale``, or None."""
    # A channel without words of its own borrows the e-mail template's (its
    # subject and text), so adding "inapp" or "sms" to a rule needs no new template.
    for candidate in dict.fromkeys([channel, Channel.EMAIL]):
        template = template_for(rule=rule, event_type=event_type, channel=candidate,
                                locale=locale)
        if template is not None:
            return template
    return None


def _template(delivery: Delivery, locale: str):
    return template_lookup(rule=delivery.rule, event_type=delivery.event.event_type,
                           channel=delivery.channel, locale=locale)


#: What a template may read and still say the same to every recipient of one event.
EVENT_WIDE = frozenset({"data", "event", "items", "digest"})


def template_is_uniform(template) -> bool:
    """Whether ``template`` renders the same words for every (non-digest) recipient of an event,
    so a broadcast renders it once instead of once per recipient."""
    return all(template_variables(source) <= EVENT_WIDE for source in template.sources().values())


def delivery_render(delivery: Delivery, *, templates: dict | None = None) -> dict[str, str]:
    """Render the closest template for the delivery; raise ``TemplateProblem`` when impossible.

    ``templates`` is a per-batch memo, so a broadcast looks each template up once.
    """
    locale = delivery.subscriber.locale if delivery.subscriber else ""
    key = (delivery.rule_id, delivery.event.event_type, delivery.channel, locale)
    if templates is None:
        template = _template(delivery, locale)
    else:
        if key not in templates:
            templates[key] = _template(delivery, locale)
        template = templates[key]
    if template is None:
        raise TemplateProblem(f"No {delivery.channel} (or e-mail) template for this rule "
                              "or event type.")
    try:
        return render_fields(template.sources(), delivery_context(delivery),
                             html_fields=template.HTML_FIELDS)
    except TemplateProblem as problem:
        problem.message = f"{problem.field}: {problem.message}"
        raise


def render_uniform(*, channel: str, event, rule, locale: str = "") -> dict[str, str] | None:
    """The rendered words of ``event``'s deliveries on ``channel`` when the template says the
    same to every recipient, else None (no template, personal words, or a template problem,
    which each delivery then reports on the per-delivery path)."""
    template = template_lookup(rule=rule, event_type=event.event_type, channel=channel,
                               locale=locale)
    if template is None or not template_is_uniform(template):
        return None
    sample = Delivery(event=event, rule=rule, channel=channel, recipient_key="", address="")
    # The memo holds the template found for ``locale`` (the sample has no subscriber).
    memo = {(rule.pk if rule else None, event.event_type, channel, ""): template}
    try:
        return delivery_render(sample, templates=memo)
    except TemplateProblem:
        return None
