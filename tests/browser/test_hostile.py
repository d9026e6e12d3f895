"""Hostile values in every argument position, in Chromium: nothing runs, nothing breaks, values
arrive as given, from the Python API and from the tag (the same in Node's vm is in
tests/test_hostile.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from ..support.cases import GROUPS, HOSTILE
from ..test_hostile import GIOSG

pytestmark = pytest.mark.django_db


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
