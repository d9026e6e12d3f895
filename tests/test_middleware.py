"""``GiosgMiddleware`` on the sync and the async (ASGI) path."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import AsyncClient, Client, RequestFactory

from giosg_django.api import Giosg, MiddlewareMissing
from giosg_django.middleware import GiosgMiddleware

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.each_storage]


def page_goals(js_engine: Any, response: Any) -> list[str]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return [args[2] for args in result.calls or [] if args[:2] == ["goal", "matches"]]


def test_the_middleware_adapts_to_sync_and_async_chains() -> None:
    def sync_view(request: Any) -> HttpResponse:
        return HttpResponse()

    async def async_view(request: Any) -> HttpResponse:
        return HttpResponse()

    assert not iscoroutinefunction(GiosgMiddleware(sync_view))
    assert iscoroutinefunction(GiosgMiddleware(async_view))


def test_request_giosg_is_set() -> None:
    seen = []
    middleware = GiosgMiddleware(lambda request: seen.append(request.giosg) or HttpResponse())
    request = RequestFactory().get("/")
    middleware(request)
    assert isinstance(seen[0], Giosg)


def test_async_path_queues_and_delivers_exactly_once(js_engine: Any) -> None:
    async def visit() -> list[Any]:
        client = AsyncClient()
        await client.get("/async/queue/a/")
        await client.get("/async/queue/b/")
        return [await client.get("/async/page/"), await client.get("/page/")]

    first, second = async_to_sync(visit)()
    assert page_goals(js_engine, first) == ["a", "b", "from-async-page"]
    assert page_goals(js_engine, second) == []


def test_sync_path_behaves_the_same(js_engine: Any) -> None:
    client = Client()
    client.get("/async/queue/a/")
    client.get("/queue/b/json/")
    assert page_goals(js_engine, client.get("/async/page/")) == ["a", "b", "from-async-page"]
    assert page_goals(js_engine, client.get("/page/")) == []


# --- what a request that needs nothing costs ----------------------------------------------


def test_an_anonymous_visitor_with_nothing_waiting_makes_no_visit() -> None:
    """No session key, no giosg cookie: no store read, no sign-in step, no Visit made; the
    response is the view's own."""
    request = RequestFactory().get("/")
    request.session = SessionStore()
    answer = HttpResponse("{}", content_type="application/json")
    assert GiosgMiddleware(lambda request: answer)(request) is answer
    assert isinstance(request.giosg, Giosg) and request.giosg._started is None
    assert not answer.has_header("Cache-Control") and not answer.cookies
    assert not request.session.accessed


def test_the_visit_is_made_on_first_use_and_then_kept() -> None:
    seen = []

    def view(request: Any) -> HttpResponse:
        request.giosg.goal.matches("g")
        seen.append(request.giosg._started)
        return HttpResponse()

    request = RequestFactory().get("/")
    GiosgMiddleware(view)(request)
    assert seen[0] is not None and request.giosg._visit is seen[0]
    assert [call.name for call in seen[0].calls] == ["goal.matches"]


def test_auto_inject_switched_on_after_the_middleware_loaded_keeps_the_csp_nonce() -> None:
    """process_view reads AUTO_INJECT on each request: switched on once the middleware chain
    was loaded (a test's override_settings), the nonce still exists before an inner CSP
    middleware writes its header, and the injected script carries it."""
    pytest.importorskip("csp")
    import re

    from csp.constants import NONCE, SELF
    from django.conf import settings
    from django.test import override_settings

    giosg = "giosg_django.middleware.GiosgMiddleware"
    overrides = {
        "MIDDLEWARE": [
            *(m for m in settings.MIDDLEWARE if m != giosg),
            giosg,
            "csp.middleware.CSPMiddleware",
        ],
        "CONTENT_SECURITY_POLICY": {"DIRECTIVES": {"default-src": [SELF], "script-src": [NONCE]}},
    }
    with override_settings(**overrides, GIOSG={**settings.GIOSG, "AUTO_INJECT": False}):
        client = Client()
        client.get("/plain/")  # the chain is loaded with AUTO_INJECT off
        with override_settings(GIOSG={**settings.GIOSG, "AUTO_INJECT": True}):
            response = client.get("/inject/full/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert nonce is not None
    scripts = re.findall(r"<script[^>]*>(?:(?!</script>).)*_giosg", response.content.decode(), re.S)
    assert scripts and all(s.startswith(f'<script nonce="{nonce.group(1)}">') for s in scripts)


def test_request_giosg_without_the_middleware_names_the_fix() -> None:
    """A project that left GiosgMiddleware out (giosg.W016) gets, at the first request.giosg,
    what to add where, not Python's bare "no attribute"; getattr() with a default and
    hasattr() work as before."""
    request = RequestFactory().get("/")
    with pytest.raises(AttributeError, match=r"add 'giosg_django\.middleware\.GiosgMiddleware'"):
        request.giosg  # noqa: B018
    assert not hasattr(request, "giosg") and getattr(request, "giosg", None) is None
    GiosgMiddleware(lambda request: HttpResponse())(request)
    assert isinstance(request.giosg, Giosg)


@pytest.mark.django_db
def test_a_view_using_request_giosg_without_the_middleware(settings: Any) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "giosg" not in m]
    with pytest.raises(
        MiddlewareMissing, match=r"settings\.MIDDLEWARE after 'django\.contrib\.auth"
    ):
        Client().get("/queue/g1/json/")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "giosg_django.middleware.GiosgMiddleware"]
    assert Client().get("/queue/g1/json/").status_code == 200
