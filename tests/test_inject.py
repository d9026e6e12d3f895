"""AUTO_INJECT: the middleware puts the ``{% giosg_visitor %}`` output into full HTML pages
that lack it, and leaves everything else alone (one test per rule)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.each_storage]

AUTO = override_settings(GIOSG={**settings.GIOSG, "AUTO_INJECT": True})


def goals(js_engine: Any, response: Any, charset: str = "utf-8") -> list[str]:
    result = js_engine.run(response.content.decode(charset))
    assert result.errors == []
    return [args[2] for args in result.calls or [] if args[:2] == ["goal", "matches"]]


def injected(response: Any) -> bool:
    return b"/live2/" in response.content


@AUTO
@pytest.mark.parametrize("kind", ["full", "upper", "body-only", "xhtml"])
def test_injects_into_a_full_page_and_delivers_once(
    client: Client, js_engine: Any, kind: str
) -> None:
    response = client.get(f"/inject/{kind}/")
    assert goals(js_engine, response) == [f"inject-{kind}"]
    assert goals(js_engine, client.get("/inject/fragment/")) == []  # not again


@AUTO
def test_the_snippet_goes_before_the_last_head_end_tag(client: Client) -> None:
    text = client.get("/inject/full/").content.decode()
    assert text.index("<script>") < text.index("</head>") < text.index("<body>")
    text = client.get("/inject/last-head/").content.decode()
    assert text.index("var s = '</head>'") < text.index("_giosg(") < text.rindex("</head>")
    text = client.get("/inject/body-only/").content.decode()
    assert text.index("<p>page</p>") < text.index("_giosg(") < text.index("</body>")


@AUTO
def test_content_length_stays_true(client: Client) -> None:
    response = client.get("/inject/content-length/")
    assert injected(response)
    assert int(response["Content-Length"]) == len(response.content)


@AUTO
def test_decodes_and_encodes_with_the_response_charset(client: Client, js_engine: Any) -> None:
    response = client.get("/inject/latin1/")
    assert goals(js_engine, response, "iso-8859-1") == ["inject-latin1"]
    assert "caf\u00e9".encode("iso-8859-1") in response.content


@AUTO
@pytest.mark.parametrize("kind", ["fragment", "text", "json", "gzip", "stream"])
def test_leaves_other_responses_alone_and_the_calls_wait(
    client: Client, js_engine: Any, kind: str
) -> None:
    response = client.get(f"/inject/{kind}/")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"_giosg" not in body
    assert goals(js_engine, client.get("/inject/full/")) == [f"inject-{kind}", "inject-full"]


@AUTO
def test_a_page_that_rendered_the_tag_gets_nothing_more(client: Client, js_engine: Any) -> None:
    response = client.get("/inject/tag/")
    assert response.content.count(b"<script") == 1
    assert goals(js_engine, response) == ["inject-tag"]


@AUTO
def test_head_requests_are_left_alone(client: Client, js_engine: Any) -> None:
    client.head("/inject/full/")
    assert goals(js_engine, client.get("/inject/full/")) == ["inject-full", "inject-full"]


@AUTO
@pytest.mark.parametrize(
    ("path", "goal"), [("/inject/exempt/", "exempt"), ("/inject/async-exempt/", "async-exempt")]
)
def test_exempt_views_sync_and_async(client: Client, js_engine: Any, path: str, goal: str) -> None:
    response = client.get(path)
    assert not injected(response)
    # The exempt page's call waited for the next page.
    assert goals(js_engine, client.get("/inject/full/")) == [goal, "inject-full"]


@AUTO
def test_async_path_injects_and_leaves_exempt_views_alone(js_engine: Any) -> None:
    async def visit() -> list[Any]:
        client = AsyncClient()
        return [
            await client.get("/inject/async-exempt/"),
            await client.get("/inject/async-full/"),
        ]

    exempt, full = async_to_sync(visit)()
    assert not injected(exempt)
    assert goals(js_engine, full) == ["async-exempt", "async-full"]


def test_nothing_is_injected_unless_auto_inject_is_on(client: Client) -> None:
    assert not injected(client.get("/inject/full/"))


@override_settings(GIOSG={**settings.GIOSG, "AUTO_INJECT": True, "ENABLED": False})
def test_nothing_is_injected_while_disabled(client: Client) -> None:
    assert not injected(client.get("/inject/full/"))
