from __future__ import annotations

import pytest

from bot.core.redaction import (
    REDACTED_CARD,
    REDACTED_CODE,
    REDACTED_IBAN,
    REDACTED_SECRET,
    Redaction,
    redact,
)

VALID_CARDS = [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111111111111111",
    "5555 5555 5555 4444",
    "6011-1111-1111-1117",
    "4012888888881881",
    "3782 822463 10005",  # Amex, 15 digits
    "378282246310005",
    "3056 9309 0259 04",  # Diners, 14 digits
    "6304 0000 0000 0000 018",  # 19 digits
]

# Long enough to look like a card, but failing Luhn or not 13-19 digits in one run.
KEPT_NUMBERS = [
    "4111 1111 1111 1112",
    "1234 5678 9012 3456",
    "5555555555554440",
    "411111111111111123",
    "41111111111111112345",  # a valid card number inside a longer digit run
    "order 4111111111111111-2345",
    "x4111111111111111",  # glued to letters
    "+44 7700 900123",
    "07700 900123",
    "call me on 0044 7700 900 123",
    "+44 20 7946 0958",
    "123",
    "my card ends in 1234",
    "I paid 1234 euros on 12/03/2024",
]

VALID_IBANS = [
    "GB82 WEST 1234 5698 7654 32",
    "GB82WEST12345698765432",
    "gb82 west 1234 5698 7654 32",
    "ES9121000418450200051332",
    "ES91 2100 0418 4502 0005 1332",
    "FR14 2004 1010 0505 0001 3M02 606",
    "FR1420041010050500013M02606",
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
]

WRONG_IBANS = [
    "GB83 WEST 1234 5698 7654 32",
    "ES9121000418450200051333",
    "FR15 2004 1010 0505 0001 3M02 606",
    "DE88 3704 0044 0532 0130 00",
]

CVV_MESSAGES = [
    # (message, expected)
    ("my cvv is 123", "my cvv is {}"),
    ("CVV: 123", "CVV: {}"),
    ("cvc 456", "cvc {}"),
    ("cv2 = 789", "cv2 = {}"),
    ("cvv2 1234", "cvv2 {}"),
    ("the CVV number is 321", "the CVV number is {}"),
    ("the security code is 123", "the security code is {}"),
    ("Security code: 4321", "Security code: {}"),
    ("the 3 digits on the back are 123", "the 3 digits on the back are {}"),
    ("the three digits on the back of my card are 123", "the three digits on the back of my card are {}"),
    ("three digits: 555", "three digits: {}"),
    ("the code on the back is 987", "the code on the back is {}"),
    ("mi cvv es 123", "mi cvv es {}"),
    ("el código de seguridad es 123", "el código de seguridad es {}"),
    ("codigo de seguridad: 123", "codigo de seguridad: {}"),
    ("el código cvv es 321", "el código cvv es {}"),
    ("los tres dígitos son 654", "los tres dígitos son {}"),
    ("le cryptogramme est 456", "le cryptogramme est {}"),
    ("Cryptogramme : 456", "Cryptogramme : {}"),
    ("le code de sécurité est 123", "le code de sécurité est {}"),
    ("le code cvv est 321", "le code cvv est {}"),
    ("les trois chiffres au dos : 321", "les trois chiffres au dos : {}"),
]

PIN_MESSAGES = [
    ("my pin is 1234", "my pin is {}"),
    ("PIN code: 123456", "PIN code: {}"),
    ("the pin number is 98765", "the pin number is {}"),
    ("mi pin es 4321", "mi pin es {}"),
    ("mon code pin est 1234", "mon code pin est {}"),
    ("mon code secret : 0000", "mon code secret : {}"),
]

# Numbers near a keyword that are not security codes.
KEPT_CODES = [
    "123",
    "my card ends in 1234",
    "what is a cvv? my order is 1234",
    "cvv 12",
    "cvv 12345",
    "cvv 123 456",  # part of a longer number
    "pin 123",  # too short for a PIN
    "my pin is blocked after 3 tries",
    "the security code is missing",
]

PASSWORD_MESSAGES = [
    ("password: hunter2", "password: {}"),
    ("Password: hunter2.", "Password: {}."),
    ("my password is Tr0ub4dor&3", "my password is {}"),
    ("my password is Tr0ub4dor&3!", "my password is {}!"),
    ("my password: hunter2, thanks", "my password: {}, thanks"),
    ("passcode = 8x8x8", "passcode = {}"),
    ("pwd=abc123", "pwd={}"),
    ("my passphrase was correcthorse?", "my passphrase was {}?"),
    ("pass word is letmein", "pass word is {}"),
    ("mi contraseña es perro123", "mi contraseña es {}"),
    ("mi contraseña era gato!", "mi contraseña era {}!"),
    ("la clave es Sol2024", "la clave es {}"),
    ("código de acceso: 9988", "código de acceso: {}"),
    ("mon mot de passe est chat!42", "mon mot de passe est {}"),
    ("mot de passe : soleil", "mot de passe : {}"),
    ("mdp: azerty", "mdp: {}"),
    ("mon code d'accès était lune.", "mon code d'accès était {}."),
]

