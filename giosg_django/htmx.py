"""htmx delivery (``HTMX``): a request made by htmx gets its waiting calls in its own response's
``HX-Trigger`` header, never inline, so an ``hx-post`` or ``hx-boost`` navigation neither
loses nor repeats a call. The page client (giosg.js) runs them from the header's event.

Here: whether a request is htmx's, whether its response gets the calls (not when htmx leaves
the page for another: those wait for the page it lands on), the budgeted batch, and the
header itself.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from . import js
from .calls import IDENTITY_CHANGED, Call
from .conf import GiosgSettings, get_config
from .delivery import call_data, is_enabled, reaches_page
from .faults import contained
from .identity import identity_calls
from .visit import Visit

logger = logging.getLogger("giosg_django")

# HX-Trigger travels in a response header. Behind nginx, ALL of a response's headers must fit
# proxy_buffer_size, by default one memory page: 4 KB on x86-64 (a 502 past it). So the whole
# value giosg writes stays within this budget, which leaves about 1 KB for the status line, the
# cookies and the other headers; calls past it wait for a later response.
HEADER_BUDGET = 3000
# The header's JSON: ASCII (a header value must be Latin-1, and JSON.parse reads \uXXXX escapes).
HEADER_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
# Response headers with which htmx leaves the page instead of handling the response.
NAVIGATION = ("HX-Redirect", "HX-Location", "HX-Refresh")
TRIGGER_EVENT = js.EVENT


def is_htmx(request: HttpRequest | None, config: GiosgSettings) -> bool:
    """A request made by htmx, whose pending calls go in its HX-Trigger header (HTMX)."""
    # META, not request.headers: that builds a dict of every header on first use.
    return bool(
        config["HTMX"] and request is not None and request.META.get("HTTP_HX_REQUEST") == "true"
    )


def wants_delivery(request: HttpRequest, visit: Visit, response: HttpResponseBase) -> bool:
    """An htmx request (HTMX on) whose response htmx handles: not a redirect or an error,
    nor one that sends the browser elsewhere (its calls wait for the page it lands on)."""
    if not visit.calls or not is_htmx(request, get_config()):
        return False
    return 200 <= response.status_code < 300 and not any(
        response.has_header(name) for name in NAVIGATION
    )


def deliver(request: HttpRequest, visit: Visit, response: HttpResponseBase) -> None:
    """Put the batch that fits the budget into the response's HX-Trigger header."""
    with contained("delivering giosg calls to htmx"):
        # The header as it would be with no call: the calls get what is left of the budget.
        empty = trigger_value(response, {"target": "body", "calls": []})
        items, covered = batch(request, visit, HEADER_BUDGET - len(empty))
        if items:
            response["HX-Trigger"] = trigger_value(response, {"target": "body", "calls": items})
        visit.sent_in_header(items, covered)


def trigger_value(response: HttpResponseBase, detail: dict[str, Any]) -> str:
    """The response's HX-Trigger with giosg's event added, keeping the view's own triggers (a
    list of event names becomes htmx's JSON form, each with an empty detail)."""
    current = response.get("HX-Trigger", "").strip()
    if current.startswith("{"):
        triggers = json.loads(current)
    else:
        triggers = {name.strip(): {} for name in current.split(",") if name.strip()}
    triggers[TRIGGER_EVENT] = detail
    # The encoding ``batch`` measures the calls with.
    return HEADER_JSON.encode(triggers)


def batch(request: HttpRequest, visit: Visit, room: int) -> tuple[list[list[Any]], list[int]]:
    """The waiting calls as JSON arrays for the HX-Trigger event (a top-level ``null`` is
    ``undefined``), then the identity after a change of user; and which waiting calls that
    uses up (their positions in ``visit.batch()``).

    ``room`` is what the header's JSON list of calls may take. Calls go in order until one
    does not fit what is left: it and the calls after it wait for a later response, in order.
    A call too big for this header on its own is different: nothing this response could leave
    out would make room for it, and holding the calls after it back would keep them off every
    htmx response (on an hx-boost site every navigation is one), a logout behind a long
    support message too. So it waits alone, for the next full page when it is over the budget
    itself, and the calls after it go now (only its order relative to them changes; the view's
    own triggers count, so each response delivers at least every call that fits it alone, up
    to the first that does not fit what is left). The identity after a login is reserved when
    its marker is reached, by the same rules: when it does not fit, the marker is not used up
    either, so the next full page submits the identity with ``replace_existing``.

    A call left waiting that way never crosses a change of user: when a login or logout
    marker behind it goes out, it is dropped (with a warning), since the next full page may
    be the next person's (a support message of the user who just logged out must not start a
    chat there)."""
    config = get_config()
    if not is_enabled(request, config):
        return [], []
    delivered: list[list[Any]] = []
    new_identity: list[list[Any]] | None = None
    identity_waits = False  # the identity was too big on its own: its markers wait
    room += 1  # each item is counted with a comma before it; the first has none
    alone = room  # what a call may take when it is the only one
    used: list[int] = []
    skipped: list[tuple[int, Call]] = []  # too big for this header on their own: they wait
    for index, call in enumerate(visit.batch()):
        if call == IDENTITY_CHANGED and new_identity is None:
            if identity_waits:
                continue  # another marker of the same change: it waits with the first
            found = [
                item
                for item in (
                    _data(each, request, config)
                    for each in identity_calls(request, config, replace=True)
                )
                if item is not None
            ]
            size = _size(found)
            if size > alone:
                identity_waits = True
                continue
            if size > room:
                break
            room -= size
            new_identity = found
        elif reaches_page(call, config):
            item = _data(call, request, config)
            if item is not None:
                size = _size([item])
                if size > alone:
                    skipped.append((index, call))
                    continue  # never fits: it waits for a full page, the rest goes on
                if size > room:
                    break
                room -= size
                delivered.append(item)
        if skipped and changes_user(call):  # this marker goes out with this response
            _drop_before_change_of_user(skipped, used)
            skipped = []
        used.append(index)
    return delivered + (new_identity or []), used


def changes_user(call: Call) -> bool:
    """Whether ``call`` is the marker of a login or a logout."""
    return call.module == js.MARKER_MODULE


def _drop_before_change_of_user(skipped: list[tuple[int, Call]], used: list[int]) -> None:
    used.extend(index for index, _ in skipped)
    logger.warning(
        "giosg: %d pending call(s) dropped, too big for an htmx header and queued before a "
        "change of user: %s",
        len(skipped),
        ", ".join(call.name for _, call in skipped),
    )


def _size(items: list[list[Any]]) -> int:
    """What ``items`` add to the header's list of calls, a comma before each."""
    return sum(len(HEADER_JSON.encode(item)) + 1 for item in items)


def _data(call: Call, request: HttpRequest, config: GiosgSettings) -> list[Any] | None:
    with contained("rendering %s.%s", call.module, call.method):
        return call_data(call, request, config)
    return None
