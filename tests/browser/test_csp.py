"""CSP nonces in Chromium: under an enforcing policy whose script-src allows only the request's
nonce, the loader runs and the queue holds the calls. django-csp 4 and Django 6's own
middleware, both middleware orders, tag and auto-inject (the nonce on every script giosg_django
renders is checked without a browser in tests/test_csp.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ..support.servers import wsgi_server
from ..test_csp import CASES, PATHS, setup


@pytest.mark.browser
@pytest.mark.parametrize(("provider", "order", "mode"), CASES)
def test_under_an_enforcing_nonce_policy_the_calls_reach_the_queue(
    browser_page: Any, provider: str, order: str, mode: str
) -> None:
    page = browser_page.page
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push([e.effectiveDirective, e.blockedURI]));"
    )
    with wsgi_server(**setup(provider, order, mode)) as url:
        response = page.goto(url + PATHS[mode])
        assert "'nonce-" in response.headers["content-security-policy"]
        goal = "inject-csp-tag" if mode == "tag" else "inject-full"
        assert browser_page.queue() == [["goal", "matches", goal]]
        assert page.evaluate("() => window._giosg._c") == "test-company"  # the loader ran
        # The policy is enforced: the control script without a nonce was blocked...
        assert page.evaluate("() => window.__unnonced") is None
        violations = page.evaluate("() => window.__violations")
        inline = [v for v in violations if v[1] == "inline"]
        assert len(inline) == 1  # ...and it is the only inline script blocked
    assert browser_page.errors == []
