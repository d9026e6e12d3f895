"""What giosg_django did for one response, for people: the debug-toolbar panel's data.

Plain data only (strings, numbers, lists, dicts), so any toolbar store can keep it. The signing
key is never part of it; a signed token's payload is decoded without the key.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import jwt
from django.http import HttpRequest, HttpResponseBase

from . import render
from .api import get_giosg
from .conf import get_config
from .middleware import TRIGGER_EVENT, is_page
from .signing import ALGORITHMS
from .testing import GiosgCall, giosg_calls


def _token(call: GiosgCall) -> dict[str, Any] | None:
    """The decoded payload of a signed ``visitor.submit``'s token, with its expiry."""
    if call.name != "visitor.submit" or len(call.args) < 2 or call.args[1] not in ALGORITHMS:
        return None
    try:
        payload = jwt.decode(call.args[0], options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        return {"error": f"not a readable JWT: {exc}"}
    exp = payload.get("exp")
    expires = None
    if isinstance(exp, int):
        expires = datetime.datetime.fromtimestamp(exp, tz=datetime.timezone.utc).isoformat()
    return {
        "algorithm": call.args[1],
        "payload": json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True),
        "expires": expires,
    }


def _describe(call: GiosgCall) -> dict[str, Any]:
    return {
        "name": call.name,
        "args": [json.dumps(arg, ensure_ascii=False) for arg in call.args],
        "token": _token(call),
    }


def _header_calls(response: HttpResponseBase) -> list[GiosgCall]:
    """Calls an htmx response carries in its HX-Trigger header."""
    try:
        detail = json.loads(response.get("HX-Trigger", "")).get(TRIGGER_EVENT, {})
        return [GiosgCall(c[0], c[1], tuple(c[2:])) for c in detail.get("calls", [])]
    except (ValueError, AttributeError, TypeError, IndexError):
        return []  # no header, or the view's own triggers only


def _why_nothing(request: HttpRequest, response: HttpResponseBase) -> list[str]:
    giosg = get_giosg(request)
    if giosg is None:
        return ["GiosgMiddleware is not installed (or not before this point in MIDDLEWARE)."]
    config = get_config()
    reasons = []
    if not render.is_enabled(request, config):
        reasons.append("GIOSG['ENABLED'] is false for this request: calls wait.")
    if not config.company_id(request):
        reasons.append("No GIOSG['COMPANY_ID']: the giosg loader is not rendered.")
    if not is_page(request, response):
        reasons.append(
            "This response is not a page that runs scripts (a redirect, JSON, streaming, "
            "HEAD…): pending calls wait for the next page."
        )
    elif not giosg.visitor_rendered:
        if giosg.exempt:
            reasons.append("The view is giosg_exempt: AUTO_INJECT left it alone.")
        elif not config["AUTO_INJECT"]:
            reasons.append("The page has no {% giosg_visitor %} and GIOSG['AUTO_INJECT'] is off.")
    return reasons


def report(request: HttpRequest, response: HttpResponseBase) -> dict[str, Any]:
    """The calls this response sends to giosg, the calls still waiting, and, when nothing
    was sent, why."""
    rendered: list[GiosgCall] = []
    if is_page(request, response) and not response.has_header("Content-Encoding"):
        rendered = giosg_calls(response)
    rendered.extend(_header_calls(response))
    giosg = get_giosg(request)
    waiting = [] if giosg is None else giosg.pending[giosg.delivered :]
    return {
        "rendered": [_describe(call) for call in rendered],
        "pending": [
            {"name": call.name, "args": [json.dumps(arg, ensure_ascii=False) for arg in call.args]}
            for call in waiting
            if call.module != "giosg_django"
        ],
        "reasons": [] if rendered else _why_nothing(request, response),
    }
