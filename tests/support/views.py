"""Views the tests drive: each makes giosg calls the way a site would."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import alogout, get_user, logout
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template import engines
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject

from giosg_django import calls, storage
from giosg_django.decorators import giosg_exempt

from .cases import BY_ID, GROUPS, CallCase


def queue_case(request: HttpRequest, case: CallCase) -> None:
    """Make the case's call through ``request.giosg.<module>.<method>``."""
    build = calls.builder(case.name)
    module = getattr(request.giosg, case.name.split(".")[0])  # type: ignore[attr-defined]
    method = getattr(module, build.__name__.split("_", 1)[1])
    method(*case.args, **case.kwargs)


def tag_template(cases: list[CallCase]) -> tuple[str, dict[str, Any]]:
    """A page with one ``{% giosg_call %}`` per case, values passed through the context."""
    tags, context = giosg_call_tags(cases)
    source = (
        "{% load giosg %}<!doctype html><html><head><meta charset='utf-8'>{% giosg_visitor %}"
        + "".join(tags)
        + "</head><body><p>tags</p></body></html>"
    )
    return source, context


def giosg_call_tags(cases: Sequence[Any]) -> tuple[list[str], dict[str, Any]]:
    """One ``{% giosg_call %}`` per case (anything with ``name``, ``args`` and ``kwargs``),
    and the context that passes its values (never written into the template source)."""
    tags: list[str] = []
    context: dict[str, Any] = {}
    for n, case in enumerate(cases):
        bits = [f'"{case.name}"']
        for i, arg in enumerate(case.args):
            context[f"c{n}_a{i}"] = arg
            bits.append(f"c{n}_a{i}")
        for key, value in case.kwargs.items():
            context[f"c{n}_{key}"] = value
            bits.append(f"{key}=c{n}_{key}")
        tags.append("{% giosg_call " + " ".join(bits) + " %}")
    return tags, context


def selected(ids: str) -> list[CallCase]:
    if ids in GROUPS:
        return GROUPS[ids]
    return [BY_ID[i] for i in ids.split(",")]


def page(request: HttpRequest) -> HttpResponse:
    response = render(request, "page.html", {"body": request.GET.get("body", "page")})
    if "max_age" in request.GET:  # a site that lets browsers keep its pages
        response["Cache-Control"] = f"max-age={int(request.GET['max_age'])}"
    return response


def cases_view(request: HttpRequest, ids: str, how: str) -> HttpResponse:
    cases = selected(ids)
    if how == "tag":
        source, context = tag_template(cases)
        template = engines["django"].from_string(source)
        return HttpResponse(template.render(context, request))
    for case in cases:
        queue_case(request, case)
    if how == "redirect":
        return redirect("page")
    if how == "json":
        return JsonResponse({"queued": len(cases)})
    return render(request, "page.html")


def queue_goal(request: HttpRequest, goal: str, kind: str) -> HttpResponseBase:
    """Queue ``goal.matches(goal)``, then answer the way ``kind`` says."""
    request.giosg.goal.matches(goal)  # type: ignore[attr-defined]
    if kind == "json":
        return JsonResponse({"queued": goal})
    if kind == "redirect":
        return redirect("page")
    if kind == "stream":
        return StreamingHttpResponse(iter(["<html><head>", "</head></html>"]))
    if kind == "text":
        return render(request, "page.html", content_type="text/plain")
    if kind == "nocontent":
        return HttpResponse(status=204)
    if kind == "email":
        # A template rendered for something other than the response delivers nothing.
        body = render_to_string("page.html", request=request)
        return HttpResponse(f"<html><body>sent {len(body)} characters</body></html>")
    if kind == "fragment":
        return HttpResponse("<p id='out'>done</p>")
    if kind == "trigger":
        response = HttpResponse("<p id='out'>done</p>")
        response["HX-Trigger"] = request.GET["trigger"]
        return response
    if kind in ("hx-redirect", "hx-location", "hx-refresh"):
        response = HttpResponse("")
        response[kind.title()] = "true" if kind == "hx-refresh" else "/page/"
        return response
    if kind == "late":
        response = render(request, "page.html")
        request.giosg.goal.matches(goal + "-late")  # type: ignore[attr-defined]
        return response
    if kind == "twice":
        return HttpResponse(
            engines["django"]
            .from_string(
                "{% load giosg %}<html><head>{% giosg_visitor %}{% giosg_visitor %}</head></html>"
            )
            .render({}, request)
        )
    return render(request, "page.html")


