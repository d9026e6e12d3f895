"""The example site (example_project/) end to end: its own server, as ``make demo`` runs it, driven
in headless Chromium through its real forms. What giosg's queue receives is read from
``window._giosg._e``; the signed identity is verified with PyJWT. (Its ``manage.py check`` is
in tests/test_example_site.py.)"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from ..example.server import ExampleSite, run_example_site
from ..test_example_site import KEY

TTL = 600  # the example keeps giosg_django's default TOKEN_TTL
DEMO_COMPANY = "giosg-demo-company"
LOGIN_GOAL = ["goal", "matches", "demo-login-goal"]
# Whether any script on the page mentions giosg's queue function (the page's own, or ours).
INLINE_GIOSG = "() => Array.from(document.scripts).some(s => s.text.includes('_giosg'))"
CLOSED = [["chat", "close", {"hide": True}], ["visitor", "removeAll"]]
# The only script mentioning _giosg is the page client, started with giosg off.
CLIENT_ONLY = (
    "() => Array.from(document.scripts).filter(s => s.text.includes('_giosg'))"
    ".every(s => s.text.includes('\"enabled\":false') && !s.text.includes('w[o]._c=f'))"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleSite]:
    with run_example_site(tmp_path_factory.mktemp("example"), GIOSG_SIGNING_KEY=KEY) as site:
        yield site


@pytest.fixture
def page(browser_page: Any, site: ExampleSite) -> Iterator[Any]:
    yield browser_page
    assert browser_page.errors == [], site.output()


def sign_in(page: Any, site: ExampleSite, username: str, password: str) -> None:
    """Through the login page's form, as a visitor does."""
    page.goto(f"{site.url}/accounts/login/")
    page.page.fill("#id_username", username)
    page.page.fill("#id_password", password)
    with page.page.expect_navigation():
        page.page.click("#login button")
    assert page.page.url == f"{site.url}/account/"


def click(page: Any, selector: str) -> None:
    with page.page.expect_navigation():
        page.page.click(selector)


def verify(token: str) -> dict[str, Any]:
    """The token's payload, checked the way giosg checks it."""
    payload: dict[str, Any] = jwt.decode(token, KEY, algorithms=["HS256"])
    assert isinstance(payload["exp"], int)
    assert 0 < payload["exp"] - time.time() <= TTL
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY[:-1] + "x", algorithms=["HS256"])
    return payload


def panel_calls(page: Any) -> list[str]:
    names: list[str] = page.page.eval_on_selector_all(
        "#giosg-panel-calls .call", "items => items.map(item => item.dataset.call || '')"
    )
    return names


@pytest.mark.browser
def test_home_page_loads_giosg_from_the_demo_stub(page: Any, site: ExampleSite) -> None:
    with page.page.expect_response(lambda response: "/live2/" in response.url) as loaded:
        page.goto(f"{site.url}/")
    assert loaded.value.url == f"{site.url}/live2/{DEMO_COMPANY}"
    assert loaded.value.status == 200
    assert page.queue() == []  # giosg is on the page; an anonymous visitor has no calls
    assert "Demo mode" in page.page.text_content("#demo-note")
    loader = page.page.text_content("#giosg-panel-status .panel-loader")
    assert loader == f"{site.url}/live2/{DEMO_COMPANY}"
    assert "No calls on this page" in page.page.text_content("#giosg-panel-calls")


@pytest.mark.browser
def test_log_in_sends_the_signed_identity(page: Any, site: ExampleSite) -> None:
    page.goto(f"{site.url}/accounts/login/")
    demo_users = page.page.text_content("#demo-users")
    assert "ada" in demo_users and "ada-demo-password" in demo_users

    sign_in(page, site, "ada", "ada-demo-password")
    goal, submit = page.queue()
    assert goal == LOGIN_GOAL
    # The first identity after a login replaces whatever was attached to the visitor before.
    assert submit[:2] == ["visitor", "submit"] and submit[3:] == ["HS256", True]
    payload = verify(submit[2])
    assert payload.keys() == {"username", "email", "exp"}
    assert (payload["username"], payload["email"]) == ("Ada Lovelace", "ada@example.com")
    assert KEY not in page.page.content()

    # The panel decodes the payload for people, from the token alone.
    assert panel_calls(page) == ["goal.matches", "visitor.submit"]
    shown = page.page.text_content("#giosg-panel-calls .call[data-call='visitor.submit']")
    assert '"username": "Ada Lovelace"' in shown and '"email": "ada@example.com"' in shown
    assert "HS256" in shown
    assert re.search(rf"exp {payload['exp']}: .*, in (9|10) min", shown), shown

    page.goto(f"{site.url}/sales/")
    join, submit = page.queue()
    assert join == ["room", "join", {"name": "Sales"}]
    assert submit[3:] == ["HS256"]  # not replacing any more
    assert verify(submit[2])["username"] == "Ada Lovelace"


@pytest.mark.browser
def test_an_order_matches_its_goal_with_the_value_once(page: Any, site: ExampleSite) -> None:
    page.goto(f"{site.url}/shop/")
    page.page.select_option("#id_product", "espresso-cups")
    page.page.fill("#id_quantity", "3")
    click(page, "#order button")
    assert page.page.url == f"{site.url}/shop/thanks/"
    assert "€58.50" in page.page.text_content("#order-summary")
    # The view's Decimal("58.50") reaches giosg as a number.
    assert page.queue() == [["goal", "matches", "demo-order-goal", {"value": 58.5}]]
    assert panel_calls(page) == ["goal.matches"]

    page.page.reload()
    assert page.queue() == []
    page.goto(f"{site.url}/")
    assert page.queue() == []


