"""The cues of one customer message: what the NLU component stores and the action reads.

Kept apart from the extractor so code that only reads stored cues (the action server)
does not import spaCy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where the NLU component stores a message's cues in Rasa's parse data.
CUES_KEY = "persona_cues"
# A message shows a signal when its strength reaches this (frustration, a phone request…).
SIGNAL_PRESENT = 0.5


@dataclass(frozen=True)
class MessageCues:
    """What one customer message shows.

    Attributes:
        n_words: word tokens (no punctuation, emoji or spaces).
        language: most likely supported language (ISO 639-1) or None.
        language_confidence: detector confidence for ``language``.
        language_clear: clear enough to switch the conversation's language.
        language_marker: language of an unambiguous short word in it, if any.
        signals: signal name -> strength in (0, 1].
        evidence: signal name -> the words that raised it (at most a few).
        persona_hits: persona id -> weight of that persona's own phrases and patterns.
        persona_evidence: persona id -> the words that matched.
        set_aside: signal name -> words that matched but did not count: negated, a report
            of the past or quoted ("I was on the phone with you yesterday").
    """

    n_words: int = 0
    language: str | None = None
    language_confidence: float = 0.0
    language_clear: bool = False
    language_marker: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    persona_hits: dict[str, float] = field(default_factory=dict)
    persona_evidence: dict[str, list[str]] = field(default_factory=dict)
    set_aside: dict[str, list[str]] = field(default_factory=dict)

    def shows(self, signal: str) -> bool:
        """The message shows ``signal`` (its strength reaches ``SIGNAL_PRESENT``)."""
        return self.signals.get(signal, 0.0) >= SIGNAL_PRESENT

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form stored in Rasa's parse data (under ``CUES_KEY``)."""
        return {
            "n_words": self.n_words,
            "language": self.language,
            "language_confidence": round(self.language_confidence, 4),
            "language_clear": self.language_clear,
            "language_marker": self.language_marker,
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "evidence": self.evidence,
            "persona_hits": {k: round(v, 4) for k, v in self.persona_hits.items()},
            "persona_evidence": self.persona_evidence,
            "set_aside": self.set_aside,
        }

    @classmethod
    def from_dict(cls, data: Any) -> MessageCues:
        """Rebuild from ``to_dict`` output; anything malformed yields empty cues."""
        if not isinstance(data, dict):
            return cls()

        def _floats(value: Any) -> dict[str, float]:
            if not isinstance(value, dict):
                return {}
            return {str(k): float(v) for k, v in value.items() if isinstance(v, (int, float))}

        def _lists(value: Any) -> dict[str, list[str]]:
            if not isinstance(value, dict):
                return {}
            return {str(k): [str(x) for x in v] for k, v in value.items() if isinstance(v, list)}

        lang = data.get("language")
        marker = data.get("language_marker")
        return cls(
            n_words=int(data.get("n_words") or 0),
            language=lang if isinstance(lang, str) else None,
            language_confidence=float(data.get("language_confidence") or 0.0),
            language_clear=bool(data.get("language_clear")),
            language_marker=marker if isinstance(marker, str) else None,
            signals=_floats(data.get("signals")),
            evidence=_lists(data.get("evidence")),
            persona_hits=_floats(data.get("persona_hits")),
            persona_evidence=_lists(data.get("persona_evidence")),
            set_aside=_lists(data.get("set_aside")),
        )
