"""Sessions that end without ``logout()``: a cookie saying whom giosg knows this browser as.

giosg keeps its visitor (variables, chat) in the browser, beyond Django's session. When a
signed-in session ends without ``logout()`` (it expired, was deleted, or a password change
elsewhere ended it), no ``user_logged_out`` is sent, and the next person at that browser would
inherit the chat and the variables. So the middleware keeps a small cookie saying whom giosg
was told about: a fingerprint of the signed-in user (a keyed hash of the primary key: no
personal data), or nobody once that sign-in has ended, with the time it was written. A request
whose cookie names someone other than its user gets the logout calls queued before its view
runs, so that very page closes the chat.

Nothing a page script or a sibling subdomain can set makes giosg act (T5). Such a script can
add a cookie of the same name that the server never overwrites (one with ``Domain=``, one
scoped to a path), so:

- the value is signed by the server (``django.core.signing``, salted): a value that does not
  verify is ignored;
- with ``SESSION_COOKIE_SECURE``, the name has the ``__Host-`` prefix: browsers then refuse one
  with ``Domain=`` or a path other than ``/``, and a page script cannot overwrite the server's
  (HttpOnly);
- the Cookie header may carry the name more than once (it is read in full only then): a value
  that names the signed-in user means nothing ended; otherwise the newest value counts. The
  server rewrites its cookie whenever it disagrees, so its own is newer than anything planted
  before it. A valid value from another account (an attacker's own) planted into a browser
  costs a signed-in visitor nothing and an anonymous one a single logout round (the server
  cannot tell it from a real ended sign-in), never a second one;
- that is why an ended sign-in leaves "nobody" instead of deleting the cookie: a deletion would
  leave a planted value alone, to be acted on again on every page.

It outlives the session cookie that it watches, or a session the browser dropped (expired)
would go unnoticed: it lives ``SESSION_COOKIE_AGE`` plus a year, and is written again once half
that year has passed since it was, so however often Django re-sets the session cookie
(``SESSION_SAVE_EVERY_REQUEST``), this one expires later.

It costs nothing to a visitor who never signed in: nothing is read unless it, or a session, is
there, and it is never set for an anonymous visitor. With ``ENABLED`` false for a request
(consent refused) it is not set and not acted on, and one set before is deleted.
"""

from __future__ import annotations

import functools
import time
from typing import Any, NamedTuple, TypeGuard

from django.conf import settings
from django.core.signals import setting_changed
from django.core.signing import BadSignature, Signer
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

from . import js, shared_cache
from .calls import IDENTITY_CHANGED
from .conf import get_config
from .cross_tab import queue_logout
from .delivery import is_enabled
from .identity import logout_calls, unwrapped
from .memo import Memo
from .storage import keyed_session
from .visit import Visit

COOKIE_NAME = "giosg_django_user"
SIGNED_IN_COOKIE = js.NAMES["signedIn"]  # the page client's: someone is signed in (below)
# With SESSION_COOKIE_SECURE: the browser keeps it to this host, path "/" and HTTPS.
SECURE_COOKIE_NAME = "__Host-" + COOKIE_NAME
NOBODY = "-"  # the sign-in ended: giosg was told the logout
MARGIN = 365 * 24 * 3600  # seconds the cookie outlives the session cookie by, at least
# Written again after half the margin: it then still outlives any session cookie set since.
REWRITE_AFTER_MS = MARGIN * 1000 // 2
_SALT = "giosg_django.visitor_cookie"
_MARKS = "_giosg_visitor_marks"  # the request's verified values, read once
# (user, mark): at the request's start, the newest value named this user (the usual case).
_NAMES_USER = "_giosg_visitor_names_user"


class Mark(NamedTuple):
    """One verified value of the cookie."""

    who: str  # a fingerprint, or NOBODY
    written: int  # when the server wrote it, in ms since the epoch


# Each of these is an HMAC under a key derived from SECRET_KEY (three hashes), wanted on every
# page of a signed-in visitor, and depends on its input and SECRET_KEY alone: kept per process
# (``memo``), dropped when SECRET_KEY or its fallbacks change.
_FINGERPRINTS: Memo[str, str] = Memo(4096)
_VERIFIED: Memo[str, Mark | bool] = Memo(4096)  # value -> what it says, False: not ours
_VERIFIED_UP_TO = 256  # characters: ours are ~90, and a planted 4 kB value is not kept


