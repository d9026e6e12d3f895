"""``path("giosg/", include("giosg_django.urls"))``: the sync endpoint of the page client,
``reverse("giosg_django:sync")`` (see ``giosg_django.sync``)."""

from django.urls import path

from .sync import sync

app_name = "giosg_django"
urlpatterns = [path("sync/", sync, name="sync")]
