"""The routing decision: what happens after a customer message, with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from bot.handoff.routing import (
    CALLBACK_INTRO,
    NO_CALL_ALTERNATIVE,
    Next,
    Request,
    Route,
    Situation,
    form_gave_up,
    route,
    unrouted_handover,
)
from bot.persona.assessment import PersonaEngine
from bot.persona.catalogue import PersonaCatalogue
from bot.persona.cues import CueExtractor
from bot.persona.phone_offer import PhoneOfferDecision, offer_held_back
from bot.persona.profile import Profile


def decide(
    engine: PersonaEngine,
    extractor: CueExtractor,
    turns: list[str],
    request: Request = Request.none,
    *,
    profile: dict[str, Any] | None = None,
    callback_offered: bool = False,
    held_back: str | None = None,
) -> Route:
    messages = [extractor.extract(t) for t in turns]
    assessment = engine.assess(messages, profile=Profile.from_mapping(profile), held_back=held_back)
    situation = Situation(request=request, messages=messages, callback_offered=callback_offered)
    return route(assessment, situation, catalogue=engine.catalogue)


@pytest.mark.parametrize(
    ("persona", "turns", "expected", "reason"),
    [
        ("phone_first", ["I want to talk to a person"], Next.live_chat, "asked for a person in the chat"),
        ("quick_mobile", ["I want to talk to a person"], Next.live_chat, "asked for a person in the chat"),
        ("default", ["I want to talk to a person"], Next.live_chat, "asked for a person in the chat"),
        ("quick_mobile", ["can you call me please"], Next.callback, "asked to be called"),
    ],
)
def test_a_request_for_a_person_in_the_chat_gives_a_chat_whatever_the_persona(
    engine: PersonaEngine,
    extractor: CueExtractor,
    persona: str,
    turns: list[str],
    expected: Next,
    reason: str,
) -> None:
    decided = decide(engine, extractor, turns, Request.person, profile={"persona": persona})
    assert decided.next is expected and decided.hands_over
    assert reason in decided.reason and decided.lead_response is None
    assert decided.contact == ("callback" if expected is Next.callback else "live_chat")


@pytest.mark.parametrize(
    ("turns", "profile", "why"),
    [
        (["can you call me"], {"consent_to_calls": False}, "does not want calls"),
        (["can you call me"], {"accessibility_needs": ["speech"]}, "speech need"),
        (["I'm deaf, can you call me"], None, "cannot hear or use the phone"),
    ],
)
def test_customers_who_must_not_be_called_are_never_put_through_to_the_phone(
    engine: PersonaEngine, extractor: CueExtractor, turns: list[str], profile: dict[str, Any] | None, why: str
) -> None:
    person = decide(engine, extractor, turns, Request.person, profile=profile)
    assert person.next is Next.live_chat and why in person.reason
    for request in (Request.phone_call, Request.accept_callback):
        call = decide(engine, extractor, turns, request, profile=profile)
        assert call.next is Next.accessible_alternative and call.contact == "live_chat"
        assert call.lead_response == NO_CALL_ALTERNATIVE and why in call.reason
    assert decide(engine, extractor, turns, profile=profile).phone.blocked


@pytest.mark.parametrize(
    ("turns", "profile", "cannot"),
    [
        (["my card is lost"], {"accessibility_needs": ["speech"]}, True),
        (["I'm deaf and can't use the phone. I lost my card yesterday."], None, True),
        (["Je suis sourde. Ma carte a été volée."], None, True),
        (["don't call me, how do I freeze my card"], None, False),
        (["my card is lost"], {"consent_to_calls": False}, False),
        (["my card is lost"], None, False),
    ],
)
def test_only_a_hearing_or_speech_need_gives_the_lines_in_their_text_relay_form(
    engine: PersonaEngine,
    extractor: CueExtractor,
    turns: list[str],
    profile: dict[str, Any] | None,
    cannot: bool,
) -> None:
    decided = decide(engine, extractor, turns, profile=profile)
    assert decided.phone.cannot_phone is cannot
    assert Route.from_slot(decided.to_slot()) == decided


def test_a_request_to_be_phoned_gives_our_numbers_then_the_callback(
    engine: PersonaEngine, extractor: CueExtractor
) -> None:
    decided = decide(engine, extractor, ["what number can I call you on"], Request.phone_call)
    assert (decided.next, decided.lead_response, decided.reason) == (
        Next.callback,
        CALLBACK_INTRO,
        "asked to be called",
    )


def test_yes_to_the_offer_books_the_callback_and_no_arranges_nothing(
    engine: PersonaEngine, extractor: CueExtractor
) -> None:
    turns = ["I'm not good with computers, how do I change my PIN"]
    yes = decide(engine, extractor, turns, Request.accept_callback)
    assert yes.next is Next.callback and yes.reason.startswith("accepted the callback offer (")
    no = decide(engine, extractor, turns, Request.decline_callback)
    assert no.next is Next.nothing and not no.hands_over and no.contact is None


def test_after_an_answer_the_callback_is_offered_once_and_the_phone_line_stays(
    engine: PersonaEngine, extractor: CueExtractor
) -> None:
    turns = ["I find this chat very confusing, I'm not good with computers."]
    first = decide(engine, extractor, turns)
    assert first.next is Next.offer_callback and first.phone_line and first.phone.offer
    again = decide(engine, extractor, turns, callback_offered=True)
    assert again.next is Next.answer and again.phone_line, "offered once; the phone line stays"


def test_the_phone_line_is_only_for_personas_that_prefer_the_phone(
    engine: PersonaEngine, extractor: CueExtractor
) -> None:
    decided = decide(engine, extractor, ["hey can u call me pls"], profile={"persona": "quick_mobile"})
    assert decided.phone.offer and decided.next is Next.offer_callback
    assert not decided.phone_line, "quick_mobile is offered a callback, not the phone line before answers"


def test_nothing_is_offered_while_a_person_is_being_arranged(
    engine: PersonaEngine, extractor: CueExtractor
) -> None:
    held = offer_held_back(arranging_callback=True, handoff_reference=None, declined_callback=False)
    decided = decide(engine, extractor, ["I'm not good with computers, call me"], held_back=held)
    assert decided.next is Next.answer and not decided.phone_line
    assert decided.reason == "a callback is being arranged"


def test_the_route_survives_its_slot_and_a_malformed_slot_is_no_route(
    engine: PersonaEngine, extractor: CueExtractor
) -> None:
    decided = decide(engine, extractor, ["can you call me"], Request.phone_call)
    assert Route.from_slot(decided.to_slot()) == decided
    for bad in (None, "callback", {}, {"next": "teleport"}, {"next": "answer"}):
        assert Route.from_slot(bad) is None, bad


def test_handovers_without_a_routed_request_go_to_a_person_in_the_chat() -> None:
    assert unrouted_handover().next is Next.live_chat
    gave_up = form_gave_up("number", 3, PhoneOfferDecision(False, "x"))
    assert gave_up.contact == "live_chat"
    assert gave_up.reason == "wanted a callback; the number was not understood 3 times"


def test_every_persona_has_a_route_for_every_request(
    engine: PersonaEngine, catalogue: PersonaCatalogue
) -> None:
    for persona in catalogue.ids:
        for request in Request:
            decided = route(
                engine.assess([], profile=Profile(persona=persona)),
                Situation(request=request),
                catalogue=catalogue,
            )
            assert decided.reason, (persona, request)
