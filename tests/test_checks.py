"""The system checks in ``giosg_django.checks``: one bad setting at a time, ids and levels."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import ERROR, WARNING, CheckMessage, run_checks
from django.core.checks.registry import registry
from django.http import HttpRequest
from django.test import override_settings
from django.urls import include, path

from giosg_django import checks
from giosg_django.middleware import GiosgMiddleware

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
GIOSG = "giosg_django.middleware.GiosgMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
GOOD_MIDDLEWARE = [SESSION, CSRF, AUTH, GIOSG]

# run_checks() also runs Django's URL checks, which import the test project's views: give them
# this URLconf, the sync endpoint alone (giosg.W015), so these tests depend on the checks alone.
urlpatterns: list[Any] = [path("giosg/", include("giosg_django.urls"))]


@pytest.fixture(autouse=True)
def _empty_urlconf() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=__name__):
        yield


class ProjectSessionMiddleware(SessionMiddleware):
    """A project's own session middleware: counts as SessionMiddleware."""


class ProjectAuthMiddleware(AuthenticationMiddleware):
    """A project's own authentication middleware: counts as AuthenticationMiddleware."""


def visitor_variables(request: HttpRequest) -> dict[str, Any] | None:
    """A valid dotted-path target."""
    return None


NOT_CALLABLE = {"username": "not a function"}


def site_value(request: HttpRequest | None) -> str | None:
    return None


def giosg_messages(**giosg: Any) -> list[CheckMessage]:
    """The giosg messages for the test settings' ``GIOSG`` updated with ``giosg``."""
    with override_settings(GIOSG={**settings.GIOSG, **giosg}):
        return giosg_only(run_checks())


def giosg_only(messages: list[CheckMessage]) -> list[CheckMessage]:
    return [m for m in messages if (m.id or "").startswith("giosg.")]


def found(messages: list[CheckMessage]) -> set[tuple[str | None, int]]:
    return {(m.id, m.level) for m in messages}


def middleware_messages(middleware: list[str]) -> list[CheckMessage]:
    with override_settings(MIDDLEWARE=middleware):
        return giosg_only(run_checks())


# --- a good configuration ----------------------------------------------------------------


def test_test_settings_produce_no_giosg_message() -> None:
    # Registered (by AppConfig.ready()), so an empty result means they ran and found nothing.
    assert {checks.check_settings, checks.check_middleware} <= set(registry.get_checks())
    assert giosg_only(run_checks()) == []


def test_every_key_set_validly_produces_no_message() -> None:
    assert (
        giosg_messages(
            SIGNING_KEY="s" * 64,
            SIGNING_ALGORITHM="HS512",
            TOKEN_TTL=60,
            VISITOR_VARIABLES="tests.test_checks.visitor_variables",
            VISITOR_IDENTIFIER=site_value,
            CLOSE_CHAT_ON_LOGOUT=False,
            CLEAR_VARIABLES_ON_LOGOUT=False,
            LOGIN_GOAL="2870f654-c6a7-11e6-8a67-60f81db030fe",
            ENABLED="tests.test_checks.visitor_variables",
            AUTO_INJECT=True,
            MAX_PENDING=1,
            MAX_PENDING_BYTES=1,
            HTMX=False,
            CROSS_TAB_LOGOUT=False,
            IDENTIFY_IMPERSONATED=True,
            HOST="http://localhost:8000",
        )
        == []
    )


def test_callable_company_id_and_signing_key_raise_nothing() -> None:
    assert giosg_messages(COMPANY_ID=site_value, SIGNING_KEY=site_value) == []


def test_visitor_variables_none_means_no_variables() -> None:
    assert giosg_messages(VISITOR_VARIABLES=None) == []


# --- one bad setting per id --------------------------------------------------------------


@pytest.mark.parametrize("company_id", [None, "", "  "])
def test_w001_company_id_missing(company_id: str | None) -> None:
    assert found(giosg_messages(COMPANY_ID=company_id)) == {("giosg.W001", WARNING)}


