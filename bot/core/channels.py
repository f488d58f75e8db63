"""The channel vocabulary, in one place: where a message comes from, how the answer is
formatted, which contact channel that is in the profile's terms, and how the customer is
recognised there.

| input channel (Rasa) | output format | contact channel | identity |
|---|---|---|---|
| ``socketio`` (website widget) | ``socketio`` | ``chat`` | ``web`` (the site's customer id) |
| ``rest`` (website relay, API) | ``rest`` | ``chat`` | ``web`` |
| ``telegram`` | ``telegram`` | ``app`` | ``telegram`` (``telegram_user_id``) |
| ``twilio`` (SMS) | ``sms`` | ``app`` | ``phone`` (E.164) |
| ``twilio`` (``whatsapp:`` senders) | ``whatsapp`` | ``app`` | ``phone`` (E.164) |

Contact channels are the profile's vocabulary for how a customer reaches the bank:
``phone``, ``chat`` (website chat), ``app`` (mobile app and messaging), ``email``, ``branch``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from bot.core.phones import sender_number

# Rasa input channel names the assistant serves.
INPUT_CHANNELS = ("rest", "socketio", "telegram", "twilio")
# How an answer is formatted (bot.wording.formatting).
SMS, WHATSAPP = "sms", "whatsapp"
OUTPUT_FORMATS = ("rest", "socketio", "telegram", SMS, WHATSAPP)
DEFAULT_FORMAT = "rest"
# How customers reach the bank, in profiles and persona catalogues.
CONTACT_CHANNELS = ("phone", "chat", "app", "email", "branch")
WHATSAPP_PREFIX = "whatsapp:"


class DeliveryRefused(RuntimeError):
    """A channel will not deliver this message now (for example WhatsApp outside the 24-hour
    window with no approved template); the message says why."""


class IdentityKind(str, enum.Enum):
    """How a customer is recognised: website login id, Telegram user id, phone (E.164)."""

    web = "web"
    telegram = "telegram"
    phone = "phone"


def known_channel(value: Any) -> str | None:
    """``value`` when it is an input channel the assistant serves, else None."""
    return value if isinstance(value, str) and value in INPUT_CHANNELS else None


def message_channel(metadata: Mapping[str, Any] | None, input_channel: Any) -> str | None:
    """The channel a message really comes from.

    The one named in the message metadata (the REST relay says which channel it serves;
    Rasa's REST replies go through the ``collector`` channel, which says nothing), else
    Rasa's input channel, else None.
    """
    named = metadata.get("channel") if isinstance(metadata, Mapping) else None
    return known_channel(named) or known_channel(input_channel)


def output_format(channel: str | None, sender_id: str | None = None) -> str:
    """The formatting for a channel: Twilio senders starting with ``whatsapp:`` use WhatsApp's."""
    if channel == "twilio":
        return WHATSAPP if (sender_id or "").startswith(WHATSAPP_PREFIX) else SMS
    return channel if channel in OUTPUT_FORMATS else DEFAULT_FORMAT


def resolve_identity(
    sender_id: str, metadata: Mapping[str, Any] | None, *, region: str
) -> tuple[IdentityKind, str] | None:
    """How the session metadata identifies the customer, or None (an unknown customer).

    Website: ``customer_id`` (the logged-in customer, from the site's signed token);
    Telegram: ``telegram_user_id``; SMS/WhatsApp (Twilio): the ``phone`` the message came
    from (E.164; ``region`` reads numbers without a country code). Only the channels set
    these keys: the REST channel removes them from what clients send
    (``bot.core.identity.verified_metadata``).
    """
    metadata = metadata or {}
    customer_id = metadata.get("customer_id")
    if isinstance(customer_id, str) and customer_id.strip():
        return IdentityKind.web, customer_id.strip()
    telegram_user = metadata.get("telegram_user_id")
    if metadata.get("channel") == "telegram" and isinstance(telegram_user, (int, str)) and str(telegram_user):
        return IdentityKind.telegram, str(telegram_user)
    phone = sender_number(metadata, region=region)
    return (IdentityKind.phone, phone.e164) if phone is not None else None
