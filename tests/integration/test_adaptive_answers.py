"""Adaptive answers through the running assistant: persona, language and channel change the text."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bot.core.clock import utc_now
from bot.core.settings import DEFAULT_BANK_CONFIG
from bot.handoff.service import load_service_policy
from bot.handoff.windows import closed_hours_text
from bot.wording import RenderContext, Renderer
from devtools.stack import Stack

pytestmark = pytest.mark.integration


def expected(stack: Stack, renderer: Renderer, response: str, **ctx: object) -> str:
    """The text the assistant should send now: out of hours, the opening hours become when
    the lines open again (as the NLG does, with the bank configuration the stack runs on)."""
    policy = load_service_policy(Path(stack.env.get("BANK_CONFIG") or DEFAULT_BANK_CONFIG))
    language = str(ctx.get("language") or "en")
    closed = closed_hours_text(policy, now=utc_now(), tz=policy.timezone, language=language)
    variables = {"hours": closed} if closed else {}
    message = renderer.render(response, RenderContext(**ctx, variables=variables))  # type: ignore[arg-type]
    assert message is not None
    return str(message["text"])


def texts(replies: list[dict[str, object]]) -> list[str]:
    """Rasa's REST (collector) channel sends each paragraph as its own message: join them back."""
    return [str(r.get("text", "")) for r in replies]


def said(replies: list[dict[str, object]]) -> str:
    return "\n\n".join(texts(replies))


def test_casual_spanish_customer_on_telegram(stack: Stack, renderer: Renderer) -> None:
    sender = f"a-{uuid.uuid4()}"
    meta = {"channel": "telegram"}
    stack.rest(sender, "hola", metadata=meta)
    replies = said(stack.rest(sender, "porfa como cambio el pin de mi tarjeta nueva 🙏", metadata=meta))
    slots = stack.tracker(sender)["slots"]
    assert (slots["persona"], slots["language"]) == ("quick_mobile", "es")
    answer = expected(
        stack, renderer, "utter_change_pin", persona="quick_mobile", language="es", fmt="telegram"
    )
    assert replies.startswith(answer)


def test_channel_averse_french_customer_gets_the_phone_first(stack: Stack, renderer: Renderer) -> None:
    sender = f"a-{uuid.uuid4()}"
    stack.rest(sender, "Bonjour, je ne suis pas à l'aise avec ce chat ni avec les ordinateurs.")
    replies = said(stack.rest(sender, "Comment est-ce que je change mon code PIN, s'il vous plaît ?"))
    slots = stack.tracker(sender)["slots"]
    assert (slots["persona"], slots["language"], slots["route"]["offer_phone"]) == ("phone_first", "fr", True)
    assert renderer.bank.phone_main in replies.split("\n\n")[0]
    answer = expected(
        stack, renderer, "utter_change_pin", persona="phone_first", language="fr", phone_line=True
    )
    assert replies.startswith(answer)


def test_language_switch_mid_conversation(stack: Stack, renderer: Renderer) -> None:
    sender = f"a-{uuid.uuid4()}"
    first = said(stack.rest(sender, "My transfer has been pending since yesterday, what is going on?"))
    second = said(stack.rest(sender, "Perdón, prefiero en español: ¿cómo cancelo esa transferencia?"))
    assert stack.tracker(sender)["slots"]["language"] == "es"
    persona = stack.tracker(sender)["slots"]["persona"]
    assert first.startswith(
        expected(stack, renderer, "utter_pending_transfer", persona="default", language="en")
    )
    assert second.startswith(
        expected(stack, renderer, "utter_cancel_transfer", persona=persona, language="es")
    )


def test_sms_answers_are_short_plain_parts_with_numbered_options(stack: Stack) -> None:
    sender = f"a-{uuid.uuid4()}"
    replies = texts(
        stack.rest(sender, "Someone stole my card, what do I do?", metadata={"channel": "twilio"})
    )
    assert all(0 < len(part) <= 320 for part in replies)
    assert replies[-1].endswith("1. Yes\n2. No, thanks")


def test_frustrated_customer_is_acknowledged_first(stack: Stack, renderer: Renderer) -> None:
    sender = f"a-{uuid.uuid4()}"
    replies = texts(stack.rest(sender, "This is ridiculous!! My card STILL hasn't arrived after three weeks"))
    first_part = replies[0]
    slots = stack.tracker(sender)["slots"]
    persona_acks = renderer.wording.select(
        "ack_frustration", persona=renderer.personas.lookup(str(slots["persona"])), language="en"
    )
    assert persona_acks is not None and first_part in persona_acks.variant.texts
