"""The channel vocabulary: where a message comes from, how answers are formatted, who the
customer is."""

from __future__ import annotations

from bot.core.channels import IdentityKind, message_channel, output_format, resolve_identity


def test_the_channel_named_in_the_metadata_wins_over_the_input_channel() -> None:
    assert message_channel({"channel": "socketio"}, "rest") == "socketio"
    assert message_channel({"channel": "carrier-pigeon"}, "rest") == "rest", "unknown names are ignored"
    assert message_channel(None, "twilio") == "twilio"
    assert message_channel({}, "collector") is None
    assert message_channel("not a mapping", None) is None  # type: ignore[arg-type]


def test_output_format_tells_whatsapp_from_sms() -> None:
    assert output_format("twilio", "whatsapp:+447700900123") == "whatsapp"
    assert output_format("twilio", "+447700900123") == "sms"
    assert output_format("socketio", "abc") == "socketio"
    assert output_format("collector", "abc") == "rest"
    assert output_format(None) == "rest"


def test_resolve_identity_from_session_metadata() -> None:
    assert resolve_identity("abc", {"customer_id": " sam.k "}, region="GB") == (IdentityKind.web, "sam.k")
    assert resolve_identity("481516234", {"channel": "telegram"}, region="GB") is None
    assert resolve_identity(
        "481516234", {"channel": "telegram", "telegram_user_id": 481516234}, region="GB"
    ) == (
        IdentityKind.telegram,
        "481516234",
    )
    assert resolve_identity("x", {"channel": "twilio", "phone": "whatsapp:+447911123456"}, region="GB") == (
        IdentityKind.phone,
        "+447911123456",
    )
    assert resolve_identity("x", {"channel": "twilio", "phone": "07911 123456"}, region="GB") == (
        IdentityKind.phone,
        "+447911123456",
    )
    assert resolve_identity("x", {"channel": "twilio", "phone": "not a number"}, region="GB") is None
    assert resolve_identity("x", {"channel": "socketio"}, region="GB") is None
    assert resolve_identity("x", None, region="GB") is None
