"""A cookie banner in the browser (Cookiebot, Klaro, django-cookie-consent): consent given or
withdrawn without a reload, in Chromium. A page rendered while ENABLED was false carries the page
client and nothing that reaches giosg; ``giosgDjango.consent(true)`` loads giosg and brings the
waiting calls and the identity; ``consent(false)`` closes and hides the chat, clears the
variables and sends giosg nothing more from that page. On every PENDING_STORAGE."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from ..support.browser import poll, queue, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.each_storage,
    pytest.mark.urls("tests.support.sync_urls"),
]

OPT_IN = {**settings.GIOSG, "ENABLED": "tests.support.views.consent_opted_in"}
BANNER_SAYS = "answer => { document.cookie = 'giosg_consent=' + answer + '; path=/'; }"


def test_consent_given_loads_giosg_and_brings_what_waited(
    live_server: Any, browser_page: Any, ada: Any
) -> None:
    page = browser_page.page
    with override_settings(GIOSG=OPT_IN):
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/queue/before-consent/json/")
        page.goto(f"{live_server.url}/page/")
        assert browser_page.giosg_requests == []  # nothing reached giosg
        assert page.evaluate("() => typeof window._giosg") == "undefined"
        assert page.evaluate("() => typeof giosgDjango.consent") == "function"

        page.evaluate(BANNER_SAYS, "yes")
        page.evaluate("() => giosgDjango.consent(true)")
        calls = queue(page)
        assert [c[:2] for c in calls] == [["goal", "matches"], ["visitor", "submit"]]
        assert calls[0][2] == "before-consent"
        assert poll(page, "() => document.querySelector('script[src*=\"/live2/\"]') !== null")
        assert len(browser_page.giosg_requests) == 1
        page.evaluate("() => giosgDjango.consent(true)")  # twice: giosg still loaded once
        assert len(browser_page.giosg_requests) == 1
    assert browser_page.errors == []


def test_consent_withdrawn_closes_clears_and_stops(
    live_server: Any, browser_page: Any, ada: Any
) -> None:
    page = browser_page.page
    with override_settings(GIOSG=OPT_IN):
        page.goto(f"{live_server.url}/page/")
        page.evaluate(BANNER_SAYS, "yes")
        sign_in(page, live_server.url)  # a page rendered with consent: identity, loader
        assert [c[:2] for c in queue(page)] == [["visitor", "submit"]]

        page.evaluate(BANNER_SAYS, "no")
        page.evaluate("() => giosgDjango.consent(false)")
        assert queue(page)[-2:] == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
        before = len(queue(page))

        # Nothing more from this page: a goal queued by fetch() waits (no sync while refused),
        # giosgDjango.sync() asks nothing, calls sent to the client are not passed on.
        synced: list[str] = []
        page.on("request", lambda r: "/giosg/sync/" in r.url and synced.append(r.url))
        page.evaluate("() => fetch('/queue/while-refused/json/')")
        page.evaluate("() => giosgDjango.sync()")
        page.evaluate("() => giosgDjango.run([['goal', 'matches', 'forged']])")
        page.wait_for_timeout(800)
        assert synced == [] and len(queue(page)) == before

        page.evaluate(BANNER_SAYS, "yes")  # given again: what waited comes, once
        page.evaluate("() => giosgDjango.consent(true)")
        goals = [c[2] for c in queue(page) if c[:2] == ["goal", "matches"]]
        assert goals == ["while-refused"]
    assert browser_page.errors == []