def slow(request: HttpRequest, goal: str) -> JsonResponse:
    """Queue ``goal.matches(goal)`` (none for ``-``), then take ``?ms=`` milliseconds (at most
    10 s) as a view doing slow work would, and answer JSON: the other half of a race with the
    same visitor's page or parallel requests (tests/test_races.py)."""
    if goal != "-":
        request.giosg.goal.matches(goal)  # type: ignore[attr-defined]
    milliseconds = min(int(request.GET.get("ms", "0")), 10_000)
    time.sleep(milliseconds / 1000)
    return JsonResponse({"queued": goal, "ms": milliseconds})


def storage_in_use(request: HttpRequest) -> JsonResponse:
    """The class of the store giosg uses in this process: a test checks that a server runs on
    the store it asked for, not on the default behind its back."""
    store = type(storage.get_storage())
    # By the path a site writes in PENDING_STORAGE when giosg_django.storage exports it.
    public = getattr(storage, store.__name__, None) is store
    module = "giosg_django.storage" if public else store.__module__
    return JsonResponse({"storage": f"{module}.{store.__qualname__}"})


def set_session(request: HttpRequest) -> HttpResponse:
    request.session["other"] = "value"
    return HttpResponse("ok")


async def async_queue_goal(request: HttpRequest, goal: str) -> HttpResponse:
    request.giosg.goal.matches(goal)  # type: ignore[attr-defined]
    return JsonResponse({"queued": goal})


async def async_page(request: HttpRequest) -> HttpResponse:
    request.giosg.goal.matches("from-async-page")  # type: ignore[attr-defined]
    html = await sync_to_async(render_to_string)("page.html", request=request)
    return HttpResponse(html)


def logout_and_render(request: HttpRequest) -> HttpResponse:
    """A view that logs out and renders a page itself (no redirect)."""
    logout(request)
    return render(request, "page.html", {"body": "logged out"})


def consent_given(request: HttpRequest) -> bool:
    """ENABLED hook for the consent tests: a cookie the visitor's banner sets."""
    return request.COOKIES.get("giosg_consent") != "no"


def consent_opted_in(request: HttpRequest) -> bool:
    """ENABLED hook for the consent-banner tests: giosg only once the banner's cookie says yes."""
    return request.COOKIES.get("giosg_consent") == "yes"


def set_consent(request: HttpRequest, answer: str) -> HttpResponse:
    response = redirect("page")
    response.set_cookie("giosg_consent", answer)
    return response


def plain(request: HttpRequest) -> HttpResponse:
    """A page whose template reads nothing but giosg's tag."""
    return render(request, "plain.html")


async def async_template_page(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "page.html")


async def async_render_in_loop(request: HttpRequest) -> HttpResponse:
    # Rendered in the event loop's thread: request.user must not need a synchronous query.
    return HttpResponse(render_to_string("plain.html", request=request))


class ProjectLazyUser(SimpleLazyObject):
    """A project's own lazy user (a subclass of Django's), as a middleware of its may set it."""


async def async_lazy_user_in_loop(request: HttpRequest) -> HttpResponse:
    # As AuthenticationMiddleware does, with the project's class: resolving it needs a query.
    request.user = ProjectLazyUser(lambda: get_user(request))
    return HttpResponse(render_to_string("plain.html", request=request))


async def async_logout_and_render(request: HttpRequest) -> HttpResponse:
    await alogout(request)
    return HttpResponse(render_to_string("plain.html", request=request))


