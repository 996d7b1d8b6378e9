"""What is said about which events: categories, rules and message templates."""

from __future__ import annotations

import fnmatch

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from notifications.models.audience import RecipientGroup
from notifications.models.choices import Audience, Channel

EVENT_TYPE_PATTERN_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_.:*-]{1,200}$",
    "Use letters, digits, '.', '_', '-', ':' and '*' as a wildcard (e.g. 'orders.*').",
)


class Category(models.Model):
    """What a notification is about; the unit subscribers set preferences on."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    critical = models.BooleanField(default=False, help_text="Critical categories cannot be muted.")
    # At most ``throttle_limit`` messages per subscriber per channel within the
    # window; the excess is folded into the next digest instead of being dropped.
    throttle_limit = models.PositiveIntegerField(null=True, blank=True)
    throttle_window_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    """Event type (+ optional condition) → audience × channels, rendered by its templates."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    event_type = models.CharField(
        max_length=200, validators=[EVENT_TYPE_PATTERN_VALIDATOR],
        help_text="Exact type ('order.shipped') or a wildcard ('orders.*').",
    )
    condition = models.TextField(
        blank=True, help_text="Optional expression over the event, e.g. data.amount > 100",
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="rules")
    channels = models.JSONField(default=list, help_text='e.g. ["email", "inapp"]')
    audience = models.CharField(max_length=12, choices=Audience.choices, default=Audience.RECIPIENTS)
    groups = models.ManyToManyField(RecipientGroup, blank=True, related_name="rules")
    enabled = models.BooleanField(default=True)
    delay_seconds = models.PositiveIntegerField(
        default=0, help_text="Hold each message this long after the event before sending.")
    # Digest: collect events per subscriber (and digest key) and send one message,
    # either when the window since the first item has passed or daily at a time
    # in the subscriber's time zone.
    digest_window_seconds = models.PositiveIntegerField(null=True, blank=True)
    digest_at = models.TimeField(null=True, blank=True,
                                 help_text="Send the digest daily at this time (subscriber's zone).")
    digest_key = models.CharField(max_length=200, blank=True,
                                  help_text="Expression grouping items, e.g. data.project_id.")
    # Escalation: if the in-app message is still unread after this long, send it here.
    escalate_after_minutes = models.PositiveIntegerField(null=True, blank=True)
    escalate_channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    sample_data = models.JSONField(
        default=dict, blank=True,
        help_text="Example event data used for previews, test events and template checks.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def matches_type(self, event_type: str) -> bool:
        return fnmatch.fnmatchcase(event_type, self.event_type)

    def clean(self) -> None:
        from notifications.templating import TemplateProblem, condition_check

        if not isinstance(self.channels, list) or not self.channels:
            raise ValidationError({"channels": "List at least one channel."})
        unknown = [c for c in self.channels if c not in Channel.values]
        if unknown:
            raise ValidationError({"channels": f"Unknown channel(s): {unknown}. "
                                               f"Known: {', '.join(Channel.values)}."})
        if len(set(self.channels)) != len(self.channels):
            raise ValidationError({"channels": "A channel is listed twice."})
        self._clean_escalation()
        if self.sample_data is None:  # a cleared form field
            self.sample_data = {}
        if not isinstance(self.sample_data, dict):
            raise ValidationError({"sample_data": "Sample data must be a JSON object."})
        if self.condition.strip():
            try:
                condition_check(self.condition)
            except TemplateProblem as problem:
                raise ValidationError({"condition": str(problem)}) from problem
        self._clean_timing()

    def _clean_timing(self) -> None:
        from notifications.templating import TemplateProblem, condition_check

        if self.digest_window_seconds and self.digest_at is not None:
            raise ValidationError({"digest_at": "Digest either over a window or daily at a "
                                                "time, not both."})
        if self.digest_key.strip():
            try:
                condition_check(self.digest_key)
            except TemplateProblem as problem:
                raise ValidationError({"digest_key": str(problem)}) from problem

    def _clean_escalation(self) -> None:
        after, channel = self.escalate_after_minutes, self.escalate_channel
        if after is None and not channel:
            return
        if after is not None and not isinstance(after, int):
            return  # not a number: the field's own error says so
        if after is None or not channel:
            raise ValidationError("Set both the escalation delay and channel, or neither.")
        if after < 1:
            raise ValidationError({"escalate_after_minutes": "Escalate after at least one minute."})
        if channel in (Channel.INAPP, Channel.WEBHOOK):
            raise ValidationError({"escalate_channel": "Escalate to a channel that reaches the "
                                                       "person, such as e-mail or SMS."})
        if Channel.INAPP not in self.channels:
            raise ValidationError({"escalate_channel": "Escalation follows an unread in-app "
                                                       "message: add the inapp channel."})
        if channel in self.channels:
            raise ValidationError({"escalate_channel": f"{channel} is already one of the rule's "
                                                       "channels; escalate to another one."})


class MessageTemplate(models.Model):
    """The words for one channel and locale, for a rule or for every rule of an event type."""

    TEXT_FIELDS = ("subject", "text_body", "short_body", "inapp_title", "inapp_body", "action_url",
                   "push_data", "push_badge", "push_sound")
    HTML_FIELDS = ("html_body",)
    # The fields each channel's provider reads (the rest it ignores); chat channels take
    # the subject as a title and fall back from the short to the full text.
    _CHAT = ("subject", "short_body", "text_body", "html_body", "action_url")
    CHANNEL_FIELDS = {"email": ("subject", "text_body", "html_body"),
                      "sms": ("short_body", "text_body"),
                      "inapp": ("inapp_title", "inapp_body", "action_url"),
                      "webhook": (),
                      # A push's title, body and where a tap leads (the push app's channel).
                      "push": ("subject", "short_body", "text_body", "action_url", "push_data",
                               "push_badge", "push_sound"),
                      **dict.fromkeys(("matrix", "mattermost", "slack", "teams", "apprise"),
                                      _CHAT)}

    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="templates")
    event_type = models.CharField(
        max_length=200, blank=True,
        help_text="For templates shared by every rule of one event type (leave the rule empty).",
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    locale = models.CharField(max_length=35, blank=True,
                              help_text="Empty for the default locale; e.g. 'de' or 'de-AT'.")
    subject = models.CharField(max_length=500, blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True, help_text="HTML; variables are escaped.")
    short_body = models.TextField(blank=True, help_text="For SMS and chat; falls back to text.")
    inapp_title = models.CharField(max_length=500, blank=True)
    inapp_body = models.TextField(blank=True)
    action_url = models.CharField(max_length=1000, blank=True)
    push_data = models.TextField(
        blank=True, help_text='Push: a JSON object handed to the app, e.g. '
                              '{"order_id": "{{ data.order_id }}"}; its values are sent as text.')
    push_badge = models.CharField(max_length=200, blank=True,
                                  help_text="Push: the app icon's badge count (APNs, Expo), "
                                            "e.g. {{ data.unread }}.")
    push_sound = models.CharField(max_length=200, blank=True,
                                  help_text='Push: the sound to play, e.g. "default".')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rule__name", "event_type", "channel", "locale"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "channel", "locale"],
                                    condition=models.Q(rule__isnull=False),
                                    name="unique_rule_template"),
            models.UniqueConstraint(fields=["event_type", "channel", "locale"],
                                    condition=models.Q(rule__isnull=True),
                                    name="unique_event_type_template"),
        ]

    def __str__(self) -> str:
        owner = self.rule.name if self.rule_id else self.event_type
        return f"{owner} · {self.channel} · {self.locale or 'default'}"

    def sources(self) -> dict[str, str]:
        """Every non-empty field, by name."""
        return {f: getattr(self, f) for f in self.TEXT_FIELDS + self.HTML_FIELDS if getattr(self, f)}

    def clean(self) -> None:
        from notifications.templating import template_validate

        # ``self.rule`` rather than ``rule_id``: an inline template of a rule
        # being added has its (unsaved) rule but no id yet.
        rule = self.rule if (self.rule_id or "rule" in self._state.fields_cache) else None
        if (rule is not None) == bool(self.event_type):
            raise ValidationError("Set either a rule or an event type, not both and not neither.")
        sample = (rule.sample_data or {}) if rule is not None else {}
        errors = template_validate(template=self, sample_data=sample)
        if errors:
            raise ValidationError(errors)
