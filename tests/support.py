"""Builders the tests share: Rasa events and rasa-sdk trackers as Rasa sends them, running
an action, a fixed clock. Fixtures live in ``conftest.py``; test modules import builders
from here, never from each other."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.handoff.asks import ALSO_REQUESTED_KEY, find_side_clauses
from bot.persona.assessment import PersonaEngine
from bot.persona.cues import CUES_KEY, CueExtractor
from bot.rasa.persona_policy import PersonaPolicy
from bot.store.db import Database
from bot.store.models import Handoff
from devtools.stack import Stack

CUSTOMER = "customer-1"
# A Monday morning inside the bank's business hours (Europe/London).
MONDAY_MORNING = dt.datetime(2026, 11, 23, 10, 20, tzinfo=dt.timezone.utc)
EVENT_TIMESTAMP = 1795428000.0  # 2026-11-23, in Rasa's epoch seconds


# What the actions pass when they utter their responses (see actions/).
RUNTIME_VARIABLES = {
    "known_number": "+44 7911 123456",
    "local_time": "UK time",
    "callback_number_display": "+44 7911 123456",
    "callback_window_label": "Today 14:00–16:00",
    "reference": "CB-7KM3QZ",
    "wait_minutes": 8,
    "opens_at": "Tomorrow 08:00",
    "example_national": "07400 123456",
    "example_international": "+44 7400 123456",
}


class FixedClock:
    """A clock for ``Services(clock=…)`` that stands still until moved."""

    def __init__(self, at: dt.datetime = MONDAY_MORNING) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


def user_event(
    extractor: CueExtractor | None,
    text: str,
    intent: str = "card_arrival",
    *,
    channel: str = "rest",
    timestamp: float = EVENT_TIMESTAMP,
    **metadata: Any,
) -> dict[str, Any]:
    """A ``user`` event with the parse data the NLU pipeline stores (the cues included)."""
    parse: dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "entities": []}
    if extractor is not None:
        cues = extractor.extract(text)
        parse[CUES_KEY] = cues.to_dict()
        found = find_side_clauses(text, cues.evidence)  # as bot.rasa.asks does
        if found is not None and found.request is not None:
            parse[ALSO_REQUESTED_KEY] = found.to_dict()
    return {
        "event": "user",
        "text": text,
        "timestamp": timestamp,
        "input_channel": channel,
        "metadata": metadata,
        "parse_data": parse,
    }


def bot_event(text: str, *, timestamp: float = EVENT_TIMESTAMP + 1, **data: Any) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": timestamp, "data": data}


def make_tracker(
    events: list[dict[str, Any]],
    slots: Mapping[str, Any] | None = None,
    *,
    sender: str = CUSTOMER,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker as the action server receives it; the latest message is the last user event."""
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id=sender,
        slots=dict(slots or {}),
        latest_message={
            **latest.get("parse_data", {}),
            "text": latest.get("text"),
            "metadata": latest.get("metadata"),
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def with_slots(tracker: Tracker, slots: Mapping[str, Any]) -> Tracker:
    """The same tracker with ``slots`` set (as Rasa applies an action's ``SlotSet`` events)."""
    return Tracker(
        sender_id=tracker.sender_id,
        slots={**tracker.slots, **slots},
        latest_message=tracker.latest_message,
        events=tracker.events,
        paused=tracker.is_paused(),
        followup_action=tracker.followup_action,
        active_loop=tracker.active_loop,
        latest_action_name=tracker.latest_action_name,
    )


async def run_action(
    action: Any, tracker: Tracker, domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(what the dispatcher sent, the events returned)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher.messages, events


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def persona_policy(engine: PersonaEngine, storage: Path) -> PersonaPolicy:
    """The persona policy as Rasa creates it, with ``engine`` (no catalogue read again)."""
    context = ExecutionContext(GraphSchema({}), model_id="test")
    return PersonaPolicy(
        PersonaPolicy.get_default_config(),
        LocalModelStorage(storage),
        Resource("persona_policy"),
        context,
        engine=engine,
    )


def rasa_tracker(tracker: Tracker, domain: Domain) -> DialogueStateTracker:
    """Rasa's tracker for a rasa-sdk ``Tracker`` built by ``make_tracker``: its events, then
    its slots and its form as set since the latest message."""
    events = [e for e in (Event.from_parameters(dict(d)) for d in tracker.events) if e is not None]
    rasa = DialogueStateTracker.from_events(tracker.sender_id, events, slots=domain.slots)
    for name, value in tracker.slots.items():
        rasa.update(SlotSet(name, value))
    if tracker.active_loop_name:
        rasa.update(ActiveLoop(tracker.active_loop_name))
    return rasa


def assessed(tracker: Tracker, policy: PersonaPolicy, domain: Domain) -> Tracker:
    """The tracker after the persona policy's first prediction on its latest message, as Rasa
    applies it before the turn's first action (persona, language and route slots)."""
    prediction = policy.predict_action_probabilities(rasa_tracker(tracker, domain), domain)
    return with_slots(tracker, {e.key: e.value for e in prediction.events if isinstance(e, SlotSet)})


def sent_responses(stack: Stack, sender: str) -> list[str]:
    """The responses the assistant sent to ``sender``, in order (from the tracker's bot events)."""
    events = stack.tracker(sender)["events"]
    return [(e.get("metadata") or {}).get("utter_action", "") for e in events if e["event"] == "bot"]


def handoffs(stack: Stack, sender: str) -> list[Handoff]:
    """The handoffs the stack's database holds for ``sender``."""
    return handoffs_in(stack.env["DATABASE_URL"], sender)


def handoffs_in(database_url: str, sender: str) -> list[Handoff]:
    """The handoffs the database at ``database_url`` holds for ``sender``."""
    db = Database(database_url)
    try:
        with db.session() as s:
            return list(s.execute(select(Handoff).where(Handoff.sender_id == sender)).scalars())
    finally:
        db.dispose()


def http_call(
    url: str,
    body: bytes | None = None,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, bytes]:
    """(status, body) of one HTTP request; error statuses are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def files_holding(root: Path, pattern: re.Pattern[str]) -> list[str]:
    """Files under ``root`` whose content matches ``pattern`` (a scan for leaked data)."""
    return [
        str(p)
        for p in root.rglob("*")
        if p.is_file() and pattern.search(p.read_bytes().decode("utf-8", "replace"))
    ]


def always_open_bank_config(directory: Path) -> Path:
    """``bank.yml`` with live chat and callbacks open every day, all day: conversation tests
    that expect a person in the chat must not depend on the hour CI runs at. (Closed hours
    are tested with a fixed clock in the unit tests.)"""
    import yaml

    from bot.core.settings import DEFAULT_BANK_CONFIG

    data = yaml.safe_load(DEFAULT_BANK_CONFIG.read_text(encoding="utf-8"))
    data["service"]["hours"] = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-23:59")
    path = directory / "bank_always_open.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
