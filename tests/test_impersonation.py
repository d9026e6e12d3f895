"""Impersonation with django-hijack, through its real acquire and release views.

An admin signs in with Django's LoginView, acquires another user with hijack's acquire view
(a POST with the CSRF token, as hijack's button sends it) and later releases them with the
release view. While the user is impersonated, giosg gets no identity and no identifier of
theirs, and the variables attached before are cleared on the change of user; the release
brings the admin's identity back with ``replace_existing``. ``IDENTIFY_IMPERSONATED=True``
identifies the impersonated user as any signed-in user.

hijack's app and URLs are in the shared test settings; its middleware is added here only
(``WITH_HIJACK``, at the end as its docs say): it reads the session on every response, so
installed everywhere it would turn the suite's "session store is down" page into a 500 of
its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client, override_settings
from django.urls import include, path, reverse
from hijack.views import AcquireUserView

from giosg_django.testing import giosg_calls

from .support.cases import KEY
from .support.servers import wsgi_server

pytestmark = pytest.mark.django_db

HIJACK = "hijack.middleware.HijackUserMiddleware"
GIOSG = "giosg_django.middleware.GiosgMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
ADMIN = {"username": "Grace Hopper", "email": "grace@example.com"}
BOB = {"username": "Bob Builder", "email": "bob@example.com"}
IDENTIFIER = "tests.support.views.identifier"  # "customer-<pk>" for a signed-in user
CLEAR = ["visitor", "removeAll"]


WITH_HIJACK = [*settings.MIDDLEWARE, HIJACK]


def giosg(**overlay: Any) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


@pytest.fixture(autouse=True)
def _hijack_middleware() -> Iterator[None]:
    # A test client loads the middleware on its first request, so every client here has it.
    with override_settings(MIDDLEWARE=WITH_HIJACK):
        yield


@pytest.fixture
def admin(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(
        "grace", "grace@example.com", "pw", first_name="Grace", last_name="Hopper"
    )


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        "bob", "bob@example.com", "pw", first_name="Bob", last_name="Builder"
    )


def calls(js_engine: Any, response: Any) -> list[list[Any]]:
    """What giosg's queue receives from the page (run in node), checked against the parser
    in ``giosg_django.testing``."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    found = result.calls or []
    assert [[call.module, call.method, *call.args] for call in giosg_calls(response)] == found
    return found


def giosg_script_text(js_engine: Any, response: Any) -> str:
    """The text of the page's inline scripts (giosg's), not the page's visible text."""
    return "".join(script["text"] for script in js_engine.run(response.content.decode()).scripts)


def sign_in(client: Client, username: str) -> Any:
    response = client.post(
        "/accounts/login/", {"username": username, "password": "pw"}, follow=True
    )
    assert response.redirect_chain == [("/page/", 302)]
    return response


def is_hijacked(response: Any) -> bool:
    """django-hijack's own verdict on the request that rendered ``response``."""
    return bool(getattr(response.wsgi_request.user, "is_hijacked", False))


def acquire(client: Client, user: Any) -> Any:
    """hijack's acquire view, as its button posts it; the redirect is followed to /page/."""
    response = client.post("/hijack/acquire/", {"user_pk": user.pk, "next": "/page/"}, follow=True)
    assert response.redirect_chain == [("/page/", 302)]
    assert is_hijacked(response)
    return response


def release(client: Client) -> Any:
    response = client.post("/hijack/release/", {"next": "/page/"}, follow=True)
    assert response.redirect_chain == [("/page/", 302)]
    assert not is_hijacked(response)
    return response


def submit(variables: dict[str, Any], *rest: Any) -> list[Any]:
    return ["visitor", "submit", variables, *rest]


def identify(pk: int) -> list[Any]:
    return ["visitor", "setIdentifier", f"customer-{pk}"]


# --- hijack is installed as its docs say ------------------------------------------------------


def test_hijack_is_configured_as_its_docs_say() -> None:
    assert "hijack" in settings.INSTALLED_APPS
    assert settings.MIDDLEWARE.index(HIJACK) > settings.MIDDLEWARE.index(AUTH)
    assert reverse("hijack:acquire") == "/hijack/acquire/"
    assert reverse("hijack:release") == "/hijack/release/"


# --- acquire, pages while impersonating, release ----------------------------------------------


@giosg(VISITOR_IDENTIFIER=IDENTIFIER)
def test_acquire_sends_nothing_of_the_user_and_clears_release_brings_the_admin_back(
    client: Client, js_engine: Any, admin: Any, bob: Any
) -> None:
    signed_in = sign_in(client, "grace")
    assert calls(js_engine, signed_in) == [submit(ADMIN, "plain", True), identify(admin.pk)]
    assert calls(js_engine, client.get("/page/")) == [submit(ADMIN), identify(admin.pk)]

    hijacked = acquire(client, bob)
    # The change of user clears the admin's variables; nothing of bob is sent.
    assert calls(js_engine, hijacked) == [CLEAR]
    assert b"djhj" in hijacked.content  # hijack's own notice is on the page
    for _ in range(2):  # every further page while impersonating: nothing identifying
        page = client.get("/page/")
        assert is_hijacked(page)
        assert calls(js_engine, page) == []
        scripts = giosg_script_text(js_engine, page)
        assert "bob" not in scripts.lower() and f"customer-{bob.pk}" not in scripts

    released = release(client)
    assert calls(js_engine, released) == [submit(ADMIN, "plain", True), identify(admin.pk)]
    assert calls(js_engine, client.get("/page/")) == [submit(ADMIN), identify(admin.pk)]


