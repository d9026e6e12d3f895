"""htmx: a request made by htmx gets its pending calls in its own response's HX-Trigger header,
exactly once and never also inline; a full page behaves as before. Test-client tests for the
rules; Chromium with the real htmx 2 and htmx 4 (served locally) for the behaviour is in
tests/browser/test_htmx.py."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path

from giosg_django.htmx import HEADER_BUDGET

from .support import urls
from .support.cases import KEY

pytestmark = [pytest.mark.django_db, pytest.mark.each_storage]
HX = {"HTTP_HX_REQUEST": "true"}


def trigger_calls(response: Any) -> list[list[Any]]:
    triggers = json.loads(response["HX-Trigger"])
    detail = triggers["giosg:calls"]
    assert detail["target"] == "body"
    calls: list[list[Any]] = detail["calls"]
    return calls


def page_goals(js_engine: Any, response: Any) -> list[str]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return [args[2] for args in result.calls or [] if args[:2] == ["goal", "matches"]]


def test_an_htmx_fragment_gets_the_calls_in_its_header_once(client: Client, js_engine: Any) -> None:
    client.get("/queue/before/json/")  # not htmx: waits
    response = client.get("/queue/hx/fragment/", **HX)
    assert trigger_calls(response) == [["goal", "matches", "before"], ["goal", "matches", "hx"]]
    assert "private" in response["Cache-Control"]
    assert page_goals(js_engine, client.get("/page/")) == []  # nothing repeated


def test_a_boosted_page_gets_them_in_the_header_and_not_inline(
    client: Client, js_engine: Any
) -> None:
    client.get("/queue/before/json/")
    response = client.get("/queue/boosted/page/", HTTP_HX_BOOSTED="true", **HX)
    assert trigger_calls(response) == [
        ["goal", "matches", "before"],
        ["goal", "matches", "boosted"],
    ]
    assert b"_giosg" not in response.content  # {% giosg_visitor %} renders nothing
    assert page_goals(js_engine, client.get("/page/")) == []


@pytest.mark.parametrize(
    ("view_trigger", "expected"),
    [
        ("saved", {"saved": {}}),
        ("saved, closed", {"saved": {}, "closed": {}}),
        ('{"saved": {"id": 3}}', {"saved": {"id": 3}}),
    ],
)
def test_the_views_own_triggers_are_kept(
    client: Client, view_trigger: str, expected: dict[str, Any]
) -> None:
    response = client.get(f"/queue/hx/trigger/?trigger={view_trigger}", **HX)
    triggers = json.loads(response["HX-Trigger"])
    assert triggers.pop("giosg:calls")["calls"] == [["goal", "matches", "hx"]]
    assert triggers == expected


@pytest.mark.parametrize("kind", ["redirect", "hx-redirect", "hx-location", "hx-refresh"])
def test_responses_that_leave_the_page_leave_the_calls_waiting(
    client: Client, js_engine: Any, kind: str
) -> None:
    response = client.get(f"/queue/hx/{kind}/", **HX)
    assert "HX-Trigger" not in response
    assert page_goals(js_engine, client.get("/page/")) == ["hx"]


def test_undefined_arguments_and_signed_submits_in_the_header(client: Client) -> None:
    with override_settings(GIOSG={**settings.GIOSG, "SIGNING_KEY": KEY}):
        client.get("/cases/call-start-audio,submit-basic/json/")
        calls = trigger_calls(client.get("/queue/hx/fragment/", **HX))
    start, submit, goal = calls
    assert start == ["call", "start", "Operator name", None, "audio"]  # null is undefined
    assert submit[:2] == ["visitor", "submit"] and submit[3:] == ["HS256"]
    assert jwt.decode(submit[2], KEY, algorithms=["HS256"])["username"] == "John Doe"
    assert goal == ["goal", "matches", "hx"]


def test_the_header_stays_small_and_the_rest_waits(client: Client, js_engine: Any) -> None:
    big = "x" * 1500
    with override_settings(GIOSG={**settings.GIOSG, "MAX_PENDING": 100}):
        for i in range(8):
            client.get(f"/queue/{i}-{big}/json/")
        response = client.get("/queue/last/fragment/", **HX)
        delivered = [call[2] for call in trigger_calls(response)]
        assert len(response["HX-Trigger"]) <= HEADER_BUDGET
        rest = page_goals(js_engine, client.get("/page/"))
    assert 0 < len(delivered) < 9
    assert delivered + rest == [f"{i}-{big}" for i in range(8)] + ["last"]


@override_settings(GIOSG={**settings.GIOSG, "HTMX": False})
def test_with_htmx_off_an_htmx_request_is_like_any_other(client: Client, js_engine: Any) -> None:
    response = client.get("/queue/hx/page/", **HX)
    assert "HX-Trigger" not in response
    assert page_goals(js_engine, response) == ["hx"]


def test_login_and_logout_through_htmx(client: Client, django_user_model: Any) -> None:
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": "ada", "password": "pw"}, follow=True, **HX
    )
    calls = trigger_calls(response)
    assert calls[0] == [
        "visitor",
        "submit",
        {"username": "ada", "email": "ada@example.com"},
        "plain",
        True,
    ]
    response = client.post("/accounts/logout/", follow=True, **HX)
    close, clear, logged_out = trigger_calls(response)
    assert (close, clear) == (["chat", "close", {"hide": True}], ["visitor", "removeAll"])
    assert logged_out[:2] == ["giosg_django", "loggedOut"] and isinstance(logged_out[2], int)


# --- the header's budget -----------------------------------------------------------------------


def queue_big(request: HttpRequest, size: int) -> JsonResponse:
    """A support message of ``size`` characters, as a visitor may type (or paste) one."""
    request.giosg.chat.start_task("m" * size)  # type: ignore[attr-defined]
    return JsonResponse({"queued": size})


urlpatterns = [path("big/<int:size>/", queue_big), *urls.urlpatterns]


def page_calls(js_engine: Any, response: Any) -> list[list[Any]]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return [call for call in result.calls or [] if call[0] != "giosg_django"]


def short(calls: list[list[Any]]) -> list[str]:
    """Goals by id and tasks by message length, so a 20 kB call reads as one word."""
    return [
        call[2] if call[1] == "matches" else f"task-{len(call[2]['message'])}"
        for call in calls
        if call[:2] in (["goal", "matches"], ["chat", "startTask"])
    ]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("before", [[], ["a"]], ids=["first", "after-a-small-one"])
def test_a_call_too_big_for_the_header_waits_for_the_next_full_page(
    client: Client, js_engine: Any, before: list[str]
) -> None:
    """T6, T7: the first waiting call went into HX-Trigger whatever its size (a 20 kB call made
    a 20 kB header: a 502 behind nginx's default buffers, while the calls counted as delivered).
    A call that can never fit waits for a full page, alone: the calls after it go in the header
    now (T2: held back with it, they waited for a full page that an hx-boost site never loads,
    a logout among them), and nothing reaches the page twice."""
    for goal in before:
        client.get(f"/queue/{goal}/json/")
    client.get("/big/20000/")
    client.get("/queue/b/json/")
    response = client.get("/queue/hx/fragment/", **HX)
    assert len(response["HX-Trigger"]) <= HEADER_BUDGET
    assert short(trigger_calls(response)) == [*before, "b", "hx"]
    page = short(page_calls(js_engine, client.get("/page/")))
    assert page == ["task-20000"]
    assert short(page_calls(js_engine, client.get("/page/"))) == []


@pytest.mark.urls(__name__)
def test_a_call_too_big_for_the_header_does_not_hold_back_a_boosted_logout(
    client: Client, js_engine: Any, django_user_model: Any, caplog: Any
) -> None:
    """T2: Ada's 7 kB support message waits for a full page; she logs out through a boosted
    form. Delivery stopped at that call, so chat.close, removeAll and the logout time waited
    behind it, and on an hx-boost site (every navigation an htmx request) the next person got
    Ada's chat. The logout's own response carries them now, and the message, queued by Ada
    before the logout, is dropped with a warning (naming the call, never its text): the next
    full page is the next person's, and must not start a chat with Ada's message there."""
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    client.login(username="ada", password="pw")
    client.get("/page/")  # a full page: Ada's identity, nothing left waiting
    client.get("/big/7000/")
    boosted = {"HTTP_HX_BOOSTED": "true", **HX}
    response = client.post("/accounts/logout/", follow=True, **boosted)
    assert len(response["HX-Trigger"]) <= HEADER_BUDGET
    close, clear, logged_out = trigger_calls(response)
    assert (close, clear) == (["chat", "close", {"hide": True}], ["visitor", "removeAll"])
    assert logged_out[:2] == ["giosg_django", "loggedOut"] and isinstance(logged_out[2], int)
    assert "HX-Trigger" not in client.get("/page/", **boosted)
    assert page_calls(js_engine, client.get("/page/")) == []
    warning = "too big for an htmx header and queued before a change of user: chat.startTask"
    assert warning in caplog.text
    assert "m" * 40 not in caplog.text


@pytest.mark.urls(__name__)
def test_a_call_too_big_for_the_header_still_reaches_the_same_users_next_page(
    client: Client, js_engine: Any, django_user_model: Any
) -> None:
    """T7: without a change of user behind it, a call too big for any header is not dropped:
    the calls after it go with the htmx response, and it reaches the next full page, once."""
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    client.login(username="ada", password="pw")
    client.get("/page/")
    client.get("/big/7000/")
    client.get("/queue/after/json/")
    response = client.get("/queue/hx/fragment/", **HX)
    assert short(trigger_calls(response)) == ["after", "hx"]
    calls = page_calls(js_engine, client.get("/page/"))
    assert [call[:2] for call in calls] == [["chat", "startTask"], ["visitor", "submit"]]
    again = page_calls(js_engine, client.get("/page/"))
    assert [call[:2] for call in again] == [["visitor", "submit"]]  # the message once only


@pytest.mark.parametrize(
    "own",
    ["", "saved-" + "s" * 1200, '{"saved": {"n": "' + "s" * 1200 + '"}}'],
    ids=["no-own-trigger", "own-names", "own-json"],
)
def test_many_small_calls_fill_the_header_within_the_budget(
    client: Client, js_engine: Any, own: str
) -> None:
    """T6, T7: many small calls fill HX-Trigger up to the budget,
    counted over the whole header value giosg writes, the view's own triggers included; the
    rest reach the next full page in order, none lost, none twice."""
    goals = [f"{i:03d}-" + "x" * 60 for i in range(60)]
    with override_settings(GIOSG={**settings.GIOSG, "MAX_PENDING": 100}):
        for goal in goals:
            client.get("/queue/" + goal + "/json/")
        url = f"/queue/hx/trigger/?trigger={own}" if own else "/queue/hx/fragment/"
        response = client.get(url, **HX)
        assert len(response["HX-Trigger"]) <= HEADER_BUDGET
        delivered = short(trigger_calls(response))
        rest = short(page_calls(js_engine, client.get("/page/")))
    assert 10 < len(delivered) < 60
    assert delivered + rest == [*goals, "hx"]


def header_length(calls: list[list[Any]]) -> int:
    """The length of HX-Trigger carrying ``calls`` and nothing else."""
    detail = {"target": "body", "calls": calls}
    return len(json.dumps({"giosg:calls": detail}, separators=(",", ":")))


BEFORE = ["goal", "matches", "before"]
# The longest "bio" with which the identity still fits in the header after BEFORE.
LONGEST_BIO = HEADER_BUDGET - header_length(
    [BEFORE, ["visitor", "submit", {"username": "ada", "bio": ""}, "plain", True]]
)


LOGIN = ["goal", "matches", "login"]


@pytest.mark.parametrize(
    ("bio_length", "in_header", "on_page"),
    [(LONGEST_BIO + 1, [BEFORE], [LOGIN]), (HEADER_BUDGET, [BEFORE, LOGIN], [])],
    ids=["one-byte-over", "never-fits"],
)
def test_an_identity_too_big_for_the_header_after_an_htmx_login_waits_for_the_page(
    client: Client,
    js_engine: Any,
    django_user_model: Any,
    bio_length: int,
    in_header: list[Any],
    on_page: list[Any],
) -> None:
    """T2, T6: the identity after an htmx login was put in HX-Trigger without any budget. When
    it does not fit, its login marker is not used up: the next full page submits it with
    replace_existing, so the previous visitor's variables do not stay attached; what was
    queued before the login still goes in the header, and nothing is sent twice. An identity
    that fits no header on its own does not hold back the calls queued after it (the login
    goal): they go in this header, as after any call too big for it."""
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    bio = "b" * bio_length
    with with_bio(bio, LOGIN_GOAL="login"):
        response = htmx_login(client)
        assert len(response["HX-Trigger"]) <= HEADER_BUDGET
        assert trigger_calls(response) == in_header
        page = page_calls(js_engine, client.get("/page/"))
        again = page_calls(js_engine, client.get("/page/"))
    assert page == [
        *on_page,
        ["visitor", "submit", {"username": "ada", "bio": bio}, "plain", True],
    ]
    assert again == [["visitor", "submit", {"username": "ada", "bio": bio}]]


def test_an_identity_that_just_fits_comes_with_the_htmx_login(
    client: Client, js_engine: Any, django_user_model: Any
) -> None:
    """T2: the budget is exact: an identity that fits to the byte comes in the header after an
    htmx login, with replace_existing, and the page after it submits without (the marker is
    used up)."""
    django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    bio = "b" * LONGEST_BIO
    with with_bio(bio):
        response = htmx_login(client)
        assert len(response["HX-Trigger"]) == HEADER_BUDGET
        submit = ["visitor", "submit", {"username": "ada", "bio": bio}, "plain", True]
        assert trigger_calls(response) == [BEFORE, submit]
        assert page_calls(js_engine, client.get("/page/")) == [submit[:3]]


def with_bio(bio: str, **overlay: Any) -> override_settings:
    """Settings whose visitor variables carry a "bio" (a profile text of any length)."""

    def variables(request: HttpRequest) -> dict[str, Any] | None:
        if not request.user.is_authenticated:
            return None
        return {"username": request.user.get_username(), "bio": bio}

    return override_settings(GIOSG={**settings.GIOSG, "VISITOR_VARIABLES": variables, **overlay})


def htmx_login(client: Client) -> Any:
    """Log in as ada through htmx, after a goal was queued."""
    client.get("/accounts/login/")  # a full page: delivers what waited
    client.get("/queue/before/json/")
    return client.post("/accounts/login/", {"username": "ada", "password": "pw"}, follow=True, **HX)
