"""Routes of the push-server-compatible API, included under /api/ after the core API's routes.

The status probes come first so ``/api/status/ping`` can never be read as a
user id; a trailing slash is optional, as on the rest of the API.
"""

from __future__ import annotations

from django.urls import re_path

from inbox.api import push

# Included ahead of every other /api/ route (config/urls.py).
reserved_urlpatterns = [
    re_path(rf"^(?P<user_id>{'|'.join(push.RESERVED_USER_IDS)})/(?P<action>register|push)/?$",
            push.reserved_user_id),
]

urlpatterns = [
    re_path(r"^status/ping/?$", push.StatusPingView.as_view(), name="push-status-ping"),
    re_path(r"^status/info/?$", push.StatusInfoView.as_view(), name="push-status-info"),
    re_path(r"^(?P<user_id>[^/]+)/register/?$", push.PushRegisterView.as_view(), name="push-register"),
    re_path(r"^(?P<user_id>[^/]+)/push/?$", push.PushSendView.as_view(), name="push-send"),
]
