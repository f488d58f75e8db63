"""Rasa policy that sets the persona, language, phone-offer and route slots after every
customer message, inside the Rasa server; it never chooses an action.

``config.yml``::

    policies:
      - name: bot.rasa.persona_policy.PersonaPolicy
        personas_file: personas.yml   # optional; default $PERSONAS_FILE or personas.yml

On the first prediction after a customer message (and after a form starts, when Rasa
reads slots again) the policy reads the current session from Rasa's tracker events
(``UserUttered.parse_data`` with the cues the NLU component stored, ``ActionExecuted``,
``ActiveLoop``, ``SessionStarted``/``Restarted``; read on from where the last turn left it,
``ConversationCache``), takes the decision of
``bot.handoff.turn`` and returns ``SlotSet`` events for the slots whose value changed.
Rasa applies the events of every policy's prediction (the ensemble collects them, the
processor applies them before the predicted action runs), so the first answer to the
message — its NLG and any custom action — already sees the new slots. The other
predictions of the turn return no events.

Its action probabilities are all zero and its priority is below every Rasa policy's, so
its prediction never wins: any other policy's prediction, even all zeros, beats it. The
persona catalogue is loaded once, when the model loads (an invalid catalogue stops the
server from starting). The decision is logged (``persona.inferred``) at DEBUG only: it is
stored in the tracker's slot events, and a log line for every message cost ~0.2 ms a turn
in the Rasa server.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any, cast

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from bot.core.settings import Settings
from bot.handoff.turn import OWNED_SLOTS, TurnFacts, changed_slots, decide
from bot.persona.assessment import (
    PAUSED,
    RESUMED,
    SESSION_START,
    Conversation,
    ConversationReader,
    EventKind,
    PersonaEngine,
    TrackerEvent,
)
from bot.persona.catalogue import load_catalogue
from bot.persona.cues.model import CUES_KEY, MessageCues

logger = logging.getLogger(__name__)
# Below every Rasa policy (TEDPolicy and custom policies default to 1): never the winner.
PERSONA_POLICY_PRIORITY = -1
_PERSISTED_FILE = "persona_policy.json"
# Where a message's ``TrackerEvent`` is kept on Rasa's event object.
_MADE = "_persona_tracker_event"
# The events that only mark a point of the conversation.
_MARKS = {EventKind.session_start: SESSION_START, EventKind.paused: PAUSED, EventKind.resumed: RESUMED}
# Conversations whose reading the policy carries on from turn to turn (``ConversationCache``).
DEFAULT_CACHED_CONVERSATIONS = 1000


@cache
def _kind_of(cls: type[Event]) -> EventKind | None:
    """The kind of a Rasa event class (event classes are abstract-base classes: ``isinstance``
    on every event of a long tracker costs more than the rest of the decision)."""
    if issubclass(cls, UserUttered):
        return EventKind.user
    if issubclass(cls, ActionExecuted):
        return EventKind.action
    if issubclass(cls, ActiveLoop):
        return EventKind.active_loop
    if issubclass(cls, (SessionStarted, Restarted)):
        return EventKind.session_start
    if issubclass(cls, ConversationPaused):
        return EventKind.paused
    if issubclass(cls, ConversationResumed):
        return EventKind.resumed
    return None


def tracker_event(event: Event) -> TrackerEvent | None:
    """The ``TrackerEvent`` of a Rasa event (None: of no interest to the decision). A
    message's is made once and kept on the event: the decision reads every message of the
    session after each new one, and the tracker store hands the same event objects to the
    next turn (``bot.rasa.tracker_store``)."""
    kind = _kind_of(event.__class__)
    if kind is EventKind.user:
        made: TrackerEvent | None = event.__dict__.get(_MADE)
        if made is None:
            message = cast(UserUttered, event)
            parse = message.parse_data
            made = TrackerEvent(
                kind,
                parse_data=parse,
                metadata=message.metadata,
                input_channel=message.input_channel,
                cues=MessageCues.from_dict(parse.get(CUES_KEY) if isinstance(parse, dict) else None),
            )
            event.__dict__[_MADE] = made
        return made
    if kind is EventKind.action:
        name = cast(ActionExecuted, event).action_name
        return TrackerEvent(kind, name=name) if name else None
    if kind is EventKind.active_loop:
        return TrackerEvent(kind, name=cast(ActiveLoop, event).name)
    return _MARKS.get(kind) if kind is not None else None


class ConversationCache:
    """The conversations this process read last, by sender, each as far as it was read.

    The tracker store hands the next turn the same event objects (``bot.rasa.tracker_store``)
    and a turn only adds events, so where a tracker holds the event a conversation was read
    up to, at the same place, reading carries on after it: a turn reads its own events, not
    the whole session again (in a 60-turn conversation that was 0.7 ms a turn). Any other
    tracker (read from the database, another branch of the turn) is read from the start.
    ``size`` bounds the conversations kept, least recently used first out.
    """

    def __init__(self, size: int = DEFAULT_CACHED_CONVERSATIONS) -> None:
        self.size = size
        self._kept: OrderedDict[str, tuple[int, Event, ConversationReader]] = OrderedDict()

    def conversation(self, tracker: DialogueStateTracker) -> Conversation:
        events = tracker.events
        reader: ConversationReader | None = None
        start = 0
        kept = self._kept.get(tracker.sender_id)
        if kept is not None:
            count, last, read = kept
            if count <= len(events) and events[count - 1] is last:
                reader, start = read.copy(), count
        if reader is None:
            reader = ConversationReader()
        reader.read(tracker_event(e) for e in itertools.islice(events, start, None))
        if events and self.size > 0:
            self._kept[tracker.sender_id] = (len(events), events[-1], reader)
            self._kept.move_to_end(tracker.sender_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return reader.conversation()


def turn_facts(tracker: DialogueStateTracker, conversations: ConversationCache | None = None) -> TurnFacts:
    """What Rasa's tracker says about the turn, for ``bot.handoff.turn.decide``."""
    slots = tracker.slots

    def slot(name: str) -> Any:
        found = slots.get(name)
        return found.value if found is not None else None

    latest = tracker.latest_message
    return TurnFacts(
        conversation=(conversations or ConversationCache(size=0)).conversation(tracker),
        latest=latest.parse_data if latest is not None else {},
        input_channel=tracker.get_latest_input_channel(),
        active_loop=tracker.active_loop_name,
        slot=slot,
    )


