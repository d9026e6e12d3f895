"""Signed visitor variables: a JWT made with PyJWT, as giosg verifies them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

ALGORITHMS = ("HS256", "HS384", "HS512")
# RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output.
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


def sign(variables: Mapping[str, Any], *, key: str, algorithm: str, ttl: int) -> str:
    """The token giosg takes as ``submit``'s first argument: the variables plus ``exp``
    (UTC UNIX seconds, now + ``ttl``)."""
    payload = {**variables, "exp": int(time.time()) + ttl}
    return jwt.encode(payload, key, algorithm=algorithm)
