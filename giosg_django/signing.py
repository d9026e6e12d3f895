"""Signed visitor variables: JWTs as giosg verifies them, and the key that signs them.

The key lets anyone forge any visitor's identity to giosg, so it lives in a :class:`SigningKey`
from the moment it is read: frames, ``repr()``, log records and error reports (Django's DEBUG
page, ``AdminEmailHandler`` e-mails, error trackers' frame locals) then show a mask, never the
key. The HMAC is computed here from the key's bytes (``hmac``, as PyJWT's HMAC algorithm does),
so no PyJWT frame ever holds the key; the token is the one ``jwt.encode(payload, key, alg)``
makes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from django.views.decorators.debug import sensitive_variables
from jwt.utils import base64url_encode

from .memo import Memo

ALGORITHMS = ("HS256", "HS384", "HS512")
# RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output.
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

MASK = "********"

_ENCODER = json.JSONEncoder(separators=(",", ":"))

# A token is reused only while it is the very token signing now would make: the same
# variables, key, algorithm and ``exp`` (whole seconds), so ``exp`` is always the render time
# plus TOKEN_TTL (CONTRACT.md). Renders of one visitor within a second (an htmx burst, parallel
# requests) then cost no HMAC, no JSON and no base64. Per key, for at most this many different
# sets of variables (the oldest is dropped first), so memory stays bounded.
TOKENS_PER_KEY = 1024
# Values reused by identity: of these types only, tagged with their type, so 1, 1.0 and True
# (equal in Python, different in JSON) never share a token; anything else is signed each time.
_REUSABLE_TYPES = frozenset({str, int, bool, type(None)})


class SigningKey:
    """``SIGNING_KEY``'s value (or what its callable returned), shown as a mask everywhere.

    Not a ``str`` subclass: error trackers write ``str`` subclasses out as text, and do not
    honour Django's ``sensitive_variables``; they show other objects by ``repr()``. A value that
    cannot sign (the wrong type, text UTF-8 cannot encode) is kept as its ``problem``, a
    description without the value, and refuses to sign; ``kind`` is the type it was given as.
    """

    __slots__ = ("_secret", "_tokens", "kind", "problem")

    _secret: bytes | None
    _tokens: Memo[tuple[Any, ...], tuple[str, int]] | None
    kind: str
    problem: str | None

    def __init__(
        self, secret: bytes | None, *, kind: str = "str", problem: str | None = None
    ) -> None:
        object.__setattr__(self, "_secret", secret)
        # Tokens signed with this key, for reuse (``sign``): (algorithm, ttl, variables) ->
        # (token, exp). Never shown: it is no part of repr() or str().
        object.__setattr__(self, "_tokens", None)  # a Memo, made on the first token
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "problem", problem)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("a SigningKey cannot be changed")

    def __repr__(self) -> str:
        return f"SigningKey({MASK})" if self.problem is None else f"SigningKey(unusable: {self})"

    def __str__(self) -> str:
        return MASK if self.problem is None else self.problem

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey) or self._secret is None or other._secret is None:
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        # Pickled, the key would land in a cache, a session or a task queue in clear.
        raise TypeError("a SigningKey is not pickled or copied")

    @property
    def size(self) -> int:
        """The key's length in bytes, as HMAC uses it (0 when it cannot sign)."""
        return 0 if self._secret is None else len(self._secret)

    def digest(self, message: bytes, algorithm: str) -> bytes:
        if self._secret is None:
            raise TypeError(f"GIOSG['SIGNING_KEY'] {self.problem}")
        return hmac.new(self._secret, message, _HASHES[algorithm]).digest()


@sensitive_variables()
def signing_key(value: object, *, source: str = "is") -> SigningKey | None:
    """``value`` as a :class:`SigningKey`; ``None`` for no key (``None``, ``""``, blanks).

    Never raises, so no traceback carries a frame holding the key's text. A string is taken
    as UTF-8, with ``surrogateescape`` for the undecodable bytes ``os.environ`` gives such
    characters (the key is then those very bytes); a wrong type is described by ``source``
    ("is", "returned") and its type only."""
    if value is None:
        return None
    if not isinstance(value, str):
        kind = type(value).__name__
        return SigningKey(None, kind=kind, problem=f"{source} {kind}, not a string or None")
    # str's own methods: a str subclass's overrides could run code with the key, or raise.
    if not str.strip(value):
        return None
    try:
        secret = str.encode(value, "utf-8", "surrogateescape")
    except UnicodeError:
        # UnicodeEncodeError keeps the whole text in its arguments: never let it out.
        problem = f"{source} a string holding characters UTF-8 cannot encode"
        return SigningKey(None, problem=problem)
    return SigningKey(secret)


@functools.lru_cache(maxsize=len(ALGORITHMS))
def _header(algorithm: str) -> bytes:
    """The encoded JOSE header segment, as PyJWT writes it."""
    header = json.dumps({"alg": algorithm, "typ": "JWT"}, separators=(",", ":"), sort_keys=True)
    return base64url_encode(header.encode())


@sensitive_variables("key")
def sign(variables: Mapping[str, Any], *, key: SigningKey, algorithm: str, ttl: int) -> str:
    """The token giosg takes as ``submit``'s first argument: the variables plus ``exp``
    (UTC UNIX seconds, now + ``ttl``). Byte for byte the token signed earlier for the same
    variables, key, algorithm and ``exp`` is reused (``TOKENS_PER_KEY``)."""
    if not isinstance(key, SigningKey):
        raise TypeError(f"key must be a SigningKey, not {type(key).__name__}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"SIGNING_ALGORITHM must be one of {', '.join(ALGORITHMS)}")
    if type(ttl) is not int:
        raise TypeError(f"TOKEN_TTL must be a positive int, not {type(ttl).__name__}")
    if ttl <= 0:
        raise ValueError(f"TOKEN_TTL must be a positive int, not {ttl}")
    now = int(time.time())
    reuse = _reuse_key(variables, algorithm, ttl)
    tokens = key._tokens
    if reuse is not None and tokens is not None:
        made = tokens.get(reuse)
        if made is not None and made[1] == now + ttl:
            return made[0]
    exp = now + ttl
    payload = _ENCODER.encode({**variables, "exp": exp}).encode()
    signing_input = _header(algorithm) + b"." + base64url_encode(payload)
    signature = key.digest(signing_input, algorithm)
    token = (signing_input + b"." + base64url_encode(signature)).decode("ascii")
    if reuse is not None:
        if tokens is None:  # a race may make two: one is kept, the other's tokens are lost
            tokens = Memo(TOKENS_PER_KEY)
            object.__setattr__(key, "_tokens", tokens)
        tokens.put(reuse, (token, exp))
    return token


def _reuse_key(variables: Mapping[str, Any], algorithm: str, ttl: int) -> tuple[Any, ...] | None:
    """What identifies a token for reuse: the variables with their types, the algorithm and
    ``ttl``; ``None`` when a value is not a str, int, bool or None (signed each time)."""
    items: list[Any] = [algorithm, ttl]
    for name, value in variables.items():  # a loop: this runs on every signed-in page
        kind = type(value)
        if kind not in _REUSABLE_TYPES or type(name) is not str:
            return None
        items += (name, kind, value)
    return tuple(items)
