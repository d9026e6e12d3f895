from django.urls import path

from . import views

urlpatterns = [
    path("page/", views.page, name="page"),
    path("cases/<str:ids>/<str:how>/", views.cases_view, name="cases"),
]
