"""``giosg_django.testing``: what a response sends to giosg, read without a browser, agrees
with what a real JS engine's queue receives."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from giosg_django.testing import GiosgCall, assert_giosg_called, giosg_calls

from .support.cases import GROUPS, HOSTILE_SETTINGS
from .support.jsengine import UNDEFINED

pytestmark = pytest.mark.django_db


def as_engine_sees_it(call: GiosgCall) -> list[Any]:
    return [call.module, call.method, *(UNDEFINED if arg is None else arg for arg in call.args)]


@override_settings(GIOSG={**settings.GIOSG, **HOSTILE_SETTINGS})
@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("how", ["api", "tag"])
def test_giosg_calls_matches_the_js_engine(
    client: Client, js_engine: Any, group: str, how: str
) -> None:
    response = client.get(f"/cases/{group}/{how}/")
    engine = js_engine.run(response.content.decode()).calls
    assert [as_engine_sees_it(call) for call in giosg_calls(response)] == engine
    assert len(engine) == len(GROUPS[group])


def test_giosg_calls_on_html_text_and_bytes() -> None:
    html = (
        '<script>_giosg("goal","matches","g1",{"value":1});</script>'
        "<script>_giosg(function(){})</script>"
    )
    expected = [GiosgCall("goal", "matches", ("g1", {"value": 1}))]
    assert giosg_calls(html) == expected
    assert giosg_calls(html.encode()) == expected
    assert giosg_calls('<script src="x.js"></script><p>_giosg("a","b")</p>') == []


def test_assert_giosg_called(client: Client) -> None:
    response = client.get("/cases/call-start-audio/api/")
    call = assert_giosg_called(response, "call.start", "Operator name", None, "audio")
    assert str(call) == 'call.start("Operator name", null, "audio")'
    with pytest.raises(AssertionError) as failure:
        assert_giosg_called(response, "call.start", "Operator name")
    assert 'giosg call call.start("Operator name") not found' in str(failure.value)
    assert 'call.start("Operator name", null, "audio")' in str(failure.value)


def test_assert_giosg_called_lists_none_when_nothing_was_sent(client: Client) -> None:
    with pytest.raises(AssertionError, match=r"\(none\)"):
        assert_giosg_called(client.get("/page/"), "goal.matches", "g1")
