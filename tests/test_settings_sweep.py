"""Every ``GIOSG`` setting given a wrong value, one at a time: the site stays up.

For each key of ``conf.DEFAULTS`` (the sweep must cover every key: a key added later fails
``test_the_sweep_covers_every_setting`` until it is added here), values of the wrong type,
and, where a callable is allowed, callables that raise or return the wrong type. With
``DEBUG`` off, on WSGI (test client) and ASGI (``AsyncClient``, async views): pages with the
tag render, login and logout through Django's real views work, JSON views work, and nothing
logged carries the signing key. ``manage.py check`` reports an error for each wrong type, with
``DEBUG`` off and on, and never the value of ``SIGNING_KEY``. (With ``DEBUG`` on a fault may
raise at run time: that is the point of ``DEBUG``.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.checks import ERROR, run_checks
from django.http import HttpRequest
from django.test import AsyncClient, Client, override_settings

from giosg_django.conf import DEFAULTS

pytestmark = pytest.mark.django_db

FRAGMENT = "Zq7vXp9LwK3mTr"
KEY = FRAGMENT * 5
# The settings every case starts from: signing, a login goal and an identifier, so that each
# wrong value meets the code that reads it.
BASE = {
    "SIGNING_KEY": KEY,
    "LOGIN_GOAL": "login-goal",
    "VISITOR_IDENTIFIER": "tests.support.views.identifier",
}


def raises(request: HttpRequest) -> Any:
    raise RuntimeError("the settings callable is down")


def returns(value: Any) -> Any:
    def callable_setting(request: HttpRequest) -> Any:
        return value

    return callable_setting


@dataclass(frozen=True)
class Wrong:
    label: str
    value: Any
    # A wrong type manage.py check can see; a callable's result it cannot.
    check_error: bool = True


def callables(*results: tuple[str, Any]) -> list[Wrong]:
    """A raising callable, and callables returning each wrong result (valid to the checks)."""
    return [
        Wrong("raising-callable", raises, check_error=False),
        *(
            Wrong(f"callable-returning-{label}", returns(v), check_error=False)
            for label, v in results
        ),
    ]


NOT_A_FUNCTION = "tests.no_such_module.function"
BOOL = [Wrong("str", "no"), Wrong("none", None), Wrong("int", 1), Wrong("list", [])]
POSITIVE_INT = [
    Wrong("zero", 0),
    Wrong("negative", -1),
    Wrong("str", "50"),
    Wrong("none", None),
    Wrong("float", 1.5),
    Wrong("bool", True),
]

SWEEP: dict[str, list[Wrong]] = {
    "COMPANY_ID": [
        Wrong("int", 1234),
        Wrong("bytes", b"test-company"),
        Wrong("list", ["test-company"]),
        *callables(("bytes", b"test-company"), ("int", 0), ("false", False)),
    ],
    "HOST": [
        Wrong("none", None),  # an unset environment variable
        Wrong("int", 8000),
        Wrong("bytes", b"https://service.giosg.test"),
        Wrong("no-scheme", "service.giosg.test"),
        Wrong("with-path", "https://service.giosg.test/live2"),
        Wrong("javascript", "javascript:alert(1)"),
    ],
    "SIGNING_KEY": [
        Wrong("bytes", KEY.encode()),
        Wrong("bytearray", bytearray(KEY.encode())),
        Wrong("int", 12345678901234567890),
        Wrong("not-utf8-encodable", "\ud800" + KEY),
        *callables(("bytes", KEY.encode()), ("false", False), ("zero", 0)),
    ],
    "SIGNING_ALGORITHM": [Wrong("rs256", "RS256"), Wrong("none", None), Wrong("int", 256)],
    "TOKEN_TTL": POSITIVE_INT,
    "VISITOR_VARIABLES": [
        Wrong("dict", {"username": "x"}),
        Wrong("int", 42),
        Wrong("path-that-does-not-import", NOT_A_FUNCTION),
        *callables(("str", "ada"), ("list", [("username", "ada")])),
    ],
    "VISITOR_IDENTIFIER": [
        Wrong("int", 42),
        Wrong("path-that-does-not-import", NOT_A_FUNCTION),
        *callables(("int", 42), ("blank", "  ")),
    ],
    "CLOSE_CHAT_ON_LOGOUT": BOOL,
    "CLEAR_VARIABLES_ON_LOGOUT": BOOL,
    "LOGIN_GOAL": [
        Wrong("int", 7),
        Wrong("list", ["login-goal"]),
        Wrong("bytes", b"login-goal"),
        Wrong("blank", "   "),
        Wrong("empty", ""),
    ],
    "ENABLED": [
        Wrong("none", None),
        Wrong("int", 1),
        Wrong("path-that-does-not-import", NOT_A_FUNCTION),
        Wrong("raising-callable", raises, check_error=False),
    ],
    "AUTO_INJECT": BOOL,
    "MAX_PENDING": POSITIVE_INT,
    "HTMX": BOOL,
    "CROSS_TAB_LOGOUT": BOOL,
    "IDENTIFY_IMPERSONATED": BOOL,
    "MAX_PENDING_BYTES": POSITIVE_INT,
    "PENDING_STORAGE": [
        Wrong("path-that-does-not-import", "tests.no_such_module.Storage"),
        Wrong("not-a-storage", "giosg_django.storage.get_storage"),
        Wrong("int", 5),
        Wrong("none", None),
    ],
    "PENDING_CACHE": [Wrong("int", 1), Wrong("none", None), Wrong("list", ["default"])],
}

CASES = [
    pytest.param(key, wrong, id=f"{key}-{wrong.label}")
    for key, values in SWEEP.items()
    for wrong in values
]


def giosg(key: str, wrong: Wrong) -> override_settings:
    if key not in DEFAULTS:
        pytest.skip(f"{key} is not a setting of this version")
    return override_settings(GIOSG={**settings.GIOSG, **BASE, key: wrong.value})


def test_the_sweep_covers_every_setting() -> None:
    """T7: a setting added to conf.DEFAULTS must be swept too (add its wrong values above)."""
    assert set(DEFAULTS) <= set(SWEEP), f"not swept: {sorted(set(DEFAULTS) - set(SWEEP))}"


# --- run time, DEBUG off: never an error response ------------------------------------------------


def assert_no_key(caplog: Any) -> None:
    for record in caplog.records:
        text = logging.Formatter().format(record)
        assert FRAGMENT not in text, f"the signing key is in the log record: {record.msg}"


@pytest.mark.parametrize(("key", "wrong"), CASES)
def test_wsgi_stays_up(key: str, wrong: Wrong, ada: Any, js_engine: Any, caplog: Any) -> None:
    """T7: pages with the tag, htmx, a JSON view, login and logout through Django's views."""
    client = Client()  # raises what the view raised, so a 500 fails here with its traceback
    with giosg(key, wrong), caplog.at_level(logging.DEBUG, logger="giosg_django"):
        assert client.get("/page/").status_code == 200
        login = client.post("/accounts/login/", {"username": "ada", "password": "pw"})
        assert (login.status_code, login["Location"]) == (302, "/page/")
        page = client.get("/page/")
        assert page.status_code == 200
        assert js_engine.run(page.content.decode()).errors == []
        assert client.get("/queue/g1/json/").json() == {"queued": "g1"}
        htmx = client.get("/queue/g2/fragment/", headers={"HX-Request": "true"})
        assert htmx.status_code == 200
        assert client.get("/inject/full/").status_code == 200
        logout = client.post("/accounts/logout/")
        assert (logout.status_code, logout["Location"]) == (302, "/page/")
        after = client.get("/page/")
        assert after.status_code == 200
        assert js_engine.run(after.content.decode()).errors == []
    assert_no_key(caplog)


