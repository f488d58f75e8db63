"""Per-message cue extraction: signals, evidence and language, in English, Spanish and French."""

from __future__ import annotations

import pytest

from bot.persona.cues import CueExtractor, MessageCues


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("can u check my card pls", "casual"),
        ("porfa q pasa con mi tarjeta jaja", "casual"),
        ("slt tkt c bon stp", "casual"),
        ("Dear Sir or Madam, I would be grateful for your help.", "formal"),
        ("Estimado señor, le agradecería que revisara mi cuenta.", "formal"),
        ("Madame, Monsieur, pourriez-vous vérifier mon virement ?", "formal"),
        ("I need this fixed asap", "urgency"),
        ("necesito la tarjeta cuanto antes", "urgency"),
        ("débloquez ma carte tout de suite", "urgency"),
        ("I'm at the till, need it to work in 5 minutes", "urgency"),
        ("Getting error E1043 after updating to v5.2.1", "technical"),
        ("el pago falla con código de error 3DS-401", "technical"),
        ("erreur HTTP 403 sur l'API", "technical"),
        ("can someone call me back", "phone_request"),
        ("could you ring me tomorrow", "phone_request"),
        ("¿me pueden llamar por la tarde?", "phone_request"),
        ("pouvez-vous me rappeler ?", "phone_request"),
        ("I want to talk to a real person", "human_request"),
        ("quiero hablar con una persona", "human_request"),
        ("je veux parler à un conseiller", "human_request"),
        ("I'm not good with computers", "channel_aversion"),
        ("no se me da bien la tecnología", "channel_aversion"),
        ("je ne suis pas à l'aise avec internet", "channel_aversion"),
        ("please don't call me, text only", "call_refusal"),
        ("no me llamen por favor", "call_refusal"),
        ("ne m'appelez pas s'il vous plaît", "call_refusal"),
        ("I'm deaf", "hearing_need"),
        ("soy sorda", "hearing_need"),
        ("je suis malentendant", "hearing_need"),
        ("THIS IS ABSOLUTELY RIDICULOUS", "frustration"),
        ("still not fixed!!", "frustration"),
        ("estoy harta de esperar", "frustration"),
        ("c'est n'importe quoi", "frustration"),
        ("lol ok 😂", "emoji"),
    ],
)
def test_signal_is_detected(extractor: CueExtractor, text: str, signal: str) -> None:
    cues = extractor.extract(text)
    assert cues.signals.get(signal, 0) >= 0.5, cues.signals
    assert cues.evidence[signal], "every signal carries evidence"


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("please don't call me", "phone_request"),  # the refusal contains "call me"
        ("I paid £20.50 and GBP50 was taken twice", "technical"),  # amounts are not versions
        ("How long does a transfer to Germany take?", "urgency"),
        ("Hello, could you tell me my card limit?", "casual"),
        ("I'd like to log in to the app", "technical"),
    ],
)
def test_signal_is_not_detected(extractor: CueExtractor, text: str, absent: str) -> None:
    assert extractor.extract(text).signals.get(absent, 0) < 0.5


@pytest.mark.parametrize(
    ("text", "language", "clear"),
    [
        ("My card was declined at the supermarket", "en", True),
        ("Mi tarjeta fue rechazada en el supermercado", "es", True),
        ("Ma carte a été refusée au supermarché", "fr", True),
        ("ok", None, False),
        ("thx", None, False),
    ],
)
def test_language_identification(
    extractor: CueExtractor, text: str, language: str | None, clear: bool
) -> None:
    cues = extractor.extract(text)
    assert cues.language_clear is clear
    if language:
        assert cues.language == language
        assert cues.language_confidence > 0.6


@pytest.mark.parametrize(
    ("text", "marker"), [("hola", "es"), ("bonjour", "fr"), ("merci !", "fr"), ("ok", None)]
)
def test_short_words_mark_a_language(extractor: CueExtractor, text: str, marker: str | None) -> None:
    assert extractor.extract(text).language_marker == marker


@pytest.mark.parametrize("text", ["", "   ", None, "/affirm", '/inform{"x": 1}'])
def test_empty_text_and_button_payloads_say_nothing(extractor: CueExtractor, text: str | None) -> None:
    assert extractor.extract(text) == MessageCues()


def test_cues_round_trip_through_json_form(extractor: CueExtractor) -> None:
    import json

    cues = extractor.extract("URGENT!! can u call me asap, error E1043 😡")
    again = MessageCues.from_dict(json.loads(json.dumps(cues.to_dict())))
    assert again.signals == pytest.approx(cues.signals, abs=1e-3)
    assert again.evidence == cues.evidence
    assert again.language == cues.language


@pytest.mark.parametrize("junk", [None, 5, "x", {"signals": "no"}, {"signals": {"a": "b"}, "evidence": 3}])
def test_malformed_stored_cues_become_empty(junk: object) -> None:
    cues = MessageCues.from_dict(junk)
    assert isinstance(cues, MessageCues)
    assert all(isinstance(v, float) for v in cues.signals.values())
