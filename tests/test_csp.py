"""CSP nonces: every script giosg_django renders carries the request's nonce. django-csp 4 and
Django 6's own middleware, both middleware orders, tag and auto-inject. That under an enforcing
policy whose script-src allows only that nonce the loader runs and the queue holds the calls is
tested in Chromium, in tests/browser/test_csp.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

GIOSG = "giosg_django.middleware.GiosgMiddleware"
BASE = [m for m in settings.MIDDLEWARE if m != GIOSG]
HEADER = "Content-Security-Policy"


def django_csp() -> dict[str, Any]:
    pytest.importorskip("csp")
    from csp.constants import NONCE, SELF

    return {
        "middleware": "csp.middleware.CSPMiddleware",
        "settings": {
            "CONTENT_SECURITY_POLICY": {
                "DIRECTIVES": {"default-src": [SELF], "script-src": [NONCE]}
            }
        },
    }


def django_own_csp() -> dict[str, Any]:
    pytest.importorskip("django.middleware.csp", reason="Django's own CSP needs Django 6.0+")
    from django.utils.csp import CSP

    return {
        "middleware": "django.middleware.csp.ContentSecurityPolicyMiddleware",
        "settings": {"SECURE_CSP": {"default-src": [CSP.SELF], "script-src": [CSP.NONCE]}},
    }


PROVIDERS = {"django-csp": django_csp, "django": django_own_csp}


def setup(provider: str, order: str, mode: str) -> dict[str, Any]:
    csp = PROVIDERS[provider]()
    middleware = (
        [*BASE, csp["middleware"], GIOSG]
        if order == "csp-first"
        else [
            *BASE,
            GIOSG,
            csp["middleware"],
        ]
    )
    return {
        "MIDDLEWARE": middleware,
        "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
        "GIOSG": {**settings.GIOSG, "AUTO_INJECT": mode == "auto-inject"},
        **csp["settings"],
    }


def header_nonce(value: str) -> str:
    match = re.search(r"'nonce-([^']+)'", value)
    assert match, value
    return match.group(1)


CASES = [
    (provider, order, mode)
    for provider in PROVIDERS
    for order in ["csp-first", "giosg-first"]
    for mode in ["tag", "auto-inject"]
]
PATHS = {"tag": "/inject/csp-tag/", "auto-inject": "/inject/full/"}


@pytest.mark.parametrize(("provider", "order", "mode"), CASES)
def test_every_script_carries_the_header_nonce(provider: str, order: str, mode: str) -> None:
    with override_settings(**setup(provider, order, mode)):
        response = Client().get(PATHS[mode])
    nonce = header_nonce(response[HEADER])
    scripts = re.findall(r"<script[^>]*>(?:(?!</script>).)*_giosg", response.content.decode(), re.S)
    assert scripts, "no giosg script on the page"
    for script in scripts:
        assert script.startswith(f'<script nonce="{nonce}">')


def test_without_a_csp_nothing_changes(client: Client) -> None:
    response = client.get("/inject/csp-tag/")
    assert b" nonce=" not in response.content
    assert not response.has_header(HEADER)
