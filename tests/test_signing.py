"""Signing: the token is exactly what ``jwt.encode`` makes, and the key never shows.

The key is held in a ``SigningKey`` from the moment it is read; PyJWT never gets it (its frames
would hold it if it raised), and the HMAC is computed from the key's bytes here.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jwt.algorithms import HMACAlgorithm

from giosg_django import signing
from giosg_django.signing import SigningKey, signing_key

KEY = "s" * 64
VARIABLES = {"username": "Ada \u00e9", "odd": "\ud800</script>\u2028", "n": [1, 2.5, None, True]}


@pytest.fixture
def frozen(monkeypatch: Any) -> None:
    monkeypatch.setattr(signing.time, "time", lambda: 1_700_000_000.9)


def held(text: str) -> SigningKey:
    key = signing_key(text)
    assert key is not None
    return key


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_same_token_as_jwt_encode(frozen: None, algorithm: str) -> None:
    token = signing.sign(VARIABLES, key=held(KEY), algorithm=algorithm, ttl=600)
    assert token == jwt.encode({**VARIABLES, "exp": 1_700_000_600}, KEY, algorithm=algorithm)
    payload = jwt.decode(token, KEY, algorithms=[algorithm], options={"verify_exp": False})
    assert payload == {**VARIABLES, "exp": 1_700_000_600}


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_a_key_from_an_environment_variable_with_invalid_utf8_signs_with_its_bytes(
    frozen: None, algorithm: str
) -> None:
    """T7: os.environ gives undecodable bytes as surrogate escapes; the key is those bytes (as
    giosg's console gave them), where UTF-8 encoding alone would raise."""
    raw = b"\xff\xfe-not-utf-8-" * 6
    from_environment = os.fsdecode(raw)  # what os.environ holds for those bytes
    token = signing.sign(VARIABLES, key=held(from_environment), algorithm=algorithm, ttl=600)
    assert token == jwt.encode({**VARIABLES, "exp": 1_700_000_600}, raw, algorithm=algorithm)


def test_pyjwt_never_gets_the_key(frozen: None, monkeypatch: Any) -> None:
    """T3: a PyJWT frame that raised would hold the key as a local, shown by Django's DEBUG
    page and error trackers: PyJWT's key handling is never called."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("PyJWT got the key")

    monkeypatch.setattr(HMACAlgorithm, "prepare_key", refuse)
    monkeypatch.setattr(HMACAlgorithm, "sign", refuse)
    monkeypatch.setattr(jwt, "encode", refuse)
    for algorithm in signing.ALGORITHMS:
        signing.sign(VARIABLES, key=held(KEY), algorithm=algorithm, ttl=60)


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="SIGNING_ALGORITHM must be one of"):
        signing.sign({}, key=held(KEY), algorithm="none", ttl=60)


@pytest.mark.parametrize(("ttl", "error"), [("600", TypeError), (1.5, TypeError), (0, ValueError)])
def test_a_bad_ttl_is_refused(ttl: Any, error: type[Exception]) -> None:
    """T4/T7: an exp that is not now + a positive whole number of seconds is never signed."""
    with pytest.raises(error, match="TOKEN_TTL must be a positive int"):
        signing.sign({}, key=held(KEY), algorithm="HS256", ttl=ttl)


def test_a_plain_string_is_not_a_key() -> None:
    """T3: the key reaches sign() only held, so no frame of ours holds its text."""
    with pytest.raises(TypeError, match="key must be a SigningKey, not str") as info:
        signing.sign({}, key=KEY, algorithm="HS256", ttl=60)  # type: ignore[arg-type]
    assert KEY not in str(info.value)


# --- SigningKey -------------------------------------------------------------------------------


def test_a_held_key_shows_only_a_mask() -> None:
    """T3: repr() (Django's DEBUG page, error trackers' frame locals), str() (log records,
    f-strings) and pickling/copying (caches, sessions, task queues) never give the key."""
    key = held(KEY)
    assert repr(key) == "SigningKey(********)"
    assert str(key) == f"{key}" == "********"
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="not pickled or copied"):
            attempt(key)
    with pytest.raises(AttributeError):
        key._secret = b"x"  # type: ignore[misc]
    assert not isinstance(key, (str, bytes))  # trackers write str subclasses out as text


def test_held_keys_compare_by_value() -> None:
    assert held(KEY) == held(KEY)
    assert held(KEY) != held(KEY + "x")
    assert held(KEY) != KEY


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_no_key(value: str | None) -> None:
    assert signing_key(value) is None


@pytest.mark.parametrize("wrong", [b"k" * 64, bytearray(b"k" * 64), 1234, False, ["k"]])
def test_a_key_of_the_wrong_type_cannot_sign_and_names_only_its_type(wrong: object) -> None:
    """T3/T7: bytes from os.environb, an int: never str()-ed into a key, never shown."""
    key = signing_key(wrong, source="returned")
    assert key is not None
    assert (key.kind, key.problem) == (
        type(wrong).__name__,
        f"returned {type(wrong).__name__}, not a string or None",
    )
    assert "kkk" not in repr(key) + str(key)
    with pytest.raises(TypeError, match=r"SIGNING_KEY'\] returned"):
        key.digest(b"message", "HS256")


def test_text_utf8_cannot_encode_cannot_sign_and_is_never_shown() -> None:
    """T3: UnicodeEncodeError carries the whole text in its arguments (its repr shows it):
    making the key never raises it."""
    secret = "\ud800" + "k" * 63  # a lone high surrogate: not from os.environ, not encodable
    key = signing_key(secret)
    assert key is not None and key.problem == "is a string holding characters UTF-8 cannot encode"
    assert "kkk" not in repr(key) + str(key)
    with pytest.raises(TypeError) as info:
        key.digest(b"message", "HS256")
    assert "kkk" not in repr(info.value)


def test_a_str_subclass_is_read_as_plain_text() -> None:
    """A str subclass's own methods never run with the key (they could log it)."""

    class Loud(str):
        def strip(self, chars: str | None = None) -> str:
            raise AssertionError("strip() ran")

        def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
            raise AssertionError("encode() ran")

    assert signing_key(Loud(KEY)) == held(KEY)


# --- reuse: a token is signed again once its exp would differ --------------------------------


def clock(monkeypatch: Any, start: float) -> list[float]:
    now = [start]
    monkeypatch.setattr(signing.time, "time", lambda: now[0])
    return now


def exp_of(token: str) -> int:
    exp: int = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})["exp"]
    return exp


