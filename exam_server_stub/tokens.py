"""Bearer tokens: ``<payload>.<signature>``, HMAC-SHA256 under a secret kept in the database.

No JWT library: the format is private to the server and this is the hot path of
9,800 logins in a few minutes; a base64 JSON payload and one HMAC are enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass

import orjson

from vigie.protocol import ErrorCode

from .errors import ApiError

CANDIDATE_ROLE = "candidate"
CONNECTION_TEST_ROLE = "connection_test"  # a tablet of the Monday test: its routes only


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str  # candidate id or jury username
    role: str  # "candidate" or a JuryRole
    centre: str | None
    exp: float


class TokenSigner:
    def __init__(self, secret: bytes, ttl_s: float) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, sub: str, role: str, centre: str | None, now: float | None = None) -> str:
        exp = (time.time() if now is None else now) + self.ttl_s
        payload = base64.urlsafe_b64encode(
            orjson.dumps({"sub": sub, "role": role, "c": centre, "exp": exp})
        ).rstrip(b"=")
        return (payload + b"." + self._sign(payload)).decode("ascii")

    def verify(self, token: str, now: float | None = None) -> Claims:
        try:
            raw = token.encode("ascii")
            payload, sig = raw.split(b".")
            if not hmac.compare_digest(sig, self._sign(payload)):
                raise ValueError("signature")
            doc = orjson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
            claims = Claims(str(doc["sub"]), str(doc["role"]), doc["c"], float(doc["exp"]))
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError) as exc:
            raise ApiError(ErrorCode.UNAUTHENTICATED, "The token is not valid.") from exc
        if claims.exp < (time.time() if now is None else now):
            raise ApiError(ErrorCode.TOKEN_EXPIRED, "The token has expired: log in again.")
        return claims

    def _sign(self, payload: bytes) -> bytes:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")
