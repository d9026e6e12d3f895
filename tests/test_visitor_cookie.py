"""A signed-in session that ends without logout() (deleted, expired, ended by a password change
elsewhere, or dropped by the browser): the next page that browser shows for someone else closes
and hides the chat and clears the variables, as after a logout. Here through the test client
on the sync and async paths; in Chromium across real page loads with database sessions, and
with cookies planted by page scripts, in tests/browser/test_visitor_cookie.py.

The cookie that tells is the server's alone: nothing a page script or a sibling subdomain sets
(a Domain= cookie, a path-scoped one, a made-up or a replayed value) makes giosg act more than
the one round that a real ended sign-in gives."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client, override_settings

from giosg_django import visitor_cookie
from giosg_django.visitor_cookie import COOKIE_NAME

from .support.pending import stored_calls

pytestmark = pytest.mark.each_storage

CLOSE = ["chat", "close", {"hide": True}]
CLEAR = ["visitor", "removeAll"]


def cookies(page: Any) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


def who(value: str) -> str | None:
    """Whom a value of the cookie names, ``None`` when the server did not write it."""
    mark = visitor_cookie.read(value)
    return None if mark is None else mark.who


def value_for(user: Any) -> str:
    return visitor_cookie.cookie_value(visitor_cookie.fingerprint(user))


# --- the test client: sync and async, the cookie itself, faults ---------------------------------


def page_calls(js_engine: Any, response: Any) -> list[list[Any]]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return result.calls or []


@pytest.mark.django_db
@pytest.mark.parametrize("secure", [True, False])
def test_the_cookie_is_signed_http_only_host_only_and_outlives_the_session_cookie(
    ada: Any, secure: bool
) -> None:
    """T2/T5: no page script reads it, no other site sends it, no sibling subdomain receives
    it, it holds no personal data, only the server's signature makes it count, and it lives a
    year longer than the session cookie (which the browser drops first). With
    SESSION_COOKIE_SECURE, its name carries the __Host- prefix (Secure, Path=/, no Domain)."""
    client = Client()
    client.force_login(ada)
    name = visitor_cookie.SECURE_COOKIE_NAME if secure else COOKIE_NAME
    with override_settings(
        SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_AGE=1234, SESSION_COOKIE_DOMAIN=".example"
    ):
        response = client.get("/page/")
        morsel = response.cookies[name]
        assert who(morsel.value) == visitor_cookie.fingerprint(ada)
        # A keyed hash of the id, when it was written, the signature: no personal data.
        assert morsel.value.split(".")[0] == visitor_cookie.fingerprint(ada) != str(ada.pk)
        assert "ada@example.com" not in morsel.value and "Lovelace" not in morsel.value
        assert (morsel["httponly"], morsel["samesite"], bool(morsel["secure"])) == (
            True,
            "Lax",
            secure,
        )
        assert (morsel["path"], morsel["domain"]) == ("/", "")
        assert morsel["max-age"] == 1234 + 365 * 24 * 3600
        again = client.get("/page/")
        assert name not in again.cookies  # set once, not on every response
    assert {COOKIE_NAME, visitor_cookie.SECURE_COOKIE_NAME} & set(response.cookies) == {name}


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
    client.cookies[COOKIE_NAME] = value_for(ada)
    response = client.get(path)
    assert page_calls(js_engine, response)[:2] == [CLOSE, CLEAR]
    assert who(response.cookies[COOKIE_NAME].value) == visitor_cookie.NOBODY
    assert page_calls(js_engine, client.get(path)) == []

    client.force_login(bob)
    client.cookies[COOKIE_NAME] = value_for(ada)
    response = client.get(path)
    calls = page_calls(js_engine, response)
    assert calls[:2] == [CLOSE, CLEAR]
    assert calls[-1] == ["visitor", "submit", {"username": "bob"}, "plain", True]
    assert who(response.cookies[COOKIE_NAME].value) == visitor_cookie.fingerprint(bob)


@pytest.mark.django_db
def test_async_path_anonymous_and_another_user(js_engine: Any, ada: Any, bob: Any) -> None:
    """T2: the same through ASGI, where the user comes from auser()."""

    async def visit() -> list[Any]:
        client = AsyncClient()
        client.cookies[COOKIE_NAME] = value_for(ada)
        anonymous = await client.get("/async/template/")
        # Read now: the client shares the response's cookie objects, and changes them below.
        left = who(anonymous.cookies[COOKIE_NAME].value)
        await client.aforce_login(bob)
        client.cookies[COOKIE_NAME] = value_for(ada)
        return [anonymous, left, await client.get("/async/template/")]

    anonymous, left, signed_in = async_to_sync(visit)()
    assert page_calls(js_engine, anonymous) == [CLOSE, CLEAR]
    assert left == visitor_cookie.NOBODY
    calls = page_calls(js_engine, signed_in)
    assert calls[:2] == [CLOSE, CLEAR]
    assert calls[-1] == ["visitor", "submit", {"username": "bob"}, "plain", True]
    assert who(signed_in.cookies[COOKIE_NAME].value) == visitor_cookie.fingerprint(bob)


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


@pytest.mark.django_db
@pytest.mark.parametrize("age", ["fresh", "half-a-margin", "past-its-life"])
def test_the_cookie_is_written_again_before_it_could_expire_first(
    js_engine: Any, ada: Any, age: str
) -> None:
    """T2: however often Django re-sets the session cookie (SESSION_SAVE_EVERY_REQUEST), the
    giosg cookie expires later: it is written again once half its year of margin has passed.
    A value older than the cookie's life never counts (T5: a replayed old value)."""
    now = int(time.time() * 1000)
    written = {
        "fresh": now - 1000,
        "half-a-margin": now - visitor_cookie.REWRITE_AFTER_MS - 1000,
        "past-its-life": now - visitor_cookie.lifetime() * 1000 - 1000,
    }[age]
    old = visitor_cookie.cookie_value(visitor_cookie.fingerprint(ada), written=written)
    client = Client()
    client.force_login(ada)
    client.cookies[COOKIE_NAME] = old
    with override_settings(SESSION_SAVE_EVERY_REQUEST=True):
        response = client.get("/page/")
    assert "sessionid" in response.cookies
    rewritten = response.cookies.get(COOKIE_NAME)
    if age == "fresh":
        assert rewritten is None
    else:
        assert rewritten is not None and rewritten.value != old
        mark = visitor_cookie.read(rewritten.value)
        assert mark is not None and mark.who == visitor_cookie.fingerprint(ada)
        assert mark.written >= now

    anonymous = Client()
    anonymous.cookies[COOKIE_NAME] = old
    acted = CLOSE in page_calls(js_engine, anonymous.get("/page/"))
    assert acted is (age != "past-its-life")


