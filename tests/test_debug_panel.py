"""The django-debug-toolbar panel: the calls sent, those waiting, signed tokens decoded (never
the key), and why nothing was sent."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from giosg_django.report import report

from .support.cases import KEY
from .support.middleware import CaptureMiddleware

pytestmark = pytest.mark.django_db

TOOLBAR = {
    "INSTALLED_APPS": [*settings.INSTALLED_APPS, "debug_toolbar"],
    "DEBUG_TOOLBAR_PANELS": ["giosg_django.panels.GiosgPanel"],
}


def last_report(client: Client, path: str) -> dict[str, Any]:
    """Make the request, then report on that very request and response."""
    client.get(path)
    assert CaptureMiddleware.last is not None
    return report(*CaptureMiddleware.last)


def test_report_of_a_page_with_signed_identity_and_a_goal(django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    client = Client()
    client.force_login(user)
    with override_settings(GIOSG={**settings.GIOSG, "SIGNING_KEY": KEY}):
        data = last_report(client, "/queue/g1/page/")
    goal, submit = data["rendered"]
    assert (goal["name"], goal["args"]) == ("goal.matches", ['"g1"'])
    assert submit["name"] == "visitor.submit"
    assert submit["token"]["algorithm"] == "HS256"
    assert '"username": "ada"' in submit["token"]["payload"]
    assert submit["token"]["expires"].startswith("20")
    assert data["pending"] == [] and data["reasons"] == []
    assert KEY not in str(data)


def test_report_of_a_redirect_lists_what_waits_and_why(client: Client) -> None:
    data = last_report(client, "/queue/g1/redirect/")
    assert data["rendered"] == []
    assert data["pending"] == [{"name": "goal.matches", "args": ['"g1"']}]
    assert any("not a page" in reason for reason in data["reasons"])


@pytest.mark.parametrize(
    ("giosg", "path", "reason"),
    [
        ({"ENABLED": False}, "/queue/g1/page/", "ENABLED'] is false"),
        ({"COMPANY_ID": None}, "/inject/full/", "No GIOSG['COMPANY_ID']"),
        ({}, "/inject/full/", "has no {% giosg_visitor %} and GIOSG['AUTO_INJECT'] is off"),
        ({"AUTO_INJECT": True}, "/inject/exempt/", "giosg_exempt"),
    ],
)
def test_report_says_why_nothing_was_sent(
    client: Client, giosg: dict[str, Any], path: str, reason: str
) -> None:
    with override_settings(GIOSG={**settings.GIOSG, **giosg}):
        data = last_report(client, path)
    assert data["rendered"] == []
    assert any(reason in text for text in data["reasons"]), data["reasons"]


@override_settings(**TOOLBAR)
def test_the_panel_renders_its_content() -> None:
    from debug_toolbar.toolbar import DebugToolbar

    from giosg_django.middleware import GiosgMiddleware
    from giosg_django.render import giosg_visitor

    def view(request: Any) -> HttpResponse:
        request.giosg.goal.matches("<g1>")
        html = "<html><head>" + giosg_visitor(request) + "</head></html>"
        request.giosg.chat.hide()  # queued after the page rendered: waits
        return HttpResponse(html)

    request = RequestFactory().get("/")
    request.session = SessionStore()
    response = GiosgMiddleware(view)(request)
    toolbar = DebugToolbar(request, lambda request: response)
    panel = toolbar.get_panel_by_id("GiosgPanel")
    panel.generate_stats(request, response)
    assert panel.nav_subtitle == "1 sent, 1 waiting"
    content = panel.content
    assert "<code>goal.matches</code>" in content
    assert "&quot;&lt;g1&gt;&quot;" in content  # escaped
    assert "<code>chat.hide</code>" in content


def test_report_of_an_htmx_response_lists_the_calls_in_its_header(client: Client) -> None:
    client.get("/queue/g1/json/")
    client.get("/queue/g2/fragment/", HTTP_HX_REQUEST="true")
    assert CaptureMiddleware.last is not None
    data = report(*CaptureMiddleware.last)
    assert [(call["name"], call["args"]) for call in data["rendered"]] == [
        ("goal.matches", ['"g1"']),
        ("goal.matches", ['"g2"']),
    ]
    assert data["pending"] == [] and data["reasons"] == []


def test_report_of_a_compressed_page_lists_what_its_scripts_send() -> None:
    """T7: the report reads what the response's giosg work recorded, not the body: a page the
    view compressed (GZip) still lists the calls it sends, with its waiting calls."""
    import gzip

    from giosg_django.middleware import GiosgMiddleware
    from giosg_django.render import giosg_visitor

    def view(request: Any) -> HttpResponse:
        request.giosg.goal.matches("g1")
        html = "<html><head>" + giosg_visitor(request) + "</head></html>"
        request.giosg.chat.hide()  # queued after the page rendered: waits
        response = HttpResponse(gzip.compress(html.encode()))
        response["Content-Encoding"] = "gzip"
        return response

    request = RequestFactory().get("/")
    request.session = SessionStore()
    data = report(request, GiosgMiddleware(view)(request))
    assert [(call["name"], call["args"]) for call in data["rendered"]] == [
        ("goal.matches", ['"g1"'])
    ]
    assert data["pending"] == [{"name": "chat.hide", "args": []}]
    assert data["reasons"] == []
