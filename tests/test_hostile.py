"""Hostile values in every argument position: nothing runs, nothing breaks, values arrive as
given, from the Python API and from the tag, in Node's vm (the same in Chromium is in
tests/browser/test_hostile.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from .support.cases import GROUPS, HOSTILE, HOSTILE_SETTINGS

pytestmark = pytest.mark.django_db

HOWS = ["api", "tag", "redirect"]
# After a redirect the calls wait in the session: the 20 kB value in every argument of each call
# is far over MAX_PENDING_BYTES' default, whose dropping test_caps covers; here it must pass.
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
