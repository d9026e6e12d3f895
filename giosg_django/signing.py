"""Signed visitor variables: JWTs made with PyJWT's algorithm objects, as giosg verifies them.

``jwt.encode`` prepares the HMAC key again on every call (about a third of its time); a page
signs on every render, so the prepared key and the encoded header are kept per (key,
algorithm). The token is the same one ``jwt.encode(payload, key, algorithm)`` makes.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_encode

ALGORITHMS = ("HS256", "HS384", "HS512")
# RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output.
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

_ENCODER = json.JSONEncoder(separators=(",", ":"))


@functools.lru_cache(maxsize=16)
def _signer(key: str, algorithm: str) -> tuple[Any, Any, bytes]:
    """PyJWT's algorithm object, the key it prepared, and the encoded header segment."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"SIGNING_ALGORITHM must be one of {', '.join(ALGORITHMS)}")
    alg = get_default_algorithms()[algorithm]
    header = json.dumps({"alg": algorithm, "typ": "JWT"}, separators=(",", ":"), sort_keys=True)
    return alg, alg.prepare_key(key), base64url_encode(header.encode())


def sign(variables: Mapping[str, Any], *, key: str, algorithm: str, ttl: int) -> str:
    """The token giosg takes as ``submit``'s first argument: the variables plus ``exp``
    (UTC UNIX seconds, now + ``ttl``)."""
    alg, prepared, header = _signer(key, algorithm)
    payload = _ENCODER.encode({**variables, "exp": int(time.time()) + ttl}).encode()
    signing_input = header + b"." + base64url_encode(payload)
    signature = alg.sign(signing_input, prepared)
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii")
