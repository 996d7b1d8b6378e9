"""Admin "Channels" page: each sending channel's configuration, and a test-message form.

For e-mail, SMS and every chat channel the page says whether the server can send on it
(and which environment variables are missing when not; for e-mail, which backend is in
use), the newest failure of the last hour in its own words, lists the targets groups and relay
channels use (credential URLs masked), and offers a form that sends a test
message through the real provider and shows what happened: the provider's
message id, or its error, with a link to the delivery in the log.

The page hangs off ``ChannelAdminPage``, a model without a table, so it has its
own entry on the admin index and its own permission (``send_test_message``):
a test message reaches real rooms and phones.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from notifications.admin.common import admin_url
from notifications.models import ChannelAdminPage
from notifications.services.channel_tests import (
    channel_states,
    channel_test_send,
    other_channel_notes,
)

DEFAULT_TEST_MESSAGE = "Test message from Clarion: this channel works."


class ChannelTestForm(forms.Form):
    known = forms.ChoiceField(label="Configured target", required=False)
    address = forms.CharField(
        label="Or another target", required=False, max_length=2000,
        help_text="A room, channel id, webhook or Apprise URL, or phone number.")
    message = forms.CharField(initial=DEFAULT_TEST_MESSAGE, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    def __init__(self, *args, targets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["known"].choices = [("", "—")] + [
            (address, f"{address} ({where})") for address, where in targets]

    def clean(self) -> dict:
        data = super().clean()
        address = (data.get("address") or "").strip() or data.get("known") or ""
        if not address:
            raise ValidationError("Choose a configured target or enter one.")
        data["target"] = address
        return data


@admin.register(ChannelAdminPage)
class ChannelAdminPageAdmin(admin.ModelAdmin):
    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm("notifications.send_test_message")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self._allowed(request):
            raise PermissionDenied
        posted = request.POST.get("channel") if request.method == "POST" else None
        sections = []
        for state in channel_states():
            bound = posted == state.channel
            # The hidden "channel" input says which of the page's forms was posted.
            form = ChannelTestForm(request.POST if bound else None, targets=state.targets,
                                   prefix=state.channel)
            result = None
            if bound and form.is_valid():
                try:
                    delivery = channel_test_send(
                        channel=state.channel, address=form.cleaned_data["target"],
                        message=form.cleaned_data["message"], sent_by=request.user.get_username())
                except ValidationError as exc:
                    form.add_error(None, exc.messages)
                else:
                    result = {"delivery": delivery, "url": admin_url(delivery),
                              "ok": delivery.status in ("sent", "delivered")}
            sections.append({"state": state, "form": form, "result": result})
        return TemplateResponse(request, "admin/notifications/channels.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Channels: status and test messages",
            "sections": sections,
            "other_notes": other_channel_notes(),
        })
