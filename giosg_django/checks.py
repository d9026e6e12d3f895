"""System checks for ``settings.GIOSG`` and the middleware order (``manage.py check``).

=========== ======= ==================================================================
id          level   problem (and what to do)
=========== ======= ==================================================================
giosg.W001  warning ``COMPANY_ID`` missing: no loader is rendered; set the id from the
                    giosg console, or a callable ``(request) -> str | None``.
giosg.E002  error   ``SIGNING_ALGORITHM`` is not ``HS256``/``HS384``/``HS512``.
giosg.W003  warning a static ``SIGNING_KEY`` shorter than the hash size of the algorithm
                    (32/48/64 bytes, RFC 7518 section 3.2); use a longer secret.
giosg.E004  error   a dotted path in ``VISITOR_VARIABLES``, ``VISITOR_IDENTIFIER`` or
                    ``ENABLED`` does not import, or names something not callable.
giosg.E005  error   ``TOKEN_TTL``, ``MAX_PENDING`` or ``MAX_PENDING_BYTES`` is not a positive
                    int.
giosg.E006  error   an unknown key in ``GIOSG``; the message names the closest valid key.
giosg.E007  error   ``GiosgMiddleware`` installed without ``SessionMiddleware`` and
                    ``AuthenticationMiddleware`` both before it.
giosg.W008  warning Django's whole-site cache middleware installed with ``GiosgMiddleware``:
                    it would serve one user's giosg data to others.
giosg.E009  error   ``settings.GIOSG`` is not a dict (no other ``GIOSG`` check runs then).
giosg.E010  error   a value of the wrong type (one message per key, naming the type found;
                    for ``SIGNING_KEY`` the type only, never the value): ``HOST`` not an
                    ``http(s)://`` origin, ``LOGIN_GOAL`` not a non-blank string,
                    ``SIGNING_KEY`` neither a string nor a callable (or a string holding
                    characters UTF-8 cannot encode), a bool key not ``True``/``False``...
giosg.E011  error   ``PENDING_STORAGE`` does not import, or is not a ``PendingStorage``
                    subclass.
giosg.E012  error   ``CacheStorage`` with a ``PENDING_CACHE`` that is not in ``CACHES``.
giosg.W013  warning ``CacheStorage`` on a cache that worker processes do not share
                    (local-memory, dummy): calls queued by one worker are lost to the others.
giosg.W014  warning ``CacheStorage`` on a RedisCache with several servers, which reads from
                    replicas that may lag (a waiting call would look taken, and be lost).
giosg.W015  warning ``GiosgMiddleware`` installed but the sync endpoint (``giosg_django.urls``)
                    not in the URLconf: pages that do not reload miss their calls.
giosg.W016  warning ``GiosgMiddleware`` not in ``MIDDLEWARE``: no ``request.giosg``, queue,
                    logout or login handling; add it after ``AuthenticationMiddleware``.
giosg.W017  warning a ``DjangoTemplates`` backend without the ``request`` context processor:
                    the tag never sees the request (no identity, no calls).
=========== ======= ==================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from . import conf
from .signing import ALGORITHMS, MIN_KEY_BYTES, SigningKey

GIOSG_MIDDLEWARE = "giosg_django.middleware.GiosgMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
# CacheMiddleware subclasses UpdateCacheMiddleware, the half that stores responses.
CACHE_MIDDLEWARE = "django.middleware.cache.UpdateCacheMiddleware"

BOOL_KEYS = (
    "CLOSE_CHAT_ON_LOGOUT",
    "CLEAR_VARIABLES_ON_LOGOUT",
    "AUTO_INJECT",
    "HTMX",
    "CROSS_TAB_LOGOUT",
    "IDENTIFY_IMPERSONATED",
)
POSITIVE_INT_KEYS = ("TOKEN_TTL", "MAX_PENDING", "MAX_PENDING_BYTES")


# --- settings.GIOSG ----------------------------------------------------------------------


@register()
@sensitive_variables()
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Every check on the ``GIOSG`` dict, in id order. The project's dict itself is never
    bound to a local here (it holds the key in clear; an error tracker's excepthook collects
    frame locals when ``check`` fails), and no check lets an exception out."""
    if not isinstance(getattr(settings, "GIOSG", {}), Mapping):
        return [
            Error(
                f"settings.GIOSG must be a dict, not {_type_name(settings.GIOSG)}.",
                hint='Set GIOSG = {"COMPANY_ID": "..."}, or remove it to use the defaults.',
                id="giosg.E009",
            )
        ]
    # Read the settings afresh (not the cached get_config()) so a check reports what is set
    # now; a literal SIGNING_KEY comes held in a SigningKey, which shows no value.
    values = conf.merged_settings()
    return [
        *_check_company_id(values),
        *_check_signing(values),
        *_check_dotted_paths(values),
        *_check_positive_ints(values),
        *_check_unknown_keys(list(conf.user_settings())),
        *_check_types(values),
        *_check_storage(values),
    ]


