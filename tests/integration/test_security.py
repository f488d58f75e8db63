"""Probed from outside, as anyone on the network would: every Rasa API route needs the token,
the action server answers Rasa only, bad requests get clean 4xx answers, and card data
typed by a customer is in no store and no log."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from devtools.stack import Stack
from tests.support import files_holding, http_call

pytestmark = pytest.mark.integration
# Routes of Rasa's HTTP API that may answer without the token: the greeting and the version.
PUBLIC_API_ROUTES = frozenset({"", "version"})
CARD = "4539 1488 0343 6467"
IBAN = "GB82 WEST 1234 5698 7654 32"


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of Rasa's HTTP API, from Rasa itself."""
    import rasa.server

    app = rasa.server.create_app(auth_token="listing", cors_origins=[])
    return sorted(
        (method, route.path.replace("<conversation_id:path>", "probe-id"))
        for route in app.router.routes
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    )


def test_every_rasa_api_route_needs_the_token(stack: Stack) -> None:
    routes = api_routes()
    assert len(routes) >= 18, routes
    for method, path in routes:
        url = f"{stack.rasa_url}/{path}"
        body = b"{}" if method in ("POST", "PUT") else None
        status, _ = http_call(url, body, method=method, headers={"Content-Type": "application/json"})
        if path in PUBLIC_API_ROUTES:
            assert status == 200, (method, path, status)
            continue
        assert status in (401, 403), f"{method} /{path} answered {status} without the token"
        status, _ = http_call(
            url + "?token=wrong", body, method=method, headers={"Content-Type": "application/json"}
        )
        assert status in (401, 403), f"{method} /{path} answered {status} with a wrong token"
    status, _ = http_call(stack.api("/conversations/probe-id/tracker"), method="GET")
    assert status == 200, "the staff tools' token opens it"


def test_a_forged_pause_or_bot_message_is_refused(stack: Stack) -> None:
    url = f"{stack.rasa_url}/conversations/victim/tracker/events"
    for event in ({"event": "pause"}, {"event": "bot", "text": "Send me your PIN"}):
        status, _ = http_call(url, json.dumps(event).encode(), headers={"Content-Type": "application/json"})
        assert status == 401


def test_the_action_server_answers_rasa_only(stack: Stack) -> None:
    webhook = f"{stack.action_url}/webhook"
    forged = {"next_action": "action_hand_over", "sender_id": "victim", "tracker": {"sender_id": "victim"}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": stack.action_token}):
        status, answer = http_call(
            webhook, json.dumps(forged).encode(), headers={"Content-Type": "application/json", **headers}
        )
        assert status == 401, (headers, status, answer)
    status, _ = http_call(f"{stack.action_url}/actions", method="GET")
    assert status == 401, "the list of actions is not public either"
    status, _ = http_call(f"{stack.action_url}/health", method="GET")
    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"null",
        b"{",
        b"\xff\xfe\x00",
        b'{"next_action": 3, "tracker": {}}',
        b'{"next_action": "x"}',
    ],
)
def test_the_action_server_refuses_bad_bodies_cleanly(stack: Stack, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {stack.action_token}"}
    status, answer = http_call(f"{stack.action_url}/webhook", body, headers=headers)
    assert 400 <= status < 500, (body, status, answer)
    assert b"request_body" not in answer


def test_an_action_that_fails_does_not_echo_the_tracker(stack: Stack) -> None:
    secret_text = f"my card {CARD}"
    call_body = {
        "next_action": "action_hand_over",
        "sender_id": "s-err",
        "tracker": {"sender_id": "s-err", "latest_message": {"text": secret_text}, "events": "not a list"},
        "domain": {},
        "version": "3.6.21",
    }
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {stack.action_token}"}
    status, answer = http_call(f"{stack.action_url}/webhook", json.dumps(call_body).encode(), headers=headers)
    if status >= 500:
        assert json.loads(answer) == {"error": "the action failed"}, answer
    assert b"4539" not in answer and b"request_body" not in answer


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"null", "application/json", 400),
        (b'{"sender": "s"', "application/json", 400),
        (b"\xff\xfe\xfa", "application/json", 400),
        (b"sender=s&message=hi", "application/x-www-form-urlencoded", 400),
        (json.dumps({"sender": "s", "message": "x" * 200_000}).encode(), "application/json", 413),
        (b'{"sender": "s", "message": "' + b"x" * 2_000_000 + b'"}', "application/json", 413),
        (json.dumps({"sender": "../../etc/passwd\x00", "message": "hi"}).encode(), "application/json", 400),
        (json.dumps({"sender": "s" * 500, "message": "hi"}).encode(), "application/json", 400),
    ],
)
def test_the_rest_webhook_refuses_bad_requests_with_a_clear_4xx(
    stack: Stack, body: bytes, content_type: str, expected: int
) -> None:
    status, answer = http_call(
        f"{stack.rasa_url}/webhooks/rest/webhook", body, headers={"Content-Type": content_type}
    )
    assert status == expected, (status, answer[:200])
    assert b"Traceback" not in answer


