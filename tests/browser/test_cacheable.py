"""Pages the same for everyone, in Chromium: ``{% giosg_visitor cacheable %}`` behind Django's
per-view cache and behind the per-site cache, under an enforcing policy that allows scripts
from the site and giosg's host only (no nonce, no 'unsafe-inline'). Ada, Bob and an anonymous
visitor each get the one cached copy, then only their own identity and calls; the anonymous
visitor with nothing waiting makes no request. On every PENDING_STORAGE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from ..support.browser import KEY, SIGNED, poll, queue, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.each_storage,
    pytest.mark.urls("tests.support.sync_urls"),
]

PER_SITE = [
    "django.middleware.cache.UpdateCacheMiddleware",
    *settings.MIDDLEWARE,
    "django.middleware.cache.FetchFromCacheMiddleware",
]
# Before any script of the page runs: the policy violations the page reports.
VIOLATIONS = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective));"""


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def visitor(browser: Any) -> tuple[Any, list[str], list[str]]:
    """A browser context of its own: its page, its requests to the sync endpoint, and to
    giosg's host."""
    context = browser.new_context()
    context.route(
        f"{settings.GIOSG['HOST']}/**",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body="/**/"),
    )
    page = context.new_page()
    synced: list[str] = []
    giosg: list[str] = []
    page.on("request", lambda r: "/giosg/sync/" in r.url and synced.append(r.url))
    page.on("request", lambda r: r.url.startswith(settings.GIOSG["HOST"]) and giosg.append(r.url))
    return page, synced, giosg


@pytest.mark.parametrize("cache_kind", ["per-view", "per-site"])
def test_one_cached_copy_each_visitor_their_own(
    live_server: Any, browser: Any, ada: Any, bob: Any, cache_kind: str
) -> None:
    url = live_server.url
    path = "/cached/page/" if cache_kind == "per-view" else "/cached/uncached/"
    middleware = PER_SITE if cache_kind == "per-site" else settings.MIDDLEWARE
    with override_settings(GIOSG=SIGNED, MIDDLEWARE=middleware, CACHE_MIDDLEWARE_SECONDS=60):
        seen: dict[str, Any] = {}
        for name in ("ada", "anonymous", "bob"):
            page, synced, giosg = visitor(browser)
            if name != "anonymous":
                sign_in(page, url, name)
            else:
                page.goto(f"{url}/queue/for-the-anonymous/json/")  # something waits for it
            page.add_init_script(VIOLATIONS)
            response = page.goto(f"{url}{path}")
            seen[name] = response.body()
            assert poll(page, "() => (window._giosg?._e || []).length > 0")
            page.wait_for_timeout(400)
            calls = queue(page)
            submits = [c for c in calls if c[:2] == ["visitor", "submit"]]
            if name == "anonymous":
                assert submits == [] and calls == [["goal", "matches", "for-the-anonymous"]]
            else:
                (submit,) = submits
                expected = {"ada": "Ada Lovelace", "bob": "bob"}[name]
                assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["username"] == expected
            assert len(synced) == 1 and len(giosg) >= 1
            assert page.evaluate("() => window.__violations") == []
            # The next page: nothing waits now; a signed-in visitor gets the identity again,
            # the anonymous one asks nothing at all.
            page.goto(f"{url}{path}")
            page.wait_for_timeout(600)
            if name == "anonymous":
                assert len(synced) == 1 and queue(page) == []
            else:
                assert len(synced) == 2
            page.context.close()
        assert seen["ada"] == seen["bob"] == seen["anonymous"]  # one copy for everyone
