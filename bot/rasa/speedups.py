"""Faster validation of action-server responses inside the Rasa server (Rasa 3.6).

Rasa validates every action-server response with ``jsonschema.validate(result, schema)``,
which first re-checks the schema itself against the JSON Schema meta-schema: about 60 ms
on this 2-core machine, on every custom-action call (the offer after an answer, the
handover, the callback form). The validation of the response itself takes
a few milliseconds.

``install()`` replaces ``RemoteAction._validate_action_result`` with the same validation
done by validators built once: the response envelope, the properties common to every
event, and the schema of the event's own type (Rasa's ``oneOf`` alternatives each fix
``event`` to a distinct constant, so checking the matching alternative is what ``oneOf``
decides). Invalid responses still raise ``jsonschema.ValidationError`` with Rasa's
message. Installed by ``python -m bot.rasa`` (how the project starts Rasa) before Rasa runs.

Rasa also looks up the class of every event it reads back from the tracker store
(``Event.resolve_by_type``) by walking all ``Event`` subclasses recursively, with an
``inspect.isabstract`` check on each: for every event of the conversation, on every
message — in a 60-turn conversation a third of the turn. ``install()`` remembers the class
found for each event name (the lookup itself is Rasa's: same class, same errors for
unknown names).

``install()`` also makes the dialogue history incremental (``bot.rasa.history``): the
applied events and the states before each action, which Rasa's policies rebuild from the
whole conversation about ten times a turn, are extended from the last computation.

Other costs, now paid once or only when needed:

- Every custom-action call sends the whole tracker, every event as JSON (``json.dumps`` of
  a 300 KB body at turn 60). Each event's dict and JSON text are kept on the event (valid
  while its timestamp and metadata are the ones they were made from: Rasa changes no other
  field of an event once it is on a tracker), and the request body is the JSON of the rest
  with the events' texts joined in: the same bytes ``json.dumps`` would give, except that
  the messages' persona cues, which no action reads, are left out (``NOT_FOR_ACTIONS``).
- Rasa's rule and memoization policies format and deep-copy every state of the
  conversation for debug log lines, on every prediction, whether debug logging is on or
  not; the message processor deep-copies every action's events and the policies' slot
  events for its debug lines, and formats every slot's value after each action. With
  Rasa's logger above DEBUG that work is skipped (the log lines are not written either way).
- Once the model is loaded, what the server loaded is kept out of Python's full garbage
  collections (``bot.core.heap``): each walked ~750,000 objects, ~290 ms of one turn.
- Rasa's rule policy matches its rules against the conversation's states, latest first,
  parsing each candidate rule from its JSON key again for every state — of the whole
  conversation, though a rule says nothing about states further back than its own length.
  Each rule is parsed once, and the walk stops where no candidate rule reaches (the
  candidates it would keep are exactly those left).
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
import types
from functools import lru_cache
from typing import Any

from bot.core.heap import freeze_loaded_objects, refreeze_loaded_objects
from bot.persona.cues.model import CUES_KEY

logger = logging.getLogger(__name__)
_INSTALLED_FLAG = "_persona_plugin_fast_validation"
_EVENT_LOOKUP_FLAG = "_persona_plugin_event_lookup"
_PAYLOAD_FLAG = "_persona_plugin_action_payload"
_DEBUG_ONLY_FLAG = "_persona_plugin_debug_only_work"
_RULE_LOOKUP_FLAG = "_persona_plugin_rule_lookup"
_FREEZE_FLAG = "_persona_plugin_freeze_after_load"
# Kept on each event: (timestamp, metadata, as_dict(), its JSON text).
_EVENT_JSON = "_persona_plugin_json"
# Parse-data keys of the conversation's messages that the action server is not sent: the
# persona cues, read inside Rasa by the persona policy (``bot.rasa.persona_policy``); no
# action reads them, and they are most of a message's size. The latest message
# (``tracker.latest_message``) is sent whole.
NOT_FOR_ACTIONS = frozenset({CUES_KEY})
# Stands for the events in the JSON of the rest of a request body (random per process: no
# text a customer types can match it, and quotes inside JSON strings are escaped).
_EVENTS_MARK = f"events-{secrets.token_hex(16)}"


@lru_cache(maxsize=1)
def _validators() -> tuple[Any, Any, dict[str, Any]]:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # once, not per response
    items = schema["properties"]["events"]["items"]
    envelope = {
        **schema,
        "properties": {**schema["properties"], "events": {"type": "array"}},
    }
    common = {k: v for k, v in items.items() if k != "oneOf"}
    by_event: dict[str, Any] = {}
    for alternative in items["oneOf"]:
        name = alternative["properties"]["event"]["const"]
        if name in by_event:
            raise ValueError(f"two event schemas for {name!r}: cannot dispatch")
        by_event[name] = cls(alternative)
    return cls(envelope), cls(common), by_event


def validate_action_response(result: Any) -> None:
    """Validate like Rasa does; raises ``jsonschema.ValidationError``."""
    from jsonschema import ValidationError

    envelope, common, by_event = _validators()
    envelope.validate(result)
    for event in result.get("events") or []:
        common.validate(event)
        validator = by_event.get(str(event.get("event"))) if isinstance(event, dict) else None
        if validator is None:
            raise ValidationError(f"{event!r} is not valid under any of the given schemas")
        validator.validate(event)


def install() -> None:
    """Patch Rasa's ``RemoteAction``, ``Event.resolve_by_type`` and the dialogue history once
    per process (idempotent)."""
    from bot.rasa import history

    install_event_lookup()
    install_response_validation()
    install_action_payload()
    install_debug_only_work()
    install_rule_lookup()
    install_freeze_after_load()
    history.install()


def install_event_lookup() -> None:
    """Remember the event class Rasa's own lookup finds for each event name (idempotent)."""
    from rasa.shared.core.events import Event

    if getattr(Event, _EVENT_LOOKUP_FLAG, False):
        return
    lookup = Event.resolve_by_type
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        cls = lookup(type_name, default)  # Rasa's: ValueError for an unknown name without default
        if cls is not None and cls is not default:
            found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)
    setattr(Event, _EVENT_LOOKUP_FLAG, True)
    logger.info("speedups.installed event_lookup=cached")


