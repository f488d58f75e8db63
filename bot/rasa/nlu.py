"""Rasa NLU component that adds per-message persona cues and the language to parse data.

``config.yml``::

    pipeline:
      - name: bot.rasa.nlu.PersonaCueExtractor
        personas_file: personas.yml   # optional; default $PERSONAS_FILE or personas.yml

Each parsed message gets ``persona_cues`` (``MessageCues.to_dict()``) and ``language``
(``{"name": "es", "confidence": 0.98, "clear": true}``) in its output, so they are stored
in the tracker with the message and reach the action server. The catalogue is validated
when the model loads: an invalid ``personas.yml`` stops the server from starting, with an
error naming the file, persona and field.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.settings import Settings
from bot.persona.catalogue import load_catalogue
from bot.persona.cues import CUES_KEY, CueExtractor

logger = logging.getLogger(__name__)
LANGUAGE_KEY = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class PersonaCueExtractor(GraphComponent):
    """Reads: the message text. Writes: ``persona_cues`` and ``language`` in the parse data."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"personas_file": None}

    def __init__(self, extractor: CueExtractor) -> None:
        self._extractor = extractor

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PersonaCueExtractor:
        path = Path(config.get("personas_file") or Settings.from_env().personas_file)
        catalogue = load_catalogue(path)  # CatalogueError stops training or server start
        logger.info("persona.catalogue_loaded file=%s personas=%s", path, ",".join(catalogue.ids))
        return cls(CueExtractor(catalogue))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            cues = self._extractor.extract(message.get(TEXT))
            message.set(CUES_KEY, cues.to_dict(), add_to_output=True)
            language = {
                "name": cues.language,
                "confidence": round(cues.language_confidence, 4),
                "clear": cues.language_clear,
            }
            message.set(LANGUAGE_KEY, language, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Cues describe how a customer writes; they are not training features.
        return training_data
