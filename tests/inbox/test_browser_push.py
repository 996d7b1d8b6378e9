"""Browser notifications end to end in Chromium: the inbox page subscribes, Clarion pushes
to a local push service (which checks VAPID and decrypts the body), and the page's service
worker shows the decrypted message as a system notification.

Chromium would ask Google's push service for a subscription endpoint, which this closed
network cannot reach; so the page's ``PushManager.subscribe`` hands back a subscription
on the local push service with keys the test made as a browser would, and the message the
push service received is delivered to the service worker with the DevTools Protocol's
``ServiceWorker.deliverPushMessage``, as Chromium does with what its push service sends.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect, sync_playwright

from notifications.models import MessageTemplate
from tests.factories import RuleFactory, SubscriberFactory, make_api_key
from tests.inbox.test_browser import (  # noqa: F401 — fixtures
    CHROMIUM_ARGS,
    PASSWORD,
    TIMEOUT_MS,
    USERNAME,
    chromium,
    log_in,
    real_throttle_rates,
)
from tests.notifications.providers.fake_service import service  # noqa: F401 — fixture
from tests.push.conftest import BrowserKeys, browser_keys, vapid  # noqa: F401 — fixtures
from tests.push.standins import WebPushService

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_SUBSCRIPTION = """
(() => {
  const given = %s;
  let current = null;
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (options) {
    window.__subscribedWith = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey)))
      .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    current = {
      endpoint: given.endpoint,
      toJSON: () => given,
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
})();
"""


def api(base_url: str, secret: str, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{base_url}{path}", method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — local server
        return response.status, json.load(response)


@pytest.fixture
def setup(asgi_live_server, real_throttle_rates, settings, service, vapid,  # noqa: F811
          browser_keys):  # noqa: F811
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBPUSH_REQUIRE_HTTPS = False
    settings.EXPO_ENABLED = False
    standin = WebPushService(keys={"/push/reader": browser_keys})
    push_service = service(standin)
    standin.origin = push_service.url
    user = User.objects.create_user(USERNAME, password=PASSWORD)
    SubscriberFactory(external_id="reader-1", user=user)
    rule = RuleFactory(event_type="order.shipped", channels=["push", "inapp"],
                       audience="recipients")
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="Order {{ data.order_id }}",
                                   inapp_body="On its way.")
    MessageTemplate.objects.create(rule=rule, channel="push", subject="Order {{ data.order_id }}",
                                   short_body="Your order {{ data.order_id }} is on its way.",
                                   action_url="https://shop.example.com/o/{{ data.order_id }}")
    _, secret = make_api_key()
    subscription = {"endpoint": f"{push_service.url}/push/reader", "expirationTime": None,
                    "keys": {"p256dh": browser_keys.p256dh, "auth": browser_keys.auth}}
    from push.senders.webpush import public_key

    return {"base": asgi_live_server, "secret": secret, "standin": standin,
            "subscription": subscription, "vapid_public_key": public_key()}


@pytest.fixture
def page(chromium, setup) -> Iterator:  # noqa: F811
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=setup["base"])
        context.set_default_timeout(TIMEOUT_MS)
        context.grant_permissions(["notifications"], origin=setup["base"])
        context.add_init_script(FAKE_SUBSCRIPTION % json.dumps(setup["subscription"]))
        yield context.new_page()
        browser.close()


def test_the_page_subscribes_and_its_service_worker_shows_a_pushed_message(page, setup):
    log_in(page)
    page.goto("/inbox/")
    toggle = page.get_by_role("button", name="Enable browser notifications")
    toggle.click()
    expect(page.get_by_role("button", name="Turn off browser notifications")).to_be_visible()
    assert page.evaluate("window.__subscribedWith") == setup["vapid_public_key"]
    _, devices = api(setup["base"], setup["secret"], "GET", "/api/subscribers/reader-1/devices")
    assert [d["kind"] for d in devices] == ["webpush"]

    status, _ = api(setup["base"], setup["secret"], "POST", "/api/events",
                    {"event": "order.shipped", "to": ["reader-1"], "data": {"order_id": "A-9"}})
    assert status == 202
    standin = setup["standin"]
    assert standin.problems == []
    [(_path, pushed, _headers, _key)] = standin.received
    assert pushed["title"] == "Order A-9"

    # What the push service received goes to the service worker, as Chromium would hand it.
    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("navigator.serviceWorker.controller !== undefined")
    page.wait_for_timeout(200)  # the registration event arrives on enable
    [registration] = [r for r in registrations if r["scopeURL"].endswith("/inbox/")][:1]
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": setup["base"], "registrationId": registration["registrationId"],
        "data": json.dumps(pushed)})

    [worker] = [w for w in page.context.service_workers if w.url.endswith("/inbox/sw.js")]
    shown = []
    for _ in range(50):  # the worker shows it as soon as it has handled the push event
        shown = worker.evaluate("""self.registration.getNotifications()
            .then(ns => ns.map(n => ({title: n.title, body: n.body, url: n.data.url})))""")
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [{"title": "Order A-9", "body": "Your order A-9 is on its way.",
                      "url": "https://shop.example.com/o/A-9"}]

    # Clicking it marks the in-app copy read (the worker's handler, run as a click would).
    _, minted = api(setup["base"], setup["secret"], "POST",
                    "/api/subscribers/reader-1/inbox-token")
    assert api(setup["base"], minted["token"], "GET", "/api/notifications/unread-count")[1] == {
        "unread_count": 1}
    worker.evaluate("""self.registration.getNotifications().then(ns => {
        self.dispatchEvent(new NotificationEvent('notificationclick', {notification: ns[0]}));
        return true; })""")
    unread = None
    for _ in range(50):
        _, unread = api(setup["base"], minted["token"], "GET", "/api/notifications/unread-count")
        if unread["unread_count"] == 0:
            break
        page.wait_for_timeout(100)
    assert unread == {"unread_count": 0}

    page.get_by_role("button", name="Turn off browser notifications").click()
    expect(page.get_by_role("button", name="Enable browser notifications")).to_be_visible()
    _, devices = api(setup["base"], setup["secret"], "GET", "/api/subscribers/reader-1/devices")
    assert devices == []
