"""Identity from request.user, signing, caching headers, faults, async, and ``giosg_token``."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.test import AsyncClient, Client, RequestFactory, override_settings

from giosg_django import signing
from giosg_django.identity import default_visitor_variables

from .models import Member
from .support.cases import KEY

pytestmark = pytest.mark.django_db


def giosg(**overlay: Any) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


def queue(js_engine: Any, response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return result.calls or []


# --- the default variables --------------------------------------------------------------------


def request_for(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_default_variables_full_name_and_email(ada: Any) -> None:
    assert default_visitor_variables(request_for(ada)) == {
        "username": "Ada Lovelace",
        "email": "ada@example.com",
    }


def test_default_variables_fall_back_to_the_username(django_user_model: Any) -> None:
    bob = django_user_model(username="bob", first_name=" ", email="")
    assert default_visitor_variables(request_for(bob)) == {"username": "bob"}


def test_default_variables_with_a_custom_user_model_without_email_or_names() -> None:
    assert default_visitor_variables(request_for(Member(handle="m-1"))) == {"username": "m-1"}


def test_no_variables_for_an_anonymous_visitor() -> None:
    assert default_visitor_variables(request_for(AnonymousUser())) is None


# --- identity on the page ---------------------------------------------------------------------


def test_plain_identity_without_a_key(ada_client: Client, js_engine: Any) -> None:
    calls = queue(js_engine, ada_client.get("/page/"))
    assert calls == [
        ["visitor", "submit", {"username": "Ada Lovelace", "email": "ada@example.com"}]
    ]


def test_anonymous_gets_no_identity(client: Client, js_engine: Any) -> None:
    assert queue(js_engine, client.get("/page/")) == []


@giosg(
    VISITOR_VARIABLES="tests.support.views.variables_with_plan",
    VISITOR_IDENTIFIER="tests.support.views.identifier",
)
def test_custom_variables_and_identifier_come_after_the_pending_calls(
    ada: Any, ada_client: Client, js_engine: Any
) -> None:
    calls = queue(js_engine, ada_client.get("/queue/g1/page/"))
    assert calls == [
        ["goal", "matches", "g1"],
        ["visitor", "submit", {"username": "ada", "plan": "pro"}],
        ["visitor", "setIdentifier", f"customer-{ada.pk}"],
    ]


@giosg(VISITOR_VARIABLES="tests.support.views.nothing", VISITOR_IDENTIFIER=lambda request: None)
def test_a_callable_returning_none_sends_nothing(ada_client: Client, js_engine: Any) -> None:
    assert queue(js_engine, ada_client.get("/page/")) == []


@giosg(VISITOR_VARIABLES=None)
def test_variables_turned_off(ada_client: Client, js_engine: Any) -> None:
    assert queue(js_engine, ada_client.get("/page/")) == []


@giosg(SIGNING_KEY=KEY, SIGNING_ALGORITHM="HS512", TOKEN_TTL=120)
def test_signed_identity_and_the_key_never_in_the_response(
    ada_client: Client, js_engine: Any
) -> None:
    response = ada_client.get("/page/")
    [[module, method, token, algorithm]] = queue(js_engine, response)
    assert (module, method, algorithm) == ("visitor", "submit", "HS512")
    payload = jwt.decode(token, KEY, algorithms=["HS512"])
    assert payload.pop("exp") - time.time() <= 120
    assert payload == {"username": "Ada Lovelace", "email": "ada@example.com"}
    assert KEY.encode() not in response.content


@giosg(SIGNING_KEY=KEY, TOKEN_TTL=600)
def test_a_call_that_waited_is_signed_when_rendered(
    client: Client, js_engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(signing.time, "time", lambda: 1_000_000.0)
    client.get("/cases/submit-basic/json/")  # queued, not rendered
    monkeypatch.setattr(signing.time, "time", lambda: 2_000_000.0)
    [[_, _, token, _]] = queue(js_engine, client.get("/page/"))
    payload = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert payload["exp"] == 2_000_600


def test_identity_pages_are_private_and_vary_on_cookie(ada_client: Client) -> None:
    response = ada_client.get("/page/")
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_an_anonymous_page_with_nothing_for_the_visitor_stays_cacheable(client: Client) -> None:
    response = client.get("/plain/")
    assert not response.has_header("Cache-Control")


# --- faults -----------------------------------------------------------------------------------


@giosg(
    VISITOR_VARIABLES="tests.support.views.broken",
    VISITOR_IDENTIFIER="tests.support.views.identifier",
)
def test_a_raising_callable_is_logged_and_left_out_when_debug_is_off(
    ada: Any, ada_client: Client, js_engine: Any, caplog: Any
) -> None:
    with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, logger="giosg_django"):
        calls = queue(js_engine, ada_client.get("/page/"))
    assert calls == [["visitor", "setIdentifier", f"customer-{ada.pk}"]]
    assert "the CRM is down" in caplog.text


@giosg(VISITOR_VARIABLES="tests.support.views.broken")
def test_a_raising_callable_raises_when_debug_is_on(ada_client: Client) -> None:
    with override_settings(DEBUG=True), pytest.raises(RuntimeError, match="the CRM is down"):
        ada_client.get("/page/")


@override_settings(SESSION_ENGINE="tests.support.sessions_broken")
def test_a_session_store_that_is_down_leaves_the_page_intact(
    client: Client, js_engine: Any, caplog: Any
) -> None:
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
    with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, logger="giosg_django"):
        response = client.get("/plain/")
        assert queue(js_engine, response) == []  # the loader, without the failed parts
        assert b'<p id="body">plain</p>' in response.content
    assert "session store is down" in caplog.text
    with override_settings(DEBUG=True), pytest.raises(ConnectionError):
        client.get("/plain/")


# --- async ------------------------------------------------------------------------------------


@giosg(SIGNING_KEY=KEY)
def test_async_path_with_a_signed_in_user(ada: Any, js_engine: Any) -> None:
    async def visit() -> list[Any]:
        client = AsyncClient()
        await client.aforce_login(ada)
        await client.get("/async/queue/g1/")
        return [
            await client.get("/async/template/"),
            await client.get("/async/in-loop/"),
            await client.get("/async/logout/"),
            await client.get("/async/in-loop/"),
        ]

    template, in_loop, logout, after = async_to_sync(visit)()
    goal, submit = queue(js_engine, template)
    assert goal == ["goal", "matches", "g1"]
    assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["username"] == "Ada Lovelace"
    [submit] = queue(js_engine, in_loop)
    assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["email"] == "ada@example.com"
    assert queue(js_engine, logout) == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
    assert queue(js_engine, after) == []


@giosg(SIGNING_KEY=None)
def test_async_path_with_a_projects_own_lazy_user(ada: Any, js_engine: Any) -> None:
    """(Review) An async view whose request.user is another lazy object, unresolved (resolving
    it in the event loop would query synchronously): the identity is the middleware's user."""

    async def visit() -> Any:
        client = AsyncClient()
        await client.aforce_login(ada)
        return await client.get("/async/lazy-user-in-loop/")

    variables = {"username": "Ada Lovelace", "email": "ada@example.com"}
    assert queue(js_engine, async_to_sync(visit)()) == [["visitor", "submit", variables]]


