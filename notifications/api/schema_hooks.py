"""OpenAPI post-processing: publish each path in its canonical form, without the trailing slash.

The routers accept both ``/api/events`` and ``/api/events/``; the schema and
the docs page show the form the README and the contracts use.
"""

from __future__ import annotations


def canonical_paths(result, generator, request, public):
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result
