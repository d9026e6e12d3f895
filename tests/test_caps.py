"""The caps on what waits for one visitor (giosg_django.caps): past ``MAX_PENDING`` calls or
``MAX_PENDING_BYTES`` of stored JSON the oldest calls are dropped with a warning, never the
newest login and logout markers, on every session backend. How the queue is stored and
delivered is in tests/test_storage.py."""

from __future__ import annotations

import base64
import json
import logging
import random
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path

from .support import urls
from .support.pending import client_stored_calls
from .test_storage import BACKENDS, goals

pytestmark = [pytest.mark.django_db, pytest.mark.each_storage]


@override_settings(GIOSG={"COMPANY_ID": "test-company", "MAX_PENDING": 3})
def test_past_max_pending_the_oldest_calls_are_dropped_with_a_warning(
    client: Client, js_engine: Any, caplog: Any
) -> None:
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        for goal in ["a", "b", "c", "d", "e"]:
            client.get(f"/queue/{goal}/json/")
    assert goals(js_engine, client.get("/page/")) == ["c", "d", "e"]
    assert "dropped, over MAX_PENDING=3" in caplog.text


@override_settings(GIOSG={"COMPANY_ID": "test-company", "MAX_PENDING": 3})
def test_the_visit_records_what_was_stored_back(client: Client) -> None:
    """T6: what a response leaves in the store is what the caps kept, and the debug panel can
    read it from the response's Visit (``None`` when nothing was written)."""
    from giosg_django.visit import visit_of

    from .support.middleware import CaptureMiddleware

    for goal in ["a", "b", "c", "d"]:
        client.get(f"/queue/{goal}/json/")
    assert CaptureMiddleware.last is not None
    visit = visit_of(CaptureMiddleware.last[0])
    assert visit is not None and visit.stored is not None
    assert [call.args[0] for call in visit.stored] == ["b", "c", "d"]
    client.get("/page/")
    visit = visit_of(CaptureMiddleware.last[0])
    assert visit is not None and visit.stored == []  # all delivered: the key is removed


# --- MAX_PENDING_BYTES: the size of what waits ------------------------------------------------


def support_message(request: HttpRequest) -> JsonResponse:
    """A support form, as the example project's: the visitor's text becomes a chat task."""
    request.giosg.chat.start_task(request.POST["message"])  # type: ignore[attr-defined]
    return JsonResponse({"sent": True})


urlpatterns = [path("support/", support_message), *urls.urlpatterns]

STORES = [backend for backend in BACKENDS if not backend.endswith("cached_db")]


def session_bytes(client: Client) -> int:
    """The size of the visitor's session as its store keeps it (JSON, before signing)."""
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is None or not cookie.value:
        return 0
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie.value)
    return len(json.dumps(store.load(), separators=(",", ":")))


def random_text(rng: random.Random, size: int) -> str:
    # Random text barely compresses, so no backend's compression hides its size.
    return base64.urlsafe_b64encode(rng.randbytes(size)).decode()[:size]


def start_tasks(js_engine: Any, response: Any) -> list[str]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return [args[2]["message"] for args in result.calls or [] if args[:2] == ["chat", "startTask"]]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("engine", STORES, ids=lambda path: path.rsplit(".", 1)[1])
def test_sixty_messages_of_100_kb_leave_the_session_small(
    js_engine: Any, caplog: Any, engine: str
) -> None:
    """T6: 60 support messages of 100 kB each grew one visitor's session past 3 MB, which
    every later request of theirs loaded and wrote. A call over MAX_PENDING_BYTES on its own is
    dropped (named in a warning, its text never logged); the calls around it still wait."""
    rng = random.Random(100)
    messages = [random_text(rng, 100_000) for _ in range(60)]
    with override_settings(SESSION_ENGINE=engine):
        client = Client()
        client.get("/queue/before/json/")
        with caplog.at_level(logging.WARNING, logger="giosg_django"):
            for message in messages:
                assert client.post("/support/", {"message": message}).status_code == 200
                assert session_bytes(client) < 1000
        client.get("/queue/after/json/")
        page = client.get("/page/")
    assert goals(js_engine, page) == ["before", "after"]
    assert start_tasks(js_engine, page) == []
    warning = "1 pending call(s) dropped, over MAX_PENDING_BYTES=32768: chat.startTask"
    assert caplog.text.count(warning) == 60
    assert not any(message[:40] in caplog.text for message in messages)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("engine", STORES, ids=lambda path: path.rsplit(".", 1)[1])
