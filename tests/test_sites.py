"""Several sites in one project: ``COMPANY_ID`` and ``SIGNING_KEY`` as callables of the request.

Two sites, ``a.example`` and ``b.example`` (``tests.support.sites``), are told apart by the
request's host. Each page loads its own site's giosg organisation, and a token signed for one site
verifies with that site's key only. A string is always a literal value, the checks look at
static values only, and a callable that raises follows the fault rules.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.template import engines
from django.test import Client, RequestFactory, override_settings

from .conftest import GIOSG_HOST
from .support import sites
from .support.jsengine import UNDEFINED, EngineResult

pytestmark = pytest.mark.django_db

SITE_IDS = [sites.A.host, sites.B.host]
OTHER = {sites.A.host: sites.B, sites.B.host: sites.A}
# The identity the default VISITOR_VARIABLES sends for ``ada``.
ADA = {"username": "Ada Lovelace", "email": "ada@example.com"}


def giosg(**overlay: Any) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


def per_site(**overlay: Any) -> override_settings:
    """Both per-request keys follow the host (``tests.support.sites``), then ``overlay``."""
    return giosg(**{"COMPANY_ID": sites.company_id, "SIGNING_KEY": sites.signing_key, **overlay})


def run(js_engine: Any, response: Any) -> EngineResult:
    assert response.status_code == 200
    result: EngineResult = js_engine.run(response.content.decode())
    assert result.errors == []
    return result


def loader_of(company: str) -> list[dict[str, Any]]:
    """What giosg's loader inserts for ``company``: one async script from giosg's host."""
    return [{"src": f"{GIOSG_HOST}/live2/{company}", "async": 1}]


def verify(token: str, key: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, key, algorithms=["HS256"])
    payload.pop("exp")
    return payload


# --- the organisation follows the site ----------------------------------------------------------


@per_site()
def test_each_host_loads_its_own_organisation(client: Client, js_engine: Any) -> None:
    for site in (sites.A, sites.B, sites.A):  # and back: nothing sticks from the last request
        result = run(js_engine, client.get("/page/", HTTP_HOST=site.host))
        assert result.company == site.company_id
        assert result.inserted == loader_of(site.company_id)
        assert (result.calls or []) == []


@per_site()
def test_the_host_port_does_not_change_the_site(client: Client, js_engine: Any) -> None:
    result = run(js_engine, client.get("/page/", HTTP_HOST="b.example:8443"))
    assert result.inserted == loader_of(sites.B.company_id)


@per_site()
@pytest.mark.parametrize("tag", ["{% giosg_script %}", "{% giosg_visitor %}{% giosg_script %}"])
def test_giosg_script_tag_follows_the_site(js_engine: Any, tag: str) -> None:
    template = engines["django"].from_string("{% load giosg %}<html><head>" + tag + "</head>")
    for site in (sites.A, sites.B):
        request = RequestFactory().get("/", HTTP_HOST=site.host)
        request.user = AnonymousUser()
        html = template.render({}, request)
        assert js_engine.run(html).inserted == loader_of(site.company_id)  # once, this site's


# --- the key follows the site -------------------------------------------------------------------


@per_site()
@pytest.mark.parametrize("host", SITE_IDS)
def test_identity_is_signed_with_the_sites_key_only(
    ada_client: Client, js_engine: Any, host: str
) -> None:
    site, other = sites.SITES[host], OTHER[host]
    response = ada_client.get("/page/", HTTP_HOST=host)
    result = run(js_engine, response)
    assert result.company == site.company_id
    [[module, method, token, algorithm]] = result.calls or [[None] * 4]
    assert (module, method, algorithm) == ("visitor", "submit", "HS256")
    assert verify(token, site.signing_key) == ADA
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other.signing_key, algorithms=["HS256"])
    for key in (site.signing_key, other.signing_key):
        assert key.encode() not in response.content


@per_site()
def test_a_queued_submit_is_signed_for_the_site_that_renders_it(
    client: Client, js_engine: Any
) -> None:
    # Queued on a's JSON endpoint, delivered by b's page: signed when rendered, so with b's key.
    client.get("/cases/submit-basic/json/", HTTP_HOST=sites.A.host)
    [[_, _, token, _]] = run(js_engine, client.get("/page/", HTTP_HOST=sites.B.host)).calls or [[]]
    jwt.decode(token, sites.B.signing_key, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, sites.A.signing_key, algorithms=["HS256"])


@per_site()
def test_async_path_follows_the_site(ada: Any, js_engine: Any) -> None:
    async def visit(host: str) -> Any:
        client = sites.HostAsyncClient()
        await client.aforce_login(ada)
        return await client.get("/async/template/", headers={"host": host})

    for site, other in ((sites.A, sites.B), (sites.B, sites.A)):
        result = run(js_engine, async_to_sync(visit)(site.host))
        assert result.inserted == loader_of(site.company_id)
        [[_, _, token, _]] = result.calls or [[]]
        assert verify(token, site.signing_key) == ADA
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, other.signing_key, algorithms=["HS256"])


# --- a callable returning None ------------------------------------------------------------------


@per_site()
def test_an_unknown_host_gets_no_loader_and_plain_variables(
    ada_client: Client, js_engine: Any
) -> None:
    result = run(js_engine, ada_client.get("/page/", HTTP_HOST="c.example"))
    assert result.inserted == []
    assert result.company is UNDEFINED  # no loader set giosg's company
    assert result.calls == [["visitor", "submit", ADA]]


@giosg(COMPANY_ID=lambda request: None)
def test_company_id_callable_returning_none_renders_no_loader(
    client: Client, js_engine: Any
) -> None:
    response = client.get("/page/", HTTP_HOST=sites.A.host)
    assert b"'/live2/'+f" not in response.content  # giosg's loader (js.loader)
    assert run(js_engine, response).inserted == []


@giosg(SIGNING_KEY=lambda request: None)
def test_signing_key_callable_returning_none_sends_plain_variables(
    ada_client: Client, js_engine: Any
) -> None:
    result = run(js_engine, ada_client.get("/page/", HTTP_HOST=sites.A.host))
    assert result.inserted == loader_of("test-company")
    assert result.calls == [["visitor", "submit", ADA]]


# --- a string is a literal ----------------------------------------------------------------------

LITERAL_KEY = (
    "tests.support.sites.signing_key_for_the_request_host"  # imports, but is never imported
)


@giosg(COMPANY_ID="tests.support.sites.company_id", SIGNING_KEY=LITERAL_KEY)
def test_a_string_that_looks_like_a_dotted_path_stays_a_literal(
    ada_client: Client, js_engine: Any
) -> None:
    result = run(js_engine, ada_client.get("/page/", HTTP_HOST=sites.A.host))
    assert result.company == "tests.support.sites.company_id"
    assert result.inserted == loader_of("tests.support.sites.company_id")
    [[_, _, token, _]] = result.calls or [[]]
    assert verify(token, LITERAL_KEY) == ADA
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, sites.A.signing_key, algorithms=["HS256"])


# --- manage.py check ----------------------------------------------------------------------------


def check_output() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.urls("tests.support.sync_urls")  # the sync endpoint routed: no giosg.W015
def test_check_is_silent_about_callables() -> None:
    # A callable cannot be measured or read without a request: no W001 (missing id), no W003.
    with per_site(SIGNING_ALGORITHM="HS512"):
        assert "giosg." not in check_output()
    with giosg(COMPANY_ID=sites.company_id, SIGNING_KEY=sites.sites_table_down):
        assert "giosg." not in check_output()


def test_check_still_validates_static_values() -> None:
    # Control for the test above: the same command reports the static values it can read.
    with giosg(COMPANY_ID=None, SIGNING_KEY="short"):
        output = check_output()
    assert "giosg.W001" in output and "giosg.W003" in output


# --- a callable that raises ---------------------------------------------------------------------


@giosg(COMPANY_ID=sites.sites_table_down, SIGNING_KEY=sites.signing_key)
def test_a_raising_company_id_is_logged_and_the_page_renders_without_the_loader(
    ada_client: Client, js_engine: Any, caplog: Any
) -> None:
    with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, logger="giosg_django"):
        response = ada_client.get("/page/", HTTP_HOST=sites.A.host)
        result = run(js_engine, response)
    assert b'<p id="body">page</p>' in response.content
    assert result.inserted == []
    [[_, _, token, _]] = result.calls or [[]]  # the identity, signed with a's key, still goes
    assert verify(token, sites.A.signing_key) == ADA
    assert "the sites table is down" in caplog.text
    assert {record.name for record in caplog.records} == {"giosg_django"}


@giosg(COMPANY_ID=sites.company_id, SIGNING_KEY=sites.sites_table_down)
def test_a_raising_signing_key_is_logged_and_the_submit_left_out(
    ada_client: Client, js_engine: Any, caplog: Any
) -> None:
    with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, logger="giosg_django"):
        response = ada_client.get("/queue/g1/page/", HTTP_HOST=sites.B.host)
        result = run(js_engine, response)
    assert b'<p id="body">page</p>' in response.content
    assert result.inserted == loader_of(sites.B.company_id)
    # The failed part is the signed submit: never sent unsigned instead. The goal still goes.
    assert result.calls == [["goal", "matches", "g1"]]
    assert "the sites table is down" in caplog.text


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
def test_a_raising_callable_raises_when_debug_is_on(ada_client: Client, key: str) -> None:
    with (
        per_site(**{key: sites.sites_table_down}),
        override_settings(DEBUG=True),
        pytest.raises(RuntimeError, match="the sites table is down"),
    ):
        ada_client.get("/page/", HTTP_HOST=sites.A.host)


# --- manage.py giosg_token --host ---------------------------------------------------------------


@per_site()
@pytest.mark.parametrize("host", SITE_IDS)
def test_giosg_token_signs_with_the_key_of_the_host(ada: Any, host: str) -> None:
    out = io.StringIO()
    call_command("giosg_token", "ada", "--host", host, stdout=out)
    token = out.getvalue().splitlines()[0]
    assert verify(token, sites.SITES[host].signing_key) == ADA
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, OTHER[host].signing_key, algorithms=["HS256"])


@per_site()
def test_giosg_token_for_a_host_without_a_key(ada: Any) -> None:
    with pytest.raises(CommandError, match="SIGNING_KEY'] is not set"):
        call_command("giosg_token", "ada", "--host", "c.example")
