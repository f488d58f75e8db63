"""What the actions share: reading the tracker, translating Rasa names into the facts
``bot`` decides on, and telling the customer how a handoff write ended.

This is the adapter boundary of the action server: intents, action names, forms and
slots are Rasa's; below it, ``bot`` sees only facts (``Request``, ``Situation``, …).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core.channels import message_channel
from bot.core.masking import mask
from bot.core.phones import PhoneNumber, known_number, sender_number
from bot.handoff.asks import ALSO_REQUESTED_KEY, requested_in
from bot.handoff.routing import ROUTE_SLOT, Request, Route, Situation
from bot.persona.assessment import Conversation, conversation_from_events
from bot.persona.cues import CUES_KEY, MessageCues
from bot.persona.profile import Profile
from bot.services import Services, get_services
from bot.store.spool import WriteResult

METADATA_SLOT = "session_started_metadata"
PROFILE_SLOT = "customer_profile"
CALLBACK_FORM = "callback_form"
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
# Actions that mean the customer said no to a callback (declined the offer, cancelled the form).
CALLBACK_REFUSED_BY = frozenset({"action_decline_callback", "action_cancel_callback"})
# What an intent asks for; ``affirm``/``deny`` only while a callback offer is pending.
REQUEST_INTENTS = {"request_human": Request.person, "request_phone_call": Request.phone_call}
OFFER_ANSWERS = {"affirm": Request.accept_callback, "deny": Request.decline_callback}
NOT_UNDERSTOOD = "nlu_fallback"


def intent(tracker: Tracker) -> str | None:
    name = (tracker.latest_message.get("intent") or {}).get("name")
    return name if isinstance(name, str) else None


def profile(tracker: Tracker) -> Profile:
    data = tracker.get_slot(PROFILE_SLOT)
    return Profile.from_mapping(data if isinstance(data, dict) else None)


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
    return convo.channel or message_channel(None, tracker.get_latest_input_channel())


def request(tracker: Tracker) -> Request:
    """What the latest message asks for."""
    name = intent(tracker)
    if name in REQUEST_INTENTS:
        return REQUEST_INTENTS[name]
    if name in OFFER_ANSWERS and tracker.get_slot("callback_offer_pending"):
        return OFFER_ANSWERS[name]
    if name == NOT_UNDERSTOOD and not tracker.active_loop_name:
        # The classifier could not place it, but its words ask for a call or a person.
        text = tracker.latest_message.get("text")
        cues = MessageCues.from_dict(tracker.latest_message.get(CUES_KEY))
        asked = requested_in(text, cues.evidence) if isinstance(text, str) else None
        if asked is not None:
            return asked
    return requested_with_question(tracker) or Request.none


def requested_with_question(tracker: Tracker) -> Request | None:
    """A call or a person asked for beside a question in the latest message (the NLU's
    ``also_requested``, ``bot.rasa.asks``); None when the message asked for neither, or
    asked only that (then the intent says it)."""
    if intent(tracker) in REQUEST_INTENTS:
        return None
    found = tracker.latest_message.get(ALSO_REQUESTED_KEY)
    try:
        return Request(found["request"]) if isinstance(found, dict) else None
    except (KeyError, ValueError):
        return None


def arranging_callback(tracker: Tracker) -> bool:
    return bool(tracker.active_loop_name == CALLBACK_FORM)


def declined_callback(convo: Conversation) -> bool:
    return bool(CALLBACK_REFUSED_BY & convo.actions)


def situation(tracker: Tracker, convo: Conversation) -> Situation:
    return Situation(
        request=request(tracker),
        messages=convo.messages,
        callback_offered=bool(tracker.get_slot("callback_offered")),
        with_question=requested_with_question(tracker) is not None,
    )


def stored_route(tracker: Tracker) -> Route | None:
    """The route ``action_validate_slot_mappings`` decided for the latest message."""
    return Route.from_slot(tracker.get_slot(ROUTE_SLOT))


def known_callback_number(services: Services, tracker: Tracker) -> PhoneNumber | None:
    """The number the customer texts from (SMS/WhatsApp), else the one on their profile."""
    return known_number(
        metadata(tracker), tracker.get_slot("customer_phone"), region=services.policy.default_region
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
