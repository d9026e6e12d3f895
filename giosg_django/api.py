"""``request.giosg``: giosg's calls from Python, queued for the visitor's next page.

``request.giosg.goal.matches(goal_id, value=10)`` mirrors ``giosg.api.goal.matches``. Each
method validates its arguments at the call site (see :mod:`giosg_django.calls`) and adds the
call to this request's queue, which its :class:`~giosg_django.visit.Visit` holds; the
middleware stores what no page rendered for the visitor's next page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from django.http import HttpRequest

from . import calls
from .calls import Call

if TYPE_CHECKING:
    from .visit import Visit

P = ParamSpec("P")


class _Module:
    __slots__ = ("_giosg",)

    def __init__(self, giosg: Giosg) -> None:
        self._giosg = giosg


def _queues(build: Callable[P, Call]) -> Callable[Concatenate[_Module, P], None]:
    """A method that builds the call with ``build`` (same signature) and queues it."""

    @functools.wraps(build)
    def method(self: _Module, /, *args: P.args, **kwargs: P.kwargs) -> None:
        self._giosg.add(build(*args, **kwargs))

    return method


class VisitorAPI(_Module):
    submit = _queues(calls.visitor_submit)
    remove = _queues(calls.visitor_remove)
    remove_all = _queues(calls.visitor_remove_all)
    set_identifier = _queues(calls.visitor_set_identifier)


class RoomAPI(_Module):
    join = _queues(calls.room_join)
    leave = _queues(calls.room_leave)


class ChatAPI(_Module):
    close = _queues(calls.chat_close)
    hide = _queues(calls.chat_hide)
    start_task = _queues(calls.chat_start_task)


class CallAPI(_Module):
    start = _queues(calls.call_start)


class GoalAPI(_Module):
    matches = _queues(calls.goal_matches)


class Giosg:
    """``request.giosg``: queue giosg's calls from Python (CONTRACT section 3). A thin API
    over the request's :class:`~giosg_django.visit.Visit`, which holds the queue and is made
    on first use: most requests (an anonymous visitor's, with nothing waiting) never need one.
    """

    __slots__ = ("_request", "_started")

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._started: Visit | None = None

    @property
    def _visit(self) -> Visit:
        """The request's visit, made now if nothing needed it yet."""
        visit = self._started
        if visit is None:
            visit = self._started = visits.Visit(self._request)
        return visit

    # Made on use only: most requests never queue a call.
    @property
    def visitor(self) -> VisitorAPI:
        return VisitorAPI(self)

    @property
    def room(self) -> RoomAPI:
        return RoomAPI(self)

    @property
    def chat(self) -> ChatAPI:
        return ChatAPI(self)

    @property
    def call(self) -> CallAPI:
        return CallAPI(self)

    @property
    def goal(self) -> GoalAPI:
        return GoalAPI(self)

    def __repr__(self) -> str:
        visit = self._started  # a repr never makes the visit
        return f"<Giosg queued={[call.name for call in visit.calls] if visit else []}>"

    def add(self, call: Call) -> None:
        """Queue a call built with :mod:`giosg_django.calls` (the namespaces do this)."""
        self._visit.add(call)


class MiddlewareMissing(AttributeError):
    """``request.giosg`` read on a request that ``GiosgMiddleware`` did not see. An
    ``AttributeError``, so ``getattr(request, "giosg", None)`` and ``hasattr`` still work."""


# In a request's __dict__, set by GiosgMiddleware (``visit.attach``, or written out on its sync
# path): the request is the middleware's, and this one-item list holds its ``request.giosg``
# once made (on first use). A list, not a flag: a copy of the request (copy.copy) shares it,
# so calls queued through the copy reach the middleware; and a view that replaces
# ``request.giosg`` (a proxy around it) does not hide the queue from it.
MANAGED = "_giosg_managed"


class _RequestGiosg:
    """``HttpRequest.giosg`` (``install_request_giosg``). A request's own ``giosg``, in its
    __dict__, is found first (this descriptor has no ``__set__``); this runs only when there
    is none yet: on a request the middleware saw, ``request.giosg`` is made now and kept (most
    requests never use it, and then cost nothing); on any other, the read fails with the fix
    in its message instead of Python's bare "no attribute"."""

    def __get__(self, request: HttpRequest | None, owner: type | None = None) -> Any:
        if request is None:
            return self
        held = request.__dict__.get(MANAGED)
        if held is not None:
            giosg = request.__dict__["giosg"] = managed_giosg(request, held)
            return giosg
        raise MiddlewareMissing(
            "request.giosg is set by giosg_django.middleware.GiosgMiddleware, which did not "
            "see this request: add 'giosg_django.middleware.GiosgMiddleware' to "
            "settings.MIDDLEWARE after 'django.contrib.auth.middleware.AuthenticationMiddleware'"
            " (a request made by RequestFactory in a test goes through no middleware: pass "
            "it through GiosgMiddleware, or test with the test client).",
            name="giosg",
            obj=request,
        )


def managed_giosg(request: HttpRequest, held: list[Giosg | None]) -> Giosg:
    """The ``Giosg`` of a request the middleware saw (``held``: its ``MANAGED`` list), made
    now if nothing needed it yet, and then ``request.giosg`` unless a view set its own."""
    giosg = held[0]
    if giosg is None:
        giosg = held[0] = Giosg(request)
        request.__dict__.setdefault("giosg", giosg)
    return giosg


def install_request_giosg() -> None:
    """``HttpRequest.giosg`` (see ``_RequestGiosg``), once: from ``apps.ready`` and from the
    middleware (which may run for a project that left the app out of INSTALLED_APPS)."""
    if "giosg" not in HttpRequest.__dict__:
        HttpRequest.giosg = _RequestGiosg()  # type: ignore[attr-defined]


class GiosgHttpRequest(HttpRequest):
    """For type checkers: annotate a view's request with it to type ``request.giosg``
    (as django-htmx's ``HtmxHttpRequest`` does); at run time it is Django's own request."""

    giosg: Giosg


# Last: visit.py imports Giosg from here; ``visits.Visit`` is read when a visit is made (an
# import inside that method would run the import system on every request).
from . import visit as visits  # noqa: E402
