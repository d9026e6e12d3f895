"""The signing key never reaches an error report, a log record or a frame an error tracker reads.

Each test makes something giosg-related fail while a signed-in visitor's page renders, with
``SIGNING_KEY`` set (a literal and a per-site callable), and looks for the key where people
with read access to errors would (T3): Django's DEBUG 500 page (it lists every frame's locals),
the e-mails of ``AdminEmailHandler`` (for ``django.request`` and for giosg's own logged
faults), log records with their traceback, and the traceback's frame locals as an error
tracker collects them (``str`` values as text, anything else by ``repr()``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import django
import pytest
from django.conf import settings
from django.core import mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import Client, override_settings
from django.urls import include, path
from django.utils.log import AdminEmailHandler

from giosg_django.conf import get_config

pytestmark = pytest.mark.django_db

# Letters only: it reads the same in HTML, in a repr() and in the bytes' repr.
FRAGMENT = "Zq7vXp9LwK3mTr"
KEY = f"giosg-{FRAGMENT * 4}"


def site_key(request: HttpRequest) -> str:
    """A per-site SIGNING_KEY callable."""
    return KEY


def raising_variables(request: HttpRequest) -> dict[str, Any]:
    return {"n": 1 / 0}


def bytes_key(request: HttpRequest) -> bytes:
    return KEY.encode()


KEYS: dict[str, Any] = {"literal": KEY, "callable": site_key}

# How the page's giosg part fails, and a function that frames of the failure pass through.
FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "variables-raise": ({"VISITOR_VARIABLES": raising_variables}, "identity_calls"),
    "unknown-algorithm": ({"SIGNING_ALGORITHM": "none"}, "args_as_sent"),
    "ttl-not-an-int": ({"TOKEN_TTL": "600"}, "args_as_sent"),
}
# SIGNING_KEY of the wrong type: the key's bytes, as a literal or returned by the callable.
BYTES_KEYS: dict[str, Any] = {"literal": KEY.encode(), "callable": bytes_key}


def boom(request: HttpRequest) -> HttpResponse:
    """A view that fails after giosg ran (its page signed), holding giosg's config and the
    site's key as a view that signs something of its own would."""
    config = get_config()
    key = config.signing_key(request)
    page = render(request, "page.html")
    raise RuntimeError(f"the view failed after rendering {len(page.content)} bytes, {key}")


urlpatterns = [path("boom/", boom), path("", include("tests.support.urls"))]


def cases() -> list[Any]:
    """(settings overlay, a function the failure passes through) for every fault x key kind."""
    found = []
    for fault, (overlay, through) in FAULTS.items():
        for kind, key in KEYS.items():
            found.append(
                pytest.param({**overlay, "SIGNING_KEY": key}, through, id=f"{fault}-{kind}")
            )
    for kind, key in BYTES_KEYS.items():
        found.append(pytest.param({"SIGNING_KEY": key}, "args_as_sent", id=f"bytes-key-{kind}"))
    return found


# Django 6.0 takes ADMINS as plain addresses and deprecates the (name, address) pairs of 5.2.
ADMINS = ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]


@pytest.fixture(autouse=True)
def _urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=__name__, ADMINS=ADMINS):
        yield


def giosg(overlay: dict[str, Any]) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


