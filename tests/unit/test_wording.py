"""Wording: fallback order, languages, tones, empathy, phone line and channel formatting."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.settings import PROJECT_ROOT
from bot.persona.catalogue import PersonaCatalogue
from bot.persona.cues import CueExtractor
from bot.wording import (
    RenderContext,
    Renderer,
    WordingError,
    check_completeness,
    format_message,
    load_wording,
    map_numeric_reply,
)
from bot.wording.formatting import SMS_MAX_SEGMENTS, sms_length, split_text
from tests.support import RUNTIME_VARIABLES

GOLDEN = PROJECT_ROOT / "tests" / "data" / "golden_wording.json"
FORMATS = ["sms", "whatsapp", "telegram", "socketio"]
GOLDEN_RESPONSES = [
    "utter_greet",
    "utter_lost_or_stolen_card",
    "utter_pending_transfer",
    "utter_anything_else",
    "utter_offer_callback",
]


def render(renderer: Renderer, response: str, **ctx: Any) -> dict[str, Any]:
    ctx["variables"] = {**RUNTIME_VARIABLES, **ctx.get("variables", {})}
    message = renderer.render(response, RenderContext(**ctx))
    assert message is not None
    return message


def test_catalogue_is_complete(
    renderer: Renderer, catalogue: PersonaCatalogue, responses: dict[str, Any]
) -> None:
    errors, _ = check_completeness(renderer.wording, responses=responses, personas=catalogue)
    assert errors == []


@pytest.mark.parametrize("language", ["en", "es", "fr"])
@pytest.mark.parametrize(
    "persona", [None, "quick_mobile", "phone_first", "time_pressed", "technical", "default"]
)
def test_every_response_is_filled_and_in_the_right_language(
    renderer: Renderer, extractor: CueExtractor, responses: dict[str, Any], persona: str | None, language: str
) -> None:
    for name in responses:
        text = render(renderer, name, persona=persona, language=language)["text"]
        assert text.strip(), name
        assert "{" not in text and "}" not in text, f"{name}: unfilled placeholder in {text!r}"
        words = len(text.split())
        if words >= 6:
            guess = extractor.identifier.identify(text, n_words=words)
            assert guess.language == language, (
                f"{name} ({persona}, {language}) reads as {guess.language}: {text!r}"
            )


def test_personas_get_visibly_different_answers(renderer: Renderer) -> None:
    texts = {
        p: render(renderer, "utter_lost_or_stolen_card", persona=p, language="en")["text"]
        for p in ("quick_mobile", "phone_first", "time_pressed", "technical", "default")
    }
    assert len(set(texts.values())) == 5
    assert len(texts["time_pressed"]) < len(texts["default"]) and len(texts["time_pressed"]) < len(
        texts["technical"]
    )
    assert len(texts["quick_mobile"]) < len(texts["default"])
    assert "1." in texts["phone_first"], "patient numbered steps"


def test_fallback_order(tmp_path: Path, catalogue: PersonaCatalogue) -> None:
    (tmp_path / "en.yml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "language": "en",
                "messages": {
                    "utter_x": {
                        "default": "en default",
                        "casual": "en casual",
                        "brief": "en brief",
                        "personas": {"time_pressed": "en time pressed"},
                    },
                    "utter_only_en": {"default": "only in English"},
                },
            }
        )
    )
    (tmp_path / "es.yml").write_text(
        yaml.safe_dump({"version": 1, "language": "es", "messages": {"utter_x": {"default": "es default"}}})
    )
    wording = load_wording(tmp_path, personas=catalogue)
    pick = lambda p, lang, name="utter_x": wording.select(name, persona=catalogue.lookup(p), language=lang)  # noqa: E731
    assert pick("time_pressed", "en").variant.texts == ("en time pressed",)  # persona
    assert pick("quick_mobile", "en").variant.texts == ("en casual",)  # tone: formality first
    assert pick("technical", "en").variant.texts == ("en default",)  # no 'detailed': default
    assert pick("quick_mobile", "es").variant.texts == ("es default",)  # default of that language
    sel = pick("quick_mobile", "fr")  # no French file: the default language's chain
    assert (sel.language, sel.variant.texts) == ("en", ("en casual",))
    sel = pick(None, "es", "utter_only_en")
    assert (sel.language, sel.variant.texts) == ("en", ("only in English",))
    assert pick(None, "en", "utter_unknown") is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": 2, "language": "en", "messages": {}}, "version: 1"),
        (
            {"version": 1, "language": "en", "messages": {"utter_x": {"sparkly": "x"}}},
            "unknown variant 'sparkly'",
        ),
        ({"version": 1, "language": "en", "messages": {"utter_x": {"default": ""}}}, "non-empty string"),
        (
            {"version": 1, "language": "en", "messages": {"utter_x": {"personas": {"pirate": "x"}}}},
            "'pirate'",
        ),
        (
            {
                "version": 1,
                "language": "en",
                "messages": {"utter_x": {"default": {"text": "x", "buttons": [1]}}},
            },
            "buttons",
        ),
    ],
)
def test_malformed_wording_is_rejected(
    tmp_path: Path, catalogue: PersonaCatalogue, body: dict[str, Any], message: str
) -> None:
    (tmp_path / "en.yml").write_text(yaml.safe_dump(body))
    with pytest.raises(WordingError) as err:
        load_wording(tmp_path, personas=catalogue)
    assert str(tmp_path / "en.yml") in str(err.value) and message in str(err.value)


# --- empathy and the phone line -----------------------------------------------------------


def test_frustrated_customer_gets_an_acknowledgement_first(renderer: Renderer) -> None:
    calm = render(renderer, "utter_pending_transfer", persona="default", language="en")["text"]
    upset = render(renderer, "utter_pending_transfer", persona="default", language="en", frustrated=True)[
        "text"
    ]
    assert upset.endswith(calm) and upset != calm
    ack = upset[: -len(calm)].strip()
    acks = renderer.wording.select("ack_frustration", persona=None, language="en")
    assert acks is not None and ack in acks.variant.texts


@pytest.mark.parametrize("language", ["en", "es", "fr"])
@pytest.mark.parametrize("persona", ["quick_mobile", "phone_first", "time_pressed", "default"])
def test_acknowledgement_never_repeats_twice_in_a_row(
    renderer: Renderer, persona: str, language: str
) -> None:
    previous: list[str] = []
    acks = []
    for _ in range(6):
        text = render(
            renderer,
            "utter_card_arrival",
            persona=persona,
            language=language,
            frustrated=True,
            previous_texts=previous,
        )["text"]
        acks.append(text.split("\n\n")[0])
        previous.append(text)
    assert all(a != b for a, b in itertools.pairwise(acks)), acks


def test_acknowledgement_only_on_the_first_message_of_a_turn(renderer: Renderer) -> None:
    second = render(renderer, "utter_anything_else", language="en", frustrated=True, first_of_turn=False)
    assert second["text"] == render(renderer, "utter_anything_else", language="en")["text"]


def test_the_phone_line_comes_first_when_the_route_says_so(renderer: Renderer) -> None:
    text = render(renderer, "utter_card_arrival", persona="phone_first", language="fr", phone_line=True)[
        "text"
    ]
    first = text.split("\n\n")[0]
    assert renderer.bank.phone_main in first
    answer = render(renderer, "utter_card_arrival", persona="phone_first", language="fr")["text"]
    assert text == f"{first}\n\n{answer}", "the phone line comes before the answer"
    later = render(renderer, "utter_card_arrival", persona="phone_first", language="fr", phone_line=True,
                   first_of_turn=False)["text"]  # fmt: skip
    assert later == answer, "only before the first message of a turn"


@pytest.mark.parametrize(
    "response", ["utter_greet", "utter_goodbye", "utter_offer_callback", "utter_default"]
)
def test_responses_that_do_not_allow_the_phone_line_never_get_it(renderer: Renderer, response: str) -> None:
    assert not renderer.wording.allows(response).phone_line
    with_line = render(renderer, response, persona="phone_first", language="en", phone_line=True)["text"]
    assert with_line == render(renderer, response, persona="phone_first", language="en")["text"]


@pytest.mark.parametrize("response", ["utter_goodbye", "utter_you_are_welcome", "utter_anything_else"])
def test_endings_get_no_acknowledgement(renderer: Renderer, response: str) -> None:
    frustrated = render(renderer, response, language="en", frustrated=True)["text"]
    assert frustrated == render(renderer, response, language="en")["text"]


def test_bank_facts_are_localised(renderer: Renderer) -> None:
    es = render(renderer, "utter_iamabot", language="es")["text"]
    assert renderer.bank.text("hours", "es") in es
    assert renderer.bank.text("hours", "en") not in es


# --- channels -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es", "fr"])
@pytest.mark.parametrize("persona", ["quick_mobile", "phone_first", "technical", "default"])
def test_sms_is_plain_text_in_short_parts_with_numbered_options(
    renderer: Renderer, responses: dict[str, Any], persona: str, language: str
) -> None:
    for name in responses:
        message = render(renderer, name, persona=persona, language=language, fmt="sms", phone_line=True)
        parts = message["text"].split("\n\n")
        segments = [sms_length(p).segments for p in parts]
        assert all(parts) and max(segments) <= SMS_MAX_SEGMENTS, (name, segments)
        if language == "en":
            assert all(sms_length(p).encoding == "GSM-7" for p in parts), (name, "English stays GSM-7")
        assert not any(ord(c) > 0xFFFF or 0x2600 <= ord(c) <= 0x27BF for c in message["text"]), (
            "no emoji in SMS"
        )
        assert not any(re.search(r"(^|[.!?:]\s)\d{1,2}\.$", p) for p in parts), (
            name,
            "a step split from its text",
        )
        if message.get("buttons"):
            for i, button in enumerate(message["buttons"], start=1):
                assert f"{i}. {button['title']}" in message["text"]
            button_talk = r"\b(buttons?|botón|botones|boutons?)\b|\b(tap|toque|toca|appuyez sur)\s+[«\"“]?(yes|sí|oui|no)\b"
            assert not re.search(button_talk, message["text"], re.I), (
                name,
                "no talk of buttons where there are none",
            )


def test_a_step_number_stays_with_its_step() -> None:
    text = "If your card is lost: 1. Open the app. 2. Freeze your cards. 3. Order a new card in Cards."
    parts = split_text(text, 50)
    assert all(not re.search(r"\d\.$", p) for p in parts), parts
    assert "3. Order a new card in Cards." in parts


def test_long_text_is_split_on_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    parts = split_text(text, 320)
    assert all(len(p) <= 320 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text
    assert split_text("x" * 700, 320) == ["x" * 320, "x" * 320, "x" * 60]


def test_socketio_and_telegram_keep_buttons(renderer: Renderer) -> None:
    for fmt in ("socketio", "telegram", "rest"):
        message = render(renderer, "utter_anything_else", language="es", fmt=fmt)
        assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
        assert "1." not in message["text"]


@pytest.mark.parametrize(
    ("reply", "payload"),
    [("1", "/affirm"), (" 2 ", "/deny"), ("2.", "/deny"), ("3", None), ("yes", None), ("", None)],
)
def test_numeric_reply_maps_to_the_button_payload(reply: str, payload: str | None) -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert map_numeric_reply(reply, buttons) == payload
    assert map_numeric_reply("1", None) is None


def test_sms_removes_markup_and_keeps_links() -> None:
    out = format_message(
        {"text": "**Important**: see [our site](https://bank.example) 👍"}, fmt="sms", language="en"
    )
    assert out["text"] == "Important: see our site (https://bank.example)"


# --- golden outputs ---------------------------------------------------------------------------


def _golden(renderer: Renderer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in GOLDEN_RESPONSES:
        for persona in ("quick_mobile", "phone_first", "time_pressed", "technical", "default"):
            for language in ("en", "es", "fr"):
                for fmt in FORMATS:
                    message = render(
                        renderer,
                        name,
                        persona=persona,
                        language=language,
                        fmt=fmt,
                        phone_line=persona == "phone_first",
                    )
                    out[f"{name}|{persona}|{language}|{fmt}"] = {
                        "text": message["text"],
                        "buttons": message.get("buttons", []),
                    }
    return out


def test_golden_outputs(renderer: Renderer) -> None:
    """persona × language × channel on several responses; UPDATE_GOLDEN=1 rewrites the file."""
    actual = _golden(renderer)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(
            json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert set(actual) == set(expected)
    for key in expected:
        assert actual[key] == expected[key], key


@pytest.mark.parametrize(
    ("language", "hello"), [("en", "Hello Ana,"), ("es", "Hola Ana,"), ("fr", "Bonjour Ana ")]
)
def test_greeting_uses_the_customer_name_when_known(renderer: Renderer, language: str, hello: str) -> None:
    named = render(renderer, "utter_greet", language=language, variables={"customer_name": "Ana"})["text"]
    anonymous = render(renderer, "utter_greet", language=language)["text"]
    assert named.startswith(hello)
    assert "Ana" not in anonymous and "{" not in anonymous
