"""Rasa NLU component: "not understood" only when the classifier really does not know.

``config.yml``, in place of Rasa's ``FallbackClassifier``::

    - name: bot.rasa.fallback.FamilyFallbackClassifier
      threshold: 0.3
      ambiguity_threshold: 0.05
      families_file: data/intent_families.yml

With 77 close banking intents the classifier's confidence spreads over neighbours: "where
is my card" gives ``card_arrival`` 0.22, ``order_physical_card`` 0.10; "someone stole my
card" gives ``lost_or_stolen_card`` 0.38, ``compromised_card`` 0.33. Rasa's fallback asks
such customers to rephrase although every candidate answer would help them. Here the
intents are grouped in families of close answers (``data/intent_families.yml``):

* the confidence compared with ``threshold`` is that of the top intent's family (the sum
  of its members' confidences in the ranking);
* two top intents closer than ``ambiguity_threshold`` are ambiguous only when they belong
  to different families.

The intent predicted is still the top one; the ranking is unchanged. Intents outside the
file are each a family of their own, so the conversational intents behave as with Rasa's
classifier.

A message that gives a phone number and little else ("+44 7911 123456", "my number is
07911 123456") is not a banking question whatever the classifier ranks first (digits read
as amounts make it "wrong amount of cash received"): it is "not understood" unless its top
intent is a conversational one (yes, no, a request for a call or a person). What a number
answers — a callback offer, the callback form's question — is the dialogue's to decide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.core.intents import DEFAULT_FAMILIES_FILE, load_families
from bot.core.phones import only_a_number
from bot.core.settings import PROJECT_ROOT

# Intents a message that is mostly a phone number keeps ("yes, on 07911 123456").
KEPT_WITH_A_NUMBER = frozenset({"affirm", "deny", "request_phone_call", "request_human", "thank", "goodbye"})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FamilyFallbackClassifier(FallbackClassifier):
    """Reads: the intent and its ranking. Writes: ``nlu_fallback`` when neither the top
    intent's family is confident enough nor the top two are told apart across families."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**FallbackClassifier.get_default_config(), "families_file": None}

    def __init__(self, config: dict[str, Any], families: dict[str, str]) -> None:
        super().__init__(config)
        self.families = families

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FamilyFallbackClassifier:
        path = Path(config.get("families_file") or DEFAULT_FAMILIES_FILE)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        return cls(config, load_families(path))

    def _should_fallback(self, message: Message) -> bool:
        top = (message.data.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if top not in KEPT_WITH_A_NUMBER and only_a_number(message.get(TEXT)):
            return True
        return bool(super()._should_fallback(message))

    def _family(self, intent: Any) -> str:
        name = str(intent)
        return self.families.get(name, f"intent:{name}")

    def _ranking(self, message: Message) -> list[dict[str, Any]]:
        ranking = message.data.get(INTENT_RANKING_KEY) or []
        return [r for r in ranking if isinstance(r, dict)]

    def _nlu_confidence_below_threshold(self, message: Message) -> tuple[bool, float]:
        top = message.data.get(INTENT) or {}
        family = self._family(top.get(INTENT_NAME_KEY))
        confidence = sum(
            float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            for r in self._ranking(message)
            if self._family(r.get(INTENT_NAME_KEY)) == family
        ) or float(top.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        return confidence < self.component_config["threshold"], confidence

    def _nlu_prediction_ambiguous(self, message: Message) -> tuple[bool, float | None]:
        ranking = self._ranking(message)
        if len(ranking) < 2:
            return False, None
        first, second = ranking[0], ranking[1]
        if self._family(first.get(INTENT_NAME_KEY)) == self._family(second.get(INTENT_NAME_KEY)):
            return False, None
        difference = float(first.get(PREDICTED_CONFIDENCE_KEY) or 0.0) - float(
            second.get(PREDICTED_CONFIDENCE_KEY) or 0.0
        )
        return difference < self.component_config["ambiguity_threshold"], difference
