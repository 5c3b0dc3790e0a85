"""Signed tokens for the web face: double opt-in confirmations and CSRF. Pure; no I/O.

Both are itsdangerous ``URLSafeTimedSerializer`` tokens under the store's email secret, each
with its own salt, and read the injected clock (tests move time; the CLI passes the real one).
Unsubscribe links are *not* made here: they are the digests' ``HMAC(secret, nonce)`` tokens
(:func:`pipeline.store.subscribers.unsubscribe_token`), looked up by hash.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from pipeline.addresses import address_digest

CONFIRM_SALT = "paperboy.web.confirm"
CSRF_SALT = "paperboy.web.csrf"
CONFIRM_MAX_AGE = timedelta(hours=48)  # Gmail's subscription guidelines: act within 48 h
CSRF_MAX_AGE = timedelta(hours=12)  # a form left open overnight still submits


class TokenError(Exception):
    """A token that is forged, malformed or (``expired``) too old."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(secret: bytes, salt: str, clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(secret, salt=salt, signer=ClockSigner)


@dataclass(frozen=True)
class Tokens:
    """Makes and checks the web's signed tokens."""

    secret: bytes
    clock: Callable[[], datetime]

    def _load(self, salt: str, token: str, max_age: timedelta) -> Any:
        if len(token) > 2000:
            raise TokenError(expired=False)
        try:
            return _serializer(self.secret, salt, self.clock).loads(
                token, max_age=int(max_age.total_seconds())
            )
        except SignatureExpired:
            raise TokenError(expired=True) from None
        except BadSignature:
            raise TokenError(expired=False) from None

    def confirm_token(self, request_id: int, email_key: str) -> str:
        """The token of a confirmation link for one subscribe request (no address in clear)."""
        value = [request_id, address_digest(email_key)]
        return str(_serializer(self.secret, CONFIRM_SALT, self.clock).dumps(value))

    def read_confirm(self, token: str) -> tuple[int, str]:
        """``(request id, address digest)`` of a confirmation token; raises :class:`TokenError`."""
        value = self._load(CONFIRM_SALT, token, CONFIRM_MAX_AGE)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not isinstance(value[0], int)
            or not isinstance(value[1], str)
        ):
            raise TokenError(expired=False)
        return value[0], value[1]

    def csrf_token(self, nonce: str) -> str:
        """The hidden-field token bound to the browser's CSRF cookie ``nonce``."""
        return str(_serializer(self.secret, CSRF_SALT, self.clock).dumps(nonce))

    def check_csrf(self, token: str, nonce: str | None) -> bool:
        """True when ``token`` is ours, fresh and bound to this browser's cookie ``nonce``."""
        if not nonce:
            return False
        try:
            value = self._load(CSRF_SALT, token, CSRF_MAX_AGE)
        except TokenError:
            return False
        return isinstance(value, str) and secrets.compare_digest(value, nonce)


def new_nonce() -> str:
    """A fresh random value for the CSRF cookie."""
    return secrets.token_urlsafe(18)
