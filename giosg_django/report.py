"""What giosg_django did for one response, for people: the debug-toolbar panel's data.

Read from the request's :class:`~giosg_django.visit.Visit`: the calls of its rendered scripts
that are in the response, those of its htmx header, and those still waiting. Plain data only
(strings, numbers, lists, dicts), so any toolbar store can keep it. The signing key is never
part of it; a signed token's payload is decoded without the key.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import jwt
from django.http import HttpRequest, HttpResponseBase

from .conf import get_config
from .delivery import is_enabled
from .inject import is_page
from .signing import ALGORITHMS
from .testing import GiosgCall
from .visit import visit_of


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


def _why_nothing(request: HttpRequest, response: HttpResponseBase) -> list[str]:
    visit = visit_of(request)
    if visit is None:
        return ["GiosgMiddleware is not installed (or not before this point in MIDDLEWARE)."]
    config = get_config()
    reasons = []
    if not is_enabled(request, config):
        reasons.append("GIOSG['ENABLED'] is false for this request: calls wait.")
    if not config.company_id(request):
        reasons.append("No GIOSG['COMPANY_ID']: the giosg loader is not rendered.")
    if not is_page(request, response):
        reasons.append(
            "This response is not a page that runs scripts (a redirect, JSON, streaming, "
            "HEAD…): pending calls wait for the next page."
        )
    elif not visit.visitor_rendered:
        if visit.exempt:
            reasons.append("The view is giosg_exempt: AUTO_INJECT left it alone.")
        elif not config["AUTO_INJECT"]:
            reasons.append("The page has no {% giosg_visitor %} and GIOSG['AUTO_INJECT'] is off.")
    return reasons


def report(request: HttpRequest, response: HttpResponseBase) -> dict[str, Any]:
    """The calls this response sends to giosg, the calls still waiting, and, when nothing
    was sent, why."""
    visit = visit_of(request)
    rendered: list[GiosgCall] = []
    waiting = []
    if visit is not None:
        page = is_page(request, response)
        rendered = [
            GiosgCall(*call)
            for script in visit.in_body(response, page=page)
            for call in script.sent
        ]
        rendered.extend(
            GiosgCall(item[0], item[1], tuple(item[2:])) for item in visit.header_sent or ()
        )
        waiting = visit.waiting()
    return {
        "rendered": [_describe(call) for call in rendered],
        "pending": [
            {"name": call.name, "args": [json.dumps(arg, ensure_ascii=False) for arg in call.args]}
            for call in waiting
            if call.module != "giosg_django"
        ],
        "reasons": [] if rendered else _why_nothing(request, response),
    }
