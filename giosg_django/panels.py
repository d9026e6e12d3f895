"""A django-debug-toolbar panel: add ``"giosg_django.panels.GiosgPanel"`` to
``DEBUG_TOOLBAR_PANELS``. Needs the ``debug-toolbar`` extra of giosg-django."""

from __future__ import annotations

from typing import Any

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponseBase

from .report import report


class GiosgPanel(Panel):
    title = "giosg"
    template = "giosg_django/debug_toolbar_panel.html"
    is_async = True

    @property
    def nav_subtitle(self) -> str:
        stats = self.get_stats()  # type: ignore[no-untyped-call]
        return f"{len(stats.get('rendered', []))} sent, {len(stats.get('pending', []))} waiting"

    def generate_stats(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        self.record_stats(report(request, response))  # type: ignore[no-untyped-call]
