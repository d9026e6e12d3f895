"""ASGI entry point of the example site (``uvicorn demo_site.asgi:application``, from
example_project/). GiosgMiddleware is async capable: the pages behave the same here."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")

application = get_asgi_application()
