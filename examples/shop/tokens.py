"""Bearer tokens: ``<payload>.<signature>``, the payload a base64 JSON ``{"sub", "exp"}``
signed with HMAC-SHA256. (A real app might use JWTs; this keeps the example free of
dependencies.)"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from .models import TOKEN_TTL
from .store import Store, User

SECRET_KEY = b"a real app reads its secret from its settings"


class InvalidToken(Exception):
    """The token is missing, forged, expired, or names no user; the message says which."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(payload: str) -> str:
    return _b64encode(hmac.new(SECRET_KEY, payload.encode(), hashlib.sha256).digest())


def issue_token(username: str, ttl: float = TOKEN_TTL) -> str:
    """A bearer token for ``username``, valid for ``ttl`` seconds (negative: expired)."""
    payload = _b64encode(json.dumps({"sub": username, "exp": time.time() + ttl}).encode())
    return f"{payload}.{_sign(payload)}"


def authenticate(store: Store, token: str) -> User:
    """The user ``token`` was issued to; raises ``InvalidToken`` saying why not."""
    if not token:
        raise InvalidToken("missing token")
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _sign(payload).encode()):
        raise InvalidToken("invalid token")
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):  # signed by us, so only if the key leaked
        raise InvalidToken("invalid token") from None
    if claims["exp"] < time.time():
        raise InvalidToken("token expired")
    user = store.users.get(claims["sub"])
    if user is None:
        raise InvalidToken("unknown user")
    return user
