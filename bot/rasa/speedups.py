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
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)
_INSTALLED_FLAG = "_persona_plugin_fast_validation"
_EVENT_LOOKUP_FLAG = "_persona_plugin_event_lookup"


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