@receiver(setting_changed, dispatch_uid="giosg_django.visitor_cookie.forget")
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        _FINGERPRINTS.clear()
        _VERIFIED.clear()
    if setting in _SESSION_SETTINGS:
        cookie_name.cache_clear()
        lifetime.cache_clear()


def fingerprint(user: Any) -> str:
    """Who the user is, as the cookie holds it: stable, unguessable without SECRET_KEY."""
    pk = str(user.pk)
    found = _FINGERPRINTS.get(pk)
    if found is None:
        since = _FINGERPRINTS.generation
        found = salted_hmac(_SALT, pk, algorithm="sha256").hexdigest()[:32]
        _FINGERPRINTS.put(pk, found, since=since)
    return found


# The session settings the cookie follows, read once (each read of ``settings`` goes through
# its lazy proxy) and again when a test overrides them.
_SESSION_SETTINGS = ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_AGE")


@functools.cache
def cookie_name() -> str:
    return SECURE_COOKIE_NAME if settings.SESSION_COOKIE_SECURE else COOKIE_NAME


@functools.cache
def lifetime() -> int:
    """Seconds the cookie lives, and how old a value may be and still count."""
    return int(settings.SESSION_COOKIE_AGE) + MARGIN


def _now() -> int:
    return int(time.time() * 1000)


def _signer() -> Signer:
    return Signer(salt=_SALT, algorithm="sha256")


def cookie_value(who: str, *, written: int | None = None) -> str:
    """The cookie's value for ``who`` (a fingerprint or NOBODY), written now by default."""
    return _signer().sign(f"{who}.{_now() if written is None else written}")


def read(value: str) -> Mark | None:
    """The value as the server wrote it, or ``None`` when the server did not write it (or it
    is older than the cookie's life)."""
    found = _VERIFIED.get(value)
    if found is None:
        since = _VERIFIED.generation
        found = _verify(value)
        if len(value) <= _VERIFIED_UP_TO:
            _VERIFIED.put(value, found, since=since)
    if not isinstance(found, Mark):
        return None  # False: the server did not write it
    return found if _now() - found.written <= lifetime() * 1000 else None


def _verify(value: str) -> Mark | bool:
    """What a value says, if the server wrote it (with SECRET_KEY or a fallback), else False."""
    try:
        who, _, written = _signer().unsign(value).partition(".")
        return Mark(who, int(written))
    except (BadSignature, ValueError):
        return False


def _values(request: HttpRequest) -> list[str]:
    """Every value of the cookie the request carries. ``request.COOKIES`` keeps one (the
    last); the header is parsed again, as Django does, only when the name occurs twice."""
    name = cookie_name()
    value = request.COOKIES.get(name)
    if value is None:
        return []
    header: str = request.META.get("HTTP_COOKIE", "")
    if header.count(name) < 2:
        return [value]
    chunks = (chunk.partition("=") for chunk in header.split(";"))
    return [each.strip() for key, _, each in chunks if key.strip() == name]


def marks(request: HttpRequest) -> list[Mark]:
    """The request's values of the cookie that the server wrote."""
    found: list[Mark] | None = request.__dict__.get(_MARKS)
    if found is None:
        values = _values(request)
        if len(values) == 1:  # the usual case: no list to filter
            mark = read(values[0])
            found = [] if mark is None else [mark]
        else:
            found = [mark for mark in map(read, values) if mark is not None]
        request.__dict__[_MARKS] = found
    return found


def _newest(found: list[Mark]) -> Mark | None:
    if len(found) < 2:  # the usual case
        return found[0] if found else None
    return max(found, key=lambda mark: mark.written)


def _names_someone(mark: Mark | None) -> TypeGuard[Mark]:
    """Whether a value is there and names a user (not NOBODY: a sign-in that ended)."""
    return mark is not None and mark.who != NOBODY


def may_act(request: HttpRequest) -> bool:
    """Whether the cookie names someone (it is then compared with the user)."""
    return _names_someone(_newest(marks(request)))


def is_on(request: HttpRequest) -> bool:
    """Only when a logout does something in the browser (CLOSE_CHAT/CLEAR_VARIABLES), and
    giosg is enabled for the request (``ENABLED``: consent)."""
    config = get_config()
    return bool(logout_calls(config)) and is_enabled(request, config)


def signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated)