@giosg(SIGNING_KEY=KEY)
def test_sync_path_gives_the_same_calls(ada: Any, js_engine: Any) -> None:
    client = Client()
    client.force_login(ada)
    client.get("/async/queue/g1/")
    goal, submit = queue(js_engine, client.get("/async/template/"))
    assert goal == ["goal", "matches", "g1"]
    assert submit[:2] == ["visitor", "submit"] and submit[3:] == ["HS256"]
    assert queue(js_engine, client.get("/logout-here/")) == [
        ["chat", "close", {"hide": True}],
        ["visitor", "removeAll"],
    ]


# --- manage.py giosg_token --------------------------------------------------------------------


@giosg(SIGNING_KEY=KEY, SIGNING_ALGORITHM="HS384", TOKEN_TTL=300)
def test_giosg_token_prints_the_token_and_its_payload(ada: Any) -> None:
    out = io.StringIO()
    call_command("giosg_token", "ada", stdout=out)
    token, *rest = out.getvalue().splitlines()
    payload = jwt.decode(token, KEY, algorithms=["HS384"])
    assert payload["username"] == "Ada Lovelace"
    text = "\n".join(rest)
    assert '"email": "ada@example.com"' in text and f'"exp": {payload["exp"]}' in text
    assert "HS384, expires" in text
    assert KEY not in out.getvalue()


