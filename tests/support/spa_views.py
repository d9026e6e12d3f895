"""A front end that talks JSON (under /spa/): one HTML page, then JSON views for login, logout
and a goal, as a React or Vue app on DRF or django-ninja has them. The page itself has no
script of its own: the tests drive it with fetch()."""

from __future__ import annotations

import json

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST


def app(request: HttpRequest) -> HttpResponse:
    return render(request, "spa.html")


@require_POST
def json_login(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    user = authenticate(request, username=data["username"], password=data["password"])
    if user is None:
        return JsonResponse({"ok": False}, status=400)
    login(request, user)
    return JsonResponse({"ok": True})


@require_POST
def json_logout(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"ok": True})


def goal(request: HttpRequest, name: str) -> JsonResponse:
    request.giosg.goal.matches(name)  # type: ignore[attr-defined]
    return JsonResponse({"queued": name})


def nothing(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", app),
    path("login/", json_login),
    path("logout/", json_logout),
    path("goal/<str:name>/", goal),
    path("nothing/", nothing),
]
