"""Signing: the token is exactly what ``jwt.encode`` makes, with the key prepared once."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from giosg_django import signing

KEY = "s" * 64
VARIABLES = {"username": "Ada \u00e9", "odd": "\ud800</script>\u2028", "n": [1, 2.5, None, True]}


@pytest.fixture
def frozen(monkeypatch: Any) -> None:
    monkeypatch.setattr(signing.time, "time", lambda: 1_700_000_000.9)


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_same_token_as_jwt_encode(frozen: None, algorithm: str) -> None:
    token = signing.sign(VARIABLES, key=KEY, algorithm=algorithm, ttl=600)
    assert token == jwt.encode({**VARIABLES, "exp": 1_700_000_600}, KEY, algorithm=algorithm)
    payload = jwt.decode(token, KEY, algorithms=[algorithm], options={"verify_exp": False})
    assert payload == {**VARIABLES, "exp": 1_700_000_600}


def test_the_key_is_prepared_once_per_key_and_algorithm(frozen: None, monkeypatch: Any) -> None:
    signing._signer.cache_clear()
    prepared = []
    algorithm = signing.get_default_algorithms()["HS256"]
    original = type(algorithm).prepare_key

    def counting(self: Any, key: Any) -> Any:
        prepared.append(key)
        return original(self, key)

    monkeypatch.setattr(type(algorithm), "prepare_key", counting)
    for _ in range(5):
        signing.sign(VARIABLES, key=KEY, algorithm="HS256", ttl=60)
    signing.sign(VARIABLES, key=KEY + "x", algorithm="HS256", ttl=60)
    assert prepared == [KEY, KEY + "x"]
    signing._signer.cache_clear()


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="SIGNING_ALGORITHM must be one of"):
        signing.sign({}, key=KEY, algorithm="none", ttl=60)
