"""Properties, with hypothesis.

(a) Any JSON value (nested dicts and lists, any unicode text including lone surrogates, with
``</script>``, ``<!--`` and friends mixed in, integers within +-2**53, finite floats), in every
place a call takes one (visitor.submit's and chat.startTask's variables, rooms, every string
argument, the goal value), rendered by ``render.giosg_call``, by ``{% giosg_call %}`` and by
``request.giosg`` + ``{% giosg_visitor %}``, reaches giosg's queue in node exactly as given, and
never ends the script: the HTML parser finds exactly our scripts with exactly our text, and
they run without an error.

(b) A random interleaving of queueing (JSON request, redirect, HEAD, a page that queues),
rendering pages, logging in as one of two users and logging out, through the Django test client,
never loses or repeats a call: every page shows exactly what a model of the queue says (each
call once, in order, on the first page rendered after it was queued; logout's close and clear;
the first identity after a login replaces), with database sessions and with signed cookies.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.template import engines
from django.test import Client, RequestFactory, override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from giosg_django import render
from giosg_django.visit import start, visit_of

from .support.jsengine import UNDEFINED, inline_scripts
from .support.views import giosg_call_tags

# --- (a) values -------------------------------------------------------------------------------

FRAGMENTS = [
    "</script>",
    "</SCRIPT >",
    "</script",
    "</scr",
    "<script>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "</script><script>window.__pwned='escaped'</script>",
    "';window.__pwned='quote';'",
    '"+(window.__pwned="concat")+"',
    "\u2028",
    "\u2029",
    "\ud800",
    "\udfff",
    "\udbff\udfff",
    "\x00",
    "\\",
    "\\u0000",
    '"',
    "'",
    "`${1}`",
    "&amp;",
    "&",
    "<",
    ">",
    "\r\n",
    "\ufeff",
    "__proto__",
]
SPECIAL_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "0", "-1"]

any_text = st.lists(
    st.text(st.characters(exclude_categories=()), max_size=6) | st.sampled_from(FRAGMENTS),
    max_size=4,
).map("".join)
# giosg's string arguments must not be blank.
text_arg = any_text.map(lambda text: text if text.strip() else text + "x")
numbers = st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
keys = any_text | st.sampled_from(SPECIAL_KEYS)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
variables = st.dictionaries(keys, json_values, max_size=5)
room = st.fixed_dictionaries(
    {"name": text_arg}, optional={"id": text_arg, "extra": json_values, "__proto__": json_values}
)
rooms = room | st.lists(room, min_size=1, max_size=3)


class Spec(NamedTuple):
    """One call: giosg's name, the Python arguments, and the arguments giosg's queue gets."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    expected: list[Any]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    kind = draw(
        st.sampled_from(
            [
                "goal.matches",
                "visitor.submit",
                "visitor.remove",
                "visitor.setIdentifier",
                "visitor.removeAll",
                "room.join",
                "room.leave",
                "chat.close",
                "chat.startTask",
                "call.start",
            ]
        )
    )
    if kind == "goal.matches":
        goal = draw(text_arg)
        value = draw(st.none() | numbers)
        if value is None:
            return Spec(kind, (goal,), {}, [goal])
        return Spec(kind, (goal,), {"value": value}, [goal, {"value": value}])
    if kind == "visitor.submit":
        data = draw(variables)
        replace = draw(st.booleans())
        where = draw(st.none() | rooms)
        kwargs: dict[str, Any] = {"replace_existing": replace, "rooms": where, "signed": False}
        if where is None:
            return Spec(kind, (data,), kwargs, [data, "plain", True] if replace else [data])
        return Spec(kind, (data,), kwargs, [data, "plain", replace, where])
    if kind in ("visitor.remove", "visitor.setIdentifier"):
        text = draw(text_arg)
        return Spec(kind, (text,), {}, [text])
    if kind in ("visitor.removeAll", "room.leave"):
        where = draw(rooms)
        return Spec(kind, (where,), {}, [where])
    if kind == "room.join":
        how = draw(st.sampled_from(["rooms", "id", "name", "both"]))
        if how == "rooms":
            where = draw(rooms)
            return Spec(kind, (where,), {}, [where])
        given_: dict[str, Any] = {
            key: draw(text_arg) for key in (["id", "name"] if how == "both" else [how])
        }
        return Spec(kind, (), given_, [given_])
    if kind == "chat.close":
        options: dict[str, Any] = {
            "all": draw(st.booleans()),
            "hide": draw(st.booleans()),
            "id": draw(text_arg),
            "name": draw(text_arg),
            "clear_history": draw(st.booleans()),
            "message": draw(text_arg),
            "message_sender": draw(text_arg),
        }
        camel = {
            "all": options["all"],
            "hide": options["hide"],
            "id": options["id"],
            "name": options["name"],
            "clearHistory": options["clear_history"],
            "message": options["message"],
            "messageSender": options["message_sender"],
        }
        return Spec(kind, (), options, [camel])
    if kind == "chat.startTask":
        message, room_id = draw(text_arg), draw(text_arg)
        anonymous, data = draw(st.booleans()), draw(variables)
        kwargs = {"room_id": room_id, "anonymous": anonymous, "variables": data}
        return Spec(kind, (message,), kwargs, [{"message": message}, room_id, anonymous, data])
    operator, avatar, room_id = draw(text_arg), draw(text_arg), draw(text_arg)
    call_kind = draw(st.sampled_from(["audio", "video", "audio+video"]))
    kwargs = {"avatar_url": avatar, "kind": call_kind, "room_id": room_id}
    return Spec("call.start", (operator,), kwargs, [operator, avatar, call_kind, room_id])


