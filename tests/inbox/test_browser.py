"""The inbox page and its JS client in a real browser (Debian's Chromium, driven by Playwright).

Each test serves the whole ASGI application (``asgi_live_server``), logs in
through ``/inbox/login/`` and triggers events the way an integrator does, with
``POST /api/events``; the eager pipeline writes the inbox rows and pushes them
to every open tab. Without ``/usr/bin/chromium`` the tests are skipped, and
with ``CLARION_REQUIRE_SERVICES=1`` (CI) that is a failure instead.

Playwright's sync API keeps an event loop running on the test's thread, where
Django then refuses ORM calls; so every test builds its rows *before* the
browser starts and afterwards checks through HTTP only.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from notifications.models import MessageTemplate
from tests.factories import CategoryFactory, RuleFactory, SubscriberFactory, make_api_key

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches Chromium keeps calling home, which
# on a closed network only produces noise and delays.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USERNAME = "reader"
PASSWORD = "correct horse battery staple"  # noqa: S105 — a test account
SUBSCRIBER_ID = "reader-1"
TIMEOUT_MS = 10_000
# to_have_class with a string compares the whole attribute; this matches the one class.
UNREAD = re.compile(r"(^|\s)is-unread(\s|$)")


@dataclass(frozen=True)
class Inbox:
    """What a test needs to reach the live server as the reader and as the integrator."""

    base_url: str
    api_secret: str

    def trigger(self, order_id: str, **data: object) -> dict:
        """``POST /api/events`` for ``order.shipped`` to the reader; the integrator's one call."""
        body = {"event": "order.shipped", "to": [SUBSCRIBER_ID],
                "data": {"order_id": order_id, **data}}
        request = urllib.request.Request(
            f"{self.base_url}/api/events", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.api_secret}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — local server
            assert response.status == 202
            return json.load(response)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CLARION_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def real_throttle_rates(monkeypatch) -> None:
    """The configured inbox write rate and an empty throttle history for the live server.

    ``ScopedRateThrottle.THROTTLE_RATES`` is read once, at import; a test that
    overrides it can leave a tiny rate behind for every later test in the process.
    """
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)
    cache.clear()


@pytest.fixture
def inbox(asgi_live_server, real_throttle_rates) -> Inbox:
    """A reader (no staff rights) linked to a subscriber, an in-app rule, and an API key."""
    user = User.objects.create_user(USERNAME, password=PASSWORD)
    SubscriberFactory(external_id=SUBSCRIBER_ID, first_name="Ada", user=user)
    orders = CategoryFactory(key="orders", name="Orders", description="Shipping and delivery")
    CategoryFactory(key="security", name="Security", description="Sign-ins and password changes",
                    critical=True)
    rule = RuleFactory(event_type="order.shipped", channels=["email", "inapp"], category=orders,
                       sample_data={"order_id": "A-1"})
    MessageTemplate.objects.create(
        rule=rule, channel="inapp", inapp_title="Order {{ data.order_id }} shipped",
        inapp_body="Your order {{ data.order_id }} is on its way.",
        action_url="/orders/{{ data.order_id }}")
    MessageTemplate.objects.create(rule=rule, channel="email", subject="Order shipped",
                                   text_body="Your order {{ data.order_id }} is on its way.")
    _, secret = make_api_key()
    return Inbox(base_url=asgi_live_server, api_secret=secret)


@pytest.fixture
def browser(chromium, inbox) -> Iterator[Browser]:
    # Depends on ``inbox`` so the rows exist before Playwright's loop starts.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser, inbox) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=inbox.base_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def log_in(page: Page) -> None:
    page.goto("/inbox/")
    page.wait_for_url("**/inbox/login/?next=/inbox/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/")


