"""Per-message cue extraction (spaCy) and language identification (lingua).

``MessageCues`` imports nothing heavy; ``CueExtractor`` and the language identifier load
spaCy and lingua, so they are imported on first use.
"""

from __future__ import annotations

from typing import Any

from bot.persona.cues.model import CUES_KEY, SIGNAL_PRESENT, MessageCues

__all__ = ["CUES_KEY", "SIGNAL_PRESENT", "CueExtractor", "LanguageGuess", "LanguageIdentifier", "MessageCues"]


def __getattr__(name: str) -> Any:
    if name == "CueExtractor":
        from bot.persona.cues.extractor import CueExtractor

        return CueExtractor
    if name in ("LanguageGuess", "LanguageIdentifier"):
        from bot.persona.cues import language

        return getattr(language, name)
    raise AttributeError(name)
