"""``{% load giosg %}``: exact output for small cases, compile-time errors, and every skip."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory, override_settings

from giosg_django import render as render_module
from giosg_django.js import QUEUE
from giosg_django.visit import start, visit_of

LOADER = (
    "(function(w,t,f){var s='script',o='_giosg',h=\"https://service.giosg.test\","
    "d=Document.prototype,e,n;"
    # Once per document (a page Turbo swaps in runs its head's scripts again).
    'if(typeof w[o]==="function"&&w[o]._c)return;'
    "e=d.createElement.call(t,s);e.async=1;e.src=h+'/live2/'+f;"
    'if(typeof w[o]!=="function")w[o]=function(){(w[o]._e=w[o]._e||[]).push(arguments)};'
    "w[o]._c=f;w[o]._h=h;"
    "n=d.getElementsByTagName.call(t,s)[0];n.parentNode.insertBefore(e,n);})"
    '(window,document,"test-company");'
)


# The exact-text tests leave out the page runtime (htmx, cross-tab logout), tested below.
WITHOUT_RUNTIME = override_settings(
    GIOSG={**settings.GIOSG, "HTMX": False, "CROSS_TAB_LOGOUT": False}
)


def render(source: str, request: Any = None, **context: Any) -> str:
    if request is not None:
        context["request"] = request
    return Template("{% load giosg %}" + source).render(Context(context))


@pytest.fixture
def request_() -> Any:
    request = RequestFactory().get("/")
    start(request)
    return request


def test_giosg_call_exact_text() -> None:
    html = render('{% giosg_call "goal.matches" "g1" value=1000.1 %}')
    assert html == f'<script>{QUEUE}_giosg("goal","matches","g1",{{"value":1000.1}});</script>'


def test_giosg_call_with_python_alias_and_variables() -> None:
    html = render('{% giosg_call "visitor.set_identifier" ident %}', ident="c-1")
    assert html == f'<script>{QUEUE}_giosg("visitor","setIdentifier","c-1");</script>'


def test_giosg_call_name_from_a_variable() -> None:
    html = render("{% giosg_call name %}", name="chat.hide")
    assert html == f'<script>{QUEUE}_giosg("chat","hide");</script>'


@WITHOUT_RUNTIME
def test_giosg_script_exact_text_and_once_per_response(request_: Any) -> None:
    assert render("{% giosg_script %}") == f"<script>{LOADER}</script>"
    html = render("{% giosg_script %}{% giosg_script %}{% giosg_visitor %}", request_)
    assert html == f"<script>{LOADER}</script>"


@WITHOUT_RUNTIME
def test_giosg_visitor_renders_loader_then_pending_calls_in_one_script(request_: Any) -> None:
    request_.giosg.goal.matches("g1")
    request_.giosg.chat.hide()
    html = render("{% giosg_visitor %}", request_)
    assert html == (
        f'<script>{LOADER}_giosg("goal","matches","g1");_giosg("chat","hide");</script>'
    )
    # A second tag has nothing new to render.
    assert render("{% giosg_visitor %}", request_) == ""


@WITHOUT_RUNTIME
def test_giosg_visitor_after_the_loader_defines_the_queue_itself(request_: Any) -> None:
    request_.giosg.goal.matches("g1")
    html = render("{% giosg_script %}<p>{% giosg_visitor %}</p>", request_)
    assert (
        html
        == f'<script>{LOADER}</script><p><script>{QUEUE}_giosg("goal","matches","g1");</script></p>'
    )


@override_settings(GIOSG={"HTMX": False, "CROSS_TAB_LOGOUT": False})
def test_no_company_id_no_loader_and_the_page_is_unharmed(request_: Any) -> None:
    assert render("<p>{% giosg_script %}{% giosg_visitor %}</p>", request_) == "<p></p>"
    request_.giosg.goal.matches("g1")
    html = render("<p>{% giosg_visitor %}</p>", request_)
    assert html == f'<p><script>{QUEUE}_giosg("goal","matches","g1");</script></p>'


@WITHOUT_RUNTIME
def test_without_a_request_in_the_context_the_loader_still_renders() -> None:
    assert render("{% giosg_visitor %}") == f"<script>{LOADER}</script>"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('{% giosg_call "goal.nope" "g1" %}', "unknown giosg call 'goal.nope'"),
        ('{% giosg_call "room.getJoinedRooms" %}', "returns the joined rooms to page JavaScript"),
        ('{% giosg_call "goal.matches" "g1" valu=1 %}', "unexpected keyword argument 'valu'"),
        ('{% giosg_call "goal.matches" %}', "missing a required argument: 'goal_id'"),
        ('{% giosg_call "visitor.remove" "a" "b" %}', "too many positional arguments"),
        ("{% giosg_call %}", "needs a call name"),
        ('{% giosg_call "goal.matches" value=1 "g1" %}', "positional argument"),
        ('{% giosg_call "goal.matches" "g" value=1 value=2 %}', "value= twice"),
    ],
)
def test_compile_time_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=message):
        Template("{% load giosg %}" + source)


@override_settings(DEBUG=True)
def test_a_bad_argument_raises_while_rendering_when_debug_is_on() -> None:
    with pytest.raises(ValueError, match="goal_id must be a non-empty string"):
        render('<p>{% giosg_call "goal.matches" goal %}</p>', goal="  ")
    with pytest.raises(LookupError, match="unknown giosg call"):
        render("{% giosg_call name %}", name="goal.nope")


@override_settings(DEBUG=False)
def test_a_bad_argument_is_logged_and_left_out_when_debug_is_off(caplog: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="giosg_django"):
        html = render(
            '<p>{% giosg_call "goal.matches" goal %}{% giosg_call "chat.hide" %}</p>',
            goal="  ",
        )
    assert html == f'<p><script>{QUEUE}_giosg("chat","hide");</script></p>'
    assert "goal.matches" in caplog.text and "goal_id must be a non-empty string" in caplog.text


@override_settings(DEBUG=False, GIOSG={"COMPANY_ID": "c"})
def test_signed_true_without_a_key_is_left_out_when_debug_is_off(caplog: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="giosg_django"):
        html = render('{% giosg_call "visitor.submit" v signed=True %}', v={"a": 1})
    assert html == ""
    assert "SIGNING_KEY" in caplog.text


@pytest.mark.parametrize("enabled", [False, lambda request: False, "tests.test_templatetags.never"])
def test_nothing_renders_when_disabled(request_: Any, enabled: Any) -> None:
    request_.giosg.goal.matches("g1")
    with override_settings(GIOSG={"COMPANY_ID": "c", "ENABLED": enabled}):
        html = render(
            '<p>{% giosg_script %}{% giosg_visitor %}{% giosg_call "chat.hide" %}</p>', request_
        )
    assert html == "<p></p>"
    assert visit_of(request_).scripts == ()  # the call still waits


def never(request: Any) -> bool:
    return False


def broken(request: Any) -> bool:
    raise RuntimeError("consent store is down")


@override_settings(GIOSG={"COMPANY_ID": "c", "ENABLED": "tests.test_templatetags.broken"})
def test_a_raising_enabled_callable(request_: Any, caplog: Any) -> None:
    with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, logger="giosg_django"):
        assert render("<p>{% giosg_visitor %}</p>", request_) == "<p></p>"
    assert "consent store is down" in caplog.text
    with override_settings(DEBUG=True), pytest.raises(RuntimeError, match="consent store is down"):
        render("<p>{% giosg_visitor %}</p>", request_)


@WITHOUT_RUNTIME
@pytest.mark.parametrize(
    ("overlay", "message"),
    [({"HOST": "not a url"}, "GIOSG['HOST']"), ({"COMPANY_ID": 42}, "GIOSG['COMPANY_ID']")],
)
def test_a_broken_loader_setting_is_reported_on_every_render(
    overlay: dict[str, Any], message: str, caplog: Any
) -> None:
    """The loader of a constant COMPANY_ID is made once per settings, but a setting that
    fails is not kept: each page reports it (DEBUG off) or raises (DEBUG on)."""
    with override_settings(GIOSG={**settings.GIOSG, **overlay}):
        for _ in range(2):
            caplog.clear()
            with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, "giosg_django"):
                assert render("<p>{% giosg_script %}</p>", RequestFactory().get("/")) == "<p></p>"
            assert message in caplog.text
        with override_settings(DEBUG=True), pytest.raises((TypeError, ValueError)):
            render("{% giosg_script %}", RequestFactory().get("/"))
    assert render("{% giosg_script %}", RequestFactory().get("/")) == f"<script>{LOADER}</script>"


def test_the_csp_nonce_is_on_every_script(request_: Any) -> None:
    request_.csp_nonce = "n0nce"
    request_.giosg.goal.matches("g1")
    html = render('{% giosg_script %}{% giosg_visitor %}{% giosg_call "chat.hide" %}', request_)
    assert html.count('<script nonce="n0nce">') == 3
    assert html.count("<script") == 3


def test_a_cacheable_page_without_the_client_files_url_renders_nothing(
    request_: Any, caplog: Any, settings: Any, tmp_path: Any
) -> None:
    """A manifest storage before ``collectstatic`` has no URL for the client: reported, and
    the page renders without giosg instead of failing."""
    settings.DEBUG = False
    settings.STATIC_ROOT = str(tmp_path)
    manifest = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": manifest}}
    with caplog.at_level(logging.ERROR, logger="giosg_django"):
        assert render("<p>{% giosg_visitor cacheable %}</p>", request_) == "<p></p>"
    assert "collectstatic" in caplog.text


@WITHOUT_RUNTIME
def test_the_tag_without_a_request_warns_once_with_debug_on(caplog: Any) -> None:
    """render_to_string() without request=: no identity and no call, which DEBUG says once,
    with how to pass the request; without DEBUG, nothing is logged."""
    render_module._WITHOUT_REQUEST.clear()
    with caplog.at_level(logging.WARNING, logger="giosg_django"):
        render("{% giosg_visitor %}")
    assert caplog.records == []
    # override_settings, not pytest-django's settings fixture: the fixture, undone after the
    # decorator above, would put the decorator's GIOSG back for every later test.
    with override_settings(DEBUG=True), caplog.at_level(logging.WARNING, logger="giosg_django"):
        for _ in range(3):
            assert render_to_string_without_request() == f"<script>{LOADER}</script>"
        render("{% giosg_visitor cacheable %}")
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages  # once per tag
    assert "{% giosg_visitor %} was rendered without the request" in messages[0]
    assert "render_to_string(..., request=request)" in messages[0]
    assert "{% giosg_visitor cacheable %}" in messages[1]
    render_module._WITHOUT_REQUEST.clear()


def render_to_string_without_request() -> str:
    return Template("{% load giosg %}{% giosg_visitor %}").render(Context({}))
