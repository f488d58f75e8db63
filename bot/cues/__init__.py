"""Per-message cue extraction (spaCy) and language identification (lingua)."""

from bot.cues.extractor import CueExtractor, MessageCues
from bot.cues.language import LanguageGuess, LanguageIdentifier

__all__ = ["CueExtractor", "LanguageGuess", "LanguageIdentifier", "MessageCues"]
