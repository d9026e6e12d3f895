"""The Visit (giosg_django.visit), one response's giosg work, tested directly: which calls a
render gets (``batch``), what each script covers (``rendered``), what an htmx header uses up
(``sent_in_header``), which calls the response delivers (``find_delivered``) and which wait
(``waiting``), and whether the end of the response has work at all (``has_work``). The suite's
other modules test the same through the middleware; these pin each method's own rule."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory, override_settings

from giosg_django.calls import Call
from giosg_django.storage import Loaded, PendingStorage
from giosg_django.testing import giosg_calls
from giosg_django.visit import Script, Visit, start, visit_for_render, visit_of

A, B, C, D = (Call("goal", "matches", (name,)) for name in "abcd")


def visit_with(*calls: Call) -> Visit:
    visit = Visit(RequestFactory().get("/page/"))
    for call in calls:
        visit.add(call)
    return visit


def sent(call: Call) -> tuple[str, str, tuple[object, ...]]:
    return (call.module, call.method, call.args)


class Holding(PendingStorage):
    """A store that holds ``calls`` for every visitor (``held_any`` as given)."""

    def __init__(self, calls: list[Call], held_any: bool) -> None:
        self.held = Loaded(calls, held_any)

    def load(self, request: HttpRequest) -> Loaded:
        return Loaded(list(self.held.calls), self.held.held_any)


# --- load, add ---------------------------------------------------------------------------------


def test_loaded_calls_come_before_those_the_request_queued() -> None:
    """T7: the calls that waited are older than this request's, so they go first (a goal
    queued before a redirect is not counted after the one queued on the page)."""
    visit = visit_with(C)
    visit.load(Holding([A, B], held_any=True))
    assert visit.calls == [A, B, C]
    assert (visit.loaded, visit.held_any) == (2, True)


def test_an_empty_store_loads_nothing_and_says_whether_it_held_anything() -> None:
    """T6: a corrupt value held under giosg's key (held_any, no calls) must still be written
    over, so the visit remembers it; an empty store leaves the visit as it was."""
    visit = visit_with()
    visit.load(Holding([], held_any=False))
    assert (visit.calls, visit.loaded, visit.held_any) == ([], 0, False)
    visit.load(Holding([], held_any=True))
    assert (visit.calls, visit.loaded, visit.held_any) == ([], 0, True)


@override_settings(GIOSG={"COMPANY_ID": "c"})
def test_a_call_that_must_be_signed_without_a_key_is_refused_as_it_is_queued() -> None:
    """T4: ``signed=True`` without SIGNING_KEY is a configuration error at once, never an
    identity sent unsigned later."""
    visit = visit_with()
    with pytest.raises(ImproperlyConfigured, match="SIGNING_KEY"):
        visit.add(Call("visitor", "submit", ({"a": 1},), sign=True))
    assert visit.calls == []


# --- batch, rendered -----------------------------------------------------------------------------


def test_batch_is_what_no_script_covers_yet() -> None:
    """T7: two tags on one page, or a tag and an htmx header, render each call once."""
    visit = visit_with(A, B, C)
    assert visit.batch() == [A, B, C]
    visit.rendered("<script>1</script>", 2, [sent(A), sent(B)])
    assert visit.batch() == [C]
    visit.rendered_in_place("<script>in place</script>", sent(D))  # not queued: covers nothing
    assert visit.batch() == [C]
    visit.rendered("<script>2</script>", 1, [sent(C)])
    assert visit.batch() == []
    visit.add(D)  # queued after the page rendered: for the next page
    assert visit.batch() == [D]


def test_rendered_records_what_each_script_covers_and_makes_the_response_private() -> None:
    """T2: a script of this visitor's calls or identity must be kept out of shared caches; a
    ``{% giosg_call %}`` is the same for everyone and makes nothing private."""
    visit = visit_with(A, B)
    visit.rendered_in_place("<script>x</script>", sent(D))
    assert visit.private is False
    assert visit.scripts == [Script("<script>x</script>", None, (sent(D),))]

    visit.rendered("<script>identity</script>", 0, [("visitor", "submit", ())])
    assert visit.private is True
    visit.rendered("<script>ab</script>", 2, [sent(A), sent(B)])
    assert [script.upto for script in visit.scripts] == [None, 0, 2]
    assert visit.rendered_upto == 2


# --- sent_in_header ------------------------------------------------------------------------------


def test_sent_in_header_counts_positions_from_the_start_of_the_batch() -> None:
    """T6, T7: the header may skip a call too big for it (it waits for a page); the positions
    it used up are the visit's, after what scripts already covered."""
    visit = visit_with(A, B, C, D)
    visit.rendered("<script>a</script>", 1, [sent(A)])
    visit.sent_in_header([list(sent(C))], covered=[1])  # B is too big: skipped
    assert visit.header_covers == frozenset({2})
    assert visit.header_sent == [list(sent(C))]
    assert visit.private is True


def test_an_empty_header_makes_nothing_private() -> None:
    """T2's rule the other way round: an htmx response that sends no call carries no
    visitor data, so shared caches may keep it."""
    visit = visit_with(A)
    visit.sent_in_header([], covered=[])
    assert (visit.header_sent, visit.header_covers, visit.private) == ([], frozenset(), False)


# --- find_delivered, waiting ---------------------------------------------------------------------


