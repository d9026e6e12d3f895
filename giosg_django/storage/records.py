"""What ``CacheStorage`` and ``DatabaseStorage`` share: records written once, and receipts.

Every response that leaves calls waiting writes them (in order, within the caps) as one new
*record* under a random id, and gives the browser a *receipt* for it: an HttpOnly cookie named
after the record (``giosg_pending_<id>``; ``__Host-`` first with ``SESSION_COOKIE_SECURE``, so
that a sibling subdomain cannot plant one). A later request of that browser presents its
receipts; before its view runs it takes their records, each removed by exactly one request:
the store's own atomic delete says which (Redis ``DEL``, memcached ``delete``, SQL ``DELETE``
and its row count). Its response then gives back the receipts it presented (deletes the
cookies) and, if anything of what it took or queued still waits, writes it as a new record
with a new receipt. So:

- no two requests deliver the same call, whatever the number of workers and threads: a record
  is never changed, only written once and removed once;
- no call is lost to a race: a record is only ever removed by the request that delivers its
  calls or writes them again, and a receipt is only ever deleted by a response whose request
  presented it (a receipt written meanwhile by a parallel response has a name no other request
  has seen);
- a visitor without a receipt (most requests) costs no round trip to the store at all;
- calls follow the browser, not the session: ``login()`` (a new session key) and ``logout()``
  (the session flushed) leave the receipts alone.

A receipt holds nothing but the record's name (128 random bits): a forged or replayed one
finds nothing, or takes what its own browser was given. Records expire after
``SESSION_COOKIE_AGE``, like their receipts.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from .. import shared_cache
from ..calls import Call
from ..caps import cap
from ..conf import get_config
from .base import (
    LOAD_FAILED,
    NOTHING,
    STORE_FAILED,
    WRITE_FAILED,
    Loaded,
    PendingStorage,
    decode,
    encode,
    logger,
)

RECEIPT_PREFIX = "giosg_pending_"
# With SESSION_COOKIE_SECURE: the browser keeps it to this host, path "/" and HTTPS.
SECURE_RECEIPT_PREFIX = "__Host-" + RECEIPT_PREFIX
_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
# Receipts one request takes at most; more (a browser that sent many requests at once) wait
# for the next request, which takes the next ones.
MAX_RECEIPTS = 16
# On the request: the receipts whose records this request took (or found gone), given back by
# its response; and the oldest of those records' times, which the calls written again keep.
_PRESENTED = "_giosg_receipts"
_OLDEST = "_giosg_receipts_oldest"


def receipt_prefix() -> str:
    return SECURE_RECEIPT_PREFIX if settings.SESSION_COOKIE_SECURE else RECEIPT_PREFIX


def receipts(request: HttpRequest) -> list[str]:
    """The record ids of the receipts the request carries (the first ``MAX_RECEIPTS``)."""
    prefix = receipt_prefix()
    found = []
    for name in request.COOKIES:
        if name.startswith(prefix):
            record_id = name[len(prefix) :]
            # A deleted cookie some clients still send, empty: not a receipt.
            if _ID.fullmatch(record_id) and request.COOKIES[name]:
                found.append(record_id)
                if len(found) == MAX_RECEIPTS:
                    break
    return found


def record_text(queued_ns: int, calls: list[Call]) -> str:
    """A record's stored form: JSON text, the time its oldest call was first stored (in ns:
    records of one visitor are taken in that order) and the calls in order."""
    return json.dumps({"queued": queued_ns, "calls": encode(calls)}, separators=(",", ":"))


def _by_time(record: tuple[int, list[Call]]) -> int:
    return record[0]


def _parse(text: Any) -> tuple[int, list[Call]]:
    try:
        value = json.loads(text)
        queued, calls = value["queued"], value["calls"]
        if not isinstance(queued, int):
            raise TypeError("queued")
    except (TypeError, ValueError, KeyError):
        logger.warning("giosg: ignored a stored record of pending calls that is not one")
        return 0, []
    return queued, decode(calls)


class RecordStorage(PendingStorage):
    """A store of records and receipts (the module docstring); a subclass says how records are
    found and removed (``find``, ``remove``) and written (``write``)."""

    def find(self, record_ids: list[str]) -> dict[str, str]:
        """The stored texts of those records that are there (not taken, not expired), by id;
        reads only."""
        raise NotImplementedError

    def remove(self, record_id: str) -> bool:
        """Remove the record; whether this call removed it (one request only ever does)."""
        raise NotImplementedError

    def write(self, record_id: str, text: str, ttl: int) -> None:
        raise NotImplementedError

    def may_hold(self, request: HttpRequest) -> bool:
        return bool(receipts(request))

    def load(self, request: HttpRequest) -> Loaded:
        record_ids = receipts(request)
        if not record_ids:
            return NOTHING
        found: dict[str, str] | None = None
        with LOAD_FAILED:
            found = self.find(record_ids)
        if found is None:
            return NOTHING  # the store is down: the receipts stay, their records wait
        # The receipts to give back: those whose record is gone (taken, expired) or taken now.
        resolved = [record_id for record_id in record_ids if record_id not in found]
        taken = []
        with LOAD_FAILED:
            for record_id, text in found.items():
                if self.remove(record_id):
                    taken.append(_parse(text))
                resolved.append(record_id)
        # After a failure midway, what was taken is delivered all the same (it is gone from
        # the store), and the receipts of what was not stay with the browser.
        setattr(request, _PRESENTED, resolved)
        taken.sort(key=_by_time)
        if taken:
            setattr(request, _OLDEST, taken[0][0])
        calls = [call for _, record in taken for call in record]
        config = get_config()
        return Loaded(cap(calls, config["MAX_PENDING"], config["MAX_PENDING_BYTES"]), True)

    def save(
        self, request: HttpRequest, response: HttpResponseBase, calls: list[Call]
    ) -> list[Call] | None:
        ttl = settings.SESSION_COOKIE_AGE
        with STORE_FAILED:
            prefix = receipt_prefix()
            presented = getattr(request, _PRESENTED, ())
            for record_id in presented:
                response.delete_cookie(prefix + record_id, path="/", samesite="Lax")
            config = get_config()
            kept = cap(calls, config["MAX_PENDING"], config["MAX_PENDING_BYTES"])
            if presented or kept:
                # Its cookies are this browser's alone: a shared cache that stored the response
                # would hand this visitor's receipt to the next one.
                shared_cache.make_private(request, response)
            if not kept:
                return []
            record_id = secrets.token_urlsafe(16)
            queued = getattr(request, _OLDEST, None) or time.time_ns()
            text = record_text(queued, kept)
        with WRITE_FAILED:
            self.write(record_id, text, ttl)
            response.set_cookie(
                prefix + record_id,
                "1",
                max_age=ttl,
                path="/",
                secure=bool(settings.SESSION_COOKIE_SECURE),
                httponly=True,
                samesite="Lax",
            )
            return kept
        return None
