"""htmx in Chromium, with the real htmx 2 and htmx 4 (served locally): a request made by htmx
gets its pending calls in its own response's HX-Trigger header, exactly once and never also
inline; a boosted logout reaches the page at once. The rules, with the test client, are in
tests/test_htmx.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from giosg_django.htmx import HEADER_BUDGET

from ..support.browser import poll, sign_in
from ..support.servers import wsgi_server
from ..test_htmx import short

pytestmark = pytest.mark.django_db
# test_htmx's URLs: the suite's, and /big/<size>/ that queues a call of that size.
URLS = "tests.test_htmx"
HTMX_DIR = Path(__file__).parent.parent / "js" / "node_modules"
GOALS_JS = "() => (window._giosg._e || []).filter(c => c[0] === 'goal').map(c => c[2])"


def require_htmx(version: str) -> None:
    if not (HTMX_DIR / f"htmx{version}" / "dist" / "htmx.js").exists():
        from ..conftest import missing

        missing(f"htmx {version}", "run `make test` (it installs tests/js with npm ci)")


def csp_settings() -> dict[str, Any]:
    pytest.importorskip("csp")
    from csp.constants import NONCE, SELF

    middleware = [*settings.MIDDLEWARE]
    middleware.insert(1, "csp.middleware.CSPMiddleware")
    return {
        "MIDDLEWARE": middleware,
        "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
        "CONTENT_SECURITY_POLICY": {
            "DIRECTIVES": {"default-src": [SELF], "script-src": [NONCE], "style-src": [SELF]}
        },
    }


@pytest.mark.browser
@pytest.mark.parametrize("version", ["2", "4"])
def test_hx_post_and_hx_boost_in_chromium_under_a_nonce_policy(
    browser_page: Any, version: str
) -> None:
    require_htmx(version)
    page = browser_page.page
    with wsgi_server(**csp_settings()) as url:
        page.goto(f"{url}/htmx/{version}/page/")
        assert page.evaluate("() => typeof htmx") == "object"
        assert page.evaluate(GOALS_JS) == []

        page.click("#post")
        page.wait_for_selector("#out:text('done')")
        page.wait_for_function("() => (window._giosg._e || []).length > 0")
        assert page.evaluate(GOALS_JS) == ["htmx-post"]

        page.evaluate("() => fetch('/queue/before-boost/json/')")  # not htmx: waits
        page.click("#boost")
        page.wait_for_selector("#body:text('boosted')")
        page.wait_for_function(f"() => ({GOALS_JS})().length === 2")
        assert page.evaluate(GOALS_JS) == ["htmx-post", "before-boost"]
        assert page.evaluate("() => window.giosgDjango.t") > 0  # the same page: no reload

        page.goto(f"{url}/htmx/{version}/page/")  # a full load repeats nothing
        assert page.evaluate(GOALS_JS) == []
    assert browser_page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize("version", ["2", "4"])
def test_logout_through_a_boosted_form_in_chromium(
    live_server: Any, browser_page: Any, django_user_model: Any, version: str
) -> None:
    require_htmx(version)
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    page = browser_page.page
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/htmx/{version}/page/")
    assert [c[:2] for c in browser_page.queue()] == [["visitor", "submit"]]
    page.click("#logout button")
    page.wait_for_function("() => window._giosg._e.length >= 3")
    assert browser_page.queue()[1:] == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
    assert page.evaluate("() => localStorage.getItem('giosg_django:logout')") is not None
    assert browser_page.errors == []


@pytest.mark.browser
def test_a_call_too_big_for_the_header_waits_for_the_next_page_in_chromium(
    browser_page: Any,
) -> None:
    """T6, T7: with the real htmx 2, an hx-post whose first waiting call is 20 kB does not get
    it in its header (it went out whole before, a 502 behind nginx): the calls after it come
    with the hx-post, and the big one reaches the next full page, once."""
    require_htmx("2")
    page = browser_page.page
    sessions = "django.contrib.sessions.backends.cache"  # in this process, shared by threads
    with wsgi_server(ROOT_URLCONF=URLS, SESSION_ENGINE=sessions) as url:
        page.goto(f"{url}/htmx/2/page/")
        page.evaluate("async () => { await fetch('/big/20000/'); await fetch('/queue/b/json/'); }")
        with page.expect_response("**/queue/htmx-post/fragment/") as answer:
            page.click("#post")
        assert len(answer.value.headers.get("hx-trigger", "")) <= HEADER_BUDGET
        page.wait_for_selector("#out:text('done')")
        assert poll(page, "() => (window._giosg._e || []).length >= 2")
        assert short(browser_page.queue() or []) == ["b", "htmx-post"]

        page.goto(f"{url}/htmx/2/page/")
        assert short(browser_page.queue() or []) == ["task-20000"]
        page.goto(f"{url}/htmx/2/page/")
        assert short(browser_page.queue() or []) == []
    assert browser_page.errors == []


@pytest.mark.browser
@pytest.mark.urls(URLS)
@pytest.mark.parametrize("version", ["2", "4"])
def test_a_boosted_logout_behind_a_call_too_big_for_the_header_in_chromium(
    live_server: Any, browser_page: Any, django_user_model: Any, settings: Any, version: str
) -> None:
    """T2: with the real htmx and hx-boost, Ada's 7 kB support message waits for a full page;
    she logs out through the boosted form and the next person browses on with boosted links
    (no full page). The logout's response closes and hides the chat, clears the variables and
    records the logout for the other tabs at once (they waited behind the message, for a
    full page that never came). The message, queued by Ada before her logout, is dropped as
    the logout goes out: the next full page is the next person's, and must not start a chat
    with Ada's text."""
    require_htmx(version)
    # The logout lands on a page with a boosted link, for the next person to browse on.
    settings.LOGOUT_REDIRECT_URL = f"/htmx/{version}/page/?body=bye"
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    page = browser_page.page
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/htmx/{version}/page/")
    assert [c[:2] for c in browser_page.queue() or []] == [["visitor", "submit"]]
    page.evaluate("() => fetch('/big/7000/')")

    with page.expect_response("**/page/?body=bye") as answer:
        page.click("#logout button")
    assert len(answer.value.headers.get("hx-trigger", "")) <= HEADER_BUDGET
    assert poll(page, "() => window._giosg._e.length >= 3")
    close_and_clear = [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
    assert (browser_page.queue() or [])[1:] == close_and_clear
    assert page.evaluate("() => localStorage.getItem('giosg_django:logout')") is not None

    page.click("#boost")  # the next person browses on: boosted, no full page
    page.wait_for_selector("#body:text('boosted')")
    assert (browser_page.queue() or [])[1:] == close_and_clear  # nothing new, nothing twice

    page.goto(f"{live_server.url}/htmx/{version}/page/")
    assert browser_page.queue() in ([], None)  # the next person's page: no chat of Ada's
    assert browser_page.errors == []
