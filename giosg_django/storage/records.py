"""What ``CacheStorage`` and ``DatabaseStorage`` share: records written once, and receipts.

Every response that leaves calls waiting writes them (in order, within the caps) as one new
*record* under a random id, and gives the browser a *receipt* for it: an HttpOnly cookie named
after the record (``giosg_pending_<id>``; ``__Host-`` first with ``SESSION_COOKIE_SECURE``),
whose value is the server's signature of the name. A later request of that browser presents its
receipts. Before its view, the middleware only *finds* their records (a read); the response
that delivers them *takes* them, when it renders them (the first ``{% giosg_visitor %}`` batch,
an htmx header, the sync endpoint): each record is removed by exactly one request, the one
whose atomic delete removed it (Redis ``DEL``, memcached ``delete``, SQL ``DELETE`` and its row
count), and that request renders only what it took. Its response then gives back the receipts
of what it took (deletes the cookies) and writes anything taken but not delivered as a new
record with a new receipt. So:

- no two requests deliver the same call, whatever the number of workers and threads: a record
  is never changed, only written once and removed once;
- no call is lost to a race: a record is only removed by the request that delivers its calls
  or writes them again, and a receipt is only deleted by a response whose request took its
  record (a receipt written meanwhile by a parallel response has a name no other request has
  seen); a response that renders nothing (JSON, a redirect, HEAD) takes nothing and touches no
  receipt, so it may be lost on its way without loss;
- a visitor without a receipt (most requests) costs no round trip to the store at all;
- calls follow the browser, not the session key: ``login()`` and ``logout()`` leave the
  receipts alone. With ``SESSION_EXPIRE_AT_BROWSER_CLOSE``, receipts end with the browser
  session, as the session cookie does (the next person at that computer gets nothing).

A receipt whose signature does not verify (planted by a page script or a sibling subdomain) is
ignored: it is not read, counted or deleted. Records expire after ``SESSION_COOKIE_AGE``. A
request presenting more than ``GATHER_AT`` receipts (a browser that sent many requests at once,
none rendering) takes their records even without rendering, and writes them back as one, so
that a browser's receipts stay few.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import constant_time_compare, salted_hmac

from .. import shared_cache
from ..calls import Call
from ..caps import cap
from ..conf import get_config
from ..faults import contained
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
_SALT = "giosg_django.storage.records.receipt"
# A request reads at most this many receipts (a bound on its work, whatever the Cookie header
# holds); past GATHER_AT it takes their records and writes them back as one.
MAX_RECEIPTS = 64
GATHER_AT = 8
# On the request: the receipts whose records this request took (or found gone), given back by
# its response; and the oldest of those records' times, which the calls written again keep.
_PRESENTED = "_giosg_receipts"
_OLDEST = "_giosg_receipts_oldest"
_VERIFIED = "_giosg_receipts_verified"
# A remove that failed may have removed the record on the server all the same (a timeout after
# the delete): its calls may be lost, never delivered twice.
TAKE_FAILED = contained("taking pending giosg calls from their store (some may be lost)")


def receipt_prefix() -> str:
    return SECURE_RECEIPT_PREFIX if settings.SESSION_COOKIE_SECURE else RECEIPT_PREFIX


def _signature(record_id: str, secret: Any = None) -> str:
    return salted_hmac(_SALT, record_id, secret=secret, algorithm="sha256").hexdigest()[:32]


def _verifies(record_id: str, value: str) -> bool:
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if constant_time_compare(value, _signature(record_id, secret)):
            return True
    return False


def receipts(request: HttpRequest) -> list[str]:
    """The record ids of the receipts the request carries whose signature verifies (at most
    ``MAX_RECEIPTS``); a deleted cookie some clients still send, empty, is none. Verified once
    per request (``may_hold`` asks, then ``load``)."""
    found: list[str] | None = request.__dict__.get(_VERIFIED)
    if found is None:
        found = request.__dict__[_VERIFIED] = _verified_receipts(request)
    return found


def _verified_receipts(request: HttpRequest) -> list[str]:
    prefix = receipt_prefix()
    found = []
    for name, value in request.COOKIES.items():
        if name.startswith(prefix) and value:
            record_id = name[len(prefix) :]
            if _ID.fullmatch(record_id) and _verifies(record_id, value):
                found.append(record_id)
                if len(found) == MAX_RECEIPTS:
                    break
    return found


def record_text(queued_ns: int, calls: list[Call]) -> str:
    """A record's stored form: JSON text, the time its oldest call was first stored (in ns:
    records of one visitor are taken in that order) and the calls in order."""
    return json.dumps({"queued": queued_ns, "calls": encode(calls)}, separators=(",", ":"))


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


def _by_time(record: tuple[int, list[Call]]) -> int:
    return record[0]


def _capped(calls: list[Call]) -> list[Call]:
    config = get_config()
    return cap(calls, config["MAX_PENDING"], config["MAX_PENDING_BYTES"])


class RecordStorage(PendingStorage):
    """A store of records and receipts (the module docstring); a subclass says how records are
    found, removed (``find``, ``remove``) and written (``write``)."""

    def find(self, record_ids: list[str]) -> dict[str, str]:
        """The stored texts of those records that are there (not taken, not expired), by id.
        A read, but of the store that is written (never a replica, which may lag): a record
        not found is gone."""
        raise NotImplementedError

    def remove(self, record_id: str) -> bool:
        """Remove the record; whether this call removed it (one request only ever does)."""
        raise NotImplementedError

    def write(self, record_id: str, text: str, ttl: int) -> None:
        raise NotImplementedError

    def may_hold(self, request: HttpRequest) -> bool:
        return bool(receipts(request))

    def load(self, request: HttpRequest) -> Loaded:
        """The calls the receipts' records hold, found but not taken: the visit takes them
        (``Loaded.take``) when it first renders its batch."""
        record_ids = receipts(request)
        if not record_ids:
            return NOTHING
        found: dict[str, str] | None = None
        with LOAD_FAILED:
            found = self.find(record_ids)
        if found is None:
            return NOTHING  # the store is down: the receipts stay, their records wait
        # Gone already (taken by a parallel request, expired): its receipt is given back.
        gone = [record_id for record_id in record_ids if record_id not in found]
        parsed = {record_id: _parse(text) for record_id, text in found.items()}
        ordered = sorted(parsed, key=lambda record_id: (parsed[record_id][0], record_id))
        calls = [call for record_id in ordered for call in parsed[record_id][1]]

        def take() -> Loaded:
            return self._take(request, ordered, parsed, gone)

        if len(record_ids) > GATHER_AT:
            return take()
        if gone and not calls:
            setattr(request, _PRESENTED, gone)
            return Loaded([], True)
        return Loaded(calls, False, take)

    def _take(
        self,
        request: HttpRequest,
        ordered: list[str],
        found: dict[str, tuple[int, list[Call]]],
        gone: list[str],
    ) -> Loaded:
        """Remove the records found, in order; the calls of those this request removed."""
        resolved = list(gone)
        taken = []
        with TAKE_FAILED:
            for record_id in ordered:
                if self.remove(record_id):
                    taken.append(found[record_id])
                resolved.append(record_id)
        # After a failure midway, what was removed is delivered all the same (it is gone from
        # the store), and the receipts of what was not stay with the browser.
        setattr(request, _PRESENTED, resolved)
        taken.sort(key=_by_time)
        if taken:
            setattr(request, _OLDEST, taken[0][0])
        return Loaded(_capped([call for _, record in taken for call in record]), bool(resolved))

    def save(
        self, request: HttpRequest, response: HttpResponseBase, calls: list[Call]
    ) -> list[Call] | None:
        browser_session = settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
        ttl = settings.SESSION_COOKIE_AGE
        samesite = settings.SESSION_COOKIE_SAMESITE or None
        with STORE_FAILED:
            prefix = receipt_prefix()
            presented = getattr(request, _PRESENTED, ())
            for record_id in presented:
                response.delete_cookie(prefix + record_id, path="/", samesite=samesite)
            kept = _capped(calls)
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
                _signature(record_id),
                max_age=None if browser_session else ttl,
                path="/",
                secure=bool(settings.SESSION_COOKIE_SECURE),
                httponly=True,
                samesite=samesite,
            )
            return kept
        return None
