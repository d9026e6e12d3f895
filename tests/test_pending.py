"""The queue: calls made during a request reach the next page this visitor sees, exactly once,
in order, through the session (any backend), and only a page that renders them uses them up."""

from __future__ import annotations

import base64
import json
import logging
import random
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path

from giosg_django.storage import SESSION_KEY

from .support import urls

pytestmark = pytest.mark.django_db

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
    assert page.content.decode().count("/live2/") == 1
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
        queue_size = len(client.session.get(SESSION_KEY, []))
        for index in range(30):
            client.post("/support/", {"message": f"later {index} " + "x" * 200})
        client.post("/accounts/logout/")
        for index in range(30):
            client.post("/support/", {"message": f"after {index} " + "x" * 200})
        stored = client.session.get(SESSION_KEY, [])
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
