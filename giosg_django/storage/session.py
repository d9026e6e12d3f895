""":class:`SessionStorage`, the default store: the waiting calls in the visitor's Django
session, any session backend (database, cache, signed cookies), as plain JSON
(``Call.to_session``), which every session serializer accepts.

A session is read when a request starts and written whole when it ends, so two requests of one
visitor at the same time can lose or repeat a call (the last write wins), as any data in a
Django session can: ``CacheStorage`` and ``DatabaseStorage`` do not.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieSession
from django.http import HttpRequest, HttpResponseBase

from ..calls import Call
from ..caps import cap, drop_order
from ..conf import get_config
from ..faults import contained
from .base import NOTHING, Loaded, PendingStorage, decode, encode, keyed_session

SESSION_KEY = "_giosg_pending"

logger = logging.getLogger("giosg_django")

# Made once (``contained`` holds no state of its own): loading runs on every request.
LOAD_FAILED = contained("loading pending giosg calls from the session")
STORE_FAILED = contained("storing pending giosg calls in the session")
WRITE_FAILED = contained(
    "writing the session (is its store down?); the pending giosg calls are lost"
)


class SessionStorage(PendingStorage):
    """In the visitor's Django session (``request.session``), under :data:`SESSION_KEY`.

    No session is created, loaded or written for a visitor with nothing waiting. A session that
    only giosg changed is written here, inside giosg's fault handling, so a session store that
    is down cannot turn the response into an error (Django's SessionMiddleware, which would
    write it otherwise, runs outside of it); the session is then left as the view left it.
    """

    def may_hold(self, request: HttpRequest) -> bool:
        # keyed_session(), written out: asked on every request, an anonymous one's included.
        session = getattr(request, "session", None)
        return session is not None and session.session_key is not None

    def load(self, request: HttpRequest) -> Loaded:
        session = keyed_session(request)
        if session is not None:
            with LOAD_FAILED:
                stored = session.get(SESSION_KEY)
                return NOTHING if stored is None else Loaded(decode(stored), True)
        return NOTHING

    async def aload(self, request: HttpRequest) -> Loaded:
        session = keyed_session(request)
        if session is not None:
            with LOAD_FAILED:
                stored = await session.aget(SESSION_KEY)
                return NOTHING if stored is None else Loaded(decode(stored), True)
        return NOTHING

    def save(
        self, request: HttpRequest, response: HttpResponseBase, calls: list[Call]
    ) -> list[Call] | None:
        session, kept = _stage(request, calls)
        if session is None:
            return kept
        with WRITE_FAILED, _Writing(session):
            session.save()
            return kept
        return None

    async def asave(
        self, request: HttpRequest, response: HttpResponseBase, calls: list[Call]
    ) -> list[Call] | None:
        # Staging is memory work only: the session was loaded, or has no key.
        session, kept = _stage(request, calls)
        if session is None:
            return kept
        with WRITE_FAILED, _Writing(session):
            await session.asave()
            return kept
        return None


def _stage(request: HttpRequest, calls: list[Call]) -> tuple[SessionBase | None, list[Call] | None]:
    """Put ``calls`` in the session (in memory), within the caps. Returns the session when
    giosg alone changed it and must write it itself, else ``None`` (unchanged, or Django's
    SessionMiddleware writes it); and the calls kept (``None``: none could be)."""
    with STORE_FAILED:
        session = getattr(request, "session", None)
        if session is None:
            return None, None
        # Would Django's SessionMiddleware write this session without giosg? Not when it is
        # unchanged, nor when it is empty (as logout() leaves it).
        written_anyway = session.modified and not session.is_empty()
        config = get_config()
        kept = _put(session, cap(calls, config["MAX_PENDING"], config["MAX_PENDING_BYTES"]))
        if session.modified and not written_anyway and not isinstance(session, CookieSession):
            return session, kept
        return None, kept
    return None, None


class _Writing:
    """Around giosg's own write of a session (inside ``WRITE_FAILED``, which contains what it
    lets through). Written: Django's SessionMiddleware need not write it again, unless the
    session is new and its cookie must still be set. Refused by the store: the session is left
    as the view left it."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session
        self.key_before = session.session_key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        session = self.session
        if kind is not None:
            session.pop(SESSION_KEY, None)
        elif session.session_key is None or session.session_key != self.key_before:
            return
        session.modified = False


def _put(session: SessionBase, calls: list[Call]) -> list[Call]:
    """Store ``calls``, changing the session only when what it holds differs (and, with
    signed-cookie sessions, only as many as the cookie can carry); returns those stored."""
    wanted = encode(calls)
    if session.get(SESSION_KEY, []) == wanted:
        return calls
    if isinstance(session, CookieSession):
        return fit_cookie(session, calls)  # sets or removes the key itself
    if wanted:
        session[SESSION_KEY] = wanted
    else:
        del session[SESSION_KEY]
    return calls


# Browsers drop a cookie whose name and value pass 4096 bytes (RFC 6265 section 6.1's floor).
COOKIE_LIMIT = 4096


def _cookie_size(session: CookieSession) -> int:
    # The value the signed-cookie backend will send: it encodes the whole session as its key.
    return len(settings.SESSION_COOKIE_NAME) + 1 + len(session._get_session_key() or "")


def fit_cookie(session: CookieSession, calls: list[Call]) -> list[Call]:
    """With signed-cookie sessions, keep what the cookie can carry under the browser's limit
    (a cookie over it is dropped, and the session with it), logging the names of the rest.
    Calls are given up in the caps' order (``caps.drop_order``): one the cookie could not
    carry even alone first, then the oldest, never the newest marker of each kind; so a
    message too long for any cookie cannot push out the calls queued around it (a logout's)."""

    def fits(kept: list[Call]) -> bool:
        if kept:
            session[SESSION_KEY] = encode(kept)
        else:
            session.pop(SESSION_KEY, None)
        return _cookie_size(session) <= COOKIE_LIMIT

    if fits(calls) or not calls:
        return calls
    order = drop_order(calls, [index for index, call in enumerate(calls) if not fits([call])])
    # The fewest calls to give up, in that order, found by bisection (each try encodes).
    low, high = min(1, len(order)), len(order)
    while low < high:
        middle = (low + high) // 2
        if fits(_without(calls, order[:middle])):
            high = middle
        else:
            low = middle + 1
    dropped = sorted(order[:low])
    kept = _without(calls, dropped)
    fits(kept)
    if dropped:
        logger.warning(
            "giosg: %d pending call(s) dropped to keep the session cookie under %d bytes: %s",
            len(dropped),
            COOKIE_LIMIT,
            ", ".join(calls[index].name for index in dropped),
        )
    return kept


def _without(calls: list[Call], positions: Collection[int]) -> list[Call]:
    gone = set(positions)
    return [call for index, call in enumerate(calls) if index not in gone]
