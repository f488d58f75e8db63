"""Escalation actions: the profile at session start, the callback offer and form, live chat.

Thin by design: each reads the tracker, calls ``bot`` and returns events. Database work
runs in a worker thread so the action server's event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from abc import ABC, abstractmethod
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    EventType,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.assessment import conversation_from_events
from bot.callbacks import (
    PhoneNumber,
    Window,
    callback_windows,
    live_chat_wait,
    parse_callback_number,
    parse_phone,
    parse_window_choice,
    window_label,
)
from bot.escalation import choose_human_route, phone_blocked
from bot.handoff import request_from_conversation
from bot.profile import Profile
from bot.services import Services, get_services
from bot.store.repository import HandoffRepository, find_customer, resolve_identity
from bot.store.spool import WriteResult

logger = logging.getLogger(__name__)

METADATA_SLOT = "session_started_metadata"
# Answers to the current callback question that could not be used (validate_callback_form).
INVALID_ANSWERS_SLOT = "callback_invalid_answers"
CALLBACK_SLOTS = (
    "callback_number",
    "callback_number_display",
    "callback_window",
    "callback_window_label",
    "callback_window_options",
    "callback_consent",
    INVALID_ANSWERS_SLOT,
)
# Slots that belong to one conversation and are not carried into a new session.
NOT_CARRIED = frozenset(
    {
        METADATA_SLOT, "requested_slot", "callback_offered", "callback_offer_pending", "escalation_route",
        "escalation_reason", "handoff_reference", *CALLBACK_SLOTS,
    }
)  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _profile(tracker: Tracker) -> Profile:
    data = tracker.get_slot("customer_profile")
    return Profile.from_mapping(data if isinstance(data, dict) else None)


def _metadata(tracker: Tracker) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for source in (tracker.get_slot(METADATA_SLOT), tracker.latest_message.get("metadata")):
        if isinstance(source, dict):
            merged.update(source)
    return merged


def _channel(tracker: Tracker) -> str | None:
    conversation = conversation_from_events(tracker.events)
    return conversation.channel or tracker.get_latest_input_channel()


def _customer_tz(services: Services, tracker: Tracker) -> ZoneInfo:
    name = _profile(tracker).timezone
    return ZoneInfo(name) if name else services.policy.timezone


def _known_number(services: Services, tracker: Tracker) -> PhoneNumber | None:
    """The number the customer texts from (SMS/WhatsApp), else the one on their profile."""
    region = services.policy.default_region
    metadata = _metadata(tracker)
    if metadata.get("channel") == "twilio" and isinstance(metadata.get("phone"), str):
        parsed = parse_phone(metadata["phone"], region=region, for_callback=True)
        if parsed is not None:
            return parsed
    stored = tracker.get_slot("customer_phone")
    return parse_phone(stored, region=region, for_callback=True) if isinstance(stored, str) else None


def _tell_outcome(
    dispatcher: CollectingDispatcher, result: WriteResult, *, done_response: str, **values: Any
) -> None:
    if result.status == "stored":
        dispatcher.utter_message(response=done_response, reference=result.reference, **values)
    elif result.status == "spooled":
        dispatcher.utter_message(response=done_response, reference=result.reference, **values)
        dispatcher.utter_message(response="utter_handoff_delayed", reference=result.reference)
    else:
        dispatcher.utter_message(response="utter_handoff_failed")


class ActionSessionStart(Action):
    """Starts a session and loads the customer's profile from the database when known."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        metadata = tracker.get_slot(METADATA_SLOT)
        if isinstance(metadata, dict):
            events.append(SlotSet(METADATA_SLOT, metadata))
        events += [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if value is not None and name not in NOT_CARRIED
        ]
        services = get_services()
        identity = resolve_identity(
            tracker.sender_id,
            metadata if isinstance(metadata, dict) else None,
            region=services.policy.default_region,
        )
        if identity is not None:
            try:
                view = await asyncio.to_thread(find_customer, services.database, *identity)
            except Exception as exc:  # a profile is a nicety: the conversation goes on without it
                logger.warning("profile.lookup_failed sender=%s error=%s", tracker.sender_id, exc)
                view = None
            if view is not None:
                logger.info("profile.loaded sender=%s customer=%s", tracker.sender_id, view.customer_ref)
                events += [
                    SlotSet("customer_profile", view.profile),
                    SlotSet("customer_ref", view.customer_ref),
                    SlotSet("customer_phone", view.phone),
                ]
            else:
                logger.info("profile.unknown sender=%s via=%s", tracker.sender_id, identity[0].value)
        events.append(ActionExecuted("action_listen"))
        return events