def decision_due(tracker: DialogueStateTracker) -> bool:
    """Whether this prediction is one where Rasa reads the slots again: the first after a
    customer message (no action since: an action that was rejected does not count, its
    events were discarded), or the first after a form started (Rasa extracts slots when a
    form activates; the callback form being arranged holds the phone offer back)."""
    started: str | None = None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, ActiveLoop) and event.name:
            started = event.name
        elif isinstance(event, ActionExecuted):
            return started is not None and event.action_name == started
        elif isinstance(event, (SessionStarted, Restarted)):
            return False
    return False


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class PersonaPolicy(Policy):
    """Reads: the tracker's current session (messages with their cues, actions run, the form,
    the profile and escalation slots). Writes: ``SlotSet`` events for ``OWNED_SLOTS``
    (persona, language, phone offer, route) after each customer message and when a form
    starts; no action."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": PERSONA_POLICY_PRIORITY, "personas_file": None}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        *,
        engine: PersonaEngine | None = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        if config.get("priority") != PERSONA_POLICY_PRIORITY:
            raise InvalidConfigException(
                f"PersonaPolicy: priority {config.get('priority')!r} is not supported; it must "
                f"stay {PERSONA_POLICY_PRIORITY}, below every other policy, so it never chooses an action"
            )
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.engine = engine or self._load_engine(config)
        self.conversations = ConversationCache()

    @staticmethod
    def _load_engine(config: dict[str, Any]) -> PersonaEngine:
        path = Path(config.get("personas_file") or Settings.from_env().personas_file)
        # Validated in full (and its token patterns compiled) by the NLU component.
        catalogue = load_catalogue(path, compile_patterns=False)
        logger.info("persona.policy_loaded file=%s personas=%s", path, ",".join(catalogue.ids))
        return PersonaEngine(catalogue)

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the decision reads the persona catalogue."""
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as path:
            (Path(path) / _PERSISTED_FILE).write_text(
                json.dumps({"slots": list(OWNED_SLOTS)}), encoding="utf-8"
            )

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """All-zero probabilities; the slot events when a decision is due (``decision_due``)."""
        events = self.slot_events(tracker) if decision_due(tracker) else []
        return self._prediction(self._default_predictions(domain), events=events)

    def slot_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """``SlotSet`` for the owned slots (declared in the domain) whose value changed."""
        facts = turn_facts(tracker, self.conversations)
        decision = decide(facts, self.engine)
        if decision is None:
            return []
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("persona.inferred sender=%s %s", tracker.sender_id, decision.log_fields())
        changed = changed_slots(decision, facts, declared=tracker.slots.keys())
        return [SlotSet(name, value) for name, value in changed.items()]
