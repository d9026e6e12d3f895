"""A signed-in session that ends without logout() (deleted, expired, ended by a password change
elsewhere, or dropped by the browser), in Chromium across real page loads with database
sessions: the next page that browser shows for someone else closes and hides the chat and
clears the variables, as after a logout (the test client's part is in
tests/test_visitor_cookie.py).

The cookie that tells is the server's alone: nothing a page script or a sibling subdomain sets
(a Domain= cookie, a path-scoped one, a made-up or a replayed value) makes giosg act more than
the one round that a real ended sign-in gives."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from giosg_django import visitor_cookie
from giosg_django.visitor_cookie import COOKIE_NAME

from ..conftest import launch_chromium
from ..support.browser import sign_in
from ..test_visitor_cookie import CLEAR, CLOSE, cookies, who


def end_by_password_change(ada: Any) -> None:
    """Ada changes her password on another device, through Django's PasswordChangeView."""
    other = Client()
    other.force_login(ada)
    response = other.post(
        "/client/password/",
        {"old_password": "pw", "new_password1": "n3w-Pa55word!", "new_password2": "n3w-Pa55word!"},
    )
    assert response.status_code == 302
    ada.set_password("pw")  # so that Ada could sign in again; her old session stays ended
    ada.save()


def end_session(how: str, session_key: str, ada: Any) -> None:
    if how == "deleted":
        Session.objects.filter(session_key=session_key).delete()
    elif how == "expired":
        past = timezone.now() - datetime.timedelta(seconds=1)
        assert Session.objects.filter(session_key=session_key).update(expire_date=past) == 1
    else:
        end_by_password_change(ada)


@pytest.mark.parametrize("how", ["deleted", "expired", "password-changed"])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_session_that_ends_without_logout_closes_the_chat_on_the_next_page(
    live_server: Any, browser_page: Any, ada: Any, bob: Any, how: str
) -> None:
    """T2: Ada's session ends server-side; the next person at that browser gets the logout calls
    on the very next page (no identity of Ada's), then Bob's identity replaces what was
    attached; the marker cookie never names anyone after that."""
    url = live_server.url
    page = browser_page.page
    sign_in(page, url, "ada")
    [submit] = browser_page.queue()
    assert submit[:3] == [
        "visitor",
        "submit",
        {"username": "Ada Lovelace", "email": "ada@example.com"},
    ]
    assert who(cookies(page)[COOKIE_NAME]) == visitor_cookie.fingerprint(ada)

    end_session(how, cookies(page)["sessionid"], ada)
    page.goto(f"{url}/page/")
    assert browser_page.queue() == [CLOSE, CLEAR]
    assert who(cookies(page)[COOKIE_NAME]) == visitor_cookie.NOBODY
    page.goto(f"{url}/page/")
    assert browser_page.queue() == []  # once

    sign_in(page, url, "bob")
    assert browser_page.queue() == [["visitor", "submit", {"username": "bob"}, "plain", True]]
    assert who(cookies(page)[COOKIE_NAME]) == visitor_cookie.fingerprint(bob)
    assert browser_page.errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_login_over_an_ended_session_gets_the_logout_calls_before_the_identity(
    live_server: Any, browser_page: Any, ada: Any, bob: Any
) -> None:
    """T2: the login form was on screen while Ada's session ended; Bob signs in with it: the
    page after the login closes Ada's chat and clears her variables before Bob's identity."""
    url = live_server.url
    page = browser_page.page
    sign_in(page, url, "ada")
    page.goto(f"{url}/accounts/login/")
    Session.objects.filter(session_key=cookies(page)["sessionid"]).delete()
    sign_in(page, url, "bob", go=False)
    assert browser_page.queue() == [
        CLOSE,
        CLEAR,
        ["visitor", "submit", {"username": "bob"}, "plain", True],
    ]
    assert browser_page.errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_logout_gives_one_round_and_an_anonymous_visitor_no_cookie(
    live_server: Any, browser_page: Any, ada: Any
) -> None:
    """T2/T6: a normal logout closes the chat once (the cookie then names nobody); an
    anonymous visitor never gets the cookie, nor a session."""
    url = live_server.url
    page = browser_page.page
    for path in ("/page/", "/plain/", "/accounts/login/", "/page/"):
        page.goto(f"{url}{path}")
    assert COOKIE_NAME not in cookies(page) and "sessionid" not in cookies(page)

    sign_in(page, url, "ada")
    assert COOKIE_NAME in cookies(page)
    with page.expect_navigation():
        page.click("#logout button")
    assert browser_page.queue() == [CLOSE, CLEAR]
    assert who(cookies(page)[COOKIE_NAME]) == visitor_cookie.NOBODY
    page.goto(f"{url}/page/")
    assert browser_page.queue() == []
    assert browser_page.errors == []


