"""Rasa NLU component: a request for a call or a person, or an aside about the customer,
does not hide the question asked with it.

``config.yml``, after ``bot.rasa.nlu.PersonaCueExtractor`` (whose cues it reads)::

    - name: bot.rasa.asks.RequestClauseRemover

"When will my new card arrive? Can someone call me about it": the component finds the
clause asking for the call (``bot.handoff.asks``), drops its tokens from what the
featurizers read, so the classifier answers the card question, and writes
``also_requested`` (``{"request": "phone_call", "words": "Can someone call me about it"}``)
into the parse data; the routing decision hands over after the answer. An aside ("I'm not
very good with computers.") is hidden the same way, with nothing recorded: the cues keep it.
The message text is not changed.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.handoff.asks import ALSO_REQUESTED_KEY, DEFAULT_MIN_REST_WORDS, find_side_clauses, requested_in
from bot.handoff.routing import Request
from bot.persona.cues import CUES_KEY, MessageCues


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class RequestClauseRemover(GraphComponent):
    """Reads: the text, tokens and persona cues. Writes: the tokens without the request
    clause, and ``also_requested`` in the parse data."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_rest_words": DEFAULT_MIN_REST_WORDS}

    def __init__(self, min_rest_words: int = DEFAULT_MIN_REST_WORDS) -> None:
        self.min_rest_words = min_rest_words

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestClauseRemover:
        return cls(int(config.get("min_rest_words", DEFAULT_MIN_REST_WORDS)))

    def _split(self, message: Message, *, output: bool) -> None:
        text = message.get(TEXT)
        tokens = message.get(TOKENS_NAMES[TEXT])
        cues = message.get(CUES_KEY)
        if not text or not tokens or not isinstance(cues, dict):
            return
        found = find_side_clauses(text, cues.get("evidence") or {}, min_rest_words=self.min_rest_words)
        if found is None:
            return
        kept = [t for t in tokens if not found.covers(t.start)]
        if kept:
            message.set(TOKENS_NAMES[TEXT], kept)
        if output and found.request is not None:
            message.set(ALSO_REQUESTED_KEY, found.to_dict(), add_to_output=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._split(message, output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry no cues (the cue extractor skips them): nothing to split.
        return training_data


# The intents that say a request in words, by what they ask for.
REQUEST_INTENTS = {Request.phone_call: "request_phone_call", Request.person: "request_human"}
# The cue that says a message asks, now, for what a request intent stands for.
REQUEST_SIGNAL_OF_INTENT = {"request_phone_call": "phone_request", "request_human": "human_request"}
DEFAULT_RANK = 3
DEFAULT_MIN_CONFIDENCE = 0.15


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RequestTieBreaker(GraphComponent):
    """Reads: the text, the persona cues and the intent ranking. Writes: the intent.

    ``config.yml``, after the intent classifier and before the fallback classifier::

        - name: bot.rasa.asks.RequestTieBreaker

    "can you phone me about my card": the classifier hesitates between a lost phone (0.42)
    and a request to be phoned (0.36); the words ask to be phoned, in a clause that is not
    negated. When a message asks for a call or a person in so many words
    (``bot.handoff.asks.requested_in``) and the matching request intent is among the top
    ``rank`` intents with at least ``min_confidence``, that intent is chosen. A message
    whose question was split from its request (``also_requested``) keeps its question.
    The other way round, a request intent whose words only mention a call or a person as
    negated, reported or quoted (the cues' ``set_aside``) gives way to the next intent.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"rank": DEFAULT_RANK, "min_confidence": DEFAULT_MIN_CONFIDENCE}

    def __init__(self, rank: int = DEFAULT_RANK, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        self.rank = rank
        self.min_confidence = min_confidence

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestTieBreaker:
        return cls(
            int(config.get("rank", DEFAULT_RANK)),
            float(config.get("min_confidence", DEFAULT_MIN_CONFIDENCE)),
        )

    def _demote(self, message: Message, cues: dict[str, Any]) -> None:
        """A request intent the words contradict: they mention a call or a person only as
        something negated, reported or quoted ("I had an adviser on the phone on Monday",
        "no need to ring me"), and ask for neither now. The next intent is chosen."""
        intent = message.get(INTENT)
        name = intent.get(INTENT_NAME_KEY) if isinstance(intent, dict) else None
        signal = REQUEST_SIGNAL_OF_INTENT.get(name) if isinstance(name, str) else None
        if signal is None:
            return
        parsed = MessageCues.from_dict(cues)
        if not parsed.set_aside.get(signal) or any(
            parsed.shows(s) for s in REQUEST_SIGNAL_OF_INTENT.values()
        ):
            return
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if isinstance(r, dict)]
        rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in REQUEST_SIGNAL_OF_INTENT]
        if not rest:
            return
        message.set(INTENT, dict(rest[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, rest + [r for r in ranking if r not in rest], add_to_output=True)

    def _break_tie(self, message: Message) -> None:
        text, cues = message.get(TEXT), message.get(CUES_KEY)
        if not isinstance(text, str) or not isinstance(cues, dict) or message.get(ALSO_REQUESTED_KEY):
            return
        self._demote(message, cues)
        asked = requested_in(text, cues.get("evidence") or {})
        if asked is None:
            return
        wanted = REQUEST_INTENTS[asked]
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if isinstance(r, dict)]
        top = ranking[: self.rank]
        chosen = next((r for r in top if r.get(INTENT_NAME_KEY) == wanted), None)
        if chosen is None or float(chosen.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < self.min_confidence:
            return
        if ranking and ranking[0] is chosen:
            return
        message.set(INTENT, dict(chosen), add_to_output=True)
        message.set(
            INTENT_RANKING_KEY, [chosen] + [r for r in ranking if r is not chosen], add_to_output=True
        )

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._break_tie(message)
        return messages
