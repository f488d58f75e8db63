"""A greeting or thanks in front of a question is dropped from what the classifier reads."""

from __future__ import annotations

import pytest

from bot.rasa.greetings import leading_opener_length


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("hiya top up didnt work 🙄", 1),
        ("hi there, my card hasn't arrived", 2),
        ("Hello, thank you for your help my PIN is blocked", 3),
        ("hola buenas, me han cobrado dos veces", 2),
        ("Buenos días me llegó la tarjeta", 2),
        ("slt jsp où est passée ma carte", 1),
        ("Bonjour, merci, comment je change mon code", 2),
        ("my card hasn't arrived", 0),
        ("hello", 1),
        ("thanks", 1),
    ],
)
def test_leading_greetings_and_thanks_are_found_in_every_language(text: str, cut: int) -> None:
    assert leading_opener_length(text.split()) == cut


def test_the_component_leaves_a_greeting_alone_and_strips_one_in_front_of_a_question() -> None:
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa.greetings import LeadingGreetingRemover

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    remover = LeadingGreetingRemover()
    alone, question = Message({TEXT: "hello there"}), Message({TEXT: "hiya top up didnt work"})
    tokenizer.process([alone, question])
    remover.process([alone, question])
    assert [t.text for t in alone.get(TOKENS_NAMES[TEXT])] == ["hello", "there"]
    assert [t.text for t in question.get(TOKENS_NAMES[TEXT])] == ["top", "up", "didnt", "work"]
    assert question.get(TEXT) == "hiya top up didnt work", "the text the customer wrote is kept"


def test_thanks_before_a_short_statement_stays_thanks() -> None:
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa.greetings import LeadingGreetingRemover

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    statement = Message({TEXT: "ok thanks, I've frozen it"})
    question = Message({TEXT: "thanks, how do I change my PIN"})
    tokenizer.process([statement, question])
    LeadingGreetingRemover().process([statement, question])
    assert [t.text for t in statement.get(TOKENS_NAMES[TEXT])][:2] == ["ok", "thanks"]
    assert next(t.text for t in question.get(TOKENS_NAMES[TEXT])) == "how"