def test_past_max_pending_bytes_the_oldest_calls_are_dropped(
    js_engine: Any, caplog: Any, engine: str
) -> None:
    """T6: calls that each fit but together pass MAX_PENDING_BYTES: the oldest are dropped
    with a warning, the session stays near the cap, and the newest reach the next page in
    order, once."""
    rng = random.Random(300)
    messages = [random_text(rng, 300) for _ in range(40)]
    # Each as the session stores it: ["chat","startTask",[{"message":"…"}],false].
    stored = ["chat", "startTask", [{"message": messages[0]}], False]
    each = len(json.dumps(stored, separators=(",", ":")))
    limit = 2000  # small enough for a signed cookie to carry too
    with override_settings(
        SESSION_ENGINE=engine, GIOSG={**settings.GIOSG, "MAX_PENDING_BYTES": limit}
    ):
        client = Client()
        with caplog.at_level(logging.WARNING, logger="giosg_django"):
            for message in messages:
                client.post("/support/", {"message": message})
                assert session_bytes(client) <= limit + 100  # the queue's key and brackets
        page = client.get("/page/")
        assert start_tasks(js_engine, client.get("/page/")) == []
    assert start_tasks(js_engine, page) == messages[-(limit // each) :]
    assert f"dropped, over MAX_PENDING_BYTES={limit}: chat.startTask" in caplog.text
    assert "cookie" not in caplog.text
    assert not any(message[:40] in caplog.text for message in messages)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("engine", STORES, ids=lambda path: path.rsplit(".", 1)[1])
@pytest.mark.parametrize("cap", ["MAX_PENDING", "MAX_PENDING_BYTES"])
def test_the_caps_never_drop_the_newest_login_and_logout_markers(
    js_engine: Any, ada: Any, engine: str, cap: str
) -> None:
    """T2/T6: a visitor who queues past a cap after a login, then after a logout, must not
    push out the markers: a dropped login marker would submit the new user's identity without
    replace_existing (the previous visitor's variables stay attached), a dropped logout time
    would keep the browser's other tabs from closing the chat, and dropped logout calls would
    leave this tab's chat open. Older copies may go, so logging in and out in a loop cannot
    grow the queue past the caps either."""
    limits = {"MAX_PENDING": 5, "MAX_PENDING_BYTES": 2000}
    giosg = {**settings.GIOSG, cap: limits[cap], "SIGNING_KEY": None}
    with override_settings(SESSION_ENGINE=engine, GIOSG=giosg):
        client = Client()
        for _ in range(3):  # a login/logout loop: older markers are droppable
            client.post("/accounts/login/", {"username": "ada", "password": "pw"})
            client.post("/accounts/logout/")
        client.post("/accounts/login/", {"username": "ada", "password": "pw"})
        for index in range(30):
            client.post("/support/", {"message": f"message {index} " + "x" * 200})
        page = client.get("/page/")
        result = js_engine.run(page.content.decode())
        assert result.errors == []
        submits = [args for args in result.calls or [] if args[:2] == ["visitor", "submit"]]
        assert submits and submits[-1][3:] == ["plain", True]  # the marker survived
        queue_size = len(client_stored_calls(client))
        for index in range(30):
            client.post("/support/", {"message": f"later {index} " + "x" * 200})
        client.post("/accounts/logout/")
        for index in range(30):
            client.post("/support/", {"message": f"after {index} " + "x" * 200})
        stored = client_stored_calls(client)
    assert queue_size == 0
    markers = [item for item in stored if item[0] == "giosg_django"]
    assert [item[1] for item in markers] == ["loggedOut"]
    # The logout's own calls too: else this tab's chat stays open for the next person.
    logout = [
        item[:3] for item in stored if item[:2] in (["chat", "close"], ["visitor", "removeAll"])
    ]
    assert logout == [["chat", "close", [{"hide": True}]], ["visitor", "removeAll", []]]
    if cap == "MAX_PENDING":
        assert len(stored) <= limits[cap]
    else:
        assert len(json.dumps(stored, separators=(",", ":"))) <= limits[cap] + 50


@pytest.mark.session_storage  # signed-cookie sessions: what the cookie can carry
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("message_at", ["before-the-logout", "after-the-logout"])
def test_a_long_message_does_not_push_a_logout_out_of_a_signed_cookie(
    js_engine: Any, ada: Any, caplog: Any, message_at: str
) -> None:
    """T2: with signed-cookie sessions, the calls that the cookie could not carry were dropped
    oldest first, whatever they were: a long support message (under MAX_PENDING_BYTES, over
    what a cookie carries) queued after a logout pushed out chat.close, visitor.removeAll and
    the logout time, and the next person at that computer got Ada's chat. The cookie gives
    calls up by the caps' rules: the message too big for it on its own first, never the
    newest marker; the logout reaches the next page, and the message is named in a warning."""
    message = random_text(random.Random(4096), 5000)
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        client = Client()
        client.post("/accounts/login/", {"username": "ada", "password": "pw"})
        client.get("/page/")  # Ada's identity: nothing waits
        with caplog.at_level(logging.WARNING, logger="giosg_django"):
            if message_at == "before-the-logout":
                client.post("/support/", {"message": message})
            client.post("/accounts/logout/")  # a redirect: the logout waits for a page
            if message_at == "after-the-logout":
                client.post("/support/", {"message": message})
        result = js_engine.run(client.get("/page/").content.decode())
        again = js_engine.run(client.get("/page/").content.decode())
    assert result.errors == []
    assert result.calls == [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
    assert "giosg_django:logout" in result.storage  # the marker: the other tabs close too
    assert again.calls in ([], None)
    assert "to keep the session cookie under 4096 bytes: chat.startTask" in caplog.text
    assert message[:40] not in caplog.text


@pytest.mark.session_storage  # signed-cookie sessions: what the cookie can carry
@pytest.mark.urls(__name__)
def test_a_signed_cookie_never_drops_the_newest_logout_marker(
    js_engine: Any, ada: Any, caplog: Any
) -> None:
    """T2: messages that each fit the cookie but not together, queued after a logout: the
    cookie gives up the oldest calls, as the caps do, but never the newest marker (dropped, the
    logout time never reached the browser's other tabs, which kept Ada's chat open)."""
    rng = random.Random(1500)
    messages = [random_text(rng, 1500) for _ in range(4)]
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        client = Client()
        client.post("/accounts/login/", {"username": "ada", "password": "pw"})
        client.get("/page/")
        client.post("/accounts/logout/")
        with caplog.at_level(logging.WARNING, logger="giosg_django"):
            for message in messages:
                client.post("/support/", {"message": message})
        page = client.get("/page/")
    result = js_engine.run(page.content.decode())
    assert result.errors == []
    assert "giosg_django:logout" in result.storage
    tasks = start_tasks(js_engine, page)
    assert 0 < len(tasks) < len(messages)
    assert tasks == messages[-len(tasks) :]  # the newest, in order
    assert "to keep the session cookie under 4096 bytes" in caplog.text