def test_w001_with_an_empty_giosg_dict() -> None:
    with override_settings(GIOSG={}):
        assert found(giosg_only(run_checks())) == {("giosg.W001", WARNING)}


def test_w001_without_a_giosg_setting() -> None:
    with override_settings():
        del settings.GIOSG  # Undone when the override ends.
        assert found(giosg_only(run_checks())) == {("giosg.W001", WARNING)}


@pytest.mark.parametrize("algorithm", ["RS256", "hs256", "none", None, 256])
def test_e002_signing_algorithm(algorithm: object) -> None:
    assert found(giosg_messages(SIGNING_ALGORITHM=algorithm)) == {("giosg.E002", ERROR)}


@pytest.mark.parametrize(("algorithm", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_w003_key_of_exactly_the_hash_size_passes(algorithm: str, size: int) -> None:
    assert giosg_messages(SIGNING_ALGORITHM=algorithm, SIGNING_KEY="k" * size) == []


@pytest.mark.parametrize(("algorithm", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_w003_key_one_byte_short_warns(algorithm: str, size: int) -> None:
    messages = giosg_messages(SIGNING_ALGORITHM=algorithm, SIGNING_KEY="k" * (size - 1))
    assert found(messages) == {("giosg.W003", WARNING)}
    assert str(size) in messages[0].msg


def test_w003_counts_utf8_bytes_not_characters() -> None:
    # 16 characters, 32 bytes in UTF-8.
    assert giosg_messages(SIGNING_KEY="ä" * 16) == []
    assert found(giosg_messages(SIGNING_KEY="ä" * 15)) == {("giosg.W003", WARNING)}


@pytest.mark.parametrize("key", ["VISITOR_VARIABLES", "VISITOR_IDENTIFIER", "ENABLED"])
@pytest.mark.parametrize(
    "path",
    [
        "tests.no_such_module.function",
        "tests.test_checks.no_such_function",
        "nodots",
        "tests.test_checks.NOT_CALLABLE",
    ],
)
def test_e004_dotted_path(key: str, path: str) -> None:
    messages = giosg_messages(**{key: path})
    assert found(messages) == {("giosg.E004", ERROR)}
    assert key in messages[0].msg
    assert path in messages[0].msg


@pytest.mark.parametrize("key", ["VISITOR_VARIABLES", "VISITOR_IDENTIFIER", "ENABLED"])
def test_e004_a_hook_module_that_raises_as_it_is_imported(key: str) -> None:
    """T7/T3: a hook module failing with something else than ImportError crashed check (and
    runserver, migrate), with the project's GIOSG dict, the key in clear, among the frame
    locals an error tracker's excepthook collects. It is an E004 now."""
    messages = giosg_messages(**{key: "tests.support.hooks.raises_on_import.visitor_variables"})
    assert found(messages) == {("giosg.E004", ERROR)}
    assert "fails as it is imported (RuntimeError" in messages[0].msg


def test_no_local_of_check_settings_holds_the_key_in_clear(monkeypatch: Any) -> None:
    """T3: when something inside check_settings fails, the frames of the traceback (which
    error trackers collect, and Django's reporter shows) never hold the key in clear: the
    project's dict is not bound to a local there, and the merged settings hold it masked."""
    secret = "s3cret-signing-key-" + "x" * 40

    def fail(values: Any) -> list[Any]:
        raise RuntimeError("a check failed")

    monkeypatch.setattr(checks, "_check_types", fail)
    giosg = {**settings.GIOSG, "SIGNING_KEY": secret}
    with override_settings(GIOSG=giosg), pytest.raises(RuntimeError) as caught:
        checks.check_settings()
    frames = []
    tb = caught.value.__traceback__.tb_next  # past this test's own frame, which holds it
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    assert any(frame.f_code.co_name == "check_settings" for frame in frames)
    shown = [repr(value) for frame in frames for value in frame.f_locals.values()]
    assert shown and not any(secret in text for text in shown)


@pytest.mark.parametrize("key", ["TOKEN_TTL", "MAX_PENDING", "MAX_PENDING_BYTES"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "600", None])
def test_e005_not_a_positive_int(key: str, value: object) -> None:
    assert found(giosg_messages(**{key: value})) == {("giosg.E005", ERROR)}


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("COMPNY_ID", "COMPANY_ID"),
        ("company_id", "COMPANY_ID"),
        ("SIGNING_ALGO", "SIGNING_ALGORITHM"),
    ],
)
def test_e006_unknown_key_names_the_closest(key: str, suggestion: str) -> None:
    messages = giosg_messages(**{key: "x"})
    assert found(messages) == {("giosg.E006", ERROR)}
    assert repr(key) in messages[0].msg
    assert repr(suggestion) in messages[0].msg


def test_e006_unknown_key_with_nothing_close() -> None:
    messages = giosg_messages(XYZZY=1)
    assert found(messages) == {("giosg.E006", ERROR)}
    assert "no valid key" in messages[0].msg


@pytest.mark.parametrize(
    ("middleware", "problem"),
    [
        ([CSRF, AUTH, GIOSG], f"{SESSION} is missing"),
        ([SESSION, CSRF, GIOSG], f"{AUTH} is missing"),
        ([SESSION, GIOSG, AUTH], f"{AUTH} comes after"),
        ([AUTH, GIOSG, SESSION], f"{SESSION} comes after"),
    ],
)
def test_e007_middleware_order(middleware: list[str], problem: str) -> None:
    messages = middleware_messages(middleware)
    assert found(messages) == {("giosg.E007", ERROR)}
    assert problem in messages[0].msg


def test_e007_both_missing_gives_one_message_each() -> None:
    messages = middleware_messages([GIOSG])
    assert [m.id for m in messages] == ["giosg.E007", "giosg.E007"]


def test_e007_accepts_subclasses_and_ignores_entries_that_do_not_import() -> None:
    middleware = [
        "tests.test_checks.ProjectSessionMiddleware",
        "tests.no_such_module.Middleware",
        "tests.test_checks.ProjectAuthMiddleware",
        GIOSG,
    ]
    assert middleware_messages(middleware) == []


def test_without_giosg_middleware_the_only_message_says_to_add_it() -> None:
    """W016: the tag works without it, silently without the queue, logout and login handling
    and request.giosg; the order checks (E007, W008) are about it, so they say nothing."""
    (message,) = middleware_messages([CSRF, "django.middleware.cache.UpdateCacheMiddleware"])
    assert (message.id, message.level) == ("giosg.W016", WARNING)
    assert GIOSG in message.msg and "request.giosg" in message.msg
    assert f"'{GIOSG}'" in (message.hint or "") and AUTH in (message.hint or "")
    assert middleware_messages([SESSION, AUTH, "tests.test_checks.ProjectGiosgMiddleware"]) == []


class ProjectGiosgMiddleware(GiosgMiddleware):
    """A project's own subclass: counts as GiosgMiddleware."""


# --- templates ------------------------------------------------------------------------------

REQUEST_PROCESSOR = "django.template.context_processors.request"


def templates_messages(*engines: dict[str, Any]) -> list[CheckMessage]:
    with override_settings(TEMPLATES=list(engines)):
        return giosg_only(run_checks())


def django_templates(*processors: str, **more: Any) -> dict[str, Any]:
    backend = "django.template.backends.django.DjangoTemplates"
    return {"BACKEND": backend, "OPTIONS": {"context_processors": list(processors)}, **more}


def test_a_django_templates_backend_without_the_request_processor_is_a_warning() -> None:
    """W017: the tag then never sees the request: no identity, no calls, silently."""
    (message,) = templates_messages(
        django_templates(REQUEST_PROCESSOR),
        django_templates("django.contrib.auth.context_processors.auth", NAME="emails"),
    )
    assert (message.id, message.level) == ("giosg.W017", WARNING)
    assert "'emails'" in message.msg and REQUEST_PROCESSOR in (message.hint or "")
    (unnamed,) = templates_messages({"BACKEND": django_templates()["BACKEND"]})
    assert unnamed.id == "giosg.W017" and "TEMPLATES[0]" in unnamed.msg


def test_jinja2_and_a_backend_with_the_processor_need_nothing() -> None:
    jinja2 = {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "OPTIONS": {"extensions": ["giosg_django.jinja2.GiosgExtension"]},
    }
    assert templates_messages(django_templates(REQUEST_PROCESSOR), jinja2) == []
    assert templates_messages() == []  # no templates at all: no tag to render


@pytest.mark.parametrize(
    "cache",
    ["django.middleware.cache.UpdateCacheMiddleware", "django.middleware.cache.CacheMiddleware"],
)
def test_w008_whole_site_cache(cache: str) -> None:
    messages = middleware_messages([cache, *GOOD_MIDDLEWARE])
    assert found(messages) == {("giosg.W008", WARNING)}


def test_w008_not_for_the_fetch_half_alone() -> None:
    fetch = "django.middleware.cache.FetchFromCacheMiddleware"
    assert middleware_messages([*GOOD_MIDDLEWARE, fetch]) == []


@pytest.mark.parametrize("value", [None, ["COMPANY_ID"], "test-company"])
def test_e009_giosg_not_a_dict_skips_the_rest(value: object) -> None:
    with override_settings(GIOSG=value):
        messages = giosg_only(run_checks())
    # No W001 although no COMPANY_ID can be read.
    assert found(messages) == {("giosg.E009", ERROR)}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("COMPANY_ID", 1234),
        ("SIGNING_KEY", b"bytes-key-" * 8),
        ("HOST", "service.giosg.com"),
        ("HOST", "//service.giosg.com"),
        ("HOST", None),
        ("CLOSE_CHAT_ON_LOGOUT", 1),
        ("CLEAR_VARIABLES_ON_LOGOUT", "False"),
        ("AUTO_INJECT", None),
        ("HTMX", 0),
        ("CROSS_TAB_LOGOUT", "yes"),
        ("IDENTIFY_IMPERSONATED", 1),
        ("ENABLED", None),
        ("ENABLED", 1),
        ("VISITOR_VARIABLES", {"username": "x"}),
        ("VISITOR_IDENTIFIER", 42),
        ("LOGIN_GOAL", ""),
        ("LOGIN_GOAL", 7),
    ],
)
def test_e010_wrong_type(key: str, value: object) -> None:
    messages = giosg_messages(**{key: value})
    assert found(messages) == {("giosg.E010", ERROR)}
    assert repr(key) in messages[0].msg
    assert type(value).__name__ in messages[0].msg


