"""The cached action-response validation accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

from typing import Any

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
