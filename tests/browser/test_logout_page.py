"""A logout through Django's LogoutView onto the admin's "Logged out" page (no giosg tag), in
Chromium: the site's other open tab closes the chat at once, and the logout calls still wait for
the next page with the tag (the server's part is in tests/test_logout_page.py)."""

from __future__ import annotations

from typing import Any

import pytest

from giosg_django import js

from ..support.browser import poll
from ..support.servers import wsgi_server
from ..test_logout_page import ADMIN, CLEAR, CLOSE, LOGGED_OUT_TEXT, with_csp


def queue(page: Any) -> list[list[Any]]:
    result: list[list[Any]] = page.evaluate(
        "() => Array.from((window._giosg && window._giosg._e) || [], a => Array.from(a))"
    )
    return result


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("csp", ["none", "csp-inside", "csp-outside"])
def test_logout_onto_the_admin_logged_out_page_reaches_the_other_tab(
    browser_page: Any, ada: Any, csp: str
) -> None:
    """T2: tab 1 logs out through include("django.contrib.auth.urls")'s LogoutView onto the
    admin's "Logged out" page (no giosg tag); tab 2, open on the site, closes the chat and
    clears the variables within two seconds, without a reload, also under a nonce-only CSP.
    Tab 1's next page with the tag still gets the logout calls."""
    page = browser_page.page
    with wsgi_server(**ADMIN, **with_csp(csp)) as url:
        page.goto(f"{url}/accounts/login/")
        page.fill("#id_username", "ada")
        page.fill("#id_password", "pw")
        with page.expect_navigation():
            page.click("#login button")
        other = page.context.new_page()
        other.goto(f"{url}/page/")
        assert [call[:2] for call in queue(other)] == [["visitor", "submit"]]

        page.eval_on_selector("#logout", "form => { form.action = '/auth/logout/'; }")
        with page.expect_navigation():
            page.click("#logout button")
        assert page.url == f"{url}/auth/logout/"
        assert LOGGED_OUT_TEXT in page.content()
        assert queue(page) == []  # this page runs no giosg call

        assert poll(other, "() => (window._giosg._e || []).length >= 3", timeout=2.0)
        assert queue(other)[1:] == [CLOSE, CLEAR]
        assert page.evaluate(f"() => localStorage.getItem({js.dumps(js.STORAGE_KEY)})")

        page.goto(f"{url}/page/")
        assert queue(page) == [CLOSE, CLEAR]
    assert browser_page.errors == []
