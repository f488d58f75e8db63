"""The banking intents and their families (``data/intent_families.yml``), without Rasa.

Read by the NLU's family-aware fallback (``bot.rasa.fallback``) and by the action server
(a banking question asked while the callback form waits for an answer is answered:
``actions.callback_form``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from bot.core.settings import PROJECT_ROOT

DEFAULT_FAMILIES_FILE = PROJECT_ROOT / "data" / "intent_families.yml"
# The family of the conversational closings ("thanks, that's all"); every other family is
# of banking questions.
CLOSING_FAMILY = "closing"


class FamiliesError(ValueError):
    """The families file is malformed (the message names the file and the entry)."""


def load_families(path: Path) -> dict[str, str]:
    """intent -> family name, from ``path`` (``families: {name: [intent, …]}``)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise FamiliesError(f"{path}: {exc}") from exc
    families = data.get("families") if isinstance(data, dict) else None
    if not isinstance(families, dict):
        raise FamiliesError(f"{path}: expected 'families:' mapping family names to lists of intents")
    member_of: dict[str, str] = {}
    for family, intents in families.items():
        if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
            raise FamiliesError(f"{path}: families.{family}: expected a list of intent names")
        for intent in intents:
            if intent in member_of:
                raise FamiliesError(f"{path}: {intent!r} is in both {member_of[intent]!r} and {family!r}")
            member_of[intent] = str(family)
    return member_of


@cache
def banking_intents(path: Path = DEFAULT_FAMILIES_FILE) -> frozenset[str]:
    """The intents of banking questions: each is answered by ``answer_response(intent)``."""
    return frozenset(i for i, family in load_families(path).items() if family != CLOSING_FAMILY)


def answer_response(intent: str) -> str:
    """The response that answers a banking question (``data/rules/banking.yml``)."""
    return f"utter_{intent}"
