"""A logout that lands on a page without the tag (Django admin's "Logged out" page, which
``include("django.contrib.auth.urls")`` uses, or a redirect to any page without it): the site's
other open pages still close the chat at once, and the logout calls still wait for the next
page with the tag. The same in Chromium, with a second tab, is in
tests/browser/test_logout_page.py."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from giosg_django import js

pytestmark = pytest.mark.each_storage

CLOSE = ["chat", "close", {"hide": True}]
CLEAR = ["visitor", "removeAll"]
GIOSG = "giosg_django.middleware.GiosgMiddleware"
ADMIN = {
    "INSTALLED_APPS": [*settings.INSTALLED_APPS, "django.contrib.admin", "django.contrib.messages"],
    "ROOT_URLCONF": "tests.support.admin_urls",
    "LOGOUT_REDIRECT_URL": None,
}
LOGGED_OUT_TEXT = "Thanks for spending some quality time with the web site today."


def with_csp(order: str) -> dict[str, Any]:
    """django-csp enforcing a nonce-only script-src, inside giosg's middleware (it writes its
    header before giosg sees the response) or outside it."""
    if order == "none":
        return {}
    from csp.constants import NONCE, SELF

    middleware = [m for m in settings.MIDDLEWARE if m != GIOSG]
    csp = "csp.middleware.CSPMiddleware"
    middleware += [GIOSG, csp] if order == "csp-inside" else [csp, GIOSG]
    return {
        "MIDDLEWARE": middleware,
        "CONTENT_SECURITY_POLICY": {"DIRECTIVES": {"default-src": [SELF], "script-src": [NONCE]}},
    }


def notice_scripts(html: str) -> list[str]:
    return re.findall(r"<script[^>]*>(?:(?!</script>).)*</script>", html, re.S)


@pytest.mark.django_db
@pytest.mark.parametrize("csp", ["none", "csp-inside", "csp-outside"])
def test_the_notice_is_the_client_and_the_marker_only(
    js_engine: Any, ada_client: Client, csp: str
) -> None:
    """T2/T5: on the logged-out page, one script with the request's CSP nonce: it records the
    logout for the other pages, runs no giosg call and loads nothing; the page is private."""
    with override_settings(**ADMIN, **with_csp(csp)):
        before = int(time.time() * 1000)
        response = ada_client.post("/auth/logout/")
    html = response.content.decode()
    assert LOGGED_OUT_TEXT in html
    [tag] = [s for s in notice_scripts(html) if js.CLIENT_GLOBAL in s]
    if csp != "none":
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        assert nonce and tag.startswith(f'<script nonce="{nonce.group(1)}">')
    result = js_engine.run(tag)
    assert result.errors == []
    assert result.calls is None and result.inserted == []
    assert before <= int(result.storage[js.STORAGE_KEY]) <= time.time() * 1000
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_redirect_to_pages_without_the_tag_carries_it_until_a_page_with_the_tag(
    js_engine: Any, ada_client: Client
) -> None:
    """T2: logout redirecting to a page without the tag: that page tells the other pages;
    the logout calls wait for the next page with the tag, after which nothing is added."""
    with override_settings(LOGOUT_REDIRECT_URL="/client/no-tag/"):
        landed = ada_client.post("/accounts/logout/", follow=True)
    assert landed.redirect_chain == [("/client/no-tag/", 302)]
    result = js_engine.run(landed.content.decode())
    assert result.errors == [] and result.calls is None
    assert js.STORAGE_KEY in result.storage
    assert "private" in landed["Cache-Control"]
    assert js.CLIENT_GLOBAL in ada_client.get("/client/no-tag/").content.decode()  # still waits

    assert js_engine.run(ada_client.get("/page/").content.decode()).calls == [CLOSE, CLEAR]
    after = ada_client.get("/client/no-tag/")
    assert "<script" not in after.content.decode()
    assert not after.has_header("Cache-Control")


@pytest.mark.django_db
def test_off_with_cross_tab_logout_off_and_for_exempt_and_htmx(
    ada_client: Client, ada: Any
) -> None:
    """T7: CROSS_TAB_LOGOUT off, a giosg_exempt view, an htmx request (its own delivery):
    nothing is inserted."""
    off = {**settings.GIOSG, "CROSS_TAB_LOGOUT": False}
    with override_settings(LOGOUT_REDIRECT_URL="/client/no-tag/", GIOSG=off):
        landed = ada_client.post("/accounts/logout/", follow=True)
    assert js.CLIENT_GLOBAL not in landed.content.decode()

    client = Client()
    client.force_login(ada)
    client.post("/accounts/logout/")
    assert js.CLIENT_GLOBAL not in client.get("/inject/exempt/").content.decode()
    htmx = client.get("/client/no-tag/", HTTP_HX_REQUEST="true")
    assert js.CLIENT_GLOBAL not in htmx.content.decode()
