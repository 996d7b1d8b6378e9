"""Who is reading an inbox: a subscriber, by inbox token or by a session linked to one.

Shared by the REST endpoints (DRF authentication classes), the streams and
the WebSocket consumer, so every door answers the same question the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions

from inbox.services.tokens import inbox_token_subscriber
from notifications.models import Subscriber


@dataclass(frozen=True)
class InboxReader:
    """The subscriber behind a request; stands where DRF expects ``request.user``."""

    subscriber: Subscriber
    is_authenticated = True

    @property
    def pk(self) -> str:  # throttles key on it
        return f"subscriber-{self.subscriber.pk}"


def subscriber_for_user(user) -> Subscriber | None:
    if user is None or not user.is_authenticated:
        return None
    return Subscriber.objects.filter(user=user).first()


def bearer_token(header: str) -> str | None:
    keyword, _, token = header.partition(" ")
    return token.strip() if keyword.lower() == "bearer" and token.strip() else None


class InboxTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <inbox token>``."""

    def authenticate(self, request):
        token = bearer_token(authentication.get_authorization_header(request).decode("latin-1"))
        if token is None:
            return None
        subscriber = inbox_token_subscriber(token=token)
        if subscriber is None:
            raise exceptions.AuthenticationFailed("The inbox token is invalid or has expired.")
        return InboxReader(subscriber), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="inbox"'


class InboxSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in user whose account is linked to a subscriber (CSRF-checked like any session)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        subscriber = subscriber_for_user(result[0])
        if subscriber is None:
            raise exceptions.PermissionDenied("This account is not linked to a subscriber.")
        return InboxReader(subscriber), None


class IsInboxReader(permissions.BasePermission):
    """Permission: the request comes from a subscriber (by token or linked session)."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, InboxReader):
            raise exceptions.NotAuthenticated(
                "Log in, or send an inbox token as 'Authorization: Bearer <token>'.")
        return True
