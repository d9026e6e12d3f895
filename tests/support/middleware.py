"""Test-only: Django's SessionMiddleware, reading SESSION_ENGINE on every request.

The real middleware picks its backend once, when the handler loads; the live server loads it
once per test session. Reading the setting per request lets one live server be driven with
each real session backend in turn (override_settings(SESSION_ENGINE=...)).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponseBase


class PerRequestEngineSessionMiddleware(SessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        self.SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
        super().process_request(request)


class CaptureMiddleware:
    """Test-only, outermost: keeps the last request and response, so a test can look at what
    the app left on them (the debug panel's report needs both)."""

    sync_capable = True
    async_capable = True
    last: tuple[HttpRequest, HttpResponseBase] | None = None

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        response = self.get_response(request)
        CaptureMiddleware.last = (request, response)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        response = await self.get_response(request)
        CaptureMiddleware.last = (request, response)
        return response
