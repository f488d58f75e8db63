from __future__ import annotations

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.bank import BankInfo
from bot.rasa.nlg import PersonaNLG
from tests.support import RUNTIME_VARIABLES


async def test_every_response_is_filled_from_bank_config(rasa_domain: Domain, bank: BankInfo) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    tracker = DialogueStateTracker.from_events("u1", [])
    for name in rasa_domain.responses:
        response = await nlg.generate(name, tracker, "rest", **RUNTIME_VARIABLES)
        assert response is not None, name
        assert response["text"].strip(), name
        assert "{" not in response["text"] and "}" not in response["text"], f"{name}: {response['text']}"


async def test_phone_numbers_come_from_the_config(rasa_domain: Domain, bank: BankInfo) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    tracker = DialogueStateTracker.from_events("u1", [])
    response = await nlg.generate("utter_lost_or_stolen_card", tracker, "rest")
    assert response is not None
    assert bank.phone_cards in response["text"]


async def test_kwargs_override_bank_variables(rasa_domain: Domain, bank: BankInfo) -> None:
    nlg = PersonaNLG(endpoint_config=None, domain=rasa_domain)
    tracker = DialogueStateTracker.from_events("u1", [])
    response = await nlg.generate("utter_greet", tracker, "rest", bank_name="Other Bank")
    assert response is not None
    assert "Other Bank" in response["text"]


async def test_domain_defaults_are_merged_when_rasa_sets_responses_after_loading_the_model(
    rasa_domain: Domain, bank: BankInfo
) -> None:
    # `rasa run` creates the NLG before the model (and its domain) is loaded.
    nlg = PersonaNLG(endpoint_config=None, domain=None)
    nlg.responses = rasa_domain.responses
    tracker = DialogueStateTracker.from_events("u1", [])
    response = await nlg.generate("utter_lost_or_stolen_card", tracker, "rest")
    assert response is not None
    assert response["metadata"]["wording"]["variant"] == "default"
    assert bank.phone_cards in response["text"]
