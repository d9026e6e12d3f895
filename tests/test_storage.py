"""The queue's storage (giosg_django.storage): calls made during a request reach the next page
this visitor sees, exactly once, in order, through the session (any backend), and only a page
that renders them uses them up; a corrupt or foreign stored value is ignored. The caps on what
waits (MAX_PENDING, MAX_PENDING_BYTES) are in tests/test_caps.py."""

from __future__ import annotations

import base64
import logging
import random
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from giosg_django.storage import SESSION_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.each_storage]

BACKENDS = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.signed_cookies",
]


def goals(js_engine: Any, response: Any) -> list[str]:
    """The goal ids giosg's queue receives when the page runs."""
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return [args[2] for args in result.calls or [] if args[:2] == ["goal", "matches"]]


@pytest.fixture(params=BACKENDS, ids=lambda path: path.rsplit(".", 1)[1])
def backend_client(request: Any) -> Any:
    with override_settings(SESSION_ENGINE=request.param):
        yield Client()


@pytest.mark.parametrize("kind", ["json", "redirect", "stream", "text", "nocontent", "email"])
def test_a_response_that_does_not_render_the_queue_leaves_it_for_the_next_page(
    backend_client: Client, js_engine: Any, kind: str
) -> None:
    backend_client.get(f"/queue/g1/{kind}/")
    page = backend_client.get("/page/")
    assert goals(js_engine, page) == ["g1"]
    assert goals(js_engine, backend_client.get("/page/")) == []


def test_head_leaves_the_queue(backend_client: Client, js_engine: Any) -> None:
    response = backend_client.head("/queue/g1/page/")
    assert response.status_code == 200
    assert goals(js_engine, backend_client.get("/page/")) == ["g1"]
    assert goals(js_engine, backend_client.get("/page/")) == []


def test_exactly_once_in_order_across_requests(backend_client: Client, js_engine: Any) -> None:
    for goal in ["a", "b", "c"]:
        backend_client.get(f"/queue/{goal}/json/")
    backend_client.get("/queue/d/redirect/")  # the redirect itself renders nothing
    page = backend_client.get("/queue/e/page/")
    assert goals(js_engine, page) == ["a", "b", "c", "d", "e"]
    assert goals(js_engine, backend_client.get("/page/")) == []


def test_a_page_renders_this_requests_calls_and_the_session_is_left_clean(
    client: Client, js_engine: Any
) -> None:
    page = client.get("/queue/g1/page/")
    assert goals(js_engine, page) == ["g1"]
    # Nothing waited before and nothing waits now: no session was created for it.
    assert "sessionid" not in page.cookies
    assert Session.objects.count() == 0


def test_a_call_queued_after_the_page_rendered_waits_for_the_next_page(
    client: Client, js_engine: Any
) -> None:
    assert goals(js_engine, client.get("/queue/g1/late/")) == ["g1"]
    assert goals(js_engine, client.get("/page/")) == ["g1-late"]
    assert goals(js_engine, client.get("/page/")) == []


def test_two_tags_in_one_page_render_each_call_once(client: Client, js_engine: Any) -> None:
    client.get("/queue/a/json/")
    page = client.get("/queue/b/twice/")
    assert goals(js_engine, page) == ["a", "b"]
    assert page.content.decode().count("'/live2/'+f") == 1  # one loader (js.loader)
    assert goals(js_engine, client.get("/page/")) == []


def test_anonymous_browsing_creates_no_session(client: Client) -> None:
    for _ in range(3):
        response = client.get("/page/")
        assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert Session.objects.count() == 0


def test_a_session_is_not_written_when_nothing_is_pending(client: Client, js_engine: Any) -> None:
    client.get("/set-session/")
    assert Session.objects.count() == 1
    response = client.get("/page/")
    assert "sessionid" not in response.cookies  # not saved again
    client.get("/queue/g1/json/")
    response = client.get("/page/")
    assert goals(js_engine, response) == ["g1"]
    session = Session.objects.get()
    assert SESSION_KEY not in session.get_decoded()
    assert session.get_decoded()["other"] == "value"


def test_a_page_that_delivers_calls_is_private(client: Client) -> None:
    client.get("/queue/g1/json/")
    response = client.get("/page/")
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


@pytest.mark.session_storage
@pytest.mark.parametrize(
    "stored",
    ["not a list", [["goal", "matches"]], [["nope", "call", [], False]], [{"a": 1}], 42],
    ids=["str", "short", "unknown-call", "dict", "int"],
)
def test_a_corrupt_or_foreign_session_value_is_ignored_and_logged(
    client: Client, js_engine: Any, caplog: Any, stored: Any
) -> None:
    client.get("/set-session/")
    session = client.session
    session[SESSION_KEY] = stored
    session.save()
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        page = client.get("/queue/g1/page/")
    assert page.status_code == 200
    assert goals(js_engine, page) == ["g1"]
    assert "ignored" in caplog.text


@pytest.mark.session_storage
@override_settings(
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    GIOSG={"COMPANY_ID": "test-company", "MAX_PENDING": 500},
)
def test_a_signed_cookie_session_stays_under_4096_bytes(
    client: Client, js_engine: Any, caplog: Any
) -> None:
    # Random text barely compresses: 40 goals of 300 characters cannot all fit in a cookie.
    rng = random.Random(4096)
    goals_sent = [
        f"{i:03d}-" + base64.urlsafe_b64encode(rng.randbytes(225)).decode() for i in range(40)
    ]
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        for goal in goals_sent:
            response = client.get(f"/queue/{goal}/json/")
            cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
            if cookie is not None:
                assert len(settings.SESSION_COOKIE_NAME) + 1 + len(cookie.value) <= 4096
    assert "to keep the session cookie under 4096 bytes" in caplog.text
    delivered = goals(js_engine, client.get("/page/"))
    assert 0 < len(delivered) < len(goals_sent)
    assert delivered == goals_sent[-len(delivered) :]  # the newest, in order


@pytest.mark.session_storage
def test_a_foreign_value_is_replaced_so_it_is_reported_once(client: Client, caplog: Any) -> None:
    client.get("/set-session/")
    session = client.session
    session[SESSION_KEY] = {"not": "ours"}
    session.save()
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        client.get("/page/")
        assert caplog.text.count("ignored") == 1
        client.get("/page/")
        assert caplog.text.count("ignored") == 1
    assert SESSION_KEY not in Session.objects.get().get_decoded()


@pytest.mark.parametrize("flag", [0, 1, "yes"])
def test_a_stored_sign_flag_must_be_a_bool_or_none(flag: Any) -> None:
    from giosg_django.calls import Call

    with pytest.raises(ValueError, match="bad sign flag"):
        Call.from_session(["goal", "matches", ["g"], flag])


def test_may_hold_only_with_a_session_key() -> None:
    """The middleware asks ``may_hold`` before ``load``: a visitor whose session has no key
    (or a request without sessions) can have nothing stored, and costs no load."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from giosg_django.storage import SessionStorage

    storage = SessionStorage()
    request = RequestFactory().get("/")
    assert storage.may_hold(request) is False  # no SessionMiddleware
    request.session = SessionStore()
    assert storage.may_hold(request) is False
    request.session = SessionStore(session_key="a" * 32)
    assert storage.may_hold(request) is True
