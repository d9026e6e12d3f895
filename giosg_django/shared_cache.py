"""Keeping a response that carries one visitor's giosg data out of shared caches
(``make_private``) and out of Django's own page caches (``keep_out``).

The middleware marks such a response ``Cache-Control: private`` and ``Vary: Cookie`` (the
latter left to SessionMiddleware when the session was accessed: it adds it then). That
comes too late for the caches that store the response before ``GiosgMiddleware`` sees it:
``cache_page``, which stores it inside the view once the template has rendered (for a
``TemplateResponse`` too: the decorator stores from a post-render callback), and the per-site
cache placed after ``GiosgMiddleware`` in ``MIDDLEWARE``. And a middleware between an outer
per-site cache and giosg may overwrite the header. Every one of them asks, in
``UpdateCacheMiddleware._should_update_cache`` (the same in Django 5.2, 6.0 and 6.1), the flag
that ``FetchFromCacheMiddleware.process_request`` sets on the request after a cache miss; giosg
clears it when a render puts this visitor's data on the page, and again when the middleware
finishes a response that carries it (an htmx header), so no Django cache stores it.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers

# Set by FetchFromCacheMiddleware (per-site, and cache_page's CacheMiddleware), read before
# every store.
UPDATE_CACHE_FLAG = "_cache_update_cache"


def keep_out(request: HttpRequest | None) -> None:
    """The response to ``request`` carries this visitor's giosg data: Django's cache
    middleware must not store it (this response only: other pages are cached as before)."""
    if request is not None:
        setattr(request, UPDATE_CACHE_FLAG, False)


def make_private(request: HttpRequest, response: HttpResponseBase) -> None:
    """The response carries this visitor's giosg data (a rendered identity or calls, an htmx
    header, the logout notice): no shared cache may keep it (``Cache-Control: private``,
    ``Vary: Cookie``, which SessionMiddleware adds when the session was accessed), nor
    Django's per-site cache before ``GiosgMiddleware``, whatever Cache-Control says by then.
    The one helper every such path uses."""
    keep_out(request)
    if not _add_if_missing(response, "Cache-Control", "private"):
        patch_cache_control(response, private=True)
    if not _sessions_add_vary(request) and not _add_if_missing(response, "Vary", "Cookie"):
        patch_vary_headers(response, ("Cookie",))


def _add_if_missing(response: HttpResponseBase, name: str, value: str) -> bool:
    """Set the header ``name`` unless the response has it; whether it was set. Django's
    ResponseHeaders keeps each header as (name, value) under its lower-cased name, used
    directly when it is there: has_header() raises and catches a KeyError for a header that
    is missing (the usual case, on every page of a signed-in visitor), and setting one
    re-checks these constant ASCII values."""
    store = getattr(response.headers, "_store", None)
    if type(store) is dict:
        key = name.lower()
        if key in store:
            return False
        store[key] = (name, value)
        return True
    if response.has_header(name):
        return False
    response[name] = value
    return True


def _sessions_add_vary(request: HttpRequest) -> bool:
    """Whether Django's SessionMiddleware, which comes before GiosgMiddleware (``giosg.E007``)
    and so sees the response after it, adds ``Vary: Cookie`` itself: it does to the response
    of every request whose session was accessed, as every signed-in visitor's is. Adding it
    here as well would make it parse and write the header a second time on each such page."""
    session = getattr(request, "session", None)
    return isinstance(session, SessionBase) and session.accessed
