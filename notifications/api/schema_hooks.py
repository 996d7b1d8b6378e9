"""OpenAPI post-processing: canonical paths, and every error status the API really answers.

The routers accept both ``/api/events`` and ``/api/events/``; the schema and the docs page
show the form the README and the contracts use.

drf-spectacular documents the success response a view declares; the error answers come
from layers it does not see (authentication, scopes, parsers, the URL guard, the
exception handler, throttles). ``error_responses`` adds them to every operation they can
happen on, with the one JSON error body they all share, so a client (or a generated one)
knows every status it can meet.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "What went wrong, in words. A problem with the request's fields is "
                   "named field by field: {\"to\": [\"Unknown group '#ops'.\"]}; anything else "
                   "is {\"detail\": \"...\"}.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
    "example": {"detail": "Not found."},
}

_EVERYWHERE = {
    "400": "The request is malformed: a bad or unknown field, query parameter or body "
           "(named in the answer), an empty body, or a URL holding %00.",
    "404": "No such object here (another Application's objects are not found either), or no "
           "such page of a list.",
    "406": "The Accept header asks for a format other than JSON.",
}
_AUTHENTICATED = {
    "401": "Credentials are missing, unknown, revoked or expired.",
    "403": "The credentials lack the scope this operation needs.",
}
_WITH_BODY = {
    "411": "The body was sent in chunks; send it with a Content-Length header.",
    "413": "The body is larger than the API accepts (256 KB).",
    "415": "The body is not JSON (or a form, where the operation takes one).",
}
# Statuses of single operations, by (method, path).
_SPECIFIC = {
    ("post", "/api/events"): {
        "409": "The idempotency key was already used with a different request body."},
}
_THROTTLED_PREFIX = "/api/notifications/"
_THROTTLED = {"429": "Too many changes in a short time; retry after the Retry-After header."}


def canonical_paths(result, generator, request, public):
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result


def error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, item in result["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "patch", "post", "delete"):
                continue
            wanted = dict(_EVERYWHERE)
            if operation.get("security") and any(operation["security"]):
                wanted |= _AUTHENTICATED
            if "requestBody" in operation or method in ("post", "put", "patch"):
                wanted |= _WITH_BODY
            if path.startswith(_THROTTLED_PREFIX) and method != "get":
                wanted |= _THROTTLED
            wanted |= _SPECIFIC.get((method, path), {})
            responses = operation.setdefault("responses", {})
            for code, description in wanted.items():
                responses.setdefault(code, {
                    "description": description,
                    "content": {"application/json": {"schema": reference}}})
    return result


# Where create, update and partial update answer an empty body with 400 (``BodyRequired``):
# the management API's documents. A PATCH there needs at least "{}".
_BODY_REQUIRED_PREFIXES = ("/api/events", "/api/subscribers", "/api/groups",
                           "/api/webhooks/configurations")


def bodies_required(result, generator, request, public):
    for path, item in result["paths"].items():
        collection, _, rest = path.partition("/{")
        if collection not in _BODY_REQUIRED_PREFIXES or "/" in rest:
            continue  # an action below an object (recover, members, …) has its own rules
        for method in ("post", "put", "patch"):
            body = item.get(method, {}).get("requestBody")
            if body is not None:
                body["required"] = True
    return result


def strict_bodies_closed(result, generator, request, public):
    """A request body read by a ``StrictInput`` serializer refuses unknown fields: its
    schema says ``additionalProperties: false`` so that clients (and generators) know."""
    from notifications.api.serializers import StrictInput

    closed = set()
    pending = list(StrictInput.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        name = cls.__name__.removesuffix("Serializer")
        closed |= {f"{name}Request", f"Patched{name}Request"}
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in closed and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
