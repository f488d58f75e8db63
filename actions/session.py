"""``action_session_start``: a new session, with the customer's profile when they are known."""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import METADATA_SLOT, NOT_CARRIED, PROFILE_SLOT, UsesServices
from bot.core.channels import resolve_identity
from bot.store.repository import find_customer

logger = logging.getLogger(__name__)


class ActionSessionStart(UsesServices, Action):
    """Starts a session, carries the customer's slots over (not the ones of one
    conversation) and loads the customer's profile from the database when known."""

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
        services = self.services
        identity = resolve_identity(
            tracker.sender_id,
            metadata if isinstance(metadata, dict) else None,
            region=services.policy.default_region,
        )
        if identity is not None:
            try:
                view = await asyncio.to_thread(find_customer, services.database, *identity)
            except SQLAlchemyError:  # a profile is a nicety: the conversation goes on without it
                logger.warning("profile.lookup_failed sender=%s", tracker.sender_id, exc_info=True)
                view = None
            if view is not None:
                logger.info("profile.loaded sender=%s customer=%s", tracker.sender_id, view.customer_ref)
                events += [
                    SlotSet(PROFILE_SLOT, view.profile),
                    SlotSet("customer_ref", view.customer_ref),
                    SlotSet("customer_phone", view.phone),
                ]
            else:
                logger.info("profile.unknown sender=%s via=%s", tracker.sender_id, identity[0].value)
        events.append(ActionExecuted("action_listen"))
        return events
