"""Rasa NLU component: the digits of a card or account number do not sway the intent.

``config.yml``, after the tokenizer::

    - name: bot.rasa.numbers.LongNumberRemover

"Bonjour, ma carte 4539 1488 0343 6467 a été volée" is about a stolen card, but the
classifier read the sixteen digits (features it learnt from amounts and dates) and
answered about a cash machine that gave the wrong amount. The component drops, from the
tokens the featurizers read, every run of number tokens holding at least ``min_digits``
digits in all (a card number in groups or in one, an account number, a long reference);
amounts, dates and short numbers stay. The message text is not changed: the tracker (which
redacts card data when it saves, ``bot.rasa.tracker_store``), the cues and the transcript
see what the customer wrote.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# A card number has 13-19 digits, a UK account number with its sort code 14.
DEFAULT_MIN_DIGITS = 12
# A number token: digits, possibly joined by the separators people type inside numbers.
_NUMBER = re.compile(r"^\d+(?:[-./]\d+)*$")


def long_number_tokens(words: list[str], min_digits: int = DEFAULT_MIN_DIGITS) -> set[int]:
    """Indexes of the ``words`` that belong to runs of numbers with ``min_digits`` digits or more."""
    found: set[int] = set()
    start = 0
    while start < len(words):
        if not _NUMBER.match(words[start]):
            start += 1
            continue
        end = start
        while end < len(words) and _NUMBER.match(words[end]):
            end += 1
        if sum(c.isdigit() for w in words[start:end] for c in w) >= min_digits:
            found.update(range(start, end))
        start = end
    return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LongNumberRemover(GraphComponent):
    """Reads: the message's tokens. Writes: the tokens without long numbers."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_digits": DEFAULT_MIN_DIGITS}

    def __init__(self, min_digits: int = DEFAULT_MIN_DIGITS) -> None:
        self.min_digits = min_digits

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LongNumberRemover:
        return cls(int(config.get("min_digits", DEFAULT_MIN_DIGITS)))

    def _strip(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT])
        if not tokens:
            return
        drop = long_number_tokens([t.text for t in tokens], self.min_digits)
        if drop and len(drop) < len(tokens):  # a message of digits only keeps them
            message.set(TOKENS_NAMES[TEXT], [t for i, t in enumerate(tokens) if i not in drop])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._strip(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._strip(example)
        return training_data
