"""The page client, ``giosg_django/static/giosg_django/giosg.js``, run directly in node: the file
itself, its inlined form (``giosg.min.js``, terser's output of it), the names it shares with
Python, and what it believes of the logout times that page scripts can write (localStorage, the
``giosg:calls`` event)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import giosg_django
from giosg_django import js

from .conftest import missing
from .support.jsengine import NodeEngine

CLOSE = ["chat", "close", {"hide": True}]
CLEAR = ["visitor", "removeAll"]
LOGOUT = [CLOSE, CLEAR]
GOAL = ["goal", "matches", "g1"]
PACKAGE = Path(giosg_django.__file__).parent
SOURCE_LINES = js.CLIENT_SOURCE.splitlines()
YEAR_5138_MS = 99_999_999_999_999


def now_ms() -> int:
    return int(time.time() * 1000)


def page(render_ms: int, client: str = js.CLIENT) -> str:
    """What {% giosg_visitor %} puts on a page with one waiting goal: the client, its glue, and
    the goal behind the stale-page guard."""
    glue = js.client(render_ms, LOGOUT)[len(js.CLIENT) :]
    return js.QUEUE + client + glue + js.unless_stale(js.call(*GOAL[:2], GOAL[2:]))


def run(engine: NodeEngine, *scripts: str, storage: dict[str, str] | None = None) -> Any:
    data = engine.run_scripts(list(scripts), storage)
    assert data["errors"] == []
    return data


# --- the file and its inlined form --------------------------------------------------------------


JS_TOOLS = Path(__file__).parent / "js"


def test_the_inlined_form_is_terser_output_of_the_file_now() -> None:
    """T7: giosg.min.js, which pages carry, is what ``make client`` makes of giosg.js as it is
    now (a change to the file without ``make client`` fails here), and much smaller."""
    if not (JS_TOOLS / "node_modules" / ".bin" / "terser").exists():
        missing("terser", "run `make client` once (npm installs tests/js/ from its lock file)")
    made = subprocess.run(
        ["npm", "run", "--silent", "minify"],
        cwd=JS_TOOLS,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert made.strip() == js.CLIENT
    assert (PACKAGE / "static" / "giosg_django" / "giosg.min.js").read_text("utf-8") == made
    assert len(js.CLIENT) < len(js.CLIENT_SOURCE) / 4


def test_the_inlined_form_cannot_end_its_script() -> None:
    """T1: inlined in a <script>, the client holds nothing that ends the script or puts the
    HTML parser in its escaped state, and ends its own statement (the glue follows it)."""
    for text in (js.CLIENT_SOURCE, js.CLIENT):
        assert not re.search(r"</script|<script|<!--", text, re.IGNORECASE)
    assert js.CLIENT.endswith(";")


@pytest.mark.parametrize("form", ["file", "inlined"])
def test_the_file_and_its_inlined_form_behave_alike(js_engine: NodeEngine, form: str) -> None:
    """T7: the readable file and what pages carry do the same thing (start, calls, a logout
    recorded for the other pages, a stale page)."""
    client = js.CLIENT_SOURCE if form == "file" else js.CLIENT
    render = now_ms()
    fresh = run(
        js_engine, page(render, client), js.marker(js.MARKER_MODULE, js.LOGGED_OUT, [render])
    )
    assert fresh["calls"] == [GOAL]
    assert fresh["storage"] == {js.STORAGE_KEY: str(render)}
    assert {f"document:{js.EVENT}", "window:storage", "window:pageshow"} <= set(fresh["listeners"])
    stale = run(js_engine, page(render - 5000, client), storage=fresh["storage"])
    assert stale["calls"] == LOGOUT


def test_the_names_python_uses_are_read_from_the_file(js_engine: NodeEngine) -> None:
    """T7: the strings JS and Python share have one source, the NAMES object of giosg.js: each
    appears once in the file, and no Python module of the package spells one out."""
    assert js.NAMES == {
        "event": "giosg:calls",
        "storageKey": "giosg_django:logout",
        "markerModule": "giosg_django",
        "loggedOut": "loggedOut",
        "global": "giosgDjango",
        "symbol": "giosg_django.client",
        "hint": "giosg_django_sync",
        "signedIn": "giosg_django_in",
        "seenKey": "giosg_django:seen",
    }
    for value in js.NAMES.values():
        assert js.CLIENT.count(f'"{value}"') == 1, value  # comments aside
    for module in PACKAGE.glob("**/*.py"):
        text = re.sub(r'NAMES\["\w+"\]', "", module.read_text("utf-8"))
        for name in ("event", "storageKey", "loggedOut", "global"):
            assert f'"{js.NAMES[name]}"' not in text, (module, name)
    # And they are the ones the client uses.
    data = run(js_engine, page(now_ms()), "giosgDjango.loggedOut(Date.now() - 1000);")
    assert f"document:{js.EVENT}" in data["listeners"]
    assert list(data["storage"]) == [js.STORAGE_KEY]


def test_js_reads_each_shared_name() -> None:
    assert js.shared_names('var NAMES = {\n  a: "x",\n  b: "y:z",\n};') == {"a": "x", "b": "y:z"}
    with pytest.raises(RuntimeError):
        js.shared_names("var names = {};")


# --- forged logout times ------------------------------------------------------------------------

FORGED = ["1e308", "Infinity", "-Infinity", "NaN", "abc", "", "0x7fffffffffffffff", "[]"]


@pytest.mark.parametrize(
    "stored", [*FORGED, str(YEAR_5138_MS), "in two hours"], ids=lambda value: value or "empty"
)
def test_a_forged_logout_time_in_storage_silences_nothing(
    js_engine: NodeEngine, stored: str
) -> None:
    """T5: a page script that wrote a time far past the server's clock (or no time at all) into
    localStorage does not make later pages run only the logout calls; a real logout afterwards
    is still recorded for the other pages."""
    if stored == "in two hours":
        stored = str(now_ms() + 2 * 3600_000)
    data = run(
        js_engine,
        page(now_ms()),
        "_giosg('stale', giosgDjango.stale()); giosgDjango.out();",
        storage={js.STORAGE_KEY: stored},
    )
    assert data["calls"] == [GOAL, ["stale", False]]
    assert data["storage"] == {js.STORAGE_KEY: stored}  # not rewritten by the page either
    logout = now_ms()
    data = run(
        js_engine, page(now_ms()), f"giosgDjango.loggedOut({logout});", storage=data["storage"]
    )
    assert data["storage"] == {js.STORAGE_KEY: str(logout)}


@pytest.mark.parametrize(
    "forged",
    [1e308, "Infinity", YEAR_5138_MS, "1e308", "in two hours", None, {"valueOf": 1}],
    ids=repr,
)
def test_a_forged_logged_out_event_is_neither_stored_nor_kept(
    js_engine: NodeEngine, forged: Any
) -> None:
    """T5: a page script dispatching giosg:calls with a loggedOut marker at a time past the
    server's clock: nothing is stored, this page keeps running its calls, later pages too."""
    if forged == "in two hours":
        forged = now_ms() + 2 * 3600_000
    marker = js.dumps([[js.MARKER_MODULE, js.LOGGED_OUT, forged]])
    data = run(
        js_engine,
        page(now_ms()),
        f"__fire('document:{js.EVENT}', {{detail: {{calls: {marker}}}}});"
        "_giosg('t', giosgDjango.t <= Date.now(), giosgDjango.stale());",
    )
    assert data["calls"] == [GOAL, ["t", True, False]]
    assert data["storage"] == {}


