"""The giosg Visitor JavaScript API as Python: one builder per documented call.

A builder validates its arguments (raising ``TypeError``/``ValueError`` that name the argument)
and returns a :class:`Call` whose ``args`` are plain JSON data in giosg's positional order. The
Python API (``request.giosg``), the template tags and the Jinja2 globals all build calls here,
and :mod:`giosg_django.js` turns them into text.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.functional import Promise

from . import js

CALL_KINDS = ("audio", "video", "audio+video")


class Call(NamedTuple):
    """One ``_giosg(module, method, *args)`` call.

    ``args`` are JSON data; a top-level ``None`` is an argument that was skipped before a given
    one and is rendered as ``undefined`` (no giosg argument takes ``null``). ``sign`` is only
    used by ``visitor.submit``: ``None`` signs when a key is set, ``True`` requires a key.
    Signing happens when the call is rendered, so a call that waited is signed fresh.
    """

    module: str
    method: str
    args: tuple[Any, ...] = ()
    sign: bool | None = False

    @property
    def name(self) -> str:
        return f"{self.module}.{self.method}"

    def to_session(self) -> list[Any]:
        return [self.module, self.method, list(self.args), self.sign]

    @classmethod
    def from_session(cls, data: Any) -> Call:
        """Rebuild a stored call; anything that is not one raises ``ValueError``."""
        if not (isinstance(data, list) and len(data) == 4):
            raise ValueError("not a stored giosg call")
        module, method, args, sign = data
        if data == IDENTITY_CHANGED.to_session():
            return IDENTITY_CHANGED
        if module == MARKER_MODULE and method == LOGGED_OUT:
            if not (len(args) == 1 and type(args[0]) is int):
                raise ValueError("not a stored giosg call: bad loggedOut marker")
            return logged_out(args[0])
        if f"{module}.{method}" not in CALLS or not isinstance(args, list):
            raise ValueError(f"not a stored giosg call: {module!r}.{method!r}")
        if sign is not None and type(sign) is not bool:
            raise ValueError("not a stored giosg call: bad sign flag")
        return cls(module, method, tuple(args), sign)


# Markers: not giosg calls, but queued in order with them, so they wait in the session (and
# survive login's and logout's flush) and reach exactly one page. Module "giosg_django".
MARKER_MODULE = js.MARKER_MODULE
LOGGED_OUT = js.LOGGED_OUT
# Queued on login: the page that renders it submits the new user's identity with
# replace_existing, so the previous visitor's variables never stay attached.
IDENTITY_CHANGED = Call(MARKER_MODULE, "identityChanged")


def logged_out(at_ms: int) -> Call:
    """Queued on logout (CROSS_TAB_LOGOUT): the page that renders it tells the site's other
    pages in the browser, and pages rendered before ``at_ms``, that the visitor logged out."""
    return Call(MARKER_MODULE, LOGGED_OUT, (at_ms,))


# --- argument checks -----------------------------------------------------------------------

_JSON_ENCODER = DjangoJSONEncoder(allow_nan=False, separators=(",", ":"))

# No giosg value is nested this deep; far deeper, the JSON encoder (and every later step: the
# session's serializer, the page's script) fails with RecursionError.
MAX_DEPTH = 64


class _NotPlain(Exception):
    pass


def _plain_copy(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` if it is JSON data already (what a JSON round trip would give, only
    faster); ``_NotPlain`` for anything the encoder must see."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int and _fits_json(value):
        return value
    if kind is float and math.isfinite(value):
        return value
    if depth < 32:  # deeper, or circular: the encoder reports it
        if kind is dict:
            copy = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotPlain
                # A str, the usual value (the identity's), without a call of its own.
                copy[key] = item if type(item) is str else _plain_copy(item, depth + 1)
            return copy
        if kind is list:
            return [_plain_copy(item, depth + 1) for item in value]
    raise _NotPlain


def _fits_json(number: int) -> bool:
    """Whether an int reaches giosg as given: JavaScript reads a number past the largest double
    as Infinity, and Python writes no int past ``sys.get_int_max_str_digits()`` digits."""
    if number.bit_length() < 1024:
        return True
    try:
        float(number)
    except OverflowError:
        return False
    return True


def _json_problem(data: Any) -> str | None:
    """What in decoded JSON data cannot reach giosg as given (walked without recursion, so
    any depth is measured)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if type(value) is int and not _fits_json(value):
            return "an int too large for a JSON number"
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return None


