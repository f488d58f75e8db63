"""The running assistant over REST and through the web chat relay (real servers)."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
import uuid

import pytest

from bot.core.bank import BankInfo
from devtools.stack import Stack, post_json

pytestmark = pytest.mark.integration


def _texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def test_greeting_names_the_bank(stack: Stack, bank: BankInfo) -> None:
    text = _texts(stack.rest(f"t-{uuid.uuid4()}", "hello"))
    assert bank.bank_name in text
    assert "{" not in text, "a template variable was left unfilled"


@pytest.mark.parametrize(
    ("message", "must_contain"),
    [
        ("I've lost my card, what do I do", "{phone_cards}"),
        ("my new card still hasn't come in the post", "working days"),
        ("how can I change my PIN number?", "PIN"),
        ("can someone ring me please", "number"),  # the callback form asks for it
    ],
)
def test_banking_answers_are_specific_and_filled(
    stack: Stack, bank: BankInfo, message: str, must_contain: str
) -> None:
    replies = stack.rest(f"t-{uuid.uuid4()}", message)
    text = _texts(replies)
    assert must_contain.format(**bank.template_vars("en")) in text
    assert "{" not in text


def test_answer_is_followed_by_offer_of_more_help_and_goodbye(stack: Stack) -> None:
    sender = f"t-{uuid.uuid4()}"
    first = _texts(stack.rest(sender, "why was my card payment declined"))
    assert "declined" in first.lower()
    assert "anything else" in first.lower()
    bye = _texts(stack.rest(sender, "no thanks"))
    assert "goodbye" in bye.lower()


def test_conversation_is_stored_in_the_sqlite_tracker_store(stack: Stack) -> None:
    sender = f"t-{uuid.uuid4()}"
    stack.rest(sender, "how do I activate my card")
    tracker = stack.tracker(sender)
    assert tracker["latest_message"]["intent"]["name"] == "activate_my_card"
    with sqlite3.connect(stack.tracker_db) as db:
        (count,) = db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()
    assert count > 0


def test_gibberish_gets_the_fallback_not_a_guess(stack: Stack) -> None:
    text = _texts(stack.rest(f"t-{uuid.uuid4()}", "qzxv blorf wmpt"))
    assert "didn't quite understand" in text


def test_web_chat_page_is_served_with_the_bank_name(stack: Stack, bank: BankInfo) -> None:
    with urllib.request.urlopen(stack.web_url + "/", timeout=10) as resp:
        page = resp.read().decode()
    assert resp.headers.get_content_type() == "text/html"
    assert bank.bank_name in page
    assert f'src="/widget/widget.js" data-server="{stack.rasa_url}"' in page
    policy = resp.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {stack.rasa_url} {stack.rasa_url.replace('http', 'ws', 1)}" in policy


def test_web_chat_relay_reaches_rasa_and_marks_the_website_channel(stack: Stack, bank: BankInfo) -> None:
    sender = f"web-{uuid.uuid4()}"
    replies = post_json(stack.web_url + "/api/message", {"sender": sender, "message": "hi"})
    assert bank.bank_name in _texts(replies)
    latest = stack.tracker(sender)["latest_message"]
    assert latest["metadata"]["channel"] == "socketio"


def test_web_chat_relay_passes_the_identity_token_and_the_profile_is_loaded(stack: Stack) -> None:
    sender = f"web-{uuid.uuid4()}"
    body = {"sender": sender, "message": "hi", "identity_token": stack.identity_token("lucia.g")}
    replies = post_json(stack.web_url + "/api/message", body)
    assert "Lucía" in _texts(replies), "greeted by name from the profile"
    slots = stack.tracker(sender)["slots"]
    assert slots["customer_ref"] == "C-1002" and slots["language"] == "es"


def test_web_chat_relay_with_a_forged_token_serves_an_anonymous_customer(stack: Stack) -> None:
    sender = f"web-{uuid.uuid4()}"
    forged = stack.identity_token("lucia.g")[:-4] + "AAAA"
    replies = post_json(
        stack.web_url + "/api/message", {"sender": sender, "message": "hi", "identity_token": forged}
    )
    assert "Lucía" not in _texts(replies)
    assert stack.tracker(sender)["slots"].get("customer_ref") is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"sender": "x"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "x", "message": 5}',
        b'{"sender": "x", "message": "hi", "customer_id": "lucia.g"}',
        b'{"sender": "x", "message": "hi", "identity_token": 42}',
        b'{"sender": "x", "message": "hi", "identity_token": " "}',
    ],
)
def test_web_chat_relay_rejects_bad_requests_with_400(stack: Stack, body: bytes) -> None:
    req = urllib.request.Request(
        stack.web_url + "/api/message", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    assert "error" in json.loads(err.value.read())