class _OfferCallback(Action, ABC):
    """Says ``lead_response`` (if any) and offers a callback when the phone-offer decision
    says so and none was offered in this conversation yet; else offers more help (not
    inside a form, whose question comes next)."""

    lead_response: str | None = None

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if self.lead_response:
            dispatcher.utter_message(response=self.lead_response)
        offer = bool(tracker.get_slot("offer_phone")) and not tracker.get_slot("callback_offered")
        if offer:
            logger.info(
                "callback.offered sender=%s reason=%s",
                tracker.sender_id,
                tracker.get_slot("offer_phone_reason"),
            )
            dispatcher.utter_message(response="utter_offer_callback")
            return [SlotSet("callback_offer_pending", True), SlotSet("callback_offered", True)]
        if not self.lead_response and not tracker.active_loop_name:
            # Inside a form (a question answered on the way) the form's question follows.
            dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("callback_offer_pending", False)]


class ActionOfferMoreHelp(_OfferCallback):
    """After an answer: the callback offer for customers the assistant should offer it to."""

    def name(self) -> str:
        return "action_offer_more_help"


class ActionRephrase(_OfferCallback):
    """Not understood: ask to rephrase; after repeated failures, offer a callback."""

    lead_response = "utter_default"

    def name(self) -> str:
        return "action_rephrase"


class ActionDeclineCallback(Action):
    def name(self) -> str:
        return "action_decline_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        logger.info("callback.declined sender=%s", tracker.sender_id)
        return [SlotSet("callback_offer_pending", False)]


async def _hand_to_live_chat(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, reason: str
) -> list[EventType]:
    """Write a ``live_chat`` handoff, tell the customer the wait and pause the assistant."""
    request = request_from_conversation(
        "live_chat",
        reason=reason,
        sender_id=tracker.sender_id,
        events=tracker.events,
        slots=tracker.slots,
        channel=_channel(tracker),
    )

    def waiting() -> int:
        with services.database.session() as session:
            return HandoffRepository(session).waiting("live_chat")

    try:
        ahead: int | None = await asyncio.to_thread(waiting)
    except Exception as exc:  # the wait is only an estimate; the write below decides
        logger.warning("handoff.queue_unknown error=%s", exc)
        ahead = None
    result = await asyncio.to_thread(services.writer.write, request)
    now = _now()
    wait = live_chat_wait(services.policy, ahead=ahead or 0, now=now)
    values: dict[str, Any]
    if wait.minutes is not None:
        response, values = "utter_live_chat_handoff", {"wait_minutes": wait.minutes}
    else:
        opens = wait.opens_at.astimezone(_customer_tz(services, tracker)) if wait.opens_at else None
        response, values = (
            "utter_live_chat_closed",
            {"opens_at": opens.strftime("%d/%m %H:%M") if opens else "?"},
        )
    _tell_outcome(dispatcher, result, done_response=response, **values)
    if not result.saved:
        return [SlotSet("escalation_route", None)]
    return [SlotSet("handoff_reference", result.reference), ConversationPaused()]


