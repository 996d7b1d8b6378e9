"""Admin for who can be reached: directories, subscribers, and recipient groups with their
raw targets.

A directory is what an Application's keys see; subscribers and groups belong to one, and a
group's members must be in the group's own directory.

Groups are resolved when an event is processed, so whatever is saved here applies
to the next event without a restart. Members are picked with an autocomplete
(subscriber lists grow large); each group target is validated for its channel by
``GroupTarget.clean`` when the inline is saved.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from notifications.models import (
    Directory,
    GroupTarget,
    RecipientGroup,
    Subscriber,
    default_directory_id,
)
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


class DirectoryOptional(forms.ModelForm):
    """The directory may be left empty: the row keeps its own, or a new one goes to the
    default directory (where staff's own subscribers and groups live)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "directory" in self.fields:
            self.fields["directory"].required = False
            self.fields["directory"].help_text = (
                "Whose subscribers and groups these are: the Applications using this directory "
                "see them. Empty: the default directory.")

    def clean_directory(self) -> Directory:
        chosen = self.cleaned_data.get("directory")
        if chosen is not None:
            return chosen
        if self.instance.pk is not None:
            return self.instance.directory
        return Directory.objects.get(pk=default_directory_id())


class SubscriberForm(DirectoryOptional):
    class Meta:
        model = Subscriber
        # The admin's fieldsets choose what is shown; these are what the form may change.
        fields = ("directory", "external_id", "first_name", "last_name", "user", "email",
                  "phone", "channel_addresses", "locale", "timezone", "data")


class RecipientGroupForm(DirectoryOptional):
    class Meta:
        model = RecipientGroup
        fields = ("directory", "name", "description", "members")

    def clean(self) -> dict:
        cleaned = super().clean()
        directory, members = cleaned.get("directory"), cleaned.get("members")
        if directory is not None and members is not None:
            strangers = [m.external_id for m in members if m.directory_id != directory.pk]
            if strangers:
                self.add_error("members", f"Not in directory {directory.name!r}: "
                                          f"{', '.join(strangers)}. A group's members are "
                                          f"subscribers of its own directory.")
        return cleaned


@admin.register(Directory)
class DirectoryAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "application_list", "subscriber_count", "group_count")
    search_fields = ("name", "description")
    readonly_fields = ("application_list", "created_at")
    fields = ("name", "description", "application_list", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Directory]:
        return super().get_queryset(request).prefetch_related("applications").annotate(
            subscriber_total=Count("subscribers", distinct=True),
            group_total=Count("groups", distinct=True))

    @admin.display(description="applications")
    def application_list(self, obj: Directory) -> str:
        if obj.pk is None:
            return "-"
        return ", ".join(app.name for app in obj.applications.all()) or "-"

    @admin.display(description="subscribers", ordering="subscriber_total")
    def subscriber_count(self, obj: Directory) -> int:
        return obj.subscriber_total

    @admin.display(description="groups", ordering="group_total")
    def group_count(self, obj: Directory) -> int:
        return obj.group_total


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberForm
    list_display = ("external_id", "full_name", "email", "phone", "locale", "directory", "user",
                    "created_at")
    list_filter = ("directory", "locale", HasUserFilter, "groups")
    list_select_related = ("user", "directory")
    search_fields = ("external_id", "email", "first_name", "last_name", "phone")
    autocomplete_fields = ("user",)
    readonly_fields = ("group_list", "created_at", "updated_at", "email_undeliverable_at",
                       "email_undeliverable_reason")
    actions = ["mark_email_deliverable"]
    fieldsets = (
        (None, {"fields": ("directory", "external_id", "first_name", "last_name", "user",
                           "group_list")}),
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
    form = RecipientGroupForm
    list_display = ("name", "description", "directory", "member_count", "target_count",
                    "updated_at")
    list_filter = ("directory",)
    list_select_related = ("directory",)
    search_fields = ("name", "description")
    autocomplete_fields = ("members",)
    readonly_fields = ("created_at", "updated_at")
    fields = ("directory", "name", "description", "members", "created_at", "updated_at")
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