def install_response_validation() -> None:
    """Patch Rasa's ``RemoteAction`` once per process (idempotent)."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction, _INSTALLED_FLAG, False):
        return
    try:
        _validators()
    except (KeyError, TypeError, ValueError) as exc:  # a Rasa whose schema has another shape
        logger.warning("speedups.not_installed reason=%s", exc)
        return

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validate_action_response(result)
            return True
        except ValidationError as e:
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result
    setattr(RemoteAction, _INSTALLED_FLAG, True)
    logger.info("speedups.installed action_response_validation=cached")


class EventDicts(list):  # type: ignore[type-arg]
    """A tracker's events as dicts (what Rasa sends), with the JSON text of each."""

    def __init__(self, dicts: list[dict[str, Any]], texts: list[str]) -> None:
        super().__init__(dicts)
        self.texts = texts


def event_json(event: Any) -> tuple[dict[str, Any], str]:
    """``event.as_dict()`` and its JSON text, made once per event; a message's parse data
    without the keys in ``NOT_FOR_ACTIONS``."""
    kept = event.__dict__.get(_EVENT_JSON)
    if kept is not None and kept[0] == event.timestamp and kept[1] is event.metadata:
        return kept[2], kept[3]
    data = event.as_dict()
    parse = data.get("parse_data")
    if isinstance(parse, dict) and not NOT_FOR_ACTIONS.isdisjoint(parse):
        data["parse_data"] = {k: v for k, v in parse.items() if k not in NOT_FOR_ACTIONS}
    text = json.dumps(data)
    event.__dict__[_EVENT_JSON] = (event.timestamp, event.metadata, data, text)
    return data, text


def tracker_events(tracker: Any) -> EventDicts:
    """``[e.as_dict() for e in tracker.events]`` with the events' JSON texts."""
    dicts, texts = [], []
    for event in tracker.events:
        data, text = event_json(event)
        dicts.append(data)
        texts.append(text)
    return EventDicts(dicts, texts)


def dumps(body: Any) -> str:
    """``json.dumps(body)``; a body whose ``tracker.events`` is an ``EventDicts`` is written
    with the events' kept texts."""
    tracker = body.get("tracker") if isinstance(body, dict) else None
    if not isinstance(tracker, dict):
        return json.dumps(body)
    events = tracker.get("events")
    if not isinstance(events, EventDicts) or len(events.texts) != len(events):
        return json.dumps(body)
    rest = json.dumps({**body, "tracker": {**tracker, "events": _EVENTS_MARK}})
    return rest.replace(f'"{_EVENTS_MARK}"', "[" + ", ".join(events.texts) + "]", 1)


