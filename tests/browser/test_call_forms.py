"""Every documented call form, from the Python API, from ``{% giosg_call %}`` and after a
redirect, in Chromium: giosg's queue must receive the documented arguments (the same in Node's
vm is in tests/test_call_forms.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import GIOSG_HOST
from ..support.cases import CASES, CallCase
from ..test_call_forms import HOWS, giosg_settings

pytestmark = pytest.mark.django_db


def groups() -> dict[tuple[tuple[str, Any], ...], list[CallCase]]:
    """Cases grouped by the settings they need, so one page can hold a whole group."""
    grouped: dict[tuple[tuple[str, Any], ...], list[CallCase]] = {}
    for case in CASES:
        grouped.setdefault(tuple(sorted(case.giosg.items())), []).append(case)
    return grouped


@pytest.mark.browser
@pytest.mark.parametrize("how", HOWS)
def test_every_call_form_in_chromium(
    live_server: Any, browser_page: Any, how: str, transactional_db: Any
) -> None:
    for overlay, cases in groups().items():
        with giosg_settings(dict(overlay)):
            ids = ",".join(case.id for case in cases)
            browser_page.goto(f"{live_server.url}/cases/{ids}/{how}/")
            assert browser_page.queue() == [case.expected for case in cases], overlay
    assert browser_page.errors == []
    assert browser_page.giosg_requests
    assert set(browser_page.giosg_requests) == {f"{GIOSG_HOST}/live2/test-company"}