@pytest.mark.parametrize(
    "host",
    [
        None,  # an unset environment variable
        8000,
        b"https://service.giosg.com",
        "ftp://service.giosg.com",
        "https://",
        "https://service.giosg.com/live2",
        "https://service.giosg.com?x=1",
        "https://service.giosg.com#x",
        "https://user:pw@service.giosg.com",
        "https://service.giosg.com:port",
        "https://service .giosg.com",
        "https://service.giosg.com\n",
    ],
)
def test_e010_host_not_an_http_origin(host: object) -> None:
    """T7: an unset environment variable (None) or bytes took every page with the tag down."""
    messages = giosg_messages(HOST=host)
    assert found(messages) == {("giosg.E010", ERROR)}
    assert "'HOST'" in messages[0].msg


@pytest.mark.parametrize(
    "host", ["https://service.giosg.com", "https://service.giosg.com/", "http://localhost:8000"]
)
def test_an_http_origin_host_passes(host: str) -> None:
    assert giosg_messages(HOST=host) == []


@pytest.mark.parametrize("goal", ["   ", "\t", ["goal-id"], b"goal-id", 7])
def test_e010_login_goal_not_a_non_blank_string(goal: object) -> None:
    """T7: each of these made every login a 500."""
    messages = giosg_messages(LOGIN_GOAL=goal)
    assert found(messages) == {("giosg.E010", ERROR)}
    assert "'LOGIN_GOAL'" in messages[0].msg


