"""Scope checks: each view names the scope every HTTP method needs."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from notifications.api.authentication import ApiClient


class HasScope(permissions.BasePermission):
    """Require an API key holding ``view.required_scopes[request.method]``.

    A view without an entry for the method is refused, so forgetting to
    declare a scope fails closed.
    """

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, ApiClient):
            raise exceptions.NotAuthenticated("An API key is required: 'Authorization: Bearer <key>'.")
        scopes = getattr(view, "required_scopes", {})
        scope = scopes.get(request.method) or (scopes.get("GET") if request.method in (
            "HEAD", "OPTIONS") else None)
        if scope is None:
            return False
        if not request.user.api_key.has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.")
        return True
