"""Turbo Drive (the real @hotwired/turbo 8) in Chromium: each page Turbo shows gets its calls
and the identity exactly once (through the sync endpoint, once Turbo rendered it), giosg's
loader is never inserted twice, and a form login and logout submitted by Turbo reach giosg.
With database sessions, on every PENDING_STORAGE."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.test import override_settings

from ..support.browser import KEY, SIGNED, goals, poll, queue, sign_in, submits

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.each_storage,
    pytest.mark.urls("tests.support.sync_urls"),
]

SUBMITS = "() => (window._giosg._e || []).filter(a => a[1] === 'submit').length === {}"


def turbo_visit(page: Any, link: str, name: str) -> None:
    """Click ``link``; Turbo (not the browser) shows page ``name``."""
    marker = page.evaluate("() => (window.__kept = Math.random())")
    page.click(link)
    assert poll(page, f"() => document.getElementById('name')?.textContent === {name!r}")
    assert page.evaluate("() => window.__kept") == marker  # the same document: no reload


def test_each_turbo_page_gets_its_calls_and_identity_once(
    live_server: Any, browser_page: Any, ada: Any
) -> None:
    page = browser_page.page
    with override_settings(GIOSG=SIGNED):
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/turbo/page/home/")
        assert len(submits(page)) == 1
        loaded = len(browser_page.giosg_requests)  # one per full page load so far
        turbo_visit(page, "#to-one", "one")
        assert poll(
            page, "() => (window._giosg._e || []).filter(a => a[1] === 'submit').length === 2"
        )
        turbo_visit(page, "#to-goal", "three")
        assert poll(page, "() => (window._giosg._e || []).some(a => a[2] === 'on-three')")
        turbo_visit(page, "#to-two", "two")
        assert poll(
            page, "() => (window._giosg._e || []).filter(a => a[1] === 'submit').length === 4"
        )
        page.wait_for_timeout(500)
        assert goals(page) == ["on-three"]
        assert len(submits(page)) == 4  # one per page shown, none twice
        for submit in submits(page):
            assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["username"] == "Ada Lovelace"
        loaders = page.evaluate(
            "() => [...document.scripts].filter(s => s.src.includes('/live2/')).length"
        )
        assert loaders == 1 and len(browser_page.giosg_requests) == loaded
    assert browser_page.errors == []


def test_form_login_and_logout_through_turbo(live_server: Any, browser_page: Any, ada: Any) -> None:
    page = browser_page.page
    with override_settings(GIOSG=SIGNED):
        page.goto(f"{live_server.url}/turbo/page/home/")
        assert submits(page) == []
        page.fill("#id_username", "ada")
        page.fill("#id_password", "pw")
        marker = page.evaluate("() => (window.__kept = 1)")
        page.click("#login button")
        assert poll(page, "() => document.getElementById('name')?.textContent === 'in'")
        assert page.evaluate("() => window.__kept") == marker  # Turbo submitted it
        assert poll(page, "() => (window._giosg._e || []).some(a => a[1] === 'submit')")
        (submit,) = submits(page)
        assert submit[3:] == ["HS256", True]  # replaces the anonymous visitor's variables

        page.click("#logout button")
        assert poll(page, "() => document.getElementById('name')?.textContent === 'out'")
        assert poll(page, "() => (window._giosg._e || []).some(a => a[0] === 'chat')")
        page.wait_for_timeout(500)
        assert queue(page)[-2:] == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
        assert len(submits(page)) == 1
    assert browser_page.errors == []