@pytest.mark.parametrize(("key", "wrong"), CASES)
def test_asgi_stays_up(key: str, wrong: Wrong, ada: Any, caplog: Any) -> None:
    """T7: the same on the async path: async views with the tag, a JSON view, Django's login
    and logout views served by the ASGI handler."""

    async def visit() -> None:
        client = AsyncClient()
        assert (await client.get("/async/page/")).status_code == 200
        login = await client.post("/accounts/login/", {"username": "ada", "password": "pw"})
        assert (login.status_code, login["Location"]) == (302, "/page/")
        assert (await client.get("/async/template/")).status_code == 200
        assert (await client.get("/async/in-loop/")).status_code == 200
        assert (await client.get("/async/queue/g1/")).json() == {"queued": "g1"}
        assert (await client.get("/inject/async-full/")).status_code == 200
        logout = await client.post("/accounts/logout/")
        assert (logout.status_code, logout["Location"]) == (302, "/page/")
        assert (await client.get("/async/template/")).status_code == 200

    with giosg(key, wrong), caplog.at_level(logging.DEBUG, logger="giosg_django"):
        async_to_sync(visit)()
    assert_no_key(caplog)


# --- manage.py check, DEBUG off and on -------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(("key", "wrong"), CASES)
def test_check_reports_each_wrong_type(key: str, wrong: Wrong, debug: bool) -> None:
    """T7: each wrong type is an error that names the key; T3: never the key's value."""
    with giosg(key, wrong), override_settings(DEBUG=debug, ROOT_URLCONF="tests.test_checks"):
        messages = [m for m in run_checks() if (m.id or "").startswith("giosg.")]
    errors = [m for m in messages if m.level >= ERROR and f"GIOSG[{key!r}]" in m.msg]
    if wrong.check_error:
        assert errors, f"no check error for GIOSG[{key!r}] = {wrong.label}"
    else:
        assert errors == []  # a callable is valid; what it returns is the run time's business
    for message in messages:
        text = f"{message.msg} {message.hint} {message!r}"
        assert FRAGMENT not in text and "1234567890" not in text
