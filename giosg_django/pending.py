"""Calls waiting for a page: kept in the visitor's session, never in process memory.

Any session backend works (database, cache, signed cookies), so whichever worker serves the
visitor's next page renders them. The stored form is plain JSON (``Call.to_session``), which
every session serializer accepts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieSession

from .calls import MARKER_MODULE, Call

SESSION_KEY = "_giosg_pending"

logger = logging.getLogger("giosg_django")


def decode(stored: Any) -> list[Call]:
    """The calls in a stored value; a corrupt or foreign value is dropped with a warning."""
    if stored is None:
        return []
    if not isinstance(stored, list):
        logger.warning("giosg: ignored a session value under %r that is not a list", SESSION_KEY)
        return []
    calls = []
    for item in stored:
        try:
            calls.append(Call.from_session(item))
        except (ValueError, TypeError):
            logger.warning("giosg: ignored a stored call that is not one: %.200r", item)
    return calls


def encode(calls: Sequence[Call]) -> list[list[Any]]:
    return [call.to_session() for call in calls]


def load(session: SessionBase) -> tuple[list[Call], bool]:
    """Pending calls in ``session``, and whether it holds anything under our key at all (a
    foreign value is then replaced), without creating or loading a session that has no key."""
    if session.session_key is None:
        return [], False
    stored = session.get(SESSION_KEY)
    return decode(stored), stored is not None


async def aload(session: SessionBase) -> tuple[list[Call], bool]:
    if session.session_key is None:
        return [], False
    stored = await session.aget(SESSION_KEY)
    return decode(stored), stored is not None


def cap(calls: list[Call], limit: int, limit_bytes: int) -> list[Call]:
    """Keep the newest calls within ``limit`` calls (MAX_PENDING) and ``limit_bytes`` of
    their stored JSON (MAX_PENDING_BYTES), logging the names of those dropped (never their
    values, which may be what a visitor typed). The newest marker of each kind is never
    dropped (see ``_kept_markers``)."""
    protected = _kept_markers(calls)
    keep = [True] * len(calls)
    excess = len(calls) - limit
    over_count = []
    for index, call in enumerate(calls):  # the oldest first
        if excess <= 0:
            break
        if index not in protected:
            keep[index] = False
            over_count.append(call)
            excess -= 1
    if over_count:
        _dropped(over_count, f"over MAX_PENDING={limit}")
    return _cap_bytes(calls, keep, protected, limit_bytes)


def _kept_markers(calls: list[Call]) -> set[int]:
    """Where the newest marker of each kind stands: the caps never drop it. A dropped login
    marker would leave the previous visitor's variables attached to the next identity, and a
    dropped logout time would keep the visitor's other tabs from closing the chat. Older
    copies tell nothing the newest does not, so they may go (a visitor logging in and out in
    a loop cannot grow the queue past the caps)."""
    kinds: set[str] = set()
    kept: set[int] = set()
    for index in range(len(calls) - 1, -1, -1):
        call = calls[index]
        if call.module == MARKER_MODULE and call.method not in kinds:
            kinds.add(call.method)
            kept.add(index)
    return kept


# As Django's JSONSerializer writes a session (ASCII, compact): one character is one byte.
_SESSION_JSON = json.JSONEncoder(separators=(",", ":"))


def stored_size(call: Call) -> int:
    return len(_SESSION_JSON.encode(call.to_session()))


def _cap_bytes(calls: list[Call], keep: list[bool], protected: set[int], limit: int) -> list[Call]:
    """The calls ``keep`` leaves, less the oldest until their stored size adds up to at most
    ``limit`` bytes, so one visitor's session (loaded and written on each of their requests)
    stays small whatever they send. A call that alone is over the limit could never be kept:
    it is dropped first, so it does not push the calls queued before it out."""
    sizes = [stored_size(call) if kept else 0 for call, kept in zip(calls, keep, strict=True)]
    total = sum(sizes)
    if total > limit:
        for index, size in enumerate(sizes):  # a call too big on its own
            if keep[index] and size > limit and index not in protected:
                keep[index] = False
                total -= size
        for index, size in enumerate(sizes):  # then the oldest, until the rest fits
            if total <= limit:
                break
            if keep[index] and index not in protected:
                keep[index] = False
                total -= size
        dropped = [
            call
            for index, call in enumerate(calls)
            if not keep[index] and sizes[index] and index not in protected
        ]
        _dropped(dropped, f"over MAX_PENDING_BYTES={limit}")
    return [call for call, kept in zip(calls, keep, strict=True) if kept]


def _dropped(calls: list[Call], why: str) -> None:
    logger.warning(
        "giosg: %d pending call(s) dropped, %s: %s",
        len(calls),
        why,
        ", ".join(call.name for call in calls),
    )


# Browsers drop a cookie whose name and value pass 4096 bytes (RFC 6265 section 6.1's floor).
COOKIE_LIMIT = 4096


def _cookie_size(session: CookieSession) -> int:
    # The value the signed-cookie backend will send: it encodes the whole session as its key.
    return len(settings.SESSION_COOKIE_NAME) + 1 + len(session._get_session_key() or "")


def fit_cookie(session: CookieSession, calls: list[Call]) -> list[Call]:
    """With signed-cookie sessions, keep the newest calls that leave the cookie under the
    browser's limit (a cookie over it is dropped, and the session with it), logging the rest."""

    def fits(kept: list[Call]) -> bool:
        if kept:
            session[SESSION_KEY] = encode(kept)
        else:
            session.pop(SESSION_KEY, None)
        return _cookie_size(session) <= COOKIE_LIMIT

    if fits(calls) or not calls:
        return calls
    # The smallest number of oldest calls to drop, found by bisection (each try encodes).
    low, high = 1, len(calls)
    while low < high:
        middle = (low + high) // 2
        if fits(calls[middle:]):
            high = middle
        else:
            low = middle + 1
    kept = calls[low:]
    fits(kept)
    logger.warning(
        "giosg: %d pending call(s) dropped to keep the session cookie under %d bytes: %s",
        low,
        COOKIE_LIMIT,
        ", ".join(call.name for call in calls[:low]),
    )
    return kept


def changes(session: SessionBase, calls: Sequence[Call]) -> list[list[Any]] | None:
    """What to write for ``calls``: ``None`` when the session already holds exactly that."""
    wanted = encode(calls)
    if session.get(SESSION_KEY, []) == wanted:
        return None
    return wanted


def save(session: SessionBase, calls: list[Call]) -> None:
    """Store ``calls``, writing to the session only when what it holds differs (and, with
    signed-cookie sessions, only as many as the cookie can carry)."""
    wanted = changes(session, calls)
    if wanted is None:
        return
    if isinstance(session, CookieSession):
        fit_cookie(session, calls)  # sets or removes the key itself
    elif wanted:
        session[SESSION_KEY] = wanted
    else:
        del session[SESSION_KEY]