FLAT = {"username": "Ada", "id": 7, "staff": True, "email": None}


def test_a_token_is_reused_only_while_exp_would_be_the_same(monkeypatch: Any) -> None:
    """CONTRACT: ``exp`` is the render time plus TOKEN_TTL. Within the same whole second the
    token signed before is byte for byte the one signing now makes, so it is reused; a second
    later the token is signed again, with the new ``exp``."""
    now = clock(monkeypatch, 1_700_000_000.0)
    key = held(KEY)
    first = signing.sign(FLAT, key=key, algorithm="HS256", ttl=600)
    assert first == jwt.encode({**FLAT, "exp": 1_700_000_600}, KEY, algorithm="HS256")
    now[0] += 0.9  # the same second
    assert signing.sign(dict(FLAT), key=key, algorithm="HS256", ttl=600) is first
    now[0] += 0.1  # the next second: signed again, valid for the whole TTL from now
    second = signing.sign(FLAT, key=key, algorithm="HS256", ttl=600)
    assert second == jwt.encode({**FLAT, "exp": 1_700_000_601}, KEY, algorithm="HS256")
    now[0] += 299
    assert exp_of(signing.sign(FLAT, key=key, algorithm="HS256", ttl=600)) == 1_700_000_900


def test_a_reused_token_is_never_another_variables_algorithm_ttl_or_key(monkeypatch: Any) -> None:
    clock(monkeypatch, 1_700_000_000.0)
    key = held(KEY)
    base = signing.sign({"n": 1}, key=key, algorithm="HS256", ttl=600)
    # Equal in Python, different in JSON: 1, True and 1.0 never share a token.
    for variables in ({"n": True}, {"n": 1.0}, {"n": 2}, {"m": 1}, {"n": 1, "o": None}):
        token = signing.sign(variables, key=key, algorithm="HS256", ttl=600)
        assert token != base
        assert jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False}) == {
            **variables,
            "exp": 1_700_000_600,
        }
    assert signing.sign({"n": 1}, key=key, algorithm="HS384", ttl=600) != base
    assert signing.sign({"n": 1}, key=key, algorithm="HS256", ttl=601) != base
    other = held("t" * 64)
    assert signing.sign({"n": 1}, key=other, algorithm="HS256", ttl=600) == jwt.encode(
        {"n": 1, "exp": 1_700_000_600}, "t" * 64, algorithm="HS256"
    )
    assert signing.sign({"n": 1}, key=key, algorithm="HS256", ttl=600) == base


