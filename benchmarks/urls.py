from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path

MENU = [{"url": f"/section/{i}/", "label": f"Section {i}"} for i in range(8)]
ROWS = [{"title": f"Article {i}", "text": "Lorem ipsum dolor sit amet.\n" * 5} for i in range(20)]


def page(request, giosg):
    # page_yes.html: giosg's tag; page_no.html: no chat tag; page_peer.html: django-analytical's
    # Intercom tag (the nearest peer, identity signed with HMAC). All three extend page.html.
    context = {"title": "Benchmark page", "menu": MENU, "rows": ROWS}
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
