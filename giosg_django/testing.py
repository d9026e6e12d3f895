"""Helpers for your own tests: what a response sends to giosg, without a browser.

    from giosg_django.testing import assert_giosg_called, giosg_calls

    def test_checkout_matches_the_goal(client):
        response = client.post("/checkout/", {...}, follow=True)
        assert_giosg_called(response, "goal.matches", "2870f654-...", {"value": 49.9})

They read the ``_giosg(...)`` calls giosg_django renders into the page's inline scripts. A
signed ``visitor.submit``'s first argument is the JWT string; an ``undefined`` argument is
``None``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from django.http import HttpResponseBase

__all__ = ["GiosgCall", "assert_giosg_called", "giosg_calls"]

_CALL = re.compile(r"(?<![\w$.])_giosg\(")
# giosg_django.js writes a "__proto__" member as a computed key; JSON has only the plain form.
_PROTO_MEMBER = re.compile(r'(?<=[{,])\["__proto__"\]:')
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class GiosgCall:
    module: str
    method: str
    args: tuple[Any, ...]

    @property
    def name(self) -> str:
        return f"{self.module}.{self.method}"

    def __str__(self) -> str:
        return f"{self.name}({', '.join(json.dumps(arg) for arg in self.args)})"


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inside = tag == "script" and not any(name == "src" for name, _ in attrs)
        if self._inside:
            self.scripts.append("")

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.scripts[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False


def _parse_args(text: str, start: int) -> list[Any] | None:
    """The arguments of a call whose ``(`` ends at ``start``; ``None`` if they are not JSON
    values and ``undefined`` (a call of the page's own, such as ``_giosg(function () ...)``)."""
    args: list[Any] = []
    position = start
    while True:
        if text.startswith(")", position):
            return args
        if args:
            if not text.startswith(",", position):
                return None
            position += 1
        if text.startswith("undefined", position):
            args.append(None)
            position += len("undefined")
            continue
        try:
            value, position = _DECODER.raw_decode(text, position)
        except ValueError:
            return None
        args.append(value)


def _calls_in_script(script: str) -> list[GiosgCall]:
    if "__proto__" in script:
        script = _PROTO_MEMBER.sub('"__proto__":', script)
    calls = []
    for match in _CALL.finditer(script):
        args = _parse_args(script, match.end())
        if args and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            calls.append(GiosgCall(args[0], args[1], tuple(args[2:])))
    return calls


def giosg_calls(response_or_html: HttpResponseBase | str | bytes) -> list[GiosgCall]:
    """Every giosg call a response (or an HTML string) sends, in page order."""
    if isinstance(response_or_html, HttpResponseBase):
        content: bytes = response_or_html.content  # type: ignore[attr-defined]
        html = content.decode(response_or_html.charset)
    elif isinstance(response_or_html, bytes):
        html = response_or_html.decode()
    else:
        html = response_or_html
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return [call for script in parser.scripts for call in _calls_in_script(script)]


def assert_giosg_called(
    response_or_html: HttpResponseBase | str | bytes, name: str, *args: Any
) -> GiosgCall:
    """Assert that the response sends the call ``name`` ("module.method") with exactly
    ``args``; the failure lists the calls it found. Returns the call."""
    calls = giosg_calls(response_or_html)
    for call in calls:
        if call.name == name and list(call.args) == [*args]:
            return call
    found = "\n".join(f"  {call}" for call in calls) or "  (none)"
    module, _, method = name.partition(".")
    wanted = GiosgCall(module, method, args)
    raise AssertionError(f"giosg call {wanted} not found; the calls sent:\n{found}")
