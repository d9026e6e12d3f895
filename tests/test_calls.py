"""The call builders (giosg_django.calls): bad arguments to ``request.giosg`` raise at the call
site, with the right exception type and a message that names the argument, and queue nothing;
values Django's JSON encoder knows are accepted and stored the way ``DjangoJSONEncoder`` writes
them."""

from __future__ import annotations

import datetime
import json
import math
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from giosg_django.api import Giosg
from giosg_django.calls import Call
from giosg_django.visit import start

KEY = "k" * 64


def make_giosg() -> Giosg:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    start(request)
    giosg: Giosg = request.giosg
    return giosg


@pytest.fixture
def giosg() -> Giosg:
    return make_giosg()


@pytest.fixture
def signing_key() -> Iterator[None]:
    with override_settings(GIOSG={**settings.GIOSG, "SIGNING_KEY": KEY}):
        yield


def circular() -> dict[str, Any]:
    data: dict[str, Any] = {"a": 1}
    data["self"] = {"inner": [data]}
    return data


Bad = Callable[[Giosg], object]

# (id, the failing call, exception type, regex the message must match)
BAD: list[tuple[str, Bad, type[Exception], str]] = [
    # rooms
    ("join-dict-without-id-or-name", lambda g: g.room.join({"x": "1"}), ValueError, r"\brooms\b"),
    ("join-dict-empty", lambda g: g.room.join({}), ValueError, r"\brooms\b"),
    (
        "join-dict-in-list",
        lambda g: g.room.join([{"id": "a"}, {"x": 1}]),
        ValueError,
        r"rooms\[1\]",
    ),
    ("join-empty-list", lambda g: g.room.join([]), ValueError, r"\brooms\b.*empty"),
    ("join-string", lambda g: g.room.join("sales"), TypeError, r"\brooms\b"),
    ("join-int", lambda g: g.room.join(5), TypeError, r"\brooms\b"),
    ("join-string-in-list", lambda g: g.room.join(["sales"]), TypeError, r"rooms\[0\]"),
    ("join-name-whitespace", lambda g: g.room.join({"name": "  \t"}), ValueError, r"\brooms\b"),
    ("join-id-empty", lambda g: g.room.join({"id": ""}), ValueError, r"\brooms\b"),
    ("join-id-int", lambda g: g.room.join({"id": 5}), ValueError, r"\brooms\b.*'id'"),
    ("join-id-list", lambda g: g.room.join({"id": ["a"]}), ValueError, r"\brooms\b.*'id'"),
    ("join-no-room", lambda g: g.room.join(), ValueError, r"\brooms\b"),
    ("join-kw-id-empty", lambda g: g.room.join(id=""), ValueError, r"\bid\b"),
    ("join-kw-id-int", lambda g: g.room.join(id=5), TypeError, r"\bid\b"),
    ("join-kw-name-space", lambda g: g.room.join(name=" "), ValueError, r"\bname\b"),
    ("join-rooms-and-id", lambda g: g.room.join({"id": "a"}, id="b"), TypeError, r"\brooms\b"),
    ("join-rooms-and-name", lambda g: g.room.join({"id": "a"}, name="b"), TypeError, r"\brooms\b"),
    ("leave-rooms-and-id", lambda g: g.room.leave({"id": "a"}, id="b"), TypeError, r"\brooms\b"),
    ("leave-empty-list", lambda g: g.room.leave([]), ValueError, r"\brooms\b"),
    ("leave-dict-without-id", lambda g: g.room.leave({"x": 1}), ValueError, r"\brooms\b"),
    ("remove-all-bad-room", lambda g: g.visitor.remove_all({"id": " "}), ValueError, r"\brooms\b"),
    ("remove-all-string", lambda g: g.visitor.remove_all("x"), TypeError, r"\brooms\b"),
    (
        "submit-bad-room",
        lambda g: g.visitor.submit({"a": 1}, rooms=[{"name": ""}]),
        ValueError,
        r"rooms\[0\]",
    ),
    # call.start
    ("call-kind-phone", lambda g: g.call.start("Op", kind="phone"), ValueError, r"\bkind\b"),
    ("call-kind-empty", lambda g: g.call.start("Op", kind=""), ValueError, r"\bkind\b"),
    ("call-kind-case", lambda g: g.call.start("Op", kind="Audio"), ValueError, r"\bkind\b"),
    ("call-kind-list", lambda g: g.call.start("Op", kind=["audio"]), ValueError, r"\bkind\b"),
    ("call-operator-empty", lambda g: g.call.start(""), ValueError, r"operator_name"),
    ("call-operator-space", lambda g: g.call.start("  "), ValueError, r"operator_name"),
    ("call-operator-none", lambda g: g.call.start(None), TypeError, r"operator_name"),
    ("call-avatar-int", lambda g: g.call.start("Op", avatar_url=1), TypeError, r"avatar_url"),
    ("call-room-id-empty", lambda g: g.call.start("Op", room_id=""), ValueError, r"room_id"),
    # goal.matches
    ("goal-value-nan", lambda g: g.goal.matches("g", value=math.nan), ValueError, r"\bvalue\b"),
    ("goal-value-inf", lambda g: g.goal.matches("g", value=math.inf), ValueError, r"\bvalue\b"),
    ("goal-value-ninf", lambda g: g.goal.matches("g", value=-math.inf), ValueError, r"\bvalue\b"),
    (
        "goal-value-decimal-nan",
        lambda g: g.goal.matches("g", value=Decimal("NaN")),
        ValueError,
        r"\bvalue\b",
    ),
    (
        "goal-value-decimal-inf",
        lambda g: g.goal.matches("g", value=Decimal("-Infinity")),
        ValueError,
        r"\bvalue\b",
    ),
    ("goal-value-true", lambda g: g.goal.matches("g", value=True), TypeError, r"\bvalue\b"),
    ("goal-value-false", lambda g: g.goal.matches("g", value=False), TypeError, r"\bvalue\b"),
    ("goal-value-str", lambda g: g.goal.matches("g", value="10"), TypeError, r"\bvalue\b"),
    ("goal-id-empty", lambda g: g.goal.matches(""), ValueError, r"goal_id"),
    ("goal-id-space", lambda g: g.goal.matches(" \n "), ValueError, r"goal_id"),
    ("goal-id-int", lambda g: g.goal.matches(123), TypeError, r"goal_id"),
    ("goal-id-none", lambda g: g.goal.matches(None), TypeError, r"goal_id"),
    # visitor.setIdentifier / visitor.remove
    ("identifier-empty", lambda g: g.visitor.set_identifier(""), ValueError, r"identifier"),
    ("identifier-space", lambda g: g.visitor.set_identifier("   "), ValueError, r"identifier"),
    ("identifier-int", lambda g: g.visitor.set_identifier(42), TypeError, r"identifier"),
    ("identifier-none", lambda g: g.visitor.set_identifier(None), TypeError, r"identifier"),
    ("remove-key-empty", lambda g: g.visitor.remove(""), ValueError, r"\bkey\b"),
    ("remove-key-space", lambda g: g.visitor.remove(" "), ValueError, r"\bkey\b"),
    ("remove-key-int", lambda g: g.visitor.remove(1), TypeError, r"\bkey\b"),
    # visitor.submit variables
    ("vars-list", lambda g: g.visitor.submit([("a", 1)]), TypeError, r"variables"),
    ("vars-str", lambda g: g.visitor.submit("a=1"), TypeError, r"variables"),
    ("vars-none", lambda g: g.visitor.submit(None), TypeError, r"variables"),
    ("vars-int-key", lambda g: g.visitor.submit({1: "a"}), TypeError, r"variables.*keys"),
    ("vars-none-key", lambda g: g.visitor.submit({None: "a"}), TypeError, r"variables.*keys"),
    ("vars-set", lambda g: g.visitor.submit({"a": {1, 2}}), TypeError, r"variables.*JSON"),
    ("vars-object", lambda g: g.visitor.submit({"a": object()}), TypeError, r"variables.*JSON"),
    ("vars-bytes", lambda g: g.visitor.submit({"a": b"x"}), TypeError, r"variables.*JSON"),
    (
        "vars-deep-nan",
        lambda g: g.visitor.submit({"a": [{"b": {"c": [1.0, math.nan]}}]}),
        ValueError,
        r"variables.*JSON",
    ),
    ("vars-inf", lambda g: g.visitor.submit({"a": -math.inf}), ValueError, r"variables.*JSON"),
    ("vars-circular", lambda g: g.visitor.submit(circular()), ValueError, r"variables.*JSON"),
    (
        "replace-existing-int",
        lambda g: g.visitor.submit({"a": 1}, replace_existing=1),
        TypeError,
        r"replace_existing",
    ),
    (
        "replace-existing-none",
        lambda g: g.visitor.submit({"a": 1}, replace_existing=None),
        TypeError,
        r"replace_existing",
    ),
    (
        "replace-existing-str",
        lambda g: g.visitor.submit({"a": 1}, replace_existing="yes"),
        TypeError,
        r"replace_existing",
    ),
    ("signed-str", lambda g: g.visitor.submit({"a": 1}, signed="yes"), TypeError, r"\bsigned\b"),
    ("signed-int", lambda g: g.visitor.submit({"a": 1}, signed=1), TypeError, r"\bsigned\b"),
    # chat
    ("close-hide-yes", lambda g: g.chat.close(hide="yes"), TypeError, r"\bhide\b"),
    ("close-all-int", lambda g: g.chat.close(all=1), TypeError, r"\ball\b"),
    (
        "close-clear-history-str",
        lambda g: g.chat.close(clear_history="true"),
        TypeError,
        r"clear_history",
    ),
    ("close-id-empty", lambda g: g.chat.close(id=""), ValueError, r"\bid\b"),
    ("close-message-int", lambda g: g.chat.close(message=3), TypeError, r"\bmessage\b"),
    (
        "close-sender-empty",
        lambda g: g.chat.close(message="m", message_sender=""),
        ValueError,
        r"message_sender",
    ),
    (
        "hide-preserve-str",
        lambda g: g.chat.hide(preserve_window_state="no"),
        TypeError,
        r"preserve_window_state",
    ),
    ("task-message-empty", lambda g: g.chat.start_task(""), ValueError, r"\bmessage\b"),
    ("task-message-space", lambda g: g.chat.start_task("  "), ValueError, r"\bmessage\b"),
    ("task-message-dict", lambda g: g.chat.start_task({"message": "x"}), TypeError, r"message"),
    (
        "task-variables-list",
        lambda g: g.chat.start_task("m", variables=["a"]),
        TypeError,
        r"variables",
    ),
    (
        "task-variables-str",
        lambda g: g.chat.start_task("m", variables="a"),
        TypeError,
        r"variables",
    ),
    (
        "task-variables-set",
        lambda g: g.chat.start_task("m", variables={"a": {1}}),
        TypeError,
        r"variables",
    ),
    (
        "task-anonymous-str",
        lambda g: g.chat.start_task("m", anonymous="yes"),
        TypeError,
        r"anonymous",
    ),
    ("task-room-id-empty", lambda g: g.chat.start_task("m", room_id=""), ValueError, r"room_id"),
    # signed=True without a key
    (
        "signed-without-key",
        lambda g: g.visitor.submit({"a": 1}, signed=True),
        ImproperlyConfigured,
        r"SIGNING_KEY",
    ),
]


