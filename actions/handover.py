"""Reaching a person: the callback offer after an answer or a failed turn, the answer to
it, and the handover itself — each applies the route of the latest message
(``bot.handoff.routing``, stored in the ``route`` slot by ``bot.rasa.persona_policy``)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.live_chat import start_live_chat
from bot.handoff.routing import Next, Route, unrouted_handover
from bot.services import Services

logger = logging.getLogger(__name__)


async def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, decided: Route
) -> list[EventType]:
    """Apply a handover route: say its lead response, set ``handoff_route`` and
    ``handoff_reason``; a live chat is written here and the assistant pauses, a callback is
    booked by the callback form (which follows by rule, or by ``FollowupAction`` when the
    handover comes after an answer)."""
    logger.info(
        "handoff.route sender=%s next=%s reason=%s", tracker.sender_id, decided.next.value, decided.reason
    )
    if decided.lead_response:
        dispatcher.utter_message(response=decided.lead_response)
    events: list[EventType] = [
        SlotSet("callback_offer_pending", False),
        SlotSet("handoff_route", decided.contact),
        SlotSet("handoff_reason", decided.reason),
    ]
    if decided.contact == "callback":
        # A number given with the request ("call me on 07911 123456", or as the answer to
        # the offer) is not asked for again; the form validates it like an answer.
        number = common.number_in_message(services, tracker)
        if number is not None:
            events += [
                SlotSet("callback_number", number.e164),
                SlotSet("callback_number_display", number.display),
            ]
    if decided.contact == "live_chat":
        events += await start_live_chat(dispatcher, tracker, services, decided.reason)
    return events


class _OfferCallback(common.UsesServices, Action, ABC):
    """Says ``lead_response`` (if any), then offers a callback when the route says so; else
    offers more help (not inside a form, whose question comes next).

    When the message asked for a call or a person beside its question (the question has
    just been answered), or in words the classifier could not place, the handover follows
    instead of the offer.
    """

    lead_response: str | None = None

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        decided = common.stored_route(tracker)
        if decided is not None and decided.hands_over:  # asked with a question, or in words only
            events = await hand_over(dispatcher, tracker, self.services, decided)
            if decided.contact == "callback":
                events.append(FollowupAction(common.CALLBACK_FORM))
            return events
        if self.lead_response:
            dispatcher.utter_message(response=self.lead_response)
        if decided is not None and decided.next is Next.offer_callback:
            logger.info("callback.offered sender=%s reason=%s", tracker.sender_id, decided.reason)
            dispatcher.utter_message(response="utter_offer_callback")
            return [SlotSet("callback_offer_pending", True), SlotSet("callback_offered", True)]
        if not self.lead_response and not tracker.active_loop_name:
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
    """No to the callback offer: nothing is arranged (and none is offered again)."""

    def name(self) -> str:
        return "action_decline_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        logger.info("callback.declined sender=%s", tracker.sender_id)
        return [SlotSet("callback_offer_pending", False)]


class ActionHandOver(common.UsesServices, Action):
    """The customer wants a person (or accepted the callback offer): apply the route.

    Sets ``handoff_route``: ``callback`` (the callback form follows, by rule) or
    ``live_chat`` (the handoff is written here and the assistant pauses).
    """

    def name(self) -> str:
        return "action_hand_over"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        decided = common.stored_route(tracker)
        if decided is None or not decided.hands_over:
            logger.warning(
                "handoff.unrouted sender=%s next=%s", tracker.sender_id, decided.next if decided else None
            )
            decided = unrouted_handover(decided.phone if decided else None)
        return await hand_over(dispatcher, tracker, self.services, decided)