def test_reuse_is_by_the_payload_text(monkeypatch: Any) -> None:
    """-0.0 == 0.0 and 1 == True == 1.0 in Python, but JSON writes each differently: a token is
    looked up by the payload's exact text, so each gets its own; any value reuses its own."""
    clock(monkeypatch, 1_700_000_000.0)
    key = held(KEY)
    cases = ({"x": -0.0}, {"x": 0.0}, {"x": 1}, {"x": True}, {"x": 1.0}, {"x": [1, {"a": 2}]})
    tokens = []
    for variables in (*cases, VARIABLES):
        expected = jwt.encode({**variables, "exp": 1_700_000_600}, KEY, algorithm="HS256")
        token = signing.sign(variables, key=key, algorithm="HS256", ttl=600)
        assert token == expected
        assert signing.sign(dict(variables), key=key, algorithm="HS256", ttl=600) is token
        tokens.append(token)
    assert len(set(tokens)) == len(tokens)


def test_a_large_payload_is_signed_but_not_kept(monkeypatch: Any) -> None:
    clock(monkeypatch, 1_700_000_000.0)
    key = held(KEY)
    large = {"bio": "x" * signing.REUSED_UP_TO}
    token = signing.sign(large, key=key, algorithm="HS256", ttl=600)
    assert token == jwt.encode({**large, "exp": 1_700_000_600}, KEY, algorithm="HS256")
    assert key._tokens is None
    assert not any(("bio", large["bio"]) in kept for kept in signing._STARTS)


def test_reuse_keeps_memory_bounded(monkeypatch: Any) -> None:
    now = clock(monkeypatch, 1_700_000_000.0)
    key = held(KEY)
    last = ""
    for n in range(signing.TOKENS_PER_KEY * 2):
        last = signing.sign({"n": n}, key=key, algorithm="HS256", ttl=600)
    assert key._tokens is not None and len(key._tokens) == signing.TOKENS_PER_KEY
    # The newest are kept: the last user signs nothing new.
    again = signing.sign({"n": signing.TOKENS_PER_KEY * 2 - 1}, key=key, algorithm="HS256", ttl=600)
    assert again is last
    assert "eyJ" not in repr(key._tokens) + repr(key) + str(key)
    # A second later no token of the last second is signing's (exp differs): they are dropped.
    now[0] += 1
    later = signing.sign({"n": 0}, key=key, algorithm="HS256", ttl=600)
    assert len(key._tokens) == 1 and exp_of(later) == 1_700_000_601


def test_payload_text_is_kept_for_str_variables_only(monkeypatch: Any) -> None:
    """The payload's start is kept by the variables' items, for str names and values: 1, True
    and 1.0 are equal keys in Python, each written differently in JSON."""
    clock(monkeypatch, 1_700_000_000.0)
    monkeypatch.setattr(signing, "_STARTS", {})
    key = held(KEY)
    decoded = []
    for value in ("1", 1, True, 1.0, None, ["1"], {"a": "1"}):
        token = signing.sign({"v": value}, key=key, algorithm="HS256", ttl=600)
        decoded.append(
            jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})["v"]
        )
        assert token == jwt.encode({"v": value, "exp": 1_700_000_600}, KEY, algorithm="HS256")
    assert decoded == ["1", 1, True, 1.0, None, ["1"], {"a": "1"}]
    assert [type(value) for value in decoded[:4]] == [str, int, bool, float]
    assert list(signing._STARTS) == [(str, str, ("v", "1"))]


