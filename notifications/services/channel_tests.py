"""Test messages from the admin: one message, to one target, through the real provider.

Staff check a channel the way its users will meet it: the message is sent now
through the configured provider and the real outcome — the provider's id, or
its error — comes back. Like relay messages, each test is an Event with one
Delivery, so it is in the delivery log too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from notifications.addresses import address_validate
from notifications.models import Channel, Delivery, GroupTarget, RelayChannel
from notifications.providers import provider_for
from notifications.services.direct import direct_message_send

TEST_EVENT_TYPE = "clarion.test_message"
#: The channels the admin's channel page covers, in the order it lists them.
TESTABLE_CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.MATRIX, Channel.MATTERMOST, Channel.SLACK,
                     Channel.TEAMS, Channel.APPRISE]


@dataclass(frozen=True)
class ChannelState:
    channel: str
    label: str
    configured: bool
    problem: str
    targets: list[tuple[str, str]]  # (address, where it is used)
    detail: str = ""  # how it sends (the e-mail backend)
    last_failure: str = ""  # the newest failed attempt of the last hour, in its own words


def channel_states() -> list[ChannelState]:
    """Each testable channel: whether it can send, what to set if not, where it is used."""
    states = []
    for channel in TESTABLE_CHANNELS:
        provider = provider_for(channel)
        problem_of = getattr(provider, "configuration_problem", None)
        problem = problem_of() if problem_of else ""
        configured = provider is not None and provider.is_configured()
        if provider is None:
            problem = "No provider is installed for this channel."
        used: dict[str, list[str]] = {}
        for group_name, address in (GroupTarget.objects.filter(channel=channel)
                                    .values_list("group__name", "address")):
            used.setdefault(address, []).append(group_name)
        for name, address in RelayChannel.objects.filter(channel=channel).values_list(
                "name", "address"):
            used.setdefault(address, []).append(f"relay {name}")
        states.append(ChannelState(channel=channel, label=Channel(channel).label,
                                   configured=configured, problem=problem,
                                   targets=[(a, ", ".join(w)) for a, w in used.items()],
                                   detail=email_backend_description() if channel == Channel.EMAIL
                                   else "", last_failure=_last_failure(channel)))
    return states


def email_backend_description() -> str:
    """Where e-mail goes, in words (never the password)."""
    from django.conf import settings

    backend = settings.EMAIL_BACKEND
    if backend == "notifications.mail.OutboxEmailBackend":
        return f"E-mails are written to {settings.EMAIL_OUTBOX_DIR}/ and echoed to the console."
    if backend.endswith("console.EmailBackend"):
        return "E-mails are printed to the server's console only (EMAIL_URL=console://)."
    if backend.startswith("anymail."):
        return f"E-mails go through {backend.split('.')[2].title()} (Anymail)."
    if backend.endswith("smtp.EmailBackend"):
        security = " with TLS" if settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL else ""
        user = f" as {settings.EMAIL_HOST_USER}" if settings.EMAIL_HOST_USER else ""
        return f"E-mails go to the SMTP server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}" \
               f"{security}{user}."
    return f"E-mails go through {backend}."


def _last_failure(channel: str) -> str:
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import DeliveryAttempt

    attempt = (DeliveryAttempt.objects
               .filter(delivery__channel=channel, started_at__gte=timezone.now()
                       - timedelta(hours=1), outcome__in=(DeliveryAttempt.Outcome.TRANSIENT,
                                                          DeliveryAttempt.Outcome.PERMANENT))
               .order_by("-started_at").values_list("error", flat=True).first())
    return attempt or ""


def channel_test_send(*, channel: str, address: str, message: str, sent_by: str) -> Delivery:
    """Send ``message`` to ``address`` on ``channel`` now; return the delivery as it ended."""
    if channel not in TESTABLE_CHANNELS:
        raise ValidationError({"channel": f"Test messages are not available for {channel!r}."})
    address_validate(channel=channel, address=address, field="address")
    _event, [delivery] = direct_message_send(
        event_type=TEST_EVENT_TYPE, data={"sent_by": sent_by, "message": message},
        targets=[(channel, address)],
        rendered={"subject": "Clarion test message", "short_body": message,
                  "text_body": message})
    return delivery


def other_channel_notes() -> list[tuple[str, str]]:
    """In-app and webhooks, which need no credentials and take no test message here: what
    they rely on and how they are doing, one line each."""
    from django.conf import settings

    from webhooks.models import Endpoint

    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    live = ("Redis (every web process shares it)" if "Redis" in layer
            else "a feed file the processes of this machine share")
    enabled = Endpoint.objects.filter(enabled=True)
    failing = enabled.filter(failing_since__isnull=False).count()
    disabled = Endpoint.objects.filter(enabled=False).count()
    from notifications.providers import REGISTRY

    contributed = [(Channel(channel).label if channel in Channel.values else channel, note)
                   for channel in REGISTRY if channel not in TESTABLE_CHANNELS
                   and (note := provider_for(channel).status_note())]
    return [
        *contributed,
        ("In-app", f"Always available: each delivery is a row in the person's inbox; live "
                   f"updates travel through {live}. Send yourself one from the inbox page "
                   f"(“Send test”)."),
        ("Webhooks", f"{enabled.count()} endpoint(s) enabled, {failing} failing now, {disabled} "
                     f"disabled. Integrators test their own endpoints (POST …/test); the "
                     f"dashboard lists the failing ones."),
    ]
