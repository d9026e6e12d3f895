"""Steps the Chromium tests share: polling the page, and signing in and out through the real
auth views (tests/templates/login.html and the pages' logout form)."""

from __future__ import annotations

import time
from typing import Any


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