SECRET = "Zq7vXp9LwK3mTr" * 5


@pytest.mark.parametrize(
    "key",
    [SECRET.encode(), bytearray(SECRET.encode()), 12345678901234567890, [SECRET]],
    ids=["bytes", "bytearray", "int", "list"],
)
def test_e010_signing_key_of_the_wrong_type_names_the_type_never_the_value(key: object) -> None:
    """T3: the key from os.environb (bytes) was printed by manage.py check into CI and deploy
    logs."""
    messages = giosg_messages(SIGNING_KEY=key)
    assert found(messages) == {("giosg.E010", ERROR)}
    assert f"not {type(key).__name__}." in messages[0].msg
    for message in messages:
        text = f"{message.msg} {message.hint} {message!r} {message}"
        assert "Zq7vXp9LwK3mTr" not in text and "1234567890" not in text


def test_a_key_from_an_environment_variable_with_invalid_utf8_does_not_crash_check() -> None:
    """T7: os.environ gives undecodable bytes as surrogate escapes; W003's UTF-8 length raised
    UnicodeEncodeError (whose repr holds the key). The key is those bytes: it is measured so."""
    assert giosg_messages(SIGNING_KEY=os.fsdecode(b"\xff" * 32)) == []
    messages = giosg_messages(SIGNING_KEY=os.fsdecode(b"\xff" * 31))
    assert found(messages) == {("giosg.W003", WARNING)}
    assert "31 bytes" in messages[0].msg


