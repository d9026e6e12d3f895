"""CROSS_TAB_LOGOUT's page runtime in the JS engine: a page shown again after a logout runs the
logout calls, the logout page records the logout for the other pages, and the setting turns it
off. The same in Chromium, with other open tabs and the back button, is in
tests/browser/test_cross_tab.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.each_storage

CLOSE = ["chat", "close", {"hide": True}]
CLEAR = ["visitor", "removeAll"]


# --- the page runtime's part, in the JS engine --------------------------------------------------


@pytest.mark.django_db
def test_a_page_shown_again_after_a_logout_runs_the_logout_calls(
    client: Any, js_engine: Any, django_user_model: Any
) -> None:
    client.force_login(django_user_model.objects.create_user("bob", "", "pw"))
    html = client.get("/queue/g1/page/").content.decode()
    fresh = js_engine.run(html)
    assert [call[:2] for call in fresh.calls] == [["goal", "matches"], ["visitor", "submit"]]
    # The same HTML run again after a logout recorded later than its render time: no goal,
    # no identity, the logout calls instead.
    # (Two seconds on: later than the render, and within the client's slack for the clocks of
    # several servers; a time further ahead of the server's clock is taken for a forgery.)
    later = str(int(time.time() * 1000) + 2_000)
    stale = js_engine.run(html, storage={"giosg_django:logout": later})
    assert stale.errors == []
    assert stale.calls == [CLOSE, CLEAR]
    # A logout older than the page changes nothing.
    older = js_engine.run(html, storage={"giosg_django:logout": "1000"})
    assert older.calls == fresh.calls


@pytest.mark.django_db
def test_the_logout_page_records_the_logout_for_the_other_pages(
    client: Any, js_engine: Any, django_user_model: Any
) -> None:
    client.force_login(django_user_model.objects.create_user("bob", "", "pw"))
    before = int(time.time() * 1000)
    result = js_engine.run(client.post("/accounts/logout/", follow=True).content.decode())
    assert result.calls == [CLOSE, CLEAR]
    assert before <= int(result.storage["giosg_django:logout"]) <= time.time() * 1000
    assert {"window:storage", "window:pageshow", "document:giosg:calls"} <= set(result.listeners)


@pytest.mark.django_db
@override_settings(GIOSG={**settings.GIOSG, "CROSS_TAB_LOGOUT": False})
def test_cross_tab_logout_off(client: Any, js_engine: Any, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user("bob", "", "pw"))
    result = js_engine.run(client.post("/accounts/logout/", follow=True).content.decode())
    assert result.calls == [CLOSE, CLEAR]
    assert result.storage == {}
