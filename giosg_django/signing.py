"""Signed visitor variables: JWTs as giosg verifies them, and the key that signs them.

The key lets anyone forge any visitor's identity to giosg, so it lives in a :class:`SigningKey`
from the moment it is read: frames, ``repr()``, log records and error reports (Django's DEBUG
page, ``AdminEmailHandler`` e-mails, error trackers' frame locals) then show a mask, never the
key. The HMAC is computed here from the key's bytes (``hmac``, as PyJWT's HMAC algorithm does),
so no PyJWT frame ever holds the key; the token is the one ``jwt.encode(payload, key, alg)``
makes.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from django.views.decorators.debug import sensitive_variables

ALGORITHMS = ("HS256", "HS384", "HS512")
# RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output.
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

MASK = "********"

_ENCODER = json.JSONEncoder(separators=(",", ":"))
_encode_string = json.encoder.encode_basestring_ascii  # what _ENCODER does with a str

# A token is reused only when it is the very token signing now makes: looked up by the
# algorithm and the payload's exact text, ``exp`` (whole seconds) included, so ``exp`` is always
# the render time plus TOKEN_TTL (CONTRACT.md). Renders of one visitor within a second (an htmx
# burst, parallel requests) then cost no HMAC and no base64. Per key, only the current second's
# tokens are kept, at most this many (then they start again), so memory stays bounded.
TOKENS_PER_KEY = 1024
REUSED_UP_TO = 2048  # characters of payload: an identity's is ~100; a larger one is not kept


class _Tokens(dict[str, str]):
    """The tokens a key signed with one ``exp`` (within one second): algorithm and payload ->
    token. A dict, asked without a call of its own; its repr() never shows a token."""

    __slots__ = ("exp",)

    def __init__(self, exp: int) -> None:
        super().__init__()
        self.exp = exp

    def __repr__(self) -> str:
        return f"<tokens of one second: {len(self)}>"


class SigningKey:
    """``SIGNING_KEY``'s value (or what its callable returned), shown as a mask everywhere.

    Not a ``str`` subclass: error trackers write ``str`` subclasses out as text, and do not
    honour Django's ``sensitive_variables``; they show other objects by ``repr()``. A value that
    cannot sign (the wrong type, text UTF-8 cannot encode) is kept as its ``problem``, a
    description without the value, and refuses to sign; ``kind`` is the type it was given as.
    """

    __slots__ = ("_pads", "_secret", "_tokens", "kind", "problem")

    _pads: dict[str, tuple[Any, Any]]
    _secret: bytes | None
    _tokens: _Tokens | None
    kind: str
    problem: str | None

    def __init__(
        self, secret: bytes | None, *, kind: str = "str", problem: str | None = None
    ) -> None:
        object.__setattr__(self, "_secret", secret)
        # Per algorithm, the hashes of the key's two pads (``_keyed_pads``), made once: each
        # token copies them (preparing them is about half of an HMAC of a token's size, and
        # hmac.HMAC's copy() runs Python code). Never shown, as the key.
        object.__setattr__(self, "_pads", {})
        # Tokens signed with this key, for reuse (``sign``): algorithm and payload -> token.
        # Never shown: it is no part of repr() or str().
        object.__setattr__(self, "_tokens", None)  # made on the first token
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
        pads = self._pads.get(algorithm)
        if pads is None:  # a race makes two, alike: either is kept
            pads = self._pads[algorithm] = _keyed_pads(self._secret, _HASHES[algorithm])
        inner, outer = pads[0].copy(), pads[1].copy()
        inner.update(message)
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest


@sensitive_variables()
def _keyed_pads(secret: bytes, new_hash: Any) -> tuple[Any, Any]:
    """HMAC (RFC 2104) up to the message: the hash objects of the key XOR ipad and of the key
    XOR opad, as the ``hmac`` module computes them (a key longer than the hash's block is
    hashed first). ``HMAC(m) = H(opad_state + H(ipad_state + m))``."""
    block = new_hash().block_size
    if len(secret) > block:
        secret = new_hash(secret).digest()
    secret = secret.ljust(block, b"\0")
    return new_hash(secret.translate(hmac.trans_36)), new_hash(secret.translate(hmac.trans_5C))


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
    return _base64url(header.encode())


@sensitive_variables("key")
def sign(variables: Mapping[str, Any], *, key: SigningKey, algorithm: str, ttl: int) -> str:
    """The token giosg takes as ``submit``'s first argument: the variables plus ``exp``
    (UTC UNIX seconds, now + ``ttl``). The token signed earlier with this key for the same
    algorithm and payload text (``exp`` included) is reused (``TOKENS_PER_KEY``)."""
    if not isinstance(key, SigningKey):
        raise TypeError(f"key must be a SigningKey, not {type(key).__name__}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"SIGNING_ALGORITHM must be one of {', '.join(ALGORITHMS)}")
    if type(ttl) is not int:
        raise TypeError(f"TOKEN_TTL must be a positive int, not {type(ttl).__name__}")
    if ttl <= 0:
        raise ValueError(f"TOKEN_TTL must be a positive int, not {ttl}")
    exp = int(time.time()) + ttl
    payload = _payload(variables, exp)
    tokens = key._tokens
    lookup = algorithm + payload
    if tokens is not None and tokens.exp == exp:
        made = tokens.get(lookup)
        if made is not None:
            return made
    signing_input = _header(algorithm) + b"." + _base64url(payload.encode())
    signature = key.digest(signing_input, algorithm)
    token = (signing_input + b"." + _base64url(signature)).decode("ascii")
    if len(payload) <= REUSED_UP_TO:
        if tokens is None or tokens.exp != exp:
            # The last second's tokens are of no more use. (A race may make two: one is kept,
            # the other's tokens are lost; a dict's own operations are safe across threads.)
            tokens = _Tokens(exp)
            object.__setattr__(key, "_tokens", tokens)
        elif len(tokens) >= TOKENS_PER_KEY:
            tokens.clear()
        tokens[lookup] = token
    return token


_SCALARS = {True: "true", False: "false", None: "null"}

# The payload's text before "exp", by the variables' items: a visitor's identity is the same on
# each page, so it is written once. Only for str names and values: 1 == True == 1.0, so items
# holding those would share an entry, but no str equals anything but a str (what reaches here is
# plain JSON data, ``calls.to_json_data``'s). At most this many (then they start again), each
# of at most REUSED_UP_TO characters, so memory stays bounded.
_STARTS: dict[tuple[Any, ...], str] = {}
STARTS_KEPT = 1024


def _payload(variables: Mapping[str, Any], exp: int) -> str:
    """``json.dumps({**variables, "exp": exp}, separators=(",", ":"))``, as PyJWT writes the
    payload. A dict of str names and str, int, bool or None values (the identity's) is written
    here, as the encoder writes each (its Python-level set-up costs more than the writing);
    anything else goes through the encoder."""
    # A plain dict only: {**mapping} reads a subclass's own storage, not its items() (Django's
    # MultiValueDict overrides that), and the encoder below sees what {**mapping} gives.
    if type(variables) is dict and "exp" not in variables:
        # The types first: a stored key is all str, and types compare by identity, so a str
        # subclass with its own == or hash (sign() called directly) never matches one.
        items = (*map(type, variables), *map(type, variables.values()), *variables.items())
        try:
            start = _STARTS.get(items)
        except TypeError:  # an unhashable value (a list, a dict): never kept
            start = _start(variables, keep=None)
        else:
            if start is None:
                start = _start(variables, keep=items)
        if start is not None:
            return start + '"exp":' + int.__repr__(exp) + "}"
    return _ENCODER.encode({**variables, "exp": exp})


def _start(variables: dict[Any, Any], *, keep: tuple[Any, ...] | None) -> str | None:
    """The payload's text up to ``"exp":``, ``None`` when the encoder must write it; kept for
    ``keep`` (the items) when every name and value is a str."""
    parts = []
    only_str = True
    for name, value in variables.items():
        kind = type(value)
        if type(name) is not str:
            return None
        if kind is str:
            text = _encode_string(value)
        elif kind is int:
            text = int.__repr__(value)
            only_str = False
        elif kind is bool or value is None:
            text = _SCALARS[value]
            only_str = False
        else:
            return None
        parts.append(_encode_string(name) + ":" + text + ",")
    start = "{" + "".join(parts)
    if only_str and keep is not None and len(start) <= REUSED_UP_TO:
        if len(_STARTS) >= STARTS_KEPT:
            _STARTS.clear()
        _STARTS[keep] = start
    return start


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _base64url(data: bytes) -> bytes:
    """Base64url without padding (RFC 7515), as PyJWT's ``base64url_encode``."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")
