"""Pages that do not reload: the sync endpoint and the hint that tells the page client to call it.

``path("giosg/", include("giosg_django.urls"))`` routes :func:`sync`
(``reverse("giosg_django:sync")``). A ``POST`` (CSRF-protected like any Django POST) answers
``{"calls": [...], "upTo": n}``: the calls waiting for this visitor, in order, then the signed-in
user's identity, signed now (``replace_existing`` after a change of user), as JSON data
(``[module, method, ...args]``, a top-level ``null`` standing for ``undefined``), exactly what
a full page would have rendered; the middleware then uses them up, exactly once, as for a page.
``Cache-Control: no-store``; with ``ENABLED`` false for the request, no call, and nothing is
used up.

The hint: a response that leaves calls waiting for a later page (a ``fetch()`` that queued a
goal, a JSON login or logout) sets the cookie ``giosg_django_sync`` (readable by the page, and
holding nothing but a number; ``__Host-`` first with ``SESSION_COOKIE_SECURE``) to a value
above the one the request carried. The page client compares it with the value its page was
rendered with, or its last sync asked with, after each request the page makes, and syncs when
it differs: no request at all while nothing waits, and a sync that fails is not repeated until
the hint changes again. Both sides read the largest value the browser sends, so a copy a page
script adds (another path, a ``Domain=``) costs a sync at most, and silences none.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.middleware.csrf import get_token
from django.test.signals import setting_changed
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from . import htmx, js, shared_cache
from .calls import IDENTITY_CHANGED
from .conf import get_config
from .delivery import call_data, is_enabled
from .faults import contained
from .identity import identity_calls
from .visit import Visit, visit_for_render

HINT_COOKIE = js.NAMES["hint"]
SECURE_HINT_COOKIE = "__Host-" + HINT_COOKIE


@never_cache
@require_POST
@csrf_protect
def sync(request: HttpRequest) -> JsonResponse:
    """The sync endpoint (see the module docstring)."""
    config = get_config()
    visit = visit_for_render(request)
    if visit is None or not is_enabled(request, config):
        return JsonResponse({"calls": []})
    # The batch an htmx response would carry, without a header's budget: the waiting calls in
    # order, then the identity with replace_existing after a change of user (its marker), else
    # the identity as a page renders it.
    changed = IDENTITY_CHANGED in visit.batch()
    items, used = htmx.batch(request, visit, sys.maxsize)
    if not changed:
        with _IDENTITY_FAILED:
            items.extend(
                call_data(call, request, config)
                for call in identity_calls(request, config, replace=False)
            )
    visit.sent_as_data(items, used)
    return JsonResponse({"calls": items, "upTo": hint_of(request)})


_IDENTITY_FAILED = contained("rendering the identity for the sync endpoint")


def hint_of(request: HttpRequest) -> int:
    """The hint the request carried (0: none): the largest of its values under either name, as
    the page client reads it. The Cookie header may carry the name more than once (a copy a
    page script added, with another path or a Domain=); the next hint is above them all."""
    header = request.META.get("HTTP_COOKIE", "")
    if HINT_COOKIE not in header:
        return 0
    largest = 0
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name in (HINT_COOKIE, SECURE_HINT_COOKIE) and value.isdigit() and len(value) < 20:
            largest = max(largest, int(value))
    return largest


def hint_name() -> str:
    # With SESSION_COOKIE_SECURE, __Host-: no copy with a Domain= or another path is accepted
    # by the browser under that name.
    return SECURE_HINT_COOKIE if settings.SESSION_COOKIE_SECURE else HINT_COOKIE


def is_turbo_visit(request: HttpRequest | None) -> bool:
    """A request Turbo made (a Drive visit, a frame, a form): Turbo runs no inline script of
    the new page but the new ones of its head, so the page's calls and identity come through
    the sync endpoint instead (``render``), once Turbo rendered it."""
    return request is not None and "HTTP_X_TURBO_REQUEST_ID" in request.META


def at_response(request: HttpRequest, response: HttpResponseBase, visit: Visit) -> None:
    """Hint, when the page client can sync: the request queued a call that now waits (calls
    that only waited on, as with ``ENABLED`` false, do not: a sync answered with nothing would
    be hinted to sync again), or the page left its calls and identity to a sync (Turbo)."""
    if not (visit.sync_wanted or (visit.stored and _queued_one_that_waits(visit))):
        return
    if sync_url(request) is None:
        return
    with _HINT_FAILED:
        value = max(hint_of(request) + 1, int(time.time() * 1000))
        response.set_cookie(
            hint_name(),
            str(value),
            max_age=settings.SESSION_COOKIE_AGE,
            path="/",
            secure=bool(settings.SESSION_COOKIE_SECURE),
            httponly=False,  # the page client reads it: a number, nothing else
            samesite="Lax",
        )
        # The client sends Django's CSRF token with its POST: make sure the browser has one
        # (CsrfViewMiddleware sets the cookie on this response, when it is installed).
        get_token(request)
        # A cookie of this browser's: no shared cache may hand the response to another.
        shared_cache.make_private(request, response)


_HINT_FAILED = contained("setting the giosg sync hint")


def _queued_one_that_waits(visit: Visit) -> bool:
    delivered = visit.delivered
    return any(index not in delivered for index in range(visit.loaded, len(visit.calls)))


def sync_url(request: HttpRequest | None) -> str | None:
    """The endpoint's URL for this request's URLconf, ``None`` when it is not routed."""
    if request is None:
        return None
    return _sync_url(*_url_key(request))


def _url_key(request: HttpRequest) -> tuple[Any, str]:
    # What reverse() depends on, read from the request itself: the URLconf the handler set
    # (the request's own, else ROOT_URLCONF) and the script prefix it set from SCRIPT_NAME
    # (its thread-local getters cost more than the rest of this lookup).
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return urlconf, request.META.get("SCRIPT_NAME", "")


@functools.lru_cache(maxsize=64)
def _sync_url(urlconf: Any, script_name: str) -> str | None:
    # reverse() is slow, and asked on every page: its answer depends only on these two (and on
    # ROOT_URLCONF, whose change clears this cache).
    try:
        return reverse("giosg_django:sync", urlconf=urlconf)
    except NoReverseMatch:
        return None


# The settings the cached URL and page data are made from.
_READ_ONCE = frozenset(
    {
        "ROOT_URLCONF",
        "CSRF_USE_SESSIONS",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_NAME",
        "CSRF_HEADER_NAME",
    }
)


@receiver(setting_changed, dispatch_uid="giosg_django.sync.urlconf_changed")
def _urlconf_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _READ_ONCE:
        _sync_url.cache_clear()
        _client_data_start.cache_clear()


def client_data(request: HttpRequest | None, *, seen: int | None = None) -> str:
    """What the page client needs to sync, as the glue's ``"sync"`` member (``""``: no
    endpoint): the endpoint's URL, Django's CSRF cookie and header names, and the hint this
    page has its calls up to (``seen``: the one the request carried, by default)."""
    if request is None:
        return ""
    start = _client_data_start(*_url_key(request))
    if not start:
        return ""
    return start + str(hint_of(request) if seen is None else seen) + "}"


@functools.lru_cache(maxsize=64)
def _client_data_start(urlconf: Any, script_name: str) -> str:
    # Made once per URLconf and prefix: every page carries it.
    url = _sync_url(urlconf, script_name)
    if url is None:
        return ""
    data = {"url": url, **csrf_names()}
    return ',"sync":' + js.dumps(data)[:-1] + ',"seen":'


def csrf_names() -> dict[str, str | None]:
    """Where the page client finds Django's CSRF token (its cookie, unless the cookie is
    HttpOnly or the token lives in the session) and the header it sends it in."""
    readable = not (settings.CSRF_USE_SESSIONS or settings.CSRF_COOKIE_HTTPONLY)
    return {
        "csrfCookie": settings.CSRF_COOKIE_NAME if readable else None,
        "csrfHeader": settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-"),
    }