def test_giosg_token_unknown_user() -> None:
    with (
        giosg(SIGNING_KEY=KEY),
        pytest.raises(CommandError, match="No user with username 'nobody'"),
    ):
        call_command("giosg_token", "nobody")


def test_giosg_token_without_a_key(ada: Any) -> None:
    with pytest.raises(CommandError, match="SIGNING_KEY'] is not set"):
        call_command("giosg_token", "ada")


def test_giosg_token_host_not_allowed(ada: Any) -> None:
    with (
        override_settings(ALLOWED_HOSTS=["example.com"]),
        giosg(SIGNING_KEY=KEY),
        pytest.raises(CommandError, match=r"'evil\.example' is not in ALLOWED_HOSTS"),
    ):
        call_command("giosg_token", "ada", "--host", "evil.example")


def test_giosg_token_settings_callable_fails(ada: Any) -> None:
    def broken(request: Any) -> str:
        raise KeyError("GIOSG_SIGNING_KEY")

    with giosg(SIGNING_KEY=broken), pytest.raises(CommandError, match="A GIOSG setting failed"):
        call_command("giosg_token", "ada")


# --- request.user read through its lazy proxy, afresh on every use ----------------------------


def test_the_identity_is_of_the_user_the_view_leaves_on_the_request(
    ada: Any, bob: Any, js_engine: Any
) -> None:
    """giosg reads the object behind request.user's SimpleLazyObject, never kept: a view (or
    a middleware) that puts another user on the request is identified as that user."""
    from django.template import engines
    from django.utils.functional import SimpleLazyObject

    from giosg_django.middleware import GiosgMiddleware

    template = engines["django"].from_string("{% load giosg %}<p>{% giosg_visitor %}</p>")

    def view(request: Any) -> Any:
        from django.http import HttpResponse

        first = template.render({}, request)
        request.user = SimpleLazyObject(lambda: bob)
        return HttpResponse(first + template.render({}, request))

    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: ada)
    response = GiosgMiddleware(view)(request)
    submits = [args[2] for args in queue(js_engine, response) if args[:2] == ["visitor", "submit"]]
    assert [variables["username"] for variables in submits] == ["Ada Lovelace", "bob"]


# --- impersonation is django-hijack's ---------------------------------------------------------


def test_without_django_hijack_installed_nobody_counts_as_impersonated(
    ada: Any, js_engine: Any
) -> None:
    """``is_hijacked`` and the session's ``hijack_history`` are django-hijack's: without the
    app installed (read once, again when INSTALLED_APPS changes) neither hides the identity."""
    from django.template import engines

    from giosg_django.identity import hijack_installed, is_impersonated
    from giosg_django.middleware import GiosgMiddleware

    template = engines["django"].from_string("{% load giosg %}{% giosg_visitor %}")

    def page() -> list[list[Any]]:
        from django.http import HttpResponse

        request = RequestFactory().get("/")
        ada.is_hijacked = True
        request.user = ada
        response = GiosgMiddleware(lambda r: HttpResponse(template.render({}, r)))(request)
        return [call for call in queue(js_engine, response) if call[:2] == ["visitor", "submit"]]

    assert hijack_installed()
    assert page() == []  # installed (the test settings): hidden
    apps = [app for app in settings.INSTALLED_APPS if app != "hijack"]
    with override_settings(INSTALLED_APPS=apps):
        assert not hijack_installed()
        assert not is_impersonated(request_for(ada))
        assert [call[2]["username"] for call in page()] == ["Ada Lovelace"]
    assert hijack_installed()
    assert page() == []
