"""Test-only: Django's SessionMiddleware, reading SESSION_ENGINE on every request.

The real middleware picks its backend once, when the handler loads; the live server loads it
once per test session. Reading the setting per request lets one live server be driven with
each real session backend in turn (override_settings(SESSION_ENGINE=...)).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest


class PerRequestEngineSessionMiddleware(SessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        self.SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
        super().process_request(request)