@giosg(SIGNING_KEY=KEY, VISITOR_IDENTIFIER=IDENTIFIER)
def test_signed_identity_around_an_impersonation(
    client: Client, js_engine: Any, admin: Any, bob: Any
) -> None:
    sign_in(client, "grace")
    assert calls(js_engine, acquire(client, bob)) == [CLEAR]
    assert calls(js_engine, client.get("/page/")) == []

    [[_, _, token, algorithm, replace], identifier] = calls(js_engine, release(client))
    assert (algorithm, replace, identifier) == ("HS256", True, identify(admin.pk))
    payload = jwt.decode(token, KEY, algorithms=["HS256"])
    assert 0 < payload.pop("exp") - time.time() <= 600
    assert payload == ADMIN


@giosg(VISITOR_IDENTIFIER=IDENTIFIER)
def test_calls_queued_while_impersonating_are_still_delivered(
    client: Client, js_engine: Any, admin: Any, bob: Any
) -> None:
    # Only the identity is held back: the site's own calls go to giosg as always.
    sign_in(client, "grace")
    acquire(client, bob)
    assert calls(js_engine, client.get("/queue/g1/redirect/", follow=True)) == [
        ["goal", "matches", "g1"]
    ]


@giosg(VISITOR_IDENTIFIER=IDENTIFIER, IDENTIFY_IMPERSONATED=True)
def test_identify_impersonated_identifies_the_user_like_any_login(
    client: Client, js_engine: Any, admin: Any, bob: Any
) -> None:
    sign_in(client, "grace")
    assert calls(js_engine, acquire(client, bob)) == [submit(BOB, "plain", True), identify(bob.pk)]
    assert calls(js_engine, client.get("/page/")) == [submit(BOB), identify(bob.pk)]
    assert calls(js_engine, release(client)) == [submit(ADMIN, "plain", True), identify(admin.pk)]


@giosg(VISITOR_IDENTIFIER=IDENTIFIER)
def test_logout_while_impersonating(client: Client, js_engine: Any, admin: Any, bob: Any) -> None:
    sign_in(client, "grace")
    acquire(client, bob)
    logged_out = client.post("/accounts/logout/", follow=True)
    assert calls(js_engine, logged_out) == [["chat", "close", {"hide": True}], CLEAR]
    assert calls(js_engine, client.get("/page/")) == []


@pytest.mark.parametrize(
    "middleware",
    [
        pytest.param([AUTH, HIJACK, GIOSG], id="hijack-before-giosg"),
        pytest.param([AUTH, GIOSG, HIJACK], id="hijack-after-giosg"),
    ],
)
@giosg(VISITOR_IDENTIFIER=IDENTIFIER)
def test_either_middleware_order(
    js_engine: Any, admin: Any, bob: Any, middleware: list[str]
) -> None:
    rest = [entry for entry in WITH_HIJACK if entry not in middleware]
    with override_settings(MIDDLEWARE=[*rest, *middleware]):
        client = Client()  # loads the middleware of this order
        sign_in(client, "grace")
        assert calls(js_engine, acquire(client, bob)) == [CLEAR]
        assert calls(js_engine, client.get("/page/")) == []
        assert calls(js_engine, release(client)) == [
            submit(ADMIN, "plain", True),
            identify(admin.pk),
        ]


# --- LOGIN_GOAL counts a person logging in ----------------------------------------------------

LOGIN_GOAL = ["goal", "matches", "login-goal"]


class ProjectAcquireView(AcquireUserView):
    """A project's own acquire view: still hijack's login()."""


urlpatterns = [
    path("my-acquire/", ProjectAcquireView.as_view()),
    path("", include("tests.support.urls")),
]


@giosg(LOGIN_GOAL="login-goal")
def test_login_goal_on_a_login_but_not_on_acquire_or_release(
    client: Client, js_engine: Any, admin: Any, bob: Any
) -> None:
    """T7 (goals counted wrongly): hijack's acquire and release call login(); a support agent
    impersonating a customer is not the customer's login conversion, nor the agent's."""
    assert calls(js_engine, sign_in(client, "grace")) == [LOGIN_GOAL, submit(ADMIN, "plain", True)]
    assert calls(js_engine, acquire(client, bob)) == [CLEAR]
    assert calls(js_engine, release(client)) == [submit(ADMIN, "plain", True)]
    logged_out = client.post("/accounts/logout/", follow=True)
    assert calls(js_engine, logged_out) == [["chat", "close", {"hide": True}], CLEAR]
    assert calls(js_engine, sign_in(client, "bob")) == [LOGIN_GOAL, submit(BOB, "plain", True)]


