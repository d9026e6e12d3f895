"""CacheStorage and DatabaseStorage (giosg_django.storage.records, .cache, .database): records
written once and taken once, receipts in cookies. The delivery rules they share with the
session store run against every store (the ``each_storage`` modules); the races across
worker processes are in tests/test_races.py. Here: what only these two stores do."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from giosg_django.calls import goal_matches
from giosg_django.models import PendingCall
from giosg_django.storage import CacheStorage, DatabaseStorage, get_storage
from giosg_django.storage.cache import KEY_PREFIX
from giosg_django.storage.records import (
    MAX_RECEIPTS,
    RECEIPT_PREFIX,
    SECURE_RECEIPT_PREFIX,
    _signature,
)

from .support.pending import client_stored_calls, receipt_ids

pytestmark = [pytest.mark.django_db(transaction=True)]

STORES = {
    "cache": ("giosg_django.storage.CacheStorage", "giosg_pending"),
    "database": ("giosg_django.storage.DatabaseStorage", "default"),
}


@pytest.fixture(params=list(STORES))
def store(request: Any, settings: Any) -> Iterator[str]:
    path, alias = STORES[request.param]
    settings.GIOSG = {**settings.GIOSG, "PENDING_STORAGE": path, "PENDING_CACHE": alias}
    caches["giosg_pending"].clear()
    yield request.param


def goals(js_engine: Any, response: Any) -> list[str]:
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return [args[2] for args in result.calls or [] if args[:2] == ["goal", "matches"]]


def request_with(cookies: dict[str, str]) -> Any:
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies)
    return request


def queue(goal_ids: list[str]) -> dict[str, str]:
    """Store ``goal_ids`` as one response would; the cookies the browser then holds."""
    response = HttpResponse()
    get_storage().save(request_with({}), response, [goal_matches(g) for g in goal_ids])
    return {name: morsel.value for name, morsel in response.cookies.items() if morsel.value}


def take(request: Any) -> list[Any]:
    """What a request that renders its batch gets: the calls found, then taken."""
    loaded = get_storage().load(request)
    return loaded.take().calls if loaded.take is not None else loaded.calls


def apply(jar: dict[str, str], response: HttpResponse) -> dict[str, str]:
    """The browser's cookies once ``response`` arrived."""
    for name, morsel in response.cookies.items():
        if morsel.value:
            jar[name] = morsel.value
        else:
            jar.pop(name, None)
    return jar


def test_a_record_is_taken_by_one_request_only(store: str) -> None:
    cookies = queue(["a", "b"])
    first, second = request_with(cookies), request_with(cookies)
    found_first, found_second = get_storage().load(first), get_storage().load(second)
    # Both find the record (a read); only one takes it, and renders only what it took.
    assert [c.args for c in found_second.calls] == [("a",), ("b",)]
    assert found_first.take is not None and found_second.take is not None
    assert [c.args for c in found_first.take().calls] == [("a",), ("b",)]
    assert found_second.take().calls == []
    assert take(request_with(cookies)) == []  # a replayed receipt finds nothing
    # Each response gives its receipts back, found or not.
    for request in (first, second):
        response = HttpResponse()
        assert get_storage().save(request, response, []) == []
        assert [m.value for m in response.cookies.values()] == [""]
        assert all(m["max-age"] == 0 for m in response.cookies.values())


def test_threads_taking_the_same_records_deliver_each_once(store: str) -> None:
    """Many requests presenting the same receipts at once (a browser's parallel fetches): each
    record reaches exactly one of them."""
    cookies: dict[str, str] = {}
    for n in range(6):
        cookies.update(queue([f"g{n}"]))
    got: list[str] = []
    barrier = threading.Barrier(8)

    def render() -> None:
        barrier.wait()
        got.extend(call.args[0] for call in take(request_with(cookies)))

    threads = [threading.Thread(target=render) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # (The test database is SQLite in memory with a shared cache, whose table locks fail at
    # once instead of waiting: a take that failed so leaves its records for a later request,
    # which the last load here is.)
    got.extend(call.args[0] for call in take(request_with(cookies)))
    assert sorted(got) == [f"g{n}" for n in range(6)]


def test_calls_written_back_keep_their_place_before_newer_records(store: str) -> None:
    old = queue(["old"])
    request = request_with(old)
    taken = take(request)  # a page took it, then did not carry it (an e-mail's template) ...
    newer = queue(["newer"])  # ... while a parallel one stored its own
    response = HttpResponse()
    get_storage().save(request, response, taken)  # not delivered: back it goes
    browser = {**newer, **{n: m.value for n, m in response.cookies.items() if m.value}}
    assert [c.args[0] for c in take(request_with(browser))] == ["old", "newer"]


def test_nothing_is_asked_of_the_store_without_a_receipt(
    store: str, ada_client: Client, monkeypatch: Any
) -> None:
    """A plain page of a signed-in visitor with nothing waiting: no cache round trip, and no
    query more than with the session store."""
    asked: list[str] = []
    cache = caches["giosg_pending"]
    for method in ("get", "get_many", "add", "set", "delete"):
        original = getattr(cache, method)
        monkeypatch.setattr(
            cache, method, lambda *a, _m=method, _o=original, **k: asked.append(_m) or _o(*a, **k)
        )
    ada_client.get("/page/")  # the first page after the login
    with CaptureQueriesContext(connection) as queries:
        assert ada_client.get("/page/").status_code == 200
    assert asked == []
    assert not [q for q in queries.captured_queries if "giosg_django" in q["sql"]]
    with override_settings(GIOSG={"COMPANY_ID": "test-company"}):  # the session store
        ada_client.get("/page/")
        with CaptureQueriesContext(connection) as session_queries:
            ada_client.get("/page/")
    assert len(queries.captured_queries) == len(session_queries.captured_queries)


def test_a_response_that_sets_or_returns_a_receipt_is_private(store: str, client: Client) -> None:
    """T2: a shared cache replaying a receipt would give this visitor's calls to others."""
    queued = client.get("/queue/g1/json/")
    delivered = client.get("/page/")
    for response in (queued, delivered):
        assert any(name.startswith(RECEIPT_PREFIX) for name in response.cookies)
        assert "private" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]