def test_e010_a_key_utf8_cannot_encode_is_an_error_without_the_value() -> None:
    """T3/T7: a lone surrogate not from os.environ cannot be a key's bytes."""
    messages = giosg_messages(SIGNING_KEY="\ud800" + SECRET)
    assert found(messages) == {("giosg.E010", ERROR)}
    assert "UTF-8 cannot encode" in messages[0].msg
    assert "Zq7vXp9LwK3mTr" not in f"{messages[0].msg} {messages[0].hint}"


def test_e010_one_message_per_bad_key() -> None:
    messages = giosg_messages(HTMX="no", AUTO_INJECT="no")
    assert [m.id for m in messages] == ["giosg.E010", "giosg.E010"]


# --- every message is actionable ---------------------------------------------------------


def test_every_message_has_a_hint() -> None:
    bad: dict[str, Any] = {
        "COMPANY_ID": None,
        "SIGNING_ALGORITHM": "HS256",
        "SIGNING_KEY": "short",
        "VISITOR_IDENTIFIER": "tests.no_such_module.function",
        "TOKEN_TTL": 0,
        "COMPNY_ID": "x",
        "HTMX": "yes",
    }
    with override_settings(
        GIOSG=bad, MIDDLEWARE=["django.middleware.cache.CacheMiddleware", GIOSG]
    ):
        messages = giosg_only(run_checks())
    with override_settings(GIOSG=42):
        messages += giosg_only(run_checks())
    ids = {m.id for m in messages}
    assert ids == {
        "giosg.W001",
        "giosg.W003",
        "giosg.E004",
        "giosg.E005",
        "giosg.E006",
        "giosg.E007",
        "giosg.W008",
        "giosg.E009",
        "giosg.E010",
    }
    assert all(m.hint and m.hint.strip() for m in messages)
    with override_settings(GIOSG={"SIGNING_ALGORITHM": "RS256"}):
        e002 = [m for m in giosg_only(run_checks()) if m.id == "giosg.E002"]
    assert e002
    assert all(m.hint for m in e002)


# --- PENDING_STORAGE and PENDING_CACHE ----------------------------------------------------


@pytest.mark.parametrize(
    "storage",
    [
        "giosg_django.storage.SessionStorage",
        "giosg_django.storage.DatabaseStorage",
        "giosg_django.storage.session.SessionStorage",
    ],
)
def test_a_known_store_is_fine(storage: str) -> None:
    assert giosg_messages(PENDING_STORAGE=storage) == []


