"""Pages the same for everyone (under /cached/): ``{% giosg_visitor cacheable %}`` behind Django's
per-view cache, and a policy that allows scripts from this site and giosg's host only (no
nonce, no 'unsafe-inline')."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import cache_page

POLICY = (
    f"default-src 'self'; script-src 'self' {settings.GIOSG['HOST']}; "
    "connect-src 'self'; style-src 'self'"
)


def _page(request: HttpRequest) -> HttpResponse:
    response = render(request, "cacheable.html", {"greet": "greet" in request.GET})
    response["Content-Security-Policy"] = POLICY
    return response


urlpatterns = [
    path("page/", cache_page(60)(_page)),
    path("uncached/", _page),
]
