"""``AUTO_INJECT``: putting the ``{% giosg_visitor %}`` output into a finished HTML response.

As django-debug-toolbar and django-browser-reload do: only whole, uncompressed HTML pages;
decoded with the response's charset; inserted before the last ``</head>`` (else the last
``</body>``), case-insensitively; ``Content-Length`` kept true.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, HttpResponseBase

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


def insert(response: HttpResponse, text: str, spot: int, snippet: str) -> None:
    response.content = (text[:spot] + snippet + text[spot:]).encode(response.charset)
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