def utf16(text: str) -> str:
    """``text`` as a JS string sees it: UTF-16 code units, where two surrogates that are lone
    in Python ("\\ud800" "\\udc00") are one character (U+10000)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def same(got: Any, want: Any) -> bool:
    """JSON equality that keeps kinds apart (``True`` is not ``1``), numbers by value, text
    as JS sees it."""
    if isinstance(want, bool) or want is None or want is UNDEFINED:
        return got is want
    if isinstance(want, (int, float)):
        # Compared as the double JS holds: node prints 3.8765027201915264e16 as
        # 38765027201915260, which Python reads as an int that is not exactly the float.
        return (
            not isinstance(got, bool)
            and isinstance(got, (int, float))
            and math.isfinite(got)
            and float(got) == float(want)
        )
    if isinstance(want, str):
        return isinstance(got, str) and got == utf16(want)
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and set(got) == {utf16(key) for key in want}
            and all(same(got[utf16(key)], value) for key, value in want.items())
        )
    raise TypeError(want)


def page(snippets: list[str]) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        + "".join(snippets)
        + "</head><body><p id='end'>end</p></body></html>"
    )


def script_text(snippet: str) -> str:
    assert snippet.startswith("<script>") and snippet.endswith("</script>"), snippet[:80]
    return snippet[len("<script>") : -len("</script>")]


def check_page(js_engine: Any, snippets: list[str], expected: list[list[Any]]) -> None:
    html = page(snippets)
    scripts = inline_scripts(html)
    # The parser ends every script exactly where we did: nothing in a value ended one early.
    assert [s["text"] for s in scripts] == [script_text(snippet) for snippet in snippets]
    for s in scripts:
        lowered = s["text"].lower()
        assert "</" not in lowered and "<!--" not in lowered and "<script" not in lowered
    result = js_engine.run(html)
    assert result.errors == []
    assert result.pwned is None
    assert result.calls is not None
    assert len(result.calls) == len(expected), (result.calls, expected)
    for got, want in zip(result.calls, expected, strict=True):
        assert same(got, want), (got, want)


def request_for_page() -> Any:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    start(request)
    return request


CALLS_SETTINGS = hypothesis_settings(max_examples=200, deadline=None, database=None)


@CALLS_SETTINGS
@given(calls=st.lists(specs(), min_size=1, max_size=4))
def test_render_giosg_call_delivers_any_value_exactly(js_engine: Any, calls: list[Spec]) -> None:
    with override_settings(DEBUG=True):  # a fault raises instead of leaving the call out
        request = request_for_page()
        snippets = [
            str(render.giosg_call(request, spec.name, *spec.args, **spec.kwargs)) for spec in calls
        ]
    check_page(js_engine, snippets, [spec.name.split(".") + spec.expected for spec in calls])


@CALLS_SETTINGS
@given(calls=st.lists(specs(), min_size=1, max_size=4))
def test_the_giosg_call_tag_delivers_any_value_exactly(js_engine: Any, calls: list[Spec]) -> None:
    tags, context = giosg_call_tags(calls)
    template = engines["django"].from_string("{% load giosg %}" + "".join(tags))
    with override_settings(DEBUG=True):
        request = request_for_page()
        snippets = []
        for tag in tags:
            # One tag at a time, so each snippet is known on its own.
            single = engines["django"].from_string("{% load giosg %}" + tag)
            snippets.append(single.render(context, request))
        assert template.render(context, request_for_page()) == "".join(snippets)
    check_page(js_engine, snippets, [spec.name.split(".") + spec.expected for spec in calls])


PYTHON_NAMES = {
    "visitor.removeAll": "remove_all",
    "visitor.setIdentifier": "set_identifier",
    "chat.startTask": "start_task",
}


@CALLS_SETTINGS
@given(calls=st.lists(specs(), min_size=1, max_size=4))
def test_request_giosg_and_the_visitor_tag_deliver_any_value_exactly(
    js_engine: Any, calls: list[Spec]
) -> None:
    with override_settings(DEBUG=True):
        request = request_for_page()
        for spec in calls:
            module, method = spec.name.split(".")
            python = PYTHON_NAMES.get(spec.name, method)
            getattr(getattr(request.giosg, module), python)(*spec.args, **spec.kwargs)
        snippet = engines["django"].from_string("{% load giosg %}{% giosg_visitor %}")
        html = snippet.render({}, request)
    assert visit_of(request).rendered_upto == len(calls)  # all of them rendered, none left waiting
    check_page(js_engine, [html], [spec.name.split(".") + spec.expected for spec in calls])


# --- (b) interleavings ------------------------------------------------------------------------

ACTIONS = ["json", "redirect", "head", "queue-page", "page", "login-ada", "login-bob", "logout"]
LOGIN_GOAL: list[Any] = ["goal", "matches", "login-goal"]
LOGOUT_CALLS: list[list[Any]] = [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]


class Model:
    """What giosg's queue must receive: calls waiting, who is signed in, and whether a login
    happened since the last page (then the identity replaces what was attached)."""

    def __init__(self) -> None:
        self.waiting: list[list[Any]] = []
        self.user: str | None = None
        self.replace = False

    def page(self) -> list[list[Any]]:
        shown = list(self.waiting)
        if self.user is not None:
            submit: list[Any] = ["visitor", "submit", {"username": self.user}]
            shown.append([*submit, "plain", True] if self.replace else submit)
        self.waiting, self.replace = [], False
        return shown


def shown_calls(js_engine: Any, response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    result = js_engine.run(response.content.decode())
    assert result.errors == []
    return result.calls or []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "engine",
    ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.signed_cookies"],
    ids=["db", "signed_cookies"],
)
@hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(st.sampled_from(ACTIONS), max_size=20))
def test_no_interleaving_loses_or_repeats_a_call(
    engine: str, actions: list[str], js_engine: Any
) -> None:
    users = get_user_model().objects
    for name in ("ada", "bob"):
        if not users.filter(username=name).exists():
            users.create_user(name, "", "pw")
    giosg = {**settings.GIOSG, "LOGIN_GOAL": "login-goal"}
    with override_settings(SESSION_ENGINE=engine, GIOSG=giosg):
        client = Client()
        model = Model()
        for n, action in enumerate(actions):
            goal = f"g{n}-{action}"
            if action == "json":
                assert client.get(f"/queue/{goal}/json/").status_code == 200
                model.waiting.append(["goal", "matches", goal])
            elif action == "redirect":
                assert client.get(f"/queue/{goal}/redirect/").status_code == 302
                model.waiting.append(["goal", "matches", goal])
            elif action == "head":
                response = client.head(f"/queue/{goal}/page/")
                assert response.status_code == 200 and response.content == b""
                model.waiting.append(["goal", "matches", goal])
            elif action == "queue-page":
                response = client.get(f"/queue/{goal}/page/")
                model.waiting.append(["goal", "matches", goal])
                assert shown_calls(js_engine, response) == model.page(), (n, actions)
            elif action == "page":
                assert shown_calls(js_engine, client.get("/page/")) == model.page(), (n, actions)
            elif action.startswith("login-"):
                name = action.removeprefix("login-")
                response = client.post("/accounts/login/", {"username": name, "password": "pw"})
                assert response.status_code == 302
                model.waiting.append(LOGIN_GOAL)
                model.user, model.replace = name, True
            else:
                assert client.post("/accounts/logout/").status_code == 302
                model.waiting.extend(LOGOUT_CALLS)
                model.user = None
        # Whatever still waits arrives on the next page, and nothing after it.
        assert shown_calls(js_engine, client.get("/page/")) == model.page(), actions
        assert shown_calls(js_engine, client.get("/page/")) == model.page(), actions
