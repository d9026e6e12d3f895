"""The site's giosg hooks, named in ``settings.GIOSG`` by dotted path."""

from __future__ import annotations

from django.http import HttpRequest

CONSENT_COOKIE = "chat_consent"  # "yes" or "no", set by shop.views.consent


def chat_allowed(request: HttpRequest) -> bool:
    """``GIOSG["ENABLED"]``: giosg is on the page unless the visitor declined it.

    The demo counts a visitor who has not answered yet as accepting, so the first page a
    newcomer opens shows giosg at work. A site under the GDPR asks first: compare with
    ``== "yes"`` instead.
    """
    return request.COOKIES.get(CONSENT_COOKIE) != "no"
