from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

MENU = [{"url": f"/section/{i}/", "label": f"Section {i}"} for i in range(8)]
ROWS = [{"title": f"Article {i}", "text": "Lorem ipsum dolor sit amet.\n" * 5} for i in range(20)]


def page(request, giosg):
    context = {"title": "Benchmark page", "menu": MENU, "rows": ROWS, "giosg": giosg == "yes"}
    return render(request, "page.html", context)


def api(request):
    return JsonResponse({"ok": True, "items": [1, 2, 3]})


def tag(request):
    return render(request, "tag.html")


urlpatterns = [
    path("page/<str:giosg>/", page),
    path("api/", api),
    path("tag/", tag),
]