# --- several cookies of the name in one request -------------------------------------------------


def header(*values: str, session: str | None = None) -> str:
    parts = [f"{COOKIE_NAME}={value}" for value in values]
    if session is not None:
        parts.append(f"{settings.SESSION_COOKIE_NAME}={session}")
    return "; ".join(parts)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "values", "acts"),
    [
        # A planted value (older) beside the server's "nobody" (newer): nothing ended.
        (None, ["bob:old", "nobody:new"], False),
        # A real ended sign-in, newer than a planted "nobody": it counts.
        (None, ["nobody:old", "ada:new"], True),
        # Made-up values never count, before or after the real one.
        (None, ["forged", "ada:new", "x.1.y"], True),
        (None, ["forged", "nobody:new"], False),
        # A value naming the signed-in user is hers: nothing ended, whichever is newer.
        ("ada", ["bob:new", "ada:old"], False),
        ("ada", ["ada:new", "bob:old"], False),
        # Bob signed in over Ada's ended sign-in (the newest names her).
        ("bob", ["nobody:old", "ada:new"], True),
    ],
)
def test_several_cookies_of_the_name_a_value_naming_the_user_else_the_newest_counts(
    js_engine: Any, ada: Any, bob: Any, user: str | None, values: list[str], acts: bool
) -> None:
    """T5: the Cookie header carries the name several times (a planted Domain= or
    path-scoped cookie beside the server's; Django keeps only the last): each value is
    verified, one naming the signed-in user means nothing ended, else the newest one counts;
    the server then writes its own again when it is not the newest, so it is newer than
    anything planted before."""
    now = int(time.time() * 1000)
    people = {"ada": ada, "bob": bob}

    def value(spec: str) -> str:
        name, _, when = spec.partition(":")
        if not when:
            return name  # made up
        written = now - (60_000 if when == "old" else 1000)
        fingerprint = (
            visitor_cookie.NOBODY if name == "nobody" else visitor_cookie.fingerprint(people[name])
        )
        return visitor_cookie.cookie_value(fingerprint, written=written)

    client = Client()
    session = None
    if user is not None:
        client.force_login(people[user])
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.get("/page/", HTTP_COOKIE=header(*map(value, values), session=session))
    calls = page_calls(js_engine, response)
    assert (calls[:2] == [CLOSE, CLEAR]) is acts
    assert CLOSE not in calls[2:]
    written = response.cookies.get(COOKIE_NAME)
    newest = max(values, key=lambda spec: spec.endswith(":new"))
    if user is not None:
        expected = visitor_cookie.fingerprint(people[user])
        if newest == f"{user}:new":
            assert written is None
        else:
            assert written is not None and who(written.value) == expected
    elif acts:
        assert written is not None and who(written.value) == visitor_cookie.NOBODY


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_hostile_values_are_ignored_without_a_fault(js_engine: Any, ada: Any, debug: bool) -> None:
    """T5/T7: values no server wrote (empty, separators only, a forged signature, the
    fingerprint alone as before, quotes, 4 kB, non-ASCII) make giosg act on nothing, write
    nothing and fail nothing, with DEBUG on or off."""
    real = value_for(ada)
    hostile = [
        "",
        ":",
        ".",
        "=",
        f"{visitor_cookie.fingerprint(ada)}",
        real[:-1] + ("A" if real[-1] != "A" else "B"),
        real.replace(visitor_cookie.fingerprint(ada), "0" * 32),
        f'"{real}"',
        "x" * 4000,
        "\u00e9t\u00e9:sig",
    ]
    client = Client()
    with override_settings(DEBUG=debug):
        response = client.get("/page/", HTTP_COOKIE=header(*hostile))
    assert response.status_code == 200
    assert page_calls(js_engine, response) == []
    assert COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_with_secure_cookies_only_the_host_prefixed_name_counts(js_engine: Any, ada: Any) -> None:
    """T5: with SESSION_COOKIE_SECURE the server's cookie is __Host-giosg_django_user, which no
    sibling subdomain can set; a giosg_django_user cookie (a sibling can toss one) is ignored,
    even with a valid value."""
    with override_settings(SESSION_COOKIE_SECURE=True):
        tossed = Client()
        tossed.cookies[COOKIE_NAME] = value_for(ada)
        assert CLOSE not in page_calls(js_engine, tossed.get("/page/"))
        own = Client()
        own.cookies[visitor_cookie.SECURE_COOKIE_NAME] = value_for(ada)
        assert page_calls(js_engine, own.get("/page/"))[:2] == [CLOSE, CLEAR]


