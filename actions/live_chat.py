"""The live-chat step shared by the handover and the callback form: write the handoff,
tell the customer the wait, and pause the assistant while a person has the chat."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from bot.handoff.live_chat import hand_to_live_chat
from bot.handoff.request import request_from_conversation
from bot.services import Services


async def start_live_chat(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, reason: str
) -> list[EventType]:
    """Hand the conversation to a person in the chat; the events that follow."""
    request = request_from_conversation(
        "live_chat",
        reason=reason,
        sender_id=tracker.sender_id,
        events=tracker.events,
        slots=tracker.slots,
        channel=common.channel(tracker),
    )
    outcome = await asyncio.to_thread(
        hand_to_live_chat,
        request,
        database=services.database,
        writer=services.writer,
        policy=services.policy,
        now=services.now(),
        tz=services.timezone(common.profile(tracker).timezone),
    )
    common.tell_outcome(dispatcher, outcome.result, done_response=outcome.response, **outcome.values)
    if not outcome.result.saved:
        return [SlotSet("handoff_route", None)]
    return [SlotSet("handoff_reference", outcome.result.reference), ConversationPaused()]
