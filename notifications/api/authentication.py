"""``Authorization: Bearer <api key>`` authentication for the REST API."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from notifications.models import ApiKey, Application
from notifications.services.api_keys import api_key_authenticate


@dataclass(frozen=True)
class ApiClient:
    """The caller behind an API key; stands where DRF expects ``request.user``."""

    api_key: ApiKey

    is_authenticated = True

    @property
    def application(self) -> Application:
        return self.api_key.application


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower() or not secret.strip():
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'.")
        api_key = api_key_authenticate(secret=secret.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")
        return ApiClient(api_key=api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing or bad.
        return 'Bearer realm="clarion"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "notifications.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A Clarion API key."}
