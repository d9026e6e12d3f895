"""Every documented call form, from the Python API, from ``{% giosg_call %}`` and after a
redirect, run in a real JS engine: giosg's queue must receive the documented arguments."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from .cases import CASES, CallCase
from .conftest import GIOSG_HOST

pytestmark = pytest.mark.django_db

HOWS = ["api", "tag", "redirect"]


def giosg_settings(overlay: dict[str, Any]) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_call_form_in_node(client: Any, js_engine: Any, case: CallCase, how: str) -> None:
    with giosg_settings(case.giosg):
        response = client.get(f"/cases/{case.id}/{how}/", follow=True)
        assert response.status_code == 200
        result = js_engine.run(response.content.decode())
    assert result.errors == []
    assert result.calls == [case.expected]
    assert result.inserted == [{"src": f"{GIOSG_HOST}/live2/test-company", "async": 1}]
    assert (result.company, result.host) == ("test-company", GIOSG_HOST)


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