KEPT_PASSWORD_MESSAGES = [
    "I forgot my password",
    "reset my password please",
    "my password isn't working",
    "my password is not working",
    "my password is wrong",
    "contraseña olvidada",
    "he olvidado mi contraseña",
    "la contraseña es incorrecta",
    "mot de passe oublié",
    "mon mot de passe est bloqué",
    "mon mot de passe n'est pas accepté",
    "how do I change my password?",
]

NOTHING_SENSITIVE = [
    "",
    "Hello, I would like to open an account",
    "¿Puedo cambiar mi dirección? 😀",
    "Où est mon agence la plus proche ? Ça fait 3 jours… 🙏",
    "My order 12345 arrived on 12/03/2024",
]


def _with(template: str, placeholder: str) -> str:
    return template.format(placeholder)


ALL_EXAMPLES = (
    VALID_CARDS
    + KEPT_NUMBERS
    + VALID_IBANS
    + WRONG_IBANS
    + [message for message, _ in CVV_MESSAGES + PIN_MESSAGES + PASSWORD_MESSAGES]
    + KEPT_CODES
    + KEPT_PASSWORD_MESSAGES
    + NOTHING_SENSITIVE
)


@pytest.mark.parametrize("card", VALID_CARDS)
def test_valid_card_is_redacted(card: str) -> None:
    assert redact(card) == Redaction(REDACTED_CARD, ("card",))
    assert redact(f"my card is {card}, thanks") == Redaction(f"my card is {REDACTED_CARD}, thanks", ("card",))


