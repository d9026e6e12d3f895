"""Django's per-view cache (``cache_page``) and per-site cache (UpdateCacheMiddleware,
FetchFromCacheMiddleware, CacheMiddleware) never store a response that carries one visitor's
giosg data (identity, a signed token, pending calls), whatever the middleware order, on the sync
and the async path; a page without such data is still cached as before.

The views and URLs live here (``pytest.mark.urls``): each page shows how many times the view
rendered it, so a test can tell a page served from the cache from a fresh one."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from django.views.decorators.cache import cache_page

from giosg_django import js

from .support.cases import KEY

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

SOURCE = (
    "{% load giosg %}<!doctype html><html><head><meta charset='utf-8'>{% giosg_visitor %}"
    "</head><body><p id='body'>{{ body }}</p></body></html>"
)
NO_TAG = "<!doctype html><html><head></head><body><p id='body'>{{ body }}</p></body></html>"
RENDERS = itertools.count()


def context() -> dict[str, str]:
    return {"body": f"render {next(RENDERS)}"}


def rendered_page(request: HttpRequest) -> HttpResponse:
    """The template rendered inside the view (``render()``/``render_to_string``)."""
    return HttpResponse(engines["django"].from_string(SOURCE).render(context(), request))


def template_page(request: HttpRequest) -> TemplateResponse:
    """Rendered after the view, by the handler (a TemplateResponse)."""
    return TemplateResponse(request, engines["django"].from_string(SOURCE), context())


async def async_rendered_page(request: HttpRequest) -> HttpResponse:
    template = engines["django"].from_string(SOURCE)
    return HttpResponse(await sync_to_async(template.render)(context(), request))


async def async_template_page(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(request, engines["django"].from_string(SOURCE), context())


def queue_goal(request: HttpRequest) -> JsonResponse:
    request.giosg.goal.matches("anonymous-goal")  # type: ignore[attr-defined]
    return JsonResponse({})


def no_tag_page(request: HttpRequest) -> HttpResponse:
    """A page without {% giosg_visitor %} (as Django admin's "Logged out" page)."""
    return HttpResponse(engines["django"].from_string(NO_TAG).render(context(), request))


def log_out(request: HttpRequest) -> JsonResponse:
    logout(request)
    request.session["theme"] = "dark"  # the site keeps its own data in the new session
    return JsonResponse({})


def fragment(request: HttpRequest) -> HttpResponse:
    """What an htmx request gets: the calls then travel in its HX-Trigger header."""
    return HttpResponse(f"<p id='out'>render {next(RENDERS)}</p>")


VIEWS: dict[str, Callable[..., Any]] = {
    "render": rendered_page,
    "template": template_page,
    "async-render": async_rendered_page,
    "async-template": async_template_page,
}
urlpatterns = [
    *(path(f"view/{name}/", cache_page(60)(view)) for name, view in VIEWS.items()),
    *(path(f"site/{name}/", view) for name, view in VIEWS.items()),
    path("queue/", queue_goal),
    path("logout/", log_out),
    path("view/no-tag/", cache_page(60)(no_tag_page)),
    path("site/no-tag/", no_tag_page),
    path("fragment/", cache_page(60)(fragment)),
    path("site/fragment/", fragment),
]


class PublicPages:
    """A site's own middleware that stamps every page cacheable for ten minutes, overwriting
    the Cache-Control giosg set (what a CDN-minded site may do)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        response["Cache-Control"] = "public, max-age=600"
        return response


CACHE = "django.middleware.cache"
UPDATE, FETCH, BOTH = (
    f"{CACHE}.UpdateCacheMiddleware",
    f"{CACHE}.FetchFromCacheMiddleware",
    f"{CACHE}.CacheMiddleware",
)
BASE = list(settings.MIDDLEWARE)  # ..., SessionMiddleware, ..., GiosgMiddleware last
SITE_ORDERS = {
    # Django's documented order: the cache around everything (giosg's Cache-Control: private
    # already keeps these out).
    "update-outside": [UPDATE, *BASE, FETCH],
    "both-outside": [BOTH, *BASE],
    # The cache inside giosg: it sees the response before giosg marks it private.
    "update-inside": [*BASE, UPDATE, FETCH],
    "both-inside": [*BASE, BOTH],
    # Inside the session middleware (no Vary: Cookie) but outside giosg.
    "update-inside-session": [*BASE[:-1], UPDATE, BASE[-1], FETCH],
    # The same, with a middleware between that makes every page public again.
    "update-public": [*BASE[:-1], UPDATE, f"{__name__}.PublicPages", BASE[-1], FETCH],
}


@pytest.fixture(autouse=True)
def fresh_cache() -> Any:
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        GIOSG={**settings.GIOSG, "SIGNING_KEY": KEY},
    ):
        caches["default"].clear()
        yield
        caches["default"].clear()


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", "bob@example.com", "pw")


class Visitor:
    """One browser, through the test client (WSGI handler) or the async one (ASGI handler)."""

    def __init__(self, kind: str, user: Any = None) -> None:
        self.kind = kind
        self.client: Any = AsyncClient() if kind == "async" else Client()
        if user is not None:
            if kind == "async":
                async_to_sync(self.client.aforce_login)(user)
            else:
                self.client.force_login(user)

    def get(self, url: str, **headers: Any) -> Any:
        if self.kind == "async":
            return async_to_sync(self.client.get)(url, headers=headers)
        return self.client.get(url, headers=headers)


def seen(js_engine: Any, response: Any) -> tuple[str | None, list[str], str]:
    """Who giosg is told the visitor is (the signed token's username), the goals the page
    sends, and the page's render stamp."""
    assert response.status_code == 200
    html = response.content.decode()
    result = js_engine.run(html)
    assert result.errors == []
    calls = result.calls or []
    submits = [args for args in calls if args[:2] == ["visitor", "submit"]]
    who = None
    if submits:
        [submit] = submits
        who = jwt.decode(submit[2], KEY, algorithms=["HS256"])["username"]
    goals = [args[2] for args in calls if args[:2] == ["goal", "matches"]]
    stamp = html.split("<p id='body'>", 1)[1].split("<", 1)[0]
    return who, goals, stamp


def each_gets_only_their_own(js_engine: Any, url: str, kind: str, ada: Any, bob: Any) -> None:
    """Ada, then Bob, then two anonymous visitors, then Ada and Bob again."""
    ada_browser, bob_browser = Visitor(kind, ada), Visitor(kind, bob)
    assert seen(js_engine, ada_browser.get(url))[0] == "Ada Lovelace"
    assert seen(js_engine, bob_browser.get(url))[0] == "bob"
    anonymous = seen(js_engine, Visitor(kind).get(url))
    assert anonymous[0] is None
    # A page with no user data is still cached: the second visitor gets the same render.
    assert seen(js_engine, Visitor(kind).get(url)) == anonymous
    # Ada and Bob may now get the anonymous page from the cache, never each other's.
    assert seen(js_engine, ada_browser.get(url))[0] in ("Ada Lovelace", None)
    assert seen(js_engine, bob_browser.get(url))[0] in ("bob", None)


def anonymous_calls_stay_with_their_visitor(js_engine: Any, url: str, kind: str) -> None:
    """An anonymous visitor's pending goal is user data too: another visitor never gets it."""
    first = Visitor(kind)
    first.get("/queue/")
    assert seen(js_engine, first.get(url))[1] == ["anonymous-goal"]
    assert seen(js_engine, Visitor(kind).get(url))[1] == []


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_cache_page_never_serves_one_visitors_identity_to_another(
    js_engine: Any, ada: Any, bob: Any, view: str, kind: str
) -> None:
    """T2: a @cache_page view with {% giosg_visitor %} stored Ada's page (her name and a token
    giosg accepts) inside the view, before giosg marked it private, and served it to Bob and
    to anonymous visitors."""
    each_gets_only_their_own(js_engine, f"/view/{view}/", kind, ada, bob)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_cache_page_never_serves_one_visitors_pending_calls_to_another(
    js_engine: Any, view: str, kind: str
) -> None:
    """T2: an anonymous visitor's pending calls on a @cache_page view reach no one else."""
    anonymous_calls_stay_with_their_visitor(js_engine, f"/view/{view}/", kind)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("view", ["render", "template"])
@pytest.mark.parametrize("order", list(SITE_ORDERS))
def test_the_per_site_cache_never_serves_one_visitors_identity_to_another(
    js_engine: Any, ada: Any, bob: Any, order: str, view: str, kind: str
) -> None:
    """T2: the per-site cache, in Django's order or inside GiosgMiddleware, never stores a
    page carrying a visitor's identity or pending calls."""
    with override_settings(MIDDLEWARE=SITE_ORDERS[order]):
        each_gets_only_their_own(js_engine, f"/site/{view}/", kind, ada, bob)
        caches["default"].clear()
        anonymous_calls_stay_with_their_visitor(js_engine, f"/site/{view}/", kind)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("order", ["view", *SITE_ORDERS])
def test_an_htmx_response_with_a_visitors_calls_is_not_cached(
    js_engine: Any, order: str, kind: str
) -> None:
    """T2, T7: calls delivered in an htmx response's HX-Trigger header (added by
    GiosgMiddleware after the view) are never served again from a cache, to this visitor or
    another, even when a middleware between the cache and giosg makes every page public."""
    url = "/fragment/" if order == "view" else "/site/fragment/"
    middleware = BASE if order == "view" else SITE_ORDERS[order]
    with override_settings(MIDDLEWARE=middleware):
        first = Visitor(kind)
        first.get("/queue/")
        delivered = first.get(url, HX_Request="true")
        assert "anonymous-goal" in delivered["HX-Trigger"]
        # Not again for this visitor (exactly once), nor for anyone else.
        assert "HX-Trigger" not in first.get(url, HX_Request="true")
        other = Visitor(kind).get(url, HX_Request="true")
        assert "HX-Trigger" not in other
        # Without calls to deliver, the fragment is cached as before.
        assert Visitor(kind).get(url, HX_Request="true").content == other.content


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("order", ["view", *SITE_ORDERS])
def test_the_logout_notice_on_a_page_without_the_tag_is_not_cached(
    js_engine: Any, ada: Any, order: str, kind: str
) -> None:
    """T2: the logout notice (the page client and this visitor's logout time, inserted into a
    page without the tag) is this visitor's data, as a rendered tag is: no Django cache
    stores it, behind cache_page or the per-site cache in any order, even when a middleware
    between the cache and giosg makes every page public. Else the same browser (its cookies
    unchanged: the site keeps data in its session) would get the notice again after the
    logout calls were delivered, telling its other tabs of a logout long past; and so would
    another visitor with the same cookies."""
    url = "/view/no-tag/" if order == "view" else "/site/no-tag/"
    with override_settings(MIDDLEWARE=BASE if order == "view" else SITE_ORDERS[order]):
        browser = Visitor(kind, ada)
        browser.get("/logout/")
        noticed = browser.get(url).content.decode()
        assert js.CLIENT_GLOBAL in noticed
        result = js_engine.run(noticed)
        assert result.errors == [] and js.STORAGE_KEY in result.storage

        closed = js_engine.run(browser.get("/site/render/").content.decode()).calls
        assert ["chat", "close", {"hide": True}] in (closed or [])
        assert js.CLIENT_GLOBAL not in browser.get(url).content.decode()
        assert js.CLIENT_GLOBAL not in Visitor(kind).get(url).content.decode()


# --- make_private, on the headers dict or through Django's public API -------------------------


class _OpaqueStore(dict[str, Any]):
    """A stand-in for a future ResponseHeaders whose store is not a plain dict: make_private
    must then use has_header() and response[...] (its fallback)."""


@pytest.mark.parametrize("store", ["dict", "not a dict"])
@pytest.mark.parametrize(
    ("before", "cache_control", "vary"),
    [
        ({}, "private", "Cookie"),
        ({"Cache-Control": "max-age=60"}, "max-age=60, private", "Cookie"),
        ({"Vary": "Accept-Language"}, "private", "Accept-Language, Cookie"),
        (
            {"Cache-Control": "public, max-age=60", "Vary": "Cookie"},
            "max-age=60, private",
            "Cookie",
        ),
    ],
)
def test_make_private_on_any_headers(
    store: str, before: dict[str, str], cache_control: str, vary: str
) -> None:
    from django.test import RequestFactory

    from giosg_django.shared_cache import make_private

    response = HttpResponse("page", headers=before)
    if store == "not a dict":
        headers = response.headers
        headers._store = _OpaqueStore(headers._store)  # type: ignore[attr-defined]
    request = RequestFactory().get("/")
    request._cache_update_cache = True  # type: ignore[attr-defined]
    make_private(request, response)
    assert response["Cache-Control"] == cache_control
    assert response["Vary"] == vary
    assert request._cache_update_cache is False  # type: ignore[attr-defined]
    assert [name for name in response.headers if name.lower() == "vary"] == ["Vary"]


@pytest.mark.parametrize("accessed", [True, False])
def test_vary_cookie_is_left_to_session_middleware_when_it_adds_it(accessed: bool) -> None:
    """SessionMiddleware adds ``Vary: Cookie`` to the response of a request whose session was
    accessed (every signed-in visitor's): make_private leaves it to it then, and adds it
    otherwise. Either way the response leaves the stack with it, exactly once."""
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    from giosg_django.shared_cache import make_private

    request = RequestFactory().get("/")

    def view(request: HttpRequest) -> HttpResponse:
        if accessed:
            request.session.get("anything")
        response = HttpResponse("page")
        make_private(request, response)
        if accessed:
            assert not response.has_header("Vary")  # SessionMiddleware's, below
        else:
            assert response["Vary"] == "Cookie"
        return response

    response = SessionMiddleware(view)(request)
    assert response["Vary"] == "Cookie" and response["Cache-Control"] == "private"
