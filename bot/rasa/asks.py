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
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.handoff.asks import ALSO_REQUESTED_KEY, DEFAULT_MIN_REST_WORDS, find_side_clauses
from bot.persona.cues import CUES_KEY


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
