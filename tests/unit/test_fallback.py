"""The family-aware fallback: not understood only when the classifier really does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.core.intents import (
    DEFAULT_FAMILIES_FILE,
    FamiliesError,
    answer_response,
    banking_intents,
    load_families,
)
from bot.core.settings import PROJECT_ROOT
from bot.rasa.fallback import FamilyFallbackClassifier

FAMILIES = load_families(DEFAULT_FAMILIES_FILE)


def classify(*ranking: tuple[str, float], text: str = "x") -> str:
    config = {**FamilyFallbackClassifier.get_default_config(), "threshold": 0.3, "ambiguity_threshold": 0.05}
    message = Message(
        data={
            "text": text,
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


@pytest.mark.parametrize(
    "text", ["+44 7911 123456", "my number is 07911 123456", "sí, al 612 345 678", "06 12 34 56 78 svp"]
)
def test_a_phone_number_alone_is_no_banking_question(text: str) -> None:
    # Digits read as an amount: the classifier ranks "wrong amount of cash" first.
    assert classify(
        ("wrong_amount_of_cash_received", 0.58), ("extra_charge_on_statement", 0.1), text=text
    ) == ("nlu_fallback")
    assert classify(("affirm", 0.6), ("deny", 0.1), text=f"yes, {text}") == "affirm"
    assert classify(("request_phone_call", 0.7), text=f"call me {text}") == "request_phone_call"


def test_a_question_with_a_number_in_it_is_still_a_question() -> None:
    text = "I sent 100 pounds to 07911 123456 from my account and it never arrived"
    assert (
        classify(("transfer_not_received_by_recipient", 0.7), text=text)
        == "transfer_not_received_by_recipient"
    )
    assert classify(("change_pin", 0.9), text="how do I change my PIN") == "change_pin"


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


def test_the_banking_intents_are_the_questions_the_rules_answer() -> None:
    """``bot.core.intents.banking_intents`` (answered in the middle of the callback form)
    are exactly the intents ``data/rules/banking.yml`` answers, with the same responses."""
    rules = yaml.safe_load((PROJECT_ROOT / "data/rules/banking.yml").read_text(encoding="utf-8"))["rules"]
    answered = {}
    for rule in rules:
        steps = rule["steps"]
        answered[steps[0]["intent"]] = steps[1]["action"]
    assert set(answered) == banking_intents()
    assert all(answer_response(intent) == action for intent, action in answered.items())
