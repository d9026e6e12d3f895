"""Visitors without a browser: ``http.client`` with a cookie jar each, the flows the load and
fault tests run, and the checks made on every page in the node engine.

Threads only collect responses; the pages are run in node and checked afterwards, in the
test's own thread, so a failure names the visitor and the page.
"""

from __future__ import annotations

import email.utils
import http.client
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import jwt

from ..support.jsengine import NodeEngine
from .hooks import KEY
from .prepare import PASSWORD, username

SESSION_COOKIE = "sessionid"
COOKIE_LIMIT = 4096
LOGIN_GOAL: list[Any] = ["goal", "matches", "login-goal"]
LOGOUT_CALLS: list[list[Any]] = [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
TTL = 600
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    label: str
    method: str
    path: str
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def __repr__(self) -> str:
        return f"<{self.label}: {self.method} {self.path} -> {self.status}>"


@dataclass
class Visitor:
    """One visitor: a user, a cookie jar, and every response it got, in order."""

    number: int
    host: str
    port: int
    timeout: float = 30.0
    cookies: dict[str, str] = field(default_factory=dict)
    responses: list[Response] = field(default_factory=list)
    cookie_sizes: list[int] = field(default_factory=list)  # the session cookie, as sent to us
    error: BaseException | None = None
    # Parallel requests of one visitor (the race tests) share the jar as a browser's tabs and
    # fetch() calls do: each request sends the jar as it is when it starts, and each response's
    # Set-Cookie headers, deletions too, apply as soon as its headers arrive, in that order.
    jar_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def username(self) -> str:
        return username(self.number)

    @property
    def goal(self) -> str:
        return f"goal-{self.username}"

    def request(
        self,
        label: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        sent = dict(headers or {})
        with self.jar_lock:
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        # The visitor's name in the query: gunicorn's access log then says which worker
        # served which visitor (the views ignore it).
        target = f"{path}{'&' if '?' in path else '?'}v={self.username}"
        try:
            connection.request(method, target, body=body, headers=sent)
            raw = connection.getresponse()
            with self.jar_lock:
                for key, value in raw.getheaders():
                    if key.lower() == "set-cookie":
                        self._store_cookie(value)
            content = raw.read()
            response = Response(
                label,
                method,
                path,
                raw.status,
                raw.getheaders(),
                content.decode("utf-8", "replace"),
            )
        finally:
            connection.close()
        self.responses.append(response)
        return response

    def _store_cookie(self, header: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if name == SESSION_COOKIE:
                self.cookie_sizes.append(len(name) + 1 + len(morsel.coded_value))
            if _expired(morsel["max-age"], morsel["expires"]):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.coded_value

    def cookie(self, name: str) -> str | None:
        with self.jar_lock:
            return self.cookies.get(name)

    def csrf_token(self) -> str:
        """The token for a form: the one in the last page's form, else the cookie's secret
        (which Django accepts as the token too)."""
        if self.responses:
            found = CSRF_FIELD.search(self.responses[-1].body)
            if found:
                return found.group(1)
        return self.cookies.get("csrftoken", "")

    def get(self, label: str, path: str) -> Response:
        return self.request(label, "GET", path)

    # --- the steps of a visit -------------------------------------------------------------

    def log_in(self) -> None:
        self.get("login-page", "/accounts/login/")
        form = {
            "username": self.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": self.csrf_token(),
        }
        self.request("login", "POST", "/accounts/login/", form)

    def queue_goal(self) -> None:
        self.get("queue", f"/queue/{self.goal}/json/")

    def log_out(self) -> None:
        self.request(
            "logout", "POST", "/accounts/logout/", {"csrfmiddlewaretoken": self.csrf_token()}
        )

    def full_visit(self) -> None:
        """Log in, queue a goal with a JSON request, load a page, log out, load a page (and
        one more, where nothing may follow)."""
        self.log_in()
        self.queue_goal()
        self.get("page", "/page/")
        self.log_out()
        self.get("after-logout", "/page/")
        self.get("last", "/page/")

    def by_label(self, label: str) -> list[Response]:
        return [response for response in self.responses if response.label == label]


def _expired(max_age: str, expires: str) -> bool:
    """Whether a Set-Cookie deletes its cookie, as a browser reads it: Max-Age 0 or less, else
    an Expires in the past (Max-Age wins when both are there, RFC 6265 section 5.3)."""
    if max_age.strip().lstrip("-").isdigit():
        return int(max_age) <= 0
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return False
        return when.timestamp() <= time.time()
    return False


def run_visitors(
    visitors: Iterable[Visitor],
    step: Callable[[Visitor], None],
    *,
    concurrency: int,
    timeout: float,
) -> None:
    """Run ``step`` for every visitor, ``concurrency`` at a time, the first ones released
    together; an exception is kept on its visitor. Fails if all do not finish in ``timeout``
    (each request has its own socket timeout, so no thread is left waiting for ever)."""
    go = threading.Event()

    def run(visitor: Visitor) -> None:
        try:
            go.wait(timeout=30)
            step(visitor)
        except BaseException as exc:  # collected and reported by the test
            visitor.error = exc

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="visitor")
    futures = [pool.submit(run, visitor) for visitor in visitors]
    go.set()
    _, not_done = wait(futures, timeout=timeout)
    pool.shutdown(wait=not not_done, cancel_futures=True)
    if not_done:
        raise AssertionError(f"{len(not_done)} visitor(s) not done after {timeout}s")


# --- what the pages do in the JS engine -------------------------------------------------------


@dataclass
class PageRun:
    calls: list[list[Any]]
    loader: bool
    problems: list[str]


def run_page(js_engine: NodeEngine, response: Response) -> PageRun:
    """Run the page's scripts; problems: script errors, anything that escaped a script."""
    result = js_engine.run(response.body)
    problems = []
    if result.errors:
        problems.append(f"script errors {result.errors}")
    if result.pwned is not None:
        problems.append(f"a value ran as code: {result.pwned}")
    return PageRun(result.calls or [], result.company == "test-company", problems)


def token_user(token: Any, now: float) -> str | None:
    """The username in a signed visitor.submit token, checked the way giosg checks it."""
    try:
        payload = jwt.decode(token, KEY, algorithms=["HS256"])
    except (jwt.InvalidTokenError, TypeError):
        return None
    exp = payload.pop("exp", None)
    if not isinstance(exp, int) or not 0 < exp - now <= TTL + 5:
        return None
    if set(payload) != {"username"}:
        return None
    name = payload["username"]
    return name if isinstance(name, str) else None


def identities(calls: list[list[Any]], now: float) -> list[str | None]:
    """Who each visitor.submit / setIdentifier call says the visitor is."""
    found: list[str | None] = []
    for call in calls:
        if call[:2] == ["visitor", "submit"]:
            found.append(token_user(call[2] if len(call) > 2 else None, now))
        elif call[:2] == ["visitor", "setIdentifier"]:
            found.append(str(call[2:]))
    return found


def check_full_visit(js_engine: NodeEngine, visitor: Visitor) -> list[str]:
    """Everything wrong with one visitor's :meth:`Visitor.full_visit`, as sentences."""
    if visitor.error is not None:
        return [f"{visitor.username}: {visitor.error!r}"]
    problems: list[str] = []
    expected_status = {
        "login-page": 200,
        "login": 302,
        "queue": 200,
        "page": 200,
        "logout": 302,
        "after-logout": 200,
        "last": 200,
    }
    now = time.time()
    goal_seen = 0
    pages: dict[str, list[list[Any]]] = {}
    for response in visitor.responses:
        where = f"{visitor.username} {response!r}"
        if response.status != expected_status[response.label]:
            problems.append(
                f"{where}: status {response.status}, not {expected_status[response.label]}"
            )
            continue
        if response.label in ("login", "logout"):
            if response.header("Location") != "/page/":
                problems.append(f"{where}: redirected to {response.header('Location')}")
            continue
        if response.label == "queue":
            continue
        run = run_page(js_engine, response)
        problems += [f"{where}: {problem}" for problem in run.problems]
        if not run.loader:
            problems.append(f"{where}: no giosg loader")
        pages[response.label] = run.calls
        goal_seen += run.calls.count(["goal", "matches", visitor.goal])
        if run.calls and "private" not in (response.header("Cache-Control") or ""):
            problems.append(f"{where}: carries calls but is not Cache-Control: private")

    if goal_seen != 1:
        problems.append(f"{visitor.username}: the goal arrived {goal_seen} times, not once")
    expectations: dict[str, Callable[[list[list[Any]]], bool]] = {
        "login-page": lambda calls: calls == [],
        "page": lambda calls: (
            calls[:2] == [LOGIN_GOAL, ["goal", "matches", visitor.goal]]
            and len(calls) == 3
            and calls[2][:2] == ["visitor", "submit"]
            and calls[2][3:] == ["HS256", True]  # the first identity after login replaces
            and identities(calls, now) == [visitor.username]
        ),
        "after-logout": lambda calls: calls == LOGOUT_CALLS,
        "last": lambda calls: calls == [],
    }
    for label, expected in expectations.items():
        if label not in pages:
            continue  # its status was already reported
        if not expected(pages[label]):
            shown = [
                c if c[:2] != ["visitor", "submit"] else [*c[:2], identities([c], now), *c[3:]]
                for c in pages[label]
            ]
            problems.append(f"{visitor.username} {label}: unexpected calls {shown}")
    oversized = [size for size in visitor.cookie_sizes if size > COOKIE_LIMIT]
    if oversized:
        problems.append(f"{visitor.username}: session cookie of {max(oversized)} bytes")
    return problems