@pytest.mark.parametrize(("bad", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_argument_raises_and_queues_nothing(
    giosg: Giosg, bad: Bad, exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        bad(giosg)
    assert giosg._visit.calls == []


def test_error_keeps_calls_queued_before_it(giosg: Giosg) -> None:
    giosg.goal.matches("first")
    with pytest.raises(ValueError, match="goal_id"):
        giosg.goal.matches("")
    giosg.goal.matches("last")
    assert [call.args for call in giosg._visit.calls] == [("first",), ("last",)]


def test_type_and_value_errors_are_not_mixed_up(giosg: Giosg) -> None:
    # A ValueError must not pass as TypeError (and back): the exception types above matter.
    with pytest.raises(ValueError) as info:
        giosg.goal.matches("g", value=math.nan)
    assert not isinstance(info.value, TypeError)
    with pytest.raises(TypeError) as type_info:
        giosg.goal.matches("g", value="1")
    assert not isinstance(type_info.value, ValueError)


# --- signing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [True, None])
def test_exp_in_variables_refused_when_signing(
    giosg: Giosg, signing_key: None, signed: bool | None
) -> None:
    with pytest.raises(ValueError, match=r"variables.*'exp'"):
        giosg.visitor.submit({"exp": 1, "a": 2}, signed=signed)
    assert giosg._visit.calls == []


def test_exp_in_variables_accepted_unsigned(giosg: Giosg, signing_key: None) -> None:
    giosg.visitor.submit({"exp": 1}, signed=False)
    assert giosg._visit.calls == [Call("visitor", "submit", ({"exp": 1},), False)]


def test_signed_true_with_key_is_queued(giosg: Giosg, signing_key: None) -> None:
    giosg.visitor.submit({"a": 1}, signed=True)
    assert giosg._visit.calls == [Call("visitor", "submit", ({"a": 1},), True)]


@pytest.mark.parametrize("key", ["", None])
def test_signed_true_with_empty_key_raises(giosg: Giosg, key: str | None) -> None:
    with (
        override_settings(GIOSG={**settings.GIOSG, "SIGNING_KEY": key}),
        pytest.raises(ImproperlyConfigured, match="SIGNING_KEY"),
    ):
        giosg.visitor.submit({"a": 1}, signed=True)
    assert giosg._visit.calls == []


def test_signed_true_with_callable_key_returning_none_raises(giosg: Giosg) -> None:
    seen: list[Any] = []

    def key(request: Any) -> None:
        seen.append(request)

    with (
        override_settings(GIOSG={**settings.GIOSG, "SIGNING_KEY": key}),
        pytest.raises(ImproperlyConfigured, match="SIGNING_KEY"),
    ):
        giosg.visitor.submit({"a": 1}, signed=True)
    assert seen == [giosg._visit.request]
    assert giosg._visit.calls == []


# --- what is accepted -------------------------------------------------------------------------

UTC = datetime.timezone.utc
HELSINKI = datetime.timezone(datetime.timedelta(hours=2))
ID = uuid.UUID("2870f654-c6a7-11e6-8a67-60f81db030fe")


def lazy_upper(text: str) -> str:
    return text.upper()


lazy_str = lazy(lazy_upper, str)


def test_django_json_types_are_stored_as_django_writes_them(giosg: Giosg) -> None:
    giosg.visitor.submit(
        {
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "local": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=HELSINKI),
            "day": datetime.date(2026, 1, 2),
            "price": Decimal("9.90"),
            "id": ID,
            "title": gettext_lazy("Hello"),
            "shout": lazy_str("hi"),
            "pair": (1, (2, "x")),
            "nested": {"at": [datetime.date(2026, 3, 4)]},
        },
        signed=False,
    )
    [call] = giosg._visit.calls
    assert call.args == (
        {
            "when": "2026-01-02T03:04:05Z",
            "local": "2026-01-02T03:04:05.678+02:00",
            "day": "2026-01-02",
            "price": "9.90",
            "id": "2870f654-c6a7-11e6-8a67-60f81db030fe",
            "title": "Hello",
            "shout": "HI",
            "pair": [1, [2, "x"]],
            "nested": {"at": ["2026-03-04"]},
        },
    )
    # Plain data only: what the session stores is exactly what is rendered.
    assert type(call.args[0]["pair"]) is list
    assert type(call.args[0]["title"]) is str


def test_uuid_goal_id_is_accepted(giosg: Giosg) -> None:
    giosg.goal.matches(ID, value=5)
    assert giosg._visit.calls == [
        Call("goal", "matches", ("2870f654-c6a7-11e6-8a67-60f81db030fe", {"value": 5}))
    ]


def test_decimal_goal_value_is_sent_as_the_documented_float(giosg: Giosg) -> None:
    # giosg documents the goal value as a float, so a Decimal price arrives as a number.
    giosg.goal.matches("g", value=Decimal("9.90"))
    [call] = giosg._visit.calls
    assert call.args == ("g", {"value": 9.9})
    assert type(call.args[1]["value"]) is float


def test_tuple_of_rooms_becomes_a_list(giosg: Giosg) -> None:
    giosg.room.join(({"id": ID}, {"name": gettext_lazy("Sales"), "extra": (1, 2)}))
    assert giosg._visit.calls == [
        Call(
            "room",
            "join",
            ([{"id": str(ID)}, {"name": "Sales", "extra": [1, 2]}],),
        )
    ]


def test_task_variables_are_converted(giosg: Giosg) -> None:
    giosg.chat.start_task("Help", variables={"at": datetime.date(2026, 1, 2), "t": (1,)})
    [call] = giosg._visit.calls
    assert call.args == ({"message": "Help"}, None, None, {"at": "2026-01-02", "t": [1]})


def test_every_valid_kind_is_accepted(giosg: Giosg) -> None:
    for kind in ("audio", "video", "audio+video"):
        giosg.call.start("Op", kind=kind)
    assert [call.args[2] for call in giosg._visit.calls] == ["audio", "video", "audio+video"]


# --- found as bugs, kept as regressions ---------------------------------------------------------


def test_huge_int_goal_value_is_a_value_error(giosg: Giosg) -> None:
    with pytest.raises(ValueError, match=r"\bvalue\b"):
        giosg.goal.matches("g", value=10**400)
    assert giosg._visit.calls == []


def test_signaling_nan_goal_value_names_the_argument(giosg: Giosg) -> None:
    with pytest.raises(ValueError, match=r"\bvalue\b"):
        giosg.goal.matches("g", value=Decimal("sNaN"))
    assert giosg._visit.calls == []


@pytest.mark.parametrize(
    ("good", "expected"),
    [
        (
            lambda g: g.chat.close(message=gettext_lazy("Bye")),
            ("chat", "close", {"message": "Bye"}),
        ),
        (lambda g: g.room.join(name=gettext_lazy("Sales")), ("room", "join", {"name": "Sales"})),
        (lambda g: g.goal.matches(gettext_lazy("g1")), ("goal", "matches", "g1")),
        (
            lambda g: g.chat.start_task(gettext_lazy("Help")),
            ("chat", "startTask", {"message": "Help"}),
        ),
        (lambda g: g.call.start(gettext_lazy("Op")), ("call", "start", "Op")),
    ],
    ids=["close-message", "join-name", "goal-id", "task-message", "call-operator"],
)
def test_lazy_strings_accepted_in_string_arguments(
    giosg: Giosg, good: Bad, expected: tuple[str, str, Any]
) -> None:
    good(giosg)
    [call] = giosg._visit.calls
    assert (call.module, call.method, call.args[0]) == expected
    assert type(call.args[0]) is type(expected[2])


@pytest.mark.parametrize(
    "good",
    [
        lambda g: g.room.join(id=ID),
        lambda g: g.room.leave(id=ID),
        lambda g: g.chat.close(id=ID),
        lambda g: g.chat.start_task("m", room_id=ID),
        lambda g: g.call.start("Op", room_id=ID),
    ],
    ids=["join-id", "leave-id", "close-id", "task-room-id", "call-room-id"],
)
def test_uuid_room_ids_accepted_as_keywords(giosg: Giosg, good: Bad) -> None:
    good(giosg)
    [call] = giosg._visit.calls
    assert str(ID) in repr(call.args)


# --- values JSON cannot carry to giosg: too deep, too large ---------------------------------------


def nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value} if kind == "dict" else [value] if kind == "list" else (value,)
    return value


# Every argument position that takes JSON, with the name its error must give.
JSON_POSITIONS: dict[str, tuple[Callable[[Giosg, Any], object], str]] = {
    "submit-variables": (lambda g, v: g.visitor.submit({"x": v}), r"\bvariables\b"),
    "submit-rooms": (lambda g, v: g.visitor.submit({"a": 1}, rooms={"id": "r", "x": v}), "rooms"),
    "remove-all-rooms": (lambda g, v: g.visitor.remove_all({"id": "r", "x": v}), r"\brooms\b"),
    "join-rooms-list": (
        lambda g, v: g.room.join([{"id": "r"}, {"id": "s", "x": v}]),
        r"rooms\[1\]",
    ),
    "leave-rooms": (lambda g, v: g.room.leave({"id": "r", "x": v}), r"\brooms\b"),
    "start-task-variables": (
        lambda g, v: g.chat.start_task("help", variables={"x": v}),
        r"\bvariables\b",
    ),
}
TOO_MUCH: dict[str, Any] = {
    "list-5000-deep": nested(5000, "list"),
    "dict-5000-deep": nested(5000, "dict"),
    "tuple-5000-deep": nested(5000, "tuple"),  # not plain JSON: the encoder's path
    "list-65-deep": nested(65, "list"),
    "int-past-the-4300-digit-limit": 10**5000,
    "int-javascript-reads-as-infinity": 10**400,
    "deep-int-javascript-reads-as-infinity": [*nested(40, "list"), 10**400],
}


@pytest.mark.parametrize("position", list(JSON_POSITIONS))
@pytest.mark.parametrize("value", list(TOO_MUCH))
def test_json_that_cannot_reach_giosg_is_a_value_error_naming_the_argument(
    giosg: Giosg, position: str, value: str
) -> None:
    """T6/T7: 5,000 levels escaped as RecursionError; an int past Python's 4,300-digit str
    limit was queued and then failed while the session was written (a 500); an int past the
    largest double reaches JavaScript as Infinity, not as given."""
    call, argument = JSON_POSITIONS[position]
    with pytest.raises(ValueError, match=rf"{argument}.*JSON") as info:
        call(giosg, TOO_MUCH[value])
    assert not isinstance(info.value, RecursionError)
    assert giosg._visit.calls == []


@pytest.mark.parametrize("position", list(JSON_POSITIONS))
def test_json_as_deep_and_as_large_as_allowed_is_queued_and_stored(
    giosg: Giosg, position: str
) -> None:
    """The limits leave every real value alone: 64 levels, and the largest int a double holds,
    go into the session and the page as given."""
    from giosg_django import js
    from giosg_django.calls import MAX_DEPTH

    call, _argument = JSON_POSITIONS[position]
    largest = int(sys.float_info.max)
    call(giosg, [*nested(MAX_DEPTH - 3, "list"), largest])  # the call's own levels count too
    [queued] = giosg._visit.calls
    stored = json.loads(json.dumps(queued.to_session()))
    assert Call.from_session(stored) == queued
    assert str(largest) in js.dumps(list(queued.args))


def test_a_huge_goal_value_is_a_value_error_naming_the_argument(giosg: Giosg) -> None:
    with pytest.raises(ValueError, match=r"\bvalue\b"):
        giosg.goal.matches("g", value=10**5000)
    assert giosg._visit.calls == []