@pytest.fixture
def client_ada(ada: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(ada)
    return client


@pytest.fixture
def html_mail_on() -> Iterator[Callable[[str], None]]:
    """Attach an ``AdminEmailHandler(include_html=True)`` (frame locals in the e-mail) to a
    logger, as a project does to get full error reports."""
    attached: list[tuple[logging.Logger, logging.Handler]] = []

    def attach(name: str) -> None:
        handler = AdminEmailHandler(include_html=True)
        handler.setLevel(logging.ERROR)
        logging.getLogger(name).addHandler(handler)
        attached.append((logging.getLogger(name), handler))

    yield attach
    for logger, handler in attached:
        logger.removeHandler(handler)


def assert_no_key(text: str, where: str) -> None:
    assert FRAGMENT not in text, f"the signing key is in {where}"


def sent_text(message: Any) -> str:
    parts = [message.subject, message.body]
    parts.extend(str(content) for content, _mime in getattr(message, "alternatives", []))
    return "\n".join(parts)


def tracker_locals(tb: TracebackType | None) -> Iterator[tuple[str, str, str]]:
    """Every frame local of a traceback as an error tracker writes it (``str`` values,
    subclasses too, as text; anything else by ``repr()``): (function, name, text)."""
    while tb is not None:
        frame = tb.tb_frame
        for name, value in frame.f_locals.items():
            text = str.__str__(value) if isinstance(value, str) else repr(value)
            yield frame.f_code.co_name, name, text
        tb = tb.tb_next


# --- Django's DEBUG page -------------------------------------------------------------------


@pytest.mark.parametrize(("overlay", "through"), cases())
def test_the_debug_page_never_shows_the_key(
    client_ada: Client, overlay: dict[str, Any], through: str
) -> None:
    """T3: with DEBUG on the fault is raised and Django's 500 page lists every frame's locals
    (its sensitive_variables filter is off with DEBUG): the config and the key show masked."""
    with giosg(overlay), override_settings(DEBUG=True):
        response = client_ada.get("/page/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Local vars" in page and f"in {through}" in page  # the frames are all there
    assert "GiosgSettings(" in page and "SIGNING_KEY=********" in page
    assert_no_key(page, "the DEBUG page")


# --- AdminEmailHandler e-mails -------------------------------------------------------------


@pytest.mark.parametrize(("overlay", "through"), cases())
def test_giosg_faults_mailed_with_their_frames_never_carry_the_key(
    client_ada: Client,
    html_mail_on: Callable[[str], None],
    overlay: dict[str, Any],
    through: str,
) -> None:
    """T3: with DEBUG off the fault is logged (the page renders); a project mailing giosg's
    errors with include_html gets every frame's locals, filtered by sensitive_variables."""
    html_mail_on("giosg_django")
    with giosg(overlay):
        response = client_ada.get("/page/")
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    sent = sent_text(mail.outbox[0])
    assert "Local Vars" in sent and f"in {through}" in sent
    assert_no_key(sent, "the error e-mail")


@pytest.mark.parametrize("kind", list(KEYS))
def test_a_view_failing_after_giosg_ran_is_mailed_without_the_key(
    client_ada: Client, html_mail_on: Callable[[str], None], kind: str
) -> None:
    """T3: django.request's e-mail (Django's default logging, and with include_html) for a
    view that holds giosg's config and key when it fails."""
    html_mail_on("django.request")
    with giosg({"SIGNING_KEY": KEYS[kind]}):
        response = client_ada.get("/boom/")
    assert response.status_code == 500
    assert len(mail.outbox) == 2  # Django's own mail_admins, and the one with the frames
    for message in mail.outbox:
        assert "RuntimeError" in message.body
        assert_no_key(sent_text(message), "the error e-mail")
    [html] = [str(m.alternatives[0][0]) for m in mail.outbox if m.alternatives]
    assert "in boom" in html and "GiosgSettings(" in html


# --- log records and error trackers ------------------------------------------------------------


@pytest.mark.parametrize(("overlay", "through"), cases())
def test_log_records_and_their_frame_locals_never_carry_the_key(
    client_ada: Client, caplog: Any, overlay: dict[str, Any], through: str
) -> None:
    """T3: the record as any formatter writes it (with its traceback), and the traceback's
    frame locals as an error tracker reads them (trackers ignore sensitive_variables and
    write str subclasses out as text)."""
    with giosg(overlay), caplog.at_level(logging.ERROR, logger="giosg_django"):
        response = client_ada.get("/page/")
    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "giosg_django"]
    assert record.exc_info is not None
    assert_no_key(logging.Formatter().format(record), "the log record")
    seen = list(tracker_locals(record.exc_info[2]))
    assert through in {function for function, _name, _text in seen}
    for function, name, text in seen:
        assert_no_key(text, f"the local {name!r} of {function}()")


# --- a key or company id of the wrong type ---------------------------------------------------

WRONG_RESULTS = {"bytes": KEY.encode(), "false": False, "zero": 0}


def giosg_page_calls(js_engine: Any, response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    run = js_engine.run(response.content.decode())
    assert run.errors == []
    return run.calls or []


@pytest.mark.parametrize("literal", [False, True], ids=["callable", "literal"])
@pytest.mark.parametrize("wrong", list(WRONG_RESULTS))
def test_a_signing_key_of_the_wrong_type_is_a_fault_not_a_key(
    client_ada: Client, js_engine: Any, caplog: Any, wrong: str, literal: bool
) -> None:
    """T4/T7: a key callable returning bytes, False or 0 signed tokens with "b'...'",
    "False" or "0" (a key anyone can guess); now no identity is sent, not even in plain text,
    the page renders, and the log names the type, never the value (T3)."""
    value = WRONG_RESULTS[wrong]
    setting = value if literal else (lambda request: value)
    with giosg({"SIGNING_KEY": setting}), caplog.at_level(logging.ERROR, logger="giosg_django"):
        calls = giosg_page_calls(js_engine, client_ada.get("/page/"))
    assert not [call for call in calls if call[:2] == ["visitor", "submit"]]
    [record] = caplog.records
    logged = logging.Formatter().format(record)
    how = "is" if literal else "returned"
    assert f"GIOSG['SIGNING_KEY'] {how} {type(value).__name__}, not a string or None" in logged
    assert_no_key(logged, "the log record")


@pytest.mark.parametrize("wrong", list(WRONG_RESULTS))
def test_a_signing_key_of_the_wrong_type_raises_with_debug(ada: Any, wrong: str) -> None:
    value = WRONG_RESULTS[wrong]
    client = Client()  # raises what the request raised
    client.force_login(ada)
    with (
        giosg({"SIGNING_KEY": lambda request: value}),
        override_settings(DEBUG=True),
        pytest.raises(TypeError, match="SIGNING_KEY'] returned") as info,
    ):
        client.get("/page/")
    assert_no_key(repr(info.value), "the exception")


@pytest.mark.parametrize("wrong", [b"test-company", 0, 1234, False])
def test_a_company_id_callable_of_the_wrong_type_renders_no_loader(
    client_ada: Client, js_engine: Any, caplog: Any, wrong: object
) -> None:
    """T7: its str() was a loader for an organisation "b'test-company'" or "0"."""
    with giosg({"COMPANY_ID": lambda request: wrong}), caplog.at_level(logging.ERROR):
        response = client_ada.get("/page/")
    giosg_page_calls(js_engine, response)
    assert b"'/live2/'+f" not in response.content  # giosg's loader (js.loader)
    assert f"GIOSG['COMPANY_ID'] returned {type(wrong).__name__}" in caplog.text
    with (
        giosg({"COMPANY_ID": lambda request: wrong}),
        override_settings(DEBUG=True),
        pytest.raises(TypeError, match="COMPANY_ID'] returned"),
    ):
        Client().get("/page/")
