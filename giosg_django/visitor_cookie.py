"""Sessions that end without ``logout()``: a marker cookie for whom giosg knows this browser as.

giosg keeps its visitor (variables, chat) in the browser, beyond Django's session. When a
signed-in session ends without ``logout()`` (it expired, was deleted, or a password change
elsewhere ended it), no ``user_logged_out`` is sent, and the next person at that browser would
inherit the chat and the variables. So the middleware keeps a small cookie holding a
fingerprint of the signed-in user (a keyed hash of the primary key: no personal data, and
HttpOnly: no page script reads it). A request whose cookie names someone other than its user
gets the logout calls queued before its view runs, so that very page closes the chat.

The cookie costs nothing to a visitor who never signed in: nothing is read unless it, or a
session, is there, and it is never set for an anonymous visitor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

from .calls import IDENTITY_CHANGED
from .conf import get_config
from .cross_tab import queue_logout
from .identity import logout_calls
from .visit import Visit

COOKIE_NAME = "giosg_django_user"
_SALT = "giosg_django.visitor_cookie"


def fingerprint(user: Any) -> str:
    """Who the user is, as the cookie holds it: stable, unguessable without SECRET_KEY."""
    return salted_hmac(_SALT, str(user.pk), algorithm="sha256").hexdigest()[:32]


def is_on() -> bool:
    """Only when a logout does something in the browser (CLOSE_CHAT/CLEAR_VARIABLES)."""
    return bool(logout_calls(get_config()))


def signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated)


def at_request_start(request: HttpRequest, visit: Visit, user: Any) -> None:
    """With the cookie present only: if it names someone other than ``user`` (anonymous, or
    another user), the session it was set for ended without logout(): queue what a logout
    queues, before the view, so this very response can carry it. Another user signed in gets
    the identity change too, so their identity replaces what was attached."""
    marked = request.COOKIES.get(COOKIE_NAME)
    if not marked or not is_on():
        return
    if signed_in(user) and fingerprint(user) == marked:
        return
    queue_logout(request, visit)
    if signed_in(user):
        visit.add(IDENTITY_CHANGED)


def needs_user(request: HttpRequest) -> bool:
    """Whether the response step must know the user: with the cookie, or a session (nobody is
    signed in without one). Anything else is an anonymous visitor, left untouched."""
    if COOKIE_NAME in request.COOKIES:
        return True
    session = getattr(request, "session", None)
    return session is not None and session.session_key is not None


def at_response(request: HttpRequest, response: HttpResponseBase, user: Any) -> None:
    """Keep the cookie naming the response's final user (after any login() or logout() in the
    view): set or updated while someone is signed in, deleted once nobody is."""
    marked = request.COOKIES.get(COOKIE_NAME)
    wanted = fingerprint(user) if signed_in(user) and is_on() else None
    if wanted == marked:
        return
    if wanted is not None:
        response.set_cookie(
            COOKIE_NAME,
            wanted,
            # As long as a session lives: a session that ends before is what it detects.
            max_age=settings.SESSION_COOKIE_AGE,
            path=settings.SESSION_COOKIE_PATH,
            domain=settings.SESSION_COOKIE_DOMAIN,
            secure=bool(settings.SESSION_COOKIE_SECURE),
            httponly=True,
            samesite="Lax",
        )
    elif marked is not None:
        response.delete_cookie(
            COOKIE_NAME,
            path=settings.SESSION_COOKIE_PATH,
            domain=settings.SESSION_COOKIE_DOMAIN,
            samesite="Lax",
        )
