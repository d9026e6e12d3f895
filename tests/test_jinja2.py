"""The Jinja2 globals render exactly what the template tags render, through Django's Jinja2
backend, and the output runs in a JS engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.template import engines
from django.test import RequestFactory, override_settings

from giosg_django.visit import start

JINJA2 = {
    "BACKEND": "django.template.backends.jinja2.Jinja2",
    "DIRS": [settings.BASE_DIR / "jinja2"],
    "OPTIONS": {"extensions": ["giosg_django.jinja2.GiosgExtension"]},
}
HOSTILE_ROOM = "</script><script>window.__pwned=1</script>\u2028"


def context() -> dict[str, Any]:
    return {"goal": "g1", "room": HOSTILE_ROOM}


def a_request() -> Any:
    request = RequestFactory().get("/")
    start(request)
    request.giosg.goal.matches("pending")
    request.giosg.chat.hide()
    return request


@override_settings(
    TEMPLATES=[*settings.TEMPLATES, JINJA2],
    # The page runtime carries its render time, which differs between two renders.
    GIOSG={**settings.GIOSG, "HTMX": False, "CROSS_TAB_LOGOUT": False},
)
def test_jinja2_globals_render_what_the_tags_render(js_engine: Any) -> None:
    # Django's Jinja2 backend adds the request to the dict it is given: one dict each.
    jinja = engines["jinja2"].get_template("page.jinja").render(context(), a_request())
    django = engines["django"].get_template("jinja_twin.html").render(context(), a_request())
    assert jinja.strip() == django.strip()
    result = js_engine.run(jinja)
    assert result.errors == [] and result.pwned is None
    assert result.calls == [
        ["goal", "matches", "pending"],
        ["chat", "hide"],
        ["goal", "matches", "g1", {"value": 1000.1}],
        ["room", "join", {"name": HOSTILE_ROOM}],
    ]


@override_settings(TEMPLATES=[*settings.TEMPLATES, JINJA2], DEBUG=True)
def test_jinja2_giosg_call_validates_like_the_tag() -> None:
    template = engines["jinja2"].from_string('{{ giosg_call("goal.matches", "  ") }}')
    with pytest.raises(ValueError, match="goal_id must be a non-empty string"):
        template.render({}, a_request())


@override_settings(TEMPLATES=[*settings.TEMPLATES, JINJA2])
def test_jinja2_cacheable_renders_what_the_tag_renders() -> None:
    jinja = engines["jinja2"].from_string("{{ giosg_visitor(cacheable=True) }}")
    django = engines["django"].from_string("{% load giosg %}{% giosg_visitor cacheable %}")
    rendered = jinja.render({}, a_request())
    assert rendered == django.render({}, a_request())
    assert "data-giosg-django" in rendered and "<script>" not in rendered
    with pytest.raises(TypeError, match="cacheable must be True or False"):
        engines["jinja2"].from_string('{{ giosg_visitor(cacheable="yes") }}').render(
            {}, a_request()
        )
