"""Views for the page client's tests (DOM clobbering, sessions that end without logout(), a
logout that lands on a page without the tag), under /client/."""

from __future__ import annotations

from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

# Elements a sanitiser keeps (ids, and names on img/form), named after every global that
# giosg_django's client, its glue and giosg's snippets look up: each would shadow a global of
# that name where the browser lets a named element do so (DOM clobbering).
CLOBBERED_NAMES = (
    "giosgDjango",
    "_giosg",
    "addEventListener",
    "EventTarget",
    "Symbol",
    "Object",
    "Date",
    "Math",
    "Number",
    "Array",
    "String",
    "isFinite",
    "performance",
    "localStorage",
    "Document",
)
# Methods and properties of document that giosg's loader and the client use: an <img>, <form>,
# <embed> or <object> with that name shadows them on document itself (ids do not).
DOCUMENT_NAMES = ("addEventListener", "createElement", "getElementsByTagName", "head")
CLOBBERING_HTML = (
    "".join(f'<div id="{name}"></div>' for name in CLOBBERED_NAMES)
    + '<a id="_giosg" href="#"></a>'  # two of one id: window._giosg is then an HTMLCollection
    + "".join(
        f'<img name="{name}" alt=""><form name="{name}"></form><embed name="{name}">'
        f'<object name="{name}"></object>'
        for name in DOCUMENT_NAMES
    )
)


def clobbered(request: HttpRequest, where: str) -> HttpResponse:
    """A page whose user HTML carries CLOBBERING_HTML, with a goal waiting: the tag before that
    HTML ("head"), after it ("body-end"), or none, for AUTO_INJECT on a page without </head>
    ("no-head"), which puts the snippet before </body>, after the user HTML."""
    request.giosg.goal.matches("after-clobbering")  # type: ignore[attr-defined]
    if where == "no-head":
        return HttpResponse(
            f"<!doctype html><html><body>{CLOBBERING_HTML}<p id='body'>page</p></body></html>"
        )
    return render(request, "clobbered.html", {"html": CLOBBERING_HTML, "where": where})


def no_tag(request: HttpRequest) -> HttpResponse:
    """A full HTML page without giosg's tag, as many of a site's pages are."""
    return HttpResponse(
        "<!doctype html><html><head><title>no tag</title></head>"
        "<body><p id='body'>no tag</p></body></html>"
    )


urlpatterns = [
    path("no-tag/", no_tag),
    path("clobbered/<str:where>/", clobbered),
    # Ada changing her password on another device (which ends her other sessions).
    path(
        "password/",
        PasswordChangeView.as_view(template_name="plain.html", success_url="/page/"),
    ),
]