def install_action_payload() -> None:
    """Build action-server requests from the events' kept JSON (idempotent)."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity
    from rasa.utils.endpoints import EndpointConfig

    if getattr(RemoteAction, _PAYLOAD_FLAG, False):
        return

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        # Rasa's method, with the events from ``tracker_events``.
        tracker_state = tracker.current_state(EventVerbosity.NONE)
        tracker_state["events"] = tracker_events(tracker)
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": tracker_state,
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
            self.name()
        ):
            result["domain"] = domain.as_dict()
        return result

    rasa_session = EndpointConfig.session

    def session(self: Any) -> Any:
        client = rasa_session(self)
        if hasattr(client, "_json_serialize"):  # aiohttp's ClientSession(json_serialize=...)
            client._json_serialize = dumps
        return client

    RemoteAction._action_call_format = _action_call_format
    EndpointConfig.session = session
    setattr(RemoteAction, _PAYLOAD_FLAG, True)
    logger.info("speedups.installed action_payload=kept_event_json")


def rasa_debug_enabled() -> bool:
    return logging.getLogger("rasa").isEnabledFor(logging.DEBUG)


def _deepcopy_for_debug_log(value: Any, memo: Any = None) -> Any:
    return copy.deepcopy(value, memo) if rasa_debug_enabled() else value


# Stands for the ``copy`` module in the Rasa modules whose only deep copies are of values
# passed to debug log lines (the rule and memoization policies, the message processor).
DEBUG_LOG_COPY = types.SimpleNamespace(deepcopy=_deepcopy_for_debug_log, copy=copy.copy)


def install_debug_only_work() -> None:
    """Skip the rule and memoization policies' and the message processor's debug-log
    formatting and copies when Rasa does not log at DEBUG (idempotent)."""
    from rasa.core import processor
    from rasa.core.policies import memoization, rule_policy
    from rasa.core.policies.policy import Policy

    if getattr(Policy, _DEBUG_ONLY_FLAG, False):
        return
    rasa_format = Policy.format_tracker_states

    def format_tracker_states(states: list[dict[str, Any]]) -> str:
        return rasa_format(states) if rasa_debug_enabled() else ""

    rasa_log_slots = processor.MessageProcessor._log_slots

    def _log_slots(tracker: Any) -> None:
        if rasa_debug_enabled():
            rasa_log_slots(tracker)

    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[assignment]
    processor.MessageProcessor._log_slots = staticmethod(_log_slots)  # type: ignore[method-assign]
    memoization.copy = DEBUG_LOG_COPY  # type: ignore[assignment]
    rule_policy.copy = DEBUG_LOG_COPY  # type: ignore[assignment]
    processor.copy = DEBUG_LOG_COPY  # type: ignore[assignment]
    setattr(Policy, _DEBUG_ONLY_FLAG, True)
    logger.info("speedups.installed debug_only_work=skipped_unless_debug")


@lru_cache(maxsize=4096)  # one entry per rule of the model(s) loaded
def _reversed_rule_states(rule_key: str) -> tuple[Any, ...]:
    """A rule's states, latest first (``RulePolicy._rule_key_to_state``, reversed). Read only."""
    return tuple(reversed(json.loads(rule_key)))


def install_rule_lookup() -> None:
    """Rasa's rule policy without re-parsing each rule for every state of the conversation,
    and without walking the states no remaining rule reaches (idempotent)."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import PREVIOUS_ACTION

    if getattr(RulePolicy, _RULE_LOOKUP_FLAG, False):
        return

    def _is_rule_applicable(self: Any, rule_key: str, turn_index: int, conversation_state: Any) -> bool:
        # Rasa's method, with the rule's states parsed once.
        reversed_rule_states = _reversed_rule_states(rule_key)
        if turn_index >= len(reversed_rule_states):
            return True
        current_previous_action = conversation_state.get(PREVIOUS_ACTION)
        rule_previous_action = reversed_rule_states[turn_index].get(PREVIOUS_ACTION)
        if not rule_previous_action and not current_previous_action:
            return True
        if not rule_previous_action or not current_previous_action:
            return False
        return bool(self._does_rule_match_state(reversed_rule_states[turn_index], conversation_state))

    def _get_possible_keys(self: Any, lookup: dict[str, str], states: list[Any]) -> set[str]:
        # Rasa's method, stopped once no rule left reaches further back: every older state
        # would keep every key.
        possible_keys = set(lookup.keys())
        for i, state in enumerate(reversed(states)):
            if not possible_keys or all(len(_reversed_rule_states(k)) <= i for k in possible_keys):
                break
            possible_keys = {k for k in possible_keys if self._is_rule_applicable(k, i, state)}
        return possible_keys

    RulePolicy._is_rule_applicable = _is_rule_applicable
    RulePolicy._get_possible_keys = _get_possible_keys
    setattr(RulePolicy, _RULE_LOOKUP_FLAG, True)
    logger.info("speedups.installed rule_lookup=parsed_once")


def install_freeze_after_load() -> None:
    """Once the server has loaded its model, keep what it loaded out of Python's full
    garbage collections (``bot.core.heap``: each walked ~750,000 objects, ~290 ms of a
    customer's turn); after a model swapped in over the HTTP API, again
    (``refreeze_after_model_swap``). Idempotent."""
    from rasa import server
    from rasa.core import run

    if getattr(run, _FREEZE_FLAG, False):
        return
    rasa_load_agent_on_start = run.load_agent_on_start

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await rasa_load_agent_on_start(*args, **kwargs)
        freeze_loaded_objects("rasa")
        return agent

    run.load_agent_on_start = load_agent_on_start
    rasa_create_app = server.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = rasa_create_app(*args, **kwargs)
        app.register_middleware(refreeze_after_model_swap, "response")
        return app

    server.create_app = create_app
    setattr(run, _FREEZE_FLAG, True)


async def refreeze_after_model_swap(request: Any, response: Any) -> None:
    """Sanic response middleware: once Rasa's ``PUT /model`` has swapped the model in, the
    previous model is collected and the new one frozen (``bot.core.heap``)."""
    if (
        request.method == "PUT"
        and request.path == "/model"
        and response is not None
        and response.status == 204
    ):
        refreeze_loaded_objects("rasa model swap")
