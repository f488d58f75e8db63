"""Rasa natural language generator that renders every response for persona, language and channel.

Configured in ``endpoints.yml``::

    nlg:
      type: bot.rasa.nlg.PersonaNLG

It renders ``utter_*`` responses from rules and stories and responses sent by custom
actions from the wording catalogue (``data/wording/``, with the domain's responses as the
English defaults), using the ``persona`` and ``language`` slots, the ``route`` slot (the
phone line before answers), the latest message's frustration cue and the real channel
(``bot.core.channels.message_channel``). Responses the catalogue does not know fall back
to Rasa's templated rendering.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.core.bank import load_bank_info
from bot.core.channels import message_channel, output_format
from bot.core.clock import utc_now
from bot.core.redaction import redact
from bot.core.settings import PROJECT_ROOT, Settings
from bot.handoff.routing import ROUTE_SLOT, Route
from bot.handoff.service import load_service_policy
from bot.handoff.windows import closed_hours_text
from bot.persona.catalogue import load_catalogue
from bot.persona.cues.model import CUES_KEY, MessageCues
from bot.persona.profile import Profile
from bot.wording import RenderContext, Renderer, load_wording
from bot.wording.render import CUSTOMER_NAME, RECENT_TEXTS

logger = logging.getLogger(__name__)
DEFAULT_WORDING_DIR = PROJECT_ROOT / "data" / "wording"
# Conversations whose current turn the NLG remembers (least recently active forgotten first).
MAX_TURNS_REMEMBERED = 10_000


def _frustrated(tracker: DialogueStateTracker) -> bool:
    parse = tracker.latest_message.parse_data if tracker.latest_message else {}
    cues = parse.get(CUES_KEY) if isinstance(parse, dict) else None  # type: ignore[union-attr]
    return MessageCues.from_dict(cues).shows("frustration")


def _shared_card_data(tracker: DialogueStateTracker) -> bool:
    """The latest customer message held card data (removed before it is stored)."""
    text = tracker.latest_message.text if tracker.latest_message else None
    return bool(text) and bool(redact(str(text)).kinds)


def _turn(tracker: DialogueStateTracker) -> tuple[bool, list[str]]:
    """(no bot message since the latest user message, the texts of the latest
    ``RECENT_TEXTS`` bot messages, oldest first). Read from the end of the conversation:
    walking all of it for every answer grew with the conversation."""
    texts: list[str] = []
    first: bool | None = None
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            if first is None:
                first = False
            if event.text:
                texts.append(event.text)
                if len(texts) == RECENT_TEXTS:
                    break
        elif first is None and isinstance(event, UserUttered):
            first = True
    texts.reverse()
    return (True if first is None else first), texts


def _profile(slots: dict[str, Any]) -> Profile:
    profile = slots.get("customer_profile")
    return Profile.from_mapping(profile if isinstance(profile, dict) else None)


def _format(tracker: DialogueStateTracker, output_channel: str) -> str:
    latest = tracker.latest_message
    channel = message_channel(latest.metadata if latest else None, tracker.get_latest_input_channel())
    return output_format(channel or output_channel, tracker.sender_id)


CHOICES_KWARG = "choices"
HOURS = "hours"
# Responses whose {hours} are the hours we call back in ("We can call {hours}"), not whether
# a line is open now: at night they keep the hours (the form offers the next times itself).
CALLBACK_HOURS_RESPONSES = frozenset({"utter_ask_callback_window", "utter_callback_window_invalid"})
GREETING, GREETING_AGAIN = "utter_greet", "utter_greet_back"
# Set by the website widget's channel when its window already showed the welcome.
WELCOMED_KEY = "welcomed"


def _welcomed(tracker: DialogueStateTracker, previous: list[str]) -> bool:
    """The customer's window already showed the welcome and nothing was said since."""
    latest = tracker.latest_message
    metadata = latest.metadata if latest is not None else None
    return not previous and isinstance(metadata, dict) and metadata.get(WELCOMED_KEY) is True


def _choices(value: Any) -> list[dict[str, str]]:
    """Run-time buttons from a custom action: ``utter_message(response=…, choices=[…])``.

    (Rasa appends an action's ``buttons`` after rendering, unformatted for the channel;
    ``choices`` go through the renderer instead.)
    """
    if not isinstance(value, list):
        return []
    return [
        {"title": str(c["title"]), "payload": str(c["payload"])}
        for c in value
        if isinstance(c, dict) and c.get("title") and c.get("payload")
    ]


