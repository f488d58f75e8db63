"""The callback form: ask for the number and a time, validate them, book the callback.

``callback_form`` asks for ``callback_number``, ``callback_window`` and
``callback_consent``; ``validate_callback_form`` reads the answers (``bot.core.phones``,
``bot.handoff.windows``); ``action_book_callback`` writes the handoff. After
``service.callback_attempts`` unusable answers to one question the form stops and the
customer is passed to a person in the chat instead; so are customers who ask for a person
in the middle of the form, or say they do not know their number. A banking question asked
instead of an answer is answered, and the form's question comes again (it is not counted as
an unusable answer).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.live_chat import start_live_chat
from bot.core.intents import answer_response, banking_intents
from bot.core.phones import customer_region, example_numbers, parse_callback_number, region_for_timezone
from bot.handoff.asks import says_dont_know
from bot.handoff.request import request_from_conversation
from bot.handoff.routing import FormExit, Route, form_gave_up, form_left
from bot.handoff.windows import (
    Window,
    WindowOption,
    callback_windows,
    local_time_name,
    parse_window_choice,
    window_label,
)
from bot.services import Services

logger = logging.getLogger(__name__)
# How sure the classifier must be that a message the form cannot use is a banking question
# before it is answered as one ("as soon as you can" is a time, not "transfer timing").
QUESTION_CONFIDENCE = 0.5
# Said instead of an answer without being one ("thanks" when asked for the number), from
# the classifier's fallback threshold on ("thanks" alone often scores under 0.5), in a
# message without digits (a number the form cannot use is still refused, with why).
PLEASANTRIES = frozenset({"thank", "greet"})
PLEASANTRY_CONFIDENCE = 0.3


class ActionAskCallbackNumber(common.UsesServices, Action):
    """Asks for the number, offering the one the bank knows when there is one."""

    def name(self) -> str:
        return "action_ask_callback_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        known = common.known_callback_number(self.services, tracker)
        if known is not None:
            dispatcher.utter_message(
                response="utter_ask_callback_number_known",
                known_number=common.shown_number(self.services, tracker, known),
            )
        else:
            dispatcher.utter_message(
                response="utter_ask_callback_number", **number_examples(self.services, tracker)
            )
        return []


def number_examples(services: Services, tracker: Tracker) -> dict[str, str]:
    """Example numbers of the customer's country for the number question and its refusal."""
    known = common.known_callback_number(services, tracker)
    region = customer_region(known, common.profile(tracker).timezone, services.policy.default_region)
    national, international = example_numbers(region)
    return {"example_national": national, "example_international": international}


class ActionAskCallbackWindow(common.UsesServices, Action):
    """Offers the next callback windows inside business hours, in the customer's timezone."""

    def name(self) -> str:
        return "action_ask_callback_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = self.services
        now = services.now()
        tz = services.timezone(common.profile(tracker).timezone)
        language = tracker.get_slot("language")
        options = [
            WindowOption(w, window_label(w, tz=tz, language=language, now=now))
            for w in callback_windows(services.policy, now)
        ]
        dispatcher.utter_message(
            response="utter_ask_callback_window",
            choices=[{"title": o.label, "payload": o.label} for o in options],
            local_time=local_time_name(tz, language),
        )
        return [SlotSet("callback_window_options", [o.to_json() for o in options])]