def test_no_call_is_written_into_the_session(store: str, ada_client: Client) -> None:
    ada_client.get("/page/")
    before = dict(ada_client.session)
    ada_client.get("/queue/g1/json/")
    assert dict(ada_client.session) == before
    assert [call[:3] for call in client_stored_calls(ada_client)] == [["goal", "matches", ["g1"]]]


def test_calls_follow_the_browser_through_login_and_logout(
    store: str, ada: Any, js_engine: Any
) -> None:
    client = Client()
    client.get("/queue/before-login/json/")
    client.post("/accounts/login/", {"username": "ada", "password": "pw"})  # new session key
    client.get("/queue/signed-in/json/")
    client.post("/accounts/logout/")  # the session flushed: a redirect, nothing rendered
    page = client.get("/page/")
    assert goals(js_engine, page) == ["before-login", "signed-in"]
    assert goals(js_engine, client.get("/page/")) == []


def test_records_and_receipts_expire_with_the_session_cookie(store: str, settings: Any) -> None:
    settings.SESSION_COOKIE_AGE = 3600
    response = HttpResponse()
    get_storage().save(request_with({}), response, [goal_matches("g")])
    (morsel,) = response.cookies.values()
    assert morsel["max-age"] == 3600 and morsel["httponly"] and morsel["samesite"] == "Lax"
    record_id = morsel.key.removeprefix(RECEIPT_PREFIX)
    if store == "database":
        expires = PendingCall.objects.get(pk=record_id).expires
        assert abs((expires - timezone.now()) - timedelta(seconds=3600)) < timedelta(seconds=5)
        PendingCall.objects.filter(pk=record_id).update(expires=timezone.now())
        assert take(request_with({morsel.key: morsel.value})) == []  # expired
    else:
        cache = caches["giosg_pending"]
        expiry = cache._expire_info[cache.make_and_validate_key(KEY_PREFIX + record_id)]
        assert 3590 < expiry - __import__("time").time() <= 3600


def test_clear_pending_deletes_what_expired_only(capsys: Any) -> None:
    now = timezone.now()
    PendingCall.objects.create(id="a" * 22, calls="{}", expires=now - timedelta(seconds=1))
    PendingCall.objects.create(id="b" * 22, calls="{}", expires=now + timedelta(hours=1))
    call_command("giosg_clear_pending")
    assert list(PendingCall.objects.values_list("pk", flat=True)) == ["b" * 22]
    assert "Deleted 1 expired record" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name",
    [
        RECEIPT_PREFIX + "short",
        RECEIPT_PREFIX + "x" * 21 + "!",
        "other_" + "x" * 22,
        SECURE_RECEIPT_PREFIX + "x" * 22,  # the secure name, on a site without HTTPS cookies
    ],
)
def test_a_cookie_that_is_not_a_receipt_costs_nothing(store: str, name: str) -> None:
    request = request_with({name: "1"})
    assert get_storage().may_hold(request) is False


def test_a_planted_receipt_is_ignored_and_left_alone(store: str, js_engine: Any) -> None:
    """T5: cookies named like receipts, planted by a page script or a sibling subdomain (which
    the server cannot delete: another Domain or Path), are not signed: never read, counted or
    deleted, and the real receipts behind them work."""
    client = Client()
    planted = {RECEIPT_PREFIX + secrets.token_urlsafe(16): "1" for _ in range(MAX_RECEIPTS + 4)}
    for name, value in planted.items():
        client.cookies[name] = value
    assert get_storage().may_hold(request_with(planted)) is False
    queued = client.get("/queue/conversion/json/")
    assert not [name for name, morsel in queued.cookies.items() if not morsel.value]
    assert goals(js_engine, client.get("/page/")) == ["conversion"]
    assert all(client.cookies[name].value == "1" for name in planted)