def variables_with_plan(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.is_authenticated:
        return None
    return {"username": request.user.get_username(), "plan": "pro"}


def identifier(request: HttpRequest) -> str | None:
    return f"customer-{request.user.pk}" if request.user.is_authenticated else None


def nothing(request: HttpRequest) -> None:
    return None


def broken(request: HttpRequest) -> Any:
    raise RuntimeError("the CRM is down")


# The script without a nonce is a control for the CSP tests: an enforcing policy blocks it.
FULL_PAGE = (
    "<!doctype html><html><head><title>t</title></head>"
    "<body><p id='body'>page</p><script>window.__unnonced = true;</script></body></html>"
)


def inject_page(request: HttpRequest, kind: str) -> HttpResponseBase:
    """Pages for AUTO_INJECT: each queues a goal, then answers as ``kind`` says."""
    request.giosg.goal.matches(f"inject-{kind}")  # type: ignore[attr-defined]
    if kind == "full":
        return HttpResponse(FULL_PAGE)
    if kind == "content-length":
        response = HttpResponse(FULL_PAGE)
        response["Content-Length"] = str(len(response.content))
        return response
    if kind == "upper":
        return HttpResponse("<HTML><HEAD></HEAD ><BODY><P>page</P></BODY></HTML>")
    if kind == "last-head":
        return HttpResponse(
            "<html><head><script>var s = '</head>';</script></head><body>page</body></html>"
        )
    if kind == "body-only":
        return HttpResponse("<html><body><p>page</p></body></html>")
    if kind == "xhtml":
        return HttpResponse(FULL_PAGE, content_type="application/xhtml+xml; charset=utf-8")
    if kind == "latin1":
        return HttpResponse(
            FULL_PAGE.replace("page", "caf\u00e9").encode("iso-8859-1"),
            content_type="text/html; charset=iso-8859-1",
        )
    if kind == "fragment":
        return HttpResponse("<div>a fragment</div>")
    if kind == "text":
        return HttpResponse(FULL_PAGE, content_type="text/plain")
    if kind == "json":
        return JsonResponse({"html": FULL_PAGE})
    if kind == "gzip":
        response = HttpResponse(FULL_PAGE)
        response["Content-Encoding"] = "gzip"
        return response
    if kind == "stream":
        return StreamingHttpResponse(iter([FULL_PAGE]))
    if kind == "tag":
        return render(request, "plain.html")
    if kind == "csp-tag":
        return render(request, "csp.html")
    raise ValueError(kind)


@giosg_exempt
def exempt_page(request: HttpRequest) -> HttpResponse:
    request.giosg.goal.matches("exempt")  # type: ignore[attr-defined]
    return HttpResponse(FULL_PAGE)


@giosg_exempt
async def async_exempt_page(request: HttpRequest) -> HttpResponse:
    request.giosg.goal.matches("async-exempt")  # type: ignore[attr-defined]
    return HttpResponse(FULL_PAGE)


async def async_full_page(request: HttpRequest) -> HttpResponse:
    request.giosg.goal.matches("async-full")  # type: ignore[attr-defined]
    return HttpResponse(FULL_PAGE)


HTMX_FILES = {
    "2": settings.BASE_DIR / "js" / "node_modules" / "htmx2" / "dist" / "htmx.js",
    "4": settings.BASE_DIR / "js" / "node_modules" / "htmx4" / "dist" / "htmx.js",
}


def htmx_script(request: HttpRequest, version: str) -> HttpResponse:
    """The real htmx library, served locally (installed from the npm registry by make test)."""
    return HttpResponse(HTMX_FILES[version].read_bytes(), content_type="text/javascript")


def htmx_page(request: HttpRequest, version: str) -> HttpResponse:
    body = request.GET.get("body", "htmx page")
    return render(request, "htmx.html", {"version": version, "body": body})


def giosg_stub(request: HttpRequest, company: str) -> HttpResponse:
    """Stands in for giosg's client script (the browser reaches no other host)."""
    return HttpResponse("/* giosg stub */", content_type="text/javascript")
