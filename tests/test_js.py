"""``giosg_django.js``: the exact text it writes, and what a real JS engine makes of it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from giosg_django import js
from giosg_django.js import QUEUE, call, calls, dumps, loader

from .support.jsengine import UNDEFINED, NodeEngine

HOST = "https://service.giosg.test"


# --- dumps: exact text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("<", '"\\u003C"'),
        (">", '"\\u003E"'),
        ("&", '"\\u0026"'),
        ("</script><!--", '"\\u003C/script\\u003E\\u003C!--"'),
        ("a&b<c>d", '"a\\u0026b\\u003Cc\\u003Ed"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("é€", '"\\u00e9\\u20ac"'),
        ("\U0001f600", '"\\ud83d\\ude00"'),
        ('\x00\n\t"\\/', '"\\u0000\\n\\t\\"\\\\/"'),
        ({"a": [1, 2.5, True, None], "b": {}}, '{"a":[1,2.5,true,null],"b":{}}'),
        ({"k<": ">v"}, '{"k\\u003C":"\\u003Ev"}'),
        ([], "[]"),
        (None, "null"),
        (0, "0"),
    ],
    ids=repr,
)
def test_dumps_exact_text(value: Any, text: str) -> None:
    assert dumps(value) == text


def test_dumps_output_is_ascii_and_html_inert() -> None:
    text = dumps({"x": "</SCRIPT>\u2028<!--é&amp;", "y>": ["<b>"]})
    assert text.isascii()
    assert not set("<>&") & set(text)
    assert "\u2028" not in text
    # Still the same value as JSON.
    assert json.loads(text) == {"x": "</SCRIPT>\u2028<!--é&amp;", "y>": ["<b>"]}


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, {"a": [1, {"b": math.nan}]}, [math.inf]],
    ids=repr,
)
def test_dumps_refuses_nan_and_infinity(value: Any) -> None:
    with pytest.raises(ValueError):
        dumps(value)


# --- dumps: __proto__ -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"__proto__": {"x": 1}}, '{["__proto__"]:{"x":1}}'),
        ({"a": 1, "__proto__": 2}, '{"a":1,["__proto__"]:2}'),
        ([{"b": {"__proto__": None}}], '[{"b":{["__proto__"]:null}}]'),
        ({"__proto__": "<"}, '{["__proto__"]:"\\u003C"}'),
    ],
    ids=repr,
)
def test_proto_member_key_is_computed(value: Any, text: str) -> None:
    assert dumps(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("__proto__", '"__proto__"'),
        (["a", "__proto__"], '["a","__proto__"]'),
        ({"a": "__proto__"}, '{"a":"__proto__"}'),
        ({"a": '"__proto__":'}, '{"a":"\\"__proto__\\":"}'),
        ({"a": '{"__proto__":1}'}, '{"a":"{\\"__proto__\\":1}"}'),
        ({"a": ',"__proto__":1'}, '{"a":",\\"__proto__\\":1"}'),
        ({'x","__proto__":1,"y': 2}, '{"x\\",\\"__proto__\\":1,\\"y":2}'),
        ({"__proto__x": 1, " __proto__": 2}, '{"__proto__x":1," __proto__":2}'),
    ],
    ids=repr,
)
def test_proto_inside_strings_left_alone(value: Any, text: str) -> None:
    assert dumps(value) == text


# --- call / calls / loader text ---------------------------------------------------------------


def test_call_renders_top_level_none_as_undefined() -> None:
    text = call("call", "start", ["Op", None, "audio", {"a": None}])
    assert text == '_giosg("call","start","Op",undefined,"audio",{"a":null});'


def test_call_without_args() -> None:
    assert call("chat", "close", []) == '_giosg("chat","close");'


def test_call_escapes_module_method_and_args() -> None:
    text = call("a</script>", "b", ["<!--"])
    assert text == '_giosg("a\\u003C/script\\u003E","b","\\u003C!--");'


def test_call_refuses_nan() -> None:
    with pytest.raises(ValueError):
        call("goal", "matches", ["g", {"value": math.nan}])


def test_calls_start_with_the_queue() -> None:
    assert calls([]) == QUEUE
    assert calls(["a();", "b();"]) == QUEUE + "a();b();"
    assert calls(iter(["c();"])) == QUEUE + "c();"
    assert QUEUE.startswith('(function(w,o){if(typeof w[o]!=="function")w[o]=function(){')
    assert QUEUE.endswith('(window,"_giosg");')


def test_loader_text_has_host_and_company_as_json_literals() -> None:
    text = loader("https://service.giosg.test/", "co-1")
    assert 'h="https://service.giosg.test",' in text
    assert 'https://service.giosg.test/"' not in text
    assert text.endswith('})(window,document,"co-1");')
    assert "'/live2/'" in text


def test_loader_strips_every_trailing_slash() -> None:
    assert 'h="https://h.test",' in loader("https://h.test///", "c")


def test_loader_escapes_hostile_settings() -> None:
    text = loader('https://h.test/"</script>', '"+alert(1)+"<!--')
    assert "</" not in text and "<!--" not in text
    assert dumps('https://h.test/"</script>') in text
    assert dumps('"+alert(1)+"<!--') in text


# --- in a JS engine ---------------------------------------------------------------------------


def check(js_engine: NodeEngine, *scripts: str) -> list[list[Any]]:
    data = js_engine.run_scripts(list(scripts))
    assert data["errors"] == []
    assert data["pwned"] is None
    result: list[list[Any]] = data["calls"]
    return result


PROTO_PROBE = (
    "_giosg('probe', Object.getPrototypeOf(v) === Object.prototype, Object.keys(v), "
    "Object.getOwnPropertyDescriptor(v, '__proto__') ? "
    "Object.getOwnPropertyDescriptor(v, '__proto__').value : null, "
    "v.x === undefined, ({}).x === undefined);"
)


def test_proto_key_arrives_as_own_key(js_engine: NodeEngine) -> None:
    value = {"__proto__": {"x": 1}, "a": 2}
    result = check(js_engine, QUEUE + f"var v = {dumps(value)};" + PROTO_PROBE)
    assert result == [["probe", True, ["__proto__", "a"], {"x": 1}, True, True]]


def test_proto_probe_sees_a_plain_literal_set_the_prototype(js_engine: NodeEngine) -> None:
    # The probe above can fail: the same value as plain JSON text in a literal is not a key.
    value = {"__proto__": {"x": 1}, "a": 2}
    result = check(js_engine, QUEUE + f"var v = {json.dumps(value)};" + PROTO_PROBE)
    assert result == [["probe", False, ["a"], None, False, True]]


def test_dumps_evaluates_like_json_parse(js_engine: NodeEngine) -> None:
    value = {
        "__proto__": {"__proto__": [1, {"__proto__": "x"}]},
        "s": '"__proto__":</script>\u2028\u2029<!--&',
        "n": [1.5, -0, None, True],
        "é": "\U0001f600",
    }
    source = json.dumps(value)
    script = (
        QUEUE
        + f"var v = {dumps(value)}; var p = JSON.parse({dumps(source)});"
        + "_giosg('same', JSON.stringify(v) === JSON.stringify(p), v);"
    )
    assert check(js_engine, script) == [["same", True, value]]


def test_proto_in_a_call_reaches_the_queue_without_pollution(js_engine: NodeEngine) -> None:
    value = {"__proto__": {"polluted": 1}, "b": [{"__proto__": 2}]}
    script = calls([call("visitor", "submit", [value])])
    probe = "_giosg('clean', ({}).polluted === undefined, Object.prototype.polluted === undefined);"
    assert check(js_engine, script, probe) == [
        ["visitor", "submit", value],
        ["clean", True, True],
    ]


def test_undefined_and_null_arrive_apart(js_engine: NodeEngine) -> None:
    html = "<script>" + calls([call("call", "start", ["Op", None, "audio", [None]])]) + "</script>"
    result = js_engine.run(html)
    assert result.errors == []
    assert result.calls == [["call", "start", "Op", UNDEFINED, "audio", [None]]]


def test_hostile_text_in_a_call_stays_a_value(js_engine: NodeEngine) -> None:
    hostile = '</script><script>__pwned=1</script><!--\u2028"__proto__":'
    html = "<script>" + calls([call("visitor", "remove", [hostile])]) + "</script>"
    result = js_engine.run(html)
    assert len(result.scripts) == 1
    assert result.errors == []
    assert result.pwned is None
    assert result.calls == [["visitor", "remove", hostile]]


def test_call_before_loader_is_not_lost(js_engine: NodeEngine) -> None:
    data = js_engine.run_scripts(
        [
            calls([call("goal", "matches", ["g1"])]) + "var q = _giosg;",
            loader(HOST + "/", "co-1"),
            calls([call("goal", "matches", ["g2"])]) + "_giosg('same', _giosg === q);",
        ]
    )
    assert data["errors"] == []
    assert data["calls"] == [
        ["goal", "matches", "g1"],
        ["goal", "matches", "g2"],
        ["same", True],
    ]
    assert (data["company"], data["host"]) == ("co-1", HOST)


def test_loader_inserts_async_script(js_engine: NodeEngine) -> None:
    data = js_engine.run_scripts([loader(HOST, "co-1")])
    assert data["errors"] == []
    assert [item["src"] for item in data["inserted"]] == [HOST + "/live2/co-1"]
    assert data["inserted"][0]["async"] in (1, True)
    # The loader defines the queue itself when it comes first.
    assert data["calls"] is None
    data = js_engine.run_scripts([loader(HOST, "co-1"), "_giosg('after');"])
    assert data["calls"] == [["after"]]


def test_loader_with_hostile_company_id(js_engine: NodeEngine) -> None:
    company = '"+(__pwned=1)+"</script><!--'
    result = js_engine.run("<script>" + loader(HOST, company) + "</script>")
    assert result.errors == []
    assert result.pwned is None
    assert result.company == company
    assert result.inserted == [{"src": f"{HOST}/live2/{company}", "async": 1}]


def test_queue_matches_giosg_loader_definition() -> None:
    # The queue the snippets define is the one the loader defines, so either may come first.
    body = QUEUE.split("{", 1)[1].rsplit("}", 1)[0]
    assert body in js.loader(HOST, "c")
