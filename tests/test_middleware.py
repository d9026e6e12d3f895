"""``GiosgMiddleware`` on the sync and the async (ASGI) path."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpResponse
from django.test import AsyncClient, Client, RequestFactory

from giosg_django.api import Giosg
from giosg_django.middleware import GiosgMiddleware

pytestmark = pytest.mark.django_db(transaction=True)


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
