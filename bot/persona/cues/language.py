"""Language identification limited to the catalogue's supported languages (lingua)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

# The language of a customer message is clear from its first sentence; lingua's cost
# grows with the text. On the 4,500 labelled messages of the cue corpus the first 90
# characters are identified right 99.4 % of the time in ~90 us; the first 60, 99.3 % in
# ~70 us, but short French answers naming app screens then read as English.
MAX_DETECT_CHARS = 90


@dataclass(frozen=True)
class LanguageGuess:
    """What one message says about its language.

    Attributes:
        language: the most likely supported language (ISO 639-1), or None for empty text.
        confidence: the detector's confidence in ``language`` (0..1).
        clear: confident and long enough to switch a conversation's language.
        marker: the language of an unambiguous short word ("hola", "bonjour"), if any.
    """

    language: str | None
    confidence: float
    clear: bool
    marker: str | None


def _head(text: str) -> str:
    """The first ``MAX_DETECT_CHARS`` characters of ``text``, not cutting a word."""
    if len(text) <= MAX_DETECT_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_DETECT_CHARS + 1)
    return text[: cut if cut > MAX_DETECT_CHARS // 2 else MAX_DETECT_CHARS]


class LanguageIdentifier:
    """Detects the language of a message among ``languages`` only.

    Reads: message text. Writes: a ``LanguageGuess``.
    Building it loads lingua's models for those languages (well under a second).
    """

    def __init__(
        self,
        languages: Iterable[str],
        *,
        min_words: int,
        min_confidence: float,
        markers: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        codes = list(dict.fromkeys(languages))
        lingua_langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
        builder = LanguageDetectorBuilder.from_languages(*lingua_langs) if len(lingua_langs) > 1 else None
        self._detector = builder.with_preloaded_language_models().build() if builder else None
        self._only = codes[0] if len(codes) == 1 else None
        self.min_words = min_words
        self._min_confidence = min_confidence
        self._markers: dict[str, re.Pattern[str]] = {}
        for lang, words in (markers or {}).items():
            alternatives = sorted((re.escape(w.lower()) for w in words), key=len, reverse=True)
            if alternatives:
                self._markers[lang] = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")

    def _marker(self, lowered: str) -> str | None:
        hits = [lang for lang, rx in self._markers.items() if rx.search(lowered)]
        return hits[0] if len(hits) == 1 else None

    def identify(self, text: str, *, n_words: int) -> LanguageGuess:
        stripped = text.strip()
        if not stripped:
            return LanguageGuess(None, 0.0, False, None)
        marker = self._marker(stripped.lower())
        if self._detector is None:
            return LanguageGuess(self._only, 1.0, n_words >= self.min_words, marker)
        if n_words < self.min_words and marker is None:
            # Too short to switch a conversation's language; lingua's guess would be noise.
            return LanguageGuess(None, 0.0, False, None)
        values = self._detector.compute_language_confidence_values(_head(stripped))
        if not values:
            return LanguageGuess(None, 0.0, False, marker)
        best = values[0]
        code = best.language.iso_code_639_1.name.lower()
        confidence = float(best.value)
        clear = n_words >= self.min_words and confidence >= self._min_confidence
        return LanguageGuess(code, confidence, clear, marker)
