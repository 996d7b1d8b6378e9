"""Environment for the test run, applied before Django's settings are loaded.

Loaded as a pytest plugin (``-p tests.environment`` in pyproject.toml) because
some settings are read once, when the live test server builds its middleware.
"""

from __future__ import annotations

import os

# Production settings redirect plain HTTP to HTTPS; the test servers speak HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
