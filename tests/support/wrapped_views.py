"""Views that reach request.giosg other than directly (tests/test_visit.py): through a wrapper
that forwards attribute reads (as Django REST framework's Request does), through a copy of the
request, and through a proxy a view put in its place."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import logout
from django.http import HttpResponse
from django.template import engines
from django.urls import path

PAGE = "{% load giosg %}<html><head>{% giosg_visitor %}</head><body>page</body></html>"


class Forwarding:
    """A request wrapper that forwards what it lacks to the HttpRequest (DRF's Request)."""

    def __init__(self, request: Any) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class Proxy:
    """A project's own wrapper around request.giosg (to log the calls, say)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def page(request: Any) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(PAGE).render({}, request))


def wrapped_page(request: Any) -> HttpResponse:
    """Queues and renders through the wrapper, as a DRF view with TemplateHTMLRenderer."""
    wrapped = Forwarding(request)
    wrapped.giosg.goal.matches("wrapped")
    return HttpResponse(engines["django"].from_string(PAGE).render({}, wrapped))


def wrapped_logout(request: Any) -> HttpResponse:
    logout(Forwarding(request))  # as dj-rest-auth's LogoutView, with DRF's Request
    return HttpResponse(status=204)


def through_a_copy(request: Any) -> HttpResponse:
    copy.copy(request).giosg.goal.matches("copy")
    return HttpResponse(status=204)


async def through_a_copy_async(request: Any) -> HttpResponse:
    copy.copy(request).giosg.goal.matches("copy")
    return HttpResponse(status=204)


def through_a_proxy(request: Any) -> HttpResponse:
    request.giosg = Proxy(request.giosg)
    request.giosg.goal.matches("proxy")
    return HttpResponse(status=204)


urlpatterns = [
    path("page/", page),
    path("wrapped/page/", wrapped_page),
    path("wrapped/logout/", wrapped_logout),
    path("copy/", through_a_copy),
    path("copy/async/", through_a_copy_async),
    path("proxy/", through_a_proxy),
]
