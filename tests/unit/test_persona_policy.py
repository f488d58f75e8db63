"""The persona policy (bot.rasa.persona_policy) against real Rasa trackers and the shipped
domain: the slots it sets after a customer message, and that it never chooses an action."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from rasa.core.constants import DEFAULT_POLICY_PRIORITY
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from actions import common
from bot.core.settings import DEFAULT_PERSONAS_FILE
from bot.handoff.routing import Next
from bot.handoff.turn import OWNED_SLOTS
from bot.persona.assessment import DETAIL_SLOTS, conversation_from_events
from bot.persona.cues import CUES_KEY, CueExtractor
from bot.rasa.history import clone as history_clone
from bot.rasa.persona_policy import PERSONA_POLICY_PRIORITY, ConversationCache, PersonaPolicy, turn_facts
from tests.support import make_tracker, user_event

PHONE_FIRST = "I'm not good with computers, can you ring me? My card hasn't come."


def user(extractor: CueExtractor | None, text: str, intent: str = "card_arrival", **kwargs: Any) -> Event:
    """A customer message with the parse data the NLU pipeline stores (cues included)."""
    event = Event.from_parameters(user_event(extractor, text, intent, **kwargs))
    assert event is not None
    return event


def answered(*responses: str) -> list[Event]:
    """The actions of an answered turn, ending with listening."""
    out: list[Event] = []
    for name in responses:
        out += [ActionExecuted(name), BotUttered(name)]
    return [*out, ActionExecuted("action_listen")]


def tracker(domain: Domain, events: list[Event], slots: dict[str, Any] | None = None) -> DialogueStateTracker:
    """A tracker of ``events`` whose slots were set at the start of the session."""
    first = [
        SessionStarted(),
        *(SlotSet(k, v) for k, v in (slots or {}).items()),
        ActionExecuted("action_listen"),
    ]
    return DialogueStateTracker.from_events("customer-1", [*first, *events], slots=domain.slots)


def predict(policy: PersonaPolicy, t: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """The slots the policy's prediction sets; its probabilities are all zero."""
    prediction = policy.predict_action_probabilities(t, domain)
    assert prediction.max_confidence == 0.0 and len(prediction.probabilities) == domain.num_actions
    assert all(isinstance(e, SlotSet) for e in prediction.events)
    return {e.key: e.value for e in prediction.events if isinstance(e, SlotSet)}


def applied(t: DialogueStateTracker, slots: dict[str, Any]) -> DialogueStateTracker:
    """``t`` with ``slots`` set, as Rasa applies the prediction's events."""
    for name, value in slots.items():
        t.update(SlotSet(name, value))
    return t


# --- what it sets ----------------------------------------------------------------------


