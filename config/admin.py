"""Clarion's admin site: Django's, titled for Clarion, with the delivery dashboard at /admin/dashboard/."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import path


class ClarionAdminSite(admin.AdminSite):
    site_header = "Clarion administration"
    site_title = "Clarion"
    index_title = "Notifications, inbox and webhooks"

    def get_urls(self):
        from notifications.admin.dashboard import dashboard_view

        return [path("dashboard/", self.admin_view(dashboard_view), name="dashboard"),
                *super().get_urls()]


class ClarionAdminConfig(AdminConfig):
    """Installed instead of ``django.contrib.admin`` so ``admin.site`` is a ClarionAdminSite."""

    default_site = "config.admin.ClarionAdminSite"