def test_a_real_logged_out_event_is_stored(js_engine: NodeEngine) -> None:
    """T2: the logout marker an htmx response carries is still recorded for the other pages."""
    logout = now_ms()
    marker = js.dumps([[js.MARKER_MODULE, js.LOGGED_OUT, logout]])
    data = run(
        js_engine,
        page(logout - 10_000),
        f"__fire('document:{js.EVENT}', {{detail: {{calls: {marker}}}}});",
    )
    assert data["storage"] == {js.STORAGE_KEY: str(logout)}


@pytest.mark.parametrize("forged", [*FORGED, str(YEAR_5138_MS)], ids=lambda value: value or "empty")
def test_a_storage_event_with_a_forged_time_runs_nothing(
    js_engine: NodeEngine, forged: str
) -> None:
    """T5: another tab's script writing a forged time into localStorage fires "storage" here:
    it does not close this page's chat; a real logout afterwards does, once."""
    real = now_ms()
    fire = "__fire('window:storage', {{key: {key}, newValue: {value}}});"
    data = run(
        js_engine,
        page(real - 10_000),
        fire.format(key=js.dumps(js.STORAGE_KEY), value=js.dumps(forged)),
        fire.format(key=js.dumps("other"), value=js.dumps(str(real))),
        "_giosg('real logout next');",
        fire.format(key=js.dumps(js.STORAGE_KEY), value=js.dumps(str(real))),
        fire.format(key=js.dumps(js.STORAGE_KEY), value=js.dumps(str(real))),
    )
    assert data["calls"] == [GOAL, ["real logout next"], *LOGOUT]