@giosg(LOGIN_GOAL="login-goal")
def test_login_goal_not_on_a_subclass_of_hijacks_acquire_view(
    client: Client, js_engine: Any, admin: Any, bob: Any
) -> None:
    sign_in(client, "grace")
    with override_settings(ROOT_URLCONF=__name__):
        response = client.post("/my-acquire/", {"user_pk": bob.pk, "next": "/page/"}, follow=True)
    assert is_hijacked(response)
    assert calls(js_engine, response) == [CLEAR]


@giosg(LOGIN_GOAL="login-goal")
def test_login_goal_on_the_async_path_not_on_acquire_or_release(
    js_engine: Any, admin: Any, bob: Any
) -> None:
    """T7: the same through ASGI (the views resolved and run by the async handler)."""

    async def visit() -> list[Any]:
        client = AsyncClient()
        await client.post("/accounts/login/", {"username": "grace", "password": "pw"})
        signed_in = await client.get("/async/template/")
        await client.post("/hijack/acquire/", {"user_pk": bob.pk, "next": "/page/"})
        hijacked = await client.get("/async/template/")
        await client.post("/hijack/release/", {"next": "/page/"})
        return [signed_in, hijacked, await client.get("/async/template/")]

    signed_in, hijacked, released = async_to_sync(visit)()
    assert LOGIN_GOAL in calls(js_engine, signed_in)
    assert LOGIN_GOAL not in calls(js_engine, hijacked)
    assert LOGIN_GOAL not in calls(js_engine, released)


# --- the async (ASGI) path ----------------------------------------------------------------------


def csrf_token(response: Any) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


# Found as a bug (the async path's user, from request.auser(), is not django-hijack's wrapped
# user): kept as a regression test.
@giosg(VISITOR_IDENTIFIER=IDENTIFIER)
def test_async_path_sends_nothing_of_the_impersonated_user(
    js_engine: Any, admin: Any, bob: Any
) -> None:
    async def visit() -> list[Any]:
        client = AsyncClient()
        await client.post("/accounts/login/", {"username": "grace", "password": "pw"})
        page = await client.get("/page/")
        await client.post("/hijack/acquire/", {"user_pk": bob.pk, "next": "/page/"})
        hijacked = await client.get("/async/template/")
        again = await client.get("/async/template/")
        await client.post("/hijack/release/", {"next": "/page/"})
        return [page, hijacked, again, await client.get("/async/template/")]

    page, hijacked, again, released = async_to_sync(visit)()
    assert calls(js_engine, page) == [submit(ADMIN, "plain", True), identify(admin.pk)]
    assert calls(js_engine, hijacked) == [CLEAR]
    assert calls(js_engine, again) == []
    assert calls(js_engine, released) == [submit(ADMIN, "plain", True), identify(admin.pk)]


# --- in Chromium ----------------------------------------------------------------------------------

ACQUIRE_JS = """(userPk) => {
    // What hijack's button does: a POST form with the page's CSRF token.
    const form = document.createElement("form");
    form.method = "post";
    form.action = "/hijack/acquire/";
    const fields = {
        csrfmiddlewaretoken: document.querySelector("[name=csrfmiddlewaretoken]").value,
        user_pk: String(userPk),
        next: "/page/",
    };
    for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
    }
    document.body.append(form);
    form.submit();
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@giosg(SIGNING_KEY=KEY, VISITOR_IDENTIFIER=IDENTIFIER)
def test_acquire_and_release_in_chromium(browser_page: Any, admin: Any, bob: Any) -> None:
    with wsgi_server(MIDDLEWARE=WITH_HIJACK) as url:  # the live server's middleware is fixed
        acquire_and_release_in_chromium(url, browser_page, admin, bob)


def acquire_and_release_in_chromium(url: str, browser_page: Any, admin: Any, bob: Any) -> None:
    page = browser_page.page

    def admin_identity(replace: bool) -> None:
        [[_, _, token, *rest], identifier] = browser_page.queue()
        assert rest == (["HS256", True] if replace else ["HS256"])
        assert identifier == identify(admin.pk)
        payload = jwt.decode(token, KEY, algorithms=["HS256"])
        assert payload.keys() == {"username", "email", "exp"}
        assert (payload["username"], payload["email"]) == (ADMIN["username"], ADMIN["email"])

    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "grace")
    page.fill("#id_password", "pw")
    with page.expect_navigation():
        page.click("#login button")
    admin_identity(replace=True)

    with page.expect_navigation():
        page.evaluate(ACQUIRE_JS, bob.pk)
    assert page.url == f"{url}/page/"
    assert page.is_visible("#djhj")  # hijack's notice: working on behalf of bob
    assert browser_page.queue() == [CLEAR]
    page.goto(f"{url}/page/")
    assert browser_page.queue() == []

    # Release with the button of hijack's own notice.
    with page.expect_navigation():
        page.click("#djhj button[type=submit]")
    assert page.url == f"{url}/page/"
    assert not page.is_visible("#djhj")
    admin_identity(replace=True)
    page.goto(f"{url}/page/")
    admin_identity(replace=False)
    assert KEY not in page.content()
    assert browser_page.errors == []