@pytest.mark.parametrize("text", KEPT_NUMBERS)
def test_number_that_is_not_a_card_is_kept(text: str) -> None:
    assert redact(text) == Redaction(text, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi tarjeta es 4111 1111 1111 1111, gracias", f"mi tarjeta es {REDACTED_CARD}, gracias"),
        ("¿Podéis bloquear la 5555-5555-5555-4444?", f"¿Podéis bloquear la {REDACTED_CARD}?"),
        ("ma carte 3782 822463 10005 est bloquée", f"ma carte {REDACTED_CARD} est bloquée"),
        ("Numéro : 4111111111111111. Merci 🙏", f"Numéro : {REDACTED_CARD}. Merci 🙏"),
    ],
)
def test_card_inside_sentence_in_spanish_and_french(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_valid_iban_is_redacted(iban: str) -> None:
    assert redact(iban) == Redaction(REDACTED_IBAN, ("iban",))
    assert redact(f"IBAN: {iban} is mine") == Redaction(f"IBAN: {REDACTED_IBAN} is mine", ("iban",))


@pytest.mark.parametrize("iban", WRONG_IBANS)
def test_iban_with_wrong_check_digits_is_kept(iban: str) -> None:
    assert redact(iban) == Redaction(iban, ())


@pytest.mark.parametrize(("text", "template"), CVV_MESSAGES)
def test_cvv_after_keyword_is_redacted(text: str, template: str) -> None:
    assert redact(text) == Redaction(_with(template, REDACTED_CODE), ("cvv",))


@pytest.mark.parametrize(("text", "template"), PIN_MESSAGES)
def test_pin_after_keyword_is_redacted(text: str, template: str) -> None:
    assert redact(text) == Redaction(_with(template, REDACTED_CODE), ("pin",))


@pytest.mark.parametrize("text", KEPT_CODES)
def test_number_without_code_keyword_is_kept(text: str) -> None:
    assert redact(text) == Redaction(text, ())


@pytest.mark.parametrize(("text", "template"), PASSWORD_MESSAGES)
def test_password_after_connector_is_redacted(text: str, template: str) -> None:
    assert redact(text) == Redaction(_with(template, REDACTED_SECRET), ("password",))


@pytest.mark.parametrize("text", KEPT_PASSWORD_MESSAGES)
def test_message_about_a_password_without_secret_is_kept(text: str) -> None:
    assert redact(text) == Redaction(text, ())


@pytest.mark.parametrize("text", NOTHING_SENSITIVE + KEPT_NUMBERS + KEPT_PASSWORD_MESSAGES)
def test_nothing_sensitive_returns_the_same_string(text: str) -> None:
    result = redact(text)
    assert result.text is text
    assert result.kinds == ()


@pytest.mark.parametrize(
    "text",
    [
        *ALL_EXAMPLES,
        "card 4111 1111 1111 1111 cvv 123 and my password is hunter2",
        "password: 12 4111111111111111",
        "password: 4111 1111 1111 1111",
        "GB82 WEST 1234 5698 7654 32 4111 1111 1111 1111",
        "my password is now secret!",
        f"cvv {REDACTED_CODE} 456",
        f"password: {REDACTED_SECRET}",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.kinds == ()


def test_placeholders_are_never_matched_again() -> None:
    text = f"cvv {REDACTED_CODE}, password: {REDACTED_SECRET}, card {REDACTED_CARD}, {REDACTED_IBAN}"
    assert redact(text) == Redaction(text, ())


def test_mixed_message_redacts_everything_and_reports_kinds_in_order() -> None:
    text = (
        "Hi 😀 my card 4111 1111 1111 1111, cvv 123, my password is hunter2. "
        "Please send it to ES91 2100 0418 4502 0005 1332 — mi PIN es 9876, merci!"
    )
    assert redact(text) == Redaction(
        f"Hi 😀 my card {REDACTED_CARD}, cvv {REDACTED_CODE}, my password is {REDACTED_SECRET}. "
        f"Please send it to {REDACTED_IBAN} — mi PIN es {REDACTED_CODE}, merci!",
        ("card", "cvv", "password", "iban", "pin"),
    )


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("password: x1 then 4111111111111111", ("password", "card")),
        ("4111111111111111 and password: x1", ("card", "password")),
        ("cvv 123 for 5555 5555 5555 4444", ("cvv", "card")),
        ("DE89 3704 0044 0532 0130 00 / 4111-1111-1111-1111 / cvv: 999", ("iban", "card", "cvv")),
    ],
)
def test_kinds_are_reported_in_order_of_appearance(text: str, kinds: tuple[str, ...]) -> None:
    assert redact(text).kinds == kinds


def test_overlapping_findings_are_removed_as_one() -> None:
    # The password and the card overlap; the whole number goes, under the card placeholder.
    assert redact("password: 4111 1111 1111 1111") == Redaction(f"password: {REDACTED_CARD}", ("card",))


def test_a_number_left_on_its_own_by_a_removed_password_is_checked_again() -> None:
    assert redact("password: 12 4111111111111111") == Redaction(
        f"password: {REDACTED_SECRET} {REDACTED_CARD}", ("password", "card")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mi contraseña es pérdida123 — ¿la podéis cambiar? 🙂",
            f"Mi contraseña es {REDACTED_SECRET} — ¿la podéis cambiar? 🙂",
        ),
        ("Le cryptogramme est 123 🙏 ça va ?", f"Le cryptogramme est {REDACTED_CODE} 🙏 ça va ?"),
        ("Ünïcødé ✨ card 4111111111111111 ✨ ñ", f"Ünïcødé ✨ card {REDACTED_CARD} ✨ ñ"),
        ("😀4111111111111111😀", f"😀{REDACTED_CARD}😀"),
    ],
)
def test_unicode_outside_redacted_spans_survives(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("call me on 07911 123456 please", "call me on ••••• •••456 please", ("phone",)),
        ("write to jane.doe@example.com", "write to j•••@example.com", ("email",)),
        ("sort code 12-34-56, account number 12345678", "sort code ••-••-56, account number ••••5678",
         ("account_number", "sort_code")),
        ("order 12345678 arrived on 2024-11-23", "order 12345678 arrived on 2024-11-23", ()),
    ],
)  # fmt: skip
def test_contact_details_are_masked_to_their_last_characters(
    text: str, masked: str, kinds: tuple[str, ...]
) -> None:
    from bot.core.masking import mask

    result = mask(text)
    assert result.text == masked and result.kinds == kinds


def test_protect_removes_card_data_and_masks_contacts() -> None:
    from bot.core.masking import protect

    result = protect("card 4539 1488 0343 6467, ring 07911 123456")
    assert result.text == "card [card number removed], ring ••••• •••456"
    assert result.kinds == ("card", "phone")


def test_a_uuid_is_not_a_card_number_and_a_card_beside_one_still_is() -> None:
    ref = "66193851-7477-4104-9f8a-c52d65fd7915"  # its first groups pass the card check
    assert redact(f"transfer ref {ref}") == Redaction(f"transfer ref {ref}", ())
    found = redact(f"ref {ref} card 4539-1488-0343-6467")
    assert found.text == f"ref {ref} card [card number removed]" and found.kinds == ("card",)
    assert redact("66193851-7477-4104-9f8a").kinds == ("card",)  # not a UUID: read as written