class ValidateCallbackForm(common.UsesServices, FormValidationAction):
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
        if (
            tracker.get_slot(common.FORM_EXIT_SLOT)
            or common.invalid_answers(tracker) >= self.services.policy.attempts
        ):
            return []  # the form ends here (requested_slot None)
        return domain_slots

    @staticmethod
    def _left(tracker: Tracker, slot: str, value: Any) -> dict[str, Any] | None:
        """The customer leaves the form: asked for a person, or does not know their number."""
        why = None
        if common.intent(tracker) == "request_human":
            why = FormExit.person
        elif slot == "callback_number" and isinstance(value, str) and says_dont_know(value):
            why = FormExit.no_number
        if why is None:
            return None
        logger.info("callback.form_left sender=%s slot=%s why=%s", tracker.sender_id, slot, why.value)
        return {slot: None, common.FORM_EXIT_SLOT: why.value}

    @staticmethod
    def _question(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> dict[str, Any] | None:
        """A banking question asked instead of an answer ("what's my balance?" when asked for
        the number): answered, and the form asks its question again; None when the message
        is no banking question."""
        name = common.intent(tracker)
        if name not in banking_intents() or common.intent_confidence(tracker) < QUESTION_CONFIDENCE:
            return None
        logger.info("callback.question_answered sender=%s slot=%s intent=%s", tracker.sender_id, slot, name)
        dispatcher.utter_message(response=answer_response(name))
        return {slot: None}

    @staticmethod
    def _pleasantry(tracker: Tracker, slot: str) -> dict[str, Any] | None:
        """A thanks or a hello instead of an answer: no answer to refuse, the form asks its
        question again (it is not counted as a wrong answer); None otherwise."""
        name = common.intent(tracker)
        text = tracker.latest_message.get("text") or ""
        if (
            name not in PLEASANTRIES
            or common.intent_confidence(tracker) < PLEASANTRY_CONFIDENCE
            or any(c.isdigit() for c in text)
        ):
            return None
        logger.info("callback.pleasantry sender=%s slot=%s intent=%s", tracker.sender_id, slot, name)
        return {slot: None}

    def _refuse(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        response: str,
        **values: Any,
    ) -> dict[str, Any]:
        count = common.invalid_answers(tracker) + 1
        if count < self.services.policy.attempts:
            dispatcher.utter_message(response=response, **values)
        else:
            logger.info(
                "callback.not_understood sender=%s slot=%s answers=%d", tracker.sender_id, slot, count
            )
        return {slot: None, common.INVALID_ANSWERS_SLOT: count}

    async def validate_callback_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        left = self._left(tracker, "callback_number", value)
        if left is not None:
            return left
        services = self.services
        known = common.known_callback_number(services, tracker)
        timezone = common.profile(tracker).timezone
        number = known if common.intent(tracker) == "affirm" else None
        if number is None and isinstance(value, str):
            number = parse_callback_number(
                value,
                known=known,
                default_region=services.policy.default_region,
                home_region=region_for_timezone(timezone),
                language_region=services.policy.language_regions.get(tracker.get_slot("language") or ""),
            )
        if number is None:
            return (
                self._question(dispatcher, tracker, "callback_number")
                or self._pleasantry(tracker, "callback_number")
                or self._refuse(
                    dispatcher,
                    tracker,
                    "callback_number",
                    "utter_callback_number_invalid",
                    **number_examples(services, tracker),
                )
            )
        return {
            "callback_number": number.e164,
            "callback_number_display": number.display,
            common.INVALID_ANSWERS_SLOT: None,
        }

    async def validate_callback_window(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        left = self._left(tracker, "callback_window", value)
        if left is not None:
            return left
        services = self.services
        now = services.now()
        tz = services.timezone(common.profile(tracker).timezone)
        stored = [WindowOption.from_json(o) for o in tracker.get_slot("callback_window_options") or []]
        options = [o for o in stored if o is not None]
        chosen = parse_window_choice(
            str(value or ""),
            options=[o.window for o in options],
            labels=[o.label for o in options],
            policy=services.policy,
            tz=tz,
            now=now,
        )
        if chosen is None:
            return (
                self._question(dispatcher, tracker, "callback_window")
                or self._pleasantry(tracker, "callback_window")
                or self._refuse(dispatcher, tracker, "callback_window", "utter_callback_window_invalid")
            )
        label = next(
            (o.label for o in options if o.window == chosen),
            window_label(chosen, tz=tz, language=tracker.get_slot("language"), now=now),
        )
        return {
            "callback_window": chosen.to_interval(),
            "callback_window_label": label,
            common.INVALID_ANSWERS_SLOT: None,
        }

    async def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"callback_consent": True if value is True else None}


class ActionBookCallback(common.UsesServices, Action):
    """The form is complete: write the callback handoff and confirm with a reference.

    When the form ended because answers could not be used, nothing is booked: the
    customer gets a person in the chat (a ``live_chat`` handoff).
    """

    def name(self) -> str:
        return "action_book_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = self.services
        left = tracker.get_slot(common.FORM_EXIT_SLOT)
        if left in {why.value for why in FormExit}:
            why = FormExit(left)
            # Asked for a person: the live-chat message says it all.
            response = None if why is FormExit.person else "utter_callback_not_completed"
            return await self._not_completed(dispatcher, tracker, form_left(why), response)
        if common.invalid_answers(tracker) >= services.policy.attempts:
            question = "number" if tracker.get_slot("callback_number") is None else "time"
            return await self._not_completed(
                dispatcher,
                tracker,
                form_gave_up(question, common.invalid_answers(tracker)),
                "utter_callback_not_completed",
            )
        window = Window.from_interval(tracker.get_slot("callback_window"))
        if window is None:
            logger.error(
                "callback.bad_window sender=%s window=%r",
                tracker.sender_id,
                tracker.get_slot("callback_window"),
            )
            return [ActiveLoop(common.CALLBACK_FORM), SlotSet("callback_window", None)]
        request = request_from_conversation(
            "callback",
            reason=tracker.get_slot("handoff_reason") or "asked to be called",
            sender_id=tracker.sender_id,
            events=tracker.events,
            slots=tracker.slots,
            channel=common.channel(tracker),
            callback_number=tracker.get_slot("callback_number"),
            window_start=window.start,
            window_end=window.end,
            timezone=str(services.timezone(common.profile(tracker).timezone)),
        )
        result = await asyncio.to_thread(services.writer.write, request)
        common.tell_outcome(
            dispatcher,
            result,
            done_response="utter_callback_booked",
            callback_number_display=tracker.get_slot("callback_number_display"),
            callback_window_label=tracker.get_slot("callback_window_label"),
        )
        if result.saved and services.policy.hours.is_open(services.now()):
            dispatcher.utter_message(response="utter_callback_direct_line")
        events: list[EventType] = [SlotSet(name, None) for name in common.CALLBACK_SLOTS]
        if result.saved:
            events.append(SlotSet("handoff_reference", result.reference))
        return events

    async def _not_completed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, decided: Route, response: str | None
    ) -> list[EventType]:
        logger.info("callback.not_completed sender=%s reason=%s", tracker.sender_id, decided.reason)
        if response:
            dispatcher.utter_message(response=response)
        events: list[EventType] = [SlotSet(name, None) for name in common.CALLBACK_SLOTS]
        events.append(SlotSet("handoff_route", decided.contact))
        return events + await start_live_chat(dispatcher, tracker, self.services, decided.reason)


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
            *(SlotSet(name, None) for name in common.CALLBACK_SLOTS),
        ]
