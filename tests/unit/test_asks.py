"""A request for a call or a person found beside a question in one message, and answers
that say "I don't know" (bot.handoff.asks)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.handoff.asks import clauses as _clauses
from bot.handoff.asks import find_side_clauses, says_dont_know
from bot.handoff.routing import Request
from bot.persona.cues import CueExtractor


@pytest.mark.parametrize(
    ("text", "asked", "words"),
    [
        ("When will my new card arrive? Can someone call me about it", Request.phone_call,
         "Can someone call me about it"),
        ("I lost my card, please call me", Request.phone_call, "please call me"),
        ("I lost my card please call me", Request.phone_call, "please call me"),
        ("hi, can I talk to a person? my transfer to my landlord hasn't arrived", Request.person,
         "can I talk to a person"),
        ("necesito hablar con una persona, no me ha llegado la tarjeta", Request.person,
         "necesito hablar con una persona"),
        ("Ma carte a été refusée au supermarché. Appelez-moi s'il vous plaît", Request.phone_call, "Appelez-moi"),
    ],
)  # fmt: skip
def test_the_request_clause_is_found_beside_the_question(
    extractor: CueExtractor, text: str, asked: Request, words: str
) -> None:
    found = find_side_clauses(text, extractor.extract(text).evidence)
    assert found is not None and found.request is asked and found.words == words
    kept = "".join(c for i, c in enumerate(text) if not found.covers(i))
    assert words not in kept and len(kept.split()) >= 3


@pytest.mark.parametrize(
    "text",
    [
        "please call me back",  # only the request: the intent says it
        "can you call me about my card",  # one clause
        "No need to call me, just tell me how to change my PIN",  # negated
        "You called me yesterday about a payment, what was it for",  # a report, not a request
        "ne m'appelez pas, dites-moi juste où est ma carte",
        "how do I change my PIN",
        "Je ne suis pas à l'aise avec ce chat, pouvez-vous m'appeler ?",  # the reason, not a question
    ],
)
def test_no_request_clause(extractor: CueExtractor, text: str) -> None:
    found = find_side_clauses(text, extractor.extract(text).evidence)
    assert found is None or found.request is None


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("I'm not very good with computers. How do I top up my account?", "How do I top up my account"),
        # A hearing need or a refusal of calls: its whole sentence, when another asks.
        ("I'm deaf and can't use the phone. I lost my card yesterday.", "I lost my card yesterday"),
        ("No need to ring me, chatting here is fine. How do I get a new card?", "How do I get a new card"),
        ("Soy sordo y no puedo hablar por teléfono. Me han robado la tarjeta.", "Me han robado la tarjeta"),
        ("Je suis malentendant, je ne peux pas téléphoner. Ma carte a été volée.", "Ma carte a été volée"),
    ],
)
def test_an_aside_about_the_customer_is_not_the_question(
    extractor: CueExtractor, text: str, question: str
) -> None:
    found = find_side_clauses(text, extractor.extract(text).evidence)
    assert found is not None and found.request is None
    kept = " … ".join(text[b:e].strip() for b, e in _clauses(text) if not found.covers(b))
    assert kept == question


@pytest.mark.parametrize(
    "text",
    [
        "THIS IS RIDICULOUS my card got declined AGAIN, useless bank",
        "slt jsp où est passée ma carte, toujours pas reçue",
        "card declined at the till, need this sorted now, quick",
    ],
)
def test_frustration_and_urgency_stay_with_the_question(extractor: CueExtractor, text: str) -> None:
    assert find_side_clauses(text, extractor.extract(text).evidence) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I don't know my number", True),
        ("dunno", True),
        ("no idea", True),
        ("no lo sé", True),
        ("je sais pas", True),
        ("not sure, maybe 07911 123456", False),
        ("I don't want a call", False),
        ("07911 123456", False),
    ],
)
def test_dont_know(text: str, expected: bool) -> None:
    assert says_dont_know(text) is expected


@pytest.mark.parametrize(
    ("text", "ranking", "chosen"),
    [
        ("can you phone me about my card", [("lost_or_stolen_phone", 0.42), ("request_phone_call", 0.36)],
         "request_phone_call"),
        ("I lost my phone", [("lost_or_stolen_phone", 0.9), ("request_phone_call", 0.05)], "lost_or_stolen_phone"),
        ("No need to call me, how do I change my PIN", [("change_pin", 0.4), ("request_phone_call", 0.35)],
         "change_pin"),
        ("can you phone me about my card", [("lost_or_stolen_phone", 0.8), ("card_arrival", 0.1),
                                            ("country_support", 0.05), ("request_phone_call", 0.04)],
         "lost_or_stolen_phone"),
    ],
)  # fmt: skip
def test_words_asking_to_be_phoned_break_a_tie_with_the_request_intent(
    extractor: CueExtractor, text: str, ranking: list[tuple[str, float]], chosen: str
) -> None:
    message = _after_tie_breaker(extractor, text, ranking)
    assert message.get("intent")["name"] == chosen
    assert message.get("intent_ranking")[0]["name"] == chosen


@pytest.mark.parametrize(
    ("text", "ranking", "chosen"),
    [
        ("J'ai eu un conseiller au téléphone lundi pour mon chéquier.",
         [("request_phone_call", 0.6), ("order_checks", 0.2), ("card_arrival", 0.1)], "order_checks"),
        ("No need to ring me, why was my transfer returned?",
         [("request_phone_call", 0.5), ("transfer_not_received_by_recipient", 0.3)],
         "transfer_not_received_by_recipient"),
        ("I spoke to an agent yesterday and it is sorted, thanks",
         [("request_human", 0.5), ("thank", 0.4)], "thank"),
        ("Could you call me back about my card please?",
         [("request_phone_call", 0.7), ("card_arrival", 0.2)], "request_phone_call"),
    ],
)  # fmt: skip
def test_a_request_intent_gives_way_when_the_words_only_report_or_refuse(
    extractor: CueExtractor, text: str, ranking: list[tuple[str, float]], chosen: str
) -> None:
    message = _after_tie_breaker(extractor, text, ranking)
    assert message.get("intent")["name"] == chosen


def _after_tie_breaker(extractor: CueExtractor, text: str, ranking: list[tuple[str, float]]) -> Any:
    """The NLU message for ``text`` with ``ranking``, after ``RequestTieBreaker``."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.persona.cues import CUES_KEY
    from bot.rasa.asks import RequestTieBreaker

    message = Message(
        data={
            "text": text,
            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
            CUES_KEY: extractor.extract(text).to_dict(),
        }
    )
    RequestTieBreaker().process([message])
    return message


@pytest.mark.parametrize(
    "text",
    [
        "Please don't call me, just tell me how to reset my PIN",  # one sentence: it is the question
        "I'm deaf, can someone help",  # nothing else is asked
    ],
)
def test_a_sentence_with_the_question_in_it_is_kept_whole(extractor: CueExtractor, text: str) -> None:
    found = find_side_clauses(text, extractor.extract(text).evidence)
    assert found is None