class Folded(str):
    """A str whose == and hash ignore case: equal to a kept name or value, written otherwise."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and str.casefold(self) == str.casefold(other)

    def __hash__(self) -> int:
        return hash(str.casefold(self))


def test_kept_payload_text_is_never_another_strings(monkeypatch: Any) -> None:
    """(Review) sign() called directly with a str subclass that equals a kept value: its own
    text is signed, as jwt.encode writes it."""
    monkeypatch.setattr(signing, "_STARTS", {})
    assert signing._payload({"username": "ada"}, 5) == '{"username":"ada","exp":5}'
    for variables in ({"username": Folded("ADA")}, {Folded("USERNAME"): "ada"}):
        expected = json.dumps({**variables, "exp": 5}, separators=(",", ":"))
        assert signing._payload(variables, 5) == expected


def test_payload_texts_kept_are_bounded(monkeypatch: Any) -> None:
    clock(monkeypatch, 1_700_000_000.0)
    monkeypatch.setattr(signing, "_STARTS", {})
    key = held(KEY)
    for n in range(signing.STARTS_KEPT * 2 + 1):
        token = signing.sign({"user": str(n)}, key=key, algorithm="HS256", ttl=600)
        assert len(signing._STARTS) <= signing.STARTS_KEPT
    payload = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert payload["user"] == str(signing.STARTS_KEPT * 2)


def test_names_that_are_not_strings_get_their_own_tokens(monkeypatch: Any) -> None:
    """1 == True as dict keys, but JSON writes "1" and "true": each its own token."""
    clock(monkeypatch, 1_700_000_000.0)
    key = held(KEY)
    signing.sign({1: "x"}, key=key, algorithm="HS256", ttl=600)  # type: ignore[dict-item]
    token = signing.sign({True: "x"}, key=key, algorithm="HS256", ttl=600)  # type: ignore[dict-item]
    assert jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False}) == {
        "true": "x",
        "exp": 1_700_000_600,
    }


# --- the payload written without the encoder, and the key's prepared HMAC ------------------


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    variables=st.dictionaries(
        st.text(max_size=8).filter(lambda name: name != "exp"),
        st.text()
        | st.integers(min_value=-(2**80), max_value=2**80)
        | st.booleans()
        | st.none()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.lists(st.integers(), max_size=3),
        max_size=5,
    ),
    algorithm=st.sampled_from(signing.ALGORITHMS),
)
def test_any_variables_sign_as_jwt_encode(variables: dict[str, Any], algorithm: str) -> None:
    """The payload is written by hand for str/int/bool/None values (the encoder for anything
    else), and the HMAC copies a keyed one: the token is still jwt.encode's, byte for byte."""
    key = signing_key(KEY)
    assert key is not None
    exp = 1_700_000_600
    assert signing._payload(variables, exp) == json.dumps(
        {**variables, "exp": exp}, separators=(",", ":")
    )
    token = signing.sign(variables, key=key, algorithm=algorithm, ttl=600)
    payload = jwt.decode(token, KEY, algorithms=[algorithm], options={"verify_exp": False})
    assert token == jwt.encode(payload, KEY, algorithm=algorithm)
    assert {name: payload[name] for name in variables} == json.loads(json.dumps(variables))


def test_a_variable_named_exp_is_left_to_the_encoder() -> None:
    assert signing._payload({"exp": 1, "a": "b"}, 5) == '{"exp":5,"a":"b"}'
    assert signing._payload({1: "x"}, 5) == '{"1":"x","exp":5}'  # type: ignore[dict-item]


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=300),
    message=st.binary(max_size=500),
    algorithm=st.sampled_from(signing.ALGORITHMS),
)
def test_the_prepared_hmac_is_hmac(secret: bytes, message: bytes, algorithm: str) -> None:
    """Keys shorter than, as long as and longer than the hash's block (64 or 128 bytes)."""
    import hashlib
    import hmac

    key = SigningKey(secret)
    digest_name = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[algorithm]
    expected = hmac.new(secret, message, getattr(hashlib, digest_name)).digest()
    assert key.digest(message, algorithm) == expected
    assert key.digest(message, algorithm) == expected  # the pads are copied, never used up


def test_a_mapping_that_is_not_a_plain_dict_is_written_as_the_encoder_writes_it() -> None:
    """{**mapping} reads a dict subclass's own storage, not its items(): Django's
    MultiValueDict gives lists there. The payload is what the encoder makes of {**mapping}."""
    from collections import OrderedDict

    from django.utils.datastructures import MultiValueDict

    for variables in (
        MultiValueDict({"plan": ["free", "pro"]}),
        OrderedDict(plan="pro", seats=3),
    ):
        expected = json.dumps({**variables, "exp": 60}, separators=(",", ":"))
        assert signing._payload(variables, 60) == expected
