"""Identity and lifecycle in headless Chromium, with Django's real LoginView and LogoutView and
real session backends: sign in, signed identity, log out, switch users, login goal, consent,
the cap."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import override_settings

from ..support.cases import KEY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKENDS = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.signed_cookies",
]
TTL = 600


def giosg(**overlay: Any) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


def sign_in(browser_page: Any, url: str, username: str, password: str = "pw") -> None:
    page = browser_page.page
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login button")
    assert page.url == f"{url}/page/"


def log_out(browser_page: Any, url: str) -> None:
    page = browser_page.page
    with page.expect_navigation():
        page.click("#logout button")
    assert page.url == f"{url}/page/"


def verify(token: str, algorithm: str) -> dict[str, Any]:
    """The token's payload, checked the way giosg checks it."""
    payload: dict[str, Any] = jwt.decode(token, KEY, algorithms=[algorithm])
    assert isinstance(payload["exp"], int)
    assert 0 < payload["exp"] - time.time() <= TTL
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY[:-1] + "x", algorithms=[algorithm])
    return payload


@pytest.fixture
def users(django_user_model: Any) -> Any:
    django_user_model.objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )
    django_user_model.objects.create_user("bob", "", "pw")
    return django_user_model


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda p: p.rsplit(".", 1)[1])
@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_sign_in_signed_identity_and_log_out(
    live_server: Any, browser_page: Any, users: Any, algorithm: str, backend: str
) -> None:
    url = live_server.url
    with (
        override_settings(SESSION_ENGINE=backend),
        giosg(SIGNING_KEY=KEY, SIGNING_ALGORITHM=algorithm, TOKEN_TTL=TTL, LOGIN_GOAL="login-goal"),
    ):
        browser_page.goto(f"{url}/page/")
        assert browser_page.queue() == []  # anonymous: the loader, no identity

        sign_in(browser_page, url, "ada")
        goal, submit = browser_page.queue()
        assert goal == ["goal", "matches", "login-goal"]
        # The first identity after a login replaces what was attached before.
        assert submit[:2] == ["visitor", "submit"] and submit[3:] == [algorithm, True]
        payload = verify(submit[2], algorithm)
        assert payload.keys() == {"username", "email", "exp"}
        assert (payload["username"], payload["email"]) == ("Ada Lovelace", "ada@example.com")
        assert KEY not in browser_page.page.content()

        browser_page.goto(f"{url}/page/")
        [submit] = browser_page.queue()
        assert submit[:2] == ["visitor", "submit"] and submit[3:] == [algorithm]
        assert verify(submit[2], algorithm)["username"] == "Ada Lovelace"

        log_out(browser_page, url)
        assert browser_page.queue() == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
        browser_page.goto(f"{url}/page/")
        assert browser_page.queue() == []
    assert browser_page.errors == []


def test_switching_users_without_logging_out(
    live_server: Any, browser_page: Any, users: Any
) -> None:
    url = live_server.url
    with giosg(SIGNING_KEY=KEY):
        sign_in(browser_page, url, "ada")
        sign_in(browser_page, url, "bob")  # login() flushes ada's session
        [submit] = browser_page.queue()
        assert submit[3:] == ["HS256", True]
        assert verify(submit[2], "HS256") == {"username": "bob", "exp": submit_exp(submit)}


def submit_exp(submit: list[Any]) -> int:
    exp: int = jwt.decode(submit[2], options={"verify_signature": False})["exp"]
    return exp


def test_a_view_that_logs_out_and_renders_the_page_itself(
    live_server: Any, browser_page: Any, users: Any
) -> None:
    url = live_server.url
    sign_in(browser_page, url, "ada")
    browser_page.goto(f"{url}/logout-here/")
    assert browser_page.page.text_content("#body") == "logged out"
    assert browser_page.queue() == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
    browser_page.goto(f"{url}/page/")
    assert browser_page.queue() == []


def test_logout_parts_follow_the_settings(live_server: Any, browser_page: Any, users: Any) -> None:
    url = live_server.url
    with giosg(CLOSE_CHAT_ON_LOGOUT=False):
        sign_in(browser_page, url, "ada")
        log_out(browser_page, url)
        assert browser_page.queue() == [["visitor", "removeAll"]]
    with giosg(CLEAR_VARIABLES_ON_LOGOUT=False):
        sign_in(browser_page, url, "ada")
        log_out(browser_page, url)
        assert browser_page.queue() == [["chat", "close", {"hide": True}]]


def test_consent_cookie_flips_enabled(live_server: Any, browser_page: Any, users: Any) -> None:
    url = live_server.url
    page = browser_page.page
    with giosg(ENABLED="tests.support.views.consent_given"):
        sign_in(browser_page, url, "ada")
        page.goto(f"{url}/consent/no/")
        assert browser_page.queue() is None  # no giosg on the page at all
        assert page.evaluate("() => typeof window._giosg") == "undefined"
        requests_before = len(browser_page.giosg_requests)
        page.evaluate("() => fetch('/queue/while-declined/json/')")
        page.goto(f"{url}/page/")
        assert browser_page.queue() is None
        assert len(browser_page.giosg_requests) == requests_before

        page.goto(f"{url}/consent/yes/")
        goal, submit = browser_page.queue()
        assert goal == ["goal", "matches", "while-declined"]  # it waited
        assert submit[:2] == ["visitor", "submit"]
        page.goto(f"{url}/page/")
        assert [call[:2] for call in browser_page.queue()] == [["visitor", "submit"]]


def test_the_cap_keeps_the_newest_calls(live_server: Any, browser_page: Any) -> None:
    url = live_server.url
    page = browser_page.page
    with giosg(MAX_PENDING=3):
        page.goto(f"{url}/page/")
        for goal in ["a", "b", "c", "d", "e"]:
            page.evaluate(f"() => fetch('/queue/{goal}/json/')")
        page.goto(f"{url}/page/")
        assert browser_page.queue() == [["goal", "matches", goal] for goal in ["c", "d", "e"]]