def test_find_delivered_is_the_prefix_of_scripts_found_in_the_body() -> None:
    """T7: a script rendered but missing from the body (a fragment rendered for an e-mail, a
    template the view threw away) delivers nothing, nor does any script after it."""
    visit = visit_with(A, B, C)
    visit.rendered("<script>a</script>", 1, [sent(A)])
    visit.rendered("<script>b</script>", 1, [sent(B)])
    visit.rendered("<script>c</script>", 1, [sent(C)])
    body = HttpResponse("<p><script>a</script><script>c</script></p>")
    assert visit.find_delivered(body, page=True) == frozenset({0})
    both = HttpResponse("<script>a</script><script>b</script><script>c</script>")
    assert visit.find_delivered(both, page=True) == frozenset({0, 1, 2})
    assert visit.find_delivered(both, page=False) == frozenset()  # JSON, a file: no page


def test_find_delivered_skips_calls_rendered_in_place_and_trusts_a_compressed_body() -> None:
    """T7: ``{% giosg_call %}`` scripts are not queued calls; a body the view compressed
    cannot be searched, and the scripts rendered for it are taken as sent."""
    visit = visit_with(A)
    visit.rendered_in_place("<script>in place</script>", sent(D))
    visit.rendered("<script>a</script>", 1, [sent(A)])
    assert visit.find_delivered(HttpResponse("<script>a</script>"), page=True) == {0}
    compressed = HttpResponse(b"\x1f\x8b...")
    compressed["Content-Encoding"] = "gzip"
    assert visit.find_delivered(compressed, page=True) == {0}
    assert visit.in_body(compressed, page=True) == list(visit.scripts)


def test_find_delivered_of_an_htmx_response_is_what_the_header_used_up() -> None:
    """T7: with a header, the body is a fragment: its scripts are not searched, and a call
    the header skipped is not delivered even if a script of it is in the body."""
    visit = visit_with(A, B, C)
    visit.rendered("<script>ab</script>", 2, [sent(A), sent(B)])
    visit.sent_in_header([list(sent(C))], covered=[0])
    response = HttpResponse("<script>ab</script>")
    assert visit.find_delivered(response, page=True) == frozenset({2})


def test_waiting_is_every_call_not_delivered_in_order() -> None:
    """T7: a call is delivered once or waits; none is lost and the order holds."""
    visit = visit_with(A, B, C, D)
    assert visit.waiting() == [A, B, C, D]
    visit.delivered = frozenset({0, 2})
    assert visit.waiting() == [B, D]
    visit.delivered = frozenset(range(4))
    assert visit.waiting() == []


# --- has_work ------------------------------------------------------------------------------------


def test_has_work_only_with_calls_a_private_response_or_a_store_to_clean() -> None:
    """T6: most responses have nothing to do for giosg and must cost nothing at the end;
    a corrupt stored value (held_any) must still be replaced."""
    assert visit_with().has_work() is False
    assert visit_with(A).has_work() is True
    private = visit_with()
    private.rendered("<script>identity</script>", 0, [])
    assert private.has_work() is True
    held = visit_with()
    held.load(Holding([], held_any=True))
    assert held.has_work() is True


# --- start, visit_of, visit_for_render -----------------------------------------------------------


def test_a_render_without_the_middleware_records_into_one_visit_per_request() -> None:
    """T7: without the middleware the loader and the page client are still rendered once per
    response: every render of one request shares one visit; a started request uses its own."""
    request = RequestFactory().get("/")
    assert visit_of(request) is None
    unmanaged = visit_for_render(request)
    assert unmanaged is not None and visit_for_render(request) is unmanaged
    assert visit_of(request) is None  # still not the middleware's
    assert visit_for_render(None) is None

    managed = RequestFactory().get("/")
    visit = start(managed)
    assert visit_of(managed) is visit and visit_for_render(managed) is visit
    assert visit_of(object()) is None


# --- request.giosg reached other than directly -------------------------------------------------


def goals(response: Any) -> list[str]:
    return [call.args[0] for call in giosg_calls(response) if call.module == "goal"]


@pytest.mark.django_db
@pytest.mark.urls("tests.support.wrapped_views")
def test_a_wrapper_that_forwards_reads_reaches_the_requests_visit(client: Client, ada: Any) -> None:
    """Django REST framework's Request forwards reads to the HttpRequest: a page rendered with
    it (TemplateHTMLRenderer) carries the request's calls, and logout() given it queues the
    logout calls, as with the HttpRequest itself."""
    assert goals(client.get("/wrapped/page/")) == ["wrapped"]
    client.force_login(ada)
    client.get("/page/")
    client.get("/wrapped/logout/")
    names = [call.name for call in giosg_calls(client.get("/page/"))]
    assert names[:2] == ["chat.close", "visitor.removeAll"]


@pytest.mark.django_db
@pytest.mark.urls("tests.support.wrapped_views")
def test_a_call_queued_through_a_copy_of_the_request_waits_for_the_next_page(
    client: Client,
) -> None:
    """copy.copy(request) shares the request's queue, on the sync path as on the async one."""
    client.get("/copy/")
    assert goals(client.get("/page/")) == ["copy"]
    asynchronous = AsyncClient()
    async_to_sync(asynchronous.get)("/copy/async/")
    assert goals(async_to_sync(asynchronous.get)("/page/")) == ["copy"]


@pytest.mark.django_db
@pytest.mark.urls("tests.support.wrapped_views")
def test_a_view_that_puts_a_proxy_in_place_of_request_giosg(client: Client) -> None:
    client.get("/proxy/")
    assert goals(client.get("/page/")) == ["proxy"]
