from __future__ import annotations

import datetime as dt

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.bank import BankInfo
from bot.rasa.nlg import PersonaNLG
from tests.support import RUNTIME_VARIABLES


async def test_every_response_is_filled_from_bank_config(rasa_domain: Domain, bank: BankInfo) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    tracker = DialogueStateTracker.from_events("u1", [])
    for name in rasa_domain.responses:
        response = await nlg.generate(name, tracker, "rest", **RUNTIME_VARIABLES)
        assert response is not None, name
        assert response["text"].strip(), name
        assert "{" not in response["text"] and "}" not in response["text"], f"{name}: {response['text']}"


async def test_phone_numbers_come_from_the_config(rasa_domain: Domain, bank: BankInfo) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    tracker = DialogueStateTracker.from_events("u1", [])
    response = await nlg.generate("utter_lost_or_stolen_card", tracker, "rest")
    assert response is not None
    assert bank.phone_cards in response["text"]


async def test_a_customer_who_cannot_use_a_voice_call_is_given_the_lines_through_text_relay(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    from bot.handoff.routing import Next, Route
    from bot.persona.phone_offer import PhoneOfferDecision

    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    cannot = PhoneOfferDecision(
        False, "no calls: customer said they cannot hear", blocked=True, cannot_phone=True
    )
    refused = PhoneOfferDecision(False, "no calls: customer refused phone calls", blocked=True)
    for language in ("en", "es", "fr"):
        slots = {"language": language, "route": Route(Next.answer, "x", cannot).to_slot()}
        tracker = _tracker(rasa_domain, slots, "I'm deaf. I lost my card")
        response = await nlg.generate("utter_lost_or_stolen_card", tracker, "rest")
        assert response is not None
        assert bank.phone_cards not in response["text"], language
        assert bank.relayed(bank.phone_cards, language) in response["text"], language
        # Refusing calls is not being unable to call: the number stays as it is.
        slots = {"language": language, "route": Route(Next.answer, "x", refused).to_slot()}
        tracker = _tracker(rasa_domain, slots, "don't call me. I lost my card")
        response = await nlg.generate("utter_lost_or_stolen_card", tracker, "rest")
        assert response is not None and bank.phone_cards in response["text"], language


async def test_kwargs_override_bank_variables(rasa_domain: Domain, bank: BankInfo) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    tracker = DialogueStateTracker.from_events("u1", [])
    response = await nlg.generate("utter_greet", tracker, "rest", bank_name="Other Bank")
    assert response is not None
    assert "Other Bank" in response["text"]


async def test_domain_defaults_are_merged_when_rasa_sets_responses_after_loading_the_model(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    # `rasa run` creates the NLG before the model (and its domain) is loaded.
    nlg = PersonaNLG(endpoint_config=None, domain=None)
    nlg.responses = rasa_domain.responses
    tracker = DialogueStateTracker.from_events("u1", [])
    response = await nlg.generate("utter_lost_or_stolen_card", tracker, "rest")
    assert response is not None
    assert response["metadata"]["wording"]["variant"] == "default"
    assert bank.phone_cards in response["text"]


def _tracker(
    domain: Domain, slots: dict[str, object], text: str, cues: dict[str, object] | None = None
) -> DialogueStateTracker:
    from rasa.shared.core.events import Event, SlotSet, UserUttered

    parse = {"intent": {"name": "card_arrival", "confidence": 0.9}, "persona_cues": cues or {}}
    events: list[Event] = [SlotSet(name, value) for name, value in slots.items()]
    events.append(UserUttered(text, parse_data=parse, input_channel="rest"))  # type: ignore[arg-type]
    return DialogueStateTracker.from_events("u1", events, slots=domain.slots)


async def test_the_phone_line_and_the_acknowledgement_follow_the_route_and_the_cues(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    from bot.handoff.routing import Next, Route
    from bot.persona.phone_offer import PhoneOfferDecision

    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    with_line = Route(Next.answer, "x", PhoneOfferDecision(True, "x"), phone_line=True).to_slot()
    slots = {"persona": "phone_first", "language": "en", "route": with_line}
    lined = await nlg.generate("utter_card_arrival", _tracker(rasa_domain, slots, "where is my card"), "rest")
    without = await nlg.generate(
        "utter_card_arrival", _tracker(rasa_domain, {**slots, "route": None}, "x"), "rest"
    )
    assert lined is not None and without is not None
    assert lined["text"] == f"{lined['text'].split(chr(10) * 2)[0]}\n\n{without['text']}"
    assert bank.phone_main in lined["text"].split("\n\n")[0]

    frustrated = _tracker(rasa_domain, {"language": "en"}, "WHY", {"signals": {"frustration": 0.9}})
    calm = _tracker(rasa_domain, {"language": "en"}, "why", {"signals": {"frustration": 0.2}})
    acked = await nlg.generate("utter_card_arrival", frustrated, "rest")
    plain = await nlg.generate("utter_card_arrival", calm, "rest")
    assert acked is not None and plain is not None
    assert acked["text"] != plain["text"] and acked["text"].endswith(plain["text"])


async def test_at_night_no_answer_points_to_a_closed_line_without_saying_so(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    night = dt.datetime(2026, 11, 23, 21, 5, tzinfo=dt.timezone.utc)  # a Monday, 21:05 in London
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain, clock=lambda: night)
    for language, closed in (
        ("en", "closed now; open again tomorrow at 8am"),
        ("fr", "réouverture demain"),
    ):
        tracker = _tracker(rasa_domain, {"language": language}, "x")
        answer = await nlg.generate("utter_pending_transfer", tracker, "rest")
        assert answer is not None and bank.phone_main in answer["text"] and closed in answer["text"]
        assert bank.text("hours", language) not in answer["text"]
    asked = await nlg.generate(
        "utter_ask_callback_window", _tracker(rasa_domain, {"language": "en"}, "x"), "rest"
    )
    assert asked is not None and "closed now" not in asked["text"], (
        "when we call back, not whether we are open"
    )
    assert bank.text("hours", "en") in asked["text"]
    day = PersonaNLG(endpoint_config=None, domain=rasa_domain, clock=lambda: night.replace(hour=10))
    answer = await day.generate(
        "utter_pending_transfer", _tracker(rasa_domain, {"language": "en"}, "x"), "rest"
    )
    assert answer is not None and bank.text("hours", "en") in answer["text"]


async def test_one_acknowledgement_a_turn_even_for_two_messages_of_one_action(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    frustrated = _tracker(
        rasa_domain, {"language": "en"}, "THIS IS USELESS", {"signals": {"frustration": 0.9}}
    )
    # An action's messages are rendered before any of them is in the tracker.
    first = await nlg.generate("utter_card_arrival", frustrated, "rest")
    second = await nlg.generate("utter_card_arrival", frustrated, "rest")
    assert first is not None and second is not None
    assert first["text"] != second["text"] and first["text"].endswith(second["text"]), "acknowledged once"
    again = _tracker(rasa_domain, {"language": "en"}, "STILL USELESS", {"signals": {"frustration": 0.9}})
    third = await nlg.generate("utter_card_arrival", again, "rest")
    assert third is not None and third["text"] == first["text"], "the next turn is acknowledged again"


async def test_card_data_in_the_message_is_acknowledged_once_and_never_asked_for(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    shared = _tracker(rasa_domain, {"language": "en"}, "my card 4539 1488 0343 6467 was declined")
    first = await nlg.generate("utter_declined_card_payment", shared, "rest")
    second = await nlg.generate("utter_anything_else", shared, "rest")
    assert first is not None and second is not None
    assert first["text"].startswith("I've removed the card details from your message")
    assert "never ask" in first["text"] and "removed" not in second["text"], "said once a turn"
    plain = _tracker(rasa_domain, {"language": "es"}, "mi tarjeta fue rechazada")
    answer = await nlg.generate("utter_declined_card_payment", plain, "rest")
    assert answer is not None and "eliminado" not in answer["text"]


async def test_a_hello_after_the_widgets_welcome_is_not_answered_with_the_welcome_again(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    from rasa.shared.core.events import BotUttered, UserUttered

    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    welcome = await nlg.generate("utter_greet", DialogueStateTracker.from_events("w0", []), "socketio")
    assert welcome is not None
    hello = UserUttered("hi there", parse_data={"intent": {"name": "greet"}}, metadata={"welcomed": True})  # type: ignore[arg-type]
    again = await nlg.generate("utter_greet", DialogueStateTracker.from_events("w1", [hello]), "socketio")
    assert again is not None and again["text"] != welcome["text"]
    assert again["metadata"]["wording"]["response"] == "utter_greet_back"
    # Later in the conversation, or without the widget's welcome, the greeting is the usual one.
    later = DialogueStateTracker.from_events("w2", [hello, BotUttered("Sure."), hello])
    assert (await nlg.generate("utter_greet", later, "socketio"))["text"] == welcome["text"]  # type: ignore[index]
    plain = UserUttered("hi there", parse_data={"intent": {"name": "greet"}})  # type: ignore[arg-type]
    assert (await nlg.generate("utter_greet", DialogueStateTracker.from_events("w3", [plain]), "rest"))[  # type: ignore[index]
        "text"
    ] == welcome["text"]


def test_a_turn_is_read_from_the_end_of_the_conversation() -> None:
    """Whether the bot has answered the latest message yet, and its latest texts (oldest
    first, at most ``RECENT_TEXTS``), however long the conversation."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    from bot.rasa.nlg import _turn
    from bot.wording.render import RECENT_TEXTS

    tracker = DialogueStateTracker("s", [])
    assert _turn(tracker) == (True, [])
    for i in range(10):
        tracker.update(UserUttered(f"question {i}"))
        assert _turn(tracker)[0] is True
        tracker.update(ActionExecuted("utter_x"))
        tracker.update(BotUttered(f"answer {i}"))
        tracker.update(BotUttered(None, data={"image": "x.png"}))  # no text: not among the texts
        assert _turn(tracker) == (False, [f"answer {j}" for j in range(max(0, i + 1 - RECENT_TEXTS), i + 1)])
    tracker.update(UserUttered("thanks"))
    assert _turn(tracker) == (True, [f"answer {j}" for j in range(10 - RECENT_TEXTS, 10)])
