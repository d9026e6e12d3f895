from django.apps import AppConfig


class GiosgDjangoConfig(AppConfig):
    """The app (``INSTALLED_APPS``); its settings are ``conf.GiosgSettings``."""

    name = "giosg_django"
    verbose_name = "giosg"

    def ready(self) -> None:
        # Importing these registers the system checks and connects the login/logout receivers.
        from . import checks, receivers  # noqa: F401
        from .api import explain_missing_middleware

        explain_missing_middleware()
