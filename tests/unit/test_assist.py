"""Agent assist: staff replies and the assistant's answer, per persona, language and channel."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.bank import BankInfo
from bot.core.channels import OUTPUT_FORMATS
from bot.core.settings import PROJECT_ROOT
from bot.handoff.assist import (
    ANSWER,
    STAFF,
    STAFF_PHRASES,
    Suggestion,
    latest_topic,
    load_renderer,
    suggestions,
    topic_response,
)
from bot.persona.catalogue import PersonaCatalogue
from bot.wording import RenderContext, Renderer, load_wording
from bot.wording.formatting import REPLY_PROMPT, strip_emoji, without_button_wording

PERSONAS = ["quick_mobile", "phone_first", "time_pressed", "technical", "default", None]
LANGUAGES = ["en", "es", "fr"]
UNFILLED = re.compile(r"[{}]")
BUTTON_TALK = re.compile(r"button|bot[oó]n|bouton|\btap\b|\btoque\b|appuy", re.I)


def _topic_intents(domain_data: dict[str, Any]) -> list[str]:
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain_data["intents"]]
    return [i for i in names if topic_response(i) in domain_data["responses"]]


def by_response(items: list[Suggestion]) -> dict[str, Suggestion]:
    return {s.response: s for s in items}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_suggestion_is_filled_for_every_persona_language_and_topic(
    renderer: Renderer, domain_data: dict[str, Any], persona: str | None, language: str
) -> None:
    intents = _topic_intents(domain_data)
    assert len(intents) > 50
    for customer_name in ("Ana", None):
        for intent in intents:
            items = suggestions(
                renderer=renderer,
                persona=persona,
                language=language,
                agent_name="Sam",
                customer_name=customer_name,
                topic_intent=intent,
            )
            assert [s.response for s in items if s.source == STAFF] == [r for r, _ in STAFF_PHRASES]
            answers = [s for s in items if s.source == ANSWER]
            assert [s.response for s in answers] == [f"utter_{intent}"], intent
            for s in items:
                assert s.text.strip() and s.title.strip()
                assert not UNFILLED.search(s.text), (s.response, s.text)
                # The app's own buttons ("tap Activate") may be named; the chat's may not.
                assert without_button_wording(s.text, language) == s.text, (s.response, s.text)
                assert s.source != STAFF or not BUTTON_TALK.search(s.text), (s.response, s.text)


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_phrases_on_every_channel(renderer: Renderer, language: str, fmt: str) -> None:
    for persona in PERSONAS:
        items = suggestions(
            renderer=renderer,
            persona=persona,
            language=language,
            fmt=fmt,
            agent_name="Sam Okafor",
            topic_intent="card_arrival",
        )
        assert len(items) == len(STAFF_PHRASES) + 1
        for s in items:
            assert not UNFILLED.search(s.text)
            assert not any(prompt in s.text for prompt in REPLY_PROMPT.values())
            if fmt == "sms":
                assert "–" not in s.text and "’" not in s.text  # GSM-7 punctuation
                assert strip_emoji(s.text) == s.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_greeting_names_the_member_of_staff_and_the_customer(
    renderer: Renderer, bank: BankInfo, persona: str | None, language: str
) -> None:
    named = by_response(
        suggestions(
            renderer=renderer, persona=persona, language=language, agent_name="  Sam ", customer_name="Ana"
        )
    )
    greeting = named["staff_greeting"].text
    assert "Sam" in greeting and "Ana" in greeting and bank.bank_name in greeting
    anonymous = by_response(
        suggestions(renderer=renderer, persona=persona, language=language, agent_name="Sam")
    )
    assert "Ana" not in anonymous["staff_greeting"].text
    assert "  " not in anonymous["staff_greeting"].text and " ," not in anonymous["staff_greeting"].text


def test_wording_follows_the_language_and_the_persona_tone(renderer: Renderer) -> None:
    def greeting(persona: str | None, language: str) -> str:
        return by_response(
            suggestions(renderer=renderer, persona=persona, language=language, agent_name="Sam")
        )["staff_greeting"].text

    assert greeting(None, "en").startswith("Hello, I'm Sam")
    assert greeting(None, "es").startswith("Hola, soy Sam")
    assert greeting(None, "fr").startswith("Bonjour, je m'appelle Sam")
    # Spanish and French: the casual persona is addressed as tú / tu, the formal one as usted / vous.
    assert "tu chat" in greeting("quick_mobile", "es") and "su conversación" in greeting("phone_first", "es")
    assert "ton échange" in greeting("quick_mobile", "fr") and "votre conversation" in greeting(
        "phone_first", "fr"
    )
    texts = {p: greeting(p, "en") for p in PERSONAS}
    assert len(set(texts.values())) == 5  # each tone its own wording (None is the default's)
    assert len(texts["time_pressed"]) < len(texts["default"]) < len(texts["technical"])
    # Emoji only for the persona whose tone has them.
    assert strip_emoji(texts["quick_mobile"]) != texts["quick_mobile"]
    assert all(strip_emoji(t) == t for p, t in texts.items() if p != "quick_mobile")


def test_an_unknown_language_or_persona_gets_the_default_wording(renderer: Renderer) -> None:
    fallback = suggestions(renderer=renderer, persona="pirate", language="de", agent_name="Sam")
    default = suggestions(renderer=renderer, persona=None, language="en", agent_name="Sam")
    assert fallback == default


def test_the_answer_is_the_assistants_response_for_the_topic(renderer: Renderer) -> None:
    items = suggestions(
        renderer=renderer,
        persona="phone_first",
        language="fr",
        fmt="socketio",
        agent_name="Sam",
        topic_intent="card_arrival",
    )
    answer = next(s for s in items if s.source == ANSWER)
    assert answer.title == "Answer: card arrival"
    # The wording the assistant sends on that channel.
    message = renderer.render(
        "utter_card_arrival", RenderContext(persona="phone_first", language="fr", fmt="socketio")
    )
    assert message is not None and answer.text == message["text"]
    # Order: greeting, apology, the answer, then checking, hold, closing.
    assert [s.response for s in items].index("utter_card_arrival") == 2


@pytest.mark.parametrize("intent", [None, "greet", "thank", "affirm", "no_such_intent"])
def test_no_answer_without_a_topic(renderer: Renderer, intent: str | None) -> None:
    items = suggestions(renderer=renderer, persona=None, language="en", agent_name="Sam", topic_intent=intent)
    assert [s.source for s in items] == [STAFF] * len(STAFF_PHRASES)


def test_an_empty_agent_name_is_refused(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="agent_name"):
        suggestions(renderer=renderer, persona=None, language="en", agent_name="  ")


@pytest.fixture
def custom_renderer(
    tmp_path: Path, catalogue: PersonaCatalogue, bank: BankInfo, responses: dict[str, Any]
) -> Renderer:
    """The shipped wording plus two test responses: one with a placeholder nothing fills,
    one with buttons."""
    wording_dir = tmp_path / "wording"
    shutil.copytree(PROJECT_ROOT / "data" / "wording", wording_dir)
    messages = {
        "utter_needs_reference": {"default": "Your reference is {reference}."},
        "utter_with_buttons": {
            "default": {
                "text": "Is the card frozen? Please tap one of the buttons below.",
                "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
            }
        },
    }
    (wording_dir / "en" / "test.yml").write_text(
        yaml.safe_dump({"version": 1, "language": "en", "messages": messages}), encoding="utf-8"
    )
    wording = load_wording(wording_dir, personas=catalogue, domain_responses=responses)
    return Renderer(wording=wording, bank=bank, personas=catalogue)


def test_an_answer_with_an_unfilled_placeholder_is_left_out(custom_renderer: Renderer) -> None:
    items = suggestions(
        renderer=custom_renderer,
        persona=None,
        language="en",
        agent_name="Sam",
        topic_intent="needs_reference",
    )
    assert "utter_needs_reference" not in by_response(items)
    filled = suggestions(
        renderer=custom_renderer,
        persona=None,
        language="en",
        agent_name="Sam",
        topic_intent="needs_reference",
        values={"reference": "LC-7KM3QZ"},
    )
    assert by_response(filled)["utter_needs_reference"].text == "Your reference is LC-7KM3QZ."


@pytest.mark.parametrize("fmt", ["socketio", "sms", "whatsapp"])
def test_an_answer_with_buttons_loses_them_and_the_talk_of_them(custom_renderer: Renderer, fmt: str) -> None:
    items = suggestions(
        renderer=custom_renderer,
        persona=None,
        language="en",
        fmt=fmt,
        agent_name="Sam",
        topic_intent="with_buttons",
    )
    assert by_response(items)["utter_with_buttons"].text == "Is the card frozen?"


def test_latest_topic_is_the_latest_question_the_assistant_can_answer(renderer: Renderer) -> None:
    intents = ["greet", "lost_or_stolen_card", "card_arrival", "no_such_intent", "thank", None]
    assert latest_topic(intents, renderer=renderer) == "card_arrival"
    assert latest_topic(intents[:2], renderer=renderer) == "lost_or_stolen_card"
    assert latest_topic(["greet", None], renderer=renderer) is None
    assert latest_topic([], renderer=renderer) is None


def test_load_renderer_reads_the_shipped_configuration(renderer: Renderer) -> None:
    loaded = load_renderer()
    args: dict[str, Any] = {
        "persona": "technical",
        "language": "es",
        "agent_name": "Sam",
        "topic_intent": "pin_blocked",
    }
    assert suggestions(renderer=loaded, **args) == suggestions(renderer=renderer, **args)
