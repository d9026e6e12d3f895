"""``AUTO_INJECT``: putting the ``{% giosg_visitor %}`` output into a finished HTML response;
whether a response is a page at all, and the insertion that the cross-tab notice uses too.

As django-debug-toolbar and django-browser-reload do: only whole, uncompressed HTML pages;
decoded with the response's charset; inserted before the last ``</head>`` (else the last
``</body>``), case-insensitively; ``Content-Length`` kept true. Unlike them, a view marked
``giosg_exempt``, a page that rendered the tag itself, and an htmx request are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from .conf import get_config
from .faults import contained
from .htmx import is_htmx
from .render import csp_nonce, giosg_visitor
from .visit import Visit, visit_of

HTML_TYPES = ("text/html", "application/xhtml+xml")
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def content_type(response: HttpResponseBase) -> str:
    return response.get("Content-Type", "").partition(";")[0].strip().lower()


def can_inject(response: HttpResponseBase) -> bool:
    """Whether ``response`` is a page we may change (the full page test is ``find_spot``)."""
    return (
        not response.streaming
        and not response.has_header("Content-Encoding")
        and content_type(response) in HTML_TYPES
    )


def _last(pattern: re.Pattern[str], text: str) -> int | None:
    match = None
    for match in pattern.finditer(text):  # noqa: B007 - find the last match
        pass
    return match.start() if match else None


def find_spot(text: str) -> int | None:
    """Where the snippet goes: before the last ``</head>``, else before the last ``</body>``;
    ``None`` for a fragment that has neither."""
    spot = _last(_HEAD_END, text)
    return spot if spot is not None else _last(_BODY_END, text)


def decoded(response: HttpResponse) -> str | None:
    try:
        return response.content.decode(response.charset)
    except (UnicodeDecodeError, LookupError):
        return None  # not text in the declared charset: leave it alone


def insert(response: HttpResponse, snippet: Callable[[], str]) -> bool:
    """Insert ``snippet()`` where the tag belongs in a whole page (``find_spot``); whether it
    was. A fragment, or a body that is not text in its charset, is left alone, and then
    ``snippet`` is not called (it may record what it renders)."""
    text = decoded(response)
    spot = None if text is None else find_spot(text)
    if text is None or spot is None:
        return False
    html = snippet()
    if not html:
        return False
    response.content = (text[:spot] + html + text[spot:]).encode(response.charset)
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return True


def is_page(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether the browser shows this response as a page that runs its scripts."""
    if request.method == "HEAD" or response.streaming:
        return False
    status = response.status_code
    if 300 <= status < 400 or status == 204:
        return False
    return content_type(response) in HTML_TYPES


def before_view(request: HttpRequest) -> None:
    """With AUTO_INJECT (the middleware's process_view), before a view that is not exempt: a
    CSP middleware after ours writes its header before we inject, so the nonce must exist by
    then to be in it."""
    visit = visit_of(request)
    if visit is not None and not visit.exempt:
        with contained("reading the CSP nonce"):
            csp_nonce(request)


def wants(request: HttpRequest, visit: Visit, response: HttpResponseBase) -> bool:
    """Cheap tests first: AUTO_INJECT on, a page that lacks the tag, not exempt."""
    config = get_config()
    return (
        config["AUTO_INJECT"]
        and not visit.visitor_rendered
        and not is_htmx(request, config)
        and not visit.exempt
        and is_page(request, response)
        and can_inject(response)
    )


def auto_inject(request: HttpRequest, visit: Visit, response: HttpResponseBase) -> None:
    """Insert the ``{% giosg_visitor %}`` output into a page that lacks it."""
    with contained("injecting giosg into the page"):
        insert(cast(HttpResponse, response), lambda: giosg_visitor(request))