def test_a_signed_receipt_of_a_record_gone_is_given_back(store: str, caplog: Any) -> None:
    cookies = queue(["g"])
    assert take(request_with(cookies)) != []
    request = request_with(cookies)  # the same receipt again: its record is gone
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        assert take(request) == []
    response = HttpResponse()
    get_storage().save(request, response, [])
    assert [m.value for m in response.cookies.values()] == [""]  # given back
    assert caplog.records == []


def test_a_response_that_renders_nothing_takes_nothing(store: str, js_engine: Any) -> None:
    """A JSON response, a redirect or HEAD leaves the records found alone: lost on its way
    (an aborted fetch, a navigation away, a response replaced by an error), it loses no call."""
    client = Client()
    client.get("/queue/g1/json/")
    before = {name: client.cookies[name].value for name in client.cookies}
    response = client.get("/queue/g2/json/")
    assert not [name for name, morsel in response.cookies.items() if not morsel.value]
    client.cookies.clear()  # the browser never read that response
    for name, value in before.items():
        client.cookies[name] = value
    assert goals(js_engine, client.get("/page/")) == ["g1"]


def test_a_store_that_cannot_write_loses_only_the_new_calls(
    store: str, js_engine: Any, monkeypatch: Any
) -> None:
    """Redis at maxmemory, a full disk: the response's own calls are lost (logged), never
    what waited before."""
    client = Client()
    client.get("/queue/waiting/json/")
    with monkeypatch.context() as patched:
        break_store(store, patched, on=("write",))
        assert client.get("/queue/new/json/").status_code == 200
    assert goals(js_engine, client.get("/page/")) == ["waiting"]


def test_receipts_stay_few_whatever_the_parallel_requests(store: str) -> None:
    """T6: 20 parallel requests at a time, all sent with the same cookies, each queuing one
    call, none rendering: the browser's receipts stay at about the number of requests in
    flight (a request presenting more than GATHER_AT takes their records and writes one)."""
    storage = get_storage()
    jar: dict[str, str] = {}
    sizes = []
    for round_ in range(10):
        requests = [request_with(jar) for _ in range(20)]
        loaded = [storage.load(request) for request in requests]  # all before any answer
        for n, (request, found) in enumerate(zip(requests, loaded, strict=True)):
            taken = found.calls if found.take is None else []  # a JSON request renders none
            response = HttpResponse()
            storage.save(request, response, [*taken, goal_matches(f"g{round_}-{n}")])
            apply(jar, response)
        sizes.append(len(jar))
    assert max(sizes) <= 20, sizes
    delivered = take(request_with(jar))
    assert len({call.args[0] for call in delivered}) == len(delivered)  # none twice


def test_with_browser_session_cookies_receipts_end_with_the_browser(
    store: str, ada: Any, js_engine: Any, settings: Any
) -> None:
    """T2: with SESSION_EXPIRE_AT_BROWSER_CLOSE, the next person at that computer gets none
    of the calls that waited for the last one."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    client = Client()
    client.post("/accounts/login/", {"username": "ada", "password": "pw"})
    client.get("/page/")
    queued = client.get("/queue/ada-private-goal/json/")
    receipt = next(m for n, m in queued.cookies.items() if n.startswith(RECEIPT_PREFIX))
    assert not receipt["max-age"] and not receipt["expires"]  # a browser-session cookie
    for name in list(client.cookies):  # the browser closes
        if not client.cookies[name]["max-age"] and not client.cookies[name]["expires"]:
            del client.cookies[name]
    assert "ada-private-goal" not in goals(js_engine, client.get("/page/"))


class ReplicaRouter:
    """Reads from "replica", writes to "default": a replica that lags (here: forever)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, *args: Any, **kwargs: Any) -> bool:
        return True


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_database_storage_reads_records_where_it_writes_them(settings: Any, js_engine: Any) -> None:
    """A router that sends reads to a replica: a record the replica lacks is not gone."""
    settings.GIOSG = {**settings.GIOSG, "PENDING_STORAGE": STORES["database"][0]}
    settings.DATABASE_ROUTERS = [f"{__name__}.ReplicaRouter"]
    client = Client()
    client.get("/queue/g1/json/")
    assert goals(js_engine, client.get("/page/")) == ["g1"]
    assert goals(js_engine, client.get("/page/")) == []


