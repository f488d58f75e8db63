"""Long numbers (card and account numbers) are hidden from the intent classifier's features;
amounts, dates and short numbers are not (bot/rasa/numbers.py)."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.numbers import LongNumberRemover, long_number_tokens


@pytest.mark.parametrize(
    ("words", "dropped"),
    [
        ("ma carte 4539 1488 0343 6467 a été volée".split(), {2, 3, 4, 5}),
        ("card 4539148803436467 stolen".split(), {1}),
        ("account 12345678 sort code 20-00-00".split(), set()),
        ("account 12345678 20-00-00".split(), {1, 2}),
        ("I was charged 200 pounds on 12/03/2026".split(), set()),
        ("paid 20 50 and 100".split(), set()),
        ("ref 4539-1488-0343-6467".split(), {1}),
    ],
)
def test_long_number_tokens(words: list[str], dropped: set[int]) -> None:
    assert long_number_tokens(words) == dropped


def test_the_classifier_reads_the_words_around_a_card_number() -> None:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    stolen = Message({TEXT: "Bonjour, ma carte 4539 1488 0343 6467 a été volée"})
    digits_only = Message({TEXT: "4539 1488 0343 6467"})
    amount = Message({TEXT: "I was charged 200 pounds twice"})
    tokenizer.process([stolen, digits_only, amount])
    LongNumberRemover().process([stolen, digits_only, amount])
    assert [t.text for t in stolen.get(TOKENS_NAMES[TEXT])] == ["Bonjour", "ma", "carte", "a", "été", "volée"]
    assert len(digits_only.get(TOKENS_NAMES[TEXT])) == 4, "nothing else to read: kept"
    assert "200" in [t.text for t in amount.get(TOKENS_NAMES[TEXT])]
    assert stolen.get(TEXT).startswith("Bonjour, ma carte 4539"), "the text the customer wrote is kept"
