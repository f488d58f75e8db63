"""``action_validate_slot_mappings``: persona, language and phone-offer slots every turn."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot.assessment import SLOT_NAMES, PersonaEngine, conversation_from_events
from bot.escalation import offer_held_back
from bot.profile import Profile
from bot.services import get_services

logger = logging.getLogger(__name__)
PROFILE_SLOT = "customer_profile"


def engine() -> PersonaEngine:
    """The engine for the configured catalogue, built on first use (not at import)."""
    return get_services().engine


class ValidatePersonaSlots(ValidationAction):
    """Sets the persona slots from the conversation so far, the profile and the channel."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        conversation = conversation_from_events(tracker.events)
        if not conversation.messages:
            return events
        profile_data: Any = tracker.get_slot(PROFILE_SLOT)
        profile = Profile.from_mapping(profile_data if isinstance(profile_data, dict) else None)
        assessment = engine().assess(
            conversation.messages,
            profile=profile,
            channel=conversation.channel or tracker.get_latest_input_channel(),
            previous_persona=tracker.get_slot("persona"),
            failures=conversation.failures,
            held_back=offer_held_back(
                active_loop=tracker.active_loop_name,
                handoff_reference=tracker.get_slot("handoff_reference"),
                actions=conversation.actions,
            ),
        )
        slots = assessment.slots()
        logger.info(
            "persona.inferred sender=%s profile=%s persona=%s confidence=%.2f language=%s offer_phone=%s",
            tracker.sender_id,
            "yes" if profile != Profile() else "no",
            slots["persona"],
            slots["persona_confidence"],
            slots["language"],
            slots["offer_phone"],
        )
        # With Rasa's selective domain the domain is not sent; the slots are then the
        # ones this action owns (SLOT_NAMES, declared in domain.yml).
        domain_slots = domain.get("slots") or dict.fromkeys(SLOT_NAMES)
        return events + [
            SlotSet(name, slots[name])
            for name in SLOT_NAMES
            if name in domain_slots and tracker.get_slot(name) != slots[name]
        ]
