"""``request.giosg``: giosg's calls from Python, queued for the visitor's next page.

``request.giosg.goal.matches(goal_id, value=10)`` mirrors ``giosg.api.goal.matches``. Each
method validates its arguments at the call site (see :mod:`giosg_django.calls`) and adds the
call to this request's queue; the middleware keeps what no page rendered in the session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from . import calls
from .calls import Call
from .conf import get_config

P = ParamSpec("P")


class _Module:
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
    """The giosg state of one request, and the API to queue calls (``request.giosg``)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        # Calls loaded from the session followed by calls queued during this request, in order.
        self.pending: list[Call] = []
        self.stored_any = False  # the session held a value under our key (even a corrupt one)
        self.session_key_before: str | None = None  # when giosg writes the session itself
        # Each rendered script holding pending calls, with how many calls it covers so far.
        self.rendered: list[tuple[str, int]] = []
        # The user as resolved on the async path (``await request.auser()``), else None.
        self.user: Any = None
        # Whether {% giosg_visitor %} ran for this response, and whether the view is
        # giosg_exempt: either keeps AUTO_INJECT away.
        self.visitor_rendered = False
        self.exempt = False
        # How many pending calls the response delivered (set by the middleware at the end), and
        # how many went in an htmx response's HX-Trigger header (None: not an htmx delivery).
        self.delivered = 0
        self.delivered_by_header: int | None = None

    # Made on first use: most requests never queue a call, and this object is made for each.
    @functools.cached_property
    def visitor(self) -> VisitorAPI:
        return VisitorAPI(self)

    @functools.cached_property
    def room(self) -> RoomAPI:
        return RoomAPI(self)

    @functools.cached_property
    def chat(self) -> ChatAPI:
        return ChatAPI(self)

    @functools.cached_property
    def call(self) -> CallAPI:
        return CallAPI(self)

    @functools.cached_property
    def goal(self) -> GoalAPI:
        return GoalAPI(self)

    def __repr__(self) -> str:
        return f"<Giosg pending={[call.name for call in self.pending]}>"

    def add(self, call: Call) -> None:
        if call.sign is True and get_config().signing_key(self.request) is None:
            raise ImproperlyConfigured(
                f"{call.name}(signed=True) needs GIOSG['SIGNING_KEY'], which is not set"
            )
        self.pending.append(call)

    def restore(self, loaded: tuple[list[Call], bool]) -> None:
        """Put calls loaded from the session (``pending.load``) before those queued so far."""
        stored, self.stored_any = loaded
        self.pending[:0] = stored

    @property
    def rendered_upto(self) -> int:
        return self.rendered[-1][1] if self.rendered else 0

    def unrendered(self) -> list[Call]:
        return self.pending[self.rendered_upto :]

    def mark_rendered(self, html: str, upto: int) -> None:
        self.rendered.append((html, upto))


def get_giosg(request: Any) -> Giosg | None:
    """``request.giosg`` when the middleware set it up, else ``None``."""
    giosg = getattr(request, "giosg", None)
    return giosg if isinstance(giosg, Giosg) else None


class GiosgHttpRequest(HttpRequest):
    """For type checkers: annotate a view's request with it to type ``request.giosg``
    (as django-htmx's ``HtmxHttpRequest`` does); at run time it is Django's own request."""

    giosg: Giosg
