"""Settings of the giosg_django example site, read from the environment with django-environ.

Every variable is optional, so ``make demo`` runs on a fresh machine with no environment at all.
That is *demo mode*: with no ``GIOSG_COMPANY_ID``, giosg's loader points at this site, which
serves a do-nothing stand-in for giosg's script (giosg's servers are never contacted), and the
signing key is derived from ``SECRET_KEY``. The pages say so. Set the variables in the
environment, or in a ``.env`` file next to manage.py (see ``.env.example``):

=================== =====================================================================
variable            default
=================== =====================================================================
GIOSG_COMPANY_ID    unset: demo mode, company id ``giosg-demo-company``
GIOSG_SIGNING_KEY   unset: in demo mode, HMAC-SHA256(SECRET_KEY) as 64 hex characters;
                    with a real company id, no key (variables are sent unsigned)
GIOSG_HOST          ``http://127.0.0.1:8000`` in demo mode, else giosg's service
GIOSG_LOGIN_GOAL    ``demo-login-goal``: goal matched when someone signs in
GIOSG_ORDER_GOAL    ``demo-order-goal``: goal matched with the value of each order
SECRET_KEY          a fixed development key (refused when DEBUG is off)
DEBUG               ``True``
ALLOWED_HOSTS       ``127.0.0.1,localhost``
DATABASE_URL        ``sqlite:///<this folder>/db.sqlite3``
ENV_FILE            ``<this folder>/.env``
=================== =====================================================================
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent  # example_project/

env = environ.Env()
# Values already in the environment win over the file (django-environ never overwrites them).
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment: DEBUG is off.")
    SECRET_KEY = "django-insecure-giosg-example-development-only"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "giosg_django",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After the session and auth middleware: giosg keeps waiting calls in the session and
    # reads the signed-in user (manage.py check reports giosg.E007 otherwise).
    "giosg_django.middleware.GiosgMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",  # {% giosg_visitor %} needs it
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.demo",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"  # served by runserver while DEBUG is on

# --- giosg ---------------------------------------------------------------------------------

DEMO_COMPANY_ID = "giosg-demo-company"
company_id = env.str("GIOSG_COMPANY_ID", default="")
# No company id: demo mode. The pages and the panel say so.
DEMO_MODE = not company_id

signing_key = env.str("GIOSG_SIGNING_KEY", default="")
# In demo mode a key is made up so that signing can be seen at work: derived from SECRET_KEY,
# it stays the same across restarts, and its 64 hex characters are more than the 32 bytes
# HS256 needs (giosg.W003). With a real company id only giosg's own key is any use.
DEMO_SIGNING_KEY = DEMO_MODE and not signing_key
if DEMO_SIGNING_KEY:
    signing_key = hmac.new(
        SECRET_KEY.encode(), b"giosg_django example signing key", hashlib.sha256
    ).hexdigest()

# Goal ids come from the giosg console; the demo's are placeholders.
SHOP_ORDER_GOAL = env.str("GIOSG_ORDER_GOAL", default="demo-order-goal")

GIOSG = {
    "COMPANY_ID": company_id or DEMO_COMPANY_ID,
    # In demo mode the loader fetches /live2/<company id> from this site (shop.views.giosg_stub).
    "HOST": env.str(
        "GIOSG_HOST", default="http://127.0.0.1:8000" if DEMO_MODE else "https://service.giosg.com"
    ),
    "SIGNING_KEY": signing_key or None,
    "LOGIN_GOAL": env.str("GIOSG_LOGIN_GOAL", default="demo-login-goal"),
    # The consent banner's cookie decides whether giosg is on the page at all.
    "ENABLED": "demo_site.giosg.chat_allowed",
}
