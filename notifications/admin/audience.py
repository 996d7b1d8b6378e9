"""Admin for who can be reached: subscribers, and recipient groups with their raw targets.

Groups are resolved when an event is processed, so whatever is saved here applies
to the next event without a restart. Members are picked with an autocomplete
(subscriber lists grow large); each group target is validated for its channel by
``GroupTarget.clean`` when the inline is saved.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from notifications.models import GroupTarget, RecipientGroup, Subscriber
from notifications.services.tracking import subscribers_mark_email_deliverable


class HasUserFilter(admin.SimpleListFilter):
    title = "has user"
    parameter_name = "has_user"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Linked to a user"), ("no", "No user")]

    def queryset(self, request: HttpRequest,
                 queryset: QuerySet[Subscriber]) -> QuerySet[Subscriber]:
        if self.value() == "yes":
            return queryset.filter(user__isnull=False)
        if self.value() == "no":
            return queryset.filter(user__isnull=True)
        return queryset


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("external_id", "full_name", "email", "phone", "locale", "user", "created_at")
    list_filter = ("locale", HasUserFilter, "groups")
    list_select_related = ("user",)
    search_fields = ("external_id", "email", "first_name", "last_name", "phone")
    autocomplete_fields = ("user",)
    readonly_fields = ("group_list", "created_at", "updated_at", "email_undeliverable_at",
                       "email_undeliverable_reason")
    actions = ["mark_email_deliverable"]
    fieldsets = (
        (None, {"fields": ("external_id", "first_name", "last_name", "user", "group_list")}),
        ("Addresses", {"fields": ("email", "email_undeliverable_at", "email_undeliverable_reason",
                                  "phone", "channel_addresses")}),
        ("Locale", {"fields": ("locale", "timezone")}),
        ("Other", {"fields": ("data", "created_at", "updated_at")}),
    )

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj: Subscriber) -> str:
        return " ".join(part for part in (obj.first_name, obj.last_name) if part) or "-"

    @admin.display(description="groups")
    def group_list(self, obj: Subscriber) -> str:
        if obj.pk is None:
            return "-"
        return ", ".join(group.name for group in obj.groups.all()) or "-"

    @admin.action(description="Mark e-mail deliverable again", permissions=["change"])
    def mark_email_deliverable(self, request: HttpRequest,
                               queryset: QuerySet[Subscriber]) -> None:
        # After a hard bounce or a complaint e-mails are skipped; this lets them through again.
        cleared = subscribers_mark_email_deliverable(subscribers=queryset)
        self.message_user(request, f"{cleared} subscriber(s) can receive e-mail again.",
                          messages.SUCCESS if cleared else messages.WARNING)


class GroupTargetInline(admin.TabularInline):
    model = GroupTarget
    fields = ("channel", "address", "label")
    extra = 1


@admin.register(RecipientGroup)
class RecipientGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "member_count", "target_count", "updated_at")
    search_fields = ("name", "description")
    autocomplete_fields = ("members",)
    readonly_fields = ("created_at", "updated_at")
    fields = ("name", "description", "members", "created_at", "updated_at")
    inlines = [GroupTargetInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecipientGroup]:
        # distinct: two joins in one query would otherwise multiply each other's counts.
        return super().get_queryset(request).annotate(
            member_total=Count("members", distinct=True),
            target_total=Count("targets", distinct=True),
        )

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: RecipientGroup) -> int:
        return obj.member_total

    @admin.display(description="targets", ordering="target_total")
    def target_count(self, obj: RecipientGroup) -> int:
        return obj.target_total
