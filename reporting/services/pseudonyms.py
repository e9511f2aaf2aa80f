"""Pseudonymous person keys for the DDI schema: no name, e-mail or portal id leaves the portal."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def pseudonym_key() -> bytes:
    return str(settings.PSEUDONYM_KEY).encode()


def person_key(*, user_id: int, tid: str, oid: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 (hex) of the person's stable identity under ``settings.PSEUDONYM_KEY``.

    A person's stable identity is their Entra ID tenant and object id; an account without one
    (a local or demo account) is keyed by its portal id, in a separate namespace.
    """
    message = f"entra:{tid}:{oid}" if oid else f"user:{user_id}"
    return hmac.new(key or pseudonym_key(), message.encode(), hashlib.sha256).hexdigest()
