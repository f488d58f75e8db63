"""Staff passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile)
and the length rule.

A verification costs about a tenth of a second on purpose; the web app runs it in a worker
thread. Unknown usernames are checked against a dummy hash, so a wrong username takes as
long as a wrong password.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 12
# Long enough for any passphrase; a bound so a request cannot make hashing arbitrarily slow.
MAX_PASSWORD_CHARS = 256


class PasswordPolicyError(ValueError):
    """The password is too short or too long (the message says which; never the password)."""


def check_password(password: str) -> str:
    """``password`` if the policy accepts it."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordPolicyError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordPolicyError(f"a password may have at most {MAX_PASSWORD_CHARS} characters")
    return password


class Passwords:
    """Hashing and verification with one argon2 configuration (cheaper ones in tests)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash of a password the policy accepts (raises PasswordPolicyError)."""
        return self.hasher.hash(check_password(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; False for a malformed hash too."""
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification (for a username that does not exist)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(18))
        self.verify(self._dummy, password[:MAX_PASSWORD_CHARS])

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        try:
            return bool(self.hasher.check_needs_rehash(password_hash))
        except InvalidHashError:
            return True
