"""``giosg_django.conf``: defaults merged under ``settings.GIOSG``, the cached getter and the
per-request values (dotted paths, callables, literal strings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import RequestFactory, override_settings

from giosg_django import conf
from giosg_django.conf import DEFAULTS, get_config
from giosg_django.signing import SigningKey, signing_key

# Targets for dotted paths ("tests.test_conf.<name>"); each records the requests it gets.
hook_calls: list[tuple[str, Any]] = []


def identifier_hook(request: HttpRequest) -> str:
    hook_calls.append(("identifier", request))
    return "id-1"


def other_identifier_hook(request: HttpRequest) -> str:
    hook_calls.append(("other", request))
    return "id-2"


def variables_hook(request: HttpRequest) -> dict[str, Any]:
    hook_calls.append(("variables", request))
    return {"username": "ann"}


def enabled_hook(request: HttpRequest) -> bool:
    hook_calls.append(("enabled", request))
    return request.GET.get("consent") == "yes"


NOT_A_SETTING = "tests.settings.SECRET_KEY"


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    hook_calls.clear()
    get_config.cache_clear()
    yield
    hook_calls.clear()
    get_config.cache_clear()


@pytest.fixture
def request_() -> HttpRequest:
    return RequestFactory().get("/", {"consent": "yes"})


def giosg(**overlay: Any) -> override_settings:
    return override_settings(GIOSG={**settings.GIOSG, **overlay})


def given(key: str, text: str) -> str | SigningKey | None:
    """What ``per_request(key)`` gives for ``text``: a key comes held in a SigningKey."""
    return signing_key(text) if key == "SIGNING_KEY" else text


# --- merging and caching ----------------------------------------------------------------------


def test_defaults_are_merged_under_the_project_dict() -> None:
    config = get_config()
    assert config["COMPANY_ID"] == "test-company"
    assert config["HOST"] == "https://service.giosg.test"
    for key in set(DEFAULTS) - {"COMPANY_ID", "HOST"}:
        assert config[key] == DEFAULTS[key], key
    assert set(config) == set(DEFAULTS)


def test_defaults_without_a_giosg_setting() -> None:
    with override_settings(GIOSG={}):
        del settings.GIOSG
        # Deleting a setting sends no setting_changed signal (leaving the block does).
        get_config.cache_clear()
        config = get_config()
        assert dict(config) == DEFAULTS
    assert get_config()["COMPANY_ID"] == "test-company"


def test_defaults_are_not_mutated() -> None:
    before = dict(DEFAULTS)
    with giosg(TOKEN_TTL=5, LOGIN_GOAL="g"):
        assert get_config()["TOKEN_TTL"] == 5
    assert before == DEFAULTS


def test_config_is_cached() -> None:
    assert get_config() is get_config()


def test_override_settings_refreshes_and_restores() -> None:
    before = get_config()
    with giosg(COMPANY_ID="other", MAX_PENDING=3):
        inside = get_config()
        assert inside is not before
        assert (inside["COMPANY_ID"], inside["MAX_PENDING"]) == ("other", 3)
        assert inside["HOST"] == "https://service.giosg.test"
        assert get_config() is inside
    after = get_config()
    assert after is not inside
    assert (after["COMPANY_ID"], after["MAX_PENDING"]) == ("test-company", 50)


def test_override_settings_as_decorator() -> None:
    @giosg(HOST="https://other.test")
    def inner() -> str:
        value: str = get_config()["HOST"]
        return value

    assert inner() == "https://other.test"
    assert get_config()["HOST"] == "https://service.giosg.test"


def test_derived_values_are_made_once_per_settings() -> None:
    """``derived``: text every page would build from constant settings, made once; a change of
    settings makes it again from the new ones."""
    made: list[str] = []

    def company(config: Any) -> str:
        made.append(config["COMPANY_ID"])
        return f"company {config['COMPANY_ID']}"

    assert get_config().derived(company) == get_config().derived(company) == "company test-company"
    with giosg(COMPANY_ID="other"):
        assert get_config().derived(company) == "company other"
    assert get_config().derived(company) == "company test-company"
    assert made == ["test-company", "other", "test-company"]


def test_other_settings_keep_the_cache() -> None:
    before = get_config()
    with override_settings(DEBUG=True):
        assert get_config() is before


def test_unknown_key_raises_keyerror() -> None:
    with pytest.raises(KeyError):
        get_config()["NOT_A_KEY"]


def test_non_dict_setting_means_defaults() -> None:
    with override_settings(GIOSG=["COMPANY_ID"]):
        assert get_config()["COMPANY_ID"] is None


# --- dotted paths and callables ---------------------------------------------------------------


def test_dotted_path_is_imported_and_called_with_the_request(request_: HttpRequest) -> None:
    with giosg(
        VISITOR_IDENTIFIER="tests.test_conf.identifier_hook",
        VISITOR_VARIABLES="tests.test_conf.variables_hook",
    ):
        config = get_config()
        assert config.hook("VISITOR_IDENTIFIER") is identifier_hook
        assert config.call_hook("VISITOR_IDENTIFIER", request_) == "id-1"
        assert config.call_hook("VISITOR_VARIABLES", request_) == {"username": "ann"}
    assert hook_calls == [("identifier", request_), ("variables", request_)]


def test_dotted_path_is_imported_once(
    request_: HttpRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    with giosg(VISITOR_IDENTIFIER="tests.test_conf.identifier_hook"):
        config = get_config()
        assert config.call_hook("VISITOR_IDENTIFIER", request_) == "id-1"
        # Rebinding the module attribute is not seen: the import was kept.
        monkeypatch.setattr(f"{__name__}.identifier_hook", other_identifier_hook)
        assert config.call_hook("VISITOR_IDENTIFIER", request_) == "id-1"
        assert get_config().call_hook("VISITOR_IDENTIFIER", request_) == "id-1"
    # A new config (settings changed) imports afresh.
    with giosg(VISITOR_IDENTIFIER="tests.test_conf.identifier_hook"):
        assert get_config().call_hook("VISITOR_IDENTIFIER", request_) == "id-2"


def test_dotted_path_import_error_propagates(request_: HttpRequest) -> None:
    with (
        giosg(VISITOR_IDENTIFIER="tests.test_conf.no_such_hook"),
        pytest.raises(ImportError),
    ):
        get_config().call_hook("VISITOR_IDENTIFIER", request_)


def test_callable_is_called_with_the_request(request_: HttpRequest) -> None:
    with giosg(VISITOR_IDENTIFIER=identifier_hook, VISITOR_VARIABLES=lambda r: {"r": r}):
        config = get_config()
        assert config.call_hook("VISITOR_IDENTIFIER", request_) == "id-1"
        assert config.call_hook("VISITOR_VARIABLES", request_) == {"r": request_}
    assert hook_calls == [("identifier", request_)]


def test_unset_hook_is_none(request_: HttpRequest) -> None:
    assert get_config().call_hook("VISITOR_IDENTIFIER", request_) is None


def test_default_visitor_variables_path_imports() -> None:
    from giosg_django.identity import default_visitor_variables

    assert get_config().hook("VISITOR_VARIABLES") is default_visitor_variables


# --- COMPANY_ID / SIGNING_KEY -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
def test_strings_are_literal_even_when_they_look_like_paths(
    key: str, request_: HttpRequest
) -> None:
    with giosg(**{key: NOT_A_SETTING}):
        assert get_config().per_request(key, request_) == given(key, NOT_A_SETTING)
        assert get_config().per_request(key, None) == given(key, NOT_A_SETTING)
    assert NOT_A_SETTING != settings.SECRET_KEY


def test_company_id_and_signing_key_helpers(request_: HttpRequest) -> None:
    with giosg(COMPANY_ID="tests.test_conf.identifier_hook", SIGNING_KEY="k" * 64):
        config = get_config()
        assert config.company_id(request_) == "tests.test_conf.identifier_hook"
        assert config.signing_key(request_) == signing_key("k" * 64)
    assert hook_calls == []


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
def test_callables_get_the_request(key: str, request_: HttpRequest) -> None:
    seen: list[Any] = []

    def value(request: HttpRequest) -> str:
        seen.append(request)
        return f"for-{request.path}"

    with giosg(**{key: value}):
        assert get_config().per_request(key, request_) == given(key, "for-/")
    assert seen == [request_]


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
def test_callable_without_request_is_unset(key: str) -> None:
    seen: list[Any] = []
    with giosg(**{key: seen.append}):
        assert get_config().per_request(key, None) is None
    assert seen == []


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
@pytest.mark.parametrize("unset", ["", None])
def test_empty_string_and_none_are_unset(
    key: str, unset: str | None, request_: HttpRequest
) -> None:
    with giosg(**{key: unset}):
        assert get_config().per_request(key, request_) is None
    with giosg(**{key: lambda request: unset}):
        assert get_config().per_request(key, request_) is None


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
@pytest.mark.parametrize("wrong", [12345, 0, False, b"k" * 64, bytearray(b"k" * 64), ["k"]])
def test_a_callable_result_of_the_wrong_type_is_a_type_error(
    key: str, wrong: object, request_: HttpRequest
) -> None:
    """T4/T7: a callable returning bytes or False is a fault, not a key (or an id) made of its
    str() ("b'...'", "False"), and the error names the type, never the value (T3)."""
    expected = rf"{key}.*returned {type(wrong).__name__}"
    with giosg(**{key: lambda request: wrong}), pytest.raises(TypeError, match=expected) as info:
        get_config().per_request(key, request_)
    assert "kkk" not in str(info.value)


@pytest.mark.parametrize("key", ["COMPANY_ID", "SIGNING_KEY"])
@pytest.mark.parametrize("wrong", [12345, b"k" * 64, bytearray(b"k" * 64)])
def test_a_literal_of_the_wrong_type_is_a_type_error(
    key: str, wrong: object, request_: HttpRequest
) -> None:
    """T7: the checks report it (E010); at run time it is a fault, never used as its str()."""
    expected = rf"{key}.*is {type(wrong).__name__}"
    with giosg(**{key: wrong}), pytest.raises(TypeError, match=expected) as info:
        get_config().per_request(key, request_)
    assert "kkk" not in str(info.value)


def test_callable_errors_propagate(request_: HttpRequest) -> None:
    def broken(request: HttpRequest) -> str:
        raise RuntimeError("site lookup failed")

    with giosg(COMPANY_ID=broken), pytest.raises(RuntimeError, match="site lookup"):
        get_config().company_id(request_)


def test_whitespace_company_id_is_unset(request_: HttpRequest) -> None:
    with giosg(COMPANY_ID="   "):
        assert get_config().company_id(request_) is None


# --- ENABLED ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_enabled_bool(value: bool, request_: HttpRequest) -> None:
    with giosg(ENABLED=value):
        assert get_config().enabled(request_) is value


def test_enabled_default_is_true(request_: HttpRequest) -> None:
    assert get_config().enabled(request_) is True


def test_enabled_callable(request_: HttpRequest) -> None:
    no = RequestFactory().get("/")
    with giosg(ENABLED=enabled_hook):
        config = get_config()
        assert config.enabled(request_) is True
        assert config.enabled(no) is False
    assert hook_calls == [("enabled", request_), ("enabled", no)]


def test_enabled_dotted_path(request_: HttpRequest) -> None:
    no = RequestFactory().get("/", {"consent": "no"})
    with giosg(ENABLED="tests.test_conf.enabled_hook"):
        config = get_config()
        assert config.enabled(request_) is True
        assert config.enabled(no) is False
    assert hook_calls == [("enabled", request_), ("enabled", no)]


def test_enabled_result_is_a_bool(request_: HttpRequest) -> None:
    with giosg(ENABLED=lambda request: None):
        assert get_config().enabled(request_) is False
    with giosg(ENABLED=lambda request: "yes"):
        assert get_config().enabled(request_) is True


def test_dotted_path_keys_are_the_documented_ones() -> None:
    assert set(conf.DOTTED_PATH_KEYS) == {"VISITOR_VARIABLES", "VISITOR_IDENTIFIER", "ENABLED"}
    assert set(conf.PER_REQUEST_KEYS) == {"COMPANY_ID", "SIGNING_KEY"}


def test_the_settings_are_read_only() -> None:
    """A plain dict lookup to read (every page reads several), but never changed in place:
    override ``settings.GIOSG`` instead, which makes a new one."""
    config = get_config()
    changes = [
        lambda: config.__setitem__("COMPANY_ID", "x"),
        lambda: config.__delitem__("COMPANY_ID"),
        lambda: config.update(COMPANY_ID="x"),
        lambda: config.setdefault("NEW", 1),
        lambda: config.pop("COMPANY_ID"),
        config.popitem,
        config.clear,
    ]
    for change in changes:
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert config["COMPANY_ID"] == "test-company" and get_config() is config


def test_a_misspelt_key_is_masked_however_the_settings_are_read() -> None:
    """A key the app does not know may be a misspelt SIGNING_KEY holding the secret: not in
    the repr, nor in what reads the settings as a mapping."""
    import json

    with giosg(SIGNNG_KEY="s3cret-misspelt"):
        config = get_config()
        for shown in (repr(config), str(dict(config)), json.dumps(config), str({**config})):
            assert "s3cret-misspelt" not in shown
        assert "SIGNNG_KEY=********" in repr(config)


def test_the_settings_copy_and_pickle_as_themselves() -> None:
    import copy
    import pickle

    with giosg(SIGNING_KEY=None):
        config = get_config()
        assert copy.copy(config) is config and copy.deepcopy(config) is config
        again = pickle.loads(pickle.dumps(config))
        assert dict(again) == dict(config) and type(again) is type(config)
