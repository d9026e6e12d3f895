"""A site on Turbo Drive (under /turbo/): the real @hotwired/turbo 8, installed from the npm
registry by make test and served locally, and pages that link to each other, queue a goal, and
sign in and out with forms that Turbo submits."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

TURBO = Path(__file__).resolve().parents[1] / "js/node_modules/turbo8/dist/turbo.es2017-umd.js"


def turbo_script(request: HttpRequest) -> HttpResponse:
    return HttpResponse(TURBO.read_bytes(), content_type="text/javascript")


def page(request: HttpRequest, name: str) -> HttpResponse:
    if "goal" in request.GET:
        request.giosg.goal.matches(request.GET["goal"])  # type: ignore[attr-defined]
    return render(request, "turbo.html", {"name": name})


urlpatterns = [
    path("turbo.js", turbo_script),
    path("page/<str:name>/", page),
]