def test_sets_persona_language_phone_offer_and_route(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    events = [
        user(extractor, "Bonjour", "greet"),
        *answered("utter_greet"),
        user(extractor, "Je ne suis pas à l'aise avec ce chat, pouvez-vous m'appeler ?"),
    ]
    slots = predict(policy_under_test, tracker(rasa_domain, events), rasa_domain)
    assert set(slots) == set(OWNED_SLOTS) - set(DETAIL_SLOTS), "why the persona: only on a handover"
    assert slots["persona"] == "phone_first"
    assert slots["language"] == "fr"
    assert slots["route"]["offer_phone"] is True
    assert slots["route"]["next"] == "offer_callback", "after the answer, a callback is offered"
    assert slots["route"]["phone_line"] is True, "answers carry the phone line first"


def test_why_the_persona_is_stored_when_the_conversation_is_handed_over(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    events = [
        user(extractor, "Je ne suis pas à l'aise avec ce chat, pouvez-vous m'appeler ?"),
        *answered("utter_card_arrival"),
        user(extractor, "oui, appelez-moi", "request_phone_call"),
    ]
    slots = predict(policy_under_test, tracker(rasa_domain, events), rasa_domain)
    assert slots["route"]["next"] == "callback"
    assert set(slots) == set(OWNED_SLOTS)
    assert 0 < slots["persona_confidence"] <= 1
    assert slots["persona_runner_up"]
    assert any("phone request" in e for e in slots["persona_evidence"])
    # The phone offer, as a slot of its own for staff (the route holds it every turn).
    assert (slots["offer_phone"], slots["offer_phone_reason"]) == (
        slots["route"]["offer_phone"],
        slots["route"]["offer_phone_reason"],
    )


def test_the_route_is_stored_where_the_actions_read_it(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    slots = predict(policy_under_test, tracker(rasa_domain, [user(extractor, PHONE_FIRST)]), rasa_domain)
    stored = common.stored_route(make_tracker([], {"route": slots["route"]}))
    assert stored is not None and stored.next is Next.callback, "the call asked beside the question"
    assert stored.reason == "asked to be called with a question (answered first)"
    assert stored.phone.offer is True


def test_the_profile_slot_is_used(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    profile: dict[str, Any] = {"preferred_channel": "phone", "contact_history": {"phone": 5}}
    events = [user(extractor, "I have a question about a payment.")]
    slots = predict(
        policy_under_test, tracker(rasa_domain, events, {"customer_profile": profile}), rasa_domain
    )
    assert slots["persona"] == "phone_first"
    profile["accessibility_needs"] = ["hearing"]
    slots = predict(
        policy_under_test, tracker(rasa_domain, events, {"customer_profile": profile}), rasa_domain
    )
    assert slots["route"]["offer_phone"] is False
    assert "hearing" in slots["route"]["offer_phone_reason"]


def test_a_message_sent_while_the_callback_form_asks_holds_the_offer_back_and_is_not_counted(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    asked = [user(extractor, PHONE_FIRST, "request_phone_call")]
    in_form = [
        *asked,
        ActionExecuted("action_hand_over"),
        ActiveLoop("callback_form"),
        ActionExecuted("action_ask_callback_number"),
        ActionExecuted("action_listen"),
        user(extractor, "lol whatever 07400 123456", "nlu_fallback"),
    ]
    t = tracker(rasa_domain, in_form)
    convo = turn_facts(t).conversation
    assert len(convo.messages) == 1 and convo.failures == 0, "a form answer is not a message nor a failure"
    slots = predict(policy_under_test, t, rasa_domain)
    assert slots["persona"] == "phone_first", "the persona is still inferred"
    assert (slots["route"]["offer_phone"], slots["route"]["offer_phone_reason"]) == (
        False,
        "a callback is being arranged",
    )
    after = [*in_form, ActionExecuted("callback_form"), ActiveLoop(None), ActionExecuted("action_listen")]
    assert (
        len(turn_facts(tracker(rasa_domain, [*after, user(extractor, "thanks")])).conversation.messages) == 2
    )


def test_no_phone_offer_once_handed_over(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    events = [user(extractor, PHONE_FIRST)]
    t = tracker(rasa_domain, events, {"handoff_reference": "CB-7KM3QZ"})
    slots = predict(policy_under_test, t, rasa_domain)
    assert (slots["route"]["offer_phone"], slots["route"]["offer_phone_reason"]) == (
        False,
        "already handed over to the team (CB-7KM3QZ)",
    )


@pytest.mark.parametrize("refusal", ["action_decline_callback", "action_cancel_callback"])
def test_no_phone_offer_after_the_customer_said_no_to_a_callback_in_this_session(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor, refusal: str
) -> None:
    said_no = [
        user(extractor, PHONE_FIRST),
        *answered(refusal),
        user(extractor, "and how do I change my PIN", "change_pin"),
    ]
    slots = predict(policy_under_test, tracker(rasa_domain, said_no), rasa_domain)
    assert (slots["route"]["offer_phone"], slots["route"]["offer_phone_reason"]) == (
        False,
        "the customer said no to a callback in this conversation",
    )
    new_session = [*said_no, *answered("utter_change_pin"), SessionStarted(), user(extractor, PHONE_FIRST)]
    assert (
        predict(policy_under_test, tracker(rasa_domain, new_session), rasa_domain)["route"]["offer_phone"]
        is True
    ), "a new session starts afresh"


@pytest.mark.parametrize("reset", [SessionStarted(), Restarted()])
def test_only_the_current_session_counts(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor, reset: Event
) -> None:
    events = [
        user(extractor, PHONE_FIRST),
        *answered("utter_card_arrival"),
        reset,
        ActionExecuted("action_listen"),
        user(extractor, "hola", "greet"),
    ]
    facts = turn_facts(tracker(rasa_domain, events))
    assert len(facts.conversation.messages) == 1
    assert facts.conversation.actions == {"action_listen"}, "no action of the earlier session"


@pytest.mark.parametrize("stored", [None, "garbage", {"signals": "x"}])
def test_messages_without_cues_do_not_break_it(
    stored: Any, policy_under_test: PersonaPolicy, rasa_domain: Domain
) -> None:
    event = Event.from_parameters(
        {"event": "user", "text": "/greet", "input_channel": "rest", "parse_data": {CUES_KEY: stored}}
    )
    assert event is not None
    assert predict(policy_under_test, tracker(rasa_domain, [event]), rasa_domain)["persona"] == "default"


# --- when it sets them -------------------------------------------------------------------


def test_only_changed_slots_are_set(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    t = tracker(rasa_domain, [user(extractor, "hello", "greet")])
    first = predict(policy_under_test, t, rasa_domain)
    assert predict(policy_under_test, applied(t, first), rasa_domain) == {}
    t = applied(tracker(rasa_domain, [user(extractor, "hello", "greet")]), {**first, "language": "es"})
    assert predict(policy_under_test, t, rasa_domain) == {"language": first["language"]}


def test_events_only_on_the_first_prediction_after_a_customer_message(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    message = [user(extractor, PHONE_FIRST)]
    assert predict(policy_under_test, tracker(rasa_domain, message), rasa_domain)
    after_an_action = [*message, ActionExecuted("utter_card_arrival"), BotUttered("...")]
    assert predict(policy_under_test, tracker(rasa_domain, after_an_action), rasa_domain) == {}
    listening = [*after_an_action, ActionExecuted("action_listen")]
    assert predict(policy_under_test, tracker(rasa_domain, listening), rasa_domain) == {}
    # A rejected action's events (these slots among them) are discarded: predicted again.
    rejected = [*message, ActionExecutionRejected("callback_form")]
    assert predict(policy_under_test, tracker(rasa_domain, rejected), rasa_domain)


def test_a_form_starting_reads_the_slots_again_as_rasa_did(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    asked = [user(extractor, PHONE_FIRST, "request_phone_call")]
    first = predict(policy_under_test, tracker(rasa_domain, asked), rasa_domain)
    assert (first["route"]["offer_phone"], first["route"]["next"]) == (True, "callback")
    handed_over = [*asked, *(SlotSet(k, v) for k, v in first.items()), ActionExecuted("action_hand_over")]
    started = [
        *handed_over,
        ActionExecuted("callback_form"),
        ActiveLoop("callback_form"),
        SlotSet("requested_slot", "callback_number"),
        BotUttered("What number?"),
    ]
    again = predict(policy_under_test, tracker(rasa_domain, started), rasa_domain)
    assert (again["route"]["offer_phone"], again["route"]["offer_phone_reason"]) == (
        False,
        "a callback is being arranged",
    )
    listening = [*started, *(SlotSet(k, v) for k, v in again.items()), ActionExecuted("action_listen")]
    assert predict(policy_under_test, tracker(rasa_domain, listening), rasa_domain) == {}
    # A form put back by another action is not a start: Rasa extracted nothing then.
    put_back = [*handed_over, ActionExecuted("action_book_callback"), ActiveLoop("callback_form")]
    assert predict(policy_under_test, tracker(rasa_domain, put_back), rasa_domain) == {}


def test_no_customer_message_no_events(policy_under_test: PersonaPolicy, rasa_domain: Domain) -> None:
    assert predict(policy_under_test, tracker(rasa_domain, []), rasa_domain) == {}
    only_a_form_answer = [ActiveLoop("callback_form"), user(None, "07400 123456")]
    assert predict(policy_under_test, tracker(rasa_domain, only_a_form_answer), rasa_domain) == {}


def test_logs_the_decision(
    policy_under_test: PersonaPolicy,
    rasa_domain: Domain,
    extractor: CueExtractor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.rasa.persona_policy"):
        predict(policy_under_test, tracker(rasa_domain, [user(extractor, PHONE_FIRST)]), rasa_domain)
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("persona.inferred")]
    assert line.startswith("persona.inferred sender=customer-1 profile=no persona=phone_first confidence=")
    assert line.endswith("offer_phone=True next=callback")
    caplog.clear()
    # At INFO (how Rasa runs) a message writes no log line: the decision is in the
    # tracker's slot events, and a line per message cost a fifth of a millisecond a turn.
    with caplog.at_level(logging.INFO, logger="bot.rasa.persona_policy"):
        predict(policy_under_test, tracker(rasa_domain, [user(extractor, PHONE_FIRST)]), rasa_domain)
    assert not [r for r in caplog.records if r.getMessage().startswith("persona.inferred")]


# --- it never chooses an action ----------------------------------------------------------


def test_its_prediction_never_wins_even_against_all_zeros(
    policy_under_test: PersonaPolicy, rasa_domain: Domain, extractor: CueExtractor
) -> None:
    t = tracker(rasa_domain, [user(extractor, PHONE_FIRST)])
    ours = policy_under_test.predict_action_probabilities(t, rasa_domain)
    assert ours.policy_priority == PERSONA_POLICY_PRIORITY < 0 < DEFAULT_POLICY_PRIORITY
    nothing = PolicyPrediction([0.0] * rasa_domain.num_actions, "MemoizationPolicy", policy_priority=0)
    answer = [0.0] * rasa_domain.num_actions
    answer[rasa_domain.index_for_action("utter_card_arrival")] = 0.4
    ted = PolicyPrediction(answer, "TEDPolicy", policy_priority=DEFAULT_POLICY_PRIORITY)
    ensemble = DefaultPolicyPredictionEnsemble()
    for others in ([nothing], [ted], [nothing, ted]):
        for order in ([ours, *others], [*others, ours]):
            best = ensemble.combine_predictions(order, t, rasa_domain)
            assert best.policy_name != "PersonaPolicy"
            assert {e.key for e in best.events if isinstance(e, SlotSet)} == set(OWNED_SLOTS), (
                "its events are applied although it loses"
            )


def test_a_priority_that_could_win_is_refused(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), model_id="test")
    with pytest.raises(InvalidConfigException, match="priority 3"):
        PersonaPolicy({"priority": 3}, LocalModelStorage(tmp_path), Resource("p"), context)


def test_trains_persists_and_loads_with_the_catalogue(tmp_path: Path, rasa_domain: Domain) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("persona_policy")
    context = ExecutionContext(GraphSchema({}), model_id="test")
    config = {**PersonaPolicy.get_default_config(), "personas_file": str(DEFAULT_PERSONAS_FILE)}
    trained = PersonaPolicy.create(config, storage, resource, context)
    assert trained.train([], rasa_domain) == resource
    loaded = PersonaPolicy.load(config, storage, resource, context)
    assert isinstance(loaded, PersonaPolicy)
    assert "phone_first" in loaded.engine.catalogue.ids


# --- one reader of the conversation --------------------------------------------------------


def test_rasa_events_and_their_json_give_the_same_conversation(
    rasa_domain: Domain, extractor: CueExtractor
) -> None:
    relayed = Event.from_parameters(
        {**user_event(extractor, "???", "nlu_fallback"), "metadata": {"channel": "telegram"}}
    )
    assert relayed is not None
    events = [
        user(extractor, "old session message"),
        *answered("utter_card_arrival"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        user(extractor, "hi", "greet", channel="socketio"),
        *answered("action_decline_callback"),
        ActiveLoop("callback_form"),
        user(extractor, "07400 123456"),
        ActiveLoop(None),
        relayed,
    ]
    t = tracker(rasa_domain, events)
    from_rasa = turn_facts(t).conversation
    from_json = conversation_from_events(e.as_dict() for e in t.events)
    assert from_rasa == from_json
    assert (len(from_rasa.messages), from_rasa.channel, from_rasa.failures) == (2, "telegram", 1)
    assert "action_decline_callback" in from_rasa.actions


def test_unknown_channel_in_metadata_is_ignored(extractor: CueExtractor) -> None:
    events = [user_event(extractor, "hi", channel="rest", channel_name="x")]
    events[0]["metadata"] = {"channel": "carrier-pigeon"}
    assert conversation_from_events(events).channel == "rest"


def test_a_conversation_is_read_on_from_where_the_last_turn_left_it(
    rasa_domain: Domain, extractor: CueExtractor
) -> None:
    """Each turn reads its own events: the same conversation as reading every event, with
    forms, restarts and a tracker read back from the database (new event objects)."""

    cache = ConversationCache()
    turns: list[list[Event]] = [
        [user(extractor, "hola", "greet"), *answered("utter_greet")],
        [user(extractor, "no me ha llegado la tarjeta, q pasa??"), *answered("utter_card_arrival")],
        [user(extractor, "whatever", "nlu_fallback"), *answered("action_default_fallback")],
        [
            user(extractor, "llámenme", "request_phone_call"),
            ActionExecuted("callback_form"),
            ActiveLoop("callback_form"),
            ActionExecuted("action_listen"),
        ],
        [user(extractor, "07400 123456", "inform"), ActionExecuted("callback_form"), ActiveLoop(None)],
        [ActionExecuted("action_listen"), user(extractor, "gracias", "thank"), *answered("utter_welcome")],
        [Restarted(), ActionExecuted("action_listen"), user(extractor, "my card never came")],
    ]
    t = tracker(rasa_domain, [])
    for events in turns:
        for event in events:
            t.update(event)
            read_on = turn_facts(t, cache).conversation
            assert read_on == turn_facts(t).conversation
        t = history_clone(t)  # the next turn gets the same event objects, as from the store
    assert len(turn_facts(t, cache).conversation.messages) == 1, "a restart forgets the session"
    from_database = DialogueStateTracker.from_dict(
        "customer-1", [e.as_dict() for e in t.events], rasa_domain.slots
    )
    assert turn_facts(from_database, cache).conversation == turn_facts(t).conversation
    other = tracker(rasa_domain, [user(extractor, "hello there, is the app down?")])
    assert len(turn_facts(other, cache).conversation.messages) == 1, "another branch is read from the start"


def test_what_the_customer_writes_to_a_person_does_not_count(
    rasa_domain: Domain, extractor: CueExtractor
) -> None:
    """While a person has the conversation (the assistant paused), short answers to their
    questions are not the customer's style and not failed turns: after the chat the persona
    and the phone offer read the conversation with the assistant only."""
    from rasa.shared.core.events import ConversationPaused, ConversationResumed

    before = [
        user(extractor, "hola, alguien ha usado mi tarjeta en una tienda que no conozco"),
        *answered("utter_card_payment_not_recognised"),
        user(extractor, "quiero hablar con una persona por favor", "request_human"),
        ActionExecuted("action_hand_over"),
        ConversationPaused(),
    ]
    with_staff = [
        user(extractor, "no, solo ese", "nlu_fallback"),
        user(extractor, "ok", "nlu_fallback"),
        user(extractor, "vale gracias", "thank"),
    ]
    after = [
        ConversationResumed(),
        ActionExecuted("action_listen"),
        user(extractor, "¿cuándo llega la tarjeta nueva?"),
    ]
    t = tracker(rasa_domain, [*before, *with_staff, *after])
    convo = turn_facts(t).conversation
    assert len(convo.messages) == 3 and convo.failures == 0
    assert conversation_from_events([e.as_dict() for e in t.events]) == convo
    assert turn_facts(t, ConversationCache()).conversation == convo