def test_card_data_a_customer_types_is_in_no_store_no_log_and_no_api(stack: Stack) -> None:
    sender = f"pii-{uuid.uuid4()}"
    replies = stack.rest(
        sender,
        f"my card number is {CARD} and my IBAN is {IBAN}, is my card compromised?",
        {"channel": "socketio"},
    )
    said = "\n".join(str(r.get("text", "")) for r in replies)
    assert "removed the card details" in said and "never ask" in said
    stack.rest(sender, "I want to talk to a person please", {"channel": "socketio"})

    tracker = json.dumps(stack.tracker(sender))
    assert "[card number removed]" in tracker, "the stored message shows what was removed"
    digits = re.compile(r"4539\D?1488\D?0343\D?6467|GB82\s?WEST", re.IGNORECASE)
    assert not digits.search(tracker), "the tracker API serves no card data"
    leaks = files_holding(stack.workdir, digits)
    assert leaks == [], f"card data found in {leaks}"


@pytest.mark.parametrize(
    "metadata",
    [
        {"channel": "telegram"},
        {"channel": "telegram", "telegram_user_id": 481516234},  # Sam's Telegram user id
        {"channel": "twilio", "phone": "+44 7911 123456"},  # Margaret's number
        {"channel": "socketio", "customer_id": "margaret.w"},
    ],
)
def test_a_rest_client_cannot_claim_another_channels_customer(
    stack: Stack, metadata: dict[str, object]
) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    body = json.dumps({"sender": sender, "message": "hello", "metadata": metadata}).encode()
    status, _ = http_call(
        f"{stack.rasa_url}/webhooks/rest/webhook", body, headers={"Content-Type": "application/json"}
    )
    assert status == 200
    profile = stack.tracker(sender)["slots"].get("customer_profile") or {}
    assert not profile.get("name"), f"{metadata} loaded {profile.get('name')}'s profile"


@pytest.mark.parametrize("sender", ["481516234", "-1001234567", "+447911123456", "whatsapp:+447911123456"])
def test_a_rest_client_cannot_write_into_another_channels_conversation(stack: Stack, sender: str) -> None:
    body = json.dumps({"sender": sender, "message": "what is my balance"}).encode()
    status, answer = http_call(
        f"{stack.rasa_url}/webhooks/rest/webhook", body, headers={"Content-Type": "application/json"}
    )
    assert status == 400 and b"must not be" in answer


def test_a_rest_client_cannot_write_into_a_widget_session(stack: Stack) -> None:
    from bot.core.identity import new_session_id

    sender = new_session_id(None, key=stack.session_key.encode())
    body = json.dumps({"sender": sender, "message": "hello"}).encode()
    status, _ = http_call(
        f"{stack.rasa_url}/webhooks/rest/webhook", body, headers={"Content-Type": "application/json"}
    )
    assert status == 400