def open_inbox(page: Page) -> Page:
    page.goto("/inbox/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
    # Set once per load: still there at the end means the page was never reloaded.
    page.evaluate("window.__sameLoad = true")
    return page


def two_tabs(context: BrowserContext) -> tuple[Page, Page]:
    first = context.new_page()
    log_in(first)
    return open_inbox(first), open_inbox(context.new_page())


def item(page: Page, title: str):
    return page.locator(".notification", has_text=title)


def badge(page: Page):
    return page.locator("#unread-count")


def assert_not_reloaded(*pages: Page) -> None:
    for page in pages:
        assert page.evaluate("window.__sameLoad === true")


def test_event_appears_live_in_both_tabs_and_reading_it_in_one_clears_the_other(
        inbox, context, tmp_path):
    tab1, tab2 = two_tabs(context)
    expect(badge(tab1)).to_have_text("0")
    expect(tab1.locator("#inbox-empty")).to_be_visible()

    inbox.trigger("A-1001", level="success")

    for tab in (tab1, tab2):
        notification = item(tab, "Order A-1001 shipped")
        expect(notification).to_be_visible()
        expect(notification).to_contain_text("Your order A-1001 is on its way.")
        expect(notification).to_have_class("notification notification--success is-unread")
        expect(notification.get_by_role("link", name="Open: Order A-1001 shipped")).to_have_attribute(
            "href", f"{inbox.base_url}/orders/A-1001")
        expect(badge(tab)).to_have_text("1")
    expect(tab2.locator("#inbox-empty")).to_be_hidden()

    item(tab1, "Order A-1001 shipped").get_by_role("button", name="Mark read").click()

    expect(badge(tab2)).to_have_text("0")
    expect(item(tab2, "Order A-1001 shipped")).not_to_have_class(UNREAD)
    expect(item(tab2, "Order A-1001 shipped").get_by_role("button", name="Mark read")).to_be_hidden()
    expect(badge(tab1)).to_have_text("0")
    assert_not_reloaded(tab1, tab2)

    inbox.trigger("A-1002", level="warning")
    inbox.trigger("A-1003")
    expect(badge(tab2)).to_have_text("2")
    shot = tmp_path / "inbox.png"
    tab1.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    tab2.set_viewport_size({"width": 390, "height": 844})
    tab2.screenshot(path=str(tmp_path / "inbox-phone.png"), full_page=True)


def test_mark_all_read_and_delete_reach_the_other_tab(inbox, context):
    tab1, tab2 = two_tabs(context)
    for order in ("B-1", "B-2", "B-3"):
        inbox.trigger(order)
    for tab in (tab1, tab2):
        expect(tab.locator(".notification")).to_have_count(3)
        expect(badge(tab)).to_have_text("3")
    # Newest first.
    expect(tab1.locator(".notification__title")).to_have_text(
        ["Order B-3 shipped", "Order B-2 shipped", "Order B-1 shipped"])

    tab2.get_by_role("button", name="Mark all as read").click()
    expect(badge(tab1)).to_have_text("0")
    expect(tab1.locator(".notification.is-unread")).to_have_count(0)
    expect(tab2.locator("#inbox-message")).to_have_text("Marked 3 as read.")

    inbox.trigger("B-4")
    expect(badge(tab2)).to_have_text("1")
    item(tab1, "Order B-4 shipped").get_by_role("button", name="Delete").click()
    expect(item(tab2, "Order B-4 shipped")).to_have_count(0)
    expect(item(tab1, "Order B-4 shipped")).to_have_count(0)
    expect(badge(tab2)).to_have_text("0")
    item(tab2, "Order B-1 shipped").get_by_role("button", name="Delete").click()
    expect(tab1.locator(".notification")).to_have_count(2)
    assert_not_reloaded(tab1, tab2)

    # Deleted stays deleted after a reload.
    tab1.reload()
    expect(tab1.locator(".notification__title")).to_have_text(
        ["Order B-3 shipped", "Order B-2 shipped"])


def test_send_test_button_delivers_through_the_pipeline(inbox, context):
    tab1, tab2 = two_tabs(context)
    tab1.get_by_role("button", name="Send test notification").click()
    expect(tab1.locator("#inbox-message")).to_contain_text("Test notification sent")
    for tab in (tab1, tab2):
        expect(item(tab, "Test notification")).to_be_visible()
        expect(badge(tab)).to_have_text("1")


def test_preferences_form_saves_locks_critical_categories_and_shows_server_errors(inbox, context):
    page = context.new_page()
    log_in(page)
    open_inbox(page)
    form = page.locator("#preferences-form")
    expect(form.locator('tr[data-category="security"]')).to_contain_text("Critical")
    critical_email = form.locator('input[name="pref:security:email"]')
    expect(critical_email).to_be_disabled()
    expect(critical_email).to_be_checked()
    expect(form.locator('input[name="pref:orders:email"]')).to_be_enabled()
    expect(form.locator('input[name="pref:orders:inapp"]')).to_be_checked()
    expect(form.locator("thead")).to_contain_text("In-app")

    form.locator('input[name="pref:orders:email"]').uncheck()
    page.get_by_label("Enable quiet hours").check()
    page.get_by_label("From").fill("22:00")
    page.get_by_label("Until").fill("22:00")
    # Zones are picked from the server's own list, so a refused one cannot be entered.
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("#prefs-result")).to_contain_text("Start and end must differ")
    expect(page.locator("#prefs-result")).to_have_class("form-result form-result--error")

    page.get_by_label("Until").fill("07:00")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("#prefs-result")).to_have_text("Preferences saved.")

    saved = page.evaluate("fetch('/api/notifications/preferences').then(r => r.json())")
    orders = next(c for c in saved["categories"] if c["key"] == "orders")
    assert orders["channels"]["email"] is False and orders["channels"]["inapp"] is True
    assert saved["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "07:00",
                                    "timezone": "Europe/Berlin"}

    page.reload()
    expect(page.locator('input[name="pref:orders:email"]')).not_to_be_checked()
    expect(page.get_by_label("From")).to_have_value("22:00")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")


