"""The middleware's steps for the ends of a visitor's sign-in that giosg would otherwise miss:
a session that ended without ``logout()`` (``visitor_cookie``) and a logout that lands on a
page without the tag (``cross_tab``). Both are contained: a fault here never fails a response.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase

from . import cross_tab, inject, visitor_cookie
from .conf import get_config
from .faults import contained
from .visit import Visit

# Made once (``contained`` holds no state of its own): both run on every request.
_START_FAILED = contained("checking for a sign-in that ended")
_END_FAILED = contained("marking the end of a sign-in")


# Whether a step may call the project's ENABLED callable, which may query the database: the
# async path runs it in a thread then. Only when the cookie may be acted on (at the start) or
# written (at the end), and only when ENABLED is not a constant.


def _enabled_is_code() -> bool:
    enabled = get_config()["ENABLED"]
    return isinstance(enabled, str) or callable(enabled)


def start_calls_project_code(request: HttpRequest) -> bool:
    with _START_FAILED:
        return visitor_cookie.may_act(request) and _enabled_is_code()
    return False


def end_calls_project_code(request: HttpRequest) -> bool:
    with _END_FAILED:
        return visitor_cookie.needs_user(request) and _enabled_is_code()
    return False


def is_quiet(request: HttpRequest) -> bool:
    """A visitor with nothing stored and no sign-in to watch (anonymous, and never signed in
    in this browser): most requests, which then skip every giosg step but the view's own."""
    # get_config().storage is get_storage(), one call less on every request.
    storage = get_config().storage
    return not storage.may_hold(request) and not visitor_cookie.is_present(request)


def at_request_start(request: HttpRequest, visit: Visit, user: Any) -> None:
    """Before the view, with the waiting calls loaded; ``user`` is ``request.user`` (lazy) on
    the sync path, the one ``auser()`` gave on the async path, ``None`` when unknown. Without
    the cookie and with nothing waiting (most requests), there is nothing to look at."""
    acts = user is not None and visitor_cookie.is_present(request)
    if acts or visit.calls:
        with _START_FAILED:
            if acts:
                visitor_cookie.at_request_start(request, visit, user)
            if visit.calls:  # loaded, or queued just now by a sign-in that ended
                cross_tab.at_request_start(request, visit)


def at_response(request: HttpRequest, visit: Visit, response: HttpResponseBase, user: Any) -> None:
    """After the view and giosg's own rendering: the cookie naming the response's final user
    (only with a session or the cookie), and the logout notice for a page (only while calls
    wait)."""
    if user is not None:  # at_response returns at once without a session or the cookie
        with _END_FAILED:
            visitor_cookie.at_response(request, response, user)
    if visit.calls:
        with _END_FAILED:
            if inject.is_page(request, response):
                cross_tab.insert_notice(request, visit, response)