def test_a_page_from_the_http_cache_still_sees_a_real_logout(js_engine: NodeEngine) -> None:
    """T2: a copy rendered an hour ago, shown again after a logout ten minutes ago: the logout
    is believed (it is not past the browser's clock), so the copy's identity is not sent."""
    logout = now_ms() - 600_000
    data = run(js_engine, page(now_ms() - 3600_000), storage={js.STORAGE_KEY: str(logout)})
    assert data["calls"] == LOGOUT


def test_a_browser_clock_behind_the_server_still_takes_real_logouts(js_engine: NodeEngine) -> None:
    """T2: the browser's clock an hour behind the server's: a logout in another tab, at the
    server's time, is still within the page's estimate of the server's clock."""
    server_now = now_ms()
    data = run(
        js_engine,
        "Date.now = (now => () => now() - 3600000)(Date.now);",
        page(server_now),
        f"__fire('window:storage', {{key: {js.dumps(js.STORAGE_KEY)}, "
        f"newValue: {js.dumps(str(server_now + 1000))}}});",
    )
    assert data["calls"] == [GOAL, *LOGOUT]


# --- hostile input and a clobbered page ---------------------------------------------------------


def test_run_skips_what_is_not_a_call(js_engine: NodeEngine) -> None:
    """T5: an event detail a page script forged, or garbage: no exception, only calls run."""
    data = run(
        js_engine,
        page(now_ms()),
        "giosgDjango.run(null); giosgDjango.run('x'); giosgDjango.run({length: 2});",
        "giosgDjango.run([1, null, 'goal', ['goal', 'matches', 'g2', null]]);",
        f"__fire('document:{js.EVENT}', {{}}); __fire('document:{js.EVENT}', {{detail: 1}});",
    )
    assert [call[:3] for call in data["calls"]] == [GOAL, ["goal", "matches", "g2"]]
    assert data["calls"][1] == ["goal", "matches", "g2", {"$undefined": True}]


def test_the_client_replaces_a_queue_that_is_no_function(js_engine: NodeEngine) -> None:
    """T5: with window._giosg something other than a function (a named element is one), the
    queue the client and the snippets define still takes the calls."""
    data = run(js_engine, "window._giosg = {_e: 'clobbered'};", page(now_ms()))
    assert data["calls"] == [GOAL]


def test_one_client_per_page(js_engine: NodeEngine) -> None:
    """T5/T7: a second copy (a second tag, a page swapped in by htmx) keeps the first client
    and its data; window.giosgDjango is the client, and no script can replace it by assignment."""
    first = now_ms() - 5000
    data = run(
        js_engine,
        page(first),
        "var first = giosgDjango;",
        page(first + 1000),
        "giosgDjango = {}; _giosg('same', giosgDjango === first, giosgDjango.t);",
    )
    assert data["calls"] == [GOAL, GOAL, ["same", True, first]]