def test_the_caps_hold_across_records(store: str, settings: Any, caplog: Any) -> None:
    settings.GIOSG = {**settings.GIOSG, "MAX_PENDING": 3}
    cookies: dict[str, str] = {}
    for n in range(5):
        cookies.update(queue([f"g{n}"]))
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        calls = take(request_with(cookies))
    assert [c.args[0] for c in calls] == ["g2", "g3", "g4"]  # the newest, in order
    assert "dropped" in caplog.text


def test_a_corrupt_record_is_ignored_and_logged(store: str, caplog: Any) -> None:
    record_id = "C" * 22
    if store == "database":
        PendingCall.objects.create(
            id=record_id, calls="not json", expires=timezone.now() + timedelta(hours=1)
        )
    else:
        caches["giosg_pending"].set(KEY_PREFIX + record_id, json.dumps({"queued": "x"}))
    receipt = {RECEIPT_PREFIX + record_id: _signature(record_id)}
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        assert take(request_with(receipt)) == []
    assert "ignored a stored record" in caplog.text


def test_with_https_cookies_the_receipt_is_host_only(store: str, settings: Any) -> None:
    settings.SESSION_COOKIE_SECURE = True
    response = HttpResponse()
    get_storage().save(request_with({}), response, [goal_matches("g")])
    (morsel,) = response.cookies.values()
    assert morsel.key.startswith("__Host-giosg_pending_")
    assert morsel["secure"] and morsel["path"] == "/" and not morsel["domain"]
    assert receipt_ids({morsel.key: morsel}) == [morsel.key.removeprefix(SECURE_RECEIPT_PREFIX)]
    assert get_storage().may_hold(request_with({morsel.key: morsel.value}))


# --- a store that is down -------------------------------------------------------------------


class Down(Exception):
    pass


def break_store(store: str, monkeypatch: Any, *, on: tuple[str, ...]) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise Down("the store is down")

    target = CacheStorage if store == "cache" else DatabaseStorage
    for method in on:
        monkeypatch.setattr(target, method, fail)


def test_a_store_that_is_down_never_fails_the_page(
    store: str, client: Client, js_engine: Any, monkeypatch: Any, caplog: Any
) -> None:
    client.get("/queue/waiting/json/")
    with monkeypatch.context() as patched:
        break_store(store, patched, on=("find", "write"))
        with caplog.at_level(logging.ERROR, logger="giosg_django"):
            assert client.get("/queue/lost/json/").status_code == 200
            page = client.get("/page/")
        assert page.status_code == 200
        assert goals(js_engine, page) == []  # nothing could be taken
    assert "loading pending giosg calls failed" in caplog.text
    assert "writing pending giosg calls" in caplog.text
    # Back up: what waited before is still there (its receipt was kept); the call of the
    # response whose write failed is lost, as logged.
    assert goals(js_engine, client.get("/page/")) == ["waiting"]
    assert goals(js_engine, client.get("/queue/again/page/")) == ["again"]


def test_a_failure_midway_delivers_what_was_taken_and_keeps_the_other_receipts(
    store: str, monkeypatch: Any
) -> None:
    cookies = {**queue(["first"]), **queue(["second"])}
    target = CacheStorage if store == "cache" else DatabaseStorage
    original = target.remove
    calls_made: list[str] = []

    def remove_once(self: Any, record_id: str) -> bool:
        calls_made.append(record_id)
        if len(calls_made) > 1:
            raise Down("the store went down")
        return original(self, record_id)

    monkeypatch.setattr(target, "remove", remove_once)
    request = request_with(cookies)
    loaded = take(request)
    assert len(loaded) == 1  # the one removed before the failure
    response = HttpResponse()
    get_storage().save(request, response, [])
    returned = {name for name, morsel in response.cookies.items() if not morsel.value}
    assert len(returned) == 1 and returned < set(cookies)
    monkeypatch.undo()
    (left,) = set(cookies) - returned
    later = take(request_with({left: cookies[left]}))
    assert {c.args[0] for c in [*loaded, *later]} == {"first", "second"}


def test_a_store_that_is_down_raises_with_debug(
    store: str, client: Client, monkeypatch: Any, settings: Any
) -> None:
    settings.DEBUG = True
    break_store(store, monkeypatch, on=("write",))
    with pytest.raises(Down):
        client.get("/queue/g/json/")


def test_a_pending_storage_that_does_not_import_keeps_calls_in_the_session(
    client: Client, js_engine: Any, settings: Any, caplog: Any
) -> None:
    """A check error (giosg.E011); a site running all the same logs it and keeps working."""
    settings.GIOSG = {**settings.GIOSG, "PENDING_STORAGE": "nowhere.Storage"}
    with caplog.at_level(logging.ERROR, logger="giosg_django"):
        client.get("/queue/g1/json/")
        assert goals(js_engine, client.get("/page/")) == ["g1"]
    assert caplog.text.count("GIOSG['PENDING_STORAGE'] = 'nowhere.Storage' failed") == 1
