"""Minimal settings for the test suite."""

from pathlib import Path

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
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "giosg_django.middleware.GiosgMiddleware",
]

ROOT_URLCONF = "tests.urls"

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

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
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# 64 bytes: long enough for HS512 (RFC 7518 3.2), so no check warns about it.
SIGNING_KEY = "k" * 64

GIOSG = {
    "COMPANY_ID": "test-company",
    "HOST": "https://service.giosg.test",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"giosg_django": {"level": "DEBUG"}},
}
