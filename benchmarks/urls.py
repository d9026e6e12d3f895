import functools

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path
from django.utils.safestring import mark_safe

from giosg_django.conf import get_config
from giosg_django.render import client_js

MENU = [{"url": f"/section/{i}/", "label": f"Section {i}"} for i in range(8)]
ROWS = [{"title": f"Article {i}", "text": "Lorem ipsum dolor sit amet.\n" * 5} for i in range(20)]


@functools.cache
def client_text():
    """The page client as {% giosg_visitor %} inlines it, made once (not measured)."""
    return mark_safe(client_js(None, None, get_config()))


def page(request, giosg):
    # page_yes.html: giosg's tag; page_no.html: no chat tag; page_peer.html: django-analytical's
    # Intercom tag (the nearest peer, identity signed with HMAC); page_client.html: the text of
    # giosg's inline page client alone, as a plain string (what its bytes cost a page, with no
    # giosg code run). All extend page.html.
    context = {"title": "Benchmark page", "menu": MENU, "rows": ROWS}
    if giosg == "client":
        context["client"] = client_text()
    return render(request, f"page_{giosg}.html", context)


def api(request):
    return JsonResponse({"ok": True, "items": [1, 2, 3]})


def queue(request):
    # A JSON view that leaves one goal waiting for the next page (the storage benchmark).
    request.giosg.goal.matches("bench-goal")
    return JsonResponse({"queued": True})


def tag(request):
    return render(request, "tag.html")


urlpatterns = [
    path("page/<str:giosg>/", page),
    path("api/", api),
    path("tag/", tag),
    path("queue/", queue),
    path("giosg/", include("giosg_django.urls")),
]
