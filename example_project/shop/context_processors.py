"""What every page of the demo shows around its content: the demo-mode note and the consent
banner. (The panel of giosg calls is page JavaScript: templates/giosg_panel.html.)"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from demo_site.giosg import CONSENT_COOKIE, chat_allowed


def demo(request: HttpRequest) -> dict[str, Any]:
    return {
        "demo_mode": settings.DEMO_MODE,
        "demo_signing_key": settings.DEMO_SIGNING_KEY,
        "signed": bool(settings.GIOSG["SIGNING_KEY"]),
        "giosg_host": settings.GIOSG["HOST"],
        "chat_allowed": chat_allowed(request),  # the same answer GIOSG["ENABLED"] gets
        "chat_consent": request.COOKIES.get(CONSENT_COOKIE),  # "yes", "no" or None
    }
