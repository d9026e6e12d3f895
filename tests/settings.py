"""Minimal settings for the test suite."""

from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "giosg-django-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "giosg_django",
    "tests",
    "hijack",  # django-hijack, for the impersonation tests
]

MIDDLEWARE = [
    "tests.support.middleware.CaptureMiddleware",
    "tests.support.middleware.PerRequestEngineSessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "giosg_django.middleware.GiosgMiddleware",
]

ROOT_URLCONF = "tests.support.urls"

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    # A second database, for a router that reads from a replica (test_storage_records.py).
    "replica": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/page/"
LOGOUT_REDIRECT_URL = "/page/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# "giosg_pending": the cache CacheStorage uses in the tests run against each storage
# (conftest.py, the ``each_storage`` mark); one process, so local memory is shared enough.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "giosg_pending": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "giosg_pending",
    },
}

GIOSG = {
    "COMPANY_ID": "test-company",
    "HOST": "https://service.giosg.test",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"giosg_django": {"level": "DEBUG"}},
}

# Django 6.1 sends e-mail through named mailers and deprecates having none; the test runner
# swaps each for the local-memory backend (mail.outbox).
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
