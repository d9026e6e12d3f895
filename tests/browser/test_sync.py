"""A front end that talks JSON, in Chromium: one page, then fetch() only. Calls queued by JSON
requests, the identity after a JSON login and the logout calls after a JSON logout reach
giosg's queue (``window._giosg._e``) within 2 seconds, exactly once, without a reload and
without any code of the site's; ``giosgDjango.sync()``; and an idle anonymous visitor makes no
request at all. On every PENDING_STORAGE, with database sessions."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import override_settings

from ..support.browser import KEY, SIGNED, goals, poll, queue, sign_in, submits

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.each_storage,
    pytest.mark.urls("tests.support.sync_urls"),
]


# As a front end does: Django's CSRF token from its cookie (login() rotates it).
POST_JSON = """async ([url, body]) => {
  const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken=')).slice(10);
  const response = await fetch(url, {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
  return response.status;
}"""


def sync_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: "/giosg/sync/" in request.url and seen.append(request.url))
    return seen


def arrives(page: Any, expression: str) -> float:
    """Seconds until ``expression`` holds in the page (fails past 2 s, the contract's bound)."""
    started = time.monotonic()
    assert poll(page, expression, timeout=2.0), f"not within 2 s: {expression}"
    return time.monotonic() - started


def test_a_goal_queued_by_fetch_reaches_giosg_once_without_a_reload(
    live_server: Any, browser_page: Any
) -> None:
    page = browser_page.page
    seen = sync_requests(page)
    page.goto(f"{live_server.url}/spa/")
    page.evaluate("() => fetch('/spa/goal/from-fetch/').then(r => r.json())")
    arrives(page, "() => (window._giosg._e || []).some(a => a[2] === 'from-fetch')")
    page.evaluate("() => fetch('/spa/nothing/')")  # later requests: no second sync, no repeat
    page.wait_for_timeout(600)
    assert goals(page) == ["from-fetch"]
    assert len(seen) == 1
    xhr = """() => new Promise(done => { const x = new XMLHttpRequest();
      x.open('GET', '/spa/goal/from-xhr/'); x.onload = done; x.send(); })"""
    page.evaluate(xhr)
    arrives(page, "() => (window._giosg._e || []).some(a => a[2] === 'from-xhr')")
    page.reload()
    page.wait_for_timeout(300)
    assert goals(page) == []  # used up: the reload's page renders nothing more
    assert browser_page.errors == []


@pytest.mark.session_storage  # only to name the store: see below
def test_parallel_fetches_each_arrive_exactly_once(
    live_server: Any, browser_page: Any, settings: Any
) -> None:
    """With CacheStorage (a cache in this process): the live server's threads share one
    in-memory SQLite connection, which parallel writes (sessions, PendingCall rows) trip over.
    Parallel requests on every store, against real databases, are tests/test_races.py's."""
    settings.GIOSG = {
        **settings.GIOSG,
        "PENDING_STORAGE": "giosg_django.storage.CacheStorage",
        "PENDING_CACHE": "giosg_pending",
    }
    page = browser_page.page
    page.goto(f"{live_server.url}/spa/")
    page.evaluate(
        "() => Promise.all([...Array(6).keys()].map(n => fetch('/spa/goal/g' + n + '/')))"
    )
    assert poll(page, "() => (window._giosg._e || []).length >= 6", timeout=2.0)
    page.wait_for_timeout(800)
    assert sorted(goals(page)) == [f"g{n}" for n in range(6)]


def test_json_login_then_logout_reach_giosg(live_server: Any, browser_page: Any, ada: Any) -> None:
    page = browser_page.page
    with override_settings(GIOSG=SIGNED):
        page.goto(f"{live_server.url}/spa/")
        assert submits(page) == []
        status = page.evaluate(POST_JSON, ["/spa/login/", {"username": "ada", "password": "pw"}])
        assert status == 200
        arrives(page, "() => (window._giosg._e || []).some(a => a[1] === 'submit')")
        (submit,) = submits(page)
        assert submit[3:] == ["HS256", True]  # replaces the anonymous visitor's variables
        assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["username"] == "Ada Lovelace"

        assert page.evaluate(POST_JSON, ["/spa/logout/", {}]) == 200
        arrives(page, "() => (window._giosg._e || []).some(a => a[0] === 'chat')")
        page.wait_for_timeout(300)
        tail = queue(page)[-2:]
        assert tail == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
        assert len(submits(page)) == 1
    assert browser_page.errors == []


def test_sync_resolves_once_the_calls_are_queued(
    live_server: Any, browser_page: Any, ada: Any
) -> None:
    page = browser_page.page
    with override_settings(GIOSG=SIGNED):
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/spa/")
        before = len(submits(page))
        count = page.evaluate("() => giosgDjango.sync().then(() => window._giosg._e.length)")
        assert count == len(queue(page)) and len(submits(page)) == before + 1
        (_, latest) = submits(page)[-2:]
        assert latest[3:] == ["HS256"]  # the same user: added to, not replaced


def test_an_idle_anonymous_visitor_makes_no_request(live_server: Any, browser_page: Any) -> None:
    page = browser_page.page
    seen = sync_requests(page)
    page.goto(f"{live_server.url}/spa/")
    page.evaluate("() => fetch('/spa/nothing/')")
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    page.wait_for_timeout(1500)
    assert seen == []
    assert json.loads(json.dumps(queue(page))) == []


ENDPOINT = """async ([method, token]) => {
  const headers = token ? {'X-CSRFToken': token} : {};
  const response = await fetch('/giosg/sync/', {method, headers});
  const text = await response.text();
  return {status: response.status, cache: response.headers.get('Cache-Control'), text};
}"""
COOKIE_TOKEN = "() => document.cookie.split('; ').find(c => c.startsWith('csrftoken=')).slice(10)"


def test_the_endpoints_contract_from_the_browser(live_server: Any, browser_page: Any) -> None:
    """GET refused, a POST without Django's CSRF token refused, neither uses anything up; with
    the token, the waiting calls once, no-store; with giosg off, nothing, and nothing used up."""
    page = browser_page.page
    # A JSON document (no page client: the requests below are the test's alone); its response
    # left the goal waiting, and gave the browser Django's CSRF cookie for the endpoint.
    page.goto(f"{live_server.url}/queue/g1/json/")
    token = page.evaluate(COOKIE_TOKEN)
    assert page.evaluate(ENDPOINT, ["GET", token])["status"] == 405
    assert page.evaluate(ENDPOINT, ["POST", None])["status"] == 403
    with override_settings(GIOSG={**settings.GIOSG, "ENABLED": False}):
        off = page.evaluate(ENDPOINT, ["POST", token])
        assert (off["status"], json.loads(off["text"])) == (200, {"calls": []})
    first = page.evaluate(ENDPOINT, ["POST", token])
    assert first["status"] == 200 and "no-store" in first["cache"]
    assert [c for c in json.loads(first["text"])["calls"] if c[0] == "goal"] == [
        ["goal", "matches", "g1"]
    ]
    again = json.loads(page.evaluate(ENDPOINT, ["POST", token])["text"])["calls"]
    assert [c for c in again if c[0] == "goal"] == []


# --- no loop, no silencing ------------------------------------------------------------------

# The token of the page's form: with CSRF_USE_SESSIONS or an HttpOnly cookie, no script can read
# Django's cookie, and a JSON login rotates the token the page carries.
POST_JSON_FORM_TOKEN = """async ([url, body]) => {
  const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
  const response = await fetch(url, {method: 'POST', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
  return response.status;
}"""
CONSENT = {"given": True}


def consent_given(request: Any) -> bool:
    return CONSENT["given"]


def statuses(page: Any) -> list[int]:
    found: list[int] = []
    page.on("response", lambda r: "/giosg/sync/" in r.url and found.append(r.status))
    return found


@pytest.mark.parametrize("setting", ["CSRF_USE_SESSIONS", "CSRF_COOKIE_HTTPONLY"])
def test_a_refused_sync_is_not_repeated(
    live_server: Any, browser_page: Any, ada: Any, setting: str
) -> None:
    """T7: a sync the endpoint refuses (here: the page's CSRF token, stale after a JSON login)
    is asked once for that hint, never in a loop."""
    page = browser_page.page
    seen = statuses(page)
    with override_settings(**{setting: True}):
        page.goto(f"{live_server.url}/spa/")
        body = {"username": "ada", "password": "pw"}
        assert page.evaluate(POST_JSON_FORM_TOKEN, ["/spa/login/", body]) == 200
        page.wait_for_timeout(2500)
    assert len(seen) <= 1, seen


def test_giosg_turned_off_meanwhile_costs_one_sync(live_server: Any, browser_page: Any) -> None:
    """T7: consent withdrawn in another tab while this page's client is on: a call queued then
    waits, asked for once, not in a loop."""
    page = browser_page.page
    seen = statuses(page)
    with override_settings(GIOSG={**settings.GIOSG, "ENABLED": f"{__name__}.consent_given"}):
        CONSENT["given"] = True
        page.goto(f"{live_server.url}/spa/")
        CONSENT["given"] = False
        try:
            page.evaluate("() => fetch('/spa/goal/g1/')")
            page.wait_for_timeout(2500)
        finally:
            CONSENT["given"] = True
    assert seen == [200]


def test_a_planted_hint_cookie_does_not_silence_later_pages(
    live_server: Any, browser_page: Any
) -> None:
    """T5: one script plants a copy of the hint with another path (which the server never
    overwrites), low or high: calls queued by fetch() on later pages still arrive."""
    page = browser_page.page
    page.goto(f"{live_server.url}/spa/")
    for value in ("1", "9" * 15):
        page.evaluate(f"() => {{ document.cookie = 'giosg_django_sync={value}; path=/spa/'; }}")
        page.goto(f"{live_server.url}/spa/")
        goal = f"after-{len(value)}"
        page.evaluate(f"() => fetch('/spa/goal/{goal}/')")
        arrives(page, f"() => (window._giosg._e || []).some(a => a[2] === {goal!r})")
