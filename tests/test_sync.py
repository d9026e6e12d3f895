"""The sync endpoint (giosg_django.sync, ``reverse("giosg_django:sync")``) and its hint cookie,
through the Django test client, on every PENDING_STORAGE. What the page client does with them
in a browser is in tests/browser/test_sync.py."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from giosg_django.sync import HINT_COOKIE

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.each_storage,
    pytest.mark.urls("tests.support.sync_urls"),
]

KEY = "k" * 64
SIGNED = {"COMPANY_ID": "test-company", "SIGNING_KEY": KEY}


def sync(client: Client) -> Any:
    return client.post(reverse("giosg_django:sync"))


def goals(calls: list[list[Any]]) -> list[str]:
    return [call[2] for call in calls if call[:2] == ["goal", "matches"]]


def submits(calls: list[list[Any]]) -> list[list[Any]]:
    return [call for call in calls if call[:2] == ["visitor", "submit"]]


def test_the_endpoint_is_routed_as_the_contract_names_it() -> None:
    assert reverse("giosg_django:sync") == "/giosg/sync/"


def test_waiting_calls_come_once_in_order_and_are_used_up(client: Client) -> None:
    for goal in ["a", "b"]:
        client.get(f"/queue/{goal}/json/")
    first = sync(client)
    assert first.status_code == 200
    assert goals(first.json()["calls"]) == ["a", "b"]
    assert goals(sync(client).json()["calls"]) == []
    assert "'goal', 'matches'" not in str(client.get("/page/").content)  # not again on a page
    assert "no-store" in first["Cache-Control"]


def test_a_page_after_a_sync_does_not_repeat_and_a_sync_after_a_page_gets_nothing(
    client: Client, js_engine: Any
) -> None:
    client.get("/queue/p/json/")
    page = js_engine.run(client.get("/page/").content.decode())
    assert [c[2] for c in page.calls or [] if c[:2] == ["goal", "matches"]] == ["p"]
    assert goals(sync(client).json()["calls"]) == []


@override_settings(GIOSG=SIGNED)
def test_the_identity_comes_after_the_calls_signed_fresh(ada_client: Client) -> None:
    ada_client.get("/page/")
    ada_client.get("/queue/g/json/")
    calls = sync(ada_client).json()["calls"]
    assert goals(calls) == ["g"]
    (submit,) = submits(calls)
    assert calls[-1] is submit or calls.index(submit) > calls.index(["goal", "matches", "g"])
    payload = jwt.decode(submit[2], KEY, algorithms=["HS256"])
    assert payload["username"] == "Ada Lovelace" and payload["exp"] > 0
    assert submit[3:] == ["HS256"]  # no replace_existing: the same user as on the last page


@override_settings(GIOSG=SIGNED)
def test_after_a_json_login_the_identity_replaces_what_was_attached(
    client: Client, ada: Any
) -> None:
    login = client.post("/accounts/login/", {"username": "ada", "password": "pw"})
    assert login.status_code == 302  # a redirect: nothing rendered, the change waits
    (submit,) = submits(sync(client).json()["calls"])
    assert submit[3:] == ["HS256", True]
    assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["email"] == "ada@example.com"
    (again,) = submits(sync(client).json()["calls"])
    assert again[3:] == ["HS256"]  # used up: the next sync sends the identity as a page does


def test_after_a_logout_the_logout_calls_come(ada_client: Client) -> None:
    ada_client.get("/page/")
    ada_client.post("/accounts/logout/")
    calls = sync(ada_client).json()["calls"]
    assert ["chat", "close", {"hide": True}] in calls and ["visitor", "removeAll"] in calls
    assert submits(calls) == []
    assert [c[:2] for c in calls if c[0] == "giosg_django"] == [["giosg_django", "loggedOut"]]


def test_get_is_refused(client: Client) -> None:
    client.get("/queue/g/json/")
    assert client.get(reverse("giosg_django:sync")).status_code == 405
    assert goals(sync(client).json()["calls"]) == ["g"]  # nothing used up


def test_without_the_csrf_token_nothing_is_used_up() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/queue/g/json/")
    assert sync(client).status_code == 403
    token = "t" * 32  # a CSRF secret, as Django's cookie holds one
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    answer = client.post(reverse("giosg_django:sync"), headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    assert goals(answer.json()["calls"]) == ["g"]


def test_with_giosg_disabled_nothing_comes_and_nothing_is_used_up(client: Client) -> None:
    client.get("/queue/g/json/")
    with override_settings(GIOSG={"COMPANY_ID": "test-company", "ENABLED": False}):
        answer = sync(client)
        assert answer.json() == {"calls": []}
        assert HINT_COOKIE not in answer.cookies  # no hint: the client would ask again
    assert goals(sync(client).json()["calls"]) == ["g"]


def test_a_request_that_leaves_a_call_waiting_raises_the_hint(client: Client) -> None:
    first = client.get("/queue/a/json/")
    hint = int(first.cookies[HINT_COOKIE].value)
    morsel = first.cookies[HINT_COOKIE]
    assert not morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["path"] == "/"
    assert settings.CSRF_COOKIE_NAME in first.cookies  # the client's POST will need it
    second = client.get("/queue/b/json/")
    assert int(second.cookies[HINT_COOKIE].value) > hint
    answer = sync(client)
    assert answer.json()["upTo"] == int(second.cookies[HINT_COOKIE].value)
    assert HINT_COOKIE not in answer.cookies  # it left nothing waiting
    page = client.get("/queue/c/page/")  # delivers what it queued: no hint
    assert HINT_COOKIE not in page.cookies


def test_a_forged_hint_is_only_a_number(client: Client) -> None:
    client.cookies[HINT_COOKIE] = "9" * 40
    assert sync(client).json()["upTo"] == 0
    client.cookies[HINT_COOKIE] = "<script>"
    assert sync(client).json()["upTo"] == 0


@pytest.mark.urls("tests.support.urls")
def test_without_the_endpoint_routed_no_hint_and_no_sync_data(client: Client) -> None:
    assert HINT_COOKIE not in client.get("/queue/a/json/").cookies
    assert '"sync":' not in client.get("/page/").content.decode()


def test_pages_carry_what_the_client_needs_to_sync(client: Client) -> None:
    client.get("/queue/a/json/")
    hint = client.cookies[HINT_COOKIE].value
    body = client.get("/page/").content.decode()
    assert (
        '"sync":{"url":"/giosg/sync/","csrfCookie":"csrftoken","csrfHeader":"X-CSRFTOKEN",'
        f'"seen":{hint}}}' in body  # the header from CSRF_HEADER_NAME (case does not matter)
    )


def test_a_page_waiting_for_consent_carries_the_client_and_nothing_for_giosg(
    client: Client, js_engine: Any
) -> None:
    client.get("/queue/waits/json/")
    with override_settings(GIOSG={"COMPANY_ID": "test-company", "ENABLED": False}):
        body = client.get("/page/").content.decode()
    assert "w[o]._c=f" not in body  # giosg's loader is not on the page, only where to find it
    assert '"enabled":false' in body
    assert '"loader":{"host":"https://service.giosg.com","company":"test-company"}' in body
    result = js_engine.run(body)
    assert result.errors == [] and not result.calls  # nothing reaches giosg's queue
    assert goals(sync(client).json()["calls"]) == ["waits"]  # nothing was used up