def to_json_data(value: Any, argument: str) -> Any:
    """A copy of ``value`` as plain JSON data, the way Django's JSON encoder writes dates,
    UUIDs, Decimals and lazy strings. Refuses NaN/Infinity, what JSON cannot hold, values
    nested deeper than :data:`MAX_DEPTH` and ints JavaScript reads as Infinity."""
    try:
        return _plain_copy(value)
    except _NotPlain:
        return _encoded_copy(value, argument)


def _encoded_copy(value: Any, argument: str) -> Any:
    """``to_json_data`` for a value ``_plain_copy`` refused: through Django's JSON encoder."""
    try:
        data = json.loads(_JSON_ENCODER.encode(value))
    except RecursionError:
        raise ValueError(
            f"{argument} cannot be sent to giosg as JSON: nested deeper than {MAX_DEPTH} levels"
        ) from None
    except ValueError as exc:
        raise ValueError(f"{argument} cannot be sent to giosg as JSON: {exc}") from None
    except TypeError as exc:
        raise TypeError(f"{argument} cannot be sent to giosg as JSON: {exc}") from None
    problem = _json_problem(data)
    if problem is not None:
        raise ValueError(f"{argument} cannot be sent to giosg as JSON: {problem}")
    return data


def _string(value: Any, argument: str) -> str:
    # Room and goal ids are often UUIDs, and labels lazy translations: both become text.
    if isinstance(value, (uuid.UUID, Promise)):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{argument} must be a non-empty string")
    return value


def _optional_string(value: Any, argument: str) -> str | None:
    return None if value is None else _string(value, argument)


