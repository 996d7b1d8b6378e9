"""Minting inbox tokens: the integrator's backend asks, with its API key, for one subscriber."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.services.tokens import inbox_token_mint
from notifications.models import Subscriber


class InboxTokenView(APIView):
    """``POST /api/subscribers/{external_id}/inbox-token`` → a signed, expiring token."""

    required_scopes = {"POST": "inbox-tokens:write"}

    @extend_schema(request=None, responses={201: inline_serializer(
        "InboxToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField(),
                       "subscriber": serializers.CharField()})})
    def post(self, request, external_id: str):
        # Only a subscriber of the caller's own directory: a token reads that person's inbox.
        subscriber = get_object_or_404(Subscriber, external_id=external_id,
                                       directory_id=request.user.application.directory_id)
        minted = inbox_token_mint(subscriber=subscriber)
        return Response({"token": minted.token, "expires_at": minted.expires_at,
                         "subscriber": subscriber.external_id}, status=status.HTTP_201_CREATED)