class PersonaNLG(TemplatedNaturalLanguageGenerator):
    """Reads: slots, the latest message's cues and channel, the catalogues. Writes: messages."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain.responses if domain is not None else {})
        settings = Settings.from_env()
        self.personas = load_catalogue(settings.personas_file, compile_patterns=False)
        self.bank = load_bank_info(settings.bank_config)
        self.policy = load_service_policy(settings.bank_config)
        self.clock = clock
        configured = endpoint_config.kwargs.get("wording_dir") if endpoint_config else None
        self.wording_dir = Path(configured or DEFAULT_WORDING_DIR)
        self.default_language = self.personas.settings.default_language
        # sender -> the customer message whose turn has had its first message rendered: a
        # custom action's messages are rendered before any of them reaches the tracker, so
        # the tracker alone cannot tell the second message of a turn from the first.
        self._turns_started: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._renderer: Renderer | None = None
        self._rendered_responses: Any = None
        self._build_renderer()  # fail at start-up on a malformed wording file

    def _build_renderer(self) -> Renderer:
        wording = load_wording(self.wording_dir, personas=self.personas, domain_responses=self.responses)
        self._renderer = Renderer(wording=wording, bank=self.bank, personas=self.personas)
        self._rendered_responses = self.responses
        return self._renderer

    @property
    def renderer(self) -> Renderer:
        """The renderer for the current domain's responses.

        Rasa creates the NLG before it loads the model and sets ``responses`` afterwards
        (and again when a new model is loaded), so the English defaults from the domain
        are merged in whenever the responses change.
        """
        if self._renderer is None or self._rendered_responses is not self.responses:
            return self._build_renderer()
        return self._renderer

    def _first_of_turn(self, tracker: DialogueStateTracker, no_reply_yet: bool) -> bool:
        """Whether this is the first message answering the latest customer message (one
        acknowledgement, one phone line a turn)."""
        latest = tracker.latest_message
        turn = (latest.timestamp, latest.text) if latest is not None else (0.0, None)
        seen = self._turns_started.get(tracker.sender_id)
        self._turns_started[tracker.sender_id] = turn
        self._turns_started.move_to_end(tracker.sender_id)
        while len(self._turns_started) > MAX_TURNS_REMEMBERED:
            self._turns_started.popitem(last=False)
        return no_reply_yet and seen != turn

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        no_reply_yet, previous = _turn(tracker)
        if utter_action == GREETING and _welcomed(tracker, previous):
            utter_action = GREETING_AGAIN  # not the same welcome twice in a row
        first = self._first_of_turn(tracker, no_reply_yet)
        slots = tracker.current_slot_values()
        profile = _profile(slots)
        language = slots.get("language") or self.default_language
        variables: dict[str, Any] = {**slots, **kwargs, CUSTOMER_NAME: profile.name}
        closed = None
        if utter_action not in CALLBACK_HOURS_RESPONSES:
            closed = closed_hours_text(
                self.policy,
                now=self.clock(),
                tz=self.policy.customer_timezone(profile.timezone),
                language=language,
            )
        if closed:  # never point to a line that is closed without saying so
            variables[HOURS] = closed
        route = Route.from_slot(slots.get(ROUTE_SLOT))
        ctx = RenderContext(
            persona=slots.get("persona"),
            language=language,
            fmt=_format(tracker, output_channel),
            frustrated=_frustrated(tracker),
            first_of_turn=first,
            shared_card_data=_shared_card_data(tracker),
            phone_line=route is not None and route.phone_line,
            # Cannot use a voice call: the bank's lines go in their text-relay form.
            cannot_phone=route is not None and route.phone.cannot_phone,
            previous_texts=previous,
            variables=variables,
            choices=_choices(kwargs.get(CHOICES_KWARG)),
        )
        message = self.renderer.render(utter_action, ctx)
        if message is not None:
            # Kept with the bot message (its metadata): the widget shows its own strings
            # in the conversation's language.
            return {**message, "language": ctx.language}
        variables = {**self.bank.template_vars(ctx.language, relay=ctx.cannot_phone), **kwargs}
        if closed:
            variables[HOURS] = closed
        fallback: dict[str, Any] | None = await super().generate(
            utter_action, tracker, output_channel, **variables
        )
        return fallback
