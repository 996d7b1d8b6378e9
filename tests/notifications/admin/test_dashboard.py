"""The admin dashboard: who may see it, the numbers it shows, its query budget and its SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from itertools import count

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, Event
from notifications.selectors import dashboard as stats
from tests.factories import ApplicationFactory
from webhooks.models import DisabledReason, Endpoint

pytestmark = pytest.mark.django_db

URL = reverse("admin:dashboard")
_keys = count()


def make_deliveries(channel: str, status: str, n: int = 1, *, age: timedelta = timedelta(0),
                    event: Event | None = None) -> list[Delivery]:
    """``n`` deliveries created ``age`` ago (``created_at`` is auto_now_add, so it is updated)."""
    event = event or Event.objects.create(event_type="order.shipped")
    rows = [Delivery.objects.create(event=event, channel=channel, status=status,
                                    recipient_key=f"r{next(_keys)}") for _ in range(n)]
    Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
        created_at=timezone.now() - age)
    return rows


def attempt(delivery: Delivery, *, duration_ms: int, outcome: str = "sent",
            age: timedelta = timedelta(minutes=5), error: str = "") -> DeliveryAttempt:
    return DeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempt_log.count() + 1, outcome=outcome,
        started_at=timezone.now() - age, duration_ms=duration_ms, error=error)


def svgs(html: str) -> list[str]:
    """The page's charts (the admin's own icon sprites carry no ``role``)."""
    return re.findall(r'<svg\b[^>]*role="img".*?</svg>', html, flags=re.S)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 — markup our own page just rendered


# --- access -------------------------------------------------------------------------------

def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_user_gets_no_dashboard(client):
    user = User.objects.create_user("reader", password="pw")
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permission_to_view_deliveries_is_refused(client):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(User.objects.get(pk=user.pk))
    assert client.get(URL).status_code == 200


def test_admin_index_links_to_the_dashboard_and_keeps_its_app_list(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{URL}"' in html
    assert reverse("admin:notifications_delivery_changelist") in html


# --- numbers ------------------------------------------------------------------------------

def test_counts_per_channel_and_status_for_24_hours_and_7_days(admin_client):
    make_deliveries("email", "sent", 3, age=timedelta(hours=2))
    make_deliveries("email", "failed", 1, age=timedelta(hours=5))
    make_deliveries("sms", "delivered", 2, age=timedelta(minutes=10))
    make_deliveries("email", "sent", 4, age=timedelta(days=3))
    make_deliveries("sms", "bounced", 1, age=timedelta(days=6))
    make_deliveries("email", "sent", 7, age=timedelta(days=9))  # in neither period

    day = admin_client.get(URL).context
    assert {r["counts"].channel: r["counts"].by_status for r in day["table"]} == {
        "email": {"sent": 3, "failed": 1}, "sms": {"delivered": 2}}
    assert day["grand_total"] == 6

    week = admin_client.get(URL, {"period": "7d"}).context
    assert {r["counts"].channel: r["counts"].by_status for r in week["table"]} == {
        "email": {"sent": 7, "failed": 1}, "sms": {"delivered": 2, "bounced": 1}}
    assert week["grand_total"] == 11
    assert sum(b.succeeded for b in stats.outcome_series(
        period=stats.PERIODS["7d"], now=timezone.now())) == 9


def test_hourly_series_puts_deliveries_in_their_hour(admin_client):
    make_deliveries("email", "sent", 2, age=timedelta(hours=3))
    make_deliveries("email", "failed", 1, age=timedelta(hours=3))
    make_deliveries("email", "sent", 5, age=timedelta(hours=30))
    now = timezone.now()
    buckets = stats.outcome_series(period=stats.PERIODS["24h"], now=now)
    assert len(buckets) == 24
    hour = timezone.localtime(now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    by_start = {b.start: (b.succeeded, b.failed) for b in buckets}
    assert by_start[hour] == (2, 1)
    assert sum(s for s, _ in by_start.values()) == 2


def test_failure_rate_counts_failed_bounced_and_undelivered_among_finished(admin_client):
    make_deliveries("email", "sent", 3)
    make_deliveries("email", "delivered", 2)
    make_deliveries("email", "failed", 1)
    make_deliveries("email", "bounced", 1)
    make_deliveries("email", "queued", 4)  # not finished
    make_deliveries("email", "skipped", 4)  # never tried
    make_deliveries("sms", "undelivered", 1)
    make_deliveries("sms", "sent", 1)

    response = admin_client.get(URL)
    rates = {r["counts"].channel: r["rate"] for r in response.context["table"]}
    assert rates == {"email": "28.6%", "sms": "50.0%"}  # 2/7 and 1/2
    assert response.context["overall_rate"] == "33.3%"  # 3/9
    assert "<strong>33.3%</strong>" in response.content.decode()


def test_slowest_providers_are_ordered_by_median_duration(admin_client):
    for duration in (100, 200, 300, 400, 5000):
        attempt(make_deliveries("sms", "sent")[0], duration_ms=duration)
    for duration in (10, 20, 30):
        attempt(make_deliveries("email", "sent")[0], duration_ms=duration)
    for duration in (900, 1000):
        attempt(make_deliveries("matrix", "sent")[0], duration_ms=duration)
    old = make_deliveries("email", "sent")[0]
    attempt(old, duration_ms=99999, age=timedelta(days=2))  # outside 24 h

    slowest = admin_client.get(URL).context["slowest"]
    assert [lat.channel for lat in slowest] == ["matrix", "sms", "email"]
    sms = slowest[1]
    assert (sms.attempts, sms.median_ms, sms.max_ms) == (5, 300, 5000)
    assert sms.p95_ms == pytest.approx(4080)  # percentile_cont(0.95) of the five
    assert slowest[2].max_ms == 30


def test_percentile_interpolates_like_percentile_cont():
    assert stats.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.percentile([7], 0.95) == 7
    assert stats.percentile([], 0.5) == 0.0


def test_failing_and_unconfigured_providers_are_listed(admin_client, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    for outcome in ("transient", "permanent", "transient", "sent"):
        attempt(make_deliveries("slack", "failed")[0], duration_ms=50, outcome=outcome)
    for outcome in ("sent", "sent", "transient"):
        attempt(make_deliveries("email", "sent")[0], duration_ms=50, outcome=outcome)
    for outcome in ("permanent", "permanent", "permanent"):  # too long ago to count
        attempt(make_deliveries("teams", "failed")[0], duration_ms=50, outcome=outcome,
                age=timedelta(hours=2))
    make_deliveries("sms", "queued", 2)

    attempt(make_deliveries("slack", "failed")[0], duration_ms=50, outcome="transient",
            age=timedelta(minutes=10), error="Slack answered 500: older")
    attempt(make_deliveries("slack", "failed")[0], duration_ms=50, outcome="transient",
            age=timedelta(minutes=1), error="Slack refused the message (404): no_service")

    response = admin_client.get(URL)
    problems = {p.channel: p for p in response.context["failing_providers"]}
    assert set(problems) == {"slack", "sms"}
    assert problems["slack"].reason == "5 of the last 6 attempts in the last hour failed"
    assert problems["sms"].reason == "is not configured; 2 deliveries waiting"
    # The latest failure's own words, which usually say what to fix.
    assert problems["slack"].last_error == "Slack refused the message (404): no_service"
    section = response.content.decode().split("Providers failing now")[1]
    assert "Latest: Slack refused the message (404): no_service" in section
    assert "Microsoft Teams" not in section


def test_failing_webhook_endpoints_are_listed_with_links(admin_client):
    app = ApplicationFactory(name="shop")
    failing = Endpoint.objects.create(application=app, url="https://a.example.com/hook",
                                      description="orders hook",
                                      failing_since=timezone.now() - timedelta(hours=6))
    disabled = Endpoint.objects.create(application=app, url="https://b.example.com/hook",
                                       enabled=False, disabled_reason=DisabledReason.FAILING,
                                       disabled_at=timezone.now())
    Endpoint.objects.create(application=app, url="https://c.example.com/hook",
                            description="healthy hook", last_success_at=timezone.now())
    Endpoint.objects.create(application=app, url="https://d.example.com/hook",
                            description="switched off by hand", enabled=False,
                            disabled_reason=DisabledReason.MANUAL)

    html = admin_client.get(URL).content.decode()
    section = html.split("Webhook endpoints failing now")[1]
    for endpoint in (failing, disabled):
        assert reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]) in section
    assert "orders hook" in section
    assert "Failed continuously for too long" in section
    assert "healthy hook" not in section and "switched off by hand" not in section


# --- cost and markup ----------------------------------------------------------------------

def _fill(n: int) -> None:
    statuses = ["sent", "delivered", "failed", "bounced", "queued"]
    channels = ["email", "sms", "slack", "matrix", "webhook"]
    event = Event.objects.create(event_type="load")
    for i in range(n):
        delivery = make_deliveries(channels[i % 5], statuses[(i // 5) % 5],
                                   age=timedelta(hours=i % 30), event=event)[0]
        attempt(delivery, duration_ms=10 * i, outcome="transient" if i % 3 else "sent")
    Endpoint.objects.create(application=ApplicationFactory(), url=f"https://{n}.example.com/",
                            failing_since=timezone.now())


@pytest.mark.parametrize("period", ["24h", "7d"])
def test_query_count_does_not_grow_with_deliveries(admin_client, django_assert_max_num_queries,
                                                   period):
    admin_client.get(URL)  # warm the session and the content-type cache
    _fill(5)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(URL, {"period": period})
    _fill(45)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(URL, {"period": period})
    assert response.context["grand_total"] >= 30
    assert len(few.captured_queries) <= 12


def test_charts_are_well_formed_svg_with_titles(admin_client):
    make_deliveries("email", "sent", 3)
    make_deliveries("sms", "failed", 2)
    for period in ("24h", "7d"):
        charts = svgs(admin_client.get(URL, {"period": period}).content.decode())
        assert len(charts) == 2
        for chart in charts:
            root = parse(chart)
            assert root.get("role") == "img"
            title = root.find("{http://www.w3.org/2000/svg}title")
            assert title is not None and title.text
            assert root.get("aria-labelledby").split()[0] == title.get("id")


def test_labels_are_escaped_everywhere(admin_client):
    hostile = "<script>x</script>"
    make_deliveries(hostile, "failed", 2)
    make_deliveries(hostile, "queued", 1)
    attempt(make_deliveries(hostile, "sent")[0], duration_ms=10)

    html = admin_client.get(URL).content.decode()
    assert hostile not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    charts = svgs(html)
    labels = [el.text for chart in charts for el in parse(chart).iter()
              if el.tag.endswith("text")]
    assert hostile in labels  # the parsed SVG holds the label as text, not as markup


def test_the_headline_counts_retries_beside_the_failure_rate(admin_client):
    """A provider failing now with nothing finished yet shows as deliveries waiting to retry,
    not as a bare 0 % beside "1 failing"."""
    from django.urls import reverse

    from notifications.models import Delivery, DeliveryStatus
    from tests.notifications.providers.factories import pending_delivery

    delivery = pending_delivery("sms", "+14155550100")
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.QUEUED, attempts=1)
    page = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert "of finished deliveries failed" in page
    assert '<div class="value">1</div><div class="what">failed once, waiting to retry</div>' in page