# --- planted cookies: page scripts and sibling subdomains (T5) ----------------------------------

SITE = "site.test"  # Chromium resolves *.site.test to the live server, so Domain= works
PLANTS = {
    # Sent with every page of every subdomain; Django read it instead of the server's.
    "domain": f"domain={SITE}; path=/",
    # Sent, before the server's, with /page/ only; the server never deletes it.
    "path": "path=/page/",
    # The server's own place: a script can set it only where the server's is missing.
    "host": "path=/",
}


@pytest.fixture(scope="module")
def browser() -> Any:
    with launch_chromium(args=[f"--host-resolver-rules=MAP *.{SITE} 127.0.0.1"]) as browser:
        yield browser


def on_subdomain(live_server: Any) -> str:
    return f"http://www.{SITE}:{live_server.url.rsplit(':', 1)[1]}"


def plant(page: Any, value: str, where: str) -> None:
    """One page script, run once (a third-party widget, a one-off XSS)."""
    page.evaluate(
        "([name, value, attrs]) => {"
        " document.cookie = name + '=' + value + '; ' + attrs + '; max-age=99999999'; }",
        [COOKIE_NAME, value, PLANTS[where]],
    )


def rounds(browser_page: Any, url: str, paths: tuple[str, ...]) -> list[bool]:
    """For each page in turn: whether it closed the chat."""
    closed = []
    for path in paths:
        browser_page.goto(f"{url}{path}")
        closed.append(CLOSE in (browser_page.queue() or []))
    return closed


PAGES = ("/page/", "/plain/", "/page/", "/plain/", "/page/")


@pytest.mark.parametrize("value", ["forged", "another-account"])
@pytest.mark.parametrize("where", list(PLANTS))
@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_cookie_planted_by_a_page_script_never_closes_the_chat_for_good(
    live_server: Any, browser_page: Any, ada: Any, bob: Any, value: str, where: str, signed_in: bool
) -> None:
    """T5: one page script plants a giosg_django_user cookie the server never overwrites: a
    Domain= one (as a sibling subdomain can, cookie tossing), a path-scoped one, or one where
    the server keeps its own. A made-up value makes giosg act on no page. A valid value from
    another account (the attacker's own, read from their browser) costs a signed-in visitor
    nothing and an anonymous one at most the one round a real ended sign-in gives, then pages
    are normal. Then the real flow still works: Ada's session ends, one round, once."""
    url = on_subdomain(live_server)
    page = browser_page.page
    if signed_in:
        sign_in(page, url, "ada")
    page.goto(f"{url}/page/")
    attacker = Client()
    attacker.force_login(bob)
    planted = "forged" if value == "forged" else attacker.get("/page/").cookies[COOKIE_NAME].value
    plant(page, planted, where)

    closed = rounds(browser_page, url, PAGES)
    if signed_in or value == "forged":
        assert closed == [False] * len(PAGES)
    else:
        assert closed[1:] == [False] * (len(PAGES) - 1)  # at most one round, on the first page

    if not signed_in:
        sign_in(page, url, "ada")
    Session.objects.filter(session_key=cookies(page)["sessionid"]).delete()
    assert rounds(browser_page, url, PAGES) == [True] + [False] * (len(PAGES) - 1)
    assert browser_page.errors == []


# --- a session cookie the browser dropped (expired) ---------------------------------------------


@pytest.mark.parametrize("how", ["expired", "cleared"])
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_session_cookie_the_browser_dropped_closes_the_chat_on_the_next_page(
    live_server: Any, browser_page: Any, ada: Any, how: str
) -> None:
    """T2: with Django's defaults the session cookie and the giosg cookie were set in the same
    response with the same max-age, so the browser dropped both together and the next person
    at that browser inherited Ada's chat. The session cookie expires (a 2-second
    SESSION_COOKIE_AGE) or is cleared by the browser; the giosg cookie remains, and the next
    page closes the chat, once."""
    url = live_server.url
    page = browser_page.page
    with override_settings(SESSION_COOKIE_AGE=2 if how == "expired" else 60):
        sign_in(page, url, "ada")
        assert "sessionid" in cookies(page)
        if how == "expired":
            page.wait_for_timeout(2500)
        else:
            page.context.clear_cookies(name="sessionid")
        assert "sessionid" not in cookies(page)
        assert who(cookies(page)[COOKIE_NAME]) == visitor_cookie.fingerprint(ada)
        page.goto(f"{url}/page/")
        assert browser_page.queue() == [CLOSE, CLEAR]
        page.goto(f"{url}/page/")
        assert browser_page.queue() == []
    assert browser_page.errors == []