class ActionEscalate(Action):
    """The customer wants a person (or accepted the callback offer): callback or live chat.

    Sets ``escalation_route``: ``callback`` (the callback form follows, by rule) or
    ``live_chat`` (the handoff is written here and the bot pauses).
    """

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        conversation = conversation_from_events(tracker.events)
        profile = _profile(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "request_human":
            route, reason = choose_human_route(
                tracker.get_slot("persona"),
                messages=conversation.messages,
                profile=profile,
                catalogue=services.engine.catalogue,
            )
        else:
            blocked = phone_blocked(messages=conversation.messages, profile=profile)
            if blocked:
                route, reason = "live_chat", f"asked for a call; no calls: {blocked}"
                dispatcher.utter_message(response="utter_no_call_alternative")
            elif intent == "request_phone_call":
                route, reason = "callback", "asked to be called"
                # They may only want our number: give it, then offer the callback.
                dispatcher.utter_message(response="utter_callback_intro")
            else:
                offered = tracker.get_slot("offer_phone_reason") or "offered a callback"
                route, reason = "callback", f"accepted the callback offer ({offered})"
        logger.info("escalation.route sender=%s route=%s reason=%s", tracker.sender_id, route, reason)
        events: list[EventType] = [
            SlotSet("callback_offer_pending", False),
            SlotSet("escalation_route", route),
            SlotSet("escalation_reason", reason),
        ]
        if route == "live_chat":
            events += await _hand_to_live_chat(dispatcher, tracker, services, reason)
        return events


class ActionAskCallbackNumber(Action):
    def name(self) -> str:
        return "action_ask_callback_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        known = _known_number(get_services(), tracker)
        if known is not None:
            dispatcher.utter_message(response="utter_ask_callback_number_known", known_number=known.display)
        else:
            dispatcher.utter_message(response="utter_ask_callback_number")
        return []


def _option_json(window: Window, label: str) -> dict[str, Any]:
    return {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "asap": window.asap,
        "label": label,
    }


def _option_from_json(data: Any) -> tuple[Window, str] | None:
    try:
        window = Window(
            dt.datetime.fromisoformat(data["start"]),
            dt.datetime.fromisoformat(data["end"]),
            bool(data["asap"]),
        )
        return window, str(data["label"])
    except (KeyError, TypeError, ValueError):
        return None


class ActionAskCallbackWindow(Action):
    """Offers the next callback windows inside business hours, in the customer's timezone."""

    def name(self) -> str:
        return "action_ask_callback_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        now = _now()
        tz = _customer_tz(services, tracker)
        language = tracker.get_slot("language")
        options = [
            (w, window_label(w, tz=tz, language=language, now=now))
            for w in callback_windows(services.policy, now)
        ]
        dispatcher.utter_message(
            response="utter_ask_callback_window",
            choices=[{"title": label, "payload": label} for _, label in options],
            timezone_name=str(tz),
        )
        return [SlotSet("callback_window_options", [_option_json(w, label) for w, label in options])]


def _invalid_answers(tracker: Tracker) -> int:
    value = tracker.get_slot(INVALID_ANSWERS_SLOT)
    return int(value) if isinstance(value, (int, float)) else 0


class ValidateCallbackForm(FormValidationAction):
    """Validates the callback answers; after ``attempts`` unusable answers to one question
    (``bank.yml`` ``service.callback_attempts``) it stops the form instead of asking again,
    and ``action_book_callback`` passes the customer to a person."""

    def name(self) -> str:
        return "validate_callback_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if _invalid_answers(tracker) >= get_services().policy.attempts:
            return []  # the form ends here (requested_slot None)
        return domain_slots

    def _refuse(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str
    ) -> dict[str, Any]:
        count = _invalid_answers(tracker) + 1
        if count < get_services().policy.attempts:
            dispatcher.utter_message(response=response)
        else:
            logger.info(
                "callback.not_understood sender=%s slot=%s answers=%d", tracker.sender_id, slot, count
            )
        return {slot: None, INVALID_ANSWERS_SLOT: count}

    async def validate_callback_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        services = get_services()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        known = _known_number(services, tracker)
        number = known if intent == "affirm" else None
        if number is None and isinstance(value, str):
            # Without a country code, a number is read as one of the customer's own country
            # (the number they text from or the one on their profile), else the bank's region.
            regions = [r for r in (known.region if known else None, services.policy.default_region) if r]
            number = parse_callback_number(value, regions=regions)
        if number is None:
            return self._refuse(dispatcher, tracker, "callback_number", "utter_callback_number_invalid")
        return {
            "callback_number": number.e164,
            "callback_number_display": number.display,
            INVALID_ANSWERS_SLOT: None,
        }

    async def validate_callback_window(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        services = get_services()
        now = _now()
        tz = _customer_tz(services, tracker)
        stored = [_option_from_json(o) for o in tracker.get_slot("callback_window_options") or []]
        options = [o for o in stored if o is not None]
        chosen = parse_window_choice(
            str(value or ""),
            options=[w for w, _ in options],
            labels=[label for _, label in options],
            policy=services.policy,
            tz=tz,
            now=now,
        )
        if chosen is None:
            return self._refuse(dispatcher, tracker, "callback_window", "utter_callback_window_invalid")
        label = next(
            (lbl for w, lbl in options if w == chosen),
            window_label(chosen, tz=tz, language=tracker.get_slot("language"), now=now),
        )
        return {
            "callback_window": f"{chosen.start.isoformat()}/{chosen.end.isoformat()}",
            "callback_window_label": label,
            INVALID_ANSWERS_SLOT: None,
        }

    async def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"callback_consent": True if value is True else None}


class ActionBookCallback(Action):
    """The form is complete: write the callback handoff and confirm with a reference.

    When the form ended because answers could not be used, nothing is booked: the
    customer gets the direct line and a person in the chat (a ``live_chat`` handoff).
    """

    def name(self) -> str:
        return "action_book_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        if _invalid_answers(tracker) >= services.policy.attempts:
            return await self._not_completed(dispatcher, tracker, services)
        start_text, _, end_text = str(tracker.get_slot("callback_window") or "").partition("/")
        try:
            start, end = dt.datetime.fromisoformat(start_text), dt.datetime.fromisoformat(end_text)
        except ValueError:
            logger.error(
                "callback.bad_window sender=%s window=%r",
                tracker.sender_id,
                tracker.get_slot("callback_window"),
            )
            return [ActiveLoop("callback_form"), SlotSet("callback_window", None)]
        request = request_from_conversation(
            "callback",
            reason=tracker.get_slot("escalation_reason") or "asked to be called",
            sender_id=tracker.sender_id,
            events=tracker.events,
            slots=tracker.slots,
            channel=_channel(tracker),
            callback_number=tracker.get_slot("callback_number"),
            window_start=start,
            window_end=end,
            timezone=str(_customer_tz(services, tracker)),
        )
        result = await asyncio.to_thread(services.writer.write, request)
        _tell_outcome(
            dispatcher,
            result,
            done_response="utter_callback_booked",
            callback_number_display=tracker.get_slot("callback_number_display"),
            callback_window_label=tracker.get_slot("callback_window_label"),
        )
        if result.saved and services.policy.hours.is_open(_now()):
            dispatcher.utter_message(response="utter_callback_direct_line")
        events: list[EventType] = [SlotSet(name, None) for name in CALLBACK_SLOTS]
        if result.saved:
            events.append(SlotSet("handoff_reference", result.reference))
        return events

    async def _not_completed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> list[EventType]:
        question = "number" if tracker.get_slot("callback_number") is None else "time"
        count = _invalid_answers(tracker)
        reason = f"wanted a callback; the {question} was not understood {count} times"
        logger.info("callback.not_completed sender=%s reason=%s", tracker.sender_id, reason)
        dispatcher.utter_message(response="utter_callback_not_completed")
        events: list[EventType] = [SlotSet(name, None) for name in CALLBACK_SLOTS]
        events.append(SlotSet("escalation_route", "live_chat"))
        return events + await _hand_to_live_chat(dispatcher, tracker, services, reason)


class ActionCancelCallback(Action):
    """The customer said no during the callback form: nothing is booked."""

    def name(self) -> str:
        return "action_cancel_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        logger.info(
            "callback.cancelled sender=%s step=%s", tracker.sender_id, tracker.get_slot("requested_slot")
        )
        dispatcher.utter_message(response="utter_callback_cancelled")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *(SlotSet(name, None) for name in CALLBACK_SLOTS),
        ]
