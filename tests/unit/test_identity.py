"""Signed identity tokens from the bank's website, and widget sessions bound to customers."""

from __future__ import annotations

import time

import jwt
import pytest

from bot.core.identity import (
    AUDIENCE,
    IdentityKeyError,
    identity_key,
    issue_token,
    new_session_id,
    session_belongs,
    verified_metadata,
    verify_token,
)

KEY = "k" * 40
OTHER = "o" * 40


def test_a_token_names_its_customer_until_it_expires() -> None:
    token = issue_token("margaret.w", key=KEY, ttl_seconds=600)
    identity = verify_token(token, key=KEY.encode())
    assert identity is not None and identity.customer_id == "margaret.w"
    assert time.time() + 590 < identity.expires_at <= time.time() + 600


@pytest.mark.parametrize(
    "token",
    [
        issue_token("margaret.w", key=OTHER),  # signed by someone else
        issue_token("margaret.w", key=KEY, ttl_seconds=60, now=time.time() - 3600),  # expired
        jwt.encode(
            {"sub": "margaret.w", "aud": "other", "iat": int(time.time()), "exp": int(time.time()) + 60}, KEY
        ),
        jwt.encode(
            {"aud": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60}, KEY
        ),  # no subject
        jwt.encode({"sub": "margaret.w", "aud": AUDIENCE}, KEY),  # never expires
        jwt.encode(
            {"sub": "margaret.w", "aud": AUDIENCE, "iat": 1, "exp": 2**40}, "", algorithm="none"
        ),  # unsigned
        "not-a-token",
        "",
        None,
        42,
        "a" * 5000,
    ],
)
def test_anything_but_a_valid_token_is_an_anonymous_customer(token: object) -> None:
    assert verify_token(token, key=KEY.encode()) is None


def test_without_a_key_every_customer_is_anonymous() -> None:
    assert verify_token(issue_token("margaret.w", key=KEY), key=None) is None
    assert identity_key({}) is None
    with pytest.raises(IdentityKeyError, match="at least 32"):
        identity_key({"CUSTOMER_IDENTITY_KEY": "short"})


def test_metadata_names_a_customer_only_through_a_valid_token() -> None:
    key = KEY.encode()
    assert verified_metadata({"customer_id": "margaret.w", "channel": "socketio"}, key=key) == {
        "channel": "socketio"
    }
    signed = {"identity_token": issue_token("lucia.g", key=KEY), "customer_id": "margaret.w"}
    assert verified_metadata(signed, key=key) == {"customer_id": "lucia.g"}
    assert verified_metadata(None, key=key) == {}


def test_a_session_id_resumes_only_for_the_customer_it_was_made_for() -> None:
    key = KEY.encode()
    mine = new_session_id("margaret.w", key=key)
    anonymous = new_session_id(None, key=key)
    assert session_belongs(mine, "margaret.w", key=key)
    assert not session_belongs(mine, "lucia.g", key=key)
    assert not session_belongs(mine, None, key=key)
    assert session_belongs(anonymous, None, key=key)
    assert not session_belongs(anonymous, "margaret.w", key=key)
    assert not session_belongs(mine, "margaret.w", key=OTHER.encode())
    random_part, mac = mine.split(".")
    assert not session_belongs(f"{random_part}x.{mac}", "margaret.w", key=key)
    for bad in (None, "", "no-dot", "a.b.c", 7, "x" * 300):
        assert not session_belongs(bad, "margaret.w", key=key)
    assert len({new_session_id(None, key=key) for _ in range(100)}) == 100
