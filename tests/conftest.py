"""Fixtures: a real JS engine (node), headless Chromium through Playwright, and a fake giosg host.

Where node or Chromium is missing, the tests that need them are skipped with a message that
says how to install them, except under CI (``CI`` set), where a missing engine is a failure.
Nothing here downloads a browser.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from .support.jsengine import UNDEFINED, NodeEngine, node_path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
GIOSG_HOST = "https://service.giosg.test"  # tests/settings.py; the browser never reaches it


def missing(what: str, how: str) -> None:
    message = f"{what} not found; {how}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def js_engine() -> Iterator[NodeEngine]:
    node = node_path()
    if node is None:
        missing(
            "node", "install Node.js (Debian: apt-get install nodejs) or set NODE=/path/to/node"
        )
    engine = NodeEngine(node)  # type: ignore[arg-type]
    yield engine
    engine.close()


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    return path if os.path.exists(path) else None


@contextmanager
def launch_chromium(
    ignore_default_args: list[str] | None = None, args: list[str] | None = None
) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (skipped, or failed under CI, when missing).

    Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls next
    to a running loop; the live server and the tests' own ORM calls are safe here, so the
    guard is lifted while the browser runs, and only then (the async tests keep it).
    """
    path = chromium_path()
    if path is None:
        missing(
            "Chromium",
            "install Debian's chromium (apt-get install chromium) "
            "or set CHROMIUM=/path/to/chromium",
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=path,
            args=[*CHROMIUM_ARGS, *(args or [])],
            ignore_default_args=ignore_default_args,
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module, as Playwright starts it."""
    with launch_chromium() as browser:
        yield browser


# null when the page has no giosg at all; [] when giosg is there and its queue is empty.
QUEUE_JS = """() => JSON.stringify(
    typeof window._giosg === "function"
        ? Array.from(window._giosg._e || [],
            a => Array.from(a, v => v === undefined ? {$undefined: true} : v))
        : null)"""


def decode_calls(text: str) -> list[list[Any]] | None:
    data = json.loads(text)
    if data is None:
        return None
    return [[UNDEFINED if arg == {"$undefined": True} else arg for arg in args] for args in data]


@dataclass
class BrowserPage:
    """A Playwright page with giosg's host stubbed and page errors collected."""

    page: Any
    errors: list[str] = field(default_factory=list)
    giosg_requests: list[str] = field(default_factory=list)

    def goto(self, url: str) -> Any:
        return self.page.goto(url)

    def queue(self) -> list[list[Any]] | None:
        """What giosg's queue received, with ``undefined`` kept apart from ``null``."""
        return decode_calls(self.page.evaluate(QUEUE_JS))


@pytest.fixture
def browser_page(browser: Any) -> Iterator[BrowserPage]:
    context = browser.new_context()
    page = context.new_page()
    wrapper = BrowserPage(page)
    page.on("pageerror", lambda error: wrapper.errors.append(str(error)))

    def fake_giosg(route: Any) -> None:
        # Stands in for giosg's client script: it loads, and leaves the queue to the test.
        wrapper.giosg_requests.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body="/* giosg stub */")

    context.route(f"{GIOSG_HOST}/**", fake_giosg)
    yield wrapper
    context.close()


# A signed-in user with a full name and an email, for the identity tests.
@pytest.fixture
def ada(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )


# A second user with only a username (no name, no email), for the change-of-user tests.
@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", "", "pw")


@pytest.fixture
def ada_client(ada: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(ada)
    return client


# --- each PENDING_STORAGE -------------------------------------------------------------------

# The delivery rules hold whatever keeps the waiting calls: a module or test marked
# ``each_storage`` runs once per store. The store is made the default for the test (not put
# into settings.GIOSG), so a test that sets GIOSG afresh still runs against it.
PENDING_STORAGES = {
    "session": ("giosg_django.storage.SessionStorage", "default"),
    "cache": ("giosg_django.storage.CacheStorage", "giosg_pending"),
    "database": ("giosg_django.storage.DatabaseStorage", "default"),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("each_storage") is None:
        return
    if metafunc.definition.get_closest_marker("session_storage") is not None:
        stores = ["session"]
    else:
        stores = list(PENDING_STORAGES)
    metafunc.parametrize("pending_storage", stores, indirect=True)


@pytest.fixture(autouse=True)
def pending_storage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store of the test's parametrization (``each_storage``); else the default, as set."""
    from django.core.cache import caches

    from giosg_django import conf

    name: str | None = getattr(request, "param", None)
    if name is None:
        return "session"
    path, alias = PENDING_STORAGES[name]
    if name == "database":
        request.getfixturevalue("db")  # the PendingCall table
    monkeypatch.setitem(conf.DEFAULTS, "PENDING_STORAGE", path)
    monkeypatch.setitem(conf.DEFAULTS, "PENDING_CACHE", alias)
    conf.get_config.cache_clear()
    request.addfinalizer(conf.get_config.cache_clear)
    caches["giosg_pending"].clear()
    return name


@pytest.fixture(autouse=True)
def settings_left_as_found() -> Iterator[None]:
    """No test leaves a setting overridden for the tests after it (a decorator's
    override_settings undone before pytest-django's settings fixture put its copy back did)."""
    from django.conf import settings

    before = (settings.GIOSG, settings.DEBUG, settings.MIDDLEWARE, settings.ROOT_URLCONF)
    yield
    after = (settings.GIOSG, settings.DEBUG, settings.MIDDLEWARE, settings.ROOT_URLCONF)
    assert after == before, "a setting was left overridden after the test"
