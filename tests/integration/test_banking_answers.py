"""Banking questions answered right, through the running assistant: customers' own words in
three languages (not the training examples), the answer each should get and the facts it
must carry — the route, not only the intent."""

from __future__ import annotations

import uuid

import pytest

from bot.core.bank import BankInfo
from devtools.stack import Stack
from tests.support import sent_responses

pytestmark = pytest.mark.integration

# (language, what the customer writes, the answer, facts the answer must carry: bank.yml
# names in braces, or words of that language)
# Still misread by the classifier: see docs/measurements.md.
QUESTIONS = [
    ("en", "I don't recognise a card payment to a shop I've never been to", "utter_card_payment_not_recognised",
     ["{phone_cards}", "Freeze"]),
    ("en", "someone got into my card details and is using them", "utter_compromised_card", ["{phone_cards}", "Freeze"]),
    ("en", "someone got into my online banking", "utter_compromised_card", ["{phone_cards}"]),
    ("en", "I think somebody hacked into my online banking", "utter_compromised_card", ["{phone_cards}"]),
    ("fr", "quelqu'un a piraté mon appli bancaire", "utter_compromised_card", ["{phone_cards}"]),
    ("en", "theres a cash withdrawal on my account from an atm i've never been to",
     "utter_cash_withdrawal_not_recognised", ["{phone_cards}"]),
    ("en", "a direct debit came out that I never set up", "utter_direct_debit_payment_not_recognised",
     ["Direct Debit Guarantee"]),
    ("en", "the cash machine ate my card", "utter_card_swallowed", []),
    ("en", "I typed my PIN wrong three times and now it's blocked", "utter_pin_blocked", ["Unblock PIN"]),
    ("en", "my friend says the money I sent never arrived in her account", "utter_transfer_not_received_by_recipient", []),
    ("en", "what are your top up limits", "utter_top_up_limits", ["£10,000"]),
    ("en", "contactless isn't working on my card", "utter_contactless_not_working", []),
    ("en", "tap to pay doesn't work with my card anymore", "utter_contactless_not_working", []),
    ("en", "how long does a transfer to a UK account take?", "utter_transfer_timing", []),
    ("es", "me han cobrado algo que yo no he comprado", "utter_card_payment_not_recognised", ["{phone_cards}"]),
    ("es", "el cajero se ha quedado con mi tarjeta", "utter_card_swallowed", []),
    ("es", "cuanto tiempo tarda una transferencia internacional?", "utter_transfer_timing", []),
    ("es", "quiero poner una recarga automática cuando me quede poco saldo", "utter_automatic_top_up", []),
    ("fr", "il y a un prélèvement sur mon compte que je n'ai jamais autorisé", "utter_direct_debit_payment_not_recognised",
     ["{phone_cards}"]),
    ("fr", "le distributeur a avalé ma carte ce matin", "utter_card_swallowed", []),
    ("fr", "mon code PIN est bloqué après trois erreurs", "utter_pin_blocked", []),
    ("fr", "je crois que quelqu'un a piraté ma carte", "utter_compromised_card", ["{phone_cards}"]),
]  # fmt: skip


@pytest.mark.parametrize(("language", "message", "answer", "facts"), QUESTIONS)
def test_each_question_gets_its_answer_with_the_facts(
    stack: Stack, bank: BankInfo, language: str, message: str, answer: str, facts: list[str]
) -> None:
    sender = f"q-{uuid.uuid4()}"
    replies = stack.rest(sender, message, metadata={"channel": "socketio"})
    text = "\n".join(str(r.get("text", "")) for r in replies)
    sent = sent_responses(stack, sender)
    assert answer in sent, f"{message!r} got {sent}"
    for fact in facts:
        assert fact.format(**bank.template_vars(language)) in text, (fact, text)
    assert "[" not in text and "{" not in text, "no blanks reach the customer"


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        ("hiya top up didnt work 🙄", "utter_top_up_failed"),
        ("hello, my card still hasn't arrived", "utter_card_arrival"),
        ("hola buenas, me han cobrado dos veces lo mismo", "utter_transaction_charged_twice"),
        ("bonjour, comment je change mon code PIN ?", "utter_change_pin"),
    ],
)
def test_a_greeting_does_not_swallow_the_question(stack: Stack, message: str, answer: str) -> None:
    sender = f"g-{uuid.uuid4()}"
    stack.rest(sender, message, metadata={"channel": "socketio"})
    sent = sent_responses(stack, sender)
    assert answer in sent and "utter_greet" not in sent, sent


def test_a_phone_first_customer_asking_for_a_person_gets_the_chat_not_the_callback_form(stack: Stack) -> None:
    sender = f"pfp-{uuid.uuid4()}"
    stack.rest(
        sender, "I'm not very good with computers and my card hasn't come", metadata={"channel": "socketio"}
    )
    stack.rest(sender, "no thank you", metadata={"channel": "socketio"})
    stack.rest(sender, "I want to talk to a real person please", metadata={"channel": "socketio"})
    sent = sent_responses(stack, sender)
    assert sent[-1] in ("utter_live_chat_handoff", "utter_live_chat_closed"), sent
    assert "utter_ask_callback_number" not in sent


def test_a_deaf_customer_asking_for_a_call_is_offered_written_ways_to_reach_us(
    stack: Stack, bank: BankInfo
) -> None:
    sender = f"deaf-{uuid.uuid4()}"
    replies = stack.rest(sender, "I'm deaf, can someone call me please", metadata={"channel": "socketio"})
    sent = sent_responses(stack, sender)
    assert "utter_no_call_alternative" in sent and "utter_ask_callback_number" not in sent, sent
    text = "\n".join(str(r.get("text", "")) for r in replies)
    assert bank.text("phone_relay") in text and "Messages" in text
