"""Rasa NLU component: a greeting or thanks in front of a question does not swallow it.

``config.yml``, right after the tokenizer::

    - name: bot.rasa.greetings.LeadingGreetingRemover

"hiya top up didnt work 🙄" is a question about a top-up: the component drops the leading
greeting or thanks ("hiya", "hola buenas", "bonjour, merci") from the tokens the
featurizers read, when at least ``min_remaining`` words follow, so the intent classifier
sees the question. A greeting alone ("hello", "hi there") is left as it is, and so are the
training examples of the conversational intents (greet, thank, goodbye), which are about
the greeting itself. The message text is not changed: the tracker, the cues and the
transcript keep what the customer wrote.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# What customers put in front of a question, in the supported languages, without accents
# and in lower case (compared with the tokens the same way). Longest first.
OPENERS = tuple(
    sorted(
        {
            "hi", "hello", "hiya", "hey", "heya", "yo", "hi there", "hello there", "hey there",
            "good morning", "good afternoon", "good evening", "morning", "thanks", "thank you",
            "thanks a lot", "cheers", "dear sir", "dear madam", "hola", "buenas", "buenos dias",
            "buenas tardes", "buenas noches", "que tal", "hola que tal", "saludos", "gracias",
            "muchas gracias", "ey", "bonjour", "bonsoir", "salut", "slt", "coucou", "merci",
            "merci beaucoup", "bjr", "madame", "monsieur", "ok", "okay", "vale", "daccord",
        },
        key=lambda o: -len(o.split()),
    )
)  # fmt: skip
# Thanks before a short statement ("ok thanks, I've frozen it") is mostly thanks: the
# question after a thanks must be a little longer than after a greeting.
THANKS = frozenset({"thanks", "thank", "cheers", "gracias", "merci", "ok", "okay", "vale", "daccord"})
CONVERSATIONAL_INTENTS = frozenset({"greet", "thank", "goodbye"})
DEFAULT_MIN_REMAINING = 3
_NOT_WORD = re.compile(r"[^\w]+")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _NOT_WORD.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))


def leading_opener_length(words: list[str]) -> int:
    """How many of the first ``words`` are greetings or thanks (repeated: "hi, thanks")."""
    plain = [_plain(w) for w in words]
    start = 0
    while start < len(plain):
        if not plain[start]:  # an emoji or punctuation token between openers
            start += 1
            continue
        for opener in OPENERS:
            parts = [_plain(p) for p in opener.split()]
            if plain[start : start + len(parts)] == parts:
                start += len(parts)
                break
        else:
            break
    return start


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LeadingGreetingRemover(GraphComponent):
    """Reads: the message's tokens. Writes: the tokens without a leading greeting."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_remaining": DEFAULT_MIN_REMAINING}

    def __init__(self, min_remaining: int = DEFAULT_MIN_REMAINING) -> None:
        self.min_remaining = min_remaining

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LeadingGreetingRemover:
        return cls(int(config.get("min_remaining", DEFAULT_MIN_REMAINING)))

    def _strip(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT])
        if not tokens:
            return
        cut = leading_opener_length([t.text for t in tokens])
        thanked = any(_plain(t.text) in THANKS for t in tokens[:cut])
        needed = self.min_remaining + (2 if thanked else 0)
        if cut and len([t for t in tokens[cut:] if _plain(t.text)]) >= needed:
            message.set(TOKENS_NAMES[TEXT], tokens[cut:])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._strip(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            if example.get(INTENT) not in CONVERSATIONAL_INTENTS:
                self._strip(example)
        return training_data
