"""A signed-in session that ends without logout() (deleted, expired, ended by a password change
elsewhere): the next page that browser shows for someone else closes and hides the chat and
clears the variables, as after a logout. In Chromium across real page loads with database
sessions, and through the test client on the sync and async paths."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import AsyncClient, Client, override_settings
from django.utils import timezone

from giosg_django import visitor_cookie
from giosg_django.visitor_cookie import COOKIE_NAME

CLOSE = ["chat", "close", {"hide": True}]
CLEAR = ["visitor", "removeAll"]


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", "", "pw")


def sign_in(page: Any, url: str, username: str, *, go: bool = True) -> None:
    if go:
        page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    with page.expect_navigation():
        page.click("#login button")


def cookies(page: Any) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


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
    marked = cookies(page)[COOKIE_NAME]
    assert marked == visitor_cookie.fingerprint(ada)

    end_session(how, cookies(page)["sessionid"], ada)
    page.goto(f"{url}/page/")
    assert browser_page.queue() == [CLOSE, CLEAR]
    assert COOKIE_NAME not in cookies(page)
    page.goto(f"{url}/page/")
    assert browser_page.queue() == []  # once

    sign_in(page, url, "bob")
    assert browser_page.queue() == [["visitor", "submit", {"username": "bob"}, "plain", True]]
    assert cookies(page)[COOKIE_NAME] == visitor_cookie.fingerprint(bob)
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
    """T2/T6: a normal logout closes the chat once (the cookie goes with it); an anonymous
    visitor never gets the cookie, nor a session."""
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
    assert COOKIE_NAME not in cookies(page)
    page.goto(f"{url}/page/")
    assert browser_page.queue() == []
    assert browser_page.errors == []


# --- the test client: sync and async, the cookie itself, faults ---------------------------------


def page_calls(js_engine: Any, response: Any) -> list[list[Any]]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return result.calls or []


@pytest.mark.django_db
def test_the_cookie_is_http_only_lax_and_lives_as_long_as_a_session(ada: Any) -> None:
    """T2/T5: no page script reads it, no other site sends it, and it holds no personal data."""
    client = Client()
    client.force_login(ada)
    with override_settings(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_AGE=1234):
        response = client.get("/page/")
    morsel = response.cookies[COOKIE_NAME]
    assert morsel.value == visitor_cookie.fingerprint(ada)
    assert morsel.value != str(ada.pk) and len(morsel.value) == 32
    assert (morsel["httponly"], morsel["samesite"], morsel["secure"]) == (True, "Lax", True)
    assert (morsel["max-age"], morsel["path"]) == (1234, "/")
    assert COOKIE_NAME not in client.get("/page/").cookies  # set once, not on every response


@pytest.mark.django_db
def test_an_anonymous_visitor_costs_nothing(client: Client) -> None:
    """T6: no cookie and no session for a visitor who never signed in, and on a response that
    does not read the session (no tag), no Vary: Cookie either: the user is not looked up."""
    for path in ("/plain/", "/page/"):
        response = client.get(path)
        assert COOKIE_NAME not in response.cookies
        assert "sessionid" not in response.cookies
    response = client.get("/live2/c")
    assert not response.cookies
    assert not response.has_header("Vary")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/page/", "/plain/"])
def test_sync_path_anonymous_and_another_user(
    js_engine: Any, ada: Any, bob: Any, path: str
) -> None:
    """T2: WSGI: anonymous with Ada's cookie gets the logout calls; Bob, signed in without our
    login receiver seeing it, gets them, then his identity with replace_existing."""
    client = Client()
    client.cookies[COOKIE_NAME] = visitor_cookie.fingerprint(ada)
    response = client.get(path)
    assert page_calls(js_engine, response)[:2] == [CLOSE, CLEAR]
    assert response.cookies[COOKIE_NAME]["max-age"] == 0
    assert page_calls(js_engine, client.get(path)) == []

    client.force_login(bob)
    client.cookies[COOKIE_NAME] = visitor_cookie.fingerprint(ada)
    response = client.get(path)
    calls = page_calls(js_engine, response)
    assert calls[:2] == [CLOSE, CLEAR]
    assert calls[-1] == ["visitor", "submit", {"username": "bob"}, "plain", True]
    assert response.cookies[COOKIE_NAME].value == visitor_cookie.fingerprint(bob)


@pytest.mark.django_db
def test_async_path_anonymous_and_another_user(js_engine: Any, ada: Any, bob: Any) -> None:
    """T2: the same through ASGI, where the user comes from auser()."""

    async def visit() -> list[Any]:
        client = AsyncClient()
        client.cookies[COOKIE_NAME] = visitor_cookie.fingerprint(ada)
        anonymous = await client.get("/async/template/")
        await client.aforce_login(bob)
        client.cookies[COOKIE_NAME] = visitor_cookie.fingerprint(ada)
        return [anonymous, await client.get("/async/template/")]

    anonymous, signed_in = async_to_sync(visit)()
    assert page_calls(js_engine, anonymous) == [CLOSE, CLEAR]
    assert anonymous.cookies[COOKIE_NAME]["max-age"] == 0
    calls = page_calls(js_engine, signed_in)
    assert calls[:2] == [CLOSE, CLEAR]
    assert calls[-1] == ["visitor", "submit", {"username": "bob"}, "plain", True]
    assert signed_in.cookies[COOKIE_NAME].value == visitor_cookie.fingerprint(bob)


@pytest.mark.django_db
def test_off_when_a_logout_does_nothing_in_the_browser(ada: Any) -> None:
    """T7: with CLOSE_CHAT_ON_LOGOUT and CLEAR_VARIABLES_ON_LOGOUT off, no cookie at all."""
    client = Client()
    client.force_login(ada)
    off = {**settings.GIOSG, "CLOSE_CHAT_ON_LOGOUT": False, "CLEAR_VARIABLES_ON_LOGOUT": False}
    with override_settings(GIOSG=off):
        assert COOKIE_NAME not in client.get("/page/").cookies


@pytest.mark.django_db
def test_a_fault_is_logged_and_the_page_still_renders(
    monkeypatch: Any, caplog: Any, ada: Any
) -> None:
    """T7: a fault in the cookie's steps (DEBUG off) is logged; the page is served."""

    def broken(user: Any) -> str:
        raise RuntimeError("hmac is down")

    monkeypatch.setattr(visitor_cookie, "fingerprint", broken)
    client = Client()
    client.cookies[COOKIE_NAME] = "someone"
    client.force_login(ada)
    with caplog.at_level(logging.ERROR, logger="giosg_django"):
        response = client.get("/page/")
    assert response.status_code == 200
    assert "hmac is down" in caplog.text
    with override_settings(DEBUG=True), pytest.raises(RuntimeError, match="hmac is down"):
        client.get("/page/")
