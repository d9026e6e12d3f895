"""Every call form giosg's Visitor JavaScript API documentation shows, as test cases.

Each case is a Python call (``name``, ``args``, ``kwargs``: what ``request.giosg.<module>.<method>``
and ``{% giosg_call %}`` take) and the arguments giosg's queue must receive for it (``expected``:
``[module, method, *args]`` as the documentation writes them). ``UNDEFINED`` stands for a JS
``undefined`` argument. The section of the documentation each case comes from is in ``doc``.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from django.utils.functional import lazy

from .jsengine import UNDEFINED

KEY = "k" * 64  # long enough for HS512 (RFC 7518 3.2)

VARIABLES = {"username": "John Doe", "age": 29, "has_car": True}
ROOM_ID = "6d8b3520-9384-11ed-a80e-0242ac1100271"
ROOMS = [{"id": "kbio5de27gjo767wcqaafh7g6mpluvar4ofiausuac7acbam"}, {"name": "Another room"}]
GOAL = "2870f654-c6a7-11e6-8a67-60f81db030fe"


class SignedToken:
    """Equal to a JWT that verifies with ``KEY`` and carries ``payload`` plus a fresh ``exp``."""

    def __init__(self, payload: dict[str, Any], algorithm: str, ttl: int = 600) -> None:
        self.payload = payload
        self.algorithm = algorithm
        self.ttl = ttl

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return False
        decoded = jwt.decode(other, KEY, algorithms=[self.algorithm])
        exp = decoded.pop("exp")
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        return decoded == self.payload and isinstance(exp, int) and 0 < exp - now <= self.ttl

    def __repr__(self) -> str:
        return f"SignedToken({self.payload!r}, {self.algorithm!r})"


@dataclass(frozen=True)
class CallCase:
    id: str
    doc: str
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    expected: list[Any]
    giosg: dict[str, Any] = field(default_factory=dict)  # settings.GIOSG overlay

    def __str__(self) -> str:
        return self.id


def case(
    case_id: str,
    doc: str,
    name: str,
    /,
    *args: Any,
    expected: list[Any],
    giosg: dict[str, Any] | None = None,
    **kwargs: Any,
) -> CallCase:
    return CallCase(case_id, doc, name, args, kwargs, expected, giosg or {})


def _signed(algorithm: str) -> dict[str, Any]:
    return {"SIGNING_KEY": KEY, "SIGNING_ALGORITHM": algorithm}


lazy_str = lazy(lambda: "Lazy name", str)

CASES = [
    # Requirements and general usage
    case(
        "submit-basic",
        "general usage",
        "visitor.submit",
        {"username": "John Doe"},
        expected=["visitor", "submit", {"username": "John Doe"}],
    ),
    # Submit visitor variables
    case(
        "submit-replace-room",
        "submit visitor variables",
        "visitor.submit",
        VARIABLES,
        replace_existing=True,
        rooms={"name": "My room"},
        expected=["visitor", "submit", VARIABLES, "plain", True, {"name": "My room"}],
    ),
    case(
        "submit-replace",
        "submit visitor variables",
        "visitor.submit",
        VARIABLES,
        replace_existing=True,
        expected=["visitor", "submit", VARIABLES, "plain", True],
    ),
    case(
        "submit-rooms-only",
        "submit: skipped replace_existing is its default false",
        "visitor.submit",
        VARIABLES,
        rooms=ROOMS,
        expected=["visitor", "submit", VARIABLES, "plain", False, ROOMS],
    ),
    case(
        "submit-multiple-rooms",
        "submit visitor variables to multiple rooms",
        "visitor.submit",
        VARIABLES,
        replace_existing=True,
        rooms=ROOMS,
        expected=["visitor", "submit", VARIABLES, "plain", True, ROOMS],
    ),
    case(
        "submit-special-names",
        "special variable names",
        "visitor.submit",
        {
            "username": "John Doe",
            "avatar": "https://example.com/test.png",
            "__im_hidden_variable": {"a": [1, 2]},
        },
        expected=[
            "visitor",
            "submit",
            {
                "username": "John Doe",
                "avatar": "https://example.com/test.png",
                "__im_hidden_variable": {"a": [1, 2]},
            },
        ],
    ),
    case(
        "submit-django-types",
        "values Django's JSON encoder knows",
        "visitor.submit",
        {
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            "day": datetime.date(2026, 1, 2),
            "price": decimal.Decimal("9.90"),
            "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "name": lazy_str(),
        },
        expected=[
            "visitor",
            "submit",
            {
                "when": "2026-01-02T03:04:05Z",
                "day": "2026-01-02",
                "price": "9.90",
                "uid": "12345678-1234-5678-1234-567812345678",
                "name": "Lazy name",
            },
        ],
    ),
    # Signing visitor variables
    case(
        "submit-signed-hs256",
        "signing visitor variables",
        "visitor.submit",
        {"comic_url": "http://xkcd.com/1360/"},
        giosg=_signed("HS256"),
        expected=[
            "visitor",
            "submit",
            SignedToken({"comic_url": "http://xkcd.com/1360/"}, "HS256"),
            "HS256",
        ],
    ),
    case(
        "submit-signed-hs384",
        "supported signing algorithms",
        "visitor.submit",
        VARIABLES,
        signed=True,
        giosg=_signed("HS384"),
        expected=["visitor", "submit", SignedToken(VARIABLES, "HS384"), "HS384"],
    ),
    case(
        "submit-signed-hs512-replace-rooms",
        "signed, with replace_existing and rooms",
        "visitor.submit",
        VARIABLES,
        replace_existing=True,
        rooms=ROOMS,
        giosg=_signed("HS512"),
        expected=["visitor", "submit", SignedToken(VARIABLES, "HS512"), "HS512", True, ROOMS],
    ),
    case(
        "submit-signed-false",
        "plain submit although a key is set",
        "visitor.submit",
        VARIABLES,
        signed=False,
        giosg=_signed("HS256"),
        expected=["visitor", "submit", VARIABLES],
    ),
    # Remove submitted variables
    case(
        "remove",
        "remove submitted variables",
        "visitor.remove",
        "username",
        expected=["visitor", "remove", "username"],
    ),
    case(
        "remove-all",
        "remove submitted variables",
        "visitor.removeAll",
        expected=["visitor", "removeAll"],
    ),
    case(
        "remove-all-rooms",
        "remove all: room_information",
        "visitor.removeAll",
        [{"name": "My custom room"}],
        expected=["visitor", "removeAll", [{"name": "My custom room"}]],
    ),
    # Visitor identifier API
    case(
        "set-identifier",
        "visitor identifier API",
        "visitor.setIdentifier",
        "customer-0123456",
        expected=["visitor", "setIdentifier", "customer-0123456"],
    ),
    case(
        "set-identifier-other",
        "visitor identifier API",
        "visitor.setIdentifier",
        "other-identifier-1234",
        expected=["visitor", "setIdentifier", "other-identifier-1234"],
    ),
    # Visitor rooms API
    case(
        "join-id",
        "join visitor to a room",
        "room.join",
        {"id": ROOM_ID},
        expected=["room", "join", {"id": ROOM_ID}],
    ),
    case(
        "join-id-keyword",
        "join visitor to a room (id=)",
        "room.join",
        id=ROOM_ID,
        expected=["room", "join", {"id": ROOM_ID}],
    ),
    case(
        "join-name",
        "join visitor to a room",
        "room.join",
        name="Special room",
        expected=["room", "join", {"name": "Special room"}],
    ),
    case(
        "join-many",
        "join visitor to multiple rooms",
        "room.join",
        [{"id": ROOM_ID}, {"name": "Sales"}],
        expected=["room", "join", [{"id": ROOM_ID}, {"name": "Sales"}]],
    ),
    case(
        "leave-id",
        "leave visitor from room",
        "room.leave",
        {"id": ROOM_ID},
        expected=["room", "leave", {"id": ROOM_ID}],
    ),
    case(
        "leave-name",
        "leave visitor from room",
        "room.leave",
        name="Support room",
        expected=["room", "leave", {"name": "Support room"}],
    ),
    case(
        "leave-all",
        "leave all rooms except the domain room",
        "room.leave",
        expected=["room", "leave"],
    ),
    # Visitor chat API
    case(
        "close-all",
        "end chat session",
        "chat.close",
        all=True,
        expected=["chat", "close", {"all": True}],
    ),
    case("close", "end chat session", "chat.close", expected=["chat", "close"]),
    case(
        "close-hide",
        "end chat session and hide",
        "chat.close",
        hide=True,
        expected=["chat", "close", {"hide": True}],
    ),
    case(
        "close-id",
        "close specific chat session",
        "chat.close",
        id="12345689-1234-5678-9012-345678901234",
        expected=["chat", "close", {"id": "12345689-1234-5678-9012-345678901234"}],
    ),
    case(
        "close-name",
        "close chat from a room by name",
        "chat.close",
        name="Sales room",
        expected=["chat", "close", {"name": "Sales room"}],
    ),
    case(
        "close-message",
        "close with a message",
        "chat.close",
        message="Chat conversations has ended!",
        message_sender="Chat service",
        clear_history=True,
        expected=[
            "chat",
            "close",
            {
                "message": "Chat conversations has ended!",
                "messageSender": "Chat service",
                "clearHistory": True,
            },
        ],
    ),
    case("hide", "hide chat", "chat.hide", expected=["chat", "hide"]),
    case(
        "hide-preserve",
        "hide chat without affecting other tabs",
        "chat.hide",
        preserve_window_state=True,
        expected=["chat", "hide", {"preserveWindowState": True}],
    ),
    case(
        "start-task",
        "start task",
        "chat.startTask",
        "This is a task text",
        expected=["chat", "startTask", {"message": "This is a task text"}],
    ),
    case(
        "start-task-anonymous",
        "start task from anonymous visitor",
        "chat.startTask",
        "This is a task text",
        anonymous=True,
        variables={"username": "My name", "avatar": "https://...."},
        expected=[
            "chat",
            "startTask",
            {"message": "This is a task text"},
            UNDEFINED,
            True,
            {"username": "My name", "avatar": "https://...."},
        ],
    ),
    case(
        "start-task-room",
        "start task: roomId",
        "chat.startTask",
        "Help",
        room_id="room-1",
        expected=["chat", "startTask", {"message": "Help"}, "room-1"],
    ),
    # Webrtc calls API
    case(
        "call-start",
        "start webrtc call",
        "call.start",
        "Operator name",
        avatar_url="https://example.com/avatar.png",
        kind="audio+video",
        expected=[
            "call",
            "start",
            "Operator name",
            "https://example.com/avatar.png",
            "audio+video",
        ],
    ),
    case(
        "call-start-name",
        "start webrtc call: operatorName only",
        "call.start",
        "Operator name",
        expected=["call", "start", "Operator name"],
    ),
    case(
        "call-start-audio",
        "start webrtc call: kind audio",
        "call.start",
        "Operator name",
        kind="audio",
        expected=["call", "start", "Operator name", UNDEFINED, "audio"],
    ),
    case(
        "call-start-video-room",
        "start webrtc call: kind video, roomId",
        "call.start",
        "Operator name",
        kind="video",
        room_id="room-1",
        expected=["call", "start", "Operator name", UNDEFINED, "video", "room-1"],
    ),
    # Goal Match API
    case(
        "goal",
        "match a goal with its default value",
        "goal.matches",
        GOAL,
        expected=["goal", "matches", GOAL],
    ),
    case(
        "goal-value",
        "give the goal value",
        "goal.matches",
        GOAL,
        value=1000.1,
        expected=["goal", "matches", GOAL, {"value": 1000.1}],
    ),
    case(
        "goal-decimal",
        "goal value from a Decimal price",
        "goal.matches",
        uuid.UUID(GOAL),
        value=decimal.Decimal("9.90"),
        expected=["goal", "matches", GOAL, {"value": 9.9}],
    ),
]

BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"


# --- hostile values ------------------------------------------------------------------------
# Each one tries to end the script, open a new one, or break the JS string it lands in. In the
# browser, a script that runs sets window.__pwned.

HOSTILE = {
    "end-script": "</script><script>window.__pwned='end-script'</script>",
    "end-script-upper-space": "</SCRIPT ><script>window.__pwned='SCRIPT'</script >",
    "comment-open": "<!--<script>window.__pwned='comment'</script>-->",
    "script-open": "<script>window.__pwned='open'",
    "cdata": "]]><![CDATA[</script>",
    "img-onerror": "<img src=x onerror=\"window.__pwned='img'\">",
    "line-separators": "a\u2028b\u2029c\u2028",
    "quotes": "'\"`'\"",
    "backslashes": "\\\\\"\\'\\u0041\\",
    "template-literal": "${window.__pwned='template'}`${1}`",
    "nul": "a\x00b\x00",
    "emoji": "\U0001f600\U0001f44d\U0001f3fd\u200d\u2764\ufe0f",
    "lone-surrogates": "a\ud800b\udfffc\udbff",
    "entities": "&lt;/script&gt;&amp;&#x3C;",
    "large-20kb": ('</script><!--\u2028"\\' * 1000) + "x" * 7000,
}


HOSTILE_SETTINGS = _signed("HS256")


def hostile_cases(key: str) -> list[CallCase]:
    """The value ``HOSTILE[key]`` in every argument position of every call (with
    ``HOSTILE_SETTINGS``, so that a signed submit carries it inside a token too)."""
    h = HOSTILE[key]
    room = {"name": h, "id": h}
    nested = {h: h, "list": [h, {"k": h}], "__proto__": {"polluted": h}}
    return [
        case(
            f"h-{key}-submit",
            "",
            "visitor.submit",
            nested,
            replace_existing=True,
            rooms=[room],
            signed=False,
            expected=["visitor", "submit", nested, "plain", True, [room]],
        ),
        case(f"h-{key}-remove", "", "visitor.remove", h, expected=["visitor", "remove", h]),
        case(
            f"h-{key}-remove-all",
            "",
            "visitor.removeAll",
            room,
            expected=["visitor", "removeAll", room],
        ),
        case(
            f"h-{key}-identifier",
            "",
            "visitor.setIdentifier",
            h,
            expected=["visitor", "setIdentifier", h],
        ),
        case(
            f"h-{key}-join",
            "",
            "room.join",
            id=h,
            name=h,
            expected=["room", "join", {"id": h, "name": h}],
        ),
        case(f"h-{key}-leave", "", "room.leave", [room], expected=["room", "leave", [room]]),
        case(
            f"h-{key}-close",
            "",
            "chat.close",
            id=h,
            name=h,
            message=h,
            message_sender=h,
            expected=["chat", "close", {"id": h, "name": h, "message": h, "messageSender": h}],
        ),
        case(
            f"h-{key}-task",
            "",
            "chat.startTask",
            h,
            room_id=h,
            variables=nested,
            expected=["chat", "startTask", {"message": h}, h, UNDEFINED, nested],
        ),
        case(
            f"h-{key}-call",
            "",
            "call.start",
            h,
            avatar_url=h,
            kind="audio",
            room_id=h,
            expected=["call", "start", h, h, "audio", h],
        ),
        case(
            f"h-{key}-goal",
            "",
            "goal.matches",
            h,
            value=1,
            expected=["goal", "matches", h, {"value": 1}],
        ),
        case(
            f"h-{key}-signed",
            "",
            "visitor.submit",
            {h: h},
            signed=True,
            expected=["visitor", "submit", SignedToken({h: h}, "HS256"), "HS256"],
        ),
    ]


GROUPS = {"all": CASES, **{f"hostile-{key}": hostile_cases(key) for key in HOSTILE}}