@pytest.mark.browser
def test_log_out_closes_the_chat_and_clears_the_variables(page: Any, site: ExampleSite) -> None:
    sign_in(page, site, "bob", "bob-demo-password")
    goal, submit = page.queue()
    assert goal == LOGIN_GOAL
    assert verify(submit[2]).keys() == {"username", "exp"}  # bob has no name and no email

    click(page, "#logout button")
    assert page.page.url == f"{site.url}/"
    assert page.queue() == CLOSED
    assert panel_calls(page) == ["chat.close", "visitor.removeAll"]
    page.goto(f"{site.url}/support/")
    assert page.queue() == []  # no identity after logout


@pytest.mark.browser
def test_declined_consent_removes_giosg_and_accepting_delivers_what_waited(
    page: Any, site: ExampleSite
) -> None:
    live2: list[str] = []
    page.page.on("request", lambda request: "/live2/" in request.url and live2.append(request.url))
    page.goto(f"{site.url}/")
    click(page, "#consent-decline")
    assert page.page.url == f"{site.url}/"
    loaded = len(live2)
    assert page.queue() is None  # no _giosg on the page at all
    # Only giosg_django's page client, which contacts no one until consent is given.
    assert page.page.evaluate(CLIENT_ONLY)
    assert "giosg is off" in page.page.text_content("#giosg-panel-status")

    # An order while chat is declined: its goal waits in the session.
    page.goto(f"{site.url}/shop/")
    click(page, "#order button")
    assert page.page.url == f"{site.url}/shop/thanks/"
    assert page.queue() is None
    assert len(live2) == loaded  # giosg's script was not fetched either

    click(page, "#consent-accept")
    assert page.page.url == f"{site.url}/shop/thanks/"
    assert page.queue() == [["goal", "matches", "demo-order-goal", {"value": 24.9}]]
    page.goto(f"{site.url}/")
    assert page.queue() == []


@pytest.mark.browser
def test_support_request_starts_a_task(page: Any, site: ExampleSite) -> None:
    message = "Call me back </script><b id=injected>please</b>"
    page.goto(f"{site.url}/support/")
    page.page.fill("#id_message", message)
    click(page, "#support button")
    assert page.page.url == f"{site.url}/support/"
    assert "an operator will get back to you" in page.page.text_content(".message")
    assert page.queue() == [["chat", "startTask", {"message": message}]]
    # The panel shows the message as text: values never become HTML.
    assert message in page.page.text_content("#giosg-panel-calls")
    assert page.page.query_selector("#injected") is None


@pytest.mark.browser
def test_a_callback_requested_with_fetch_reaches_giosg_without_a_reload(
    page: Any, site: ExampleSite
) -> None:
    """The callback page posts JSON with fetch(): the task its view queues arrives on the same
    page (the page client's sync), once, and the panel lists it, with no reload."""
    page.goto(f"{site.url}/callback/")
    page.page.evaluate("() => { window.__kept = 1; }")
    phone = "+358 </script><b id=injected>1</b>"
    page.page.fill("#phone", phone)
    page.page.click("#callback button")
    task = ["chat", "startTask", {"message": f"Please call me back: {phone}"}]
    deadline = time.monotonic() + 2
    while page.queue() != [task] and time.monotonic() < deadline:
        page.page.wait_for_timeout(50)
    assert page.queue() == [task]
    assert page.page.evaluate("() => window.__kept") == 1  # the same page, never reloaded
    assert "an operator will call you back" in page.page.text_content("#callback-status")
    assert "Task for the operators" in page.page.text_content("#giosg-panel-calls")
    assert page.page.query_selector("#injected") is None
    page.page.wait_for_timeout(500)
    assert page.queue() == [task]  # once


@pytest.mark.browser
def test_the_cached_offers_page_is_one_copy_and_each_visitor_gets_their_own(
    page: Any, site: ExampleSite, browser: Any
) -> None:
    """The offers page is cached and the same bytes for everyone; signed in, the visitor's
    signed identity still reaches giosg (and the panel); anonymous, no sync request at all."""
    anonymous = browser.new_context().new_page()
    synced: list[str] = []
    anonymous.on("request", lambda r: "/giosg/sync/" in r.url and synced.append(r.url))
    first = anonymous.goto(f"{site.url}/offers/").body()
    anonymous.wait_for_timeout(800)
    assert synced == []
    anonymous.context.close()

    sign_in(page, site, "ada", "ada-demo-password")
    response = page.page.goto(f"{site.url}/offers/")
    assert response.body() == first  # the cached copy
    deadline = time.monotonic() + 2
    while not any(c[:2] == ["visitor", "submit"] for c in page.queue() or []):
        assert time.monotonic() < deadline, page.queue()
        page.page.wait_for_timeout(50)
    (submit,) = [c for c in page.queue() if c[:2] == ["visitor", "submit"]]
    assert verify(submit[2])["username"]
    assert "Visitor variables sent" in page.page.text_content("#giosg-panel-calls")