def _check_company_id(values: Mapping[str, Any]) -> list[CheckMessage]:
    value = values["COMPANY_ID"]
    # A string of spaces renders a loader for no organisation: as good as missing.
    if value is None or (isinstance(value, str) and not value.strip()):
        return [
            Warning(
                "GIOSG['COMPANY_ID'] is not set: the giosg loader is not rendered.",
                hint="Set GIOSG['COMPANY_ID'] to your organisation id from the giosg console, "
                "or to a callable (request) -> str | None when you serve several sites.",
                id="giosg.W001",
            )
        ]
    return []


@sensitive_variables("key", "values")
def _check_signing(values: Mapping[str, Any]) -> list[CheckMessage]:
    algorithm = values["SIGNING_ALGORITHM"]
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        return [
            Error(
                f"GIOSG['SIGNING_ALGORITHM'] is {algorithm!r}, not one of {', '.join(ALGORITHMS)}.",
                hint="Set GIOSG['SIGNING_ALGORITHM'] to the algorithm chosen in the giosg "
                "console: 'HS256', 'HS384' or 'HS512'.",
                id="giosg.E002",
            )
        ]
    key = values["SIGNING_KEY"]
    # Only a literal key can be measured (None: no key, or a blank one); the wrong type is
    # E010's business.
    if not isinstance(key, SigningKey) or key.kind != "str":
        return []
    if key.problem is not None:
        return [
            Error(
                f"GIOSG['SIGNING_KEY'] {key.problem}.",
                hint="Copy the key from the giosg console again; an environment variable "
                "holding bytes that are not UTF-8 is used as those bytes.",
                id="giosg.E010",
            )
        ]
    size, minimum = key.size, MIN_KEY_BYTES[algorithm]
    if size >= minimum:
        return []
    return [
        Warning(
            f"GIOSG['SIGNING_KEY'] is {size} bytes long, shorter than the {minimum} bytes "
            f"of the {algorithm} hash (RFC 7518 section 3.2).",
            hint=f"Generate a key of at least {minimum} bytes in the giosg console and set it "
            "in GIOSG['SIGNING_KEY'] (from the environment, not from source control).",
            id="giosg.W003",
        )
    ]


