"""giosg's own reads of the session do not make a page vary on the Cookie header.

Django's SessionMiddleware adds ``Vary: Cookie`` to every response whose request read the
session, and a page cache (``cache_page``, the per-site cache, a CDN) then keeps one copy per
visitor. GiosgMiddleware reads the session of a signed-in visitor on every request (what waits,
who is signed in: ``lifecycle``), also for a page that does not depend on who asks (a page
with ``{% giosg_visitor cacheable %}``, a marketing page). So around those reads:

- ``session.accessed`` is put back as it was: only the view's own reads count;
- ``request.user``, which the reads resolved (AuthenticationMiddleware's lazy object, which
  then never reads the session again), is swapped for one that marks the session read when
  the view first uses it, so a page that shows the user still varies on the cookie;
- giosg's own end step reads the user through :func:`user`, which marks nothing.

What giosg puts into a response for this visitor (calls, the identity, a cookie) makes it
private itself (``shared_cache.make_private``), with ``Vary: Cookie``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.functional import LazyObject, SimpleLazyObject, empty


class UserOfTheView(SimpleLazyObject):  # type: ignore[type-arg]  # (made here only)
    """``request.user`` once giosg resolved it: the same user, and the session marked read at
    the view's first use, as AuthenticationMiddleware's own lazy object would have.

    Its state is written with ``object``'s own methods: LazyObject's ``__getattribute__`` and
    ``__setattr__`` are Python code, run on each attribute of the object itself, and one of
    these is made on every signed-in visitor's request."""

    def __init__(self, user: Any, session: SessionBase) -> None:
        def resolve() -> Any:  # SimpleLazyObject's own, for its repr() and copies
            session.accessed = True
            return user

        state = object.__getattribute__(self, "__dict__")
        state["_setupfunc"] = resolve
        state["_wrapped"] = empty
        state["_giosg_user"] = user

    def _setup(self) -> None:
        state = object.__getattribute__(self, "__dict__")
        state["_wrapped"] = state["_setupfunc"]()


class reads:  # a context manager, named as contextlib.suppress is
    """Around giosg's reads before the view (see the module docstring). A class: a
    generator-based context manager costs three times as much, on every request."""

    __slots__ = ("request", "session")

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        session = getattr(request, "session", None)
        # No session, or read already (a middleware before ours): nothing to hide.
        hide = isinstance(session, SessionBase) and not session.accessed
        self.session = session if hide else None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        session = self.session
        if session is None or not session.accessed:
            return
        session.accessed = False
        request = self.request
        user = request.__dict__.get("user")
        # type(), not isinstance(): isinstance asks a lazy object's __class__ when its own type
        # does not match, which resolves it (and a session store that is down raises).
        kind = type(user)
        if issubclass(kind, LazyObject) and not issubclass(kind, UserOfTheView):
            wrapped = object.__getattribute__(user, "_wrapped")
            if wrapped is not empty:  # resolved by giosg: the view would not read again
                request.user = UserOfTheView(wrapped, session)  # type: ignore[assignment]
        if "_acached_user" in request.__dict__ and "auser" in request.__dict__:
            # request.auser() answers from its cache too (the async path resolved it).
            request.auser = _marking(request.auser, session)


def _marking(auser: Callable[[], Awaitable[Any]], session: SessionBase) -> Any:
    async def auser_of_the_view() -> Any:
        session.accessed = True
        return await auser()

    return auser_of_the_view


def at_response(request: HttpRequest) -> None:
    """Once giosg's steps are done: a session that will be written (changed by the view or by
    giosg, or ``SESSION_SAVE_EVERY_REQUEST``) goes out as a Set-Cookie of this visitor's,
    which a page cache must never store for others: the session counts as read, so Django's
    SessionMiddleware adds ``Vary: Cookie``, as it did before giosg hid its reads."""
    session = getattr(request, "session", None)
    if not isinstance(session, SessionBase) or session.accessed:
        return
    if session.modified or settings.SESSION_SAVE_EVERY_REQUEST:
        session.accessed = True


def user(request: HttpRequest) -> Any:
    """``request.user`` for giosg's own steps, without marking the session read."""
    current = getattr(request, "user", None)
    if type(current) is UserOfTheView:
        return current.__dict__["_giosg_user"]
    return current
