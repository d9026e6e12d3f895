"""Settings for the benchmarks: a plain project, as a site would configure it."""

SECRET_KEY = "giosg-django-benchmarks-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "giosg_django",
    # The nearest peer, measured beside giosg_django on the same page (``make bench`` installs it).
    "analytical",
]
WITH_GIOSG = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "giosg_django.middleware.GiosgMiddleware",
]
WITHOUT_GIOSG = WITH_GIOSG[:2]
MIDDLEWARE = WITH_GIOSG
ROOT_URLCONF = "benchmarks.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": ["benchmarks/templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    ["django.template.loaders.filesystem.Loader"],
                )
            ],
        },
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
GIOSG = {
    "COMPANY_ID": "benchmark-company",
    "SIGNING_KEY": "s" * 64,
}

# django-analytical's Intercom tag, with identity verification (an HMAC of the user id).
INTERCOM_APP_ID = "abc123xyz"
INTERCOM_HMAC_SECRET_KEY = "s" * 64
