"""``{% giosg_visitor cacheable %}`` (and Jinja2's ``giosg_visitor(cacheable=True)``), on the
server: the same bytes for every visitor and request, and nothing from giosg that makes the page
private or vary on the Cookie header, so Django's page caches keep one copy for everyone. What
each visitor then gets in the browser is tests/browser/test_cacheable.py's."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, override_settings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.each_storage,
    pytest.mark.urls("tests.support.sync_urls"),
]

DATA = re.compile(r'<script src="([^"]+)" data-giosg-django="([^"]+)"></script>')


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def visitors(ada: Any, bob: Any) -> dict[str, Client]:
    clients = {"anonymous": Client(), "ada": Client(), "bob": Client()}
    clients["ada"].force_login(ada)
    clients["bob"].force_login(bob)
    for client in clients.values():
        client.get("/page/")  # a first page each: giosg's cookies as a browser holds them
    return clients


def test_the_same_bytes_for_everyone_and_nothing_private(ada: Any, bob: Any) -> None:
    pages = {name: c.get("/cached/uncached/") for name, c in visitors(ada, bob).items()}
    bodies = {page.content for page in pages.values()}
    assert len(bodies) == 1
    for name, page in pages.items():
        assert "private" not in page.get("Cache-Control", ""), name
        assert "Cookie" not in page.get("Vary", ""), name
        assert not page.cookies, name
    body = bodies.pop().decode()
    src, data = DATA.search(body).groups()
    assert src == settings.STATIC_URL + "giosg_django/giosg.min.js"
    assert "<script>" not in body  # no inline script: no nonce, no 'unsafe-inline'
    page_data = json.loads(data.replace("&quot;", '"'))
    assert page_data["cacheable"] is True and page_data["enabled"] is True
    assert page_data["loader"] == {"host": settings.GIOSG["HOST"], "company": "test-company"}
    assert page_data["sync"]["url"] == "/giosg/sync/" and page_data["sync"]["seen"] == 0


def test_behind_cache_page_one_copy_serves_everyone(ada: Any, bob: Any) -> None:
    clients = visitors(ada, bob)
    first = clients["ada"].get("/cached/page/")
    assert "Cookie" not in first.get("Vary", "")
    for name in ("bob", "anonymous"):
        again = clients[name].get("/cached/page/")
        assert again.content == first.content
        assert "Ada" not in again.content.decode() and "ada@" not in again.content.decode()


def test_a_view_that_shows_the_user_still_varies_on_the_cookie(ada: Any) -> None:
    """giosg's own reads of the session are hidden; the view's are not (request.user)."""
    client = Client()
    client.force_login(ada)
    client.get("/page/")
    page = client.get("/cached/uncached/?greet=1")
    assert b"Hello ada" in page.content
    assert "Cookie" in page["Vary"]


def test_the_calls_waiting_are_not_used_up_by_a_cacheable_page(client: Client) -> None:
    client.get("/queue/waits/json/")
    client.get("/cached/uncached/")
    answer = client.post("/giosg/sync/").json()["calls"]
    assert ["goal", "matches", "waits"] in answer


def test_with_enabled_a_callable_giosg_waits_for_consent() -> None:
    with override_settings(GIOSG={**settings.GIOSG, "ENABLED": lambda request: True}):
        body = Client().get("/cached/uncached/").content.decode()
    assert "&quot;enabled&quot;: false" in body or "&quot;enabled&quot;:false" in body


def test_with_giosg_off_nothing_is_rendered() -> None:
    with override_settings(GIOSG={**settings.GIOSG, "ENABLED": False}):
        body = Client().get("/cached/uncached/").content.decode()
    assert "data-giosg-django" not in body


def test_a_wrong_argument_is_a_template_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="cacheable"):
        Template("{% load giosg %}{% giosg_visitor cachable %}")
    assert "data-giosg-django" in Template("{% load giosg %}{% giosg_visitor cacheable %}").render(
        Context({})
    )


def test_a_response_that_writes_the_session_still_varies_on_the_cookie(ada: Any) -> None:
    """T2: a Set-Cookie of the session must never be stored by a page cache for others."""
    client = Client()
    client.force_login(ada)
    client.get("/page/")
    with override_settings(SESSION_SAVE_EVERY_REQUEST=True):
        page = client.get("/cached/uncached/")
    assert settings.SESSION_COOKIE_NAME in page.cookies
    assert "Cookie" in page["Vary"]
