"""The incremental dialogue history (bot/rasa/history.py) gives what Rasa's own methods give,
event after event, through forms, rewinds, restarts and new sessions; and tracker copies
made without replay behave like trackers rebuilt from their events."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rasa.shared.core.constants import RULE_ONLY_LOOPS, RULE_ONLY_SLOTS
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.rasa import history

RASA_APPLIED_EVENTS = DialogueStateTracker.applied_events
RASA_STATES = Domain.states_for_tracker_history
RULE_ONLY = {RULE_ONLY_SLOTS: ["callback_offer_pending"], RULE_ONLY_LOOPS: ["callback_form"]}
VARIANTS: list[dict[str, Any]] = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"ignore_rule_only_turns": True, "rule_only_data": {RULE_ONLY_SLOTS: [], RULE_ONLY_LOOPS: []}},
]


def said(intent: str, text: str = "") -> UserUttered:
    return UserUttered(text or intent, intent={"name": intent, "confidence": 0.9})


def listen() -> ActionExecuted:
    return ActionExecuted("action_listen")


def answered(*names: str) -> list[Event]:
    out: list[Event] = []
    for name in names:
        out += [ActionExecuted(name), BotUttered(name)]
    return out


def question(intent: str = "card_arrival") -> list[Event]:
    return [
        said(intent),
        SlotSet("persona", "technical"),
        SlotSet("persona_confidence", random.random()),
        ActionExecuted(f"utter_{intent}"),
        BotUttered("answer"),
        ActionExecuted("action_offer_more_help"),
        listen(),
    ]


def form_run() -> list[Event]:
    """The callback form: activated, asked, answered twice, an interruption, done."""
    return [
        said("request_phone_call"),
        ActionExecuted("callback_form"),
        ActiveLoop("callback_form"),
        SlotSet("requested_slot", "callback_number"),
        listen(),
        said("inform", "07700 900123"),
        ActionExecuted("callback_form"),
        SlotSet("callback_number", "+447700900123"),
        SlotSet("requested_slot", "callback_window"),
        listen(),
        said("card_arrival"),
        ActionExecutionRejected("callback_form"),
        ActionExecuted("utter_card_arrival"),
        ActionExecuted("callback_form"),
        SlotSet("requested_slot", "callback_window"),
        listen(),
        said("inform", "morning"),
        ActionExecuted("callback_form"),
        SlotSet("callback_window", "morning"),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ActionExecuted("utter_callback_booked"),
        listen(),
    ]


def conversations() -> dict[str, list[Event]]:
    random.seed(3)
    start = [ActionExecuted("action_session_start"), SessionStarted(), listen()]
    return {
        "questions": start + question() + question("card_payment_fee_charged") + question(),
        "form": start + question() + form_run() + question(),
        "rewind": start + question() + [said("card_arrival"), UserUtteranceReverted(), listen()] + question(),
        "reverted action": start + question() + [said("greet"), ActionExecuted("utter_greet"), ActionReverted()]
        + answered("utter_greet") + [listen()],
        "restart": start + question() + [said("restart"), ActionExecuted("action_restart"), Restarted(), listen()]
        + question(),
        "new session": start + question() + start + question("greet"),
        "followup": [*start, said("card_arrival"), FollowupAction("action_offer_more_help"), *question()],
        "form twice": start + form_run() + question() + form_run(),
    }  # fmt: skip


def rasa_states(domain: Domain, tracker: DialogueStateTracker, **kwargs: Any) -> list[Any]:
    replayed = DialogueStateTracker.from_events(tracker.sender_id, list(tracker.events), domain.slots)
    states: list[Any] = RASA_STATES(domain, replayed, **kwargs)
    return states


@pytest.mark.parametrize("name", list(conversations()))
def test_history_event_by_event_is_rasas(rasa_domain: Domain, name: str) -> None:
    """After every event, on the same tracker the turn keeps, the applied events and every
    variant of the states equal Rasa's, computed from scratch."""
    events = conversations()[name]
    tracker = DialogueStateTracker("c", rasa_domain.slots)
    for event in events:
        tracker.update(event)
        expected_applied = RASA_APPLIED_EVENTS(tracker)
        assert history.applied_events(tracker, RASA_APPLIED_EVENTS) == expected_applied
        for kwargs in VARIANTS:
            assert history.states_for_tracker_history(rasa_domain, tracker, **kwargs) == rasa_states(
                rasa_domain, tracker, **kwargs
            ), (name, len(tracker.events), kwargs)


@pytest.mark.parametrize("name", list(conversations()))
def test_history_in_big_steps_and_on_clones_is_rasas(rasa_domain: Domain, name: str) -> None:
    """Several events between calls, and a clone taken between turns (what the tracker
    store hands out) carrying on from the original's history."""
    events = conversations()[name]
    tracker = DialogueStateTracker("c", rasa_domain.slots)
    for i, event in enumerate(events):
        tracker.update(event)
        if i % 5 == 4:
            tracker = history.clone(tracker)
            for kwargs in VARIANTS:
                assert history.states_for_tracker_history(rasa_domain, tracker, **kwargs) == rasa_states(
                    rasa_domain, tracker, **kwargs
                )
    assert history.applied_events(tracker, RASA_APPLIED_EVENTS) == RASA_APPLIED_EVENTS(tracker)


