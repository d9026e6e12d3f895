from django.apps import AppConfig


class GiosgDjangoConfig(AppConfig):
    """The app (``INSTALLED_APPS``); its settings are ``conf.GiosgSettings``."""

    name = "giosg_django"
    verbose_name = "giosg"

    def ready(self) -> None:
        # Importing these registers the system checks and connects the login/logout receivers.
        from . import checks, receivers  # noqa: F401
        from .api import install_request_giosg

        install_request_giosg()  # request.giosg: made on first use, or says what is missing
