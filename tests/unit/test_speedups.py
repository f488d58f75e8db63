"""The cached action-response validation accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa import speedups

SCHEMA = RemoteAction.action_response_format_spec()


@pytest.mark.parametrize(
    "result",
    [
        {"events": [], "responses": []},
        {"events": [{"event": "slot", "timestamp": None, "name": "persona", "value": "technical"}]},
        {
            "events": [{"event": "slot", "name": "persona_evidence", "value": ["a", "b"]}],
            "responses": [{"text": "x"}],
        },
        {"events": [{"event": "action", "name": "action_listen"}, {"event": "session_started"}]},
        {"events": [{"event": "bot", "text": "hi", "data": {}, "metadata": {}}]},
        {"events": [{"event": "pause"}, {"event": "resume"}, {"event": "restart"}]},
        {"events": [{"event": "slot"}]},
        {"events": [{"event": "teleport", "name": "x"}]},
        {"events": [{"name": "x"}]},
        {"events": [{"event": "slot", "name": 5, "value": 1}]},
        {"events": "nope"},
        {"events": [{"event": "bot", "text": 5}]},
        {"responses": [1]},
        {"events": ["slot"]},
    ],
)
def test_same_verdict_as_jsonschema(result: dict[str, Any]) -> None:
    try:
        jsonschema.validate(result, SCHEMA)
        expected_ok = True
    except jsonschema.ValidationError:
        expected_ok = False
    try:
        speedups.validate_action_response(result)
        ok = True
    except jsonschema.ValidationError:
        ok = False
    assert ok is expected_ok


def test_install_patches_remote_action_once() -> None:
    speedups.install()
    speedups.install()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}]})
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "teleport"}]})


def test_event_lookup_finds_what_rasa_finds() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    rasa_found: dict[str, Any] = {}
    for cls in all_subclasses(Event):  # Rasa's lookup: the first subclass with the name
        rasa_found.setdefault(cls.type_name, cls)
    speedups.install()
    for _ in range(2):  # found, then remembered
        assert {name: Event.resolve_by_type(name) for name in rasa_found} == rasa_found
    assert (Event.resolve_by_type("user"), Event.resolve_by_type("slot")) == (UserUttered, SlotSet)
    assert Event.resolve_by_type("teleport", ActionExecuted) is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name 'teleport'"):
        Event.resolve_by_type("teleport")
    assert Event.from_parameters({"event": "action", "name": "action_listen"}) == ActionExecuted(
        "action_listen"
    )


RASA_ACTION_CALL_FORMAT = RemoteAction._action_call_format


def _conversation(domain: Any) -> Any:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events(
        "sender-1",
        [
            ActionExecuted("action_listen"),
            UserUttered(
                '¿Dónde está mi tarjeta? "urgent" \\ \u2028',
                intent={"name": "card_arrival", "confidence": 0.91},
                parse_data={
                    "intent": {"name": "card_arrival", "confidence": 0.91},
                    "persona_cues": {"a": [1]},
                },
                metadata={"channel": "web"},
            ),
            SlotSet("persona_confidence", 0.62),
            SlotSet("persona_evidence", ["«ring me»", f'"{speedups._EVENTS_MARK}"']),
            ActionExecuted("utter_card_arrival"),
            BotUttered(
                "Votre carte arrive — d'ici 3 jours.", metadata={"utter_action": "utter_card_arrival"}
            ),
            ActionExecuted("action_offer_more_help"),
        ],
        domain.slots,
    )


def _without_cues(body: dict[str, Any]) -> dict[str, Any]:
    """Rasa's body with the messages' persona cues left out of the events."""
    import copy

    body = copy.deepcopy(body)
    for event in body["tracker"]["events"]:
        (event.get("parse_data") or {}).pop("persona_cues", None)
    return body


def test_action_request_body_is_what_rasa_sends_less_the_cues(rasa_domain: Any) -> None:
    """The body built from the events' kept JSON is, byte for byte, the JSON of Rasa's body
    with the messages' persona cues left out of the events (the latest message keeps
    them), and stays so after Rasa re-stamps an event (as it does for a policy's slot
    events)."""
    import json

    from rasa.utils.endpoints import EndpointConfig

    action = RemoteAction("action_offer_more_help", EndpointConfig("http://127.0.0.1:1/webhook"))
    tracker = _conversation(rasa_domain)
    speedups.install_action_payload()
    for _ in range(2):  # made, then kept
        body = RemoteAction._action_call_format(action, tracker, rasa_domain)
        expected = _without_cues(RASA_ACTION_CALL_FORMAT(action, tracker, rasa_domain))
        assert body == expected
        assert speedups.dumps(body) == json.dumps(expected)
        assert "persona_cues" not in json.dumps(body["tracker"]["events"])
        assert body["tracker"]["latest_message"]["persona_cues"] == {"a": [1]}
    assert tracker.events[1].parse_data["persona_cues"] == {"a": [1]}, "the event itself is unchanged"
    tracker.events[2].timestamp += 5  # re-stamped: made again
    tracker.events[3].metadata = {"model_id": "m"}
    assert speedups.dumps(RemoteAction._action_call_format(action, tracker, rasa_domain)) == json.dumps(
        _without_cues(RASA_ACTION_CALL_FORMAT(action, tracker, rasa_domain))
    )
    assert speedups.dumps({"plain": [1, "x"]}) == json.dumps({"plain": [1, "x"]})


async def test_action_requests_are_written_with_the_kept_json() -> None:
    from rasa.utils.endpoints import EndpointConfig

    speedups.install_action_payload()
    async with EndpointConfig("http://127.0.0.1:1/webhook").session() as session:
        assert session.json_serialize is speedups.dumps


def test_debug_log_work_only_when_rasa_logs_at_debug() -> None:
    import logging

    from rasa.core import processor
    from rasa.core.policies import memoization, rule_policy
    from rasa.core.policies.policy import Policy
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.slots import AnySlot
    from rasa.shared.core.trackers import DialogueStateTracker

    speedups.install_debug_only_work()
    assert memoization.copy is speedups.DEBUG_LOG_COPY and rule_policy.copy is speedups.DEBUG_LOG_COPY
    assert processor.copy is speedups.DEBUG_LOG_COPY
    states = [{"user": {"intent": "greet"}}, {"prev_action": {"action_name": "action_listen"}}]
    tracker = DialogueStateTracker.from_events(
        "s", [SlotSet("persona", "quick_mobile")], slots=[AnySlot("persona", [])]
    )
    rasa_logger = logging.getLogger("rasa")
    level = rasa_logger.level
    try:
        rasa_logger.setLevel(logging.INFO)
        assert Policy.format_tracker_states(states) == ""
        assert speedups.DEBUG_LOG_COPY.deepcopy(states) is states
        with patch.object(processor.structlogger, "debug") as debug:
            processor.MessageProcessor._log_slots(tracker)
        debug.assert_not_called()  # the slot values are not even formatted
        rasa_logger.setLevel(logging.DEBUG)
        assert "greet" in Policy.format_tracker_states(states)
        copied = speedups.DEBUG_LOG_COPY.deepcopy(states)
        assert copied == states and copied is not states and copied[0] is not states[0]
        with patch.object(processor.structlogger, "debug") as debug:
            processor.MessageProcessor._log_slots(tracker)
        debug.assert_called_once_with("processor.slots.log", slot_values="\tpersona: quick_mobile")
    finally:
        rasa_logger.setLevel(level)


def _rasa_rule_methods() -> tuple[Any, Any]:
    from rasa.core.policies.rule_policy import RulePolicy

    return RulePolicy._is_rule_applicable, RulePolicy._get_possible_keys


RASA_RULE_METHODS = _rasa_rule_methods()


def _random_state(rng: Any, *, start: bool = False) -> dict[str, Any]:
    state: dict[str, Any] = {}
    if not start:
        state["prev_action"] = {"action_name": rng.choice(["action_listen", "utter_a", "action_b", "form"])}
    if rng.random() < 0.6:
        state["user"] = {"intent": rng.choice(["greet", "deny", "card_arrival"])}
    if rng.random() < 0.3:
        state["slots"] = {"pending": rng.choice([(1.0,), (0.0,), "should_not_be_set"])}
    if rng.random() < 0.2:
        state["active_loop"] = {"name": rng.choice(["form", "should_not_be_set"])}
    return state


def test_rule_matching_finds_what_rasas_finds() -> None:
    """Rules parsed once and the walk stopped early: the same candidate rules as Rasa's
    methods, over random rules and conversations (starts, loops, slots, unset values)."""
    import json
    import random

    from rasa.core.policies.rule_policy import RulePolicy

    rng = random.Random(7)
    policy = RulePolicy.__new__(RulePolicy)
    rasa_applicable, rasa_possible_keys = RASA_RULE_METHODS
    speedups.install_rule_lookup()
    assert RulePolicy._get_possible_keys is not rasa_possible_keys

    class Rasa:  # Rasa's methods on the same instance data
        _rule_key_to_state = staticmethod(RulePolicy._rule_key_to_state)
        _does_rule_match_state = staticmethod(RulePolicy._does_rule_match_state)
        _is_rule_applicable = rasa_applicable

    rasa = Rasa()
    matched = 0
    for _ in range(1000):
        lookup = {}
        for _ in range(rng.randint(0, 12)):
            length = rng.randint(1, 5)
            start = rng.random() < 0.2
            states = [_random_state(rng, start=start and i == 0) for i in range(length)]
            lookup[json.dumps(states)] = "utter_x"
        conversation = [_random_state(rng, start=i == 0) for i in range(rng.randint(1, 30))]
        expected = rasa_possible_keys(rasa, lookup, conversation)
        assert policy._get_possible_keys(lookup, conversation) == expected
        matched += bool(expected)
        for key in lookup:
            for i, state in enumerate(reversed(conversation)):
                assert policy._is_rule_applicable(key, i, state) == rasa_applicable(rasa, key, i, state)
    assert matched >= 50, "enough conversations where some rule applies"


def _install_freeze_after_load(monkeypatch: pytest.MonkeyPatch, create_app: Any = None) -> None:
    """``speedups.install_freeze_after_load`` afresh, with what it wraps restored after the test."""
    from rasa import server
    from rasa.core import run

    monkeypatch.setattr(run, "load_agent_on_start", run.load_agent_on_start)
    monkeypatch.setattr(server, "create_app", create_app or server.create_app)
    monkeypatch.delattr(run, speedups._FREEZE_FLAG, raising=False)
    speedups.install_freeze_after_load()


def test_what_the_server_loaded_is_frozen_once_the_model_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import gc
    from types import SimpleNamespace

    from rasa.core import run

    loaded = object()

    async def load_agent(**_: Any) -> Any:
        assert gc.get_freeze_count() == 0  # not before the model is loaded
        return loaded

    monkeypatch.setattr(run.agent, "load_agent", load_agent)
    _install_freeze_after_load(monkeypatch)
    app = SimpleNamespace(ctx=SimpleNamespace())
    gc.unfreeze()
    try:
        result = asyncio.run(run.load_agent_on_start("model.tar.gz", None, None, app, None))
        assert result is loaded and app.ctx.agent is loaded
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    ("method", "path", "status", "refrozen"),
    [
        ("PUT", "/model", 204, True),  # a model swapped in over Rasa's HTTP API
        ("PUT", "/model", 400, False),  # a swap that failed: the model in use did not change
        ("GET", "/status", 200, False),
        ("POST", "/model/parse", 200, False),
    ],
)
def test_a_model_swapped_in_is_frozen_and_the_previous_one_collected(
    monkeypatch: pytest.MonkeyPatch, method: str, path: str, status: int, refrozen: bool
) -> None:
    import asyncio
    import gc
    import uuid
    import weakref
    from types import SimpleNamespace

    from rasa import server
    from sanic import Sanic

    _install_freeze_after_load(monkeypatch, lambda *_, **__: Sanic(f"swap-{uuid.uuid4().hex}"))
    app = server.create_app()
    assert list(app.response_middleware) == [speedups.refreeze_after_model_swap]

    class Model:
        cycle: Any = None

    previous = Model()
    previous.cycle = previous  # only the cyclic collector frees it
    gone = weakref.ref(previous)
    gc.unfreeze()
    gc.freeze()  # as after the previous model was loaded
    try:
        del previous
        gc.collect()
        assert gone() is not None, "frozen: never collected"
        request, response = SimpleNamespace(method=method, path=path), SimpleNamespace(status=status)
        asyncio.run(speedups.refreeze_after_model_swap(request, response))
        assert (gone() is None) is refrozen
        assert gc.get_freeze_count() > 0  # what is in use stays frozen either way
    finally:
        gc.unfreeze()
