"""``action_validate_slot_mappings``: after every customer message, the persona, language,
phone-offer and route slots."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions import common
from bot.handoff.routing import ROUTE_SLOT, route
from bot.persona.assessment import SLOT_NAMES
from bot.persona.phone_offer import offer_held_back
from bot.persona.profile import Profile

logger = logging.getLogger(__name__)


class ValidatePersonaSlots(common.UsesServices, ValidationAction):
    """Sets the persona slots from the conversation so far, the profile and the channel,
    and the route: what happens after this message (``bot.handoff.routing``)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        convo = common.conversation(tracker)
        if not convo.messages:
            return events
        profile = common.profile(tracker)
        engine = self.services.engine
        assessment = engine.assess(
            convo.messages,
            profile=profile,
            channel=common.channel(tracker, convo),
            previous_persona=tracker.get_slot("persona"),
            failures=convo.failures,
            held_back=offer_held_back(
                arranging_callback=common.arranging_callback(tracker),
                handoff_reference=tracker.get_slot("handoff_reference"),
                declined_callback=common.declined_callback(convo),
            ),
        )
        decided = route(assessment, common.situation(tracker, convo), catalogue=engine.catalogue)
        slots = {**assessment.slots(), ROUTE_SLOT: decided.to_slot()}
        logger.info(
            "persona.inferred sender=%s profile=%s persona=%s confidence=%.2f language=%s "
            "offer_phone=%s next=%s",
            tracker.sender_id,
            "yes" if profile != Profile() else "no",
            slots["persona"],
            slots["persona_confidence"],
            slots["language"],
            slots["offer_phone"],
            decided.next.value,
        )
        # With Rasa's selective domain the domain is not sent; the slots are then the
        # ones this action owns (declared in domain.yml).
        owned = (*SLOT_NAMES, ROUTE_SLOT)
        domain_slots = domain.get("slots") or dict.fromkeys(owned)
        return events + [
            SlotSet(name, slots[name])
            for name in owned
            if name in domain_slots and tracker.get_slot(name) != slots[name]
        ]