@pytest.mark.django_db
def test_a_visitor_whose_sign_in_ended_costs_no_session(ada: Any) -> None:
    """T6: the cookie that names nobody stays (so that a planted value is never acted on
    again), and costs nothing: no session is read or made, no Vary: Cookie."""
    client = Client()
    client.cookies[COOKIE_NAME] = visitor_cookie.cookie_value(visitor_cookie.NOBODY)
    for path in ("/plain/", "/page/", "/live2/c"):
        assert not client.get(path).cookies
    assert not client.get("/live2/c").has_header("Vary")  # the user is not looked up


# --- consent refused (ENABLED false) -------------------------------------------------------------

CONSENT = {**settings.GIOSG, "ENABLED": "tests.support.views.consent_given"}


@pytest.mark.django_db
def test_with_consent_refused_the_cookie_is_not_set_nor_acted_on(js_engine: Any, ada: Any) -> None:
    """Privacy (T2 for the next person stays covered once consent is given): with ENABLED
    false for the request, a signed-in user gets no cookie; a cookie set before is deleted and
    queues nothing, so the page after consent is given closes no chat."""
    with override_settings(GIOSG=CONSENT):
        signed_in = Client()
        signed_in.cookies["giosg_consent"] = "no"
        signed_in.force_login(ada)
        assert COOKIE_NAME not in signed_in.get("/page/").cookies
        signed_in.cookies["giosg_consent"] = "yes"
        assert who(signed_in.get("/page/").cookies[COOKIE_NAME].value) == (
            visitor_cookie.fingerprint(ada)
        )

        refused = Client()
        refused.cookies[COOKIE_NAME] = value_for(ada)
        refused.cookies["giosg_consent"] = "no"
        response = refused.get("/page/")
        assert page_calls(js_engine, response) == []
        assert response.cookies[COOKIE_NAME]["max-age"] == 0
        refused.cookies["giosg_consent"] = "yes"
        assert page_calls(js_engine, refused.get("/page/")) == []