def _optional_bool(value: bool | None, argument: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{argument} must be True or False, not {type(value).__name__}")
    return value


def _mapping(value: Any, argument: str) -> dict[str, Any]:
    plain = type(value) is dict
    if plain:
        # The identity's, on every page: _plain_copy takes a dict of str names and JSON values
        # as is, without the ABC check (Python code) and to_json_data's call.
        try:
            copy: dict[str, Any] = _plain_copy(value)
            return copy
        except _NotPlain:
            pass  # a name that is no str (reported below), or a value the encoder must see
    elif not isinstance(value, Mapping):
        raise TypeError(f"{argument} must be a mapping (dict), not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{argument} keys must be strings, not {type(key).__name__}")
    # A dict _plain_copy refused goes to the encoder at once (not walked a second time).
    data: dict[str, Any] = (
        _encoded_copy(value, argument) if plain else to_json_data(dict(value), argument)
    )
    return data


def _room(value: Any, argument: str) -> dict[str, Any]:
    room = _mapping(value, argument)
    if not any(isinstance(room.get(k), str) and room[k].strip() for k in ("id", "name")):
        raise ValueError(f"{argument} must have a non-empty 'id' or 'name', got {room!r}")
    return room


def _rooms(value: Any, argument: str) -> dict[str, Any] | list[dict[str, Any]] | None:
    """One room or a list of rooms, kept in the shape given."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _room(value, argument)
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{argument} must not be an empty list")
        return [_room(room, f"{argument}[{i}]") for i, room in enumerate(value)]
    raise TypeError(
        f"{argument} must be a room dict or a list of room dicts, not {type(value).__name__}"
    )


def _room_argument(rooms: Any, id: Any, name: Any, *, required: bool) -> Any:
    if rooms is not None and (id is not None or name is not None):
        raise TypeError("give either rooms or id=/name=, not both")
    if rooms is None and (id is not None or name is not None):
        room = {"id": _optional_string(id, "id"), "name": _optional_string(name, "name")}
        return {key: value for key, value in room.items() if value is not None}
    if rooms is None and required:
        raise ValueError("rooms is required: give a room dict, a list of rooms, or id=/name=")
    return _rooms(rooms, "rooms")


def _options(argument: str, **options: Any) -> dict[str, Any] | None:
    """An options object with only the keys given (``None`` means not given)."""
    given = {key: value for key, value in options.items() if value is not None}
    return to_json_data(given, argument) if given else None


def _positional(args: Sequence[Any], defaults: Sequence[Any]) -> tuple[Any, ...]:
    """giosg's positional rules: trailing arguments not given (or at their documented default)
    are left out; a skipped one before a given one becomes its documented default, or stays
    ``None`` (rendered ``undefined``) where the docs give none."""
    args = list(args)
    while args and (
        args[-1] is None
        or (type(args[-1]) is type(defaults[len(args) - 1]) and args[-1] == defaults[len(args) - 1])
    ):
        args.pop()
    return tuple(defaults[i] if arg is None else arg for i, arg in enumerate(args))


# --- the documented calls --------------------------------------------------------------------

# The algorithm argument of an unsigned submit: giosg reads "plain" as variables sent as they
# are, not as a JWT.
UNSIGNED = "plain"


def visitor_submit(
    variables: Mapping[str, Any],
    *,
    replace_existing: bool = False,
    rooms: Any = None,
    signed: bool | None = None,
) -> Call:
    """``_giosg("visitor","submit",vars_or_jwt[,alg[,replace[,rooms]]])``."""
    data = _mapping(variables, "variables")
    if not isinstance(replace_existing, bool):
        raise TypeError(
            f"replace_existing must be True or False, not {type(replace_existing).__name__}"
        )
    if signed is not None:  # None, the usual case, needs no check
        _optional_bool(signed, "signed")
    if signed is not False and "exp" in data:
        raise ValueError(
            "variables must not contain 'exp' when signed: it is the token's expiry time"
        )
    if rooms is None:  # the identity's form, on every page: no positional rules needed
        return Call(
            "visitor", "submit", (data, UNSIGNED, True) if replace_existing else (data,), signed
        )
    args = _positional(
        [data, UNSIGNED, replace_existing, _rooms(rooms, "rooms")], [None, UNSIGNED, False, None]
    )
    return Call("visitor", "submit", args, signed)


def visitor_remove(key: str) -> Call:
    """``_giosg("visitor","remove",key)``."""
    return Call("visitor", "remove", (_string(key, "key"),))


def visitor_remove_all(rooms: Any = None) -> Call:
    """``_giosg("visitor","removeAll"[,rooms])``."""
    return Call("visitor", "removeAll", _positional([_rooms(rooms, "rooms")], [None]))


def visitor_set_identifier(identifier: str) -> Call:
    """``_giosg("visitor","setIdentifier",identifier)``."""
    return Call("visitor", "setIdentifier", (_string(identifier, "identifier"),))


def room_join(rooms: Any = None, *, id: str | None = None, name: str | None = None) -> Call:
    """``_giosg("room","join",room_or_list)``."""
    return Call("room", "join", (_room_argument(rooms, id, name, required=True),))


def room_leave(rooms: Any = None, *, id: str | None = None, name: str | None = None) -> Call:
    """``_giosg("room","leave"[,room_or_list])``: no room leaves all but the domain room."""
    return Call(
        "room", "leave", _positional([_room_argument(rooms, id, name, required=False)], [None])
    )


def chat_close(
    *,
    all: bool | None = None,
    hide: bool | None = None,
    id: str | None = None,
    name: str | None = None,
    clear_history: bool | None = None,
    message: str | None = None,
    message_sender: str | None = None,
) -> Call:
    """``_giosg("chat","close"[,options])`` with giosg's camelCase option names."""
    options = _options(
        "options",
        all=_optional_bool(all, "all"),
        hide=_optional_bool(hide, "hide"),
        id=_optional_string(id, "id"),
        name=_optional_string(name, "name"),
        clearHistory=_optional_bool(clear_history, "clear_history"),
        message=_optional_string(message, "message"),
        messageSender=_optional_string(message_sender, "message_sender"),
    )
    return Call("chat", "close", _positional([options], [None]))


def chat_hide(*, preserve_window_state: bool | None = None) -> Call:
    """``_giosg("chat","hide"[,{preserveWindowState:...}])``."""
    options = _options(
        "options",
        preserveWindowState=_optional_bool(preserve_window_state, "preserve_window_state"),
    )
    return Call("chat", "hide", _positional([options], [None]))


def chat_start_task(
    message: str,
    *,
    room_id: str | None = None,
    anonymous: bool | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Call:
    """``_giosg("chat","startTask",{message:...}[,roomId[,isAnonymous[,visitorVariables]]])``."""
    args = [
        {"message": _string(message, "message")},
        _optional_string(room_id, "room_id"),
        _optional_bool(anonymous, "anonymous"),
        None if variables is None else _mapping(variables, "variables"),
    ]
    return Call("chat", "startTask", _positional(args, [None, None, None, None]))


def call_start(
    operator_name: str,
    *,
    avatar_url: str | None = None,
    kind: str | None = None,
    room_id: str | None = None,
) -> Call:
    """``_giosg("call","start",operatorName[,avatarUrl[,kind[,roomId]]])``."""
    if kind is not None and kind not in CALL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, CALL_KINDS))}, not {kind!r}")
    args = [
        _string(operator_name, "operator_name"),
        _optional_string(avatar_url, "avatar_url"),
        kind,
        _optional_string(room_id, "room_id"),
    ]
    return Call("call", "start", _positional(args, [None, None, None, None]))