@pytest.mark.parametrize(
    ("storage", "problem"),
    [
        ("giosg_django.storage.NoSuchStorage", "does not import"),
        ("nowhere.Storage", "does not import"),
        ("giosg_django.storage.get_storage", "is not a subclass"),
        (42, "must be a dotted path (a string), not int"),
        (None, "must be a dotted path"),
    ],
)
def test_a_store_that_is_not_one_is_an_error(storage: Any, problem: str) -> None:
    (message,) = giosg_messages(PENDING_STORAGE=storage)
    assert (message.id, message.level) == ("giosg.E011", ERROR)
    assert problem in message.msg and "DatabaseStorage" in (message.hint or "")


def test_cache_storage_on_a_shared_cache_is_fine() -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1",
        },
    }
    with override_settings(CACHES=caches):
        assert (
            giosg_messages(
                PENDING_STORAGE="giosg_django.storage.CacheStorage", PENDING_CACHE="redis"
            )
            == []
        )


@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_cache_storage_on_a_cache_workers_do_not_share_is_a_warning(backend: str) -> None:
    caches = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
    with override_settings(CACHES=caches):
        (message,) = giosg_messages(PENDING_STORAGE="giosg_django.storage.CacheStorage")
    assert (message.id, message.level) == ("giosg.W013", WARNING)
    assert "'default'" in message.msg and "RedisCache" in (message.hint or "")


def test_cache_storage_on_a_cache_alias_that_does_not_exist_is_an_error() -> None:
    (message,) = giosg_messages(
        PENDING_STORAGE="giosg_django.storage.CacheStorage", PENDING_CACHE="nope"
    )
    assert (message.id, message.level) == ("giosg.E012", ERROR)
    assert "giosg_pending" in (message.hint or "")  # the aliases there are


def test_a_cache_alias_that_is_not_a_string_is_a_type_error() -> None:
    (message,) = giosg_messages(PENDING_CACHE=3)
    assert (message.id, message.level) == ("giosg.E010", ERROR)


class ProjectLocMemCache(LocMemCache):
    """A project's own local-memory cache: still not shared by worker processes."""


def test_cache_storage_on_a_subclass_of_an_unshared_cache_is_a_warning() -> None:
    caches = {"default": {"BACKEND": f"{__name__}.ProjectLocMemCache"}}
    with override_settings(CACHES=caches):
        (message,) = giosg_messages(PENDING_STORAGE="giosg_django.storage.CacheStorage")
    assert message.id == "giosg.W013"


@pytest.mark.parametrize(
    "location",
    [["redis://127.0.0.1:1", "redis://127.0.0.1:2"], "redis://127.0.0.1:1,redis://127.0.0.1:2"],
    ids=["list", "comma-separated"],
)
def test_cache_storage_on_redis_with_replicas_is_a_warning(location: Any) -> None:
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    }
    with override_settings(CACHES=caches):
        (message,) = giosg_messages(PENDING_STORAGE="giosg_django.storage.CacheStorage")
    assert (message.id, message.level) == ("giosg.W014", WARNING)
    assert "primary" in (message.hint or "")


# --- the sync endpoint --------------------------------------------------------------------


def test_the_sync_endpoint_missing_from_the_urlconf_is_a_warning() -> None:
    without = "tests.support.urls_without_sync"
    with override_settings(ROOT_URLCONF=without):
        (message,) = giosg_only(run_checks())
    assert (message.id, message.level) == ("giosg.W015", WARNING)
    assert 'include("giosg_django.urls")' in (message.hint or "")
    with override_settings(
        ROOT_URLCONF="tests.support.urls_without_sync", MIDDLEWARE=[SESSION, AUTH]
    ):
        # No GiosgMiddleware: no page client to serve (W016 says to add the middleware).
        assert [m.id for m in giosg_only(run_checks())] == ["giosg.W016"]
