"""Agent assist: replies staff can insert into a live chat, edit and send.

Reads: the wording catalogue through a ``Renderer`` (wording, the bank's facts, personas),
the conversation's persona, language and channel (output format), the intent of the
customer's latest question, the staff member's and the customer's names.
Writes: ``Suggestion``s (a title for staff, a text for the customer), fully filled in.

Two sources, both worded for the persona's tone and in the customer's language:

* the assistant's answer to the customer's latest question: the ``utter_<intent>``
  response of its intent (``latest_topic`` picks it from the conversation's intents);
* staff phrases (``data/wording/<lang>/staff.yml``): a greeting as the named member of
  staff, an apology for the wait, a line for checking the account, a hold line and a
  closing line.

Suggestions carry no buttons and do not talk about them (what staff send is plain text);
a suggestion with a placeholder nothing fills (such as ``{reference}``) is left out rather
than shown with a blank.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.bank import load_bank_info
from bot.core.channels import DEFAULT_FORMAT
from bot.core.settings import PROJECT_ROOT, Settings
from bot.persona.catalogue import load_catalogue
from bot.wording import RenderContext, Renderer, load_wording
from bot.wording.formatting import format_message, without_button_wording
from bot.wording.render import CUSTOMER_NAME

logger = logging.getLogger(__name__)

DEFAULT_WORDING_DIR = PROJECT_ROOT / "data" / "wording"
DEFAULT_DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
AGENT_NAME = "agent_name"
ANSWER, STAFF = "answer", "staff"
# Staff phrases in the order the console lists them, with their titles (for staff).
STAFF_PHRASES: tuple[tuple[str, str], ...] = (
    ("staff_greeting", "Greeting"),
    ("staff_wait_apology", "Sorry for the wait"),
    ("staff_checking_account", "Checking the account"),
    ("staff_hold", "Please hold"),
    ("staff_closing", "Closing"),
)
# Intents that are conversation rather than a topic: their responses are no reply for staff.
CONVERSATIONAL_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "thank",
        "bot_challenge",
        "out_of_scope",
        "request_human",
        "request_phone_call",
        "nlu_fallback",
    }
)
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Suggestion:
    """A reply staff may insert, edit and send.

    Attributes:
        title: what it is, for staff ("Greeting", "Answer: card arrival").
        text: the reply, in the customer's language, formatted for their channel.
        source: ``"answer"`` (the assistant's answer to the topic) or ``"staff"``.
        response: the wording catalogue's response it was rendered from.
    """

    title: str
    text: str
    source: str
    response: str


def topic_response(intent: str | None) -> str | None:
    """The response that answers ``intent`` (``utter_<intent>``), None for conversation."""
    if not intent or intent in CONVERSATIONAL_INTENTS:
        return None
    return f"utter_{intent}"


def latest_topic(intents: Iterable[str | None], *, renderer: Renderer) -> str | None:
    """The latest of the customer's ``intents`` (oldest first, such as
    ``Conversation.intents``) that is a question the assistant has an answer for: greetings,
    thanks, yes/no and the like are skipped, and so are intents without ``utter_<intent>``
    in the wording catalogue.
    """
    known = renderer.wording.responses()
    latest: str | None = None
    for intent in intents:
        response = topic_response(intent)
        if response is not None and response in known:
            latest = intent
    return latest


def _title(intent: str) -> str:
    return "Answer: " + intent.replace("_", " ").strip(" ?").lower()


def _render(
    renderer: Renderer,
    response: str,
    *,
    persona: str | None,
    language: str | None,
    fmt: str,
    variables: Mapping[str, Any],
) -> str | None:
    """``response`` as plain text for the channel: no buttons, no talk of them."""
    # Rendered as written ("rest"), then formatted for the channel without its buttons.
    ctx = RenderContext(persona=persona, language=language, fmt=DEFAULT_FORMAT, variables=variables)
    message = renderer.render(response, ctx)
    if message is None:
        return None
    worded_in = str(message["metadata"]["wording"]["language"])
    text = without_button_wording(str(message.get("text") or ""), worded_in)
    text = str(format_message({"text": text}, fmt=fmt, language=worded_in)["text"]).strip()
    unfilled = sorted(set(_PLACEHOLDER.findall(text)))
    if unfilled or not text:
        logger.info("assist.left_out response=%s unfilled=%s", response, ",".join(unfilled))
        return None
    return text


def suggestions(
    *,
    renderer: Renderer,
    persona: str | None,
    language: str | None,
    agent_name: str,
    fmt: str = DEFAULT_FORMAT,
    topic_intent: str | None = None,
    customer_name: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[Suggestion]:
    """Replies for staff in a live chat, in the persona's tone and the customer's language.

    Args:
        renderer: the wording catalogue with the bank's facts (``load_renderer``).
        persona: the conversation's persona id (None or unknown: the neutral wording).
        language: the customer's language (ISO 639-1; else the default language).
        agent_name: how the member of staff introduces themselves.
        fmt: the customer's channel as an output format (``bot.core.channels.output_format``).
        topic_intent: the intent of the customer's latest question (``latest_topic``);
            its answer comes after the greeting and the apology.
        customer_name: how to address the customer, when known.
        values: more values for placeholders (for example ``{"hours": …}``).

    Raises:
        ValueError: ``agent_name`` is empty.
    """
    name = agent_name.strip()
    if not name:
        raise ValueError(f"agent_name must name the member of staff, got {agent_name!r}")
    variables = {**(values or {}), AGENT_NAME: name, CUSTOMER_NAME: customer_name or None}
    out: list[Suggestion] = []

    def add(response: str, title: str, source: str) -> None:
        text = _render(renderer, response, persona=persona, language=language, fmt=fmt, variables=variables)
        if text is not None:
            out.append(Suggestion(title=title, text=text, source=source, response=response))

    for response, title in STAFF_PHRASES[:2]:
        add(response, title, STAFF)
    answer = topic_response(topic_intent)
    if answer is not None and topic_intent is not None:
        add(answer, _title(topic_intent), ANSWER)
    for response, title in STAFF_PHRASES[2:]:
        add(response, title, STAFF)
    return out


def load_renderer(
    settings: Settings | None = None,
    *,
    wording_dir: Path = DEFAULT_WORDING_DIR,
    domain_file: Path = DEFAULT_DOMAIN_FILE,
) -> Renderer:
    """The renderer the assistant uses: the wording catalogue with the domain's responses
    as English defaults, the bank's facts and the persona catalogue. Build it once (at the
    web app's start), not per request.

    Raises:
        CatalogueError, BankConfigError, WordingError, OSError: a configuration file is
            missing or malformed.
    """
    settings = settings or Settings.from_env()
    personas = load_catalogue(settings.personas_file, compile_patterns=False)
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    wording = load_wording(wording_dir, personas=personas, domain_responses=domain.get("responses") or {})
    return Renderer(wording=wording, bank=load_bank_info(settings.bank_config), personas=personas)