def enabled_after_a_query(request: Any) -> bool:
    """An ENABLED hook that queries the database (a staff opt-out, a consent record)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.exists()


@pytest.mark.django_db
def test_async_path_calls_an_enabled_hook_that_queries_the_database_in_a_thread(
    js_engine: Any, ada: Any, bob: Any
) -> None:
    """T7: on the async path the cookie's steps call ENABLED, which may query the database:
    never in the event loop (SynchronousOnlyOperation, raised with DEBUG on)."""
    hooked = {**settings.GIOSG, "ENABLED": f"{__name__}.enabled_after_a_query"}

    async def visit() -> list[Any]:
        client = AsyncClient()
        client.cookies[COOKIE_NAME] = value_for(ada)
        await client.aforce_login(bob)
        return [await client.get("/async/template/")]

    with override_settings(GIOSG=hooked, DEBUG=True):
        [response] = async_to_sync(visit)()
    calls = page_calls(js_engine, response)
    assert calls[:2] == [CLOSE, CLEAR]
    assert who(response.cookies[COOKIE_NAME].value) == visitor_cookie.fingerprint(bob)


# --- the HMACs kept per process (memo) ------------------------------------------------------------


@pytest.mark.django_db
def test_kept_verdicts_and_fingerprints_follow_secret_key(ada: Any) -> None:
    """Whether the server wrote a value, and whom a fingerprint names, are kept per process
    (an HMAC each, on every page): a SECRET_KEY change drops them, so a value the old key
    signed no longer counts, and a fallback key still verifies as Django's signer does."""
    old_fingerprint = visitor_cookie.fingerprint(ada)
    value = visitor_cookie.cookie_value(old_fingerprint)
    assert who(value) == old_fingerprint  # kept now
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        assert who(value) is None
        assert visitor_cookie.fingerprint(ada) != old_fingerprint
    with override_settings(
        SECRET_KEY="another-secret-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        assert who(value) == old_fingerprint
    assert who(value) == old_fingerprint and visitor_cookie.fingerprint(ada) == old_fingerprint


def test_a_long_planted_value_is_verified_each_time_never_kept() -> None:
    """Memory stays bounded by what the server writes (~90 characters a value)."""
    kept = len(visitor_cookie._VERIFIED)
    planted = "x" * 4000
    assert visitor_cookie.read(planted) is None
    # A value no run of this test (one per store) has read before.
    assert visitor_cookie.read(secrets.token_hex(50)) is None
    assert len(visitor_cookie._VERIFIED) == kept + 1  # the short one only


@pytest.mark.django_db
def test_a_fallback_key_removed_alone_drops_the_kept_verdicts(ada: Any) -> None:
    """A value signed with a key that became a fallback, then was removed from the fallbacks
    (SECRET_KEY unchanged), no longer counts."""
    new_key = "the-new-secret-key-" + "n" * 40
    value = visitor_cookie.cookie_value(visitor_cookie.fingerprint(ada))
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert who(value) is not None
        with override_settings(SECRET_KEY_FALLBACKS=[]):
            assert who(value) is None


@pytest.mark.django_db
def test_a_quiet_request_that_signs_in_without_login_gets_the_cookie(ada: Any) -> None:
    """An anonymous visitor with nothing waiting (no Visit made) whose view writes a signed-in
    session itself (no login(), so no receiver ran): the cookie is written on that response."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse
    from django.test import RequestFactory

    from giosg_django.middleware import GiosgMiddleware

    def view(request: Any) -> HttpResponse:
        request.session[SESSION_KEY] = str(ada.pk)
        request.session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        request.session[HASH_SESSION_KEY] = ada.get_session_auth_hash()
        request.session.save()
        request.user = ada
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    response = GiosgMiddleware(view)(request)
    assert who(response.cookies[COOKIE_NAME].value) == visitor_cookie.fingerprint(ada)


@pytest.mark.django_db
def test_a_quiet_request_that_logs_in_gets_the_cookie_and_stores_the_change(ada: Any) -> None:
    from django.contrib.auth import login
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse
    from django.test import RequestFactory

    from giosg_django.middleware import GiosgMiddleware

    def view(request: Any) -> HttpResponse:
        login(request, ada, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponse(status=302)

    request = RequestFactory().post("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    response = GiosgMiddleware(view)(request)
    assert who(response.cookies[COOKIE_NAME].value) == visitor_cookie.fingerprint(ada)
    # The identity change waits for the next page.
    assert stored_calls(response.cookies, request.session)


@pytest.mark.django_db
def test_the_end_step_asks_whether_giosg_is_on_once(ada: Any, monkeypatch: Any) -> None:
    """ENABLED may be the project's callable (a query): the end step asks once, also when the
    newest value names this very user and consent is refused (the cookie is then deleted)."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from giosg_django.visit import Visit

    asked: list[bool] = []

    def refused(request: Any) -> bool:
        asked.append(True)
        return False

    monkeypatch.setattr(visitor_cookie, "is_on", refused)
    factory = RequestFactory()
    factory.cookies[COOKIE_NAME] = value_for(ada)
    request = factory.get("/")
    visitor_cookie.at_request_start(request, Visit(request), ada)  # names ada: no question
    assert asked == []
    response = HttpResponse()
    visitor_cookie.at_response(request, response, ada)
    assert asked == [True]
    assert response.cookies[COOKIE_NAME]["max-age"] == 0
