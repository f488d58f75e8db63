"""What the actions share: reading the tracker, translating Rasa names into the facts
``bot`` decides on, and telling the customer how a handoff write ended.

This is the adapter boundary of the action server: intents, action names, forms and
slots are Rasa's; below it, ``bot`` sees only facts. The decision after each customer
message (persona slots and route) is taken inside Rasa by ``bot.rasa.persona_policy``
through ``bot.handoff.turn``; the readings the actions share with it (the profile, the
channel) are that module's functions.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core.masking import mask
from bot.core.phones import (
    PhoneNumber,
    known_number,
    mentions_number,
    parse_callback_number,
    region_for_timezone,
    sender_number,
)
from bot.handoff.routing import ROUTE_SLOT, Route
from bot.handoff.turn import CALLBACK_FORM as CALLBACK_FORM  # the actions' name for it
from bot.handoff.turn import PROFILE_SLOT as PROFILE_SLOT
from bot.handoff.turn import conversation_channel, intent_of, profile_from_slot
from bot.persona.assessment import Conversation, conversation_from_events
from bot.persona.profile import Profile
from bot.services import Services, get_services
from bot.store.spool import WriteResult

METADATA_SLOT = "session_started_metadata"
# Answers to the current callback question that could not be used (validate_callback_form).
INVALID_ANSWERS_SLOT = "callback_invalid_answers"
# Why the customer left the callback form early (``bot.handoff.routing.FormExit``).
FORM_EXIT_SLOT = "callback_form_exit"
CALLBACK_SLOTS = (
    "callback_number",
    "callback_number_display",
    "callback_window",
    "callback_window_label",
    "callback_window_options",
    "callback_consent",
    INVALID_ANSWERS_SLOT,
    FORM_EXIT_SLOT,
)
# Slots that belong to one conversation and are not carried into a new session.
NOT_CARRIED = frozenset(
    {
        METADATA_SLOT, "requested_slot", "callback_offered", "callback_offer_pending", "handoff_route",
        "handoff_reason", "handoff_reference", ROUTE_SLOT, *CALLBACK_SLOTS,
    }
)  # fmt: skip


def intent(tracker: Tracker) -> str | None:
    return intent_of(tracker.latest_message)


def intent_confidence(tracker: Tracker) -> float:
    """How sure the classifier was of the latest message's intent (0 when unknown)."""
    found = (tracker.latest_message or {}).get("intent")
    confidence = found.get("confidence") if isinstance(found, dict) else None
    return float(confidence) if isinstance(confidence, (int, float)) else 0.0


def profile(tracker: Tracker) -> Profile:
    return profile_from_slot(tracker.get_slot(PROFILE_SLOT))


def metadata(tracker: Tracker) -> dict[str, Any]:
    """The session's metadata, updated by the latest message's."""
    merged: dict[str, Any] = {}
    for source in (tracker.get_slot(METADATA_SLOT), tracker.latest_message.get("metadata")):
        if isinstance(source, dict):
            merged.update(source)
    return merged


def conversation(tracker: Tracker) -> Conversation:
    return conversation_from_events(tracker.events)


def channel(tracker: Tracker, convo: Conversation | None = None) -> str | None:
    """The channel of the conversation's latest customer message."""
    convo = convo or conversation(tracker)
    return conversation_channel(convo, tracker.get_latest_input_channel())


def stored_route(tracker: Tracker) -> Route | None:
    """The route decided for the latest message (``bot.rasa.persona_policy``)."""
    return Route.from_slot(tracker.get_slot(ROUTE_SLOT))


def known_callback_number(services: Services, tracker: Tracker) -> PhoneNumber | None:
    """The number the customer texts from (SMS/WhatsApp), else the one on their profile."""
    return known_number(
        metadata(tracker), tracker.get_slot("customer_phone"), region=services.policy.default_region
    )


def number_in_message(services: Services, tracker: Tracker) -> PhoneNumber | None:
    """A number the bank can ring in the latest message, read as the callback form reads
    an answer to its number question."""
    text = tracker.latest_message.get("text")
    if not isinstance(text, str) or not mentions_number(text):
        return None
    return parse_callback_number(
        text,
        known=known_callback_number(services, tracker),
        default_region=services.policy.default_region,
        home_region=region_for_timezone(profile(tracker).timezone),
    )


def shown_number(services: Services, tracker: Tracker, number: PhoneNumber) -> str:
    """How a known number is shown to the customer: the number they text from in full,
    one from their profile masked to its last digits (the chat may be on a shared screen,
    and the profile is not something to read out to whoever holds the session)."""
    sender = sender_number(metadata(tracker), region=services.policy.default_region)
    if sender is not None and sender.e164 == number.e164:
        return number.display
    return mask(number.display, region=number.region or services.policy.default_region).text


def invalid_answers(tracker: Tracker) -> int:
    value = tracker.get_slot(INVALID_ANSWERS_SLOT)
    return int(value) if isinstance(value, (int, float)) else 0


def tell_outcome(
    dispatcher: CollectingDispatcher, result: WriteResult, *, done_response: str, **values: Any
) -> None:
    """Tell the customer how a handoff write ended: done (with the reference), delayed
    (spooled: it reaches staff later) or failed."""
    if result.saved:
        dispatcher.utter_message(response=done_response, reference=result.reference, **values)
    if result.status == "spooled":
        dispatcher.utter_message(response="utter_handoff_delayed", reference=result.reference)
    elif not result.saved:
        dispatcher.utter_message(response="utter_handoff_failed")


class UsesServices:
    """Mixin for actions: the plugin's services, injected (tests) or from the environment."""

    def __init__(self, services: Services | None = None) -> None:
        super().__init__()
        self._services = services

    @property
    def services(self) -> Services:
        return self._services or get_services()
