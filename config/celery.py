"""The Celery application: settings come from Django's ``CELERY_*`` settings.

Run a worker with ``celery -A config worker`` and the scheduler with
``celery -A config beat``; periodic tasks live in django-celery-beat's tables
(see ``notifications/migrations`` for the ones Clarion registers).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clarion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
