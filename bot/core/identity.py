"""Who the website's customer is, and which chat session is theirs.

The bank's website vouches for its logged-in customer with a short-lived signed token
(a JWT, HS256, signed with ``CUSTOMER_IDENTITY_KEY`` — a key the website and the
assistant share): ``{"sub": customer id, "aud": "bank-chat", "iat": …, "exp": …}``. The
website puts it in the page; the widget passes it when it connects; the REST channel
takes it as metadata ``identity_token``. A missing, malformed, expired or forged token
means an anonymous customer — never someone else's profile. A ``customer_id`` sent as
plain metadata is never trusted: ``verified_metadata`` removes it.

Chat sessions of the website widget are bound to the customer: a session id is a random
part and a MAC of it with the customer id (``WIDGET_SESSION_KEY``, known only to the
assistant), so a stored session id resumes the conversation only for the customer (or
the anonymous visitor) it was made for, and ids cannot be guessed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

logger = logging.getLogger(__name__)

IDENTITY_KEY_ENV = "CUSTOMER_IDENTITY_KEY"
SESSION_KEY_ENV = "WIDGET_SESSION_KEY"
AUDIENCE = "bank-chat"
ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 8 * 3600
LEEWAY_SECONDS = 30
MAX_TOKEN_CHARS = 2048
MAX_CUSTOMER_ID_CHARS = 128
MIN_KEY_CHARS = 32
TOKEN_KEY = "identity_token"  # noqa: S105 (a metadata key, not a secret)
CUSTOMER_KEY = "customer_id"
# Metadata only the channels themselves set, naming who writes: the number an SMS or
# WhatsApp came from (Twilio), the Telegram user. Never taken from a client.
CHANNEL_IDENTITY_KEYS = ("phone", "telegram_user_id")
_SESSION_RANDOM_BYTES = 18
_SESSION_MAC_BYTES = 12


class IdentityKeyError(ValueError):
    """A signing key that is missing or too short to be safe."""


def _checked_key(key: str | bytes, name: str) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if len(raw) < MIN_KEY_CHARS:
        raise IdentityKeyError(f"{name} must be at least {MIN_KEY_CHARS} characters")
    return raw


def identity_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The identity key from the environment; None when not configured (every website
    customer is then anonymous).

    Raises:
        IdentityKeyError: the key is set but too short.
    """
    value = (os.environ if environ is None else environ).get(IDENTITY_KEY_ENV, "")
    return _checked_key(value, IDENTITY_KEY_ENV) if value else None


@dataclass(frozen=True)
class Identity:
    """A customer the website vouched for, until ``expires_at`` (Unix time)."""

    customer_id: str
    expires_at: int


def issue_token(
    customer_id: str, *, key: str | bytes, ttl_seconds: int = DEFAULT_TTL_SECONDS, now: float | None = None
) -> str:
    """A signed identity token for ``customer_id`` (what the bank's website does at login)."""
    customer_id = customer_id.strip()
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID_CHARS:
        raise ValueError(f"customer id must be 1–{MAX_CUSTOMER_ID_CHARS} characters, got {customer_id!r}")
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
    issued = int(time.time() if now is None else now)
    claims = {"sub": customer_id, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, _checked_key(key, IDENTITY_KEY_ENV), algorithm=ALGORITHM)


def verify_token(token: Any, *, key: bytes | None) -> Identity | None:
    """The customer a token vouches for, or None (no key, not a token, bad signature,
    expired, another audience, no subject). Never raises on bad input."""
    if key is None or not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud"]},
        )
    except jwt.PyJWTError as exc:
        logger.info("identity.rejected reason=%s", type(exc).__name__)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_CUSTOMER_ID_CHARS:
        logger.info("identity.rejected reason=bad_subject")
        return None
    return Identity(customer_id=subject.strip(), expires_at=int(claims["exp"]))


def verified_metadata(metadata: Mapping[str, Any] | None, *, key: bytes | None) -> dict[str, Any]:
    """Client metadata with the identity settled: ``customer_id`` only from a valid
    ``identity_token``; the client's own ``customer_id``, the token and identities only a
    channel may state (``CHANNEL_IDENTITY_KEYS``) removed."""
    dropped = (TOKEN_KEY, CUSTOMER_KEY, *CHANNEL_IDENTITY_KEYS)
    clean = {k: v for k, v in (metadata or {}).items() if k not in dropped}
    identity = verify_token((metadata or {}).get(TOKEN_KEY), key=key)
    if identity is not None:
        clean[CUSTOMER_KEY] = identity.customer_id
    return clean


def session_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The key that binds widget sessions to customers. Without ``WIDGET_SESSION_KEY`` a
    random key for this process: sessions then do not survive a restart (logged)."""
    value = (os.environ if environ is None else environ).get(SESSION_KEY_ENV, "")
    if value:
        return _checked_key(value, SESSION_KEY_ENV)
    logger.warning(
        "identity.session_key_missing %s is not set: widget sessions end on restart", SESSION_KEY_ENV
    )
    return secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _session_mac(random_part: str, customer_id: str | None, key: bytes) -> str:
    message = f"{random_part}|{customer_id or ''}".encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest()[:_SESSION_MAC_BYTES])


def new_session_id(customer_id: str | None, *, key: bytes) -> str:
    """An unguessable session id bound to ``customer_id`` (None: an anonymous visitor)."""
    random_part = _b64(secrets.token_bytes(_SESSION_RANDOM_BYTES))
    return f"{random_part}.{_session_mac(random_part, customer_id, key)}"


_SESSION_SHAPE = re.compile(r"^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{16}$")


def looks_like_session_id(value: str) -> bool:
    """Whether ``value`` has the shape of a widget session id (``new_session_id``)."""
    return bool(_SESSION_SHAPE.match(value))


def session_belongs(session_id: Any, customer_id: str | None, *, key: bytes) -> bool:
    """Whether ``session_id`` was made by ``new_session_id`` for this customer."""
    if not isinstance(session_id, str) or len(session_id) > 128 or session_id.count(".") != 1:
        return False
    random_part, mac = session_id.split(".")
    return bool(random_part) and hmac.compare_digest(mac, _session_mac(random_part, customer_id, key))