def _check_dotted_paths(values: Mapping[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key in conf.DOTTED_PATH_KEYS:
        path = values[key]
        # Other types are the type check's business (E010).
        if isinstance(path, str):
            problem = _import_problem(path)
            if problem:
                messages.append(
                    Error(
                        f"GIOSG[{key!r}] = {path!r} {problem}.",
                        hint=f"Point GIOSG[{key!r}] at a function taking the request "
                        "(module.function), or set the callable itself.",
                        id="giosg.E004",
                    )
                )
    return messages


def _import_problem(path: str) -> str | None:
    try:
        target = import_string(path)
    except ImportError as exc:
        return f"does not import ({exc})"
    except Exception as exc:
        # The module itself fails as it is imported: report it, as Django reports a URLconf
        # that raises, instead of letting check (and runserver, migrate) crash.
        return f"fails as it is imported ({type(exc).__name__}: {exc!s:.200})"
    if not callable(target):
        return f"imports a {_type_name(target)}, which is not callable"
    return None


def _check_positive_ints(values: Mapping[str, Any]) -> list[CheckMessage]:
    return [
        Error(
            f"GIOSG[{key!r}] must be a positive int, not {_describe(values[key])}.",
            hint=f"Set GIOSG[{key!r}] to a whole number above 0, or remove it to use the "
            f"default ({conf.DEFAULTS[key]}).",
            id="giosg.E005",
        )
        for key in POSITIVE_INT_KEYS
        if not _is_positive_int(values[key])
    ]


def _is_positive_int(value: object) -> bool:
    # bool is an int subclass, but True is not a TTL.
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_unknown_keys(given: list[Any]) -> list[CheckMessage]:
    valid = list(conf.DEFAULTS)
    messages: list[CheckMessage] = []
    for key in given:
        if key in conf.DEFAULTS:
            continue
        suggestion = _closest_key(str(key), valid)
        guess = f"did you mean {suggestion!r}?" if suggestion else "no valid key is close to it."
        messages.append(
            Error(
                f"Unknown key {key!r} in settings.GIOSG; {guess}",
                hint=f"Rename or remove it. Valid keys: {', '.join(valid)}.",
                id="giosg.E006",
            )
        )
    return messages


def _closest_key(key: str, valid: list[str]) -> str | None:
    # Compare upper-cased so "company_id" and "Compny_Id" find COMPANY_ID.
    matches = difflib.get_close_matches(key.upper(), valid, n=1)
    return matches[0] if matches else None


def _check_types(values: Mapping[str, Any]) -> list[CheckMessage]:
    rules: dict[str, tuple[Callable[[Any], bool], str]] = {
        "COMPANY_ID": (_none_str_or_callable, "a string, a callable or None"),
        "SIGNING_KEY": (_none_key_or_callable, "a string, a callable or None"),
        "HOST": (conf.is_origin, "an origin starting with 'https://' (or 'http://')"),
        **{key: (_is_bool, "True or False") for key in BOOL_KEYS},
        "ENABLED": (_bool_str_or_callable, "a bool, a dotted path or a callable"),
        "VISITOR_VARIABLES": (_none_str_or_callable, "a dotted path, a callable or None"),
        "VISITOR_IDENTIFIER": (_none_str_or_callable, "a dotted path, a callable or None"),
        "LOGIN_GOAL": (_none_or_nonblank_str, "a goal id (a non-blank string) or None"),
        "PENDING_CACHE": (_is_str, "a cache alias (a string)"),
    }
    return [
        Error(
            f"GIOSG[{key!r}] must be {expected}, not {_describe(values[key])}.",
            hint=f"Set GIOSG[{key!r}] to {expected}, or remove it to use the default "
            f"({conf.DEFAULTS[key]!r}).",
            id="giosg.E010",
        )
        for key, (valid, expected) in rules.items()
        if not valid(values[key])
    ]


def _none_str_or_callable(value: object) -> bool:
    return value is None or isinstance(value, str) or callable(value)


def _none_key_or_callable(value: object) -> bool:
    # merged_settings() holds a literal in a SigningKey, which remembers the type given.
    held = isinstance(value, SigningKey) and value.kind == "str"
    return value is None or callable(value) or held


def _bool_str_or_callable(value: object) -> bool:
    return isinstance(value, (bool, str)) or callable(value)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _none_or_nonblank_str(value: object) -> bool:
    return value is None or (isinstance(value, str) and bool(value.strip()))


def _describe(value: object) -> str:
    if isinstance(value, SigningKey):
        return value.kind  # the type the key was given as; never its value
    return f"{_type_name(value)} {value!r:.200}"


def _type_name(value: object) -> str:
    return type(value).__name__


# Cache backends that keep their entries in one process (or nowhere): each worker then has
# its own store, and a call queued by one worker never reaches a page another one serves.
UNSHARED_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
CACHE_STORAGE = "giosg_django.storage.CacheStorage"


def _check_storage(values: Mapping[str, Any]) -> list[CheckMessage]:
    path = values["PENDING_STORAGE"]
    problem = None
    if not isinstance(path, str):
        problem = f"must be a dotted path (a string), not {_type_name(path)}"
    else:
        try:
            target = import_string(path)
        except ImportError as exc:
            problem = f"does not import ({exc})"
        else:
            from .storage import PendingStorage

            if not (isinstance(target, type) and issubclass(target, PendingStorage)):
                problem = "is not a subclass of giosg_django.storage.PendingStorage"
    if problem is not None:
        return [
            Error(
                f"GIOSG['PENDING_STORAGE'] = {path!r:.200} {problem}.",
                hint="Use giosg_django.storage.SessionStorage (the default), CacheStorage or "
                "DatabaseStorage, or the dotted path of your own PendingStorage subclass.",
                id="giosg.E011",
            )
        ]
    from .storage import CacheStorage

    if not issubclass(target, CacheStorage):
        return []
    alias = values["PENDING_CACHE"]
    caches = getattr(settings, "CACHES", None) or {}
    if not isinstance(alias, str):
        return []  # the type check's business (giosg.E010)
    if alias not in caches:
        return [
            Error(
                f"GIOSG['PENDING_CACHE'] = {alias!r:.200} is not a cache alias in settings.CACHES.",
                hint=f"Set GIOSG['PENDING_CACHE'] to one of {sorted(caches)!r}, or add a cache "
                "under that alias (Redis or memcached, shared by every worker).",
                id="giosg.E012",
            )
        ]
    options = caches[alias] if isinstance(caches[alias], Mapping) else {}
    backend = options.get("BACKEND")
    backend_class = _import_class(backend) if isinstance(backend, str) else None
    unshared = [_import_class(path) for path in UNSHARED_CACHES]
    if backend_class is not None and issubclass(backend_class, tuple(c for c in unshared if c)):
        return [
            Warning(
                f"CacheStorage uses the cache {alias!r} ({backend}), which worker processes do "
                "not share: a call queued by one worker never reaches a page another serves.",
                hint="Point GIOSG['PENDING_CACHE'] at a Redis or memcached cache "
                "(django.core.cache.backends.redis.RedisCache, PyMemcacheCache), or use "
                "giosg_django.storage.DatabaseStorage.",
                id="giosg.W013",
            )
        ]
    if backend_class is not None and issubclass(backend_class, RedisCache):
        location = options.get("LOCATION", "")
        servers = location.split(",") if isinstance(location, str) else list(location)
        if len([server for server in servers if str(server).strip()]) > 1:
            return [
                Warning(
                    f"CacheStorage uses the cache {alias!r}, a RedisCache with several servers: "
                    "Django reads from any of them, and a replica that lags behind the first "
                    "makes a waiting call look taken: it is lost.",
                    hint="Point GIOSG['PENDING_CACHE'] at a cache alias whose LOCATION is the "
                    "primary server alone.",
                    id="giosg.W014",
                )
            ]
    return []


# --- settings.MIDDLEWARE -----------------------------------------------------------------


@register()
def check_middleware(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """GiosgMiddleware needs the session and the user, and no shared page cache after it."""
    configured = getattr(settings, "MIDDLEWARE", None) or []
    middleware = [entry for entry in configured if isinstance(entry, str)]
    giosg_at = _first_index(middleware, GIOSG_MIDDLEWARE)
    if giosg_at is None:
        return [
            Warning(
                f"{GIOSG_MIDDLEWARE} is not in settings.MIDDLEWARE: pages get the loader and "
                "the identity, but request.giosg, the calls queued for later pages, the "
                "logout and login handling and the sync endpoint do not work.",
                hint=f"Add '{GIOSG_MIDDLEWARE}' to MIDDLEWARE, after '{AUTH_MIDDLEWARE}'.",
                id="giosg.W016",
            )
        ]
    return [
        *_check_before(middleware, giosg_at, SESSION_MIDDLEWARE),
        *_check_before(middleware, giosg_at, AUTH_MIDDLEWARE),
        *_check_cache(middleware),
    ]


def _check_before(middleware: list[str], giosg_at: int, required: str) -> list[CheckMessage]:
    required_at = _first_index(middleware, required)
    if required_at is not None and required_at < giosg_at:
        return []
    where = "is missing from" if required_at is None else f"comes after {GIOSG_MIDDLEWARE} in"
    return [
        Error(
            f"{required} {where} settings.MIDDLEWARE.",
            hint=f"Put '{required}' before '{GIOSG_MIDDLEWARE}' in MIDDLEWARE: giosg keeps "
            "pending calls in the session and reads the signed-in user.",
            id="giosg.E007",
        )
    ]


def _check_cache(middleware: list[str]) -> list[CheckMessage]:
    if _first_index(middleware, CACHE_MIDDLEWARE) is None:
        return []
    return [
        Warning(
            "Django's whole-site cache middleware is installed with GiosgMiddleware: it would "
            "store pages carrying one user's giosg data and serve them to others.",
            hint="Remove django.middleware.cache.UpdateCacheMiddleware/CacheMiddleware from "
            "MIDDLEWARE, or cache per view with vary_on_cookie / cache_control(private=True).",
            id="giosg.W008",
        )
    ]


def _first_index(middleware: list[str], path: str) -> int | None:
    """Where ``path``, or a subclass of it, first appears in ``middleware``."""
    base = _import_class(path)
    for index, entry in enumerate(middleware):
        if entry == path:
            return index
        if base is not None:
            cls = _import_class(entry)
            if cls is not None and issubclass(cls, base):
                return index
    return None


def _import_class(path: str) -> type | None:
    # An entry that does not import is Django's problem to report, not ours: skip it.
    try:
        target = import_string(path)
    except ImportError:
        return None
    return target if isinstance(target, type) else None


# --- templates ----------------------------------------------------------------------------

DJANGO_TEMPLATES = "django.template.backends.django.DjangoTemplates"
REQUEST_PROCESSOR = "django.template.context_processors.request"


@register(Tags.templates)
def check_templates(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``{% giosg_visitor %}`` reads the request from the template context: a DjangoTemplates
    backend without the ``request`` context processor renders no identity and no call."""
    messages: list[CheckMessage] = []
    base = _import_class(DJANGO_TEMPLATES)
    for index, engine in enumerate(getattr(settings, "TEMPLATES", None) or []):
        if not isinstance(engine, Mapping):
            continue  # Django's own checks report it
        backend = engine.get("BACKEND")
        found = _import_class(backend) if isinstance(backend, str) else None
        if base is None or found is None or not issubclass(found, base):
            continue  # Jinja2 passes the request itself
        options = engine.get("OPTIONS") or {}
        processors = options.get("context_processors", ()) if isinstance(options, Mapping) else ()
        if REQUEST_PROCESSOR in (processors or ()):
            continue
        name = engine.get("NAME") or f"TEMPLATES[{index}]"
        messages.append(
            Warning(
                f"The DjangoTemplates backend {name!r} lacks the '{REQUEST_PROCESSOR}' context "
                "processor: {% giosg_visitor %} rendered by it never sees the request, so no "
                "page gets the visitor's identity or calls (they wait in storage, unseen).",
                hint=f"Add '{REQUEST_PROCESSOR}' to OPTIONS['context_processors'] of that "
                "backend in settings.TEMPLATES.",
                id="giosg.W017",
            )
        )
    return messages


# --- the sync endpoint ----------------------------------------------------------------------


@register(Tags.urls)
def check_sync_endpoint(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The page client needs ``giosg_django.urls`` for everything a page does without a
    reload: calls queued by fetch(), Turbo, pages the same for everyone, consent banners."""
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    if _first_index([m for m in middleware if isinstance(m, str)], GIOSG_MIDDLEWARE) is None:
        return []
    try:
        reverse("giosg_django:sync")
    except NoReverseMatch:
        pass
    except Exception:
        return []
    else:
        return []
    return [
        Warning(
            "The sync endpoint of giosg_django's page client is not in the URLconf: calls "
            "queued by fetch() requests, pages shown by Turbo, pages with "
            "{% giosg_visitor cacheable %} and consent given without a reload do not reach "
            "giosg until the next full page.",
            hint='Add path("giosg/", include("giosg_django.urls")) to your urlpatterns '
            "(or silence giosg.W015 if every page of the site reloads).",
            id="giosg.W015",
        )
    ]
