"""Rasa natural language generator that fills the bank's facts into every response.

Configured in ``endpoints.yml``::

    nlg:
      type: bot.rasa.nlg.BankNLG
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.bank import load_bank_info
from bot.config import Settings


class BankNLG(TemplatedNaturalLanguageGenerator):
    """Renders the domain's responses with ``{bank_name}``, ``{phone_main}``… from bank.yml.

    Reads: the domain's responses, the tracker's slots, the bank configuration file.
    Writes: the response dict Rasa sends to the output channel.
    """

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain.responses if domain is not None else {})
        settings = Settings.from_env()
        self.bank_vars = load_bank_info(settings.bank_config).template_vars()

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Dict[str, Any] | None:
        variables = {**self.bank_vars, **kwargs}
        response: dict[str, Any] | None = await super().generate(
            utter_action, tracker, output_channel, **variables
        )
        return response
