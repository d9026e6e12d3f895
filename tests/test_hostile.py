"""Hostile values in every argument position: nothing runs, nothing breaks, values arrive as
given (in Node's vm and in Chromium, from the Python API and from the tag)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from .cases import GROUPS, HOSTILE, HOSTILE_SETTINGS

pytestmark = pytest.mark.django_db

HOWS = ["api", "tag", "redirect"]
# After a redirect the calls wait in the session: the 20 kB value in every argument of each call
# is far over MAX_PENDING_BYTES' default, whose dropping test_pending covers; here it must pass.
GIOSG = {**settings.GIOSG, **HOSTILE_SETTINGS, "MAX_PENDING_BYTES": 1_000_000}


@override_settings(GIOSG=GIOSG)
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("key", HOSTILE)
def test_hostile_value_in_node(client: Any, js_engine: Any, key: str, how: str) -> None:
    cases = GROUPS[f"hostile-{key}"]
    response = client.get(f"/cases/hostile-{key}/{how}/", follow=True)
    html = response.content.decode()
    result = js_engine.run(html)
    assert result.errors == []
    assert result.pwned is None
    assert result.calls == [case.expected for case in cases]
    # Our markup is intact: the page's own scripts are the loader and the calls, nothing more.
    assert len(result.scripts) == (1 if how != "tag" else 1 + len(cases))
    assert "</script" not in "".join(s["text"].lower() for s in result.scripts)


@pytest.mark.browser
@override_settings(GIOSG=GIOSG)
@pytest.mark.parametrize("how", ["api", "tag"])
def test_hostile_values_in_chromium(
    live_server: Any, browser_page: Any, how: str, transactional_db: Any
) -> None:
    for key in HOSTILE:
        cases = GROUPS[f"hostile-{key}"]
        browser_page.goto(f"{live_server.url}/cases/hostile-{key}/{how}/")
        assert browser_page.queue() == [case.expected for case in cases], key
        assert browser_page.page.evaluate("() => window.__pwned") is None, key
        assert browser_page.page.evaluate("() => document.querySelectorAll('img').length") == 0
        expected_scripts = 1 if how == "api" else 1 + len(cases)
        # The loader adds giosg's own script element to those of the page.
        count = browser_page.page.evaluate(
            "() => document.querySelectorAll('script:not([src])').length"
        )
        assert count == expected_scripts, key
        if how == "api":
            assert browser_page.page.text_content("#body") == "page", key
    assert browser_page.errors == []