def test_page_without_websockets_falls_back_to_the_event_stream(inbox, context):
    context.add_init_script("window.WebSocket = undefined;")
    page = context.new_page()
    log_in(page)
    open_inbox(page)
    expect(page.locator("#live-status")).to_have_attribute("data-transport", "sse")
    expect(page.locator("#live-status")).to_contain_text("event stream")

    inbox.trigger("C-1")
    expect(item(page, "Order C-1 shipped")).to_be_visible()
    expect(badge(page)).to_have_text("1")
    item(page, "Order C-1 shipped").get_by_role("button", name="Mark read").click()
    expect(badge(page)).to_have_text("0")
    assert_not_reloaded(page)


# The client on its own, as another app would embed it: a bare page with the script.
CLIENT_SETUP = """(options) => {
  window.events = [];
  window.statuses = [];
  window.inbox = new ClarionInbox(Object.assign({
    onEvent: (message) => window.events.push(message),
    onStatus: (status, detail) => window.statuses.push([status, detail]),
  }, options));
}"""


def client_page(context: BrowserContext, options: dict | None = None) -> Page:
    page = context.new_page()
    page.goto("/healthz")  # same origin as the API, without the inbox page's own client
    page.add_script_tag(url="/static/inbox/inbox.js")
    page.evaluate(CLIENT_SETUP, options or {})
    return page


def test_client_reconnects_and_catches_up_on_what_it_missed_once(inbox, context):
    log_in(context.new_page())
    page = client_page(context, {"minDelay": 2500, "maxDelay": 2500})
    page.evaluate("inbox.list().then(() => { inbox.connect(); })")
    page.wait_for_function("inbox.status === 'connected'")
    inbox.trigger("D-1")
    page.wait_for_function("events.some(m => m.type === 'notification.created')")

    # Drop the socket as a network blip would; the event lands while it is down. The
    # cursor is wound back so the replay repeats D-1 too, which must not be reported twice.
    page.evaluate("inbox.lastId = 0; inbox._socket.close()")
    page.wait_for_function("inbox.status === 'reconnecting'")
    inbox.trigger("D-2")
    page.wait_for_function("inbox.status === 'connected' && "
                           "events.filter(m => m.type === 'hello').length === 2")
    page.wait_for_function("events.some(m => m.notification && m.notification.title === "
                           "'Order D-2 shipped')")
    created = page.evaluate("events.filter(m => m.type === 'notification.created')")
    assert [m["notification"]["title"] for m in created] == ["Order D-1 shipped",
                                                             "Order D-2 shipped"]
    assert created[1]["catch_up"] is True
    statuses = page.evaluate("statuses.map(s => s[0])")
    assert statuses[:2] == ["connecting", "connected"]
    assert "reconnecting" in statuses
    page.evaluate("inbox.close()")
    assert page.evaluate("inbox.status") == "closed"


def test_client_with_a_bad_token_reports_unauthenticated_and_stops(inbox, context):
    page = client_page(context, {"token": "forged"})
    page.evaluate("inbox.connect()")
    page.wait_for_function("inbox.status === 'unauthenticated'")
    page.wait_for_timeout(1500)
    statuses = page.evaluate("statuses.map(s => s[0])")
    assert statuses == ["connecting", "unauthenticated"]
    error = page.evaluate("inbox.unreadCount().then(() => null, e => [e.status, e.name])")
    assert error == [401, "ClarionInboxApiError"]


