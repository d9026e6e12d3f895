"""Every documented call form, from the Python API, from ``{% giosg_call %}`` and after a
redirect, run in Node's vm: giosg's queue must receive the documented arguments (the same in
Chromium is in tests/browser/test_call_forms.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from .conftest import GIOSG_HOST
from .support.cases import CASES, CallCase

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