def test_callers_get_their_own_states_and_lists(rasa_domain: Domain) -> None:
    """Rasa's featurizers delete keys from the states they get: the next caller is not
    affected."""
    tracker = DialogueStateTracker("c", rasa_domain.slots)
    for event in conversations()["questions"]:
        tracker.update(event)
    first = history.states_for_tracker_history(rasa_domain, tracker)
    for state in first:
        state.clear()
    history.applied_events(tracker, RASA_APPLIED_EVENTS).clear()
    assert history.states_for_tracker_history(rasa_domain, tracker) == rasa_states(rasa_domain, tracker)
    assert history.applied_events(tracker, RASA_APPLIED_EVENTS) == RASA_APPLIED_EVENTS(tracker)


@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("name", list(conversations()))
def test_featurizers_editing_user_sub_states_affect_no_later_call(
    rasa_domain: Domain, name: str, kwargs: dict[str, Any]
) -> None:
    """What Rasa's featurizers do to the states they get (delete the text, intent or entities
    of user sub-states, in place), after every event, leaves the next call's states Rasa's."""
    tracker = DialogueStateTracker("c", rasa_domain.slots)
    for event in conversations()[name]:
        tracker.update(event)
        for state in history.states_for_tracker_history(rasa_domain, tracker, **kwargs):
            for key in ("text", "intent", "entities"):
                state.get("user", {}).pop(key, None)
        assert history.states_for_tracker_history(rasa_domain, tracker, **kwargs) == rasa_states(
            rasa_domain, tracker, **kwargs
        ), (name, len(tracker.events))


def test_a_replaced_event_list_is_computed_again(rasa_domain: Domain) -> None:
    tracker = DialogueStateTracker("c", rasa_domain.slots)
    for event in conversations()["questions"]:
        tracker.update(event)
    history.states_for_tracker_history(rasa_domain, tracker)
    other = DialogueStateTracker("c", rasa_domain.slots)
    for event in conversations()["rewind"]:
        other.update(event)
    tracker.events = other.events  # not appended: the remembered history no longer applies
    assert history.applied_events(tracker, RASA_APPLIED_EVENTS) == RASA_APPLIED_EVENTS(other)
    assert history.states_for_tracker_history(rasa_domain, tracker) == rasa_states(rasa_domain, other)


@pytest.mark.parametrize("name", list(conversations()))
def test_a_clone_is_the_tracker_rebuilt_from_its_events(rasa_domain: Domain, name: str) -> None:
    original = DialogueStateTracker.from_events("c", conversations()[name], rasa_domain.slots)
    copy = history.clone(original)
    rebuilt = DialogueStateTracker.from_events("c", list(original.events), rasa_domain.slots)
    assert copy.current_state(EventVerbosity.ALL) == rebuilt.current_state(EventVerbosity.ALL)
    assert {k: s.value for k, s in copy.slots.items()} == {k: s.value for k, s in rebuilt.slots.items()}
    assert copy.active_loop == rebuilt.active_loop
    assert copy.latest_action == rebuilt.latest_action
    assert copy.followup_action == rebuilt.followup_action
    assert copy.is_paused() == rebuilt.is_paused()


def test_changing_a_clone_leaves_the_original_alone(rasa_domain: Domain) -> None:
    original = DialogueStateTracker.from_events("c", conversations()["form"][:-11], rasa_domain.slots)
    assert original.active_loop_name == "callback_form"
    before = original.current_state(EventVerbosity.ALL)
    copy = history.clone(original)
    copy.update(ActionExecutionRejected("callback_form"))
    copy.update(SlotSet("persona", "casual"))
    copy.update(ActiveLoop(None))
    copy.update(ActionExecuted("utter_goodbye"))
    assert original.current_state(EventVerbosity.ALL) == before
    assert original.active_loop_name == "callback_form" and not original.active_loop.rejected  # type: ignore[union-attr]
    assert original.get_slot("persona") == "technical"
    assert len(original.events) == len(copy.events) - 4


def test_adopt_only_when_the_events_are_the_same_objects(rasa_domain: Domain) -> None:
    events = conversations()["questions"]
    turn = DialogueStateTracker.from_events("c", events, rasa_domain.slots)
    history.states_for_tracker_history(rasa_domain, turn)
    kept = DialogueStateTracker.from_events("c", events, rasa_domain.slots)
    assert history.adopt(kept, turn)
    assert history.states_for_tracker_history(rasa_domain, kept) == rasa_states(rasa_domain, kept)
    redacted = [*events[:-3], BotUttered("[card number removed]"), *events[-2:]]
    other = DialogueStateTracker.from_events("c", redacted, rasa_domain.slots)
    assert not history.adopt(other, turn)


def test_install_patches_rasa_once(monkeypatch: pytest.MonkeyPatch, rasa_domain: Domain) -> None:
    monkeypatch.setattr(DialogueStateTracker, "applied_events", RASA_APPLIED_EVENTS)
    monkeypatch.setattr(Domain, "states_for_tracker_history", RASA_STATES)
    monkeypatch.setattr(DialogueStateTracker, "copy", DialogueStateTracker.copy)
    monkeypatch.setattr(DialogueStateTracker, history._INSTALLED_FLAG, False, raising=False)
    history.install()
    patched = DialogueStateTracker.applied_events
    history.install()
    assert DialogueStateTracker.applied_events is patched
    tracker = DialogueStateTracker.from_events("c", conversations()["form"], rasa_domain.slots)
    assert tracker.past_states(rasa_domain) == RASA_STATES(rasa_domain, history.clone(tracker))
    assert tracker.copy().current_state(EventVerbosity.ALL) == tracker.current_state(EventVerbosity.ALL)
