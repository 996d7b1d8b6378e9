"""A JSON object stored encrypted at rest, for endpoint settings that may carry credentials.

Custom headers on a webhook endpoint often hold an ``Authorization`` value or an
API token of the receiver, so they are kept like the signing secrets: encrypted
with ``FIELD_ENCRYPTION_KEYS`` (see ``notifications.fields``). Python code sees a dict.
"""

from __future__ import annotations

import json

from notifications.fields import EncryptedTextField, encrypt


class EncryptedJSONObjectField(EncryptedTextField):
    """A dict of strings, stored as encrypted compact JSON; empty means ``{}``."""

    def from_db_value(self, value, expression, connection):
        text = super().from_db_value(value, expression, connection)
        return json.loads(text) if text else {}

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return json.loads(value)

    def get_prep_value(self, value):
        # Not through TextField.get_prep_value: its to_python would turn the JSON back into a dict.
        value = self.to_python(value)
        if not value:
            return ""
        return encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj) or {}, sort_keys=True)
