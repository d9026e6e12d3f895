"""What the store holds for a test client's browser, whichever ``PENDING_STORAGE`` runs: the
calls' stored form (``[module, method, args, sign]`` lists), oldest first, read without
taking anything."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.cookies import Morsel
from typing import Any

from giosg_django.storage import CacheStorage, DatabaseStorage, SessionStorage, get_storage
from giosg_django.storage.cache import KEY_PREFIX
from giosg_django.storage.records import receipt_prefix
from giosg_django.storage.session import SESSION_KEY


def receipt_ids(cookies: Mapping[str, Any]) -> list[str]:
    """The record ids of the live receipts among ``cookies`` (a client's or a response's)."""
    prefix = receipt_prefix()
    found = []
    for name, cookie in cookies.items():
        value = cookie.value if isinstance(cookie, Morsel) else cookie
        if name.startswith(prefix) and value:
            found.append(name[len(prefix) :])
    return found


def stored_calls(cookies: Mapping[str, Any], session: Any = None) -> list[list[Any]]:
    storage = get_storage()
    if isinstance(storage, SessionStorage):
        return list(session.get(SESSION_KEY, [])) if session is not None else []
    ids = receipt_ids(cookies)
    if isinstance(storage, CacheStorage):
        texts = list(storage.cache().get_many([KEY_PREFIX + i for i in ids]).values())
    elif isinstance(storage, DatabaseStorage):
        from giosg_django.models import PendingCall

        texts = list(PendingCall.objects.filter(pk__in=ids).values_list("calls", flat=True))
    else:
        raise TypeError(f"no way to look into {storage!r}")
    records = sorted((json.loads(text) for text in texts), key=lambda record: record["queued"])
    return [call for record in records for call in record["calls"]]


def client_stored_calls(client: Any) -> list[list[Any]]:
    return stored_calls(client.cookies, client.session)