def at_request_start(request: HttpRequest, visit: Visit, user: Any) -> None:
    """With the cookie present only: if it names someone other than ``user`` (anonymous, or
    another user), the session it was set for ended without logout(): queue what a logout
    queues, before the view, so this very response can carry it. Another user signed in gets
    the identity change too, so their identity replaces what was attached."""
    found = marks(request)
    latest = _newest(found)
    if not _names_someone(latest):
        return  # no user read: a visitor whose sign-in ended costs no session
    user = unwrapped(user)
    if signed_in(user):
        who = fingerprint(user)
        if latest.who == who:
            # The usual page of a signed-in visitor: at_response has nothing to change while
            # this user stays on the request (no login() or logout() in the view).
            request.__dict__[_NAMES_USER] = (user, latest)
            return
        for mark in found:  # an older value names this user (a planted one is newer)
            if mark.who == who:
                return
    if not is_on(request):
        return
    queue_logout(request, visit)
    if signed_in(user):
        visit.add(IDENTITY_CHANGED)


def has_session(request: HttpRequest) -> bool:
    """Whether the request may have a signed-in user: nobody is signed in without a session."""
    return keyed_session(request) is not None


def is_present(request: HttpRequest) -> bool:
    """Whether the request may carry the cookie (under either name: no settings read on
    every request; ``marks`` reads the one the settings give)."""
    cookies = request.COOKIES
    return COOKIE_NAME in cookies or SECURE_COOKIE_NAME in cookies


def needs_user(request: HttpRequest) -> bool:
    """Whether the response step has anything to look at: the cookie, or a session. Anything
    else is an anonymous visitor who never signed in, left untouched."""
    return is_present(request) or has_session(request)


def at_response(request: HttpRequest, response: HttpResponseBase, user: Any) -> None:
    """Keep the cookie naming the response's final user (after any login() or logout() in the
    view): written when someone signs in, or when a sign-in it names ended (then it names
    nobody), or when another value was newer; again once half its margin has passed."""
    if not needs_user(request):
        return
    if not is_on(request):  # asked once: ENABLED may be the project's callable
        if cookie_name() in request.COOKIES:
            _delete(request, response)
        return
    named = request.__dict__.get(_NAMES_USER)
    if (
        named is not None
        and named[0] is unwrapped(user)
        and _now() - named[1].written <= REWRITE_AFTER_MS
    ):
        # The newest value names this very user, and is recent: nothing to write (but the
        # page client's signal, for a browser whose cookie predates it).
        if SIGNED_IN_COOKIE not in request.COOKIES:
            _signal(request, response, True)
        return
    latest = _newest(marks(request))
    if not has_session(request) and not _names_someone(latest):
        return  # anonymous, and the cookie has nothing to change: no user read
    user = unwrapped(user)
    if signed_in(user):
        wanted = fingerprint(user)
        if latest is None or latest.who != wanted or _now() - latest.written > REWRITE_AFTER_MS:
            _write(request, response, wanted)
    elif _names_someone(latest):
        _write(request, response, NOBODY)


def _where() -> dict[str, Any]:
    # Host-only, also without __Host-: what giosg holds is this host's, and a cookie with
    # Domain= would reach (and let the sibling subdomains replay) the value.
    path = "/" if settings.SESSION_COOKIE_SECURE else settings.SESSION_COOKIE_PATH
    return {"path": path, "domain": None, "samesite": "Lax"}


def _write(request: HttpRequest, response: HttpResponseBase, who: str) -> None:
    response.set_cookie(
        cookie_name(),
        cookie_value(who),
        max_age=lifetime(),
        secure=bool(settings.SESSION_COOKIE_SECURE),
        httponly=True,
        **_where(),
    )
    _signal(request, response, who != NOBODY)


def _delete(request: HttpRequest, response: HttpResponseBase) -> None:
    response.delete_cookie(cookie_name(), **_where())
    _signal(request, response, False)


def _signal(request: HttpRequest, response: HttpResponseBase, signed_in: bool) -> None:
    """The page client's own signal, ``giosg_django_in`` (readable by the page, holding "1"):
    someone is signed in in this browser, so a page the same for everyone (``{% giosg_visitor
    cacheable %}``) asks the sync endpoint for the identity. It tells a page script nothing it
    could not see. Its response, and the cookie above, are this browser's alone: private."""
    if signed_in:
        response.set_cookie(
            SIGNED_IN_COOKIE,
            "1",
            max_age=lifetime(),
            secure=bool(settings.SESSION_COOKIE_SECURE),
            httponly=False,
            **_where(),
        )
    elif SIGNED_IN_COOKIE in request.COOKIES:
        response.delete_cookie(SIGNED_IN_COOKIE, **_where())
    shared_cache.make_private(request, response)