def test_client_falls_back_to_the_event_stream_after_repeated_websocket_failures(inbox, context):
    # Every socket goes to a path with no consumer, as behind a proxy that refuses WebSockets.
    context.add_init_script("""
      const RealWebSocket = window.WebSocket;
      window.socketAttempts = 0;
      window.WebSocket = function (url) {
        window.socketAttempts += 1;
        return new RealWebSocket(url.replace('/ws/inbox/', '/ws/nowhere/'));
      };
    """)
    log_in(context.new_page())
    page = client_page(context, {"minDelay": 200, "maxDelay": 400, "maxWebSocketFailures": 3})
    page.evaluate("inbox.connect()")
    page.wait_for_function("inbox.status === 'connected'")
    assert page.evaluate("inbox.transport") == "sse"
    assert page.evaluate("socketAttempts") == 3
    assert page.evaluate("statuses.filter(s => s[0] === 'reconnecting').length") >= 3

    inbox.trigger("E-1")
    page.wait_for_function("events.some(m => m.type === 'notification.created')")
    created = page.evaluate("events.find(m => m.type === 'notification.created')")
    assert created["notification"]["title"] == "Order E-1 shipped"
    assert created["unread_count"] == 1


@pytest.fixture
def report_rule(inbox) -> None:
    """A rule whose in-app body is whatever the event carries (made before the browser runs:
    the ORM refuses to run beside Playwright's event loop)."""
    rule = RuleFactory(event_type="report.ready", channels=["inapp"], sample_data={"text": "x"})
    MessageTemplate.objects.create(rule=rule, channel="inapp", inapp_title="Report ready",
                                   inapp_body="{{ data.text }}")


def signed_in(context: BrowserContext) -> Page:
    page = context.new_page()
    log_in(page)
    return open_inbox(page)


def test_a_very_long_body_is_shown_short_until_asked_for(report_rule, inbox, context):
    text = "line of the report\n" * 10_000  # about 190 KB
    body = {"event": "report.ready", "to": [SUBSCRIBER_ID], "data": {"text": text}}
    request = urllib.request.Request(
        f"{inbox.base_url}/api/events", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {inbox.api_secret}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — local server
        assert response.status == 202
    page = signed_in(context)

    report = item(page, "Report ready")
    shown = report.locator(".notification__body")
    expect(shown).to_have_class("notification__body is-clamped")
    assert len(shown.text_content()) < 1_000
    assert report.bounding_box()["height"] < 400
    report.get_by_role("button", name="Show all").click()
    expect(report.get_by_role("button", name="Show less")).to_be_visible()
    assert len(shown.text_content()) == len(text)


def test_read_and_unread_look_different(inbox, context):
    inbox.trigger("C-1")
    inbox.trigger("C-2")
    page = signed_in(context)
    item(page, "Order C-1 shipped").get_by_role("button", name="Mark read").click()
    expect(item(page, "Order C-1 shipped")).not_to_have_class(UNREAD)
    page.mouse.move(0, 0)  # a hovered or focused read item comes forward again
    page.evaluate("document.activeElement && document.activeElement.blur()")

    def look(title: str) -> dict:
        return item(page, title).evaluate(
            "n => { const s = getComputedStyle(n); "
            "return {opacity: s.opacity, stripe: s.borderLeftColor}; }")
    read, unread = look("Order C-1 shipped"), look("Order C-2 shipped")
    # Neither property is animated, so the read look holds as soon as the class changes.
    assert read["opacity"] != unread["opacity"] and read["stripe"] != unread["stripe"]


@pytest.fixture
def staff(inbox) -> None:
    User.objects.create_superuser("staff", password=PASSWORD)


def test_a_rules_template_shows_only_the_fields_its_channel_uses(staff, context):
    # Lives beside the inbox's browser tests for their Chromium and live server.
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/notifications/rule/add/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/rule/add/")
    channel = page.locator('select[name="templates-0-channel"]')

    def shown() -> set[str]:
        return {name for name in ("subject", "text_body", "html_body", "short_body", "inapp_title",
                                  "inapp_body", "action_url")
                if page.locator(f'[name="templates-0-{name}"]').is_visible()}

    channel.select_option("email")
    assert shown() == {"subject", "text_body", "html_body"}
    channel.select_option("inapp")
    assert shown() == {"inapp_title", "inapp_body", "action_url"}
    page.fill('[name="templates-0-inapp_body"]', "typed already")
    channel.select_option("sms")
    assert shown() == {"short_body", "text_body", "inapp_body"}  # typed text never hides
