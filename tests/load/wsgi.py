"""WSGI entry point for gunicorn (``tests.load.wsgi:application``)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
