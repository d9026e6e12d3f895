"""The page client in Chromium against what a page's own HTML and scripts can do to it: elements
whose id or name shadows a global (DOM clobbering), and logout times forged in localStorage or
in the giosg:calls event. Real page loads, Django's real LoginView and LogoutView."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from giosg_django import js

from ..support.browser import log_out, poll, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLOSE = ["chat", "close", {"hide": True}]
CLEAR = ["visitor", "removeAll"]
YEAR_5138_MS = 99_999_999_999_999
IS_THE_CLIENT = (
    "() => typeof window.giosgDjango.run === 'function'"
    f" && window.giosgDjango === window[Symbol.for({js.dumps(js.NAMES['symbol'])})]"
)


def names(calls: list[list[Any]] | None) -> list[list[Any]]:
    return [call[:2] for call in calls or []]


def has_close(page: Any) -> bool:
    return poll(page, "() => (window._giosg._e || []).some(a => a[0] === 'chat')")


# --- DOM clobbering ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["head", "body-end", "no-head"])
def test_elements_that_shadow_globals_do_not_stop_the_client(
    live_server: Any, browser_page: Any, ada: Any, where: str
) -> None:
    """T5: user HTML (which sanitisers keep ids and names in) with id="giosgDjango",
    id="_giosg" and every other global the client looks up, and <img>/<form>/<embed>/<object>
    named after document's methods that giosg's loader calls (createElement,
    getElementsByTagName), before the script (AUTO_INJECT on
    a page without </head> puts it before </body>, after that HTML) or after it: the waiting
    goal and the identity still reach giosg's queue, window.giosgDjango is the client, htmx's
    event and a logout in another tab still reach it."""
    url = live_server.url
    page = browser_page.page
    with override_settings(GIOSG={**settings.GIOSG, "AUTO_INJECT": where == "no-head"}):
        sign_in(page, url)
        page.goto(f"{url}/client/clobbered/{where}/")
        html = page.content()
        user_html_first = html.index('id="giosgDjango"') < html.index("<script")
        assert user_html_first == (where != "head")
        assert names(browser_page.queue()) == [["goal", "matches"], ["visitor", "submit"]]
        assert browser_page.queue()[0] == ["goal", "matches", "after-clobbering"]
        assert page.evaluate(IS_THE_CLIENT)

        page.evaluate(
            f"() => document.dispatchEvent(new CustomEvent({js.dumps(js.EVENT)},"
            " {detail: {calls: [['goal', 'matches', 'from-htmx']]}}))"
        )
        assert browser_page.queue()[-1] == ["goal", "matches", "from-htmx"]

        other = page.context.new_page()
        other.goto(f"{url}/page/")
        log_out(other)
        assert has_close(page)
        assert browser_page.queue()[-2:] == [CLOSE, CLEAR]
    assert browser_page.errors == []


# --- forged logout times ------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["1e308", "Infinity", str(YEAR_5138_MS)])
def test_a_forged_logout_time_in_storage_silences_no_later_page(
    live_server: Any, browser_page: Any, ada: Any, forged: str
) -> None:
    """T5: a page script writes a logout time far past the server's clock into localStorage:
    the next pages still get their goals and the identity, and a real logout afterwards still
    reaches the site's other open pages."""
    url = live_server.url
    page = browser_page.page
    sign_in(page, url)
    page.evaluate(f"() => localStorage.setItem({js.dumps(js.STORAGE_KEY)}, {js.dumps(forged)})")
    page.goto(f"{url}/queue/after-forgery/page/")
    assert names(browser_page.queue()) == [["goal", "matches"], ["visitor", "submit"]]
    assert not page.evaluate("() => giosgDjango.stale()")

    other = page.context.new_page()
    other.goto(f"{url}/page/")
    before = int(time.time() * 1000)
    log_out(page)
    assert browser_page.queue() == [CLOSE, CLEAR]
    assert has_close(other)
    stored = other.evaluate(f"() => localStorage.getItem({js.dumps(js.STORAGE_KEY)})")
    assert before <= int(stored) <= time.time() * 1000
    assert browser_page.errors == []


@pytest.mark.parametrize("forged", [1e308, "Infinity", YEAR_5138_MS])
def test_a_forged_logged_out_event_silences_no_later_page(
    live_server: Any, browser_page: Any, ada: Any, forged: Any
) -> None:
    """T5: a page script dispatches giosg:calls with a loggedOut marker at a time far past the
    server's clock: nothing is stored, and the next page gets its goal and the identity."""
    url = live_server.url
    page = browser_page.page
    sign_in(page, url)
    marker = json.dumps([[js.MARKER_MODULE, js.LOGGED_OUT, forged]])
    page.evaluate(
        f"() => document.dispatchEvent(new CustomEvent({js.dumps(js.EVENT)},"
        f" {{detail: {{calls: {marker}}}}}))"
    )
    assert page.evaluate(f"() => localStorage.getItem({js.dumps(js.STORAGE_KEY)})") is None
    assert not page.evaluate("() => giosgDjango.stale()")
    page.goto(f"{url}/queue/after-forgery/page/")
    assert names(browser_page.queue()) == [["goal", "matches"], ["visitor", "submit"]]
    assert browser_page.errors == []


@pytest.mark.parametrize("ahead_ms", [3_000, 55_000])
def test_a_forged_logout_time_just_ahead_of_the_clock_costs_no_fresh_page_its_calls(
    live_server: Any, browser_page: Any, ada: Any, ahead_ms: int
) -> None:
    """T5: a page script stores a logout time a little ahead of the clock (within the slack
    kept for the clocks of several servers, or just past it). A page fresh from the server was
    rendered after every real logout, so it is never taken for stale: it runs its goal and the
    identity, which the server has used up and would otherwise be lost."""
    url = live_server.url
    page = browser_page.page
    sign_in(page, url)
    key = js.dumps(js.STORAGE_KEY)
    page.evaluate(f"() => localStorage.setItem({key}, String(Date.now() + {ahead_ms}))")
    page.goto(f"{url}/queue/after-forgery/page/")
    assert names(browser_page.queue()) == [["goal", "matches"], ["visitor", "submit"]]
    assert not page.evaluate("() => giosgDjango.stale()")
    assert browser_page.errors == []