def goal_matches(goal_id: str, *, value: float | Decimal | None = None) -> Call:
    """``_giosg("goal","matches",goalId[,{value:...}])``."""
    goal = _string(goal_id, "goal_id")
    options = None
    if value is not None:
        options = {"value": _goal_value(value)}
    return Call("goal", "matches", _positional([goal, options], [None, None]))


def _goal_value(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"value must be a number, not {type(value).__name__}")
    # giosg takes the goal value as a number (float): a Decimal price is sent as one, and an
    # int too large for a float would not survive the trip.
    if isinstance(value, Decimal) and not value.is_finite():
        number = math.nan  # float() of a signaling NaN raises
    else:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    if not math.isfinite(number):
        # Not the number itself: str() of an int past 4,300 digits raises.
        shown = "an int too large for a float" if isinstance(value, int) else str(value)
        raise ValueError(f"value must be a finite number, not {shown}")
    return value if isinstance(value, int) else number


# giosg's call name ("module.method") -> builder. The Python names are accepted as aliases by
# the template tag, so `{% giosg_call "visitor.set_identifier" %}` works as well.
CALLS: dict[str, Callable[..., Call]] = {
    "visitor.submit": visitor_submit,
    "visitor.remove": visitor_remove,
    "visitor.removeAll": visitor_remove_all,
    "visitor.setIdentifier": visitor_set_identifier,
    "room.join": room_join,
    "room.leave": room_leave,
    "chat.close": chat_close,
    "chat.hide": chat_hide,
    "chat.startTask": chat_start_task,
    "call.start": call_start,
    "goal.matches": goal_matches,
}
ALIASES = {
    "visitor.remove_all": "visitor.removeAll",
    "visitor.set_identifier": "visitor.setIdentifier",
    "chat.start_task": "chat.startTask",
}
# Documented calls that return a value to page JS, so they cannot be fired from the server.
NOT_FROM_SERVER = {
    "room.getJoinedRooms": (
        "room.getJoinedRooms returns the joined rooms to page JavaScript, so it cannot be "
        "called from the server; in page JS use "
        "_giosg(function () { giosg.api.room.getJoinedRooms().then(...) })"
    ),
}


def builder(name: str) -> Callable[..., Call]:
    """The builder for a call name (giosg's or the Python alias); ``LookupError`` if none."""
    name = ALIASES.get(name, name)
    if name in NOT_FROM_SERVER:
        raise LookupError(NOT_FROM_SERVER[name])
    try:
        return CALLS[name]
    except KeyError:
        known = ", ".join(sorted(CALLS))
        raise LookupError(f"unknown giosg call {name!r}; known calls: {known}") from None
