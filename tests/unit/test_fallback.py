"""The family-aware fallback: not understood only when the classifier really does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.core.settings import PROJECT_ROOT
from bot.rasa.fallback import FamiliesError, FamilyFallbackClassifier, load_families

FAMILIES = load_families(PROJECT_ROOT / "data" / "intent_families.yml")


def classify(*ranking: tuple[str, float]) -> str:
    config = {**FamilyFallbackClassifier.get_default_config(), "threshold": 0.3, "ambiguity_threshold": 0.05}
    message = Message(
        data={
            "text": "x",
            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
    )
    FamilyFallbackClassifier(config, FAMILIES).process([message])
    return str(message.get("intent")["name"])


def test_close_answers_of_one_family_are_not_ambiguous() -> None:
    assert classify(("lost_or_stolen_card", 0.38), ("compromised_card", 0.33)) == "lost_or_stolen_card"
    assert classify(("topping_up_by_card", 0.26), ("transfer_into_account", 0.24)) == "nlu_fallback"


def test_the_family_confidence_counts_against_the_threshold() -> None:
    assert classify(("card_arrival", 0.22), ("order_physical_card", 0.10), ("greet", 0.05)) == "card_arrival"
    assert classify(("card_arrival", 0.22), ("greet", 0.10)) == "nlu_fallback"
    assert classify(("greet", 0.28), ("goodbye", 0.24)) == "nlu_fallback", (
        "conversational intents stand alone"
    )
    assert classify(("goodbye", 0.28), ("thank", 0.24), ("deny", 0.2)) == "goodbye", (
        "but for the closings: 'thanks, that's all' is both"
    )
    assert classify(("change_pin", 0.9), ("pin_blocked", 0.05)) == "change_pin"


def test_every_banking_intent_is_in_one_family(domain_data: dict) -> None:  # type: ignore[type-arg]
    conversational = {"greet", "goodbye", "affirm", "deny", "thank", "bot_challenge", "request_human",
                      "request_phone_call", "out_of_scope"}  # fmt: skip
    banking = set(domain_data["intents"]) - conversational
    closings = {"thank", "goodbye"}  # the one conversational family: either answer ends well
    assert banking | closings == set(FAMILIES), (banking | closings) ^ set(FAMILIES)
    assert FAMILIES["thank"] == FAMILIES["goodbye"]


def test_a_malformed_families_file_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "families.yml"
    bad.write_text(yaml.safe_dump({"families": {"a": ["x"], "b": ["x"]}}))
    with pytest.raises(FamiliesError, match="'x' is in both"):
        load_families(bad)
    bad.write_text("families: [x]")
    with pytest.raises(FamiliesError, match="mapping"):
        load_families(bad)
