"""Steps the Chromium tests share: polling the page, and signing in and out through the real
auth views (tests/templates/login.html and the pages' logout form)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

# Signed identities in the front-end tests (sync, Turbo, cached pages), verified with PyJWT.
KEY = "k" * 64
SIGNED = {**settings.GIOSG, "SIGNING_KEY": KEY}


def poll(page: Any, expression: str, timeout: float = 5.0) -> bool:
    """Whether ``expression`` (a JS function) becomes true within ``timeout`` seconds, asked
    with ``page.evaluate``: Playwright's ``wait_for_function`` trips an enforcing CSP without
    'unsafe-eval'."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return True
        page.wait_for_timeout(50)
    return False


def sign_in(page: Any, url: str, username: str = "ada", *, go: bool = True) -> None:
    """Sign in through LoginView (password "pw"); ``go=False``: on the login page already."""
    if go:
        page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    with page.expect_navigation():
        page.click("#login button")


def log_out(page: Any) -> None:
    """Log out through the page's logout form (LogoutView)."""
    with page.expect_navigation():
        page.click("#logout button")


def queue(page: Any) -> list[list[Any]]:
    """What giosg's queue holds in ``page`` (a Playwright page), [] before anything."""
    found: list[Any] = page.evaluate("() => (window._giosg?._e || []).map(a => [...a])")
    return [list(args) for args in found]


def goals(page: Any) -> list[str]:
    return [args[2] for args in queue(page) if args[:2] == ["goal", "matches"]]


def submits(page: Any) -> list[list[Any]]:
    return [args for args in queue(page) if args[:2] == ["visitor", "submit"]]
